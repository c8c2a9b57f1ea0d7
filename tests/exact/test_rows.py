"""The training rows read in place: the same answers as a copy of them."""

import numpy as np
import pytest

from degenet.exact.rows import RowSubset, linear_predictor, systematic_runs, take_rows
from degenet.exact.solve import solve


def test_row_subsets_gather_what_indexing_would():
    X = np.arange(60.0).reshape(20, 3)
    rows = np.array([1, 4, 5, 9, 12, 19])
    subset = take_rows(X, rows)
    assert isinstance(subset, RowSubset) and subset.shape == (6, 3) and len(subset) == 6
    np.testing.assert_array_equal(subset[1:4], X[rows][1:4])
    np.testing.assert_array_equal(np.asarray(subset[::2]), X[rows][::2])
    np.testing.assert_array_equal(np.asarray(subset[np.array([True, False] * 3)]),
                                  X[rows][::2])
    assert take_rows(X, np.arange(20)) is X


def test_the_solver_on_row_subsets_equals_the_solver_on_copies():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(5000, 4)).astype(np.float32)
    y = (rng.random(5000) < 1 / (1 + np.exp(-X[:, 0] + X[:, 1]))).astype(float)
    rows = np.sort(rng.choice(5000, 4000, replace=False))
    lazy = solve("bernoulli", take_rows(X, rows), y[rows], block_rows=512)
    copied = solve("bernoulli", X[rows], y[rows], block_rows=512)
    np.testing.assert_allclose(lazy.beta, copied.beta, rtol=1e-10)
    np.testing.assert_allclose(lazy.unscaled_covariance, copied.unscaled_covariance, rtol=1e-8)
    beta, alpha = rng.normal(size=(4, 2)), rng.normal(size=2)
    np.testing.assert_allclose(linear_predictor(take_rows(X, rows), beta, alpha),
                               X[rows].astype(np.float64) @ beta + alpha, rtol=1e-12)


@pytest.mark.parametrize("n_samples", [9_000, 200_000, 2_000_003])
def test_systematic_runs_take_one_row_in_ten_from_end_to_end(n_samples):
    rows = systematic_runs(n_samples, 10)
    assert np.all(np.diff(rows) > 0) and rows[0] == 0 and rows[-1] < n_samples
    assert abs(len(rows) - n_samples / 10) <= 4096  # one row in ten, to a run
    breaks = np.flatnonzero(np.diff(rows) > 1)
    run = breaks[0] + 1  # the first run's length
    assert 64 <= run <= 4096 and len(breaks) + 1 >= min(64, n_samples // 640)
    assert rows[-1] >= n_samples - 10 * run  # the last rows are sampled too


def test_rows_of_rows_are_taken_from_the_design_itself():
    X = np.arange(20.0).reshape(10, 2)
    inner = take_rows(X, np.array([1, 3, 5, 7, 9]))
    outer = take_rows(inner, np.array([0, 2, 4]))
    assert outer.X is X and list(outer.rows) == [1, 5, 9]
    np.testing.assert_array_equal(np.asarray(outer), X[[1, 5, 9]])
