"""Least squares for the gaussian family, accurate on ill-conditioned designs.

The normal equations square the condition number: on a degree-10 polynomial they lose
every digit. Householder QR of the standardized design loses only ``cond(A) * eps``
(Golub & Van Loan 5.3.8), so that is the method whenever ``A'A`` is not comfortably
conditioned. On a large, well-conditioned design the normal equations followed by
iterative refinement (Golub & Van Loan 5.3.7: each step costs a pass for the residual)
reach the same accuracy in half the flops.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from degenet.design import Design, equilibrated_condition, gram, r_factor
from degenet.families import Family
from degenet.solution import Solution, find_collinear, relations_of, to_original

# cond(A'A) at most this (cond(A) <= 1e3): the normal equations' error, ~cond(A'A) * eps,
# is below 1e-10 and refinement removes it; beyond it, QR.
CHOLESKY_MAX_CONDITION = 1e6


def least_squares(design: Design, y: np.ndarray, weight: np.ndarray, family: Family):
    """The gaussian :class:`~degenet.solvers.Solution` of ``min sum w (y - A theta)^2``."""
    if design.n_samples > design.block_rows:
        G, b = gram(design, weight, y[:, None])
        condition2 = equilibrated_condition(G)
        if condition2 <= CHOLESKY_MAX_CONDITION:
            return _normal_equations(design, y, weight, G, b, condition2, family)
    R = r_factor(design, weight, y[:, None])
    return _qr(design, y, weight, R, family)


def _qr(design, y, weight, R_aug, family):
    q = design.n_columns
    kept, dropped, condition = find_collinear(R_aug[:q, :q], design.n_samples)
    relations = np.zeros((design.X.shape[1] + 1, 0))
    names = ()
    if len(dropped):
        relations = relations_of(design, R_aug[:q, :q], kept, dropped, design.X.shape[1])
        names = tuple(int(design.keep[c]) for c in dropped)
        # [A_kept, y] = Q R_aug[:, kept + y]: refactor that small matrix, no new pass.
        R_aug = linalg.qr(R_aug[:, list(kept) + [q]], mode="r")[0]
        design, q = design.restrict(kept), len(kept)
        condition = float(np.linalg.cond(R_aug[:q, :q]))
    R, c = R_aug[:q, :q], R_aug[:q, q]
    rss = float(R_aug[q, q] ** 2) if R_aug.shape[0] > q else 0.0
    theta = linalg.solve_triangular(R, c)[:, None]
    R_inverse = linalg.solve_triangular(R, np.eye(q))
    return _solution(design, theta, R_inverse @ R_inverse.T, rss, weight, 1, "qr", names,
                     relations, condition, family)


def _normal_equations(design, y, weight, G, b, condition2, family):
    factor = linalg.cho_factor(G)
    theta = linalg.cho_solve(factor, b)
    rss, steps = 0.0, 0
    for steps in range(1, 4):
        residual = y - design.matmul(theta)[:, 0]
        g = np.zeros_like(theta)
        for rows, A in design.blocks():
            g[:, 0] += A.T @ (weight[rows] * residual[rows])
        delta = linalg.cho_solve(factor, g)
        theta += delta
        # |r - A delta|^2_W = |r|^2_W - delta' A'W r, since A'WA delta = A'W r.
        rss = float(weight @ residual**2) - float(delta[:, 0] @ g[:, 0])
        if np.abs(delta).max() <= 1e-15 * (1.0 + np.abs(theta).max()):
            break
    covariance = linalg.cho_solve(factor, np.eye(len(G)))
    return _solution(design, theta, covariance, rss, weight, steps + 1, "cholesky", (),
                     np.zeros((design.X.shape[1] + 1, 0)), float(np.sqrt(condition2)), family)


def _solution(design, theta, unscaled, rss, weight, n_iter, method, dropped, relations,
              condition, family):
    total = float(weight.sum())
    beta, alpha, covariance = to_original(design, theta, unscaled, design.X.shape[1], False)
    df_residual = total - design.n_columns
    dispersion = rss / df_residual if df_residual > 0 else np.nan
    return Solution(beta, alpha, rss / total, n_iter, True, covariance, dispersion, total,
                    design.n_columns, df_residual, dropped, relations, condition, 0.0,
                    f"least-squares-{method}")
