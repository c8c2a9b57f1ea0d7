"""Newton's method on a streamed table: one pass over the rows per iteration.

Each pass (:func:`curvature`) sums the loss, the gradient and the Hessian of the mean loss
at ``theta`` over every process's training rows, and all-reduces them. As in memory
(:mod:`degenet.exact.newton`): the gradient is always float64 (its zero is the exact
optimum), while for a single output the Hessian is built by float32 products of each
block, added in float64, except on the pass expected to be the last (quadratic
convergence: ``lambda_next ~ lambda^3 / lambda_previous^2`` below ``tol``), so the
covariance comes from an exact Hessian. Newton's first iterations run on a tenth of the
row groups (a tenth of a pass each) when there are many rows; a step that does not lower
the loss enough (Armijo) is halved, at the cost of a pass; iterations stop on the Newton
decrement (Boyd & Vandenberghe 9.5.1). The first full pass also sums ``A'A``, whose
condition says whether float32 products are safe and whether a QR pass must look for
exactly collinear columns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import linalg

from degenet.errors import ConvergenceWarning, warn
from degenet.exact.gram import symmetric
from degenet.exact.linalg import equilibrated_condition, spd_solve
from degenet.exact.collinear import FULL_RANK_MAX_CONDITION
from degenet.exact.newton import SINGLE_MAX_CONDITION, WARM_START_ROWS
from degenet.exact.solution import (Solution, covariance_to_original, estimates_to_original,
                                    find_collinear, relations_of)
from degenet.exact.stream import Solved, StreamProblem, by_pieces, r_factor, total

WARM_DECREMENT = 1e-2  # the subsample's iterations stop at this decrement
MAX_ITER = 30  # passes: more means divergence (separation), not slow convergence


@dataclass(frozen=True)
class Curvature:
    """Mean loss, gradient ``(q, k)`` and Hessian ``(q k, q k)`` at a ``theta``, standardized
    units; ``gram`` ``(q, q)`` is ``A'A`` when asked for."""

    loss: float
    gradient: np.ndarray
    hessian: np.ndarray
    n: float
    precise: bool
    gram: np.ndarray | None = None


def curvature(problem: StreamProblem, each, theta: np.ndarray, *, precise: bool,
              gram: bool = False) -> Curvature:
    """One pass: the loss, gradient and Hessian of the mean loss at ``theta`` ``(q, k)``."""
    q, k = theta.shape
    d = problem.columns().column_scale
    scaled = d[:, None] * theta
    step = (_single if k == 1 else _several)(problem, scaled, precise, gram)
    size = 2 + q * k + (q * k) ** 2 + (q * q if gram else 0)
    sums = total(each, by_pieces(step), size, problem.allreduce)
    loss, n = sums[0], sums[1]
    g = sums[2:2 + q * k].reshape(q, k)
    H = sums[2 + q * k:2 + q * k + (q * k) ** 2].reshape(q * k, q * k)
    D = np.tile(d, k)
    G = d[:, None] * symmetric(sums[-q * q:].reshape(q, q)) * d[None, :] if gram else None
    return Curvature(loss=loss / n if np.isfinite(loss) else np.inf,
                     gradient=d[:, None] * g / n,
                     hessian=D[:, None] * symmetric(H) * D[None, :] / n, n=n,
                     precise=precise or k > 1, gram=G)


