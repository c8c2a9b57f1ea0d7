"""A table turned into a design: the data stage's output, shared by every model fitted on it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet.data.encoding import Encoding, encode
from degenet.data.tables import read_table
from degenet.errors import DegenetError


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
    """

    X: np.ndarray
    target: pd.Series
    encoding: Encoding

    @property
    def terms(self) -> tuple[str, ...]:
        return self.encoding.terms


def prepare(data, target: str | None = None, *, features: list[str] | None = None,
            formula: str | None = None, coding: str = "treatment", missing: str = "error",
            delimiter: str | None = None, file_encoding: str | None = None,
            columns: list[str] | None = None) -> Prepared:
    """Read ``data`` and encode it for ``target``; errors name the column at fault.

    ``target`` may be omitted when ``formula`` names it (``"y ~ x1 + C(g)"``). ``features``
    or ``formula``, ``coding`` and ``missing`` are those of :func:`degenet.data.encoding.encode`;
    ``delimiter``, ``file_encoding`` and ``columns`` those of
    :func:`degenet.data.tables.read_table`.
    """
    if target is not None and (not isinstance(target, str) or not target):
        raise DegenetError(f"target must be a column name; received target={target!r}")
    frame = read_table(data, columns=columns, delimiter=delimiter, file_encoding=file_encoding)
    encoding, X, y = encode(frame, target, features=features, formula=formula, coding=coding,
                            missing=missing)
    return Prepared(X=X, target=y, encoding=encoding)


def data_hash(X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> str:
    """sha256 of the design, target and weights (float64, C order): names the data exactly."""
    digest = hashlib.sha256()
    for array in (X, y) if sample_weight is None else (X, y, sample_weight):
        array = np.ascontiguousarray(array, dtype=np.float64)
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
