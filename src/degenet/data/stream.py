"""A Parquet dataset too large for memory: its encoding learned in one pass, then its blocks.

:func:`plan_stream` checks the columns a fit asks for against the dataset's schema (the
in-memory messages: :mod:`degenet.data.encoding`). :func:`encode_stream` reads only those
columns once, on this process's row groups, and tallies them (:mod:`degenet.data.tally`);
the processes' tallies are gathered and merged in rank order, so every process ends with
the same :class:`~degenet.data.encoding.Encoding`: the object an in-memory fit makes
(columns, levels in the same order, terms, coding, constant columns left out, rows dropped
for missing values), with the same errors and warnings. Formulas need the whole table and
are not streamed.

The design blocks of each record batch then come from :mod:`degenet.data.blocks`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet.data.coding import check_coding, contrast_matrix, level_name
from degenet.data.dataset import Dataset, validation_mask
from degenet.data.encoding import MISSING, Encoding
from degenet.data.reader import read_row_groups
from degenet.data.schema import (BOOLEAN, CATEGORICAL, CATEGORY, ID_MIN_LEVELS, ID_SHARE, NUMBER,
                                 NUMERIC, TEXT, ColumnSchema, missing_error)
from degenet.data.tally import Tally, complete_rows, tally_batch
from degenet.errors import DataWarning, DegenetError, warn


@dataclass(frozen=True)
class StreamPlan:
    """The columns a streamed fit reads and how (fixed from the schema, before any pass)."""

    target: str
    features: tuple
    kinds: dict  # column -> numeric / categorical (the target included)
    dtypes: dict  # column -> number / text / boolean / category
    coding: str = "treatment"
    missing: str = "error"
    seed: int = 0
    validation: float = 0.2
    widths: dict | None = None  # number column -> float32 / small integer / integer / float64

    @property
    def columns(self) -> list[str]:
        return [*self.features, self.target]


def plan_stream(dataset: Dataset, target: str | None, *, features=None, formula=None,
                coding: str = "treatment", missing: str = "error", seed: int = 0,
                validation: float = 0.2) -> StreamPlan:
    """The columns of ``dataset`` a fit uses; errors as the in-memory ones."""
    if formula is not None:
        raise DegenetError("formula= needs the whole table in memory; a streamed dataset "
                           "takes target= and features=[...] (or pass stream=False)")
    check_coding(coding)
    if missing not in MISSING:
        raise DegenetError(f"missing must be 'error' or 'drop'; received missing={missing!r}")
    names = list(dataset.columns)
    if not isinstance(target, str) or not target:
        raise DegenetError(f"target must be a column name; received target={target!r}")
    if target not in names:
        raise DegenetError(f"target column {target!r} not found; columns are: {', '.join(names)}")
    if isinstance(features, str):
        raise DegenetError(f"features must be a list of column names; received {features!r}")
    chosen = [n for n in names if n != target] if features is None else [str(f) for f in features]
    unknown = [n for n in chosen if n not in names]
    if unknown:
        raise DegenetError(f"feature column(s) {', '.join(map(repr, unknown))} not found; "
                           f"columns are: {', '.join(names)}")
    if target in chosen:
        raise DegenetError(f"target column {target!r} is also used as a predictor")
    if len(set(chosen)) != len(chosen):
        raise DegenetError(f"features list a column more than once: {chosen}")
    if not chosen:
        raise DegenetError("no predictor columns: the table has only the target column")
    dtypes = {name: _dtype(dataset.schema.field(name)) for name in [*chosen, target]}
    kinds = {name: NUMERIC if dtype == NUMBER else CATEGORICAL for name, dtype in dtypes.items()}
    widths = {name: _width(dataset.schema.field(name).type) for name in dtypes
              if dtypes[name] == NUMBER}
    return StreamPlan(target=target, features=tuple(chosen), kinds=kinds, dtypes=dtypes,
                      coding=coding, missing=missing, seed=seed, validation=validation,
                      widths=widths)


def _width(kind) -> str:
    import pyarrow as pa

    if pa.types.is_integer(kind):
        return "small integer" if kind.bit_width <= 16 else "integer"
    if pa.types.is_floating(kind) and kind.bit_width <= 32:
        return "float32"
    return "float64"


def _dtype(field) -> str:
    import pyarrow as pa

    kind = field.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return NUMBER
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return TEXT
    if pa.types.is_boolean(kind):
        return BOOLEAN
    if pa.types.is_dictionary(kind):
        return CATEGORY
    raise DegenetError(f"column {field.name!r} has dtype {kind}; degenet takes numbers, text, "
                       "booleans or categories: convert it or leave it out with features=[...]")


def kept_rows(plan: StreamPlan, columns: dict, positions: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """``(train, kept)`` masks of a batch: rows not held out, and rows without a missing
    value in a used column (all rows unless ``missing='drop'``)."""
    train = ~validation_mask(positions, seed=plan.seed, share=plan.validation)
    complete = complete_rows(columns, plan.kinds)
    kept = np.ones(len(train), bool) if complete is None else complete
    return train, kept


def encode_stream(dataset: Dataset, plan: StreamPlan, groups, allgather=None
                  ) -> tuple[Encoding, "StreamStats"]:
    """The encoding pass over ``groups`` (this process's); tallies gathered by ``allgather``
    (every process's JSON value in rank order; default: this process alone)."""
    starts = np.array([g.start for g in dataset.row_groups])

    def tally(batch, positions):
        columns = {name: batch.column(name) for name in plan.columns}
        train, kept = kept_rows(plan, columns, positions)
        incomplete = int((~kept).sum())
        if plan.missing == "error":
            kept = np.ones(len(kept), bool)  # counted, and refused once the pass is done
        start = int(starts[np.searchsorted(starts, positions[0], "right") - 1])
        return tally_batch(columns, plan.kinds, plan.target, train=train, kept=kept,
                           positions=positions, group_start=start, incomplete=incomplete)

    local = Tally()
    for part in read_row_groups(groups, plan.columns, tally):
        local = local.merge(part)
    merged = Tally()
    for value in (allgather or (lambda v: [v]))(local.to_json()):
        merged = merged.merge(Tally.from_json(value))
    return finish(plan, merged)


@dataclass(frozen=True)
class StreamStats:
    """What the pass learned beyond the encoding.

    Attributes
    ----------
    target : Series
        The target's distinct values (or, for a continuous one, its extremes and a few
        values): enough for the family to infer itself and check the target.
    target_counts : dict
        Training rows of each distinct target value, when they were kept.
    target_moments : list
        ``[count, mean, m2]`` of a number target over the training rows.
    mean, m2 : ndarray, shape (n_features,)
        The design columns' means and sums of squared deviations over the training rows.
    n_train, n_val, n_rows, dropped : int
    group_rows : dict
        Row group start -> ``[training, validation]`` rows kept.
    dtype : numpy dtype
        Of the design blocks: float32 when it holds every value exactly (float16 and
        float32 columns, integers within +-2^24, levels), else float64, as in memory.
    """

    target: pd.Series
    target_counts: dict
    target_moments: list
    mean: np.ndarray
    m2: np.ndarray
    n_train: int
    n_val: int
    n_rows: int
    dropped: int
    group_rows: dict
    dtype: type = np.float32


def _all_exact32(plan: StreamPlan, schema, numbers_used, tally: Tally) -> bool:
    """Whether the design and target hold only float32 values (see :class:`StreamStats`)."""
    matrices = [contrast_matrix(len(c.levels), plan.coding) for c in schema
                if c.kind == CATEGORICAL]
    return (all(_exact32(plan, name, tally) for name in numbers_used)
            and all(np.array_equal(m.astype(np.float32), m) for m in matrices))


def _exact32(plan: StreamPlan, name: str, tally: Tally) -> bool:
    """Whether every value of a number column is exactly a float32 (its type, or an
    integer column's extremes, say so)."""
    width = plan.widths.get(name, "float64")
    if width == "integer":
        low, high = tally.extremes.get(name, [0, 0])
        return -2**24 <= low and high <= 2**24
    return width in ("float32", "small integer")


def finish(plan: StreamPlan, tally: Tally) -> tuple[Encoding, StreamStats]:
    """The encoding of a merged tally; errors and warnings in the in-memory order."""
    _check_missing(plan, tally)
    target = _target_values(plan, tally)
    schema, excluded = [], []
    for name in plan.features:
        _check_finite(name, tally, "column")
        column = _column_schema(plan, name, tally)
        if (len(column.levels) < 2 if column.kind == CATEGORICAL
                else tally.extremes.get(name, [0, 0])[0] == tally.extremes.get(name, [0, 0])[1]):
            excluded.append(name)
        else:
            schema.append(column)
    if excluded:
        warn(f"column(s) {', '.join(map(repr, excluded))} constant in the rows used; "
             "left out of the design", DataWarning)
    if not schema:
        raise DegenetError(f"no usable predictors: every column is constant ({excluded})")
    terms, mean, m2 = [], [], []
    for column in schema:
        if column.kind == NUMERIC:
            count, column_mean, column_m2 = tally.moments[column.name]
            terms.append(column.name)
            mean.append(column_mean)
            m2.append(column_m2)
            continue
        matrix = contrast_matrix(len(column.levels), plan.coding)
        shares = np.array([tally.levels[column.name][level][1] for level in column.levels],
                          dtype=np.float64) / max(tally.train, 1)
        column_mean = shares @ matrix
        terms.extend(level_name(column.name, level) for level in column.levels[1:])
        mean.extend(column_mean)
        m2.extend(tally.train * np.maximum(shares @ matrix**2 - column_mean**2, 0.0))
    encoding = Encoding(target=plan.target, columns=tuple(c.name for c in schema),
                        terms=tuple(terms), schema=tuple(schema), coding=plan.coding,
                        missing=plan.missing, dropped_rows=tally.incomplete,
                        excluded=tuple(excluded))
    counts = {level_key(level): entry[1]
              for level, entry in tally.levels.get(plan.target, {}).items()}
    numbers_used = [c.name for c in schema if c.kind == NUMERIC]
    if plan.kinds[plan.target] == NUMERIC:
        numbers_used.append(plan.target)
    stats = StreamStats(target=target, target_counts=counts,
                        target_moments=tally.moments.get(plan.target, [0, 0.0, 0.0]),
                        mean=np.array(mean), m2=np.array(m2), n_train=tally.train,
                        n_val=tally.val, n_rows=tally.rows, dropped=tally.incomplete,
                        group_rows=dict(tally.groups),
                        dtype=np.float32 if _all_exact32(plan, schema, numbers_used, tally)
                        else np.float64)
    return encoding, stats


def level_key(value):
    """A level as a dict key: numbers as floats, so a class ``1`` finds a count kept
    under ``1.0``."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    return value


def _check_missing(plan: StreamPlan, tally: Tally) -> None:
    counts = {name: tally.missing[name] for name in plan.columns if tally.missing.get(name)}
    if not counts:
        return
    if plan.missing == "error":
        raise missing_error(counts, tally.incomplete, tally.rows)
    if tally.incomplete == tally.rows:
        raise DegenetError(f"every row has a missing value in {', '.join(map(repr, counts))}")
    listed = ", ".join(f"{name}: {n}" for name, n in counts.items())
    warn(f"dropped {tally.incomplete} of {tally.rows} rows with missing values "
         f"({listed}); {tally.rows - tally.incomplete} rows remain", DataWarning)


def _check_finite(name: str, tally: Tally, what: str) -> None:
    if name in tally.infinite:
        count, first = tally.infinite[name]
        raise DegenetError(f"{what} {name!r} holds {count} infinite value(s) (first in row "
                           f"{first}); it needs finite numbers")


def _sorted_levels(values) -> list:
    return sorted(values, key=lambda v: (type(v).__name__, v))


def _column_schema(plan: StreamPlan, name: str, tally: Tally) -> ColumnSchema:
    dtype = plan.dtypes[name]
    if dtype == NUMBER:
        return ColumnSchema(name=name, kind=NUMERIC, dtype=NUMBER)
    found = {level: entry for level, entry in tally.levels.get(name, {}).items() if entry[0]}
    levels = (sorted(found, key=lambda level: found[level][2]) if dtype == CATEGORY
              else _sorted_levels(found))
    kept = tally.train + tally.val
    if dtype == TEXT and len(levels) > max(ID_MIN_LEVELS, ID_SHARE * kept):
        warn(
            f"column {name!r} has {len(levels)} distinct text values in {kept} rows; it "
            f"becomes {len(levels) - 1} indicator columns. If it is an identifier, leave it "
            "out with features=[...]", DataWarning)
    return ColumnSchema(name=name, kind=CATEGORICAL, dtype=dtype, levels=tuple(levels))


def _target_values(plan: StreamPlan, tally: Tally) -> pd.Series:
    """The target's distinct values (a continuous one: its extremes and a few values), as
    a Series the family can infer itself from and check; errors as in memory."""
    name = plan.target
    if plan.kinds[name] == CATEGORICAL:
        found = [level for level, entry in tally.levels.get(name, {}).items() if entry[0]]
        values = pd.Series(_sorted_levels(found), name=name,
                           dtype=bool if plan.dtypes[name] == BOOLEAN else object)
    else:
        _check_finite(name, tally, "target column")
        low, high = tally.extremes.get(name, [0.0, 0.0])
        found = ([level for level, entry in tally.levels[name].items() if entry[0]]
                 if tally.values is not None else [low, (low + high) / 2, high])
        values = pd.Series(sorted(set(found)), name=name, dtype=np.float64)
        if tally.values is not None and "integer" in plan.widths.get(name, ""):
            values = values.astype(np.int64)  # an integer column's classes stay integers
    if len(values) < 2:
        value = values.iloc[0] if len(values) else None
        value = value.item() if isinstance(value, np.generic) else value
        raise DegenetError(f"target column {name!r} has a single value {value!r} in every row "
                           "used; there is nothing to predict")
    return values
