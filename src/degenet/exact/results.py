"""A single-layer fit read as a regression: one results object, as statsmodels' GLMResults.

:class:`RegressionResults` holds everything that reading a single-layer model as a
regression gives: the exact optimum and its covariance (:class:`~degenet.exact.solution.
Solution`), the diagnostics, the weights the estimates are read from, the fit's figures,
the coefficient table, the summary and the JSON form.

Gradient descent stops early and on a validation loss, so its weights are near, not at,
the optimum of the training loss. :func:`read_regression` measures how near, on the same
training rows and the same loss, in two ways a statistician can read:

* the largest difference of a coefficient from the exact one, in units of that
  coefficient's std error (contrasts: against the first class);
* the likelihood-ratio statistic of the model's weights against the optimum,
  ``2 (log L(optimum) - log L(weights))`` (gaussian: ``n log(RSS / RSS_min)``).

The tolerance (:data:`MAX_STD_ERRORS`, :attr:`RegressionResults.at_optimum`): every
coefficient within 1 std error of the exact one, and a likelihood ratio at most the number
of coefficients, its expected value under sampling noise alone (chi-square with that many
degrees of freedom). Inside it the gap is smaller than the uncertainty the std errors
already report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet.exact.diagnostics import Diagnostics
from degenet.exact.inference import coefficient_frame, coefficient_table, std_errors
from degenet.exact.readings import StatsmodelsNames
from degenet.exact.robust import Covariance, robust_covariance
from degenet.exact.rows import linear_predictor
from degenet.exact.solution import Solution
from degenet.exact.stopping import TIME
from degenet.exact.summary import Summary
from degenet.jsonvalues import number, plain, records
from degenet.model.family import Family

MAX_STD_ERRORS = 1.0


@dataclass(frozen=True)
class Fitted:
    """What was fitted, as the results' header names it.

    Attributes
    ----------
    model : str
        The model spec (``linear``, ``logistic``, ...).
    target : str
    family : Family
    terms : tuple of str
    classes : tuple or None
    reference : optional
        The reference class of a fit read in contrasts (default the first class).
    intercept : bool
    solver : str
        ``"gd"`` (weights from gradient descent) or ``"exact"`` (weights = the optimum).
    optimizer : str or None
        Gradient descent's optimizer.
    epochs : int
        Gradient descent's epochs (0 for ``exact``).
    """

    model: str
    target: str
    family: Family
    terms: tuple
    classes: tuple | None
    reference: object
    intercept: bool
    solver: str
    optimizer: str | None = None
    epochs: int = 0


@dataclass(frozen=True)
class RegressionResults(StatsmodelsNames):
    """A single-layer fit read as a regression (statsmodels' names too: ``params``, ``bse``,
    ``pvalues``, ``conf_int()``, ``llf``, ``fittedvalues``, ...; see
    :mod:`degenet.exact.readings`).

    Attributes
    ----------
    fitted : Fitted
    solution : Solution
        The exact optimum on the training rows (and the covariance, in the data's units).
    diagnostics : Diagnostics
    seconds : float
        Time of the exact solve.
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
    cov : Covariance
        The covariance inference uses (``cov_type``: model-based, robust or clustered).
    y, eta : ndarray
        The training rows' target ``(n,)`` and linear predictor at the weights (``(n,)``,
        ``(n, n_classes)`` for classes), for fitted values and residuals.
    offset : ndarray or None
        The training rows' offset, ``(n,)``.
    """

    fitted: Fitted
    solution: Solution
    diagnostics: Diagnostics
    seconds: float
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
    cov: Covariance = Covariance()
    y: np.ndarray | None = None
    eta: np.ndarray | None = None
    offset: np.ndarray | None = None

    @property
    def solver(self) -> str:
        return self.fitted.solver

    @property
    def cov_type(self) -> str:
        """``nonrobust``, ``HC0``-``HC3`` or ``cluster``: what the std errors are."""
        return self.cov.cov_type

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

    @property
    def withheld(self) -> str | None:
        """Why p-values and intervals are withheld (separation, no convergence), or None."""
        if self.diagnostics.withhold is not None:
            return self.diagnostics.withhold
        if self.solution.stopped == TIME:
            return ("the exact solver stopped at its time cap before converging (use "
                    "solver='exact', which has none)")
        return None if self.solution.converged else "the exact solver did not converge"

    def agreement(self) -> str:
        """One line with the figures, for warnings and the summary."""
        return (f"training loss {self.loss:.8g} vs exact optimum {self.solution.loss:.8g} "
                f"(gap {self.loss_gap:.3g}, relative {self.loss_gap_relative:.3g}; "
                f"likelihood ratio {self.likelihood_ratio:.3g} for {self.n_params} "
                f"coefficients); largest coefficient difference {self.max_std_diff:.3g} "
                "std errors")

    def estimates(self, exact: bool = False) -> pd.DataFrame:
        """The estimates as a one-column frame (``estimate``) indexed like the table; the
        exact optimum's when ``exact``."""
        f = self.fitted
        beta, alpha = ((self.solution.beta, self.solution.alpha) if exact
                       else (self.beta, self.alpha))
        return coefficient_frame(beta, alpha, f.terms, f.family, f.classes, f.reference,
                                 f.intercept)

    def coefficient_table(self, level: float = 0.95) -> pd.DataFrame:
        """The exact optimum's estimates with std errors, statistics, p-values and
        intervals at ``level``; for gradient descent, its weights beside them.

        Std errors come from the inverse Fisher information at the exact optimum on the
        training rows, and statistics and intervals are centred on the optimum: never on
        weights that are not at it. A ``gd`` fit adds ``gd_estimate`` (the network's own
        weights) and ``gd_std_diff`` (``(gd_estimate - estimate) / std_error``). p-values and
        intervals are NaN when they cannot be trusted: ``table.attrs["withheld"]`` says why.
        """
        f = self.fitted
        n_classes = len(f.classes) if f.family.contrasts else None
        reference = (f.classes.index(f.reference if f.reference is not None else f.classes[0])
                     if n_classes else 0)
        table = coefficient_table(
            self.estimates(exact=True),
            std_errors(f.family, self.cov.of(self.solution), n_classes, reference),
            t_df=self.cov.t_df(f.family, self.solution), level=level, withhold=self.withheld)
        if f.solver == "gd":
            table["gd_estimate"] = self.estimates()["estimate"]
            with np.errstate(invalid="ignore", divide="ignore"):
                table["gd_std_diff"] = ((table["gd_estimate"] - table["estimate"])
                                        / table["std_error"])
        return table

    def header(self) -> list[tuple[str, str]]:
        """``(label, value)`` pairs of the summary's header.

        The log-likelihood is the full one, constants included: gaussian with ``sigma^2``
        at its MLE ``RSS / n``, poisson with ``log(y!)``. AIC ``= -2 log L + 2 k`` and BIC
        ``= -2 log L + k log n`` count the ``k`` coefficients (not the gaussian variance, as
        statsmodels' OLS). R-squared (gaussian) is ``1 - RSS / TSS`` (TSS about the mean,
        or about 0 without an intercept); the others report McFadden's pseudo R-squared
        ``1 - log L / log L_null``.
        """
        f, solution = self.fitted, self.solution
        k, n, ll = self.n_params, self.n_samples, self.log_likelihood
        outputs = f.family.n_free(solution.alpha.shape[0])
        df_model = k - outputs * int(f.intercept)
        if f.family.scale_estimated:
            fit_label, fit_value = "R-squared", 1.0 - self.deviance / self.null_deviance
        else:
            fit_label = "Pseudo R-sq. (McFadden)"
            fit_value = 1.0 - ll / self.null_log_likelihood
        exact = f.solver == "exact"
        solver = f"exact, {solution.method}" if exact else f"gd ({f.optimizer})"
        converged = solution.converged if exact else self.at_optimum
        converged = ("no (separation)" if self.diagnostics.separation is not None
                     else "not known (time cap)" if solution.stopped == TIME
                     else "yes" if converged else "NO")
        return [
            ("Model", f.model), ("Family", f.family.name), ("Link", f.family.link),
            ("Target", f.target), ("No. observations", f"{n:.0f}"),
            ("Df model", f"{df_model:.0f}"), ("Df residuals", f"{solution.df_residual:.0f}"),
            ("Log-likelihood", f"{ll:.6g}"), ("Deviance", f"{self.deviance:.6g}"),
            ("AIC", f"{-2 * ll + 2 * k:.6g}"), ("BIC", f"{-2 * ll + k * np.log(n):.6g}"),
            (fit_label, f"{fit_value:.4f}"), ("Solver", solver),
            ("Iterations" if exact else "Epochs", str(solution.n_iter if exact else f.epochs)),
            ("Converged" if exact else "At exact optimum", converged),
            ("Covariance type", self.cov_type),
        ]

    def notes(self) -> list[str]:
        """The summary's notes: where std errors come from, agreement, diagnostics."""
        f, solution = self.fitted, self.solution
        t_df = self.cov.t_df(f.family, solution)
        sigma = (f", with sigma^2 = RSS / {solution.df_residual:.0f}"
                 if f.family.scale_estimated and self.cov_type == "nonrobust" else "")
        out = [(f"Std errors {self.cov.note()} on the training rows{sigma} "
                + (f"(t statistics, {t_df:.0f} df)." if t_df is not None else "(z statistics)."))]
        if f.family.contrasts:
            reference = f.reference if f.reference is not None else f.classes[0]
            out.append(f"Coefficients of each class against the reference class {reference!r}.")
        if f.solver == "gd" and solution.stopped != TIME:
            verdict = "within" if self.at_optimum else "NOT within"
            out.append("The table is the exact optimum's; gd_estimate is the network's own "
                       f"weights. Gradient descent vs exact optimum: {self.agreement()}; "
                       f"{verdict} tolerance ({MAX_STD_ERRORS:g} std error).")
        out.extend(self.diagnostics.notes)
        withheld = self.withheld
        if withheld and not any(withheld in note for note in out):
            out.append(f"p-values and intervals withheld: {withheld}.")
        return out

    def summary(self, level: float = 0.95) -> Summary:
        """A statsmodels-like summary: header, coefficient table, notes; prints as text,
        renders as tables in a notebook."""
        f = self.fitted
        return Summary(f"degenet regression results: {f.model} ({f.family.name})",
                            self.header(), self.coefficient_table(level), self.notes())

    def table_records(self, level: float = 0.95) -> list[dict]:
        """The coefficient table as JSON records (NaN as None), ``class`` for contrasts."""
        return records(self.coefficient_table(level).reset_index())

    def to_dict(self) -> dict:
        """The exact optimum beside the fit's weights, as JSON."""
        frame = self.estimates(exact=True)["estimate"]
        if isinstance(frame.index, pd.MultiIndex):
            coefficients = {str(label): {str(t): float(v) for t, v in frame.loc[label].items()}
                            for label in frame.index.get_level_values(0).unique()}
        else:
            coefficients = {str(term): float(value) for term, value in frame.items()}
        solution = self.solution
        return {"coefficients": coefficients, "method": solution.method,
                "converged": bool(solution.converged), "iterations": int(solution.n_iter),
                "loss": number(solution.loss), "loss_gap": number(self.loss_gap),
                "loss_gap_relative": number(self.loss_gap_relative),
                "likelihood_ratio": number(self.likelihood_ratio),
                "max_std_diff": number(self.max_std_diff),
                "at_optimum": bool(self.at_optimum),
                "condition_number": number(solution.condition_number),
                **self.cov.to_dict(),
                "vif": (None if self.diagnostics.vif is None else
                        {str(t): number(v) for t, v in zip(self.fitted.terms,
                                                           self.diagnostics.vif)}),
                "dropped": [plain(term) for term in self.diagnostics.dropped_terms],
                "notes": list(self.diagnostics.notes)}


