"""The lean path from table to design: one column at a time, straight into the design.

:func:`encode_columns` and :func:`transform_columns` build the design of a table without
``missing`` values from its columns (:mod:`degenet.data.columns`) into one buffer, or a
view with no copy at all (:mod:`degenet.data.design_buffer`). Each numeric column is read
once: one ``min`` and one ``max`` tell at once whether it is finite (NaN and infinities
propagate into them) and whether it is constant. Categorical columns are coded into the
buffer from their level codes.

They answer None whenever the table needs more than that (a formula, a missing or
non-finite value, numbers written as text, a changed type or an unseen level): the general
path of :mod:`degenet.data.encoding` then builds the design and gives the canonical errors,
so both paths agree by construction. Warnings are returned, not emitted, so that the
caller emits them in the general path's order, and only once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet.data.coding import contrast_matrix, level_name
from degenet.data.columns import Columns
from degenet.data.design_buffer import exactly_float32, fill_design, side_by_side
from degenet.data.schema import (CATEGORICAL, NUMBER, NUMERIC, ColumnSchema, column_dtype,
                                 conform, fit_column)
from degenet.errors import DegenetError


@dataclass(frozen=True)
class Lean:
    """The design of a table, built column by column.

    Attributes
    ----------
    X : ndarray, shape (n_samples, n_features)
    terms : list of str
    schema : tuple of ColumnSchema
        The columns kept in the design.
    excluded : tuple of str
        Constant columns left out.
    warnings : tuple of Warning
        To emit, in order, once the caller has checked the target.
    """

    X: np.ndarray
    terms: list
    schema: tuple
    excluded: tuple
    warnings: tuple


def encode_columns(source: Columns, target: str, columns: list[str], coding: str
                   ) -> Lean | None:
    """The design of ``columns`` (types already checked), or None (see the module's text)."""
    if source.series(target).isna().any():
        return None
    pieces, schema, excluded = [], [], []
    known = _extremes_side_by_side(source, columns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in columns:
            if source.is_numeric(name):
                values = source.numbers(name)
                extremes = known[name] if name in known else _extremes(values)
                if extremes is None:
                    return None
                if extremes[0] == extremes[1]:
                    excluded.append(name)
                    continue
                column = ColumnSchema(name=name, kind=NUMERIC, dtype=NUMBER)
            else:
                values = source.series(name)
                if values.isna().any() or column_dtype(values) == NUMBER:
                    return None
                column = fit_column(values)  # the levels; warns on an identifier-like column
                if len(column.levels) < 2:
                    excluded.append(name)
                    continue
                values = _coded(column, values, coding)
            pieces.append(values)
            schema.append(column)
    if not pieces:
        return None  # the general path names every constant column
    return Lean(X=_design(pieces, source.n_rows), terms=_terms(schema), schema=tuple(schema),
                excluded=tuple(excluded), warnings=tuple(w.message for w in caught))


def transform_columns(schema: tuple[ColumnSchema, ...], coding: str, source: Columns
                      ) -> np.ndarray | None:
    """The design of ``source`` as ``schema`` fitted it, or None (the general path's turn)."""
    pieces = []
    numeric = [column.name for column in schema if column.kind == NUMERIC]
    if not all(source.is_numeric(name) for name in numeric):
        return None
    known = _extremes_side_by_side(source, numeric)
    for column in schema:
        if column.kind == NUMERIC:
            values = source.numbers(column.name)
            if (known[column.name] if column.name in known else _extremes(values)) is None:
                return None
        else:
            values = source.series(column.name)
            if values.isna().any():
                return None
            try:
                values = _coded(column, values, coding)
            except DegenetError:  # a changed type or an unseen level: named by the general path
                return None
        pieces.append(values)
    return _design(pieces, source.n_rows)


def _extremes_side_by_side(source: Columns, columns: list[str]) -> dict:
    """Each numeric column's :func:`_extremes`, from one reduction of the 2-D view they form
    when they lie side by side in memory; empty otherwise. Column by column, a row-major
    array's columns are strided: its 2,000,000 x 100 float32 took 4 s instead of 0.1 s."""
    names = [name for name in columns if source.is_numeric(name)]
    view = side_by_side([source.numbers(name) for name in names]) if (
        source.resident and names) else None
    if view is None:
        return {}
    low, high = view.min(axis=0), view.max(axis=0)
    finite = np.isfinite(low) & np.isfinite(high)
    return {name: (low[j], high[j]) if finite[j] else None for j, name in enumerate(names)}


def _extremes(values: np.ndarray) -> tuple | None:
    """``(min, max)`` of a numeric column, or None when it holds a NaN or an infinity (both
    propagate to the extremes: one pass each checks the whole column)."""
    if len(values) == 0:
        return None
    low, high = values.min(), values.max()
    if values.dtype.kind == "f" and not (np.isfinite(low) and np.isfinite(high)):
        return None
    return low, high


def _coded(column: ColumnSchema, values: pd.Series, coding: str) -> tuple:
    """``(codes, contrast matrix)`` of a categorical column, codes in the schema's levels."""
    categorical = conform(values.to_frame(), (column,))[column.name].array
    return np.asarray(categorical.codes), contrast_matrix(len(column.levels), coding)


def _design(pieces: list, n_rows: int) -> np.ndarray:
    """The design: a view of the columns when they lie side by side, else a new buffer whose
    dtype is float32 when that holds every value exactly (design_buffer's rule)."""
    numeric = [piece for piece in pieces if isinstance(piece, np.ndarray)]
    if len(numeric) == len(pieces):
        view = side_by_side(numeric)
        if view is not None:
            return view
    exact = (all(exactly_float32(piece) for piece in numeric)
             and all(np.array_equal(matrix.astype(np.float32), matrix)
                     for _, matrix in (p for p in pieces if not isinstance(p, np.ndarray))))
    return fill_design(pieces, n_rows, np.float32 if exact else np.float64)


def _terms(schema: list[ColumnSchema]) -> list[str]:
    names = []
    for column in schema:
        if column.kind == CATEGORICAL:
            names.extend(level_name(column.name, level) for level in column.levels[1:])
        else:
            names.append(column.name)
    return names
