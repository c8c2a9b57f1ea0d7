"""Predictions on a new table: the code a fit and a saved model share, and the table
``degenet predict`` writes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from degenet.data.tables import read_table
from degenet.errors import DegenetError


class Predictor:
    """Predictions from ``model``, ``family``, ``encoding`` and ``classes`` (set by the class
    that mixes this in: :class:`~degenet.fitting.Fit`, :class:`~degenet.modelfile.SavedModel`)."""

    def linear_predictor(self, data) -> np.ndarray:
        """``eta`` for each row of ``data``: ``(n,)``, or ``(n, n_classes)`` for categorical."""
        # Keras is imported on the first prediction, not with the class: reading a model
        # file's sidecar (``degenet inspect``) must not start Keras.
        from degenet.model.network import predict_logits

        X = self.encoding.transform(data)
        return self.family.squeeze(predict_logits(self.model, X))

    def predict_proba(self, data) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, columns in ``classes`` order."""
        if not self.family.is_classifier:
            raise DegenetError(f"predict_proba needs a classifier; this is {self.family.name}")
        return self.family.probabilities(self.linear_predictor(data).astype(np.float64))

    def predict(self, data) -> np.ndarray:
        """The mean for regression families, the most probable label for classifiers."""
        if self.family.is_classifier:
            return np.asarray(self.classes, dtype=object)[self.predict_proba(data).argmax(1)]
        return self.family.mean(self.linear_predictor(data).astype(np.float64))


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
