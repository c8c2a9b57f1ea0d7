"""A single-layer fit on a streamed table read as a regression: the same results object.

:func:`read_stream` makes the :class:`~degenet.exact.results.RegressionResults` an
in-memory fit makes, from one streamed pass over every row: on the training rows the loss,
log-likelihood and deviance at the model's weights, at the exact optimum and at the
intercept-only model, and on the validation rows the loss at the weights. These are sums
over rows, all-reduced across processes, except the gaussian log-likelihood, a function of
the total residual sum of squares (sigma^2 at its MLE, RSS / n), asked of the family with
one row standing for all. The per-row target and linear predictor (fitted values and
residuals) are not kept: they would grow with the rows.

:func:`stream_diagnostics` gives the notes an in-memory fit has (collinear columns,
conditioning, variance inflation from ``A'A``, no convergence). Separation needs a linear
program over every row, which a stream cannot hold; but separated classes leave the
likelihood without a maximum, so Newton does not converge, the p-values are withheld, and
the note says why.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from degenet.exact.diagnostics import LARGE_CONDITION, Diagnostics, collinear_note
from degenet.exact.inflation import LARGE_VIF, inflation_note
from degenet.exact.results import Fitted, RegressionResults, _max_std_diff
from degenet.exact.stream import Solved, total
from degenet.model.family import Family

UNSEPARATED = ("the classes may be separated (the likelihood then has no maximum); streamed "
               "data are not checked for it by a linear program")


def stream_diagnostics(family: Family, solved: Solved, terms, intercept: bool) -> Diagnostics:
    """The notes of :func:`degenet.exact.diagnostics.diagnose`, from a streamed solution."""
    solution = solved.solution
    notes = [collinear_note(solution, terms, j) for j in range(len(solution.dropped))]
    if solution.condition_number > LARGE_CONDITION:
        notes.append(
            f"The condition number of the standardized design is {solution.condition_number:.3g} "
            f"(> {LARGE_CONDITION:g}): strong multicollinearity; the estimates are exact for "
            "these data but sensitive to small changes in them.")
    vif = gram_inflation(solved.gram, solution.dropped, len(terms), intercept)
    if np.nanmax(vif, initial=0.0) > LARGE_VIF:
        notes.append(inflation_note(vif, terms))
    if not solution.converged:
        notes.append(f"The exact solver did not converge in {solution.n_iter} iterations"
                     + (f"; {UNSEPARATED}." if family.is_classifier else "."))
    return Diagnostics(separation=None, dropped_terms=tuple(terms[j] for j in solution.dropped),
                       condition_number=solution.condition_number, notes=tuple(notes), vif=vif)


def gram_inflation(G: np.ndarray, dropped, n_features: int, intercept: bool) -> np.ndarray:
    """Each column's variance inflation factor from ``A'A`` of the standardized design
    ``(q, q)`` (every column, the intercept last): ``diag((A'A)^-1) * TSS`` over the kept
    columns, as :func:`degenet.exact.inflation.variance_inflation` computes it."""
    vif = np.full(n_features, np.nan)
    kept = np.setdiff1d(np.arange(n_features), np.asarray(dropped, dtype=np.int64))
    if len(G) == 0 or len(kept) == 0:
        return vif
    index = np.r_[kept, [n_features] if intercept else []].astype(np.int64)
    Gk = G[np.ix_(index, index)]
    try:
        diagonal = np.diag(linalg.inv(Gk))
    except linalg.LinAlgError:
        return vif
    r = len(kept)
    tss = np.diag(Gk)[:r] - (Gk[:r, r] ** 2 / Gk[r, r] if intercept else 0.0)
    vif[kept] = diagonal[:r] * tss
    return vif


def read_stream(fitted: Fitted, each_part, beta: np.ndarray, alpha: np.ndarray,
                solved: Solved, diagnostics: Diagnostics, *, null: np.ndarray, allreduce,
                seconds: float = 0.0) -> RegressionResults:
    """The regression of weights ``beta, alpha`` (see the module's text).

    ``each_part(fn, part)`` applies ``fn`` to the blocks of training (``part=0``) or
    validation (``1``) rows; ``null`` is the intercept-only model's ``eta``, ``(n_outputs,)``.
    """
    family, solution = fitted.family, solved.solution
    p = beta.shape[0]
    models = ((beta, alpha), (solution.beta, solution.alpha))

    def sums(block):
        X, y = block[:, :p].astype(np.float64), block[:, p].astype(np.float64)
        weight = np.ones(len(y))
        out = [len(y)]
        etas = [family.squeeze(X @ b + a) for b, a in models]
        etas.append(family.squeeze(np.tile(null, (len(y), 1))))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for eta in etas:  # loss, log-likelihood, deviance of each model
                out += [weight @ family.loss_np(y, eta), family.log_likelihood(y, eta, weight),
                        family.deviance(y, eta, weight)]
        return np.array(out, dtype=np.float64)

    train = total(lambda fn: each_part(fn, 0), sums, 10, allreduce)
    n = train[0]
    loss, ll, deviance = train[1:4]  # at the weights; then the optimum, then the null
    exact_ll = _log_likelihood(family, train[4], train[5], n)
    null_ll = _log_likelihood(family, train[7], train[8], n)
    ll = _log_likelihood(family, loss, ll, n)

    def validation(block):
        X, y = block[:, :p].astype(np.float64), block[:, p].astype(np.float64)
        return np.array([len(y), family.loss_np(y, family.squeeze(X @ beta + alpha)).sum()])

    val = total(lambda fn: each_part(fn, 1), validation, 2, allreduce)
    max_diff, worst = _max_std_diff(family, beta, alpha, solution, fitted.intercept)
    return RegressionResults(
        fitted=fitted, solution=solution, diagnostics=diagnostics, seconds=seconds,
        beta=beta, alpha=alpha, loss=float(loss / n), max_std_diff=max_diff, worst=worst,
        likelihood_ratio=max(2.0 * (exact_ll - ll), 0.0), log_likelihood=ll,
        null_log_likelihood=null_ll, deviance=float(deviance), null_deviance=float(train[9]),
        n_samples=float(n), val_loss=float(val[1] / val[0]) if val[0] else float("nan"))


def _log_likelihood(family: Family, loss: float, summed: float, n: float) -> float:
    """The log-likelihood from a pass's sums: the sum of the blocks' own, or (a family with
    an estimated dispersion) the family's for one row of the training rows' mean loss."""
    if not family.scale_estimated:
        return float(summed)
    return family.log_likelihood(np.zeros(1), np.full(1, np.sqrt(loss / n)), np.array([n]))
