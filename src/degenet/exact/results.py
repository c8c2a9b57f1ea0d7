"""A single-layer fit read as a regression: its distance to the exact optimum, and its fit.

Gradient descent stops early and on a validation loss, so its weights are near, not at,
the optimum of the training loss. :func:`assess` measures how near, on the same training
rows and the same loss, in two ways a statistician can read:

* the largest difference of a coefficient from the exact one, in units of that
  coefficient's std error (categorical: against the first class);
* the likelihood-ratio statistic of the model's weights against the optimum,
  ``2 (log L(optimum) - log L(weights))`` (gaussian: ``n log(RSS / RSS_min)``).

The tolerance (:data:`MAX_STD_ERRORS`, :func:`Regression.at_optimum`): every coefficient
within 1 std error of the exact one, and a likelihood ratio at most the number of
coefficients, its expected value under sampling noise alone (chi-square with that many
degrees of freedom). Inside it the gap is smaller than the uncertainty the std errors
already report; outside it a :class:`~degenet.errors.ConvergenceWarning` gives both figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from degenet.exact.diagnostics import Diagnostics
from degenet.model.families import Family
from degenet.exact.solution import Solution

MAX_STD_ERRORS = 1.0


@dataclass(frozen=True)
class Regression:
    """The exact optimum beside the model's weights, with the fit's figures.

    Attributes
    ----------
    solution : Solution
        The exact optimum on the training rows (and the covariance, in the data's units).
    diagnostics : Diagnostics
    solver : str
        ``"gd"`` (weights from gradient descent) or ``"exact"`` (weights = the solution).
    beta, alpha : ndarray
        The weights the estimates are read from, ``(n_features, n_outputs)`` and
        ``(n_outputs,)``: the model's (gd), or the float64 solution (exact).
    loss : float
        Mean training loss at those weights.
    max_std_diff : float
        Largest ``|estimate - exact| / std_error`` (NaN when no std error is finite).
    worst : int
        Position of that coefficient in the solution's parameter order.
    likelihood_ratio : float
    log_likelihood, null_log_likelihood, deviance, null_deviance : float
        At the weights, and for the intercept-only model (no intercept: ``eta = 0``).
    n_samples : float
    val_loss : float
        Mean validation loss at the weights (NaN when there are no validation rows).
    """

    solution: Solution
    diagnostics: Diagnostics
    solver: str
    beta: np.ndarray
    alpha: np.ndarray
    loss: float
    max_std_diff: float
    worst: int
    likelihood_ratio: float
    log_likelihood: float
    null_log_likelihood: float
    deviance: float
    null_deviance: float
    n_samples: float
    val_loss: float = float("nan")

    @property
    def loss_gap(self) -> float:
        """Training loss at the weights minus the exact optimum's."""
        return self.loss - self.solution.loss

    @property
    def loss_gap_relative(self) -> float:
        return self.loss_gap / max(abs(self.solution.loss), np.finfo(float).tiny)

    @property
    def n_params(self) -> int:
        return int(np.isfinite(np.diag(self.solution.unscaled_covariance)).sum())

    @property
    def at_optimum(self) -> bool:
        """Within the tolerance of the module's text (always True for exact fits)."""
        if self.solver == "exact":
            return True
        within = not (self.max_std_diff > MAX_STD_ERRORS)  # NaN: nothing to compare
        return within and self.likelihood_ratio <= self.n_params

    def agreement(self) -> str:
        """One line with the figures, for warnings and the summary."""
        return (f"training loss {self.loss:.8g} vs exact optimum {self.solution.loss:.8g} "
                f"(gap {self.loss_gap:.3g}, relative {self.loss_gap_relative:.3g}; "
                f"likelihood ratio {self.likelihood_ratio:.3g} for {self.n_params} "
                f"coefficients); largest coefficient difference {self.max_std_diff:.3g} "
                "std errors")


def fold_dropped(beta: np.ndarray, alpha: np.ndarray, solution: Solution
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Weights with each dropped column's weight moved onto the columns it is made of.

    ``x_d = X r + r_0`` on the training rows, so ``w_d x_d = (w_d r)' x + w_d r_0``: the
    same predictions there, and ``w_d = 0`` as in the exact solution.
    """
    beta, alpha = beta.astype(np.float64).copy(), alpha.astype(np.float64).copy()
    for j, column in enumerate(solution.dropped):
        weight = beta[column].copy()
        beta[column] = 0.0
        beta += np.outer(solution.relations[:-1, j], weight)
        alpha += solution.relations[-1, j] * weight
    return beta, alpha


def assess(family: Family, X: np.ndarray, y: np.ndarray, beta: np.ndarray,
           alpha: np.ndarray, solution: Solution, diagnostics: Diagnostics, *, solver: str,
           intercept: bool = True, sample_weight: np.ndarray | None = None) -> Regression:
    """Compare the weights ``beta, alpha`` with the exact ``solution`` on rows ``X, y``.

    ``sample_weight`` (as given to the solver) weights every figure, as frequencies.
    """
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    eta = np.asarray(X, dtype=np.float64) @ beta + alpha
    eta = eta if family.name == "categorical" else eta[:, 0]
    loss = float(np.average(family.loss_np(y, eta), weights=weight))
    log_likelihood = family.log_likelihood(y, eta, weight)
    exact_eta = np.asarray(X, dtype=np.float64) @ solution.beta + solution.alpha
    exact_eta = exact_eta if family.name == "categorical" else exact_eta[:, 0]
    exact_ll = family.log_likelihood(y, exact_eta, weight)
    null = (family.optimal_constant(y, weight, solution.alpha.shape[0]) if intercept
            else np.zeros(solution.alpha.shape[0]))
    null_eta = np.tile(null, (len(y), 1))
    null_eta = null_eta if family.name == "categorical" else null_eta[:, 0]
    max_diff, worst = _max_std_diff(family, beta, alpha, solution, intercept)
    return Regression(
        solution, diagnostics, solver, beta, alpha, loss, max_diff, worst,
        max(2.0 * (exact_ll - log_likelihood), 0.0), log_likelihood,
        family.log_likelihood(y, null_eta, weight), family.deviance(y, eta, weight),
        family.deviance(y, null_eta, weight), float(weight.sum()))


def _max_std_diff(family, beta, alpha, solution, intercept):
    """``max |estimate - exact| / std_error`` in the solver's parameter order."""
    def stacked(b, a):
        values = np.vstack([b, a[None, :]]) if intercept else b
        if family.name == "categorical":  # against class 0, as the solver's parameters
            values = (values - values[:, [0]])[:, 1:]
        return values.ravel(order="F")

    std_error = np.sqrt(np.diag(solution.covariance))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.abs(stacked(beta, alpha) - stacked(solution.beta, solution.alpha)) / std_error
    finite = np.isfinite(ratio)
    if not finite.any():
        return float("nan"), -1
    worst = int(np.argmax(np.where(finite, ratio, -1.0)))
    return float(ratio[worst]), worst
