"""The design as the exact solver sees it: row blocks of standardized float64 columns.

The solver never holds ``X`` in float64 whole: it reads it in blocks of rows, each block
converted and standardized into one reused float64 buffer, ``A = [(X - mean) / scale, 1]``
(the intercept column last, as in the coefficient tables). Standardizing first makes the
normal matrix far better conditioned, above all for the intercept, whose column is then
orthogonal to the others. The solution is mapped back to the data's units by the Jacobian
of that change of variables (:meth:`Design.jacobian`).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from scipy import linalg

from degenet.data.scaling import merge_moments, usable_scale
from degenet.exact.blockpass import PASS_ROWS, row_pass
from degenet.exact.rows import column_major, take_rows

BLOCK_ROWS = 32768  # 32k rows x 100 columns x 8 bytes = 26 MB of float64 per block


def column_stats(X: np.ndarray, *, center: bool, block_rows: int = BLOCK_ROWS
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Column means (zero if not ``center``) and scales of ``X`` in one pass over row blocks.

    The scale is the standard deviation when centering, else the root mean square; a
    column with no spread keeps scale 1, and a column holding an infinite or missing value
    gets mean NaN. Means and squared deviations of the blocks are merged by the pairwise
    update of Chan, Golub & LeVeque (1979), so nothing cancels; the blocks are spread over
    threads (:func:`degenet.exact.blockpass.row_pass`) and the lanes merged in order.
    """
    n, p = X.shape
    rows = min(block_rows, PASS_ROWS, n)

    def start():
        return SimpleNamespace(buffer=np.empty((rows, p)), stats=(0, np.zeros(p), np.zeros(p)),
                               bad=np.zeros(p, dtype=bool))

    def step(lane, rows):
        block = lane.buffer[:rows.stop - rows.start]
        block[...] = X[rows]  # converts to float64 on the way
        block_mean = block.mean(axis=0) if center else np.zeros(p)
        block -= block_mean
        block_m2 = np.einsum("ij,ij->j", block, block)
        # A NaN or infinity in a column makes its block mean or sum of squares non-finite.
        lane.bad |= ~(np.isfinite(block_mean) & np.isfinite(block_m2))
        lane.stats = merge_moments(lane.stats, (len(block), block_mean, block_m2))

    lanes = row_pass(n, rows, start, step)
    count, mean, m2 = lanes[0].stats
    for lane in lanes[1:]:
        count, mean, m2 = merge_moments((count, mean, m2), lane.stats)
    bad = np.logical_or.reduce([lane.bad for lane in lanes])
    with np.errstate(invalid="ignore"):
        scale = np.sqrt(m2 / n)
        scale = usable_scale(scale, mean)
    return np.where(bad, np.nan, mean), np.where(bad, np.nan, scale)


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
        self._centered = bool(np.any(self.mean != 0.0))
        self._buffer = None
        # Blocks are laid out as X is: a column-major X (the design buffer of a DataFrame
        # or a Parquet file) is copied a column at a time, not gathered row by row.
        self._columns = column_major(X)

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

    def subset(self, rows: np.ndarray, block_rows: int | None = None) -> "Design":
        """The same design (columns, centring, scaling) on rows ``rows`` of ``X``, read in
        blocks of at most ``block_rows`` (default: this design's)."""
        return Design(take_rows(self.X, rows), *self._full, self.keep, self.intercept,
                      min(self.block_rows, block_rows or self.block_rows))

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

    @property
    def pass_rows(self) -> int:
        """Rows per block of a threaded pass: ``block_rows``, at most :data:`PASS_ROWS`."""
        return min(self.block_rows, PASS_ROWS, self.n_samples)

    def lane(self, single: bool = False) -> SimpleNamespace:
        """One thread's scratch space for a pass: ``block`` (float64) and ``low`` (float32).

        Flat buffers, so that :meth:`fill` and :meth:`fill_features` both get contiguous
        blocks out of them. The caller adds its own accumulators to the lane.
        """
        size = self.pass_rows * self.n_columns
        return SimpleNamespace(block=np.empty(size),
                               low=np.empty(size, np.float32) if single else None)

    def _view(self, buffer: np.ndarray, n_rows: int, width: int) -> np.ndarray:
        """The first ``n_rows x width`` of a flat lane buffer, in :attr:`_columns`' order."""
        flat = buffer.reshape(-1)[:n_rows * width]
        return flat.reshape(width, n_rows).T if self._columns else flat.reshape(n_rows, width)

    def fill(self, rows: slice, buffer: np.ndarray) -> np.ndarray:
        """``B = [X[rows] - mean, 1]`` written into ``buffer``, so ``A = B diag(column_scale)``.

        The hot passes (``A'WA``, gradients, ``A theta``) apply the diagonal scaling to
        their small results instead of to every element of the block: one elementwise
        pass fewer. Returns a view of ``buffer`` (2-D, or flat from :meth:`lane`).
        """
        r = len(self.keep)
        B = self._view(buffer, rows.stop - rows.start, self.n_columns)
        block = self.X[rows] if self._all else self.X[rows][:, self.keep]
        if self._centered:
            np.subtract(block, self.mean, out=B[:, :r])  # converts to float64 on the way
        else:
            B[:, :r] = block
        if self.intercept:
            B[:, r] = 1.0
        return B

    def fill_features(self, rows: slice, buffer: np.ndarray) -> np.ndarray:
        """``Z = X[rows] - mean`` (no intercept column), contiguous float64, in ``buffer``.

        ``B = [Z, 1]``. Converting into a contiguous block and then centring it in place
        measured 2x faster than :meth:`fill`'s single mixed-type subtraction into a block
        with a row stride of ``q``.
        """
        r = len(self.keep)
        Z = self._view(buffer, rows.stop - rows.start, r)
        np.copyto(Z, self.X[rows] if self._all else self.X[rows][:, self.keep])
        if self._centered:
            Z -= self.mean
        return Z

    def fill_raw(self, rows: slice, buffer: np.ndarray) -> np.ndarray:
        """``X[rows]`` (kept columns) as contiguous float64 in ``buffer``, not centred."""
        r = len(self.keep)
        U = self._view(buffer, rows.stop - rows.start, r)
        np.copyto(U, self.X[rows] if self._all else self.X[rows][:, self.keep])
        return U

    def fill_low(self, rows: slice, buffer: np.ndarray, root: np.ndarray) -> np.ndarray:
        """``diag(root) (X[rows] - mean)`` in float32, straight from ``X``, in ``buffer``.

        The mean is rounded to float32: these rows only feed approximate Hessians.
        """
        r = len(self.keep)
        S = self._view(buffer, rows.stop - rows.start, r)
        np.subtract(self.X[rows] if self._all else self.X[rows][:, self.keep],
                    self.mean.astype(np.float32), out=S, casting="same_kind")
        S *= root.astype(np.float32)[:, None]
        return S

    def raw_blocks(self):
        """Yield ``(rows, B)`` over blocks of ``block_rows``, ``B`` as :meth:`fill` makes it.

        ``B`` is a view of one reused buffer: use it before the next block.
        """
        n = self.n_samples
        if self._buffer is None:
            self._buffer = np.empty((min(n, self.block_rows), self.n_columns))
        for start in range(0, n, self.block_rows):
            rows = slice(start, min(start + self.block_rows, n))
            yield rows, self.fill(rows, self._buffer)

    def blocks(self):
        """Yield ``(rows, A)``: a slice of rows and their block of ``A``, shape ``(m, q)``.

        ``A`` is a view of one reused buffer: use it before asking for the next block.
        """
        r = len(self.keep)
        for rows, A in self.raw_blocks():
            A[:, :r] *= self._inverse_scale
            yield rows, A

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
        if (isinstance(self.X, np.ndarray) and self.X.flags.c_contiguous
                and np.issubdtype(self.X.dtype, np.floating)):
            # One BLAS call on all rows: no copy, all cores.
            return (self.X @ beta).astype(np.float64) + alpha
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
