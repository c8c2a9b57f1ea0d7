"""The ``degenet`` command: results on stdout, progress and errors on stderr.

A thin shell: every command imports what it needs when it runs, so ``--help``,
``--version`` and ``inspect`` start without Keras or JAX.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from degenet.errors import DegenetError, warning_classes

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Linear, logistic, softmax and Poisson regressions as degenerate Keras networks, "
         "side by side with real ones.")
stderr = Console(stderr=True, soft_wrap=True)

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
Report = Annotated[Optional[Path], typer.Option(
    "--report", help="Also write a report: .html (one self-contained file), .md or .json.")]


def _text(help: str, *flags: str):
    """An optional text option: given, or None (degenet's default)."""
    return Annotated[Optional[str], typer.Option(*flags, help=help)]


Family = _text("gaussian, bernoulli, categorical or poisson (default: inferred from the target).")
SaveModel = Annotated[Optional[Path], typer.Option(
    "--save", help="Also save the fitted model to this folder (read it with `degenet predict`).")]
ModelFolder = Annotated[Path, typer.Argument(help="A model folder written by --save.")]
TableTarget = _text("The column to predict (may be omitted when --formula names it).",
                    "--target", "-t")
Formula = _text("Wilkinson formula instead of --features, e.g. "
                "'color ~ age + C(relationship) + age:children + np.log(income)'.")
Features = _text("Comma-separated predictor columns (default: every column but the target).")
Missing = _text("Rows with missing values: 'error' (default, names the columns) or 'drop'.")
Coding = _text("Categorical predictors: treatment (default), effect (-0.5/+0.5 for two levels) "
               "or sum.")
Delimiter = _text("CSV field separator, e.g. ';' or 'tab' (default: detected).")
FileEncoding = _text("CSV text encoding, e.g. latin-1 (default: UTF-8, else cp1252).",
                     "--encoding")
Offset = _text("A column added to the linear predictor with coefficient 1 (not a predictor); "
               "new data to predict must carry it.")
Exposure = _text("A column of exposures (> 0, e.g. time at risk): its log is the offset, so a "
                 "Poisson mean is a rate times it.")
CovType = _text("Std errors: nonrobust (default), HC0, HC1, HC2, HC3 (heteroskedasticity-"
                "robust) or cluster (with --groups).", "--cov-type")
Groups = _text("The column naming each row's cluster, for --cov-type cluster.")
Stream = Annotated[Optional[bool], typer.Option("--stream/--no-stream", help="A Parquet dataset "
    "(file, folder or glob) is streamed, not read whole, when larger than a quarter of this "
    "machine's memory; --stream always, --no-stream never.")]
Processes = Annotated[Optional[int], typer.Option(
    "--processes", help="Train on this many processes on this machine (127.0.0.1), each "
    "reading its share of a Parquet dataset. Under srun, mpirun, a Kubernetes indexed job "
    "or JAX_*/DEGENET_* variables the processes are the launcher's.")]
Shards = Annotated[Optional[int], typer.Option("--shards", help="Streamed gradient descent: "
    "batches from this many shards (default: the processes); equal shards, equal steps.")]


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


def _table(features: str | None = None, delimiter: str | None = None, **options) -> dict:
    """Table options for ``prepare``: the ones given, ``--features a,b`` as a list."""
    if features is not None:
        options["features"] = [name.strip() for name in features.split(",") if name.strip()]
    if delimiter is not None:
        options["delimiter"] = "\t" if delimiter.lower() in ("tab", "\\t") else delimiter
    return {name: value for name, value in options.items() if value is not None}


@contextmanager
def _progress(quiet: bool):
    """A live bar per model on stderr; nothing when quiet or when stderr is not a terminal."""
    if quiet or not stderr.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<14}"), BarColumn(),
               TextColumn("{task.fields[detail]}"), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        tasks = {}

        def report(label: str, done: int, total: int):
            # Under cross-validation the label is "mlp fold 3/10": one bar per model runs
            # over all its folds, each fold's epochs filling its share.
            model, _, fold = label.partition(" fold ")
            completed, whole, detail = done, total, f"{done}/{total} epochs"
            if fold:
                k, n = (int(part) for part in fold.split("/"))
                completed, whole = k - 1 + min(done / total, 1.0), n
                detail = f"fold {k}/{n}, {done}/{total} epochs"
            if model not in tasks:
                tasks[model] = bar.add_task(model, total=whole, detail=detail)
            bar.update(tasks[model], completed=completed, total=whole, detail=detail)
            if completed >= whole:
                bar.stop_task(tasks[model])

        yield report


