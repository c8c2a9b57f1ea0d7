"""The fits of one comparison, and the regression as a verdict must see it: at its optimum.

A verdict on "is the network worth it?" is only fair to the regression when the regression
in it is the regression: the optimum of its loss on the training rows. Each fold's
regression is therefore scored as

* ``"gd"``: its gradient-descent fit, when that reached the optimum (the usual case:
  :mod:`degenet.fitting` trains a convex model until it is there);
* ``"exact"``: the exact optimum, for ``solver="exact"``, or where gradient descent
  stopped short of it;
* ``"early-stopped"``: under separation the likelihood has no maximum and the exact
  solver's estimates only grow with its iterations; a diverging fit is no model to score,
  so the regression is its gradient-descent fit, early-stopped on the validation rows (a
  finite model), even under ``solver="exact"``.

An exact regression needs no validation rows, so it trains on the fold's whole training
share (``Part.whole``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from degenet.comparison.design import Part
from degenet.data.prepare import Prepared
from degenet.fitted import Fit
from degenet.fitting import Task, fit_prepared
from degenet.model.families import Family
from degenet.model.specs import ModelSpec

# (label, epochs done, max epochs); the label is the spec, plus " fold k/n" under cv.
CompareProgress = Callable[[str, int, int], None]

STANDS = {"gd": "its gradient-descent fit, at the optimum",
          "exact": "the exact optimum",
          "early-stopped": "its gradient-descent fit early-stopped on the validation rows "
                           "(separation: the maximum-likelihood fit diverges)"}


@dataclass(frozen=True)
class Run:
    """What every fit of one comparison shares; reports progress per fit and fold."""

    prepared: Prepared
    settings: object
    seed: int
    progress: CompareProgress | None
    n_folds: int
    solver: str = "gd"
    cov_type: str = "nonrobust"

    def fit(self, spec: ModelSpec, family: Family, encoded, part: Part, number: int
            ) -> tuple[Fit, float]:
        """One model on one fold: the fit and its seconds."""
        start = time.perf_counter()
        exact = spec.is_regression and self.solver == "exact"
        fitted = self._fit(spec, family, encoded, part, number, "exact" if exact else "gd")
        if exact and fitted.exact.diagnostics.separation is not None:
            fitted = self._fit(spec, family, encoded, part, number, "gd")
        return fitted, time.perf_counter() - start

    def _fit(self, spec, family, encoded, part: Part, number: int, solver: str) -> Fit:
        label = spec.text if self.n_folds == 1 else f"{spec.text} fold {number}/{self.n_folds}"
        report = (lambda done, total: self.progress(label, done, total)) if self.progress else None
        exact = solver == "exact"
        task = Task(spec=spec, family=family, target=encoded,
                    train_rows=part.whole if exact else part.train,
                    val_rows=part.val[:0] if exact else part.val,
                    settings=(dataclasses.replace(self.settings, validation=0.0) if exact
                              else self.settings),
                    seed=self.seed, intercept=self.prepared.encoding.intercept, solver=solver,
                    cov_type=self.cov_type)
        fitted = fit_prepared(self.prepared, task, progress=report)
        if self.progress:  # early stopping ends before max_epochs: mark the fit done
            done = max(fitted.epochs, 1)
            self.progress(label, done, done)
        return fitted


def stand_in(fitted: Fit) -> str:
    """How a fit is scored: ``"gd"``, ``"exact"`` or ``"early-stopped"`` (see the module);
    a network is always ``"gd"``."""
    regression = fitted.exact
    if regression is None:
        return "gd"
    if regression.diagnostics.separation is not None:
        return "early-stopped"
    return "gd" if fitted.solver == "gd" and regression.at_optimum else "exact"


def held_out_eta(fitted: Fit, X: np.ndarray, stand: str = "gd",
                 offset: np.ndarray | None = None) -> np.ndarray:
    """The fit's linear predictor on design rows ``X`` (and their ``offset``): ``(n,)`` or
    ``(n, n_classes)``; for ``stand="exact"`` the float64 optimum's."""
    if stand != "exact":
        return np.asarray(fitted.design_eta(X, offset), dtype=np.float64)
    solution = fitted.exact.solution
    eta = np.asarray(X, dtype=np.float64) @ solution.beta + solution.alpha
    return fitted.family.squeeze(eta if offset is None else eta + offset[:, None])


def stand_note(spec: str, stands: list[str]) -> str:
    """One line on what stood for the regression ``spec`` in its folds."""
    counts = {stand: stands.count(stand) for stand in STANDS if stand in stands}
    if len(counts) == 1:
        stand = next(iter(counts))
        where = f" in all {len(stands)} folds" if len(stands) > 1 else ""
        return f"regression {spec}: scored as {STANDS[stand]}{where}"
    parts = [f"{STANDS[stand]} in {count} of {len(stands)} folds"
             for stand, count in counts.items()]
    extra = (" (gradient descent stopped short of the optimum there)" if "exact" in counts
             and "gd" in counts else "")
    return f"regression {spec}: scored as " + "; ".join(parts) + extra


__all__ = ["CompareProgress", "Run", "STANDS", "held_out_eta", "stand_in", "stand_note"]
