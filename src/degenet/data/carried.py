"""Columns carried beside the design: an offset (or exposure) and cluster groups.

An offset is a known term of each row's linear predictor, with coefficient 1:
``eta = X beta + alpha + offset``. An exposure ``e`` (time at risk, population, ...) enters
as the offset ``log(e)``, so a Poisson mean is a rate times the exposure (statsmodels'
``GLM(..., exposure=)``, Stata's ``exposure()``). Groups name the clusters of a clustered
covariance (``cov_type="cluster"``). Each is a column of the table, or an array with one
value per row of the table; neither is a predictor.

The offset is part of the model: :class:`OffsetSpec` records which column it came from (and
whether it is an exposure) so that new data must carry that column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet.errors import DegenetError

_NAME = re.compile(r"`([^`]+)`|([A-Za-z_][A-Za-z0-9_.]*)")


@dataclass(frozen=True)
class OffsetSpec:
    """Where a model's offset comes from.

    Attributes
    ----------
    column : str or None
        The table's column; None when it was given as an array (new data then needs
        ``offset=`` or ``exposure=`` at prediction).
    exposure : bool
        The column holds an exposure (> 0); the offset is its logarithm.
    """

    column: str | None
    exposure: bool = False

    @property
    def argument(self) -> str:
        return "exposure" if self.exposure else "offset"

    def values(self, frame: pd.DataFrame, given=None) -> np.ndarray:
        """Each row's offset for a new table: ``given`` (an array, as the model was fitted:
        exposure or offset), else the recorded column; an error names what is missing."""
        if given is None and self.column is None:
            raise DegenetError(
                f"this model was fitted with {self.argument}= given as an array; pass "
                f"{self.argument}=... with one value per row of the new data")
        if given is None and self.column not in frame.columns:
            raise DegenetError(
                f"column {self.column!r} missing from the data; the model adds its "
                f"{'log ' if self.exposure else ''}values to the linear predictor "
                f"({self.argument}={self.column!r})")
        source = frame[self.column] if given is None else given
        values = _numbers(source, self.argument, self.column, len(frame))
        if np.isnan(values).any():
            where = np.flatnonzero(np.isnan(values))[0]
            raise DegenetError(f"{self.name} is missing in row {frame.index[where]!r}; "
                               "the model cannot predict that row")
        return _as_offset(values, self.exposure, self.name)

    def without_column(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` without the offset's column (it is no predictor)."""
        if self.column is None or self.column not in frame.columns:
            return frame
        return frame.drop(columns=[self.column])

    @property
    def name(self) -> str:
        """How messages name it: ``exposure column 'years'``, or ``offset``."""
        return (f"{self.argument} column {self.column!r}" if self.column is not None
                else self.argument)

    def to_dict(self) -> dict:
        return {"column": self.column, "exposure": self.exposure}

    @classmethod
    def from_dict(cls, data: dict | None) -> "OffsetSpec | None":
        if data is None:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("exposure", False), bool):
            raise DegenetError(f"not a degenet offset: {data!r}")
        column = data.get("column")
        return cls(column=None if column is None else str(column),
                   exposure=bool(data.get("exposure", False)))


@dataclass(frozen=True)
class Carried:
    """The carried columns' values on the rows of the design.

    Attributes
    ----------
    offset : ndarray, shape (n_samples,), or None
        Already the log of an exposure.
    spec : OffsetSpec or None
    groups : ndarray of int, shape (n_samples,), or None
        Cluster codes ``0..n_groups-1``.
    group_column : str or None
    """

    offset: np.ndarray | None = None
    spec: OffsetSpec | None = None
    groups: np.ndarray | None = None
    group_column: str | None = None


def offset_spec(offset, exposure) -> OffsetSpec | None:
    """The spec of ``offset=`` / ``exposure=`` (a column name or an array); not both."""
    if offset is not None and exposure is not None:
        raise DegenetError("pass offset= or exposure= (its log is the offset), not both")
    given = offset if exposure is None else exposure
    if given is None:
        return None
    return OffsetSpec(column=given if isinstance(given, str) else None,
                      exposure=exposure is not None)