def _run(job):
    """Run ``job``; a DegenetError becomes one line on stderr and exit status 2.

    In a run of several processes, any failure ends every process with one line, and only
    process 0 shows warnings (:mod:`degenet.parallel`).
    """
    # Here, not above: the runtime loads with the first command that runs a job.
    from degenet.parallel.runtime import guarded, watchdog

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = guarded(job)
        except DegenetError as error:
            stderr.print(f"[bold red]error:[/] {error}", highlight=False)
            raise typer.Exit(2) from None
    link = watchdog()
    if link is not None and link.spec.rank > 0:
        return result  # the others print nothing but errors
    for warning in caught:
        if not issubclass(warning.category, warning_classes()):
            continue  # other libraries' notices are for developers, not for this terminal
        stderr.print(f"[yellow]warning:[/] {warning.message}", highlight=False)
    return result


def _emit(text: str | None = None, document: dict | None = None):
    if document is not None:
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(text + "\n")


def _join(processes: int | None, data: Path) -> int:
    """This process's rank in the run it belongs to (0 alone).

    ``--processes N`` outside any launcher starts N copies of this command on 127.0.0.1 and
    exits with their status; a process a launcher started (srun, mpirun, a Kubernetes
    indexed job, JAX_* or DEGENET_* variables) joins its run before anything uses JAX.
    """
    from degenet.parallel.environment import detect, timeout_from

    spec = _run(detect)
    if spec is None and processes is not None and processes > 1:
        from degenet.parallel.launch import launch_command

        timeout = _run(lambda: timeout_from(os.environ))
        raise typer.Exit(launch_command(processes, sys.argv[1:], timeout))
    if processes is not None and processes < 1:
        _fail(f"--processes must be at least 1; received {processes}")
    if spec is None:
        return 0
    from degenet.data.dataset import is_dataset

    if not is_dataset(str(data)):
        _fail(f"several processes train on a Parquet dataset (a .parquet file, a folder or a "
              f"glob); {data} is read whole by one process: run one process")
    from degenet.parallel.runtime import join

    _run(lambda: join(spec))
    if spec.rank > 0:  # the others print nothing but errors
        logging.disable()
        sys.stdout.flush()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    return spec.rank


@app.command()
def demo(n: Annotated[int, typer.Option(help="Number of people to generate.")] = 100_000,
         partnered_children: Annotated[float, typer.Option(
             help="Partnered branch: num_balloons = this * children - 0.2 * age. The post's "
                  "listing says 1.0; its printed figures match 0.1.")] = 1.0,
         seed: Seed = 0, json_: Json = False, quiet: Quiet = False,
         max_epochs: MaxEpochs = None, batch_size: BatchSize = None,
         learning_rate: LearningRate = None, patience: Patience = None,
         report_path: Report = None):
    """Run the post's experiment: balloons, four models, and what theory expects."""
    from degenet.demo import run_demo
    from degenet.report.render import demo_dict, demo_notes, demo_text

    training = _training(max_epochs=max_epochs, batch_size=batch_size,
                         learning_rate=learning_rate, patience=patience)
    _check_report(report_path)
    with _progress(quiet or json_) as report:
        result = _run(lambda: run_demo(n, seed=seed, partnered_children=partnered_children,
                                       progress=report, **training))
    _emit(document=demo_dict(result)) if json_ else _emit(demo_text(result))
    _write_report(report_path, result.comparisons, f"degenet demo: the post's balloons "
                  f"({n:,} people, seed {seed})", demo_notes(result))


