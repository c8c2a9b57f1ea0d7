"""The ``degenet`` command: results on stdout, progress and errors on stderr."""

from __future__ import annotations

import json
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from degenet.errors import ConvergenceWarning, DataWarning, DegenetError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Linear, logistic, softmax and Poisson regressions as degenerate Keras networks, "
         "side by side with real ones.")
stderr = Console(stderr=True)

Seed = Annotated[int, typer.Option(help="Seeds the split, the initial weights and shuffling.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]
Target = Annotated[str, typer.Option("--target", "-t", help="The column to predict.")]
DataFile = Annotated[Path, typer.Argument(help="A CSV or Parquet file.")]
MaxEpochs = Annotated[Optional[int], typer.Option(help="Most passes over the training rows.")]
BatchSize = Annotated[Optional[int], typer.Option(help="Rows per gradient step.")]
Optimizer = Annotated[Optional[str], typer.Option(help="Keras optimizer name (adam, sgd, ...).")]
LearningRate = Annotated[Optional[float], typer.Option(help="Optimizer learning rate.")]
Patience = Annotated[Optional[int], typer.Option(help="Epochs without improvement before stop.")]
Validation = Annotated[Optional[float], typer.Option(help="Share of rows held out (0.2).")]
Family = Annotated[Optional[str], typer.Option(
    help="gaussian, bernoulli, categorical or poisson (default: inferred from the target).")]


def _version(value: bool):
    if value:
        from degenet import __version__

        typer.echo(f"degenet {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False):
    """Try every rung of the ladder, from regression to neural network, on one table."""


def _training(**options) -> dict:
    return {name: value for name, value in options.items() if value is not None}


@contextmanager
def _progress(quiet: bool):
    """A live bar per model on stderr; nothing when quiet or when stderr is not a terminal."""
    if quiet or not stderr.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("epochs"), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        tasks = {}

        def report(label: str, done: int, total: int):
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)
            if done >= total:
                bar.stop_task(tasks[label])

        yield report


def _run(job):
    """Run ``job``; a DegenetError becomes one line on stderr and exit status 2."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = job()
        except DegenetError as error:
            stderr.print(f"[bold red]error:[/] {error}", highlight=False)
            raise typer.Exit(2) from None
    for warning in caught:
        if not issubclass(warning.category, (ConvergenceWarning, DataWarning)):
            continue  # other libraries' notices are for developers, not for this terminal
        stderr.print(f"[yellow]warning:[/] {warning.message}", highlight=False)
    return result


def _emit(text: str | None = None, document: dict | None = None):
    if document is not None:
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(text + "\n")


@app.command()
def demo(n: Annotated[int, typer.Option(help="Number of people to generate.")] = 100_000,
         partnered_children: Annotated[float, typer.Option(
             help="Partnered branch: num_balloons = this * children - 0.2 * age. The post's "
                  "listing says 1.0; its printed figures match 0.1.")] = 1.0,
         seed: Seed = 0, json_: Json = False, quiet: Quiet = False,
         max_epochs: MaxEpochs = None, batch_size: BatchSize = None,
         learning_rate: LearningRate = None, patience: Patience = None):
    """Run the post's experiment: balloons, four models, and what theory expects."""
    from degenet.demo import run_demo
    from degenet.render import demo_dict, demo_text

    training = _training(max_epochs=max_epochs, batch_size=batch_size,
                         learning_rate=learning_rate, patience=patience)
    with _progress(quiet or json_) as report:
        result = _run(lambda: run_demo(n, seed=seed, partnered_children=partnered_children,
                                       progress=report, **training))
    _emit(document=demo_dict(result)) if json_ else _emit(demo_text(result))


@app.command("fit")
def fit_command(data: DataFile, target: Target, model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="linear, logistic, softmax, poisson, mlp or mlp:64,32 "
                             "(default: the regression of the target's family).")] = None,
        family: Family = None, seed: Seed = 0, json_: Json = False, quiet: Quiet = False,
        max_epochs: MaxEpochs = None, batch_size: BatchSize = None, optimizer: Optimizer = None,
        learning_rate: LearningRate = None, patience: Patience = None,
        validation: Validation = None):
    """Fit one model to a table and print what it learned."""
    import degenet
    from degenet.render import fit_dict, fit_text

    training = _training(max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         learning_rate=learning_rate, patience=patience, validation=validation)
    with _progress(quiet or json_) as report:
        progress = (lambda done, total: report(model or "model", done, total)) if report else None
        fitted = _run(lambda: degenet.fit(str(data), target, model=model, family=family,
                                          seed=seed, progress=progress, **training))
    _emit(document=fit_dict(fitted)) if json_ else _emit(fit_text(fitted))


@app.command("compare")
def compare_command(data: DataFile, target: Target, models: Annotated[Optional[str], typer.Option(
        "--models", help="Comma-separated specs, e.g. linear,mlp or logistic,mlp:64,32 "
                         "(default: the family's regression and mlp).")] = None,
        family: Family = None, seed: Seed = 0, json_: Json = False, quiet: Quiet = False,
        max_epochs: MaxEpochs = None, batch_size: BatchSize = None, optimizer: Optimizer = None,
        learning_rate: LearningRate = None, patience: Patience = None,
        validation: Validation = None):
    """Fit several models on one shared split and compare them side by side."""
    from degenet.comparison import compare
    from degenet.render import comparison_dict, comparison_text

    training = _training(max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         learning_rate=learning_rate, patience=patience, validation=validation)
    with _progress(quiet or json_) as report:
        result = _run(lambda: compare(str(data), target, models=models, family=family,
                                      seed=seed, progress=report, **training))
    _emit(document=comparison_dict(result)) if json_ else _emit(comparison_text(result))


def main():
    app()
