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
from rich.markup import escape

from degenet.cli_output import (USAGE_ERROR, Commands, exit_if_strict, fail, say, stderr,
                                write_predictions)
from degenet.errors import DegenetError, warning_classes
from degenet.spelling import spelled_as_flags
from degenet.flags import (
    Seed, Json, Quiet, DataFile, MaxEpochs, BatchSize, Optimizer, LearningRate,
    Patience, Validation, Report, Family, SaveModel, ModelFolder, TableTarget, Formula,
    Features, Missing, Coding, Delimiter, FileEncoding, Offset, Exposure, CovType, Groups,
    Stream, Processes, Shards, Strict, HighCardinality, Overwrite)



def _examples(*lines: str) -> str:
    """A command's help ends with these examples (a blank line between keeps them apart)."""
    return "Examples:\n\n" + "\n\n".join(lines)


app = typer.Typer(
    cls=Commands, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Linear, logistic, softmax and Poisson regressions as degenerate Keras networks, "
         "side by side with real ones.",
    epilog=_examples("degenet demo --quiet",
                     "degenet fit people.csv --target num_balloons --model linear",
                     "degenet compare people.csv --target color --models logistic,mlp"))


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


def _run(job, shown: list | None = None):
    """Run ``job``; a DegenetError becomes one line on stderr and exit status 2. Messages
    name options as this command's flags (``--max-epochs``, not ``max_epochs=``).

    degenet's warnings are printed one line each, and their categories added to ``shown``.
    In a run of several processes, any failure ends every process with one line, and only
    process 0 shows warnings (:mod:`degenet.parallel`).
    """
    # Here, not above: the runtime loads with the first command that runs a job.
    from degenet.parallel.runtime import guarded, watchdog

    with warnings.catch_warnings(record=True) as caught, spelled_as_flags():
        warnings.simplefilter("always")
        try:
            result = guarded(job)
        except DegenetError as error:
            say("error", error)
            raise typer.Exit(USAGE_ERROR) from None
    link = watchdog()
    if link is not None and link.spec.rank > 0:
        return result  # the others print nothing but errors
    for warning in caught:
        if not issubclass(warning.category, warning_classes()):
            continue  # other libraries' notices are for developers, not for this terminal
        say("warning", warning.message)
        if shown is not None:
            shown.append(warning.category)
    return result


def _emit(text: str | None = None, document: dict | None = None):
    if document is not None:
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(text + "\n")


def _join(processes: int | None, data: Path) -> int:
    """This process's rank in its run (0 alone); ``--processes N`` outside any launcher runs
    this command as N processes on 127.0.0.1 and exits with their status
    (:mod:`degenet.parallel.launch`)."""
    from degenet.parallel.launch import join_command, relaunch  # loads JAX: not for --help

    code = _run(lambda: relaunch(processes, sys.argv[1:]))
    if code is not None:
        raise typer.Exit(code)
    return _run(lambda: join_command(str(data)))


@app.command(epilog=_examples(
    "degenet demo --quiet",
    "degenet demo --partnered-children 0.1 --json",
    "degenet demo --n 20000 --report demo.html"))
def demo(n: Annotated[int, typer.Option(help="Number of people to generate.")] = 100_000,
         partnered_children: Annotated[float, typer.Option(
             help="Partnered branch: num_balloons = this * children - 0.2 * age. The post's "
                  "listing says 1.0; its printed figures match 0.1.")] = 1.0,
         seed: Seed = 0, json_: Json = False, quiet: Quiet = False,
         max_epochs: MaxEpochs = None, batch_size: BatchSize = None,
         learning_rate: LearningRate = None, patience: Patience = None,
         report_path: Report = None):
    """Run the post's experiment: balloons, four models, and what theory expects."""
    from degenet.checks import positive_int

    _run(lambda: positive_int("n", n))  # before Keras starts: a typo costs no wait
    from degenet.demo import run_demo
    from degenet.report.render import demo_dict, demo_notes, demo_text

    training = _training(max_epochs=max_epochs, batch_size=batch_size,
                         learning_rate=learning_rate, patience=patience)
    _check_report(report_path)
    with _progress(quiet or json_) as report:
        result = _run(lambda: run_demo(n, seed=seed, partnered_children=partnered_children,
                                       progress=report, **training))
    _emit(document=demo_dict(result)) if json_ else _emit(demo_text(result, epochs=not quiet))
    _write_report(report_path, result.comparisons, f"degenet demo: the post's balloons "
                  f"({n:,} people, seed {seed})", demo_notes(result))


