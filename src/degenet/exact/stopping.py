"""When Newton stops short of an optimum: a time cap, and separation proved on the way.

Newton on separated data has no optimum to reach: its iterates grow along the separating
direction until ``max_iter``. On scikit-learn's digits (1,437 rows, 61 columns, 10 classes)
that was 100 iterations of a 549 x 549 Hessian, most of them with an ill-conditioned one,
and three linear programs afterwards: 42-187 s against 0.5 s of training. Two rules stop
it early:

- **a certificate**: an iterate that puts every row (of positive weight) on the right side
  of every other class, margin > 0, is itself a separating direction, so the maximum
  likelihood estimate does not exist (complete separation, Albert & Anderson 1984).
  Checking it costs ``O(n k)`` per iteration; on digits it holds from the 4th iteration;
- **a time cap** (:class:`TimeCap`): the caller's budget for the run, checked between
  iterations; it may be set or moved while the solver runs (from another thread), as the
  check of a gradient-descent fit does when training ends.

A run stopped by either is not converged; :attr:`Solution.stopped <degenet.exact.
solution.Solution>` says why, and its p-values are withheld.
"""

from __future__ import annotations

import math
import time

import numpy as np

from degenet.model.family import Family

# A margin (in logits) above this counts as > 0: far above float64 rounding of eta.
MARGIN = 1e-6
# A problem separated before Newton starts (one column divides a class from the rest) has
# no optimum: Newton stops after this many iterations, enough for the fitted
# probabilities of the separated rows to approach 0 or 1.
SEPARATED_ITERATIONS = 10

SEPARATION, TIME = "separation", "time cap"
# Rows whose margins are checked at a time: a block with a row on the wrong side ends the
# check (on data that are not separated, the first block), and no temporary is larger.
MARGIN_ROWS = 65536


class TimeCap:
    """A deadline for a solver run; ``seconds=None``: none until :meth:`set` gives one."""

    def __init__(self, seconds: float | None = None):
        self.seconds = math.inf
        self._end = math.inf
        if seconds is not None:
            self.set(seconds)

    def set(self, seconds: float) -> None:
        """End the run ``seconds`` from now (between two of its iterations)."""
        self.seconds = float(seconds)
        self._end = time.perf_counter() + self.seconds

    def passed(self) -> bool:
        return time.perf_counter() > self._end

    def remaining(self) -> float:
        """Seconds left, ``inf`` without a deadline, at least 0."""
        return max(self._end - time.perf_counter(), 0.0)


def separates(family: Family, y: np.ndarray, eta: np.ndarray, weight: np.ndarray) -> bool:
    """Whether ``eta`` ``(n, n_outputs)`` puts every row of positive weight on its own
    class's side with a margin above :data:`MARGIN` (classifiers; False for the others)."""
    if not family.is_classifier:
        return False
    for start in range(0, len(y), MARGIN_ROWS):
        block = slice(start, start + MARGIN_ROWS)
        logits = family.full_logits(family.squeeze(eta[block])).copy()  # may be eta itself
        rows = np.arange(len(logits))
        codes = y[block].astype(np.int64)
        own = logits[rows, codes].copy()
        logits[rows, codes] = -np.inf
        margin = own - logits.max(axis=1)
        if not np.all(margin[weight[block] > 0] > MARGIN):
            return False
    return True


def stop_reason(family: Family, y: np.ndarray, eta: np.ndarray, weight: np.ndarray,
                loss: float, cap: TimeCap | None) -> str | None:
    """Why Newton should stop at this iterate (:data:`TIME`, :data:`SEPARATION`), or None.

    Separation is only looked for once the mean loss is below that of a coin toss between
    the classes (every row's loss is, on a separating iterate): no cost on hard problems.
    """
    if cap is not None and cap.passed():
        return TIME
    n_classes = max(2, eta.shape[1])
    if family.is_classifier and loss < np.log(n_classes) and separates(family, y, eta, weight):
        return SEPARATION
    return None


def logit_extremes(family, eta, counted, block_rows: int = MARGIN_ROWS) -> dict:
    """``logit_spread`` and ``logit_gap`` of :class:`Solution` from the ``counted`` rows'
    ``eta``, a block of rows at a time (no temporary of every row)."""
    if not family.is_classifier or not counted.any():
        return {}
    spread = gap = -np.inf
    for start in range(0, len(eta), block_rows):
        rows = slice(start, start + block_rows)
        logits = family.full_logits(family.squeeze(eta[rows][counted[rows]]))
        if len(logits) and logits.shape[1] == 2:  # two classes: the gap is the spread
            spread = gap = max(gap, float(np.abs(logits[:, 1] - logits[:, 0]).max()))
        elif len(logits):
            top = np.partition(logits, logits.shape[1] - 2, axis=1)[:, -2:]
            spread = max(spread, float((logits.max(axis=1) - logits.min(axis=1)).max()))
            gap = max(gap, float((top[:, 1] - top[:, 0]).max()))
    return {"logit_spread": spread, "logit_gap": gap}
