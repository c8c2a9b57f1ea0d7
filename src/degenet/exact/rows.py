"""Chosen rows of a design, read block by block: the training rows without a copy of them.

The exact check solves on the training rows, 80% of the design chosen by a seeded split.
``X[train_rows]`` copied them whole (0.64 GB of 2,000,000 x 100 float32, and float64 copies
of them for the figures after it); :class:`RowSubset` hands the solver the same rows,
gathered one block at a time, as it reads them anyway (:mod:`degenet.exact.design`).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from degenet.exact.blockpass import PASS_ROWS, row_pass

LONG_RUN = 256  # rows a run on average: column-major blocks (RowSubset.column_major)


def column_major(X) -> bool:
    """Whether ``X`` (an array or a :class:`RowSubset`) is laid out column by column."""
    if isinstance(X, RowSubset):
        return X.column_major
    return bool(isinstance(X, np.ndarray) and X.flags.f_contiguous and not X.flags.c_contiguous)


class RowSubset:
    """The rows ``rows`` of ``X`` ``(n_samples, n_features)``, in that order.

    Indexing with a slice (or a mask, or positions) gathers those rows: a slice with a
    step, a mask and positions give a new RowSubset; a contiguous slice an array. Sorted
    ``rows`` keep each gather a forward scan of ``X``. ``np.asarray`` gathers every row.
    """

    def __init__(self, X: np.ndarray, rows: np.ndarray):
        self.X, self.rows = X, np.asarray(rows, dtype=np.intp)
        self.dtype, self.ndim = X.dtype, 2
        self.shape = (len(self.rows), X.shape[1])

    def __len__(self) -> int:
        return len(self.rows)

    @cached_property
    def column_major(self) -> bool:
        """Whether gathered blocks are column-major: ``X`` is (a DataFrame's or a Parquet
        file's design) and the rows come in runs of at least :data:`LONG_RUN` on average."""
        runs = 1 + len(_run_starts(self.rows))
        return column_major(self.X) and len(self.rows) >= LONG_RUN * runs

    def __getitem__(self, key):
        if isinstance(key, slice) and key.step in (None, 1):
            return self._gather(self.rows[key])
        return RowSubset(self.X, self.rows[key])

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        """``X[rows]``: a run of consecutive rows as a view, runs of a column-major ``X`` as
        joined slices, other rows by fancy indexing (a row-major block).

        A column-major ``X`` keeps its layout in joined slices: 4,096 rows in runs of 3,125
        of 100 float32 columns took 207 us, against 523 us gathered row by row. Short runs
        (the training rows of a random split) are gathered row by row: blocks in ``X``'s
        column-major layout then made the solve 1.7x slower.
        """
        if len(rows) == 0:
            return self.X[rows]
        breaks = _run_starts(rows)
        if len(breaks) == 0:
            return self.X[rows[0]:rows[-1] + 1]
        if not self.column_major:
            return self.X[rows]
        starts, stops = rows[np.r_[0, breaks]], rows[np.r_[breaks - 1, len(rows) - 1]] + 1
        return np.concatenate([self.X[a:b] for a, b in zip(starts, stops)])

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.X[self.rows], dtype=dtype)


def _run_starts(rows: np.ndarray) -> np.ndarray:
    """Positions in ``rows`` where a run of consecutive rows starts, but the first."""
    return np.flatnonzero(np.diff(rows) != 1) + 1


def take_rows(X: np.ndarray, rows: np.ndarray):
    """Rows ``rows`` of ``X``: ``X`` itself when they are all of its rows, in order; rows
    of a :class:`RowSubset` are taken from its own ``X``."""
    if len(rows) == len(X) and np.array_equal(rows, np.arange(len(X))):
        return X
    if isinstance(X, RowSubset):
        return RowSubset(X.X, X.rows[rows])
    return RowSubset(X, rows)


def systematic_runs(n_samples: int, stride: int, most: int = PASS_ROWS) -> np.ndarray:
    """One row in ``stride`` of ``n_samples``: the first run of rows in each ``stride`` runs.

    Runs of rows, not every ``stride``-th row: in a column-major design (a DataFrame's or a
    Parquet file's) every 10th row lies in every cache line of each column, so reading them
    read the whole design (0.12 s a pass on 2,000,000 x 100 float32, against 0.04 s for
    runs). Runs are at most ``most`` rows and at least 64, and about 64 of them or more
    cover the rows, so a sorted table is still sampled from end to end.
    """
    run = run_length(n_samples, stride, most)
    starts = np.arange(0, n_samples, stride * run)
    rows = (starts[:, None] + np.arange(run)).ravel()
    return rows[rows < n_samples]


def run_length(n_samples: int, stride: int, most: int = PASS_ROWS) -> int:
    """The rows of each run of :func:`systematic_runs`: blocks of this many rows of the
    sample are each one run, read in place (a view, no gather)."""
    return int(max(64, min(most, n_samples // (stride * 64))))


def linear_predictor(X, beta: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``X beta + alpha`` in float64, ``(n_samples, n_outputs)``, a block of rows at a time
    (no float64 copy of ``X``), the blocks spread over the cores; ``X`` an array or a
    :class:`RowSubset`."""
    eta = np.empty((len(X), beta.shape[1]))

    def step(_, rows):
        eta[rows] = np.asarray(X[rows], dtype=np.float64) @ beta + alpha

    row_pass(len(X), PASS_ROWS, lambda: None, step)
    return eta
