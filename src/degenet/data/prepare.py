"""A table turned into a design: the data stage's output, shared by every model fitted on it."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet.data.carried import Carried, carried_columns, carry, check_carried, restricted
from degenet.data.encoding import Encoding, encode
from degenet.data.tables import read_table
from degenet.errors import DataWarning, DegenetError, warn


@dataclass(frozen=True)
class Prepared:
    """A table turned into a design.

    Attributes
    ----------
    X : ndarray, shape (n_samples, n_features)
        The design in the data's own units, float64.
    target : Series
        The target column, rows aligned with ``X``.
    encoding : Encoding
    carried : Carried
        The offset (or exposure) and cluster groups of the rows, when given.
    """

    X: np.ndarray
    target: pd.Series
    encoding: Encoding
    carried: Carried = Carried()

    @property
    def offset(self) -> np.ndarray | None:
        """Each row's offset (the log of an exposure), shape ``(n_samples,)``, or None."""
        return self.carried.offset

    @property
    def terms(self) -> tuple[str, ...]:
        return self.encoding.terms


def prepare(data, target: str | None = None, *, features: list[str] | None = None,
            formula: str | None = None, coding: str = "treatment", missing: str = "error",
            delimiter: str | None = None, file_encoding: str | None = None,
            columns: list[str] | None = None, offset=None, exposure=None,
            groups=None) -> Prepared:
    """Read ``data`` and encode it for ``target``; errors name the column at fault.

    ``target`` may be omitted when ``formula`` names it (``"y ~ x1 + C(g)"``). ``features``
    or ``formula``, ``coding`` and ``missing`` are those of :func:`degenet.data.encoding.encode`;
    ``delimiter``, ``file_encoding`` and ``columns`` those of
    :func:`degenet.data.tables.read_table`. ``offset``, ``exposure`` and ``groups`` (a
    column name or one value per row of the table) are carried beside the design
    (:mod:`degenet.data.carried`); their rows follow the design's, ``missing`` applies.
    """
    if target is not None and (not isinstance(target, str) or not target):
        raise DegenetError(f"target must be a column name; received target={target!r}")
    frame = read_table(data, columns=columns, delimiter=delimiter, file_encoding=file_encoding)
    roles = carried_columns(offset=offset, exposure=exposure, groups=groups)
    check_carried(frame, roles, target, features, formula)
    names = list(roles.values())
    carrying = any(value is not None for value in (offset, exposure, groups))
    if carrying and not frame.index.is_unique:
        frame = frame.reset_index(drop=True)  # rows are matched by their labels below
    encoding, X, y = encode(frame.drop(columns=names) if names else frame, target,
                            features=features, formula=formula, coding=coding, missing=missing)
    if not carrying:
        return Prepared(X=X, target=y, encoding=encoding)
    carried, keep, absent = carry(frame, frame.index.get_indexer(y.index), offset=offset,
                                  exposure=exposure, groups=groups)
    if not keep.all():
        if missing != "drop":
            raise DegenetError(f"missing values in the {absent}; pass missing='drop' to "
                               "leave those rows out")
        warn(f"dropped {int((~keep).sum())} rows with missing values in the "
                      f"{absent}; {int(keep.sum())} rows remain", DataWarning)
        X, y, carried = X[keep], y[keep], restricted(carried, keep)
        encoding = dataclasses.replace(
            encoding, dropped_rows=encoding.dropped_rows + int((~keep).sum()))
    return Prepared(X=X, target=y, encoding=encoding, carried=carried)


def data_hash(X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None,
              offset: np.ndarray | None = None) -> str:
    """sha256 of the design, target, weights and offset (float64, C order): names the data
    exactly."""
    digest = hashlib.sha256()
    arrays = [X, y] + [a for a in (sample_weight, offset) if a is not None]
    if sample_weight is None and offset is not None:
        arrays.insert(2, np.ones(len(y)))  # the offset never takes the weights' place
    for array in arrays:
        array = np.ascontiguousarray(array, dtype=np.float64)
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
