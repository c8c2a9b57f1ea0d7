"""The exact optimum of a single-layer model from a streamed table, in float64.

The solvers see the data only as passes (:class:`StreamProblem`): ``each(fn)`` applies
``fn`` to every block of this process's training rows (``[X, y]`` in the data's units, the
target last) on the reader's worker threads, beside the decoding, and yields the results
in block order; ``allreduce`` sums a float64 vector over the processes. ``fn`` turns a block
into small float64 sums, never an ``n``-long array, so memory does not grow with the rows.
As in memory (:mod:`degenet.exact.design`) the design is ``A = [(X - mean) / scale, 1]``:
each block is centred in float64 and the diagonal scaling is applied to the small results.

Least squares (gaussian) takes one pass for the augmented Gram matrix
``[Z, 1, y - c]'[Z, 1, y - c]`` (``Z = X - mean``, float64 products). With the same
thresholds as in memory (:mod:`degenet.exact.least_squares`): at ``cond(A'A) <= 1e2`` the
Cholesky solution is exact to ``1e-13``; up to ``1e6`` refinement passes (residuals in
float64, one correction solve each: the error shrinks by ``cond * eps`` a pass; Higham
2002, 12.1) make it so; beyond, one pass of tall-skinny QR gives ``R`` without squaring the
condition number (Demmel et al. 2012), finds exactly collinear columns and solves.
Newton's method (the other families) is in :mod:`degenet.exact.stream_newton`.

Every result is a :class:`~degenet.exact.solution.Solution` in the data's units, made by
the same functions as in memory (:func:`~degenet.exact.solution.estimates_to_original`,
:func:`~degenet.exact.solution.covariance_to_original`, :func:`~degenet.exact.solution.
find_collinear`), on a :class:`~degenet.exact.design.Design` that maps columns only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import linalg
from threadpoolctl import threadpool_limits

from degenet.exact.design import Design
from degenet.exact.least_squares import CHOLESKY_MAX_CONDITION, NO_REFINE_MAX_CONDITION
from degenet.exact.linalg import equilibrated_condition
from degenet.exact.solution import (Solution, covariance_to_original, estimates_to_original,
                                    find_collinear, relations_of)
from degenet.model.family import Family

PIECE_ROWS = 4096  # rows of a block summed at a time (by_pieces)

Each = Callable[[Callable[[np.ndarray], np.ndarray]], Iterator[np.ndarray]]


@dataclass(frozen=True)
class StreamProblem:
    """A single-layer model on a streamed table, as the solvers see it.

    Attributes
    ----------
    family : Family
    each : callable
        ``each(fn)``: ``fn(block)`` of every block of this process's training rows.
    allreduce : callable
        The float64 sum of an array over the processes.
    mean, scale : ndarray, shape (n_features,)
        The design's standardization (training rows; mean 0 without an intercept).
    intercept : bool
    n_outputs : int
        The head's width (classes for the categorical family).
    start : ndarray, shape (n_outputs,)
        The intercept-only optimum of ``eta`` (Newton's start), or the target's mean.
    subsample : callable, optional
        ``each`` over a share of the row groups, for Newton's first iterations.
    subsample_share : float
        That share of the rows.
    stack : callable, optional
        ``stack(R)``: every process's ``R`` factor stacked in rank order (the QR route).
    keep : ndarray of int, optional
        The columns of ``X`` in the design (collinear ones left out).
    """

    family: Family
    each: Each
    allreduce: Callable[[np.ndarray], np.ndarray]
    mean: np.ndarray
    scale: np.ndarray
    intercept: bool = True
    n_outputs: int = 1
    start: np.ndarray = field(default_factory=lambda: np.zeros(1))
    subsample: Each | None = None
    subsample_share: float = 0.0
    stack: Callable[[np.ndarray], np.ndarray] = lambda R: R
    keep: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        return len(self.mean)

    def columns(self) -> Design:
        """The design's column map (no rows): standardization, kept columns, intercept."""
        keep = np.arange(self.n_features) if self.keep is None else self.keep
        return Design(np.empty((0, self.n_features)), self.mean, self.scale, keep,
                      self.intercept)

    def centred(self, block: np.ndarray, center: float = 0.0) -> np.ndarray:
        """``[X[:, keep] - mean, 1?, y - center]`` of a block, float64, ``(m, q + 1)``.

        ``dtype=float64``: under NumPy 2's promotion (NEP 50) float32 minus a Python float
        stays float32, which rounded ``y - center`` to 1e-7 and the estimates to 1e-9.
        """
        p, keep = self.n_features, self.keep
        X = block[:, :p] if keep is None else block[:, keep]
        mean = self.mean if keep is None else self.mean[keep]
        r, q = X.shape[1], X.shape[1] + int(self.intercept)
        B = np.empty((len(block), q + 1))
        np.subtract(X, mean, out=B[:, :r], dtype=np.float64)
        if self.intercept:
            B[:, r] = 1.0
        np.subtract(block[:, p], center, out=B[:, q], dtype=np.float64)
        return B


@dataclass(frozen=True)
class Solved:
    """A streamed solution and what it cost.

    Attributes
    ----------
    solution : Solution
    passes : float
        Full reads of the training rows (a subsample's pass counts its share).
    gram : ndarray
        ``A'A`` of the standardized design over every column of ``X`` (and the intercept),
        for the variance inflation factors.
    """

    solution: Solution
    passes: float
    gram: np.ndarray


def total(each: Each, fn, size: int, allreduce) -> np.ndarray:
    """The sum of ``fn(block)`` (flat, ``size`` values) over every process's blocks.

    Blocks are added in order, one BLAS thread each: multi-threaded OpenBLAS on small
    products beside pyarrow's threads took 12 ms a call instead of 0.01 ms.
    """
    out = np.zeros(size)
    with threadpool_limits(1, "blas"):
        for part in each(fn):
            out += part
    return allreduce(out)


def by_pieces(fn):
    """``fn`` made to sum its results over pieces of at most :data:`PIECE_ROWS` rows of a
    block.

    For Newton's block sums (:mod:`degenet.exact.stream_newton`): a piece's float64
    temporaries (a few copies of its rows) then stay small enough for malloc to reuse;
    those of a whole record batch (13,107 x 21 rows, 2.2 MB each) were mapped and unmapped
    by every call, and the page faults made a logistic Newton pass's exact Hessian 5.6 ms a
    block instead of 1.2 ms (2 cores, one BLAS thread). Not for the least-squares Gram, one
    product a block: in pieces it took 5.5-7.0 s a pass of 20M x 20 instead of 4.1-4.5 s.
    """
    def summed(block: np.ndarray) -> np.ndarray:
        if len(block) <= PIECE_ROWS:
            return fn(block)
        return sum(fn(block[start:start + PIECE_ROWS])
                   for start in range(0, len(block), PIECE_ROWS))

    return summed


def solve_least_squares(problem: StreamProblem) -> Solved:
    """The gaussian optimum ``min |y - A theta|^2`` (see the module's text)."""
    # The target centred on its mean keeps y'y - b'theta from cancelling; without an
    # intercept nothing could absorb the shift.
    center = float(problem.start[0]) if problem.intercept else 0.0
    p = problem.n_features
    q = p + int(problem.intercept)
    # Pieces of at most PIECE_ROWS rows and 32 x PIECE_ROWS values (1 MB of float64).
    rows = max(1, min(PIECE_ROWS, 32 * PIECE_ROWS // (p + 1)))
    tiled = np.tile(np.append(problem.mean, center), rows)
    ones = np.ones(rows)
    at = np.r_[0:p, q]  # W = [X - mean, y - center]'s columns in B = [X - mean, 1?, y - center]

    def gram(block):
        # B'B from W'W and W's column sums (the intercept's row), a piece at a time: W is
        # one flat subtraction of [mean, center] repeated over the rows. 49,932 x 21 float32
        # rows: 3.0-3.3 ms against 4.9-5.0 ms for B and B'B, most of it in broadcasting the
        # subtraction over rows of 22 values; 10,382 x 101: 5.3-6.2 ms against 6.2-7.5 ms.
        K = np.zeros((q + 1, q + 1))
        for start in range(0, len(block), rows):
            piece = np.ascontiguousarray(block[start:start + rows])
            m = len(piece)
            W = np.subtract(piece.reshape(-1), tiled[:piece.size], dtype=np.float64)
            W = W.reshape(m, p + 1)
            K[np.ix_(at, at)] += np.dot(W.T, W)
            if problem.intercept:
                sums = np.dot(ones[:m], W)
                K[p, at] += sums
                K[at, p] += sums
                K[p, p] += m
        return np.r_[K.ravel(), len(block)]

    sums = total(problem.each, gram, (q + 1) ** 2 + 1, problem.allreduce)
    K, n = sums[:-1].reshape(q + 1, q + 1), sums[-1]
    d = problem.columns().column_scale
    G, b = d[:, None] * K[:q, :q] * d[None, :], d * K[:q, q]
    condition2 = equilibrated_condition(G)
    if condition2 > CHOLESKY_MAX_CONDITION:
        solved = _by_qr(problem, center, n)
        return replace(solved, passes=solved.passes + 1, gram=G)
    factor = linalg.cho_factor(G)
    theta = linalg.cho_solve(factor, b)
    rss = float(K[q, q] - b @ theta)
    steps = 0
    if condition2 > NO_REFINE_MAX_CONDITION or rss < 1e-2 * K[q, q]:
        theta, rss, steps = _refine(problem, center, theta, factor, condition2)
    covariance = linalg.cho_solve(factor, np.eye(q))
    solution = _solution(problem, theta, center, covariance, rss, n, steps + 1, "cholesky",
                         float(np.sqrt(condition2)))
    return Solved(solution=solution, passes=1 + steps, gram=G)


def _refine(problem: StreamProblem, center: float, theta, factor, condition2):
    """Refinement passes: ``theta += G^-1 A'(y - A theta)`` until the step is negligible."""
    d = problem.columns().column_scale
    q, rss, steps = len(theta), 0.0, 0
    for steps in range(1, 4):
        scaled = d * theta

        def residuals(block):
            B = problem.centred(block, center)
            r = B[:, q] - B[:, :q] @ scaled
            return np.r_[np.dot(B.T, r)[:q], r @ r]  # all of B: np.dot copies a strided view

        sums = total(problem.each, residuals, q + 1, problem.allreduce)
        g = d * sums[:q]
        delta = linalg.cho_solve(factor, g)
        theta = theta + delta
        rss = float(sums[q] - delta @ g)  # |r - A delta|^2 = |r|^2 - delta' A'r
        contraction = max(condition2 * np.finfo(float).eps, 1e-6)
        if np.abs(delta).max() * contraction <= 1e-15 * (1.0 + np.abs(theta).max()):
            break
    return theta, rss, steps


def r_factor(problem: StreamProblem, center: float, with_target: bool = True) -> np.ndarray:
    """``R`` of ``[A, y - center]`` (or of ``A`` alone) by a blocked QR pass.

    Each block's ``R`` is stacked under the ``R`` so far and refactored, block after block,
    then across the processes (Demmel et al. 2012): Householder QR's accuracy, without the
    squared condition number of the normal equations.
    """
    d = problem.columns().column_scale
    q = len(d)
    width = q + int(with_target)

    def factor(block):
        B = problem.centred(block, center)[:, :width]
        B[:, :q] *= d
        return _padded(linalg.qr(B, mode="r", check_finite=False)[0][:width], width)

    R = np.zeros((0, width))
    with threadpool_limits(1, "blas"):
        for part in problem.each(factor):
            R = linalg.qr(np.vstack([R, part]), mode="r", check_finite=False)[0][:width]
    R = linalg.qr(problem.stack(_padded(R, width)), mode="r", check_finite=False)[0][:width]
    return R * np.where(np.diag(R) < 0, -1.0, 1.0)[:, None]


def _padded(R: np.ndarray, width: int) -> np.ndarray:
    """``R`` with zero rows appended up to ``width`` rows (a block of fewer rows)."""
    return np.vstack([R, np.zeros((width - len(R), width))]) if len(R) < width else R


def _by_qr(problem: StreamProblem, center: float, n: float) -> Solved:
    """Least squares by a QR pass: collinear columns found from ``R`` and left out."""
    R_aug = r_factor(problem, center)
    q = R_aug.shape[1] - 1
    columns = problem.columns()
    kept, dropped, condition = find_collinear(R_aug[:q, :q], int(n),
                                              keep_last=problem.intercept)
    relations = np.zeros((problem.n_features + 1, 0))
    if len(dropped):
        relations = relations_of(columns, R_aug[:q, :q], kept, dropped, problem.n_features)
        R_aug = linalg.qr(R_aug[:, list(kept) + [q]], mode="r")[0]
        problem = replace(problem, keep=columns.keep[[c for c in kept if c < len(columns.keep)]])
        q = len(kept)
        _, _, condition = find_collinear(R_aug[:q, :q], int(n))
    R, c = R_aug[:q, :q], R_aug[:q, q]
    theta = linalg.solve_triangular(R, c)
    R_inverse = linalg.solve_triangular(R, np.eye(q))
    rss = float(R_aug[q, q] ** 2) if R_aug.shape[0] > q else 0.0
    solution = _solution(problem, theta, center, R_inverse @ R_inverse.T, rss, n, 1, "qr",
                         condition)
    dropped_names = tuple(int(columns.keep[j]) for j in dropped)
    solution = replace(solution, dropped=dropped_names, relations=relations)
    return Solved(solution=solution, passes=1, gram=np.eye(0))


def _solution(problem: StreamProblem, theta, center, covariance, rss, n, n_iter, method,
              condition) -> Solution:
    """The least-squares Solution in the data's units (the target's centre added back)."""
    columns = problem.columns()
    theta = np.array(theta, dtype=np.float64)
    if problem.intercept:
        theta[-1] += center
    beta, alpha = estimates_to_original(columns, theta[:, None], problem.n_features)
    df_residual = n - columns.n_columns
    return Solution(
        beta=beta, alpha=alpha, loss=rss / n, n_iter=n_iter, converged=True,
        unscaled_covariance=covariance_to_original(columns, covariance, problem.n_features),
        dispersion=rss / df_residual if df_residual > 0 else np.nan, n_samples=float(n),
        rank=columns.n_columns, df_residual=float(df_residual), dropped=(),
        relations=np.zeros((problem.n_features + 1, 0)), condition_number=condition,
        gradient_max=0.0, method=f"least-squares-{method}")


def stacked(R: np.ndarray, rank: int, world: int, allreduce) -> np.ndarray:
    """Every process's ``R`` stacked in rank order: an all-reduce of slotted copies."""
    slots = np.zeros((world, *R.shape))
    slots[rank] = R
    return allreduce(slots.ravel()).reshape(-1, R.shape[1])
