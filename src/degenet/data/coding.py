"""Contrast codings of a categorical predictor: one design column per non-reference level.

With ``k`` levels and the reference ``levels[0]`` each coding is a ``(k, k - 1)`` matrix
``M``; a row at level ``i`` gets the design values ``M[i]``. Column ``j`` is named
``column[levels[j + 1]]``.

- ``treatment`` (dummy): ``M = [0; I]``. A coefficient is the difference between its level
  and the reference; the intercept is the reference level's value.
- ``effect``: ``M = [0; I] - 1/k``, every column sums to zero over the levels. For two
  levels the codes are -0.5 (reference) and +0.5, as in the seed post. A coefficient is
  still the difference from the reference; the intercept is the mean over the levels.
- ``sum`` (deviation, R's ``contr.sum`` with the reference as the omitted level):
  ``M = [-1; I]``. A coefficient is its level's deviation from the mean over the levels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from degenet.data.schema import NUMERIC
from degenet.errors import DegenetError

CODINGS = ("treatment", "effect", "sum")


def check_coding(coding: str) -> str:
    if coding not in CODINGS:
        raise DegenetError(f"coding must be one of {', '.join(CODINGS)}; received {coding!r}")
    return coding


def contrast_matrix(n_levels: int, coding: str) -> np.ndarray:
    """The ``(n_levels, n_levels - 1)`` coding matrix; row 0 is the reference level."""
    identity = np.vstack([np.zeros((1, n_levels - 1)), np.eye(n_levels - 1)])
    if coding == "treatment":
        return identity
    if coding == "effect":
        return identity - 1.0 / n_levels
    if coding == "sum":
        identity[0] = -1.0
        return identity
    raise DegenetError(f"coding must be one of {', '.join(CODINGS)}; received {coding!r}")


def level_name(column: str, level) -> str:
    """``relationship[single]``; booleans and numbers as written in Python."""
    return f"{column}[{level}]"


def code_column(values: pd.Categorical, coding: str) -> np.ndarray:
    """The design block ``(n_samples, n_levels - 1)`` of a conformed categorical column."""
    matrix = contrast_matrix(len(values.categories), coding)
    codes = np.asarray(values.codes)
    block = matrix[np.maximum(codes, 0)]
    block[codes < 0] = np.nan  # a missing value stays missing
    return block


def coded_design(conformed: pd.DataFrame, schema, coding: str) -> tuple[np.ndarray, list]:
    """The float64 design ``(n_samples, n_features)`` of conformed columns, and its terms."""
    blocks, names = [], []
    for column in schema:
        values = conformed[column.name]
        if column.kind == NUMERIC:
            blocks.append(values.to_numpy(dtype=np.float64)[:, None])
            names.append(column.name)
        else:
            blocks.append(code_column(values.array, coding))
            names.extend(level_name(column.name, level) for level in column.levels[1:])
    return np.hstack(blocks), names


def check_finite_design(X: np.ndarray, names, index: pd.Index) -> None:
    """An error naming the first term of ``X`` with a NaN or infinite value, and its rows."""
    bad = ~np.isfinite(X)
    if bad.any():
        j = int(bad.any(axis=0).argmax())
        rows = np.flatnonzero(bad[:, j])
        raise DegenetError(
            f"term {names[j]!r} is not finite (NaN or infinite) in {len(rows)} row(s), first "
            f"row {index[rows[0]]!r}; check the values its transformation is applied to")
