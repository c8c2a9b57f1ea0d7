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
