"""Column roles: which predictors are numbers and which are categories, with their levels.

The schema is fitted once on the training table and checked against every table that is
predicted later: a column whose type changed or that holds an unseen level gets an error
that names it. Everything here is JSON-ready (levels are str, bool, int or float).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet.errors import DataWarning, DegenetError, warn

NUMERIC, CATEGORICAL = "numeric", "categorical"
# What the column held when fitted: numbers, text, booleans or a pandas categorical.
NUMBER, TEXT, BOOLEAN, CATEGORY = "number", "text", "boolean", "category"
# A text column with more distinct values than this share of its rows is probably an ID.
ID_SHARE, ID_MIN_LEVELS = 0.5, 20
DECIMAL_COMMA = r"[+-]?\d*,\d+"


@dataclass(frozen=True)
class ColumnSchema:
    """One predictor column as fitted.

    Attributes
    ----------
    name : str
    kind : {'numeric', 'categorical'}
    dtype : {'number', 'text', 'boolean', 'category'}
        What the column held; a table predicted later must hold the same.
    levels : tuple or None
        The categories in coding order; ``levels[0]`` is the reference level.
    """

    name: str
    kind: str
    dtype: str
    levels: tuple | None = None

    def to_dict(self) -> dict:
        out = {"name": self.name, "kind": self.kind, "dtype": self.dtype}
        if self.levels is not None:
            out["levels"] = list(self.levels)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "ColumnSchema":
        levels = data.get("levels")
        return cls(name=str(data["name"]), kind=str(data["kind"]), dtype=str(data["dtype"]),
                   levels=None if levels is None else tuple(levels))


def column_dtype(values: pd.Series) -> str:
    """``number``, ``text``, ``boolean`` or ``category``; errors name other dtypes.

    An object column of numbers written as text (``"12"``) counts as ``number``; one that
    is mostly numbers with some stray text is an error naming the first stray value.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return CATEGORY
    if pd.api.types.is_bool_dtype(dtype):
        return BOOLEAN
    if pd.api.types.is_numeric_dtype(dtype):
        if pd.api.types.is_complex_dtype(dtype):
            raise DegenetError(f"column {values.name!r} holds complex numbers; it needs reals")
        return NUMBER
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return _object_dtype(values)
    raise DegenetError(
        f"column {values.name!r} has dtype {dtype}; degenet takes numbers, text, booleans or "
        "categories: convert it or leave it out with features=[...]")


def _object_dtype(values: pd.Series) -> str:
    # Judged on the distinct values: a million rows of three labels cost three checks.
    distinct = pd.Series(pd.unique(values.dropna()), dtype=object)
    if len(distinct) == 0:
        return TEXT
    if all(isinstance(v, (bool, np.bool_)) for v in distinct):
        return BOOLEAN
    bad = pd.to_numeric(distinct, errors="coerce").isna().to_numpy()
    if not bad.any():
        return NUMBER
    if bad.all() and distinct.astype(str).str.fullmatch(DECIMAL_COMMA).all():
        raise DegenetError(
            f"column {values.name!r} holds numbers written with decimal commas (e.g. "
            f"{distinct.iloc[0]!r}); save the table with decimal points")
    if (~bad).sum() >= bad.sum():
        raise stray_text_error(values.name, values[values.isin(set(distinct[bad]))])
    if not all(isinstance(v, str) for v in distinct):
        sample = next(v for v in distinct if not isinstance(v, str))
        raise DegenetError(
            f"column {values.name!r} mixes text with {type(sample).__name__} values "
            f"(e.g. {sample!r}); give it one type")
    return TEXT


def stray_text_error(name, stray: pd.Series) -> DegenetError:
    """The error for a numeric column holding text; ``stray`` holds the offending values."""
    first = stray.iloc[0]
    return DegenetError(
        f"column {name!r} holds numbers and {len(stray)} text value(s) such as {first!r} "
        f"(row {stray.index[0]!r}); fix those values or, if they mark missing data, "
        "read them as missing (empty cells) and pass missing='drop'")


def as_numbers(values: pd.Series) -> np.ndarray:
    """The column as float64 ``(n_samples,)``; missing values become NaN."""
    if pd.api.types.is_bool_dtype(values.dtype):
        raise DegenetError(f"column {values.name!r} holds booleans; expected numbers")
    return pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)


def finite_numbers(values: pd.Series, what: str = "column") -> np.ndarray:
    """:func:`as_numbers`, refusing infinite values with the count and the first row."""
    x = as_numbers(values)
    infinite = ~np.isfinite(x)
    if infinite.any():
        raise DegenetError(
            f"{what} {str(values.name)!r} holds {int(infinite.sum())} infinite value(s) (first "
            f"in row {values.index[infinite.argmax()]!r}); it needs finite numbers")
    return x


