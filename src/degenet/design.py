"""The design as the exact solver sees it: row blocks of standardized float64 columns.

The solver never holds ``X`` in float64 whole: it reads it in blocks of rows, each block
converted and standardized into one reused float64 buffer, ``A = [(X - mean) / scale, 1]``
(the intercept column last, as in the coefficient tables). Standardizing first makes the
normal matrix far better conditioned, above all for the intercept, whose column is then
orthogonal to the others. The solution is mapped back to the data's units by the Jacobian
of that change of variables (:meth:`Design.jacobian`).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.linalg import blas

BLOCK_ROWS = 32768  # 32k rows x 100 columns x 8 bytes = 26 MB of float64 per block


def column_stats(X: np.ndarray, *, center: bool, block_rows: int = BLOCK_ROWS
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Column means (zero if not ``center``) and scales of ``X`` in one pass over row blocks.

    The scale is the standard deviation when centering, else the root mean square; a
    column with no spread keeps scale 1. Means and squared deviations of the blocks are
    merged by the pairwise update of Chan, Golub & LeVeque (1979), so nothing cancels.
    """
    n, p = X.shape
    mean, m2, count = np.zeros(p), np.zeros(p), 0
    for start in range(0, n, block_rows):
        block = np.asarray(X[start:start + block_rows], dtype=np.float64)
        if not np.isfinite(block).all():  # the caller names the column from the NaN stats
            mean[~np.isfinite(block).all(axis=0)] = np.nan
            continue
        size = len(block)
        block_mean = block.mean(axis=0) if center else np.zeros(p)
        block_m2 = np.einsum("ij,ij->j", block - block_mean, block - block_mean)
        delta, total = block_mean - mean, count + size
        mean += delta * size / total
        m2 += block_m2 + delta**2 * (count * size / total)
        count = total
    scale = np.sqrt(m2 / n)
    scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(mean)), scale, 1.0)
    return mean, scale


class Design:
    """Row blocks of ``A = [(X[:, keep] - mean) / scale, 1]`` in float64.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
        Any float dtype; never copied whole.
    mean, scale : ndarray, shape (n_features,)
    keep : ndarray of int
        The columns of ``X`` in the design (collinear ones are left out).
    intercept : bool
        Whether ``A`` ends with a column of ones.
    """

    def __init__(self, X, mean, scale, keep, intercept: bool, block_rows: int = BLOCK_ROWS):
        self.X, self.intercept, self.block_rows = X, intercept, block_rows
        self.keep = np.asarray(keep, dtype=np.int64)
        self._full = (mean, scale)
        self.mean, self.scale = mean[self.keep], scale[self.keep]
        self._inverse_scale = 1.0 / self.scale
        self._all = np.array_equal(self.keep, np.arange(X.shape[1]))  # no column selection
        self._buffer = None

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_columns(self) -> int:
        """Columns of ``A``: the kept features plus the intercept."""
        return len(self.keep) + int(self.intercept)

    def restrict(self, columns: np.ndarray) -> "Design":
        """The design on a subset of its own columns (positions in ``A``; intercept kept)."""
        features = [c for c in columns if c < len(self.keep)]
        design = Design(self.X, *self._full, self.keep[features], self.intercept,
                        self.block_rows)
        if hasattr(self, "centered"):
            design.centered = self.centered
        return design

    def uncentered(self) -> "Design":
        """The same columns scaled to unit root mean square, not centred.

        Centring helps Newton, but taking a covariance back through it cancels digits in
        the intercept's variance; a diagonal scaling loses none, so the accurate
        covariance (and least squares) use this design.
        """
        mean, scale = self._full
        # Powers of two: dividing by them is exact, so A holds the data's own values and
        # residuals against X itself (least_squares' refinement) see the same problem.
        rms = np.exp2(np.round(np.log2(np.sqrt(scale**2 + mean**2))))
        design = Design(self.X, np.zeros_like(mean), rms, self.keep, self.intercept,
                        self.block_rows)
        design.centered = self
        return design

    def centering_map(self) -> np.ndarray:
        """``M`` with ``A_centred = A @ M`` for an :meth:`uncentered` design, ``(q, q)``.

        ``(x - m) / s = (r / s) (x / r) - (m / s) 1``.
        """
        centered = getattr(self, "centered", None)
        if centered is None or not self.intercept:
            return np.eye(self.n_columns)
        kept = centered.restrict(np.r_[np.searchsorted(centered.keep, self.keep),
                                       len(centered.keep)])
        r = len(self.keep)
        M = np.eye(self.n_columns)
        M[np.arange(r), np.arange(r)] = self.scale / kept.scale
        M[r, :r] = -kept.mean / kept.scale
        return M

    @property
    def column_scale(self) -> np.ndarray:
        """``D`` with ``A = B D`` for the blocks of :meth:`raw_blocks`, shape ``(q,)``."""
        return np.r_[self._inverse_scale, np.ones(int(self.intercept))]

    def raw_blocks(self):
        """Yield ``(rows, B)`` with ``B = [X - mean, 1]``, so that ``A = B diag(column_scale)``.

        The hot passes (``A'WA``, gradients, ``A theta``) apply the diagonal scaling to
        their small results instead of to every element of the block: one elementwise
        pass fewer. ``B`` is a view of one reused buffer: use it before the next block.
        """
        n, r = self.n_samples, len(self.keep)
        if self._buffer is None:
            self._buffer = np.empty((min(n, self.block_rows), self.n_columns))
        centered = bool(np.any(self.mean != 0.0))
        for start in range(0, n, self.block_rows):
            rows = slice(start, min(start + self.block_rows, n))
            B = self._buffer[:rows.stop - start]
            block = self.X[rows] if self._all else self.X[rows][:, self.keep]
            if centered:
                np.subtract(block, self.mean, out=B[:, :r])  # converts to float64 on the way
            else:
                B[:, :r] = block
            if self.intercept:
                B[:, r] = 1.0
            yield rows, B

    def blocks(self):
        """Yield ``(rows, A)``: a slice of rows and their block of ``A``, shape ``(m, q)``.

        ``A`` is a view of one reused buffer: use it before asking for the next block.
        """
        r = len(self.keep)
        for rows, A in self.raw_blocks():
            A[:, :r] *= self._inverse_scale
            yield rows, A

    def matmul(self, theta: np.ndarray) -> np.ndarray:
        """``A @ theta`` for ``theta`` of shape ``(q, k)``: shape ``(n_samples, k)``."""
        out = np.empty((self.n_samples, theta.shape[1]))
        scaled = self.column_scale[:, None] * theta
        for rows, B in self.raw_blocks():
            out[rows] = B @ scaled
        return out

    def matmul_fast(self, theta: np.ndarray) -> np.ndarray:
        """``A @ theta`` as ``X @ beta + alpha`` in X's own dtype: one read of X, no copy.

        Accurate to X's precision (float32: ~1e-7 relative), enough for a search direction.
        """
        u = self.jacobian() @ theta
        r = len(self.keep)
        beta = np.zeros((self.X.shape[1], theta.shape[1]))
        beta[self.keep] = u[:r]
        alpha = u[r] if self.intercept else np.zeros(theta.shape[1])
        if np.issubdtype(self.X.dtype, np.floating):
            beta = beta.astype(self.X.dtype)
        out = np.empty((self.n_samples, theta.shape[1]))
        for start in range(0, self.n_samples, self.block_rows):
            rows = slice(start, start + self.block_rows)
            out[rows] = self.X[rows] @ beta
        return out + alpha

    def jacobian(self) -> np.ndarray:
        """``T`` with ``[beta_keep, alpha] = T @ theta``, shape ``(q, q)``.

        ``A theta = X_keep (theta_z / scale) + theta_1 - (mean / scale) . theta_z``.
        """
        r = len(self.keep)
        T = np.zeros((self.n_columns, self.n_columns))
        T[np.arange(r), np.arange(r)] = 1.0 / self.scale
        if self.intercept:
            T[r, :r] = -self.mean / self.scale
            T[r, r] = 1.0
        return T


