"""The exact check of a single-layer fit: its optimum and diagnostics, within a time cap.

Cheapest first: a one-column separation test before Newton starts (a separated problem
has no optimum to run to), the exact solve (Newton also stops on an iterate that separates
the classes, or at the time cap: :mod:`degenet.exact.stopping`), then the diagnostics,
whose linear programs are time-limited too. On scikit-learn's digits (softmax, 1,437
training rows, 10 classes) this took the check from 42-187 s to well under a second.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from degenet.exact.diagnostics import Diagnostics, diagnose
from degenet.exact.rows import linear_predictor
from degenet.exact.separation import MAX_LP_SECONDS, Separation, one_column_separation
from degenet.exact.solution import Solution
from degenet.exact.solve import solve
from degenet.exact.stopping import SEPARATION, TimeCap, separates
from degenet.model.family import Family

# A check running beside gradient descent may go on after training ends for this share of
# the training's time, at least CHECK_MIN_SECONDS; then it stops, its p-values withheld.
CHECK_SHARE, CHECK_MIN_SECONDS = 0.25, 1.0

_threads: ThreadPoolExecutor | None = None


@dataclass(frozen=True)
class Checked:
    """The exact optimum on the training rows, its diagnostics, and the seconds it took.

    Attributes
    ----------
    solution : Solution
    diagnostics : Diagnostics
    seconds : float
        The exact solve's time (the separation tests and diagnostics not included).
    """

    solution: Solution
    diagnostics: Diagnostics
    seconds: float


def check(family: Family, X: np.ndarray, y: np.ndarray, terms, *, intercept: bool = True,
          classes=None, sample_weight: np.ndarray | None = None, cap: TimeCap | None = None
          ) -> Checked:
    """The exact optimum of ``eta = X beta + alpha`` on rows ``X`` ``(n_samples, n_features)``
    and ``y`` ``(n_samples,)``, and what its reader must know; nothing is emitted.

    ``terms`` name the columns; ``classes`` the classes of a categorical ``y``; ``cap``
    bounds the solve and the diagnostics (None: no cap).
    """
    found = one_column_separation(family, X, y, terms, classes=classes,
                                  sample_weight=sample_weight)
    start = time.perf_counter()
    solution = solve(family, X, y, intercept=intercept, sample_weight=sample_weight,
                     n_classes=len(classes) if family.contrasts else None, cap=cap,
                     separated=found is not None)
    seconds = time.perf_counter() - start
    if sample_weight is not None:  # the rows of positive weight (indexing gathers them)
        counted = sample_weight > 0
        X, y = X[counted], y[counted]
    if found is not None and found.kind != "complete" and solution.stopped == SEPARATION:
        found = _complete(family, X, y, solution) or found
    lp_seconds = MAX_LP_SECONDS if cap is None else min(MAX_LP_SECONDS, cap.remaining())
    diagnostics = diagnose(family, solution, X, y, terms, intercept=intercept,
                           classes=classes, separation=found, seconds=lp_seconds)
    return Checked(solution=solution, diagnostics=diagnostics, seconds=seconds)


def _complete(family, X, y, solution) -> Separation | None:
    """Complete separation, when the iterate Newton stopped at separates every row (the one
    column found before it only divided one class from the others)."""
    eta = linear_predictor(X, solution.beta, solution.alpha)
    if separates(family, y, eta, np.ones(len(y))):
        return Separation(kind="complete", terms=(), n_separated=len(y))
    return None


class Beside:
    """An exact check running in a thread beside training (see :func:`check_beside`)."""

    def __init__(self, future: Future, cap: TimeCap):
        self._future, self._cap = future, cap

    def result(self, training_seconds: float) -> Checked:
        """The check, given ``max(CHECK_MIN_SECONDS, CHECK_SHARE * training_seconds)`` more
        to finish; a check stopped then has ``solution.stopped == "time cap"``."""
        self._cap.set(max(CHECK_MIN_SECONDS, CHECK_SHARE * training_seconds))
        return self._future.result()

    def stop(self) -> None:
        """Stop the check at its next iteration; its result is not wanted."""
        self._cap.set(0.0)


def check_beside(family: Family, X, y: np.ndarray, terms, **options) -> Beside:
    """:func:`check` started in a thread, to run while gradient descent trains.

    Training on the JAX engine leaves most of a second core idle on small and mid-sized
    data, and numpy and XLA release the GIL: the check then costs no time of its own. Its
    time cap is set when training ends (:meth:`Beside.result`).
    """
    global _threads
    if _threads is None:
        _threads = ThreadPoolExecutor(2, thread_name_prefix="degenet-check")
    cap = TimeCap()
    return Beside(_threads.submit(check, family, X, y, terms, cap=cap, **options), cap)
