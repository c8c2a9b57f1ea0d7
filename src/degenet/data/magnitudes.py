"""Numbers degenet can compute with: every column and target within float32's reach.

Networks train and predict in float32 (largest number 3.4e38, smallest normal 1.2e-38), and
the exact solver squares deviations in float64 (a target of 1e300 has a variance of 1e600).
Rather than return infinities, NaN or zeros (a target scaled by 1e-300 predicted 0 with a
validation loss of 0), a column or target whose values exceed :data:`LIMIT` in magnitude,
or that varies by less than ``1 / LIMIT``, is refused with its name and a factor to rescale
it by. Within these bounds every varying column is standardized
(:mod:`degenet.data.scaling`), so its own scale never matters.
"""

from __future__ import annotations

import numpy as np

from degenet.errors import DegenetError

LIMIT = 1e30  # 1e8 below float32's largest number: room for weights and sums


def check_design(X: np.ndarray, terms, extremes: tuple | None = None) -> None:
    """Refuse a design column (named by ``terms``) out of range.

    ``extremes`` are the columns' ``(minima, maxima)`` when the design's builder already
    has them (:mod:`degenet.data.columnwise`); else two passes over ``X``, no copy of it.
    """
    if not len(X):
        return
    low, high = extremes if extremes is not None else (np.min(X, axis=0), np.max(X, axis=0))
    for j in range(X.shape[1]):
        _check(f"column {terms[j]!r}", float(low[j]), float(high[j]))


def check_target_magnitude(y: np.ndarray, target: str) -> None:
    """Refuse a numeric target ``y`` out of range."""
    if len(y):
        _check(f"target column {target!r}", float(np.min(y)), float(np.max(y)))


def _check(what: str, low: float, high: float) -> None:
    largest = max(abs(low), abs(high))
    if largest > LIMIT:
        raise DegenetError(
            f"{what} holds values up to {largest:.3g}, beyond the {LIMIT:g} degenet computes "
            f"with (networks run in float32): rescale it, e.g. divide by {_power(largest):g}, "
            "and fit again")
    spread = high - low
    if 0 < spread < 1 / LIMIT:
        raise DegenetError(
            f"{what} varies by only {spread:.3g}, below the {1 / LIMIT:g} degenet computes with "
            f"(networks run in float32): rescale it, e.g. multiply by {1 / _power(spread):g}, "
            "and fit again")


def _power(value: float) -> float:
    """The power of ten nearest ``value``: the factor to suggest."""
    return 10.0 ** round(np.log10(value))