def add_gram(H: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``H += A'A`` on the upper triangle, in place for a Fortran-ordered ``H``.

    BLAS ``dsyrk`` on ``A.T`` (Fortran-ordered, so no copy): measured here 30x faster than
    numpy's own ``A.T @ A`` on a (32768, 101) block.
    """
    return blas.dsyrk(1.0, A.T, beta=1.0, c=H, trans=0, overwrite_c=1)


def add_product(H: np.ndarray, B: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``H += B'A`` (BLAS ``dgemm`` on the transposes, no copies), for block Hessians."""
    return blas.dgemm(1.0, B.T, A.T, beta=1.0, c=H, trans_b=1, overwrite_c=1)


def symmetric(H: np.ndarray) -> np.ndarray:
    """The symmetric matrix whose upper triangle ``H`` holds."""
    return np.triu(H) + np.triu(H, 1).T


def gram(design: Design, weight: np.ndarray, targets: np.ndarray | None = None
         ) -> tuple[np.ndarray, np.ndarray | None]:
    """``A' W A`` and ``A' W targets`` in one pass (``W = diag(weight)``, ``weight >= 0``)."""
    q = design.n_columns
    G = np.zeros((q, q), order="F")
    b = None if targets is None else np.zeros((q, targets.shape[1]))
    for rows, B in design.raw_blocks():
        if b is not None:
            b += B.T @ (targets[rows] * weight[rows][:, None])
        B *= np.sqrt(weight[rows])[:, None]  # in place: the block is rebuilt on each pass
        G = add_gram(G, B)
    d = design.column_scale
    return d[:, None] * symmetric(G) * d[None, :], None if b is None else d[:, None] * b


def r_factor(design: Design, weight: np.ndarray, extra: np.ndarray | None = None
             ) -> np.ndarray:
    """The triangular factor ``R`` of ``sqrt(W) [A, extra]`` by a blocked QR (TSQR).

    Each block is stacked under the ``R`` so far and refactored (Demmel et al. 2012,
    "Communication-optimal parallel and sequential QR"): Householder QR's accuracy,
    without the squared condition number of the normal equations, in one pass.
    """
    R = None
    for rows, A in design.blocks():
        root = np.sqrt(weight[rows])[:, None]
        block = A * root if extra is None else np.hstack([A * root, extra[rows] * root])
        stacked = block if R is None else np.vstack([R, block])
        R = linalg.qr(stacked, mode="r", overwrite_a=True, check_finite=False)[0]
        R = R[:min(R.shape)]
    width = R.shape[1]
    if R.shape[0] < width:  # fewer rows than columns
        R = np.vstack([R, np.zeros((width - R.shape[0], width))])
    return R


def equilibrated_condition(G: np.ndarray) -> float:
    """Condition number of ``G`` after scaling it to unit diagonal (a zero column: inf)."""
    diagonal = np.diag(G)
    if np.any(diagonal <= 0):
        return np.inf
    d = 1.0 / np.sqrt(diagonal)
    eigenvalues = linalg.eigvalsh(G * d[:, None] * d[None, :])
    return np.inf if eigenvalues[0] <= 0 else float(eigenvalues[-1] / eigenvalues[0])
