"""Turn table columns into a design matrix, the same way at fit and at predict time.

:func:`encode` fits the encoding on the training table: it picks the columns (``features``
or a formula), checks them (stray text, missing and infinite values, a constant target,
constant predictors, magnitudes beyond float32's), learns each categorical column's levels
and builds the design ``X``. The returned :class:`Encoding` is part of the model:
:meth:`Encoding.transform` rebuilds the design of a new table with the same columns, levels
and coding, and :meth:`Encoding.to_dict` saves it as plain JSON.

A table without missing values takes the lean path (:mod:`degenet.data.columnwise`): its
columns go straight into the design, with no DataFrame between (none at all for a
Parquet file or a 2-D array); everything else, and every error, takes the general path
below.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from degenet.data.coding import check_coding, check_finite_design, coded_design
from degenet.data.columns import Columns, table_columns
from degenet.data.columnwise import Lean, encode_columns, transform_columns
from degenet.errors import DataWarning, DegenetError, warn
from degenet.data.formula import (describe_factors, formula_design, model_matrix, parse_formula,
                                  term_names)
from degenet.data.magnitudes import check_design
from degenet.data.schema import (
    CATEGORICAL, NUMBER, NUMERIC, ColumnSchema, column_dtype, conform, finite_numbers, fit_column,
    is_constant, missing_counts, missing_error)

MISSING = ("error", "drop")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Encoding:
    """The fitted encoding of the predictors.

    Attributes
    ----------
    target : str
        The target column.
    columns : tuple of str
        The input columns the design is built from (a table to predict needs them).
    terms : tuple of str
        The names of the design matrix's columns (its coefficients' names), e.g.
        ``age``, ``relationship[single]``, ``children:age``.
    schema : tuple of ColumnSchema
        Per input column: numeric or categorical, what it held, its levels (reference first).
    coding : {'treatment', 'effect', 'sum'}
        How categorical columns are coded without a formula (see :mod:`degenet.data.coding`).
    formula : str or None
        The formula as given; its right-hand side builds the design.
    formula_state : dict or None
        formulaic's learned state as JSON (levels, transform parameters) and the design
        columns it produced (``design``) and kept (``kept``).
    intercept : bool
        False when the formula removes the intercept.
    missing : {'error', 'drop'}
    dropped_rows : int
        Training rows left out for missing values.
    excluded : tuple of str
        Constant columns (or formula terms) left out of the design.
    """

    target: str
    columns: tuple[str, ...]
    terms: tuple[str, ...]
    schema: tuple[ColumnSchema, ...] = ()
    coding: str = "treatment"
    formula: str | None = None
    formula_state: dict | None = field(default=None, compare=True, hash=False)
    intercept: bool = True
    missing: str = "error"
    dropped_rows: int = 0
    excluded: tuple[str, ...] = ()

    @property
    def n_features(self) -> int:
        return len(self.terms)

    @property
    def references(self) -> dict[str, object]:
        """The reference (first) level of each categorical column."""
        return {c.name: c.levels[0] for c in self._schema() if c.kind == CATEGORICAL}

    def describe(self) -> list[str]:
        """One line per categorical column (or formula factor): coding, reference, levels."""
        if self.formula is not None:
            return describe_factors(self.formula_state)
        return [f"{c.name}: {self.coding} coding, reference level {c.levels[0]!r} (levels: "
                f"{', '.join(map(repr, c.levels))})"
                for c in self._schema() if c.kind == CATEGORICAL]

    def transform(self, frame) -> np.ndarray:
        """The design matrix of ``frame``, shape ``(n_samples, n_features)``.

        float32 when that holds every value exactly, else float64
        (:mod:`degenet.data.design_buffer`). Rows keep the order of ``frame``. Columns the
        model does not use are ignored with a :class:`~degenet.errors.DataWarning`; a missing
        column, a changed type, an unseen level or a missing value is an error naming the
        column.
        """
        source = table_columns(frame)
        self._check_columns(source.names)
        if self.formula is None:
            X = transform_columns(self._schema(), self.coding, source)
            if X is not None:
                return X
        frame = source.frame()
        conformed = conform(frame, self._schema())
        counts = missing_counts(conformed, list(self.columns))
        if counts:
            listed = ", ".join(f"{name!r} ({n} row{'s' * (n != 1)})" for name, n in counts.items())
            raise DegenetError(
                f"missing values in {listed}; the model cannot predict incomplete rows: drop or "
                "fill them first")
        return self._design(conformed)

    def _schema(self) -> tuple[ColumnSchema, ...]:
        # An encoding built without a schema (plain numeric columns) reads every column as numbers.
        return self.schema or tuple(ColumnSchema(c, NUMERIC, NUMBER) for c in self.columns)

    def _check_columns(self, names: tuple[str, ...]) -> None:
        absent = [c for c in self.columns if c not in names]
        if absent:
            raise DegenetError(
                f"column(s) {', '.join(map(repr, absent))} missing from the data; the model "
                f"was fitted on: {', '.join(self.columns)}")
        known = {*self.columns, self.target, *self.excluded}  # excluded: named when fitted
        extra = [c for c in names if c not in known]
        if extra:
            warn(
                f"ignoring column(s) the model does not use: {', '.join(map(repr, extra))}",
                DataWarning)

    def _design(self, conformed: pd.DataFrame) -> np.ndarray:
        if self.formula is None:
            X, names = coded_design(conformed, self._schema(), self.coding)
        else:
            X, names = formula_design(conformed, self.formula, self.columns, self.formula_state)
        if tuple(names) != self.terms:
            raise DegenetError(
                f"the design of this table has terms {names}; the model was fitted on "
                f"{list(self.terms)}")
        check_finite_design(X, self.terms, conformed.index)
        return X

    def to_dict(self) -> dict:
        """Plain JSON (str, numbers, booleans, lists, dicts): the model file's encoding."""
        return {
            "version": FORMAT_VERSION, "target": self.target, "columns": list(self.columns),
            "terms": list(self.terms), "schema": [c.to_dict() for c in self.schema],
            "coding": self.coding, "formula": self.formula, "formula_state": self.formula_state,
            "intercept": self.intercept, "missing": self.missing,
            "dropped_rows": self.dropped_rows, "excluded": list(self.excluded)}

    @classmethod
    def from_dict(cls, data: dict) -> "Encoding":
        """The encoding saved by :meth:`to_dict`; a formula is checked before any use."""
        if not isinstance(data, dict) or "target" not in data or "terms" not in data:
            raise DegenetError("not a degenet encoding: expected a dict with 'target' and 'terms'")
        if data.get("version", FORMAT_VERSION) > FORMAT_VERSION:
            raise DegenetError(
                f"encoding format version {data['version']} is newer than this degenet "
                f"reads ({FORMAT_VERSION}); upgrade degenet")
        try:
            formula = data.get("formula")
            if formula is not None:  # refuse a formula calling anything off the allow-list
                parse_formula(formula, [*data["columns"], data["target"]])
            return cls(
                target=str(data["target"]), columns=tuple(data["columns"]),
                terms=tuple(data["terms"]),
                schema=tuple(ColumnSchema.from_dict(c) for c in data.get("schema", ())),
                coding=str(data.get("coding", "treatment")), formula=formula,
                formula_state=data.get("formula_state"),
                intercept=bool(data.get("intercept", True)),
                missing=str(data.get("missing", "error")),
                dropped_rows=int(data.get("dropped_rows", 0)),
                excluded=tuple(data.get("excluded", ())))
        except (KeyError, TypeError, AttributeError) as error:
            raise DegenetError(f"not a valid degenet encoding: {error!r}") from None


