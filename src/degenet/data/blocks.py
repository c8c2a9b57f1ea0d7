"""A streamed table's record batches as design blocks, and passes over a process's row groups.

:class:`Coder` turns each record batch into design blocks ``[X, y]`` in the data's units
(categorical columns through their contrast matrix, the target as numbers or class codes),
split into training and validation rows by the hashed positions
(:func:`degenet.data.dataset.validation_mask`): float32 when that holds every value exactly,
else float64 (:class:`~degenet.data.stream.StreamStats`). :class:`Source` runs passes over a
process's row groups with decoding overlapped (:mod:`degenet.data.reader`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from degenet.data.coding import contrast_matrix
from degenet.data.dataset import RowGroup, validation_mask
from degenet.data.encoding import Encoding
from degenet.data.reader import read_row_groups
from degenet.data.schema import NUMERIC
from degenet.data.stream import StreamPlan
from degenet.data.tally import complete_rows, numbers


class Coder:
    """Record batches to float32 design blocks ``[X, y]`` (see the module's text).

    Parameters
    ----------
    plan : StreamPlan
    encoding : Encoding
    classes : tuple or None
        The target's classes (a classifier's): ``y`` is each row's class code.
    order : {"C", "F"}
        The blocks' layout: row-major (gradient descent's shuffle moves rows) or
        column-major (Newton's passes, :meth:`Source.column_major`).
    """

    def __init__(self, plan: StreamPlan, encoding: Encoding, classes: tuple | None,
                 dtype=np.float32, order: str = "C"):
        import pyarrow as pa

        self.plan, self.encoding, self.dtype = plan, encoding, np.dtype(dtype)
        self.classes, self.order = classes, order
        self.width = encoding.n_features + 1
        self._pieces = []
        for column in encoding.schema:
            if column.kind == NUMERIC:
                self._pieces.append((column.name, None, None))
            else:
                matrix = contrast_matrix(len(column.levels), encoding.coding)
                self._pieces.append((column.name, pa.array(list(column.levels)), matrix))
        # the classes as the value set each row's class code is looked up in
        self._class_set = None if classes is None else pa.array(list(classes))
        self._numbers = _ranked(classes)
        self.columns = [*encoding.columns, plan.target]
        # Every column a number already in the design's units (a class code is its value):
        # the block may come from Arrow in one call (:meth:`_whole`).
        codes_are_values = classes is None or (
            self._numbers is not None
            and np.array_equal(self._numbers[0], np.arange(len(classes)))
            and np.array_equal(self._numbers[1], np.arange(len(classes))))  # 0, 1, ..., k - 1
        self._tensor_type = pa.from_numpy_dtype(self.dtype) if (
            codes_are_values and all(matrix is None for _, _, matrix in self._pieces)) else None

    def blocks(self, batch, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(train, val)`` blocks of a record batch, each ``(m, width)``, in :attr:`order`.

        A batch of numbers all of the design's type comes whole from Arrow (:meth:`_whole`).
        Else the columns are written into a column-major block (contiguous writes) and the
        split gathers each part's rows in row order in the same copy: measured on 65,536 x
        21, 3 ms against 12.7 ms for writing the columns into a row-major block.
        """
        block = self._whole(batch)
        if block is not None:
            kept = None
            if self.plan.missing == "drop":
                missing = np.isnan(block).any(axis=1)
                kept = ~missing if missing.any() else None
            return self._split(block, positions, kept)
        block = np.empty((batch.num_rows, self.width), self.dtype, order="F")
        j = 0
        for name, value_set, matrix in self._pieces:
            column = batch.column(name)
            if matrix is None:
                block[:, j] = numbers(column)
                j += 1
                continue
            codes = _codes(column, value_set)
            width = matrix.shape[1]
            block[:, j:j + width] = matrix[np.maximum(codes, 0)]
            j += width
        target = batch.column(self.plan.target)
        block[:, j] = (numbers(target) if self._class_set is None else
                       self._number_codes(target) if self._numbers is not None else
                       _codes(target, self._class_set))
        # Under missing='error' the encoding pass refused every missing value.
        kept = (complete_rows({name: batch.column(name) for name in self.columns},
                              self.plan.kinds) if self.plan.missing == "drop" else None)
        return self._split(block, positions, kept)

    def _whole(self, batch) -> np.ndarray | None:
        """The block of a batch whose columns are all of the design's type, without a
        missing value, by Arrow's own conversion (``RecordBatch.to_tensor``, pyarrow 16+;
        13,107 x 21 float32: 0.36 ms against 0.91 ms column by column); else None.
        Column-major costs a copy of each column; row-major a transpose (49,932 x 21
        float32: 5-6 ns a row against 22-30)."""
        if self._tensor_type is None or not hasattr(batch, "to_tensor"):
            return None
        selected = batch.select(self.columns)
        if any(field.type != self._tensor_type for field in selected.schema) or any(
                column.null_count for column in selected.columns):
            return None
        block = np.asarray(selected.to_tensor(row_major=self.order == "C"))
        if self._class_set is not None:  # a value that is no class gets code -1: the long way
            y = block[:, -1]
            if not np.all((y >= 0) & (y < len(self._class_set)) & (y == np.rint(y))):
                return None
        return block

    def _split(self, block: np.ndarray, positions: np.ndarray, kept: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray]:
        """``(train, val)`` rows of a block, each in :attr:`order` (no copy of a block in
        that order when every row is a training row)."""
        if self.plan.validation == 0 and kept is None:
            return np.require(block, requirements=self.order), block[:0]
        train = ~validation_mask(positions, seed=self.plan.seed, share=self.plan.validation)
        val = ~train
        if kept is not None:
            train, val = train & kept, val & kept
        # np.compress, not block[mask]: the same rows, 0.29 ms instead of 1.07 ms for both
        # parts of 49,932 x 21 float32 rows. Column-major: the transpose's rows, compressed.
        if self.order == "F":
            return (np.compress(train, block.T, axis=1).T,
                    np.compress(val, block.T, axis=1).T)
        return np.compress(train, block, axis=0), np.compress(val, block, axis=0)

    def _number_codes(self, column) -> np.ndarray:
        """Class codes of a number column by a sorted search: Arrow's hashed ``index_in``
        took a third of a block's coding (13,107 rows: 0.6 of 1.8 ms)."""
        import pyarrow as pa

        if column.null_count or not (pa.types.is_floating(column.type)
                                     or pa.types.is_integer(column.type)):
            return _codes(column, self._class_set)
        values, (order, ranked) = column.to_numpy(), self._numbers
        if not np.array_equal(ranked.astype(values.dtype).astype(np.float64), ranked):
            return _codes(column, self._class_set)  # a class the column's type cannot hold
        ranked = ranked.astype(values.dtype)
        at = np.minimum(np.searchsorted(ranked, values), len(ranked) - 1)
        return np.where(ranked[at] == values, order[at], -1)


def _ranked(classes: tuple | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Classes that are all numbers (not booleans) as ``(order, sorted values)``; else None."""
    if not classes or not all(isinstance(c, (int, float, np.integer, np.floating))
                              and not isinstance(c, (bool, np.bool_)) for c in classes):
        return None
    values = np.array(classes, dtype=np.float64)
    if not np.all(np.abs(values) < 2.0**53):  # every class exact in float64, none NaN
        return None
    order = np.argsort(values, kind="stable")
    return order, values[order]


def _codes(column, value_set) -> np.ndarray:
    """Each row's position in ``value_set`` (-1 if missing), int64."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        mapping = _codes(column.dictionary, value_set)
        indices = column.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return np.where(indices >= 0, mapping[np.maximum(indices, 0)], -1)
    if value_set.type != column.type:
        value_set = value_set.cast(column.type)
    codes = pc.index_in(column, value_set=value_set)
    return codes.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


class Source:
    """Passes over a process's row groups of a streamed table, coded by a :class:`Coder`."""

    def __init__(self, coder: Coder, groups: tuple[RowGroup, ...]):
        self.coder, self.groups = coder, tuple(groups)

    def column_major(self) -> "Source":
        """The same passes with column-major blocks: no transpose of each record batch
        (to_tensor), and Newton's centring and weighting run along contiguous columns."""
        coder = self.coder
        return Source(Coder(coder.plan, coder.encoding, coder.classes, coder.dtype, order="F"),
                      self.groups)

    def blocks(self, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(train, val)`` blocks of ``groups`` (default all of this process's), in order."""
        return read_row_groups(self.groups if groups is None else groups, self.coder.columns,
                               self.coder.blocks)

    def each(self, fn: Callable[[np.ndarray], object], groups=None, part: int = 0
             ) -> Iterator:
        """``fn(block)`` of every non-empty training (``part=0``) or validation (``1``)
        block, in order; ``fn`` runs on the reader's worker threads, beside the decoding."""
        def transform(batch, positions):
            block = self.coder.blocks(batch, positions)[part]
            return fn(block) if len(block) else None

        for result in read_row_groups(self.groups if groups is None else groups,
                                      self.coder.columns, transform):
            if result is not None:
                yield result