@app.command("fit", epilog=_examples(
    "degenet fit people.csv --target num_balloons --model linear",
    "degenet fit people.csv --formula 'color ~ age + C(relationship)' --save model",
    "cat people.csv | degenet fit - --target color --model mlp:16 --json"))
def fit_command(
        data: DataFile, target: TableTarget = None, model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="linear, logistic, softmax, poisson, mlp or mlp:64,32 "
                             "(default: the regression of the target's family).")] = None,
        family: Family = None, seed: Seed = 0, json_: Json = False, quiet: Quiet = False,
        max_epochs: MaxEpochs = None, batch_size: BatchSize = None, optimizer: Optimizer = None,
        learning_rate: LearningRate = None, patience: Patience = None,
        validation: Validation = None, formula: Formula = None, features: Features = None,
        missing: Missing = None, coding: Coding = None, delimiter: Delimiter = None,
        file_encoding: FileEncoding = None, save: SaveModel = None, overwrite: Overwrite = False,
        solver: Annotated[str, typer.Option(
            help="gd: gradient descent, then checked against the exact optimum; exact: the "
                 "exact optimum (Newton / least squares; single-layer models).")] = "gd",
        check: Annotated[bool, typer.Option(
            "--check/--no-check",
            help="Solve a gradient-descent regression exactly first, train towards that "
                 "optimum and check against it (std errors come from it); --no-check: only "
                 "the network, trained on the validation loss.")] = True,
        offset: Offset = None, exposure: Exposure = None, cov_type: CovType = None,
        groups: Groups = None, strict: Strict = False,
        allow_high_cardinality: HighCardinality = False, stream: Stream = None,
        processes: Processes = None, shards: Shards = None):
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
                   exposure=exposure, cov_type=cov_type, groups=groups,
                   allow_high_cardinality=allow_high_cardinality or None)
    if save is not None and rank == 0:  # before training: a bad destination costs no fit
        from degenet.modelfile import check_destination

        _run(lambda: check_destination(save, overwrite=overwrite))
    streamed = _run(lambda: stream_option(stream, shards))
    shown = []
    with _progress(quiet or json_ or rank > 0) as report:
        progress = (lambda done, total: report(model or "model", done, total)) if report else None
        source = _source(data, delimiter=delimiter, file_encoding=file_encoding)
        fitted = _run(lambda: degenet.fit(source, target, model=model, family=family,
                                          seed=seed, progress=progress, solver=solver,
                                          check=check, stream=streamed, **table, **training),
                      shown)
    _run(finish)  # every process is done: only now may process 0 write anything
    if rank > 0:
        return
    _emit(document=fit_dict(fitted)) if json_ else _emit(fit_text(fitted, epochs=not quiet))
    if save is not None:
        _run(lambda: fitted.save(save, overwrite=overwrite))
        stderr.print(escape(f"model saved to {save}"), highlight=False)
    exit_if_strict(strict, shown)


@app.command("compare", epilog=_examples(
    "degenet compare people.csv --target color --models logistic,mlp",
    "degenet compare people.parquet --target color --cv 5 --repeats 2 --json",
    "degenet compare people.csv --target num_balloons --report comparison.html"))
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
            help="K-fold cross-validation (stratified for classes); 1 for one split. Default: "
                 "one split from 5,000 rows, else 5 folds drawn twice.")] = None,
        repeats: Annotated[int, typer.Option(help="Draw the K folds this many times.")] = 1,
        solver: Annotated[str, typer.Option(
            help="How the regressions are fitted: gd (gradient descent, like the networks) or "
                 "exact (their exact optimum). Networks always use gd.")] = "gd",
        report_path: Report = None, offset: Offset = None, exposure: Exposure = None,
        cov_type: CovType = None, groups: Groups = None, strict: Strict = False,
        allow_high_cardinality: HighCardinality = False, stream: Stream = None,
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
                   exposure=exposure, cov_type=cov_type, groups=groups,
                   allow_high_cardinality=allow_high_cardinality or None)
    if rank == 0:
        _check_report(report_path, data)
    streamed = _run(lambda: stream_option(stream, shards))
    shown = []
    with _progress(quiet or json_ or rank > 0) as report:
        source = _source(data, delimiter=delimiter, file_encoding=file_encoding)
        result = _run(lambda: compare(source, target, models=models, family=family,
                                      seed=seed, cv=cv, repeats=repeats, solver=solver,
                                      progress=report, stream=streamed, **table, **training),
                      shown)
    _run(finish)  # every process is done: only now may process 0 write anything
    if rank > 0:
        return
    _emit(document=comparison_dict(result)) if json_ else _emit(comparison_text(result))
    _write_report(report_path, {result.target: result},
                  f"degenet compare: {data.name}, predicting {result.target}", inputs=(data,))
    exit_if_strict(strict, shown)


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
    stderr.print(escape(f"report written to {written}"), highlight=False)


