"""The training rows read in place: the same answers as a copy of them."""

import numpy as np
import pytest

from degenet.exact.newton import _Problem
from degenet.exact.rows import (RowSubset, linear_predictor, run_length, systematic_runs,
                                 take_rows)
from degenet.exact.solve import solve
from degenet.model.families import get_family


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


@pytest.mark.parametrize("order", ["C", "F"])
def test_runs_of_rows_are_read_in_place_or_joined_in_the_design_s_layout(order):
    """A block of one run is a view of ``X``; runs of a column-major ``X`` (a DataFrame's
    design) are joined as slices, column-major; scattered rows are gathered row-major."""
    X = np.asarray(np.arange(400_000.0).reshape(200_000, 2), order=order)
    runs = take_rows(X, systematic_runs(200_000, 10, most=300))  # runs of 300 rows
    one = runs[0:300]
    assert np.shares_memory(one, X)
    np.testing.assert_array_equal(one, X[:300])
    two = runs[250:350]  # the end of the first run and the start of the second
    np.testing.assert_array_equal(two, X[runs.rows[250:350]])
    assert two.flags.f_contiguous == (order == "F") and runs.column_major == (order == "F")
    scattered = take_rows(X, np.arange(0, 10_000, 3))
    block = scattered[10:500]
    np.testing.assert_array_equal(block, X[np.arange(0, 10_000, 3)[10:500]])
    assert block.flags.c_contiguous and not scattered.column_major


def test_the_warm_start_reads_its_runs_in_place(monkeypatch):
    """Newton's tenth of the rows (the warm start) is read in blocks of one run each, so
    every block is a view of the design, none a gathered copy."""
    rng = np.random.default_rng(5)
    X = np.asfortranarray(rng.normal(size=(300_000, 3)).astype(np.float32))
    y = (rng.random(300_000) < 0.5).astype(float)
    read = []
    getitem = RowSubset.__getitem__

    def spy(self, key):
        block = getitem(self, key)
        if isinstance(block, np.ndarray):
            read.append(np.shares_memory(block, X))
        return block

    monkeypatch.setattr(RowSubset, "__getitem__", spy)
    solution = solve("bernoulli", X, y)
    assert read and all(read)  # the warm start ran, on views only
    copied = solve("bernoulli", np.ascontiguousarray(X), y)
    np.testing.assert_allclose(solution.beta, copied.beta, rtol=1e-10)
    assert run_length(300_000, 10) == 468
