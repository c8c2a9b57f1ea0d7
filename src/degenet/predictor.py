"""Predictions of a fitted network on a new table: shared by a fit and a model read from disk."""

from __future__ import annotations

import numpy as np

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

        X = self.encoding.transform(read_table(data))
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
