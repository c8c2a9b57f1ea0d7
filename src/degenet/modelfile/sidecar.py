"""The sidecar ``degenet.json`` of a model folder: its keys, how it is read, how it is shown.

Reading a sidecar imports neither Keras nor JAX (``degenet inspect`` only reads it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from degenet.errors import DegenetError
from degenet.modelfile import schema

FORMAT = "degenet-model"
FORMAT_VERSION = 1
SIDECAR, ARCHIVE = "degenet.json", "model.keras"
REQUIRED = ("format", "format_version", "model", "hidden", "family", "classes", "intercept",
            "encoding", "scaling", "n_features", "n_outputs", "keras_sha256")


def read_sidecar(path) -> dict:
    """The checked sidecar of the model folder ``path``; the archive is not opened.

    Errors name the folder and say what is wrong: not a model, an unreadable, truncated,
    oversized, too deeply nested or edited sidecar, another format version, missing keys,
    a key of the wrong type or size (:mod:`degenet.modelfile.schema`).
    """
    folder = Path(path)
    if not folder.exists():
        raise DegenetError(f"model not found: {folder}")
    sidecar_path = folder / SIDECAR
    if not folder.is_dir() or not sidecar_path.is_file():
        raise DegenetError(
            f"{folder} is not a degenet model: expected a folder with {SIDECAR} and {ARCHIVE} "
            "(written by fit.save, an estimator's save or `degenet fit --save`)")
    try:
        with sidecar_path.open("rb") as handle:
            raw = handle.read(schema.MAX_SIDECAR_BYTES + 1)
    except OSError as error:
        raise DegenetError(f"cannot read {sidecar_path}: "
                           f"{(error.strerror or type(error).__name__).lower()}") from None
    sidecar = schema.parse(raw, sidecar_path)
    if sidecar.get("format") != FORMAT:
        raise DegenetError(f"{sidecar_path} is not a degenet model sidecar "
                           f"(expected \"format\": \"{FORMAT}\")")
    version = sidecar.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise DegenetError(
            f"{folder} has model format version {version!r}; this degenet reads version "
            f"{FORMAT_VERSION}" + ("; upgrade degenet" if isinstance(version, int)
                                   and version > FORMAT_VERSION else ""))
    absent = [key for key in REQUIRED if key not in sidecar]
    if absent:
        raise DegenetError(f"{sidecar_path} lacks the key(s) {', '.join(absent)}; the "
                           "file is damaged or was not written by degenet")
    schema.check_digest(sidecar, sidecar_path)
    schema.check_types(sidecar, sidecar_path)
    return sidecar


def sidecar_text(sidecar: dict) -> str:
    """The sidecar as written to disk, with its digest (``sidecar_sha256``) added."""
    sealed = {**sidecar, schema.DIGEST_KEY: schema.digest(sidecar)}
    return json.dumps(sealed, indent=2, allow_nan=False) + "\n"


def _shown(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def describe(sidecar: dict) -> list[str]:
    """What a sidecar says, as lines of text (for ``degenet inspect``)."""
    encoding, training, versions = sidecar["encoding"], sidecar.get("training") or {}, \
        sidecar.get("versions") or {}
    lines = [
        f"model      {sidecar['model']} ({sidecar['family']} family"
        + (f", classes {', '.join(map(str, sidecar['classes']))}" if sidecar["classes"] else "")
        + ")",
        f"target     {encoding.get('target')}",
        f"inputs     {', '.join(map(str, encoding.get('columns', [])))}",
        f"terms      {', '.join(map(str, encoding.get('terms', [])))}",
        f"trained    {training.get('engine', '?')}: {training.get('epochs', '?')} epochs, best "
        f"{training.get('best_epoch', '?')}, val_loss {_shown(training.get('val_loss'))}, seed "
        f"{sidecar.get('seed')}, {training.get('n_train', '?')} training / "
        f"{training.get('n_val', '?')} validation rows",
        "settings   " + ", ".join(f"{k}={v}" for k, v in (sidecar.get("settings") or {}).items()),
        f"data       sha256 {sidecar.get('data_sha256')}",
        f"file       {ARCHIVE} sha256 {sidecar['keras_sha256']}, format {sidecar['format']} "
        f"v{sidecar['format_version']}, saved {sidecar.get('created')}",
        "versions   " + ", ".join(f"{k} {v}" for k, v in versions.items()),
    ]
    offset, inference = sidecar.get("offset"), sidecar.get("inference")
    if offset:
        what = "log of the exposure in" if offset.get("exposure") else "added from"
        source = (f"column {offset['column']!r}" if offset.get("column")
                  else "an array (passed again to predict)")
        lines.append(f"offset     {what} {source}")
    if inference and inference.get("cov_type") not in (None, "nonrobust"):
        groups = inference.get("groups")
        lines.append(f"std errors {inference['cov_type']}"
                     + (f" (groups: column {groups!r})" if groups else ""))
    if sidecar.get("estimator"):
        lines.append(f"estimator  {sidecar['estimator']['class']}")
    if sidecar.get("coefficients"):
        table = pd.DataFrame.from_records(sidecar["coefficients"])
        lines += ["coefficients", table.to_string(index=False, float_format=lambda v: f"{v:.6g}")]
    return lines
