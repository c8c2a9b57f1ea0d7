"""Model files that are safe to open: a folder with a ``.keras`` archive and a JSON sidecar.

Layout of a model folder ``MODEL/``::

    MODEL/model.keras     the Keras network (architecture + weights, no code)
    MODEL/degenet.json    the sidecar: what the model is, how its inputs are encoded, its
                          coefficients, how and on what it was trained, and the sha256 of
                          model.keras

Opening a model never runs code from the file. Nothing is pickled; the network holds only
``InputLayer``, ``Dense`` and ``Activation`` layers (no ``Lambda``). Before Keras sees the
archive, :func:`load` checks the sidecar (format, version, keys), the archive's sha256
against the sidecar (a truncated or edited file is refused), and every ``class_name`` in
the archive's ``config.json`` against the short list of classes degenet writes. Keras then
loads it with ``safe_mode=True`` and without compiling, so no loss, optimizer or
activation is looked up by anything but its registered name.
"""

from __future__ import annotations

import hashlib
import json
import platform
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from degenet.errors import DegenetError

FORMAT = "degenet-model"
FORMAT_VERSION = 1
SIDECAR, ARCHIVE = "degenet.json", "model.keras"
REQUIRED = ("format", "format_version", "model", "hidden", "family", "classes", "intercept",
            "encoding", "scaling", "n_features", "n_outputs", "keras_sha256")
# Every class a degenet network's config.json names. Anything else is refused unread.
ALLOWED_CLASSES = frozenset({
    "Functional", "InputLayer", "Dense", "Activation", "DTypePolicy", "FloatDTypePolicy",
    "Zeros", "GlorotUniform", "__keras_tensor__"})
# Modules the allowed classes come from (``module`` keys of the config).
ALLOWED_MODULES = ("keras", "keras.layers", "keras.initializers", "keras.src.models.functional",
                   "keras.models")


def data_hash(X: np.ndarray, y: np.ndarray) -> str:
    """sha256 of the training design and target (float64, C order): names the data exactly."""
    digest = hashlib.sha256()
    for array in (X, y):
        array = np.ascontiguousarray(array, dtype=np.float64)
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- writing -----------------------------------------------------------------------------------

def save(fitted, path, *, estimator: dict | None = None) -> Path:
    """Write ``fitted`` (a :class:`~degenet.Fit`) to the folder ``path``.

    The folder is created if needed; an existing degenet model in it is replaced, any other
    non-empty folder is refused, so nothing the user has is overwritten by accident.
    """
    from degenet._keras import keras

    folder = Path(path)
    _check_target_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / ARCHIVE
    network = _plain_copy(fitted.model, keras)
    network.save(archive)
    sidecar = _sidecar(fitted, network, estimator)
    sidecar["keras_sha256"] = _file_hash(archive)
    (folder / SIDECAR).write_text(json.dumps(sidecar, indent=2, default=_json_default) + "\n")
    return folder


def _check_target_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise DegenetError(f"cannot save a model to {folder}: it is a file; a model is a folder")
    if folder.is_dir():
        others = sorted(p.name for p in folder.iterdir() if p.name not in (SIDECAR, ARCHIVE))
        if others:
            raise DegenetError(
                f"cannot save a model to {folder}: the folder holds other files "
                f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}); choose a new "
                "or empty folder")


def _plain_copy(model, keras):
    """The network without its compile state: optimizer and loss are not part of the file."""
    copy = keras.Model.from_config(model.get_config())
    copy.set_weights([keras.ops.convert_to_numpy(w.value) for w in model.weights])
    return copy


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    from degenet._keras import backend, keras

    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {"degenet": installed("degenet"), "keras": keras.__version__, "backend": backend(),
            "backend_version": installed(backend()), "python": platform.python_version()}


def _sidecar(fitted, network, estimator: dict | None) -> dict:
    training = fitted.training
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": fitted.spec.text,
        "hidden": list(fitted.spec.hidden),
        "family": fitted.family.name,
        "classes": None if fitted.classes is None else [_plain(c) for c in fitted.classes],
        "reference": _plain(fitted.reference),
        "intercept": bool(fitted.intercept),
        "n_features": int(network.inputs[0].shape[-1]),
        "n_outputs": int(network.outputs[0].shape[-1]),
        "encoding": fitted.encoding.to_dict(),
        "scaling": fitted.scaling.to_dict(),
        "coefficients": _coefficient_records(fitted),
        "settings": fitted.settings.to_dict(),
        "seed": int(fitted.seed),
        "training": {"epochs": int(training.epochs), "best_epoch": int(training.best_epoch),
                     "stopped_early": bool(training.stopped_early),
                     "val_loss": _number(fitted.val_loss), "engine": training.engine,
                     "n_train": int(len(fitted.train_rows)), "n_val": int(len(fitted.val_rows))},
        "data_sha256": getattr(fitted, "data_sha256", None),
        "estimator": estimator,
        "versions": _versions(),
    }


def _coefficient_records(fitted) -> list[dict] | None:
    """The coefficient table as records, every column kept (``None`` for networks)."""
    if not fitted.spec.is_regression:
        return None
    table = fitted.coefficients.reset_index()
    return [{key: _plain(value) for key, value in row.items()}
            for row in table.to_dict("records")]


def _number(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _plain(value):
    """A JSON value for a label or a table cell (numpy scalars become Python ones)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} to the sidecar")
