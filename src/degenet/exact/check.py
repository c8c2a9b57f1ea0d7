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
from degenet.exact.separation import MAX_LP_SECONDS, one_column_separation
from degenet.exact.solution import Solution
from degenet.exact.solve import solve
from degenet.exact.stopping import TimeCap
from degenet.model.family import Family


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
    counted = slice(None) if sample_weight is None else sample_weight > 0
    lp_seconds = MAX_LP_SECONDS if cap is None else min(MAX_LP_SECONDS, cap.remaining())
    diagnostics = diagnose(family, solution, X[counted], y[counted], terms, intercept=intercept,
                           classes=classes, separation=found, seconds=lp_seconds)
    return Checked(solution=solution, diagnostics=diagnostics, seconds=seconds)