def _single(problem: StreamProblem, scaled: np.ndarray, precise: bool, gram: bool):
    """A block's sums for one output: ``eta`` and the gradient from the uncentred rows in
    float64 (``X c + shift``, ``X'v - mean sum(v)``), the Hessian from centred rows scaled
    by the root curvature, in float32 unless ``precise``."""
    family, intercept, p = problem.family, problem.intercept, problem.n_features
    keep = np.arange(p) if problem.keep is None else problem.keep
    mean, r = problem.mean[keep], len(keep)
    coef = scaled[:r, 0]
    shift = (scaled[r, 0] if intercept else 0.0) - float(mean @ coef)
    mean32 = mean.astype(np.float32)
    q = r + int(intercept)

    every = problem.keep is None

    def step(block):
        raw = block[:, :p] if every else block[:, keep]  # a view when no column is left out
        U = raw.astype(np.float64)
        y = block[:, p].astype(np.float64)
        eta = U @ coef + shift
        with np.errstate(over="ignore", invalid="ignore"):
            loss, v, h = family.loss_gradient_curvature(y, eta)
        loss = float(loss.sum())
        m = len(block)
        # [v, h, 1]: the column sums give the centred rows' sums (the Gram pass's) free
        products = np.dot(U.T, np.column_stack([v, h, np.ones(m)] if gram else [v, h]))
        g, H = np.zeros(q), np.zeros((q, q))
        g[:r] = products[:, 0] - mean * v.sum()
        if gram:
            A = np.zeros((q, q))
        if precise or gram:
            Z = np.subtract(U, mean, out=U)  # U is not read again: centred in place
            if gram:
                A[:r, :r] = np.dot(Z.T, Z)
            if precise:
                Z *= np.sqrt(h)[:, None]
                H[:r, :r] = np.dot(Z.T, Z)
        if not precise:
            S = np.subtract(raw, mean32, dtype=np.float32)
            S *= np.sqrt(h).astype(np.float32)[:, None]
            H[:r, :r] = np.dot(S.T, S)
        if intercept:
            g[r] = v.sum()
            H[:r, r] = products[:, 1] - mean * h.sum()
            H[r, r] = h.sum()
        parts = [[loss, m], g, H.ravel()]
        if gram:
            if intercept:
                A[:r, r], A[r, r] = products[:, 2] - m * mean, m
            parts.append(A.ravel())
        return np.concatenate(parts)

    return step


def _several(problem: StreamProblem, scaled: np.ndarray, precise: bool, gram: bool):
    """A block's sums for several free outputs (softmax), in float64: the gradient and the
    upper blocks ``A' diag(curvature_ij) A`` of the Hessian."""
    family, p = problem.family, problem.n_features
    q, k = scaled.shape
    pinned = problem.n_outputs - k

    def step(block):
        # C = [B, y - 0]: the products take all of C (np.dot on the strided B, its first q
        # columns, copies it first: 5-10x slower) and keep their first q rows and columns.
        C = problem.centred(block)
        B = C[:, :q]
        y = block[:, p].astype(np.float64)
        eta = np.zeros((len(block), problem.n_outputs))
        eta[:, pinned:] = B @ scaled
        e = family.squeeze(eta)
        with np.errstate(over="ignore", invalid="ignore"):
            loss = float(family.loss_np(y, e).sum())
        g = np.dot(C.T, family.free(family.gradient(y, e)))[:q]
        c = family.curvature(e)
        H = np.zeros((q * k, q * k))
        for i in range(k):
            for j in range(i, k):
                H[i * q:(i + 1) * q, j * q:(j + 1) * q] = np.dot(
                    (C * c[:, i, j][:, None]).T, C)[:q, :q]
        parts = [[loss, len(block)], g.ravel(), H.ravel()]
        if gram:
            parts.append(np.dot(C.T, C)[:q, :q].ravel())
        return np.concatenate(parts)

    return step


def _direction(here: Curvature) -> tuple[np.ndarray, float]:
    """The Newton direction ``(q, k)`` and the decrement ``sqrt(-g'd)``."""
    q, k = here.gradient.shape
    d = -spd_solve(here.hessian, here.gradient.reshape(-1, 1, order="F"))[0]
    d = d.reshape(q, k, order="F")
    return d, float(np.sqrt(max(-float(np.sum(here.gradient * d)), 0.0)))


def _decreased(loss: float, old: float, slope: float, step: float) -> bool:
    """Armijo's sufficient decrease, with a floor for rounding near the optimum."""
    floor = 64 * np.finfo(float).eps * (1.0 + abs(old))
    return bool(loss <= old + 1e-4 * step * slope or (-slope < floor and loss <= old + floor))


