"""The exact check of a single-layer fit: its optimum and diagnostics, within a time cap.

Cheapest first: a one-column separation test before Newton starts (a separated problem
has no optimum to run to), the exact solve (Newton also stops on an iterate that separates
the classes, or at the time cap: :mod:`degenet.exact.stopping`), then the diagnostics,
whose linear programs are time-limited too. On scikit-learn's digits (softmax, 1,437
training rows, 10 classes) this took the check from 42-187 s to well under a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from degenet.exact.diagnostics import Diagnostics, diagnose
from degenet.exact.rows import linear_predictor
from degenet.exact.separation import MAX_LP_SECONDS, Separation, one_column_separation
from degenet.exact.solution import Solution
from degenet.exact.solve import solve
from degenet.exact.stopping import SEPARATION, TimeCap, separates
from degenet.model.family import Family

# The exact solve of a gradient-descent fit runs before training (the optimum it trains
# towards) and stops after this many seconds: its p-values are then withheld, and training
# stops on the validation loss. Newton converges in a few iterations where there is an
# optimum (3.5 s on 2,000,000 x 100 logistic rows, 2 cores); separated classes stop it
# early. ``solver="exact"`` has no cap.
CHECK_SECONDS = 10.0


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
          classes=None, sample_weight: np.ndarray | None = None,
          offset: np.ndarray | None = None, cap: TimeCap | None = None) -> Checked:
    """The exact optimum of ``eta = X beta + alpha (+ offset)`` on rows ``X`` ``(n_samples, n_features)``
    and ``y`` ``(n_samples,)``, and what its reader must know; nothing is emitted.

    ``terms`` name the columns; ``classes`` the classes of a categorical ``y``; ``cap``
    bounds the solve and the diagnostics (None: no cap).
    """
    found = one_column_separation(family, X, y, terms, classes=classes,
                                  sample_weight=sample_weight)
    start = time.perf_counter()
    solution = solve(family, X, y, intercept=intercept, sample_weight=sample_weight,
                     offset=offset, n_classes=len(classes) if family.contrasts else None, cap=cap,
                     separated=found is not None)
    seconds = time.perf_counter() - start
    weight = None
    if sample_weight is not None:  # the rows of positive weight (indexing gathers them)
        counted = sample_weight > 0
        X, y, weight = X[counted], y[counted], sample_weight[counted]
        offset = None if offset is None else offset[counted]
    if found is not None and found.kind != "complete" and solution.stopped == SEPARATION:
        found = _complete(family, X, y, solution, offset) or found
    lp_seconds = MAX_LP_SECONDS if cap is None else min(MAX_LP_SECONDS, cap.remaining())
    diagnostics = diagnose(family, solution, X, y, terms, intercept=intercept,
                           classes=classes, separation=found, seconds=lp_seconds,
                           sample_weight=weight)
    return Checked(solution=solution, diagnostics=diagnostics, seconds=seconds)


def _complete(family, X, y, solution, offset=None) -> Separation | None:
    """Complete separation, when the iterate Newton stopped at separates every row (the one
    column found before it only divided one class from the others)."""
    eta = linear_predictor(X, solution.beta, solution.alpha)
    if offset is not None:
        eta = eta + offset[:, None]
    if separates(family, y, eta, np.ones(len(y))):
        return Separation(kind="complete", terms=(), n_separated=len(y))
    return None