def carried_columns(**given) -> dict[str, str]:
    """``{role: column}`` of the roles given as column names (others are arrays or None)."""
    return {role: name for role, name in given.items() if isinstance(name, str)}


def check_carried(frame: pd.DataFrame, roles: dict[str, str], target, features,
                  formula) -> None:
    """Each carried column exists and is not the target or a predictor."""
    for role, name in roles.items():
        if name not in frame.columns:
            raise DegenetError(f"{role} column {name!r} not found; columns are: "
                               f"{', '.join(map(str, frame.columns))}")
        used = (name == target or (features is not None and name in list(features))
                or (formula is not None and name in _words(formula)))
        if used:
            raise DegenetError(f"column {name!r} is the {role} column; it cannot also be the "
                               "target or a predictor")


def carry(frame: pd.DataFrame, positions: np.ndarray, *, offset=None, exposure=None,
          groups=None) -> tuple[Carried, np.ndarray, str]:
    """The carried values on the rows ``positions`` of ``frame``.

    Returns them with a mask of the rows whose values are all present and a phrase naming
    the columns with missing values and their counts ('' when none): dropping or refusing
    those rows is the caller's choice.
    """
    spec = offset_spec(offset, exposure)
    keep = np.ones(len(positions), dtype=bool)
    values = codes = None
    missing = []
    if spec is not None:
        source = frame[spec.column] if spec.column is not None else (
            offset if exposure is None else exposure)
        values = _numbers(source, spec.argument, spec.column, len(frame))[positions]
        absent = np.isnan(values)
        values[absent] = 1.0  # a placeholder: these rows are dropped or refused
        values = _as_offset(values, spec.exposure, spec.name)
        keep &= ~absent
        missing += [f"{spec.name} ({int(absent.sum())} rows)"] if absent.any() else []
    if groups is not None:
        labels = frame[groups] if isinstance(groups, str) else _column(groups, "groups",
                                                                       len(frame))
        codes = pd.factorize(pd.Series(np.asarray(labels, dtype=object)[positions]))[0]
        keep &= codes >= 0
        name = f"groups column {groups!r}" if isinstance(groups, str) else "groups"
        missing += [f"{name} ({int((codes < 0).sum())} rows)"] if (codes < 0).any() else []
    carried = Carried(offset=values, spec=spec, groups=codes,
                      group_column=groups if isinstance(groups, str) else None)
    return carried, keep, ", ".join(missing)


def restricted(carried: Carried, rows: np.ndarray) -> Carried:
    """The carried values on a subset of their rows (a boolean mask)."""
    groups = carried.groups
    if groups is not None:
        groups = pd.factorize(groups[rows])[0]
    return Carried(offset=None if carried.offset is None else carried.offset[rows],
                   spec=carried.spec, groups=groups, group_column=carried.group_column)


def _column(values, what: str, n_rows: int) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or len(array) != n_rows:
        raise DegenetError(f"{what} must be a column name or {n_rows} values, one per row of "
                           f"the table; received shape {array.shape}")
    return array


def _numbers(source, what: str, column: str | None, n_rows: int) -> np.ndarray:
    """Float64 values of a column or an array; NaN where missing."""
    name = f"{what} column {column!r}" if column is not None else what
    values = source if isinstance(source, pd.Series) else _column(source, what, n_rows)
    try:
        numbers = pd.to_numeric(pd.Series(values), errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise DegenetError(f"{name} must hold numbers") from None
    if len(numbers) != n_rows:
        raise DegenetError(f"{name} must have {n_rows} values, one per row; received "
                           f"{len(numbers)}")
    return numbers


def _as_offset(values: np.ndarray, exposure: bool, name: str) -> np.ndarray:
    """The offset: ``values``, or their log for an exposure (which must be > 0)."""
    if np.isinf(values).any():
        raise DegenetError(f"{name} holds an infinite value; it needs finite numbers")
    if not exposure:
        return values
    if (values <= 0).any():
        raise DegenetError(f"{name} holds {values[values <= 0][0]:g}; an exposure must be > 0 "
                           "(its log is the offset)")
    return np.log(values)


def _words(formula: str) -> set[str]:
    """The names a formula mentions (identifiers and back-quoted names)."""
    return {quoted or plain for quoted, plain in _NAME.findall(formula)}