def solve_newton(problem: StreamProblem, *, tol: float = 1e-10,
                 max_iter: int = MAX_ITER) -> Solved:
    """Newton from the best constant to a decrement of at most ``tol`` (module's text)."""
    family, q = problem.family, problem.n_features + int(problem.intercept)
    k = family.n_free(problem.n_outputs)
    theta = np.zeros((q, k))
    if problem.intercept:
        theta[-1] = family.free(np.where(np.isfinite(problem.start), problem.start,
                                         -30.0)[None, :])[0]
    passes = 0.0
    if problem.subsample is not None and k == 1:
        theta, used = _warm_start(problem, theta)
        passes += used * problem.subsample_share
    here = curvature(problem, problem.each, theta, precise=k > 1, gram=True)
    passes += 1
    gram, condition2 = here.gram, equilibrated_condition(here.gram)
    problem, theta, collinear = _without_collinear(problem, theta, condition2, here.n)
    if collinear is not None:
        passes += 1 + 1
        here = curvature(problem, problem.each, theta, precise=True)
    careful = condition2 > SINGLE_MAX_CONDITION  # float32 Hessians would not be enough
    previous, last, step, converged, n_iter = None, None, 1.0, False, 0
    for n_iter in range(1, max_iter + 1):
        if previous is not None and not _decreased(here.loss, previous[1], previous[3], step):
            step *= 0.5  # back along the last direction, a pass a try
            theta = previous[0] + step * previous[2]
            here = curvature(problem, problem.each, theta, precise=careful)
            passes += 1
            continue
        direction, decrement = _direction(here)
        if decrement <= tol:
            if not here.precise:  # the covariance needs the exact Hessian
                here = curvature(problem, problem.each, theta, precise=True)
                passes += 1
                direction, decrement = _direction(here)
            # The step this pass paid for, taken free: its error is ~decrement^2.
            theta, converged = theta + direction, True
            break
        previous, step = (theta, here.loss, direction, float(np.sum(here.gradient * direction))), 1.0
        expected_last = last is not None and decrement**3 <= tol * last**2
        theta, last = theta + direction, decrement
        here = curvature(problem, problem.each, theta, precise=careful or expected_last)
        passes += 1
    if not converged:
        warn(
            f"{family.name} exact solver: Newton did not converge in {n_iter} passes "
            f"(max abs gradient {np.abs(here.gradient).max():.3g}); the data may be "
            "separable: some combination of the columns predicts the classes perfectly.",
            ConvergenceWarning)
    solution = _solution(problem, theta, here, n_iter, converged, condition2, collinear)
    return Solved(solution=solution, passes=passes, gram=gram)


def _warm_start(problem: StreamProblem, theta: np.ndarray) -> tuple[np.ndarray, int]:
    """Newton's full steps on the subsample until its decrement is below WARM_DECREMENT."""
    used = 0
    for used in range(1, 11):
        here = curvature(problem, problem.subsample, theta, precise=False)
        if not np.isfinite(here.loss) or here.n < WARM_START_ROWS / 10:
            return theta, used
        direction, decrement = _direction(here)
        theta = theta + direction
        if decrement < WARM_DECREMENT:
            break
    return theta, used


def _without_collinear(problem: StreamProblem, theta, condition2: float, n: float):
    """The problem without exactly collinear columns, found by a QR pass when ``A'A`` is
    ill-conditioned: ``(problem, theta, (dropped, relations, condition) or None)``."""
    if condition2 <= FULL_RANK_MAX_CONDITION:
        return problem, theta, None
    R = r_factor(problem, 0.0, with_target=False)
    kept, dropped, condition = find_collinear(R, int(n), keep_last=problem.intercept)
    if not len(dropped):
        return problem, theta, None
    columns = problem.columns()
    relations = relations_of(columns, R, kept, dropped, problem.n_features)
    names = tuple(int(columns.keep[j]) for j in dropped)
    _, _, condition = find_collinear(linalg.qr(R[:, kept], mode="r")[0], int(n))
    reduced = replace(problem, keep=columns.keep[[c for c in kept if c < len(columns.keep)]])
    return reduced, theta[kept], (names, relations, condition)


def _solution(problem: StreamProblem, theta, here: Curvature, n_iter: int, converged: bool,
              condition2: float, collinear) -> Solution:
    columns = problem.columns()
    q, k = theta.shape
    inverse, method = spd_solve(here.hessian * here.n, np.eye(q * k))
    beta, alpha = estimates_to_original(columns, theta, problem.n_features,
                                        problem.n_outputs - k)
    dropped, relations, condition = (collinear if collinear is not None else
                                     ((), np.zeros((problem.n_features + 1, 0)),
                                      float(np.sqrt(condition2))))
    return Solution(
        beta=beta, alpha=alpha, loss=here.loss, n_iter=n_iter, converged=converged,
        unscaled_covariance=covariance_to_original(columns, inverse, problem.n_features),
        dispersion=1.0, n_samples=float(here.n), rank=columns.n_columns,
        df_residual=float(here.n - columns.n_columns * k), dropped=dropped,
        relations=relations, condition_number=condition,
        gradient_max=float(np.abs(here.gradient).max()), method=f"newton-{method}")
