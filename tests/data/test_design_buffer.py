"""The design's buffer: views only of columns that truly lie side by side, float32 only
where it is exact, coded columns as their contrast matrices give them."""

import gc
import sys

import numpy as np
import pandas as pd
import pytest

from degenet.data.coding import code_column, contrast_matrix
from degenet.data.design_buffer import (POPULATE_BYTES, DesignWriter, aligned_empty,
                                        exactly_float32, populate, side_by_side)


def test_aligned_buffers_start_on_64_bytes():
    for shape, order in [((7, 3), "C"), ((5, 11), "F"), ((1,), "C")]:
        array = aligned_empty(shape, np.float32, order)
        assert array.ctypes.data % 64 == 0 and array.shape == shape
        assert array.flags.c_contiguous if order == "C" else array.flags.f_contiguous


def test_a_view_needs_one_owner_equal_spacing_and_order():
    X = np.random.default_rng(0).normal(size=(50, 4))
    view = side_by_side([X[:, j] for j in range(4)])
    assert view.base is not None and np.shares_memory(view, X) and not view.flags.writeable
    np.testing.assert_array_equal(view, X)
    assert side_by_side([X[:, 0], X[:, 2], X[:, 1]]) is None  # out of order
    assert side_by_side([X[:, 0], X[:, 1], X[:, 3]]) is None  # a gap
    separate = [np.ones(50), np.ones(50)]  # two allocations, however they lie
    assert side_by_side(separate) is None
    assert side_by_side([X[:, 0].astype(np.float32), X[:, 1].astype(np.float32)]) is None
    assert side_by_side([np.arange(50), np.arange(50)]) is None  # integers: a buffer


def test_a_view_keeps_its_columns_alive():
    frame = pd.DataFrame(np.arange(40.0).reshape(10, 4), columns=list("abcd"))
    view = side_by_side([frame[c].to_numpy() for c in "abcd"])
    del frame
    gc.collect()
    for _ in range(5):  # new allocations would reuse freed memory
        np.full((10, 4), -1.0)
    np.testing.assert_array_equal(view, np.arange(40.0).reshape(10, 4))


@pytest.mark.parametrize("values, exact", [
    (np.array([1.5, 2.0], np.float32), True), (np.array([0.1, 2.0]), False),
    (np.array([True, False]), True), (np.array([-2**24, 2**24]), True),
    (np.array([2**24 + 1]), False), (np.array([3], np.uint8), True),
    (np.array([1.0, 2.0]), False),  # float64 is not scanned: float64 in, float64 out
])
def test_float32_only_where_it_is_exact(values, exact):
    assert exactly_float32(values) is exact


@pytest.mark.parametrize("coding", ["treatment", "effect", "sum"])
def test_coded_columns_are_their_contrast_rows(coding):
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 3, 200_000)  # several blocks of rows
    numbers = rng.normal(size=200_000)
    writer = DesignWriter(200_000, 4, np.float64)  # room for one column never written
    writer.numeric(numbers)
    writer.coded(codes, contrast_matrix(3, coding))
    X = writer.design()
    expected = code_column(pd.Categorical.from_codes(codes, ["a", "b", "c"]), coding)
    assert X.flags.f_contiguous and X.shape == (200_000, 3)
    np.testing.assert_array_equal(X[:, 0], numbers)
    np.testing.assert_array_equal(X[:, 1:], expected)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise is Linux's")
def test_pages_mapped_on_another_thread_keep_what_is_written_meanwhile():
    n_rows = POPULATE_BYTES // 4 // 8 + 1000  # 8 float32 columns: just over the threshold
    writer = DesignWriter(n_rows, 8, np.float32)
    assert writer._populating is not None  # mapping, while the columns are written
    columns = [np.full(n_rows, j + 0.5, np.float32) for j in range(8)]
    for column in columns:
        writer.numeric(column)
    X = writer.design()
    assert not writer._populating.is_alive()
    np.testing.assert_array_equal(X, np.column_stack(columns))
    assert populate(np.empty(1000)) is None  # small: nothing to gain