def encode(frame, target: str | None = None, *, features: list[str] | None = None,
           formula: str | None = None, coding: str = "treatment", missing: str = "error",
           allow_high_cardinality: bool = False) -> tuple[Encoding, np.ndarray, pd.Series]:
    """Fit the encoding on ``frame``; return it with the design matrix and the target.

    Parameters
    ----------
    frame : DataFrame (or anything :func:`~degenet.data.tables.read_table` reads)
    target : str, optional
        The column to predict; may be omitted when ``formula`` names it (``y ~ ...``).
    features : list of str, optional
        The predictor columns; default every column but the target.
    formula : str, optional
        A Wilkinson formula (formulaic syntax) instead of ``features``.
    coding : {'treatment', 'effect', 'sum'}
        Coding of categorical columns (see :mod:`degenet.data.coding`); a formula codes its own.
    missing : {'error', 'drop'}
        Rows with missing values in the used columns: an error naming the columns, or left
        out with a :class:`~degenet.errors.DataWarning`.
    allow_high_cardinality : bool
        Fit an identifier-like text column (:func:`~degenet.data.schema.fit_column`).

    Returns
    -------
    encoding : Encoding
    X : ndarray, shape (n_samples, n_features)
        In the data's own units, float32 when that holds every value exactly, else float64
        (:mod:`degenet.data.design_buffer`); possibly a read-only view of the table's own
        columns. ``n_samples`` counts the rows kept.
    y : Series, shape (n_samples,)
        The target, aligned with ``X``.
    """
    source = table_columns(frame)
    check_coding(coding)
    if missing not in MISSING:
        raise DegenetError(f"missing must be 'error' or 'drop'; received missing={missing!r}")
    if source.n_rows == 0:
        raise DegenetError("the table has no rows")
    parsed = _parse(source.names, target, features, formula, coding)
    target = parsed.target if parsed is not None else target
    columns = _columns(source, target, features, parsed)
    for column in columns:  # stray text is reported before missing values
        if not source.is_numeric(column):
            column_dtype(source.series(column))
    lean = (encode_columns(source, target, columns, coding, allow_high_cardinality)
            if parsed is None else None)
    if lean is not None:
        return _encode_lean(lean, source.series(target), coding, missing)
    frame = source.frame()
    complete, dropped = _complete_rows(frame, [*columns, target], missing)
    kept = frame if complete is None else frame.iloc[np.flatnonzero(complete)]
    y = _check_target(kept[target])
    schema = tuple(fit_column(kept[c], allow_high_cardinality) for c in columns)
    if parsed is None:
        return _encode_features(kept, y, schema, coding, missing, dropped)
    return _encode_formula(kept, y, schema, parsed, missing, dropped)