def fit_column(values: pd.Series) -> ColumnSchema:
    """The schema of a complete (no missing values) predictor column.

    Text and booleans are categorical with levels in sorted order; a pandas categorical
    keeps its declared order (the user's choice, as an R factor does), restricted to the
    levels present. Numbers must be finite.
    """
    name = str(values.name)
    dtype = column_dtype(values)
    if dtype == NUMBER:
        finite_numbers(values)
        return ColumnSchema(name=name, kind=NUMERIC, dtype=NUMBER)
    levels = _observed_levels(values, dtype)
    if dtype == TEXT and len(levels) > max(ID_MIN_LEVELS, ID_SHARE * len(values)):
        warn(
            f"column {name!r} has {len(levels)} distinct text values in {len(values)} rows; "
            f"it becomes {len(levels) - 1} indicator columns. If it is an identifier, leave it "
            "out with features=[...]", DataWarning)
    return ColumnSchema(name=name, kind=CATEGORICAL, dtype=dtype, levels=levels)


def is_constant(column: ColumnSchema, values: pd.Series) -> bool:
    """Whether a complete column holds a single value (it cannot explain anything)."""
    if column.kind == CATEGORICAL:
        return len(column.levels) < 2
    return bool(np.ptp(as_numbers(values)) == 0)


def _observed_levels(values: pd.Series, dtype: str) -> tuple:
    present = pd.unique(values.dropna())
    if dtype == CATEGORY:
        seen = set(present)
        levels = [level for level in values.cat.categories if level in seen]
    else:
        levels = sorted(present, key=lambda v: (type(v).__name__, v))
    return tuple(_plain(values.name, level) for level in levels)


def _plain(name, level):
    """A level as a JSON-ready Python value."""
    if isinstance(level, np.generic):
        level = level.item()
    if isinstance(level, float) and not np.isfinite(level):
        raise DegenetError(f"column {name!r} has a level {level!r}; levels must be finite")
    if not isinstance(level, (str, bool, int, float)):
        raise DegenetError(
            f"column {name!r} has a level {level!r} of type {type(level).__name__}; category "
            "levels must be text, numbers or booleans")
    return level


def conform(frame: pd.DataFrame, schema: tuple[ColumnSchema, ...]) -> pd.DataFrame:
    """The columns of ``schema`` as fitted: float64 numbers and pandas categoricals.

    Errors name a column whose type changed since fitting or that holds an unseen level.
    Missing values stay missing (NaN); callers decide what to do with them.
    """
    columns = {}
    for column in schema:
        values = frame[column.name]
        dtype = column_dtype(values) if values.notna().any() else column.dtype
        if column.kind == NUMERIC:
            if dtype != NUMBER:
                raise _type_change(column, values, dtype)
            columns[column.name] = as_numbers(values)
        else:
            columns[column.name] = _conform_levels(column, values, dtype)
    return pd.DataFrame(columns, index=frame.index)


def _conform_levels(column: ColumnSchema, values: pd.Series, dtype: str) -> pd.Categorical:
    compatible = {TEXT: (TEXT, CATEGORY), BOOLEAN: (BOOLEAN, CATEGORY),
                  CATEGORY: (TEXT, BOOLEAN, NUMBER, CATEGORY)}[column.dtype]
    if dtype not in compatible:
        raise _type_change(column, values, dtype)
    # Match the distinct values to the levels, then map every row's code through that.
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Index(np.asarray(distinct, dtype=object), dtype=object)
    position = pd.Index(list(column.levels), dtype=object).get_indexer(distinct)
    mapped = np.where(codes >= 0, position[codes], -1)
    coded = pd.Categorical.from_codes(mapped, categories=list(column.levels))
    unseen = values[(mapped == -1) & (codes >= 0)]
    if len(unseen):
        new = list(dict.fromkeys(unseen.tolist()))
        raise DegenetError(
            f"column {column.name!r} has level(s) {', '.join(map(repr, new[:5]))} not seen "
            f"when the model was fitted (first in row {unseen.index[0]!r}); known levels: "
            f"{', '.join(map(repr, column.levels))}")
    return coded


def _type_change(column: ColumnSchema, values: pd.Series, dtype: str) -> DegenetError:
    sample = values.dropna().iloc[0] if values.notna().any() else None
    return DegenetError(
        f"column {column.name!r} held {_WORDS[column.dtype]} when the model was fitted; "
        f"received {_WORDS[dtype]} (dtype {values.dtype}, e.g. {sample!r})")


_WORDS = {NUMBER: "numbers", TEXT: "text", BOOLEAN: "booleans", CATEGORY: "categories"}


def missing_counts(frame: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    """Missing values per column, for the columns that have any."""
    counts = frame[columns].isna().sum()
    return {str(name): int(n) for name, n in counts.items() if n > 0}


def missing_error(counts: dict[str, int], n_rows: int, n_samples: int) -> DegenetError:
    """The default answer to missing values: name each column and how many rows."""
    listed = ", ".join(f"{name!r} ({n} row{'s' * (n != 1)})" for name, n in counts.items())
    return DegenetError(
        f"missing values in {len(counts)} column(s): {listed}; {n_rows} of {n_samples} rows "
        "are incomplete. Pass missing='drop' (CLI: --missing drop) to leave those rows out, "
        "or fill them in")
