"""Writing a fit as a model folder: the Keras archive, then the sidecar that vouches for it."""

from __future__ import annotations

import json
import platform
import warnings
from datetime import datetime, timezone
from pathlib import Path

from degenet.errors import DegenetError
from degenet.jsonvalues import default, number, plain, records
from degenet.modelfile.archive import file_hash
from degenet.modelfile.sidecar import ARCHIVE, FORMAT, FORMAT_VERSION, SIDECAR


def save(fitted, path, *, estimator: dict | None = None, optimizer_state: bool = False) -> Path:
    """Write ``fitted`` (a :class:`~degenet.Fit`) to the folder ``path``.

    The folder is created if needed; an existing degenet model in it is replaced, any other
    non-empty folder is refused, so nothing the user has is overwritten by accident. The
    network is saved compiled (:mod:`degenet.modelfile.compiled`); ``optimizer_state``
    also saves its optimizer's state.
    """
    # Keras starts only when a model is written.
    from degenet.modelfile.compiled import compiled_copy, portable_optimizer

    folder = Path(path)
    check_destination(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # The sidecar goes first and comes back last: a save cut short never looks like a model.
    (folder / SIDECAR).unlink(missing_ok=True)
    archive = folder / ARCHIVE
    network, optimizer = compiled_copy(fitted, optimizer_state=optimizer_state)
    with warnings.catch_warnings():
        # Keras's writer hands JAX arrays to numpy the pre-2.0 way; nothing to act on here.
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        network.save(archive)
    portable_optimizer(archive)
    sidecar = _sidecar(fitted, network, estimator)
    sidecar["optimizer"] = optimizer
    sidecar["keras_sha256"] = file_hash(archive)
    (folder / SIDECAR).write_text(json.dumps(sidecar, indent=2, default=default) + "\n")
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
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": fitted.spec.text,
        "hidden": list(fitted.spec.hidden),
        "family": fitted.family.name,
        "classes": None if fitted.classes is None else [plain(c) for c in fitted.classes],
        "reference": plain(fitted.reference),
        "intercept": bool(fitted.intercept),
        "n_features": int(network.inputs[0].shape[-1]),
        "n_outputs": int(network.outputs[0].shape[-1]),
        "encoding": fitted.encoding.to_dict(),
        "scaling": fitted.scaling.to_dict(),
        "coefficients": _coefficient_records(fitted),
        "settings": fitted.settings.to_dict(),
        "seed": int(fitted.seed),
        "training": _training(fitted),
        "data_sha256": getattr(fitted, "data_sha256", None),
        "estimator": estimator,
        "versions": _versions(),
        "offset": None if fitted.offset is None else fitted.offset.to_dict(),
        "inference": None if fitted.exact is None else fitted.exact.cov.to_dict(),
        "exact_weights": _exact_weights(fitted),
    }


def _exact_weights(fitted) -> dict | None:
    """A ``solver="exact"`` fit's float64 optimum (JSON numbers keep every digit): the
    loaded model predicts from it, as the fit does."""
    weights = fitted.exact_weights()
    if weights is None:
        return None
    return {"beta": [[float(v) for v in row] for row in weights[0]],
            "alpha": [float(v) for v in weights[1]]}


def _coefficient_records(fitted) -> list[dict] | None:
    """The coefficient table as records, every column kept (``None`` for networks)."""
    if not fitted.spec.is_regression:
        return None
    return records(fitted.coefficients.reset_index())


def _training(fitted) -> dict:
    """What training did; a ``solver="exact"`` fit had no epochs (engine ``exact``)."""
    training = fitted.training
    done = ({"epochs": 0, "best_epoch": 0, "stopped_early": False, "engine": "exact"}
            if training is None else
            {"epochs": int(training.epochs), "best_epoch": int(training.best_epoch),
             "stopped_early": bool(training.stopped_early), "engine": training.engine})
    return {"epochs": done["epochs"], "best_epoch": done["best_epoch"],
            "stopped_early": done["stopped_early"], "val_loss": number(fitted.val_loss),
            "engine": done["engine"], "n_train": int(len(fitted.train_rows)),
            "n_val": int(len(fitted.val_rows))}
