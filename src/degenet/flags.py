"""The ``degenet`` command's options: each flag's type, spelling and help, written once.

Typer reads a command's options from its parameters' annotations; the commands in
:mod:`degenet.cli` share these. Nothing here imports more than typer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

Seed = Annotated[int, typer.Option(help="Seeds the split, the initial weights and shuffling.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
Quiet = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print only the results: no progress display, no epoch log.")]
Target = Annotated[str, typer.Option("--target", "-t", help="The column to predict.")]
DataFile = Annotated[Path, typer.Argument(
    help="A CSV or Parquet file; - reads CSV from standard input.")]
MaxEpochs = Annotated[Optional[int], typer.Option(
    help="Most passes over the training rows (default 200; 2000 for a regression, which stops "
         "at its exact optimum).")]
BatchSize = Annotated[Optional[int], typer.Option(help="Rows per gradient step.")]
Optimizer = Annotated[Optional[str], typer.Option(help="Keras optimizer name (adam, sgd, ...).")]
LearningRate = Annotated[Optional[float], typer.Option(help="Optimizer learning rate.")]
Patience = Annotated[Optional[int], typer.Option(help="Epochs without improvement before stop.")]
Validation = Annotated[Optional[float], typer.Option(
    help="Share of rows held out for early stopping: 0.2 for gradient descent, none for "
         "--solver exact; 0 holds none out (training then stops on the training loss).")]
Report = Annotated[Optional[Path], typer.Option(
    "--report", help="Also write a report: .html (one self-contained file), .md or .json.")]
Strict = Annotated[bool, typer.Option(
    "--strict", help="Exit with status 3 when a model did not converge (diverged, no better "
                     "than the intercept-only baseline, or short of the exact optimum).")]
HighCardinality = Annotated[bool, typer.Option(
    "--allow-high-cardinality", help="Fit a text column with about one level per row (an ID) "
                                     "instead of refusing it.")]
Overwrite = Annotated[bool, typer.Option(
    "--overwrite", help="Let --save replace a degenet model already in that folder.")]


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


__all__ = ["Seed", "Json", "Quiet", "Target", "DataFile", "MaxEpochs", "BatchSize", "Optimizer", "LearningRate", "Patience", "Validation", "Report", "Strict", "HighCardinality", "Overwrite", "Family", "SaveModel", "ModelFolder", "TableTarget", "Formula", "Features", "Missing", "Coding", "Delimiter", "FileEncoding", "Offset", "Exposure", "CovType", "Groups", "Stream", "Processes", "Shards"]
