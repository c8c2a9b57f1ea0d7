"""A table turned into a design: the data stage's output, shared by every model fitted on it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet.data.encoding import Encoding, encode
from degenet.data.columns import table_columns
from degenet.errors import DegenetError


# Designs of at most this many cells are hashed (64 MB as float64: about 0.1 s); a larger
# one is not (``data_sha256`` None): a fit that takes seconds would spend a good share of
# them on its provenance.
HASH_MAX_CELLS = 2**23
HASH_BLOCK_ROWS = 65536


@dataclass(frozen=True)
class Prepared:
    """A table turned into a design.

    Attributes
    ----------
    X : ndarray, shape (n_samples, n_features)
        The design in the data's own units: float32 when that holds every value exactly,
        else float64 (:mod:`degenet.data.design_buffer`); may be a read-only view of the
        table's own columns.
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
    table = table_columns(data, columns=columns, delimiter=delimiter,
                          file_encoding=file_encoding)
    encoding, X, y = encode(table, target, features=features, formula=formula, coding=coding,
                            missing=missing)
    return Prepared(X=X, target=y, encoding=encoding)


def data_hash(X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
              ) -> str | None:
    """sha256 of the design, target and weights (float64, C order): names the data exactly.

    None for a design of more than :data:`HASH_MAX_CELLS` cells. Hashed a block of rows at a
    time: the bytes, and so the digest, are those of the whole float64 array, never made.
    """
    if X.size > HASH_MAX_CELLS:
        return None
    digest = hashlib.sha256()
    for array in (X, y) if sample_weight is None else (X, y, sample_weight):
        digest.update(str(np.shape(array)).encode())
        for start in range(0, len(array), HASH_BLOCK_ROWS):
            block = array[start:start + HASH_BLOCK_ROWS]
            digest.update(np.ascontiguousarray(block, dtype=np.float64).tobytes())
    return digest.hexdigest()