@app.command("fit")
def fit_command(
        data: DataFile, target: TableTarget = None, model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="linear, logistic, softmax, poisson, mlp or mlp:64,32 "
                             "(default: the regression of the target's family).")] = None,
        family: Family = None, seed: Seed = 0, json_: Json = False, quiet: Quiet = False,
        max_epochs: MaxEpochs = None, batch_size: BatchSize = None, optimizer: Optimizer = None,
        learning_rate: LearningRate = None, patience: Patience = None,
        validation: Validation = None, formula: Formula = None, features: Features = None,
        missing: Missing = None, coding: Coding = None, delimiter: Delimiter = None,
        file_encoding: FileEncoding = None, save: SaveModel = None,
        solver: Annotated[str, typer.Option(
            help="gd: gradient descent, then checked against the exact optimum; exact: the "
                 "exact optimum (Newton / least squares; single-layer models).")] = "gd",
        offset: Offset = None, exposure: Exposure = None, cov_type: CovType = None,
        groups: Groups = None, stream: Stream = None, processes: Processes = None,
        shards: Shards = None):
    """Fit one model to a table and print what it learned."""
    rank = _join(processes, data)
    import degenet
    from degenet.parallel.runtime import finish
    from degenet.report.render import fit_dict, fit_text
    from degenet.streaming import stream_option

    training = _training(max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         learning_rate=learning_rate, patience=patience, validation=validation)
    table = _table(formula=formula, features=features, missing=missing, coding=coding,
                   delimiter=delimiter, file_encoding=file_encoding, offset=offset,
                   exposure=exposure, cov_type=cov_type, groups=groups)
    if save is not None and rank == 0:  # before training: a bad destination costs no fit
        from degenet.modelfile import check_destination

        _run(lambda: check_destination(save))
    streamed = _run(lambda: stream_option(stream, shards))
    with _progress(quiet or json_ or rank > 0) as report:
        progress = (lambda done, total: report(model or "model", done, total)) if report else None
        fitted = _run(lambda: degenet.fit(str(data), target, model=model, family=family,
                                          seed=seed, progress=progress, solver=solver,
                                          stream=streamed, **table, **training))
    _run(finish)  # every process is done: only now may process 0 write anything
    if rank > 0:
        return
    _emit(document=fit_dict(fitted)) if json_ else _emit(fit_text(fitted))
    if save is not None:
        _run(lambda: fitted.save(save))
        stderr.print(f"model saved to {save}", highlight=False)


@app.command("compare")
def compare_command(
        data: DataFile, target: TableTarget = None,
        models: Annotated[Optional[str], typer.Option(
        "--models", help="Comma-separated specs, e.g. linear,mlp or logistic,mlp:64,32 "
                         "(default: the family's regression and mlp).")] = None,
        family: Family = None, seed: Seed = 0, json_: Json = False, quiet: Quiet = False,
        max_epochs: MaxEpochs = None, batch_size: BatchSize = None, optimizer: Optimizer = None,
        learning_rate: LearningRate = None, patience: Patience = None,
        validation: Validation = None, formula: Formula = None, features: Features = None,
        missing: Missing = None, coding: Coding = None, delimiter: Delimiter = None,
        file_encoding: FileEncoding = None,
        cv: Annotated[Optional[int], typer.Option(
            help="K-fold cross-validation (stratified for classes) instead of one split.")] = None,
        repeats: Annotated[int, typer.Option(help="Draw the K folds this many times.")] = 1,
        solver: Annotated[str, typer.Option(
            help="How the regressions are fitted: gd (gradient descent, like the networks) or "
                 "exact (their exact optimum). Networks always use gd.")] = "gd",
        report_path: Report = None, offset: Offset = None, exposure: Exposure = None,
        cov_type: CovType = None, groups: Groups = None, stream: Stream = None,
        processes: Processes = None, shards: Shards = None):
    """Fit several models on the same rows, score them alike, say if the network is worth it."""
    rank = _join(processes, data)
    from degenet.comparison import compare
    from degenet.parallel.runtime import finish
    from degenet.streaming import stream_option
    from degenet.report.render import comparison_dict, comparison_text

    training = _training(max_epochs=max_epochs, batch_size=batch_size, optimizer=optimizer,
                         learning_rate=learning_rate, patience=patience, validation=validation)
    table = _table(formula=formula, features=features, missing=missing, coding=coding,
                   delimiter=delimiter, file_encoding=file_encoding, offset=offset,
                   exposure=exposure, cov_type=cov_type, groups=groups)
    if rank == 0:
        _check_report(report_path, data)
    streamed = _run(lambda: stream_option(stream, shards))
    with _progress(quiet or json_ or rank > 0) as report:
        result = _run(lambda: compare(str(data), target, models=models, family=family,
                                      seed=seed, cv=cv, repeats=repeats, solver=solver,
                                      progress=report, stream=streamed, **table, **training))
    _run(finish)  # every process is done: only now may process 0 write anything
    if rank > 0:
        return
    _emit(document=comparison_dict(result)) if json_ else _emit(comparison_text(result))
    _write_report(report_path, {result.target: result},
                  f"degenet compare: {data.name}, target {result.target}", inputs=(data,))


