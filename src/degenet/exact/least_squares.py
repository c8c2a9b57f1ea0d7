"""Least squares for the gaussian family, accurate on ill-conditioned designs.

The normal equations square the condition number: on a degree-10 polynomial they lose
every digit. Householder QR of the standardized design loses only ``cond(A) * eps``
(Golub & Van Loan 5.3.8), so that is the method whenever ``A'A`` is not comfortably
conditioned. On a large, well-conditioned design the normal equations followed by
iterative refinement (Golub & Van Loan 5.3.7: each step costs a pass for the residual)
reach the same accuracy in half the flops; on a very well-conditioned one (cond(A'A) <= 100)
the normal equations alone already do, and the solution takes a single pass over ``X``.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from degenet.exact.blockpass import row_pass
from degenet.exact.design import Design, r_factor
from degenet.exact.linalg import equilibrated_condition
from degenet.exact.gram import gram, with_intercept
from degenet.exact.solution import (Solution, covariance_to_original, estimates_to_original,
                              find_collinear, relations_of)

# cond(A'A) at most this (cond(A) <= 1e3): the normal equations' error, ~cond(A'A) * eps,
# is below 1e-10 and refinement removes it; beyond it, QR.
CHOLESKY_MAX_CONDITION = 1e6
# cond(A'A) at most this: the normal equations alone are accurate to ~1e-13, no refinement.
NO_REFINE_MAX_CONDITION = 1e2
# cond(A) above this on a single block of unweighted rows: refine in extended precision.
REFINE_MIN_CONDITION = 1e4
# The QR solution's error bound above this (see _needs_refinement): refine as well.
REFINE_MIN_ERROR = 1e-12
# n * q^2 at most this: refinement costs little (~25 ms at 2,000 x 11), so it is always done:
# the bound is norm-wise, and a small coefficient next to large ones can lose more (NIST's
# Wampler1, an exact fit: 9.9 digits unrefined, 14.8 refined).
REFINE_ALWAYS_WORK = 250_000


def least_squares(design: Design, y: np.ndarray, weight: np.ndarray,
                  first: tuple[np.ndarray, np.ndarray] | None = None):
    """The gaussian :class:`~degenet.exact.solution.Solution` of ``min sum w (y - A theta)^2``.

    ``first``: ``(A'WA, A'Wy)`` from the pass that opened the design
    (:func:`~degenet.exact.design.open_design`), for designs of more than ``block_rows`` rows.
    """
    if design.n_samples > design.block_rows:
        G, b = first if first is not None else gram(design, weight, y[:, None])
        condition2 = equilibrated_condition(G)
        if condition2 <= CHOLESKY_MAX_CONDITION:
            return _normal_equations(design, y, weight, G, b, condition2)
    design = design.uncentered()
    R = r_factor(design, weight, y[:, None])
    return _qr(design, y, weight, R)


def _qr(design, y, weight, R_aug):
    q = design.n_columns
    kept, dropped, condition = find_collinear(R_aug[:q, :q], design.n_samples,
                                               keep_last=design.intercept)
    relations = np.zeros((design.X.shape[1] + 1, 0))
    names = ()
    if len(dropped):
        relations = relations_of(design, R_aug[:q, :q], kept, dropped, design.X.shape[1])
        names = tuple(int(design.keep[c]) for c in dropped)
        # [A_kept, y] = Q R_aug[:, kept + y]: refactor that small matrix, no new pass.
        R_aug = linalg.qr(R_aug[:, list(kept) + [q]], mode="r")[0]
        design, q = design.restrict(kept), len(kept)
    refine = (design.n_samples * q * q <= REFINE_ALWAYS_WORK
              or _needs_refinement(R_aug, q, y, weight))
    if design.intercept:  # report the condition of the standardized (centred) design
        condition = float(np.linalg.cond(R_aug[:q, :q] @ design.centering_map()))
    refine = refine or condition > REFINE_MIN_CONDITION
    if refine and design.n_samples <= design.block_rows and np.all(weight == 1.0):
        theta, covariance, rss, steps = _refined(design, y)
        return _solution(design, theta, covariance, rss, weight, n_iter=steps + 1,
                         method="qr-refined", condition=condition, dropped=names,
                         relations=relations)
    R, c = R_aug[:q, :q], R_aug[:q, q]
    rss = float(R_aug[q, q] ** 2) if R_aug.shape[0] > q else 0.0
    theta = linalg.solve_triangular(R, c)[:, None]
    R_inverse = linalg.solve_triangular(R, np.eye(q))
    return _solution(design, theta, R_inverse @ R_inverse.T, rss, weight, n_iter=1, method="qr",
                     condition=condition, dropped=names, relations=relations)


def _needs_refinement(R_aug, q, y, weight) -> bool:
    """Whether QR's least-squares solution may be off by more than :data:`REFINE_MIN_ERROR`.

    The forward error of Householder QR's solution is about
    ``eps * kappa * (1 + kappa * |r| / |A x|)`` (Wedin's bound; Higham, *Accuracy and
    Stability*, 20.1): with large residuals the condition number counts squared. NIST's
    Wampler5 (kappa 1.6e3, residuals 7x the fit) loses 10 digits to it without refinement.
    """
    s = linalg.svdvals(R_aug[:q, :q])
    kappa = float(s[0] / s[-1]) if s[-1] > 0 else np.inf
    rss = float(R_aug[q, q] ** 2) if R_aug.shape[0] > q else 0.0
    fitted = max(float(weight @ y**2) - rss, np.finfo(float).tiny)
    bound = np.finfo(float).eps * kappa * (1.0 + kappa * np.sqrt(rss / fitted))
    return bool(bound > REFINE_MIN_ERROR)


def _refined(design, y, steps: int = 3):
    """QR least squares and ``(A'A)^-1``, refined with residuals in extended precision.

    Iterative refinement of the augmented system ``[I A; A' 0] [r; x] = [b; c]``
    (Björck 1967, "Iterative refinement of linear least squares solutions I"; Higham,
    *Accuracy and Stability*, 20.5): each step computes the residuals in long double
    against the exact ``A`` (power-of-two scaling) and solves for the correction with the
    QR factors, so the error shrinks by ``cond(A) eps`` per step down to about
    ``cond(A) * 1e-19`` instead of ``cond(A) * 1e-16``. ``b = y, c = 0`` gives the
    estimates; ``b = 0, c = -I`` gives the columns of ``(A'A)^-1`` for the std errors.
    (Where long double is double, as on some ARM machines, refinement does nothing.)
    """
    A = next(design.blocks())[1].copy()
    Q, R = linalg.qr(A, mode="economic")
    q = A.shape[1]
    b = np.column_stack([y, np.zeros((len(y), q))])
    c = np.hstack([np.zeros((q, 1)), -np.eye(q)])
    x = linalg.cho_solve((R, False), A.T @ b - c)  # R'R x = A'b - c
    r = b - A @ x
    wide, step = A.astype(np.longdouble), 0
    for step in range(1, steps + 1):
        f = (b - r - wide @ x).astype(np.float64)
        g = (c - wide.T @ r).astype(np.float64)
        h = linalg.solve_triangular(R, g, trans="T")
        d = Q.T @ f - h
        x, r = x + linalg.solve_triangular(R, d), r + (f - Q @ d)
    residual = (y - wide @ x[:, 0]).astype(np.float64)
    covariance = (x[:, 1:] + x[:, 1:].T) / 2.0
    return x[:, :1], covariance, float(residual @ residual), step


def _normal_equations(design, y, weight, G, b, condition2):
    factor = linalg.cho_factor(G)
    theta = linalg.cho_solve(factor, b)
    rss, steps = _normal_rss(design, y, weight, G, b, theta), 0
    # Cholesky's error is about cond(A'WA) * eps (Higham 2002, 10.1): at cond <= 1e2 the
    # estimates are good to 1e-13 and, unless the fit leaves under 1% of the (centred) sum
    # of squares, so is the RSS from the normal equations. Else, or beyond, refine.
    needed = condition2 > NO_REFINE_MAX_CONDITION or rss is None
    for steps in range(1, 4 if needed else 1):
        g, residual2 = _residual_gradient(design, y, weight, theta)
        delta = linalg.cho_solve(factor, g)
        theta += delta
        # |r - A delta|^2_W = |r|^2_W - delta' A'W r, since A'WA delta = A'W r.
        rss = residual2 - float(delta[:, 0] @ g[:, 0])
        # Each step shrinks the error by about cond(A'WA) * eps (Higham 2002, 12.1): stop
        # once the error this step leaves is below 1e-15 (1e-6 bounds the factor for safety).
        contraction = max(condition2 * np.finfo(float).eps, 1e-6)
        if np.abs(delta).max() * contraction <= 1e-15 * (1.0 + np.abs(theta).max()):
            break
    covariance = linalg.cho_solve(factor, np.eye(len(G)))
    return _solution(design, theta, covariance, rss, weight, n_iter=steps + 1,
                     method="cholesky", condition=float(np.sqrt(condition2)), gram=G)


def _normal_rss(design, y, weight, G, b, theta):
    """The weighted RSS ``y'Wy - theta'A'Wy`` without a pass, or None where it cancels.

    With an intercept ``y`` is first shifted by its weighted mean ``c`` (the solution for
    ``y - c`` is ``theta - c e_q`` and ``A'W(y - c) = b - c A'W1``), so the cancellation is
    against the centred sum of squares: at most a factor 100 when ``R^2 <= 0.99``.
    """
    c = float(weight @ y / weight.sum()) if design.intercept else 0.0
    total = float(weight @ (y - c) ** 2)
    shifted = theta[:, 0].copy()
    if design.intercept:
        shifted[-1] -= c
    rss = total - float(shifted @ (b[:, 0] - c * G[:, -1]))
    return rss if rss >= 1e-2 * total else None


def _residual_gradient(design, y, weight, theta):
    """``A'W r`` and ``r'W r`` for the residuals ``r = y - A theta``: one threaded pass.

    The residuals are computed in float64 from the exact rows, which is what lets
    iterative refinement (Golub & Van Loan 5.3.7) remove the normal equations' error.
    """
    scaled = design.column_scale * theta[:, 0]
    r, offset = len(design.keep), scaled[-1] if design.intercept else 0.0

    def start():
        lane = design.lane()
        lane.g, lane.rss = np.zeros(design.n_columns), 0.0
        return lane

    def step(lane, rows):
        Z = design.fill_features(rows, lane.block)
        residual = y[rows] - (Z @ scaled[:r] + offset)
        weighted = weight[rows] * residual
        lane.g += with_intercept(Z, weighted, design.intercept)
        lane.rss += float(weighted @ residual)

    lanes = row_pass(design.n_samples, design.pass_rows, start, step)
    g = design.column_scale * sum(lane.g for lane in lanes)
    return g[:, None], sum(lane.rss for lane in lanes)


def _solution(design, theta, unscaled, rss, weight, *, n_iter, method, condition, dropped=(),
              relations=None, gram=None):
    total = float(weight.sum())
    beta, alpha = estimates_to_original(design, theta, design.X.shape[1])
    covariance = covariance_to_original(design, unscaled, design.X.shape[1])
    df_residual = total - design.n_columns
    dispersion = rss / df_residual if df_residual > 0 else np.nan
    if relations is None:
        relations = np.zeros((design.X.shape[1] + 1, 0))
    return Solution(beta=beta, alpha=alpha, loss=rss / total, n_iter=n_iter, converged=True,
                    unscaled_covariance=covariance, dispersion=dispersion, n_samples=total,
                    rank=design.n_columns, df_residual=df_residual, dropped=dropped,
                    relations=relations, condition_number=condition, gradient_max=0.0,
                    method=f"least-squares-{method}", gram=gram)
