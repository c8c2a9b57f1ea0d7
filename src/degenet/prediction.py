"""Predictions on a new table: the code a fit and a saved model share, and the table
``degenet predict`` writes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from degenet.data.tables import read_table
from degenet.errors import DegenetError


class Predictor:
    """Predictions from ``model``, ``family``, ``encoding``, ``classes`` and ``offset`` (an
    :class:`~degenet.data.carried.OffsetSpec` or None), set by the class that mixes this in:
    :class:`~degenet.fitting.Fit`, :class:`~degenet.modelfile.SavedModel`.

    A model whose exact float64 weights are known (:meth:`exact_weights`: a
    ``solver="exact"`` fit) predicts from them in float64; others through the Keras network
    (float32 weights: ~7 digits), which refuses inputs float32 cannot hold.
    """

    def exact_weights(self) -> tuple[np.ndarray, np.ndarray] | None:
        """beta ``(n_features, n_outputs)`` and alpha ``(n_outputs,)`` in float64, or None."""
        return None

    def linear_predictor(self, data, *, offset=None, exposure=None) -> np.ndarray:
        """``eta`` for each row of ``data``: ``(n,)``, or ``(n, n_classes)`` for categorical.

        A model fitted with an offset (or exposure) reads it from its column of ``data``,
        or from ``offset=`` (``exposure=``): one value per row.
        """
        if self.offset is None and offset is None and exposure is None:
            return self.design_eta(self.encoding.transform(data))  # the lean path: no DataFrame
        frame = read_table(data)
        values = self._offset(frame, offset, exposure)
        if self.offset is not None:
            frame = self.offset.without_column(frame)
        return self.design_eta(self.encoding.transform(frame), values)

    def design_eta(self, X: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
        """``eta`` of encoded design rows ``X`` ``(n, n_features)`` and their ``offset``."""
        # Keras is imported on the first prediction, not with the class: reading a model
        # file's sidecar (``degenet inspect``) must not start Keras.
        from degenet.model.network import predict_logits

        weights = self.exact_weights()
        if weights is None:
            check_float32_inputs(X, self.encoding.terms)
            return self.family.squeeze(predict_logits(self.model, X, offset))
        eta = np.asarray(X, dtype=np.float64) @ weights[0] + weights[1]
        return self.family.squeeze(eta if offset is None else eta + offset[:, None])

    def _offset(self, frame: pd.DataFrame, offset, exposure) -> np.ndarray | None:
        spec = self.offset
        wrong = exposure if spec is None or not spec.exposure else offset
        if spec is None and (offset is not None or exposure is not None) or wrong is not None:
            fitted = "no offset" if spec is None else f"{spec.argument}="
            raise DegenetError(f"this model was fitted with {fitted}; pass "
                               f"{'nothing' if spec is None else spec.argument + '='} instead")
        if spec is None:
            return None
        return spec.values(frame, exposure if spec.exposure else offset)

    def predict_proba(self, data, *, offset=None, exposure=None) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, columns in ``classes`` order."""
        if not self.family.is_classifier:
            raise DegenetError(f"predict_proba needs a classifier; this is {self.family.name}")
        eta = self.linear_predictor(data, offset=offset, exposure=exposure)
        return self.family.probabilities(eta.astype(np.float64))

    def predict(self, data, *, offset=None, exposure=None) -> np.ndarray:
        """The mean for regression families, the most probable label for classifiers."""
        if self.family.is_classifier:
            proba = self.predict_proba(data, offset=offset, exposure=exposure)
            return np.asarray(self.classes, dtype=object)[proba.argmax(1)]
        eta = self.linear_predictor(data, offset=offset, exposure=exposure)
        return self.family.mean(eta.astype(np.float64))


# float32's largest finite value is 3.4e38; a network's input beyond it becomes infinite.
FLOAT32_LIMIT = float(np.finfo(np.float32).max)


def check_float32_inputs(X: np.ndarray, terms) -> None:
    """Refuse inputs a float32 network would read as infinite, naming the term."""
    too_large = np.abs(X) > FLOAT32_LIMIT
    if too_large.any():
        column = int(too_large.any(axis=0).argmax())
        row = int(too_large[:, column].argmax())
        raise DegenetError(
            f"term {terms[column]!r} holds {float(X[row, column]):g} (row {row}); the network "
            f"computes in float32, whose largest number is {FLOAT32_LIMIT:.3g}: rescale the "
            "column (and refit) to predict such values")


def prediction_frame(fit, data) -> pd.DataFrame:
    """The predictions of ``fit`` for each row of ``data``, in the input's row order.

    Parameters
    ----------
    fit : Fit
        A fitted model (:func:`degenet.fit`); its encoding rebuilds the design of ``data``.
    data : path, DataFrame or ndarray
        The new table; it needs the columns the model was fitted on.

    Returns
    -------
    DataFrame, shape (n_samples, 1 + n_classes)
        Indexed like ``data``. Column ``prediction``: the mean for regression families, the
        most probable class for classifiers; classifiers add ``proba_<class>`` per class,
        in ``fit.classes`` order.
    """
    frame = read_table(data)
    if not fit.family.is_classifier:
        return pd.DataFrame({"prediction": fit.predict(frame)}, index=frame.index)
    proba = fit.predict_proba(frame)
    labels = np.asarray(fit.classes, dtype=object)[proba.argmax(axis=1)]  # as Fit.predict
    out = pd.DataFrame({"prediction": labels}, index=frame.index)
    for k, label in enumerate(fit.classes):
        out[f"proba_{label}"] = proba[:, k]
    return out
