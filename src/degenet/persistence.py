"""Model files that are safe to open: a folder with a ``.keras`` archive and a JSON sidecar.

Layout of a model folder ``MODEL/``::

    MODEL/model.keras     the Keras network (architecture + weights, no code)
    MODEL/degenet.json    the sidecar: what the model is, how its inputs are encoded, its
                          coefficients, how and on what it was trained, and the sha256 of
                          model.keras

Sidecar keys: ``format`` ("degenet-model"), ``format_version`` (1), ``created``, ``model``
(the spec, e.g. ``mlp:64,32``), ``hidden``, ``family``, ``classes``, ``reference``,
``intercept``, ``n_features``, ``n_outputs``, ``encoding`` (``Encoding.to_dict()``),
``scaling`` (``Scaling.to_dict()``), ``coefficients`` (the coefficient table as records, or
null for networks), ``settings`` (``TrainSettings.to_dict()``), ``seed``, ``training``
(epochs, best epoch, val_loss, engine, rows), ``data_sha256`` (of the training design,
target and weights), ``estimator`` (class and parameters, when saved from one),
``versions`` (degenet, keras, backend, backend_version, python) and ``keras_sha256``.

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
import warnings
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
# The activations degenet's layers use (hidden ReLU, each family's inverse link).
ALLOWED_ACTIVATIONS = frozenset({"linear", "relu", "sigmoid", "softmax", "exponential"})
ARCHIVE_MEMBERS = frozenset({"metadata.json", "config.json", "model.weights.h5"})
# Modules the allowed classes come from (``module`` keys of the config).
ALLOWED_MODULES = ("keras", "keras.layers", "keras.initializers", "keras.src.models.functional",
                   "keras.models")


def data_hash(X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> str:
    """sha256 of the design, target and weights (float64, C order): names the data exactly."""
    digest = hashlib.sha256()
    for array in (X, y) if sample_weight is None else (X, y, sample_weight):
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
    check_destination(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # The sidecar goes first and comes back last: a save cut short never looks like a model.
    (folder / SIDECAR).unlink(missing_ok=True)
    archive = folder / ARCHIVE
    network = _plain_copy(fitted.model, keras)
    with warnings.catch_warnings():
        # Keras's writer hands JAX arrays to numpy the pre-2.0 way; nothing to act on here.
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        network.save(archive)
    sidecar = _sidecar(fitted, network, estimator)
    sidecar["keras_sha256"] = _file_hash(archive)
    (folder / SIDECAR).write_text(json.dumps(sidecar, indent=2, default=_json_default) + "\n")
    return folder


def check_destination(folder: Path) -> None:
    """Refuse a destination that is a file or a folder holding anything but a model."""
    folder = Path(folder)
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


# -- reading -----------------------------------------------------------------------------------

def read_sidecar(path) -> dict:
    """The checked sidecar of the model folder ``path``; the archive is not opened.

    Errors name the folder and say what is wrong: not a model, unreadable or truncated
    sidecar, another format version, missing keys.
    """
    folder = Path(path)
    if not folder.exists():
        raise DegenetError(f"model not found: {folder}")
    if not folder.is_dir() or not (folder / SIDECAR).is_file():
        raise DegenetError(
            f"{folder} is not a degenet model: expected a folder with {SIDECAR} and {ARCHIVE} "
            "(written by fit.save, an estimator's save or `degenet fit --save`)")
    try:
        sidecar = json.loads((folder / SIDECAR).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DegenetError(f"{folder / SIDECAR} is not valid JSON ({error}); the file is "
                           "truncated or damaged") from None
    if not isinstance(sidecar, dict) or sidecar.get("format") != FORMAT:
        raise DegenetError(f"{folder / SIDECAR} is not a degenet model sidecar "
                           f"(expected \"format\": \"{FORMAT}\")")
    version = sidecar.get("format_version")
    if version != FORMAT_VERSION:
        raise DegenetError(
            f"{folder} has model format version {version!r}; this degenet reads version "
            f"{FORMAT_VERSION}" + ("; upgrade degenet" if isinstance(version, int)
                                   and version > FORMAT_VERSION else ""))
    absent = [key for key in REQUIRED if key not in sidecar]
    if absent:
        raise DegenetError(f"{folder / SIDECAR} lacks the key(s) {', '.join(absent)}; the "
                           "file is damaged or was not written by degenet")
    return sidecar


def verify(path) -> dict:
    """Check a model folder without loading it: sidecar, archive checksum, archive classes.

    Returns the sidecar. A mismatch between the archive and the sha256 recorded in the
    sidecar means the archive was truncated or modified after saving: it is refused.
    """
    folder = Path(path)
    sidecar = read_sidecar(folder)
    archive = folder / ARCHIVE
    if not archive.is_file():
        raise DegenetError(f"{folder} lacks {ARCHIVE}: the model's weights are missing")
    if _file_hash(archive) != sidecar["keras_sha256"]:
        raise DegenetError(
            f"{archive} does not match the sha256 recorded in {SIDECAR}: it was truncated or "
            "modified after saving; refusing to load it")
    check_archive(archive)
    return sidecar


def check_archive(archive: Path) -> None:
    """Refuse a ``.keras`` archive whose config names a class degenet never writes.

    Keras's safe mode already refuses ``Lambda`` layers that carry code; this check also
    refuses custom or unknown classes and modules before Keras resolves any name.
    """
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = set(bundle.namelist())
            config = json.loads(bundle.read("config.json"))
    except (zipfile.BadZipFile, KeyError, OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise DegenetError(f"{archive} is not a readable Keras archive (a zip with "
                           "config.json)") from None
    if not members <= ARCHIVE_MEMBERS:
        raise DegenetError(f"{archive} holds files degenet never writes: "
                           f"{', '.join(sorted(members - ARCHIVE_MEMBERS))}; refusing to load it")
    for node in _config_nodes(config):
        name, module = node.get("class_name"), node.get("module")
        activation = (node.get("config") or {}).get("activation")
        if activation is not None and activation not in ALLOWED_ACTIVATIONS:
            raise DegenetError(f"{archive} asks for the activation {activation!r}, which "
                               "degenet never writes; refusing to load it")
        if name == "Lambda":
            raise DegenetError(
                f"{archive} asks for a Lambda layer, which would run code stored in the file; "
                "degenet never writes one: refusing to load it")
        if name not in ALLOWED_CLASSES or (module is not None and module not in ALLOWED_MODULES):
            raise DegenetError(
                f"{archive} asks for class {name!r} from module {module!r}, which degenet never "
                f"writes (allowed: {', '.join(sorted(ALLOWED_CLASSES))}); refusing to load it")
        if node.get("registered_name") not in (None, name):
            raise DegenetError(f"{archive} asks for the registered object "
                               f"{node['registered_name']!r}; refusing to load it")


def _config_nodes(value):
    """Every dict with a ``class_name`` inside a Keras config, depth first."""
    if isinstance(value, dict):
        if "class_name" in value:
            yield value
        for item in value.values():
            yield from _config_nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _config_nodes(item)


@dataclass(frozen=True)
class SavedModel:
    """A model read back from a model folder; it predicts as the fit that was saved.

    Attributes
    ----------
    spec, family, model, encoding, scaling, classes, reference, intercept
        As in :class:`~degenet.Fit`.
    sidecar : dict
        Everything the sidecar says (training settings, seed, data hash, versions, ...).
    """

    spec: object
    family: object
    model: object
    encoding: object
    scaling: object
    classes: tuple | None
    reference: object
    intercept: bool
    sidecar: dict

    @property
    def terms(self) -> tuple[str, ...]:
        return self.encoding.terms

    @property
    def coefficients(self) -> pd.DataFrame:
        """The coefficient table as saved (every column the fit had)."""
        records = self.sidecar.get("coefficients")
        if records is None:
            raise DegenetError(
                f"model {self.spec.text!r} has hidden layers; only single-layer models "
                "(linear, logistic, softmax, poisson) have coefficients")
        table = pd.DataFrame.from_records(records)
        keys = ["class", "term"] if "class" in table.columns else ["term"]
        return table.set_index(keys)

    # Fit's own prediction code, run on this object (it has the attributes that code reads):
    # a loaded model predicts exactly as the fit that was saved.
    def linear_predictor(self, data) -> np.ndarray:
        from degenet.fitting import Fit

        return Fit.linear_predictor(self, data)

    def predict_proba(self, data) -> np.ndarray:
        from degenet.fitting import Fit

        return Fit.predict_proba(self, data)

    def predict(self, data) -> np.ndarray:
        from degenet.fitting import Fit

        return Fit.predict(self, data)


def load(path) -> SavedModel:
    """Open a model folder written by ``fit.save``, an estimator's ``save`` or the CLI.

    The folder is verified first (:func:`verify`); Keras then reads the archive in safe
    mode, uncompiled. Errors are :class:`~degenet.errors.DegenetError` naming the file.
    """
    from degenet._keras import keras
    from degenet.data.encoding import Encoding
    from degenet.model.families import get_family
    from degenet.train.scaling import Scaling
    from degenet.model.specs import parse_spec

    folder = Path(path)
    sidecar = verify(folder)
    try:
        model = keras.saving.load_model(folder / ARCHIVE, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types; the user needs one clear line
        raise DegenetError(f"Keras cannot load {folder / ARCHIVE}: "
                           f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
                           ) from None
    shape = (int(model.inputs[0].shape[-1]), int(model.outputs[0].shape[-1]))
    if shape != (sidecar["n_features"], sidecar["n_outputs"]):
        raise DegenetError(f"{folder / ARCHIVE} maps {shape[0]} inputs to {shape[1]} outputs; the "
                           f"sidecar says {sidecar['n_features']} to {sidecar['n_outputs']}")
    classes = None if sidecar["classes"] is None else tuple(sidecar["classes"])
    return SavedModel(parse_spec(sidecar["model"]), get_family(sidecar["family"]), model,
                      Encoding.from_dict(sidecar["encoding"]),
                      Scaling.from_dict(sidecar["scaling"]), classes,
                      sidecar.get("reference"), bool(sidecar["intercept"]), sidecar)


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
    if sidecar.get("estimator"):
        lines.append(f"estimator  {sidecar['estimator']['class']}")
    if sidecar.get("coefficients"):
        table = pd.DataFrame.from_records(sidecar["coefficients"])
        lines += ["coefficients", table.to_string(index=False, float_format=lambda v: f"{v:.6g}")]
    return lines


__all__ = ["SavedModel", "check_destination", "data_hash", "describe", "load", "read_sidecar",
           "save", "verify"]
