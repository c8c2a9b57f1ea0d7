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
from degenet.data.design_buffer import DesignWriter, side_by_side
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
    extremes : tuple of ndarray
        ``(minima, maxima)`` of the design's columns, learned on the way (for the check of
        their magnitudes, :func:`degenet.data.magnitudes.check_design`).
    """

    X: np.ndarray
    terms: list
    schema: tuple
    excluded: tuple
    warnings: tuple
    extremes: tuple


def encode_columns(source: Columns, target: str, columns: list[str], coding: str,
                   allow_high_cardinality: bool = False) -> Lean | None:
    """The design of ``columns`` (types already checked), or None (see the module's text).

    Categorical columns are read first (their levels size the design), then the buffer is
    filled a numeric column at a time: a Parquet file's columns are each read once, into
    it, and never held together.
    """
    if source.series(target).isna().any():
        return None
    numeric = [name for name in columns if source.is_numeric(name)]
    coded = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in columns:
            if name in numeric:
                continue
            values = source.series(name)
            if values.isna().any() or column_dtype(values) == NUMBER:
                return None
            # the levels; an identifier-like column is refused unless allowed
            column = fit_column(values, allow_high_cardinality)
            coded[name] = (column, _coded(column, values, coding) if len(column.levels) > 1
                           else None)
    known = _extremes_side_by_side(source, numeric)
    X, constant, extremes = _numbers_and_codes(source, columns, numeric, coded, known,
                                               drop_constant=True)
    if X is None:
        return None
    excluded = [name for name in columns
                if name in constant or (name in coded and coded[name][1] is None)]
    schema = [coded[name][0] if name in coded else
              ColumnSchema(name=name, kind=NUMERIC, dtype=NUMBER)
              for name in columns if name not in excluded]
    if not schema:
        return None  # the general path names every constant column
    return Lean(X=X, terms=_terms(schema), schema=tuple(schema), excluded=tuple(excluded),
                warnings=tuple(w.message for w in caught), extremes=extremes)


def _numbers_and_codes(source, columns, numeric, coded, known, drop_constant=False):
    """The design, the constant numeric columns it leaves out when ``drop_constant`` and the
    design columns' ``(minima, maxima)``, or ``(None, None, None)`` when a number is missing
    or infinite: a view when the numbers lie side by side, else a buffer written a column
    at a time."""
    if not coded and len(known) == len(numeric) and all(
            extremes is not None and (extremes[0] != extremes[1] or not drop_constant)
            for extremes in known.values()):
        view = side_by_side([source.numbers(name) for name in numeric])
        if view is not None:
            return view, set(), _stacked([known[name] for name in numeric])
    codes = [piece for _, piece in coded.values() if piece is not None]
    # A column left out as constant has no say in the dtype (when that is known in advance).
    bounds = {name: known.get(name) or source.bounds(name) for name in numeric}
    kept = [name for name in numeric if not (drop_constant and bounds[name] is not None
                                             and bounds[name][0] == bounds[name][1])]
    exact = (all(source.exactly_float32(name) for name in kept)
             and all(np.array_equal(matrix.astype(np.float32), matrix) for _, matrix in codes))
    writer = DesignWriter(source.n_rows, len(numeric) + sum(m.shape[1] for _, m in codes),
                          np.float32 if exact else np.float64)
    constant, found = set(), []
    for name in columns:
        if name in coded:
            if coded[name][1] is not None:
                matrix = coded[name][1][1]  # every level occurs: its values are the matrix's
                found.extend(zip(matrix.min(axis=0), matrix.max(axis=0)))
                writer.coded(*coded[name][1])
            continue
        values = source.numbers(name)
        extremes = known[name] if name in known else _extremes(values)
        if extremes is None:
            return None, None, None
        if drop_constant and extremes[0] == extremes[1]:
            constant.add(name)
        else:
            found.append(extremes)
            writer.numeric(values)
    return writer.design(), constant, _stacked(found)


def _stacked(extremes: list) -> tuple[np.ndarray, np.ndarray]:
    """``[(low, high), ...]`` of the design's columns as ``(minima, maxima)``, float64."""
    pairs = np.array([[float(low), float(high)] for low, high in extremes]).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def transform_columns(schema: tuple[ColumnSchema, ...], coding: str, source: Columns
                      ) -> np.ndarray | None:
    """The design of ``source`` as ``schema`` fitted it, or None (the general path's turn)."""
    numeric = [column.name for column in schema if column.kind == NUMERIC]
    if not all(source.is_numeric(name) for name in numeric):
        return None
    coded = {}
    for column in schema:
        if column.kind == NUMERIC:
            continue
        values = source.series(column.name)
        if values.isna().any():
            return None
        try:
            coded[column.name] = (column, _coded(column, values, coding))
        except DegenetError:  # a changed type or an unseen level: named by the general path
            return None
    known = _extremes_side_by_side(source, numeric)
    X, _, _ = _numbers_and_codes(source, [c.name for c in schema], numeric, coded, known)
    return X


def _extremes_side_by_side(source: Columns, columns: list[str]) -> dict:
    """Each numeric column's :func:`_extremes`, from one reduction of the 2-D view they form
    when they lie side by side in memory, else one by one; for columns not in memory, none.
    Column by column, a row-major array's columns are strided: its 2,000,000 x 100 float32
    took 4 s instead of 0.1 s."""
    names = [name for name in columns if source.is_numeric(name)]
    if not source.resident or not names:
        return {}
    view = side_by_side([source.numbers(name) for name in names])
    if view is None:
        return {name: _extremes(source.numbers(name)) for name in names}
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


def _terms(schema: list[ColumnSchema]) -> list[str]:
    names = []
    for column in schema:
        if column.kind == CATEGORICAL:
            names.extend(level_name(column.name, level) for level in column.levels[1:])
        else:
            names.append(column.name)
    return names
