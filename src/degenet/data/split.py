"""The validation split: shuffled, stratified for classes, seeded; never "the last rows".

A share of 0 holds nothing out: every row trains (the exact solver's default, and gradient
descent then stops on the training loss). There is no least number of rows here: the exact
solver needs as many as the model has coefficients and says so itself; a split needs a row
on each side.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from degenet.errors import DegenetError
from degenet.randomness import derive
from degenet.spelling import option


def validation_split(y: np.ndarray, *, validation: float, stratify: bool, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train, val)``; ``val`` holds a ``validation`` share of the rows.

    Classes are stratified so both parts see every class in the same proportion.
    """
    n_samples = len(y)
    if not 0.0 <= validation < 1.0:
        raise DegenetError(
            "validation must be a share from 0 (no validation rows) to below 1, e.g. 0.2; "
            f"received {option('validation', validation)}")
    rows = np.arange(n_samples)
    if validation == 0.0:
        return rows, rows[:0]
    if n_samples < 2:
        raise DegenetError(
            f"the data has {n_samples} usable row(s): too few to hold out a validation share; "
            f"use {option('validation', 0)} (or more rows)")
    strata = y if stratify else None
    if stratify:
        counts = np.bincount(y.astype(np.int64))
        if counts[counts > 0].min() < 2:
            strata = None  # a class with one row cannot be split; fall back to a plain shuffle
    try:
        train, val = train_test_split(
            rows, test_size=validation, random_state=derive(seed, "split"), stratify=strata)
    except ValueError as error:
        raise DegenetError(f"cannot split {n_samples} rows for validation: {error}; use "
                           f"{option('validation', 0)} or more rows") from None
    return np.sort(train), np.sort(val)