def _parse(names, target, features, formula, coding):
    if formula is None:
        if target is None:
            raise DegenetError("name the target: target='column' or formula='target ~ ...'")
        return None
    if features is not None:
        raise DegenetError("pass features=[...] or formula=..., not both")
    if coding != "treatment":
        raise DegenetError(
            f"coding={coding!r} applies to features; in a formula code a column itself, "
            "e.g. C(relationship, contr.sum)")
    parsed = parse_formula(formula, list(names))
    if parsed.target is None and target is None:
        raise DegenetError(f"formula {formula!r} has no target; write 'target ~ ...'")
    if parsed.target is not None and target is not None and parsed.target != target:
        raise DegenetError(f"target={target!r} differs from the formula's target "
                           f"{parsed.target!r}; give one of them")
    if parsed.target is None:
        parsed = dataclasses.replace(parsed, target=target)
    return parsed


def _columns(source: Columns, target, features, parsed) -> list[str]:
    names = source.names
    if not isinstance(target, str) or not target:
        raise DegenetError(f"target must be a column name; received target={target!r}")
    if target not in names:
        raise DegenetError(f"target column {target!r} not found; columns are: {', '.join(names)}")
    if parsed is not None:
        columns = list(parsed.variables)
    elif features is None:
        columns = [c for c in names if c != target and not _row_counter(source, c)]
    else:
        if isinstance(features, str):
            raise DegenetError(f"features must be a list of column names; received {features!r}")
        columns = [str(c) for c in features]
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise DegenetError(
            f"feature column(s) {', '.join(map(repr, unknown))} not found; columns are: "
            f"{', '.join(names)}")
    if target in columns:
        raise DegenetError(f"target column {target!r} is also used as a predictor")
    if len(set(columns)) != len(columns):
        raise DegenetError(f"features list a column more than once: {columns}")
    if not columns:
        raise DegenetError("no predictor columns" + (f" in formula {parsed.text!r}" if parsed
                                                     else f": features={features!r}"))
    return columns


def _row_counter(source: Columns, name: str) -> bool:
    """A headerless row index saved with the table (pandas' ``Unnamed: 0``): left out."""
    if not (name.startswith("Unnamed: ") or not name.strip()):
        return False
    values = source.series(name)
    counter = pd.api.types.is_integer_dtype(values.dtype) and (
        np.array_equal(values.to_numpy(), np.arange(len(values)))
        or np.array_equal(values.to_numpy(), np.arange(1, len(values) + 1)))
    if counter:
        warn(
            f"column {name!r} is a saved row index (0, 1, 2, ...) without a header; left out "
            "(name it in features=[...] to use it)", DataWarning)
    return counter