def _check_report(path: Path | None, *inputs: Path) -> None:
    """Fail before any training when the report could not be written."""
    if path is not None:
        from degenet.report import check_report_path

        _run(lambda: check_report_path(path, inputs))


def _write_report(path: Path | None, comparisons: dict, title: str, notes=None, inputs=()):
    if path is None:
        return
    from degenet.report import write_report

    written = _run(lambda: write_report(path, comparisons, title=title, notes=notes,
                                        inputs=inputs))
    stderr.print(f"report written to {written}", highlight=False)


@app.command("predict")
def predict_command(model: ModelFolder, data: DataFile, output: Annotated[Optional[Path],
                    typer.Option("--output", "-o", help="Write the predictions to this .csv or "
                                 ".parquet file (default: CSV on stdout).")] = None):
    """Predict a table's rows with a saved model: one row out per row in, in the same order."""
    import degenet
    from degenet.prediction import prediction_frame

    if output is not None and output.suffix.lower() not in (".csv", ".parquet"):
        _fail(f"--output must end in .csv or .parquet; received {output}")
    if output is not None and output.exists() and output.resolve() == data.resolve():
        _fail(f"--output {output} is the input table; choose another file")
    saved = _run(lambda: degenet.load(model))
    frame = _run(lambda: prediction_frame(saved, str(data)))
    if output is None:
        sys.stdout.write(frame.to_csv(index=False))
    elif output.suffix.lower() == ".parquet":
        frame.to_parquet(output, index=False)
    else:
        frame.to_csv(output, index=False)
    if output is not None:
        stderr.print(f"{len(frame)} predictions written to {output}", highlight=False)


@app.command("inspect")
def inspect_command(model: ModelFolder, json_: Json = False):
    """Say what a saved model is, from its sidecar alone: no weights are loaded."""
    from degenet.modelfile.sidecar import describe, read_sidecar

    sidecar = _run(lambda: read_sidecar(model))
    _emit(document=sidecar) if json_ else _emit("\n".join(describe(sidecar)))


def _fail(message: str):
    stderr.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


def main():
    """The console script: a DegenetError raised anywhere (even while a command imports what
    it needs, e.g. a missing Keras backend) is one line on stderr and exit status 2.
    ``DEGENET_LOG=info`` prints degenet's log lines (each epoch's losses) on stderr."""
    level = os.environ.get("DEGENET_LOG", "").upper()
    if level:  # degenet's own lines only: JAX's and gloo's stay out
        logging.getLogger("degenet").addHandler(logging.StreamHandler())
        logging.getLogger("degenet").setLevel(
            level if level in logging.getLevelNamesMapping() else "INFO")
    try:
        app()
    except DegenetError as error:
        stderr.print(f"[bold red]error:[/] {error}", highlight=False)
        sys.exit(2)
