"""Writing a fit as a model folder: the Keras archive, then the sidecar that vouches for it."""

from __future__ import annotations

import json
import platform
import warnings
from datetime import datetime, timezone
from pathlib import Path

from degenet.jsonvalues import default, number, plain, records
from degenet.modelfile.archive import file_hash
from degenet.modelfile.atomic import check_destination, write_folder
from degenet.modelfile.sidecar import ARCHIVE, FORMAT, FORMAT_VERSION, SIDECAR, sidecar_text


def save(fitted, path, *, overwrite: bool = False, estimator: dict | None = None,
         optimizer_state: bool = False) -> Path:
    """Write ``fitted`` (a :class:`~degenet.Fit`) to the folder ``path``, whole or not at all.

    The model is written into a new folder beside ``path`` and swapped into place in one
    step (:mod:`degenet.modelfile.atomic`): an interrupted save leaves what was there. A
    new path or an empty folder is written; a folder holding a degenet model is replaced
    only with ``overwrite=True``; any other folder, a file or a symbolic link is refused.
    The network is saved compiled (:mod:`degenet.modelfile.compiled`); ``optimizer_state``
    also saves its optimizer's state.
    """
    # Keras starts only when a model is written.
    from degenet.modelfile.compiled import compiled_copy, portable_optimizer

    folder = check_destination(path, overwrite=overwrite)

    def write(staging: Path) -> None:  # all of the work under the folder's lock
        network, optimizer = compiled_copy(fitted, optimizer_state=optimizer_state)
        sidecar = _sidecar(fitted, network, estimator)
        sidecar["optimizer"] = optimizer
        # Plain JSON (numpy scalars made Python's): the digest is of what is written.
        sidecar = json.loads(json.dumps(sidecar, default=default))
        archive = staging / ARCHIVE
        with warnings.catch_warnings():
            # Keras's writer hands JAX arrays to numpy the pre-2.0 way; nothing to act on here.
            warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
            network.save(archive)
        portable_optimizer(archive)
        sidecar["keras_sha256"] = file_hash(archive)
        with open(staging / SIDECAR, "x", encoding="utf-8") as handle:
            handle.write(sidecar_text(sidecar))

    return write_folder(folder, write, overwrite=overwrite)


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
