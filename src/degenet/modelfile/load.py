"""Opening a model folder: checked whole before Keras reads the archive, in safe mode."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from degenet.errors import DegenetError
from degenet.modelfile.archive import check_archive, file_hash
from degenet.modelfile.sidecar import ARCHIVE, SIDECAR, read_sidecar
from degenet.prediction import Predictor


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
    if file_hash(archive) != sidecar["keras_sha256"]:
        raise DegenetError(
            f"{archive} does not match the sha256 recorded in {SIDECAR}: it was truncated or "
            "modified after saving; refusing to load it")
    check_archive(archive)
    return sidecar


@dataclass(frozen=True)
class SavedModel(Predictor):
    """A model read back from a model folder; it predicts as the fit that was saved.

    Attributes
    ----------
    spec, family, model, encoding, scaling, classes, reference, intercept, offset
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
    offset: object = None
    weights: tuple | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        return self.encoding.terms

    def exact_weights(self) -> tuple[np.ndarray, np.ndarray] | None:
        """A ``solver="exact"`` fit's float64 optimum, as saved: it predicts from it."""
        return self.weights

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


def load(path) -> SavedModel:
    """Open a model folder written by ``fit.save``, an estimator's ``save`` or the CLI.

    The folder is verified first (:func:`verify`); Keras then reads the archive in safe
    mode. ``.model`` comes back compiled with the optimizer it was saved with (and its
    state, when saved with ``optimizer_state=True``), ready for ``model.fit``. Errors are :class:`~degenet.errors.DegenetError` naming the file.
    """
    # Keras and the model's classes load here, not with the module: reading a sidecar
    # (``degenet inspect``) must not start Keras.
    from degenet._keras import keras
    from degenet.data.carried import OffsetSpec
    from degenet.data.encoding import Encoding
    from degenet.data.scaling import Scaling
    from degenet.model.families import get_family
    from degenet.model.specs import parse_spec
    from degenet.modelfile.compiled import compile_loaded

    folder = Path(path)
    sidecar = verify(folder)
    try:
        model = keras.saving.load_model(folder / ARCHIVE, compile=True, safe_mode=True)
    except Exception as error:  # Keras raises many types; the user needs one clear line
        raise DegenetError(f"Keras cannot load {folder / ARCHIVE}: "
                           f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
                           ) from None
    compile_loaded(model, sidecar)
    shape = (int(model.inputs[0].shape[-1]), int(model.outputs[0].shape[-1]))
    if shape != (sidecar["n_features"], sidecar["n_outputs"]):
        raise DegenetError(f"{folder / ARCHIVE} maps {shape[0]} inputs to {shape[1]} outputs; the "
                           f"sidecar says {sidecar['n_features']} to {sidecar['n_outputs']}")
    classes = None if sidecar["classes"] is None else tuple(sidecar["classes"])
    return SavedModel(spec=parse_spec(sidecar["model"]), family=get_family(sidecar["family"]),
                      model=model, encoding=Encoding.from_dict(sidecar["encoding"]),
                      scaling=Scaling.from_dict(sidecar["scaling"]), classes=classes,
                      reference=sidecar.get("reference"), intercept=bool(sidecar["intercept"]),
                      sidecar=sidecar, offset=OffsetSpec.from_dict(sidecar.get("offset")),
                      weights=_exact_weights(folder, sidecar))


def _exact_weights(folder: Path, sidecar: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """The sidecar's ``exact_weights``, checked against the model's shape, or None."""
    saved = sidecar.get("exact_weights")
    if saved is None:
        return None
    shape = (sidecar["n_features"], sidecar["n_outputs"])
    try:
        beta = np.asarray(saved["beta"], dtype=np.float64)
        alpha = np.asarray(saved["alpha"], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        beta = alpha = np.zeros(0)
    if (beta.shape != shape or alpha.shape != shape[1:] or not np.isfinite(beta).all()
            or not np.isfinite(alpha).all()):
        raise DegenetError(f"{folder / SIDECAR} holds exact_weights that are not "
                           f"{shape[0]} x {shape[1]} finite numbers; the file is damaged")
    return beta, alpha