@app.command("predict", epilog=_examples(
    "degenet predict color-model new-people.csv",
    "degenet predict color-model new-people.parquet -o predictions.parquet",
    "cat new-people.csv | degenet predict color-model - > predictions.csv"))
def predict_command(model: ModelFolder, data: DataFile, output: Annotated[Optional[Path],
                    typer.Option("--output", "-o", help="Write the predictions to this .csv or "
                                 ".parquet file (default: CSV on stdout).")] = None):
    """Predict a table's rows with a saved model: one row out per row in, in the same order."""
    import degenet
    from degenet.prediction import prediction_frame

    if output is not None and output.suffix.lower() not in (".csv", ".parquet"):
        fail(f"--output must end in .csv or .parquet; received {output}")
    if output is not None and output.exists() and str(data) != STDIN and (
            output.resolve() == data.resolve()):
        fail(f"--output {output} is the input table; choose another file")
    if output is not None and not output.absolute().parent.is_dir():
        fail(f"--output {output}: the folder {output.parent} does not exist; create it first")
    if output is not None and output.is_dir():
        fail(f"--output {output} is a folder; name a .csv or .parquet file")
    saved = _run(lambda: degenet.load(model))
    frame = _run(lambda: prediction_frame(saved, _source(data)))
    if output is None:
        sys.stdout.write(frame.to_csv(index=False))
    else:
        _run(lambda: write_predictions(frame, output))
    if output is not None:
        stderr.print(escape(f"{len(frame)} predictions written to {output}"), highlight=False)


@app.command("inspect", epilog=_examples(
    "degenet inspect color-model", "degenet inspect color-model --json"))
def inspect_command(model: ModelFolder, json_: Json = False):
    """Say what a saved model is, from its sidecar alone: no weights are loaded."""
    from degenet.modelfile.sidecar import describe, read_sidecar

    sidecar = _run(lambda: read_sidecar(model))
    _emit(document=sidecar) if json_ else _emit("\n".join(describe(sidecar)))


STDIN = "-"


def _source(data: Path, *, delimiter: str | None = None, file_encoding: str | None = None):
    """The table argument: its path as text, or ``-``: the CSV table on standard input."""
    if str(data) != STDIN:
        return str(data)
    from degenet.data.tables import read_csv_bytes

    options = _table(delimiter=delimiter, file_encoding=file_encoding)
    return _run(lambda: read_csv_bytes(sys.stdin.buffer.read(), **options))


def main():
    """The console script: a bad argument or a DegenetError raised anywhere (even while a
    command imports what it needs, e.g. a missing Keras backend) is one line on stderr and
    exit status 2 (click's own usage errors: :class:`~degenet.cli_output.Commands`).
    ``DEGENET_LOG=info`` prints degenet's log lines (each epoch's losses) on stderr."""
    level = os.environ.get("DEGENET_LOG", "").upper()
    if level:  # degenet's own lines only: JAX's and gloo's stay out
        logging.getLogger("degenet").addHandler(logging.StreamHandler())
        logging.getLogger("degenet").setLevel(
            level if level in logging.getLevelNamesMapping() else "INFO")
    try:
        code = app(standalone_mode=False)
    except DegenetError as error:
        say("error", error)
        code = USAGE_ERROR
    sys.exit(code if isinstance(code, int) else 0)
