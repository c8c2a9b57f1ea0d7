"""Variance inflation factors: how much collinearity inflates each coefficient's variance.

``VIF_j = 1 / (1 - R_j^2)``, with ``R_j^2`` from regressing column ``j`` on the other
columns of the design (and the intercept, if the model has one: then ``R^2`` is centred,
else uncentred), as statsmodels' ``variance_inflation_factor`` computes it. It depends on
the design alone, whatever the family. In terms of the Gram matrix ``G = A'WA`` of the
design's columns ``A``: ``VIF_j = (G^-1)_jj * TSS_j``, ``TSS_j`` the (centred) sum of
squares of column ``j`` (Belsley, Kuh & Welsch 1980, 3.1). Weights count as frequencies.

Above 10, the customary threshold (Kutner et al., *Applied Linear Statistical Models*,
10.5), a note names the terms. longley's largest is 1789, while the condition number of its
standardized design is only 110 (below the 1e3 that draws a note): the two measure different
things, and the note should not wait for the condition number.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from degenet.exact.blockpass import PASS_ROWS
from degenet.exact.design import Design, r_factor
from degenet.exact.gram import gram
from degenet.exact.linalg import spd_solve
from degenet.exact.solution import Solution

LARGE_VIF = 10.0
# cond(A) of the standardized design at most this: G^-1 by Cholesky keeps ~10 digits;
# beyond it, from the QR factor (one more pass).
CHOLESKY_MAX_CONDITION = 1e3


def variance_inflation(X: np.ndarray, solution: Solution, *, intercept: bool,
                       weight: np.ndarray | None = None) -> np.ndarray:
    """Each column's VIF, shape ``(n_features,)``; NaN for the dropped (collinear) ones.

    ``X`` is ``(n_samples, n_features)``; ``weight`` ``(n_samples,)``, frequencies.
    """
    p = X.shape[1]
    vif = np.full(p, np.nan)
    kept = np.setdiff1d(np.arange(p), np.asarray(solution.dropped, dtype=np.int64))
    if len(kept) == 0 or len(X) == 0:
        return vif
    weight = np.ones(len(X)) if weight is None else np.asarray(weight, dtype=np.float64)
    r = len(kept)
    G = solution.gram  # the solver's, when it formed the design's Gram matrix in float64
    if G is None or G.shape != (r + int(intercept),) * 2:
        G, _ = gram(_design(X, kept, intercept), weight)
    if solution.condition_number <= CHOLESKY_MAX_CONDITION:
        diagonal = np.diag(spd_solve(G, np.eye(len(G)))[0])
    else:
        R = r_factor(_design(X, kept, intercept), weight)
        pivots = np.abs(np.diag(R))
        if pivots.min() <= 1e-13 * pivots.max():
            return vif  # collinear on these rows (fewer rows than columns): undefined
        R_inverse = linalg.solve_triangular(R, np.eye(len(G)))
        diagonal = np.einsum("ij,ij->i", R_inverse, R_inverse)
    tss = np.diag(G)[:r]
    if intercept:
        tss = tss - G[:r, r] ** 2 / G[r, r]
    vif[kept] = diagonal[:r] * tss
    return vif


def _design(X: np.ndarray, kept: np.ndarray, intercept: bool) -> Design:
    """The design of the ``kept`` columns, standardized by the first rows' statistics.

    VIF does not change when the columns are shifted (the sums of squares are centred
    exactly) or scaled, so no pass is spent on the exact means and scales (``open_design``
    centres its first pass the same way).
    """
    p = X.shape[1]
    first = np.asarray(X[:min(len(X), PASS_ROWS)], dtype=np.float64)
    center = first.mean(axis=0) if intercept else np.zeros(p)
    spread = np.sqrt(np.mean((first - center) ** 2, axis=0))
    scale = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
    return Design(X, np.where(np.isfinite(center), center, 0.0), scale, kept, intercept)


def inflation_note(vif: np.ndarray, terms, most: int = 5) -> str:
    """The note naming the terms whose VIF exceeds :data:`LARGE_VIF`, largest first."""
    large = [j for j in np.argsort(-np.nan_to_num(vif, nan=-1.0)) if vif[j] > LARGE_VIF]
    listed = ", ".join(f"{terms[j]!r} {vif[j]:.4g}" for j in large[:most])
    more = f" and {len(large) - most} more" if len(large) > most else ""
    return (f"Variance inflation factors above {LARGE_VIF:g}: {listed}{more}. Collinearity "
            "makes each of these coefficients' variance that many times what uncorrelated "
            "predictors would give; the estimates are exact for these data but imprecise.")