def _complete_rows(frame: pd.DataFrame, columns: list[str], missing: str
                   ) -> tuple[np.ndarray | None, int]:
    """A mask of the rows to keep (None: all) and how many were dropped."""
    counts = missing_counts(frame, columns)
    if not counts:
        return None, 0
    incomplete = frame[columns].isna().any(axis=1).to_numpy()
    n_dropped = int(incomplete.sum())
    if missing == "error":
        raise missing_error(counts, n_dropped, len(frame))
    if n_dropped == len(frame):
        raise DegenetError(f"every row has a missing value in {', '.join(map(repr, counts))}")
    listed = ", ".join(f"{name}: {n}" for name, n in counts.items())
    warn(
        f"dropped {n_dropped} of {len(frame)} rows with missing values ({listed}); "
        f"{len(frame) - n_dropped} rows remain", DataWarning)
    return ~incomplete, n_dropped


def _check_target(values: pd.Series) -> pd.Series:
    if column_dtype(values) == NUMBER:
        y = finite_numbers(values, "target column")
        if not pd.api.types.is_numeric_dtype(values.dtype):
            values = pd.Series(y, index=values.index, name=values.name)
    distinct = pd.unique(values)
    if len(distinct) < 2:
        value = distinct[0].item() if isinstance(distinct[0], np.generic) else distinct[0]
        raise DegenetError(f"target column {values.name!r} has a single value {value!r} in "
                           "every row used; there is nothing to predict")
    return values


def _warn_excluded(names: list[str], what: str) -> None:
    if names:
        warn(f"{what} {', '.join(map(repr, names))} constant in the rows used; left out of "
             "the design", DataWarning)


def _encode_lean(lean: Lean, target: pd.Series, coding, missing):
    """The encoding of a design the lean path built: the target checked, then its
    warnings, in the general path's order."""
    y = _check_target(target)
    for message in lean.warnings:
        warn(str(message), type(message))
    _warn_excluded(list(lean.excluded), "column(s)")
    check_design(lean.X, lean.terms, lean.extremes)
    encoding = Encoding(target=str(y.name), columns=tuple(c.name for c in lean.schema),
                        terms=tuple(lean.terms), schema=lean.schema, coding=coding,
                        missing=missing, dropped_rows=0, excluded=lean.excluded)
    return encoding, lean.X, y


def _encode_features(kept, y, schema, coding, missing, dropped):
    constant = [c.name for c in schema if is_constant(c, kept[c.name])]
    _warn_excluded(constant, "column(s)")
    schema = tuple(c for c in schema if c.name not in constant)
    if not schema:
        raise DegenetError(f"no usable predictors: every column is constant ({constant})")
    conformed = conform(kept, schema)
    X, names = coded_design(conformed, schema, coding)
    check_finite_design(X, names, conformed.index)
    check_design(X, names)
    encoding = Encoding(target=str(y.name), columns=tuple(c.name for c in schema),
                        terms=tuple(names), schema=schema, coding=coding, missing=missing,
                        dropped_rows=dropped, excluded=tuple(constant))
    return encoding, X, y


def _encode_formula(kept, y, schema, parsed, missing, dropped):
    conformed = conform(kept, schema)
    design, state = model_matrix(parsed.rhs, conformed)
    all_columns = [str(c) for c in design.columns]
    X_all = design.to_numpy(dtype=np.float64)
    constant = [name for j, name in enumerate(all_columns) if np.ptp(X_all[:, j]) == 0]
    _warn_excluded(constant, "formula term(s)")
    kept_columns = [c for c in all_columns if c not in constant]
    if not kept_columns:
        raise DegenetError(f"formula {parsed.text!r} gives no usable (non-constant) terms")
    state = {**state, "design": all_columns, "kept": kept_columns}
    X = X_all[:, [all_columns.index(c) for c in kept_columns]]
    names = term_names(kept_columns)
    check_finite_design(X, names, conformed.index)
    check_design(X, names)
    encoding = Encoding(target=str(y.name), columns=tuple(c.name for c in schema),
                        terms=tuple(names), schema=schema, coding="treatment",
                        formula=parsed.text, formula_state=state, intercept=parsed.intercept,
                        missing=missing, dropped_rows=dropped, excluded=tuple(constant))
    return encoding, X, y
