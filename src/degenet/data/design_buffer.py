"""The design in one buffer, written column by column: no DataFrame of the table between.

The table's columns become the design ``X`` ``(n_samples, n_features)`` without an
intermediate float64 DataFrame or a second full copy (on 2,000,000 x 100 float32 columns
that copy and its ``hstack`` took 8.2 s and 2.4 GB):

- **no copy at all** when the numeric columns already lie side by side in one buffer, as
  pandas keeps a DataFrame's columns of one dtype (``pd.read_parquet``, ``DataFrame(array)``)
  and as a 2-D array holds its columns: ``X`` is then a read-only view of them
  (:func:`side_by_side`);
- else **one buffer**, filled a column at a time: numbers copied in, categorical columns'
  codes mapped through their contrast matrix (:func:`fill_design`). It is laid out by
  columns (Fortran order), the order a column store (Parquet, pandas) hands them over,
  so each column is one contiguous copy.

The dtype: **float32 when every value of the design is exactly a float32** (float32 and
float16 columns, booleans, categorical codes, integers within +-2^24), **else float64**. The
design then holds the table's values exactly either way, so the exact solver's numbers do
not depend on the layout, and float32 tables (the large ones) take half the memory. A
float64 column is not scanned to find out whether its values would fit: float64 in,
float64 out.
"""

from __future__ import annotations

import ctypes
import sys
import threading

import numpy as np

ALIGNMENT = 64  # bytes: Arrow's and XLA's, so JAX can share a float32 buffer without a copy
# Buffers at least this large have their pages mapped on another thread (:func:`populate`).
POPULATE_BYTES = 64 << 20
MADV_POPULATE_WRITE = 23  # Linux 5.14+
FLOAT32_INTEGERS = 2**24  # every integer up to this magnitude is exactly a float32
BLOCK_ROWS = 65536  # rows of a coded column written at a time: its indicator block stays small


def aligned_empty(shape: tuple[int, ...], dtype, order: str = "C") -> np.ndarray:
    """An uninitialized array whose data start on a :data:`ALIGNMENT`-byte boundary."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(size + ALIGNMENT, np.uint8)
    offset = (-raw.ctypes.data) % ALIGNMENT
    return raw[offset:offset + size].view(dtype).reshape(shape, order=order)


def populate(array: np.ndarray) -> threading.Thread | None:
    """Map the pages of a new, large buffer on another thread, while this one fills it.

    A process's first write to a page costs a page fault; on 2,000,000 x 100 float32 those
    took 0.8-2.4 s of the 3.4 s spent filling the buffer a column at a time on a 2-core
    virtual machine, against 0.2 s once mapped. ``madvise(MADV_POPULATE_WRITE)`` maps them
    without changing what they hold, so the writer and this thread never race. Linux only;
    elsewhere, on older kernels and for small buffers it does nothing (returns None).
    """
    if not sys.platform.startswith("linux") or array.nbytes < POPULATE_BYTES:
        return None
    page = 4096
    start = -(-array.ctypes.data // page) * page
    length = (array.ctypes.data + array.nbytes) // page * page - start
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    # The thread holds ``array``: its memory outlives the call.
    thread = threading.Thread(target=lambda keep: madvise(start, length, MADV_POPULATE_WRITE),
                              args=(array,), name="degenet-populate", daemon=True)
    thread.start()
    return thread


def exactly_float32(values: np.ndarray) -> bool:
    """Whether every value of a numeric column ``(n_samples,)`` is exactly a float32."""
    dtype = values.dtype
    if dtype.kind == "b" or (dtype.kind == "f" and dtype.itemsize <= 4):
        return True
    if dtype.kind in "iu":
        if dtype.itemsize <= 2 or len(values) == 0:
            return True
        return bool(-FLOAT32_INTEGERS <= values.min() and values.max() <= FLOAT32_INTEGERS)
    return False


def side_by_side(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The columns ``arrays`` (each ``(n_samples,)``) as one read-only 2-D view, or None.

    They form one when they are views of one array, share a float dtype and a row stride,
    and start equally far apart in memory, in order: the columns of a 2-D array, or of one
    pandas block. The view keeps that array alive, aliases it, and is never written to.
    """
    first = arrays[0]
    if first.dtype not in (np.float32, np.float64) or first.ndim != 1:
        return None
    step = arrays[1].ctypes.data - first.ctypes.data if len(arrays) > 1 else first.itemsize
    owner = _owner(first)
    for j, column in enumerate(arrays):
        if (column.dtype != first.dtype or column.ndim != 1 or len(column) != len(first)
                or column.strides != first.strides or _owner(column) is not owner
                or column.ctypes.data != first.ctypes.data + j * step):
            return None
    if step == 0:
        return None
    return np.lib.stride_tricks.as_strided(first, shape=(len(first), len(arrays)),
                                           strides=(first.strides[0], step), writeable=False)


def _owner(array: np.ndarray):
    """The object that owns ``array``'s memory (the array at the end of its ``base`` chain,
    or the buffer under it)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array if array.base is None else array.base


class DesignWriter:
    """The design written a column at a time into one F-order buffer, left to right.

    ``width`` is the most columns it may get (a column found constant while writing is
    simply not written); :meth:`design` gives the columns written.
    """

    def __init__(self, n_samples: int, width: int, dtype):
        self._X = aligned_empty((n_samples, width), dtype, order="F")
        self._next = 0
        self._populating = populate(self._X)

    def numeric(self, values: np.ndarray) -> None:
        """One numeric column ``(n_samples,)``, converted to the design's dtype."""
        self._X[:, self._next] = values
        self._next += 1

    def coded(self, codes: np.ndarray, matrix: np.ndarray) -> None:
        """A categorical column: its level codes ``(n_samples,)`` and the ``(n_levels,
        n_levels - 1)`` contrast matrix whose rows become the design's."""
        matrix = matrix.astype(self._X.dtype)
        j, k = self._next, matrix.shape[1]
        for start in range(0, len(codes), BLOCK_ROWS):
            rows = slice(start, start + BLOCK_ROWS)
            self._X[rows, j:j + k] = matrix[codes[rows]]
        self._next += k

    def design(self) -> np.ndarray:
        """The columns written, ``(n_samples, written)``, still F-contiguous."""
        if self._populating is not None:
            self._populating.join()
        return self._X[:, :self._next]
