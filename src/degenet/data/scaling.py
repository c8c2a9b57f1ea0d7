"""Standardize the design for training, and fold the scaling back into the weights.

Training sees ``Z = (X - mean) / scale``. A Dense layer on ``Z`` with kernel ``W`` and
bias ``b`` is the same map on ``X`` with kernel ``W / scale`` and bias
``b - (mean / scale) @ W``: after training the first layer is rewritten so the Keras
model takes the data in its own units and a regression's kernel is its beta.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scaling:
    """Column means and scales, shape ``(n_features,)`` each."""

    mean: np.ndarray
    scale: np.ndarray

    def apply(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean) / self.scale

    def fold(self, kernel: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kernel ``(n_features, units)`` and bias ``(units,)`` for unscaled inputs."""
        kernel = np.asarray(kernel, dtype=np.float64)
        folded = kernel / self.scale[:, None]
        return folded, np.asarray(bias, dtype=np.float64) - self.mean @ folded

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "Scaling":
        return cls(np.asarray(data["mean"], float), np.asarray(data["scale"], float))


def fit_scaling(X: np.ndarray, *, center: bool = True) -> Scaling:
    """Means and standard deviations of the columns of ``X``; a constant column keeps scale 1."""
    mean = X.mean(axis=0) if center else np.zeros(X.shape[1])
    return Scaling(mean, usable_scale(X.std(axis=0), mean))


def usable_scale(spread: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The columns' scales for standardizing: their ``spread``, or 1 for a column that does
    not vary (spread at most 1e-12 of its mean: rounding in the mean of a constant column
    leaves ~1e-16 of it), which has nothing to standardize.

    The test is relative to the column's own magnitude only: a column of values near 1e-15
    that varies is standardized like any other (an absolute floor left it unscaled, and a
    network could not use it)."""
    return np.where((spread > 0) & (spread > 1e-12 * np.abs(mean)), spread, 1.0)
