"""The exact solution in the data's units, and the bookkeeping shared by every solver.

Solvers work on the standardized design ``A`` (:mod:`degenet.exact.design`); this module takes
their answer back to the units of ``X`` (estimates and covariance, through the Jacobian of
the standardization) and finds exactly collinear columns from the triangular factor ``R``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg

from degenet.exact.design import Design


@dataclass(frozen=True)
class Solution:
    """The exact optimum and what inference needs, in the units of ``X``.

    Attributes
    ----------
    beta : ndarray, shape (n_features, n_outputs)
        Categorical: ``n_outputs = n_classes`` and column 0 (the first class) is zero.
    alpha : ndarray, shape (n_outputs,)
    loss : float
        Mean per-sample loss (``Family.loss_np``), weighted by ``sample_weight``.
    n_iter : int
        Newton iterations (least squares: refinement steps + 1).
    converged : bool
    unscaled_covariance : ndarray, shape (n_params, n_params)
        Inverse Fisher information with dispersion 1 (``(X'WX)^-1``), parameters ordered
        output by output (categorical: classes 1.., against class 0), each ``[beta, alpha]``.
        Rows and columns of dropped terms are NaN.
    dispersion : float
        Gaussian: ``RSS / df_residual``; other families: 1.
    n_samples : float
        Rows, or the sum of the sample weights.
    rank : int
        Estimated parameters per output, intercept included.
    df_residual : float
    dropped : tuple of int
        Columns of ``X`` left out as exactly collinear with the others.
    relations : ndarray, shape (n_features + 1, len(dropped))
        ``X[:, dropped[j]] = X @ relations[:-1, j] + relations[-1, j]`` on these rows.
    condition_number : float
        Of the standardized design (2-norm).
    gradient_max : float
        Max abs gradient of the mean loss in standardized units, at the solution.
    method : str
    stopped : str or None
        Why the solver stopped short of the optimum: ``"separation"`` (there is none),
        ``"time cap"``, ``"max_iter"``; None when it converged
        (:mod:`degenet.exact.stopping`).
    logit_spread, logit_gap : float
        Classifiers, over the rows of positive weight at the solution: the largest spread
        of a row's logits (max - min) and the largest lead of a row's likeliest class over
        the next; what the separation checks need, from Newton's last pass (NaN: not
        computed).
    gram : ndarray, shape (n_columns, n_columns), optional
        ``A'WA`` of the design the solver used, ``W`` the sample weights (no curvature):
        standardized kept columns, then the intercept. What the variance inflation factors
        need, kept when the solver formed it in float64 anyway (None: it did not).
    eta : ndarray, shape (n_samples, n_outputs), optional
        The linear predictor at the solution on the rows solved, offset included, in
        float64: kept by Newton, whose last pass computed it (None: not kept).
    """

    beta: np.ndarray
    alpha: np.ndarray
    loss: float
    n_iter: int
    converged: bool
    unscaled_covariance: np.ndarray
    dispersion: float
    n_samples: float
    rank: int
    df_residual: float
    dropped: tuple
    relations: np.ndarray
    condition_number: float
    gradient_max: float
    method: str
    stopped: str | None = None
    logit_spread: float = float("nan")
    logit_gap: float = float("nan")
    gram: np.ndarray | None = field(default=None, repr=False, compare=False)
    eta: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def covariance(self) -> np.ndarray:
        """``dispersion * unscaled_covariance``: the covariance of the estimates."""
        return self.dispersion * self.unscaled_covariance


def find_collinear(R: np.ndarray, n_samples: int, *, keep_last: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, float]:
    """Kept and dropped columns of ``A`` from its triangular factor ``R``, and ``cond(A)``.

    As R's ``lm``: columns are taken in order (``keep_last``, the intercept, first) and
    one is dropped when its distance to the span of those before it is at most
    ``max(n, q) * eps`` of its norm (numpy's ``matrix_rank`` tolerance, here per column).
    Exact collinearity leaves ~1e-16; a degree-10 polynomial on [-9, -3] still ~1e-7.
    So the later of two collinear columns goes, whatever their scale.

    One QR of ``R`` with its columns in that order gives every distance at once: the
    ``j``-th diagonal entry of its triangular factor is column ``j``'s distance to the span
    of the columns before it, and the columns dropped before it lie in the span of those
    kept, so it is also its distance to the kept ones (Golub & Van Loan, 5.4.1). A
    categorical column of 1,000 levels (many absent from the training rows: all-zero
    columns) is one ``q x q`` factorization, not one per column (104 s of 109 s before).
    """
    q = R.shape[1]
    s = linalg.svdvals(R)
    condition = float(s[0] / s[-1]) if s[-1] > 0 else np.inf
    if s[-1] > 1e-8 * s[0]:
        return np.arange(q), np.arange(0), condition
    tolerance = max(n_samples, q) * np.finfo(float).eps
    order = np.r_[q - 1, np.arange(q - 1)] if keep_last else np.arange(q)
    norms = np.linalg.norm(R, axis=0)[order]
    distance = np.abs(np.diag(linalg.qr(R[:, order], mode="r")[0]))
    kept = (norms > 0) & (distance > tolerance * norms)
    return np.sort(order[kept]), np.sort(order[~kept]), condition


def relations_of(design: Design, R: np.ndarray, kept, dropped, n_features: int) -> np.ndarray:
    """Each dropped column as a combination of the kept ones and 1, in the data's units."""
    coef = linalg.lstsq(R[:, kept], R[:, dropped])[0]  # z_dropped = A_kept @ coef
    relations = np.zeros((n_features + 1, len(dropped)))
    r = len(design.keep)
    kept_features = [c for c in kept if c < r]
    for j, column in enumerate(dropped):
        m_d, s_d = design.mean[column], design.scale[column]
        c = coef[:len(kept_features), j]
        relations[design.keep[kept_features], j] = s_d * c / design.scale[kept_features]
        constant = coef[-1, j] if design.intercept else 0.0
        relations[-1, j] = m_d + s_d * (constant - c @ (design.mean[kept_features]
                                                        / design.scale[kept_features]))
    return relations


def estimates_to_original(design: Design, theta: np.ndarray, n_features: int,
                          pinned: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """beta ``(p, n_outputs)`` and alpha from ``theta`` ``(q, k)`` on the design's columns.

    ``n_outputs = k + pinned``: the first ``pinned`` outputs (the categorical reference
    class) are zero.
    """
    u = design.jacobian() @ theta
    k, r, offset = theta.shape[1], len(design.keep), pinned
    beta = np.zeros((n_features, k + offset))
    alpha = np.zeros(k + offset)
    beta[design.keep, offset:] = u[:r]
    if design.intercept:
        alpha[offset:] = u[r]
    return beta, alpha


def covariance_to_original(design: Design, covariance: np.ndarray, n_features: int
                           ) -> np.ndarray:
    """The covariance ``(q k, q k)`` of ``theta`` as ``T C T'`` in the data's units.

    Returns ``(k (p + 1), k (p + 1))`` (``p`` without intercept), NaN for dropped terms.
    """
    T = design.jacobian()
    q = design.n_columns
    k = covariance.shape[0] // q
    big = np.kron(np.eye(k), T)
    kept = big @ covariance @ big.T
    width = n_features + int(design.intercept)
    positions = np.concatenate([design.keep, [n_features]])[:q]
    index = (np.arange(k)[:, None] * width + positions[None, :]).ravel()
    full = np.full((k * width, k * width), np.nan)
    full[np.ix_(index, index)] = kept
    return full