def read_regression(fitted: Fitted, X: np.ndarray, y: np.ndarray, beta: np.ndarray,
                    alpha: np.ndarray, solution: Solution, diagnostics: Diagnostics, *,
                    seconds: float = 0.0, sample_weight: np.ndarray | None = None,
                    val_loss: float = float("nan"), offset: np.ndarray | None = None,
                    cov_type: str = "nonrobust", groups: np.ndarray | None = None,
                    groups_name: str | None = None) -> RegressionResults:
    """Read the weights ``beta, alpha`` as a regression on training rows ``X, y``, beside the
    exact ``solution``. ``sample_weight`` (as given to the solver) weights every figure, as
    frequencies; ``offset`` ``(n,)`` is added to the linear predictor; ``cov_type`` (with
    ``groups``, cluster codes of the rows) chooses the covariance of the inference."""
    family = fitted.family
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    shift = 0.0 if offset is None else offset[:, None]
    same = np.array_equal(beta, solution.beta) and np.array_equal(alpha, solution.alpha)
    kept = solution.eta is not None and len(solution.eta) == len(y)  # from the solver's pass
    exact_eta = family.squeeze(solution.eta if kept else linear_predictor(
        X, solution.beta, solution.alpha) + shift)
    eta = exact_eta if same else family.squeeze(linear_predictor(X, beta, alpha) + shift)
    loss, log_likelihood, deviance = family.fit_figures(y, eta, weight)
    exact_ll = log_likelihood if same else family.log_likelihood(y, exact_eta, weight)
    null = (np.zeros(solution.alpha.shape[0]) if not fitted.intercept
            else family.optimal_constant(y, weight, solution.alpha.shape[0]) if offset is None
            else family.offset_constant(y, weight, offset))
    null_eta = np.tile(null, (len(y), 1))
    if offset is not None:
        null_eta += shift
    null_eta = family.squeeze(null_eta)
    _, null_log_likelihood, null_deviance = family.fit_figures(y, null_eta, weight)
    max_diff, worst = _max_std_diff(family, beta, alpha, solution, fitted.intercept)
    return RegressionResults(
        fitted=fitted, solution=solution, diagnostics=diagnostics, seconds=seconds,
        beta=beta, alpha=alpha, loss=loss, max_std_diff=max_diff, worst=worst,
        likelihood_ratio=max(2.0 * (exact_ll - log_likelihood), 0.0),
        log_likelihood=log_likelihood, null_log_likelihood=null_log_likelihood,
        deviance=deviance, null_deviance=null_deviance,
        n_samples=float(weight.sum()), val_loss=val_loss,
        cov=robust_covariance(family, solution, X, y, cov_type=cov_type,
                              intercept=fitted.intercept, weight=sample_weight, offset=offset,
                              groups=groups, groups_name=groups_name),
        y=np.asarray(y, dtype=np.float64), eta=eta, offset=offset)


def mean_loss(family: Family, X: np.ndarray, y: np.ndarray, beta: np.ndarray,
              alpha: np.ndarray, weight: np.ndarray | None = None,
              offset: np.ndarray | None = None) -> float:
    """The mean loss of weights ``beta, alpha`` on rows ``X, y`` (NaN for no rows)."""
    if len(y) == 0 or weight is not None and weight.sum() == 0:
        return float("nan")  # no rows, or every validation row has weight zero
    eta = linear_predictor(X, beta, alpha)
    eta = family.squeeze(eta if offset is None else eta + offset[:, None])
    return float(np.average(family.loss_np(y, eta), weights=weight))


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


def _max_std_diff(family, beta, alpha, solution, intercept):
    """``max |estimate - exact| / std_error`` in the solver's parameter order."""
    def stacked(b, a):
        values = np.vstack([b, a[None, :]]) if intercept else b
        if family.contrasts:  # against class 0, as the solver's parameters
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
