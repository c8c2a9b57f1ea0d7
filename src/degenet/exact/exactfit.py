"""The exact optimum inside ``degenet.fit``: ``solver="exact"``, and the check of ``"gd"``.

For every single-layer model ``fit`` solves the same loss on the same training rows
exactly (:func:`degenet.exact.solvers.solve`) and diagnoses the design
(:func:`degenet.exact.diagnostics.diagnose`). With ``solver="exact"`` the optimum becomes the
Keras model's weights; with ``solver="gd"`` the trained weights are compared with it
(:func:`degenet.exact.results.assess`) and a ``ConvergenceWarning`` says how far they are when
outside the tolerance. Std errors are always those of the exact optimum (the inverse
Fisher information there); for a ``gd`` fit the statistics and intervals are centred on the
gradient-descent estimates.
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np
import pandas as pd

from degenet._keras import keras
from degenet.exact.diagnostics import Diagnostics, diagnose, emit
from degenet.errors import ConvergenceWarning, DegenetError
from degenet.model.families import Family
from degenet.exact.inference import coefficient_table, std_errors
from degenet.model.network import regression_weights
from degenet.exact.results import MAX_STD_ERRORS, Regression, assess, fold_dropped
from degenet.exact.solution import Solution
from degenet.exact.solvers import solve
from degenet.train.settings import TrainResult

SOLVERS = ("gd", "exact")


def check_solver(solver: str, spec) -> None:
    """``solver`` must be ``gd`` or ``exact``, and ``exact`` needs a single-layer model."""
    if solver not in SOLVERS:
        raise DegenetError(f"unknown solver {solver!r}; choose 'gd' (gradient descent) or "
                           "'exact' (Newton / least squares, single-layer models)")
    if solver == "exact" and not spec.is_regression:
        raise DegenetError(f"solver='exact' needs a single-layer model; {spec.text!r} has "
                           "hidden layers: use solver='gd'")


def solve_training_rows(family: Family, X: np.ndarray, y: np.ndarray, *, intercept: bool,
                        classes, terms, model: str, sample_weight: np.ndarray | None = None
                        ) -> tuple[Solution, Diagnostics, float]:
    """The exact optimum on the training rows, its diagnostics (emitted), and its seconds."""
    start = time.perf_counter()
    n_classes = len(classes) if family.name == "categorical" else None
    solution = solve(family, X, y, intercept=intercept, n_classes=n_classes,
                     sample_weight=sample_weight)
    seconds = time.perf_counter() - start
    rows = slice(None) if sample_weight is None else np.asarray(sample_weight) > 0
    diagnostics = diagnose(family, solution, X[rows], y[rows], terms, intercept=intercept,
                           classes=classes)
    emit(diagnostics, model, stacklevel=4)
    return solution, diagnostics, seconds


def set_weights(net: keras.Model, beta: np.ndarray, alpha: np.ndarray) -> None:
    """Write beta ``(p, k)`` and alpha ``(k,)`` into the model's ``eta`` layer."""
    layer = net.get_layer("eta")
    if layer.use_bias:
        layer.set_weights([beta.astype(np.float32), alpha.astype(np.float32)])
    else:
        layer.kernel.assign(beta.astype(np.float32))


def exact_training_result(seconds: float) -> TrainResult:
    """A TrainResult for a fit with no gradient descent: no epochs."""
    history = pd.DataFrame({"epoch": np.zeros(0, int), "loss": np.zeros(0),
                            "val_loss": np.zeros(0)})
    return TrainResult(history, 0, False, 0.0, seconds, "exact")


def regression_of(net: keras.Model, family: Family, X: np.ndarray, y: np.ndarray,
                  train_rows: np.ndarray, val_rows: np.ndarray, solution: Solution,
                  diagnostics: Diagnostics, *, solver: str, intercept: bool,
                  model: str, sample_weight: np.ndarray | None = None) -> Regression:
    """Read the model as a regression; for ``gd``, warn when it is off the optimum.

    ``X, y`` are every row of the design (original units); the rows index them.

    Dropped (collinear) columns: their gradient-descent weights are moved onto the columns
    they are made of (same predictions on the training rows) and the model is updated, so
    its weights, estimates and std errors all refer to one parametrization.
    """
    if solver == "exact":
        beta, alpha = solution.beta, solution.alpha
    else:
        beta, alpha = regression_weights(net)
        if solution.dropped:
            beta, alpha = fold_dropped(beta, alpha, solution)
            set_weights(net, beta, alpha)
            beta, alpha = regression_weights(net)
    regression = assess(family, X[train_rows], y[train_rows], beta, alpha, solution,
                        diagnostics, solver=solver, intercept=intercept,
                        sample_weight=None if sample_weight is None else sample_weight[train_rows])
    regression = dataclasses.replace(
        regression, val_loss=mean_loss(family, X[val_rows], y[val_rows], beta, alpha,
                                       None if sample_weight is None else sample_weight[val_rows]))
    if not regression.at_optimum and diagnostics.separation is None:
        warnings.warn(
            f"model {model!r}: gradient descent stopped short of the exact optimum: "
            f"{regression.agreement()}. Tolerance: every coefficient within "
            f"{MAX_STD_ERRORS:g} std error and a likelihood ratio at most the number of "
            "coefficients. Use solver='exact', or train longer (max_epochs, patience).",
            ConvergenceWarning, stacklevel=4)
    return regression


def mean_loss(family: Family, X: np.ndarray, y: np.ndarray, beta: np.ndarray,
              alpha: np.ndarray, weight: np.ndarray | None = None) -> float:
    """The mean loss of weights ``beta, alpha`` on rows ``X, y`` (NaN for no rows)."""
    if len(y) == 0:
        return float("nan")
    eta = np.asarray(X, dtype=np.float64) @ beta + alpha
    loss = family.loss_np(y, eta if family.name == "categorical" else eta[:, 0])
    if weight is not None and weight.sum() == 0:
        return float("nan")  # every validation row has weight zero
    return float(np.average(loss, weights=weight))


def table(regression: Regression | None, frame: pd.DataFrame, family: Family, classes,
          reference, level: float = 0.95) -> pd.DataFrame:
    """The coefficient table: estimates of ``frame`` with std errors, p-values, intervals."""
    if regression is None:  # e.g. a fit loaded from disk: no training data, no covariance
        return coefficient_table(frame, np.full(len(frame), np.nan), t_df=None, level=level,
                                 withhold="no exact solution is stored with this fit")
    solution = regression.solution
    n_classes = len(classes) if family.name == "categorical" else None
    ref = classes.index(reference if reference is not None else classes[0]) if n_classes else 0
    withhold = regression.diagnostics.withhold
    if withhold is None and not solution.converged:
        withhold = "the exact solver did not converge"
    t_df = solution.df_residual if family.scale_estimated else None
    return coefficient_table(frame, std_errors(family, solution, n_classes, ref), t_df=t_df,
                             level=level, withhold=withhold)
