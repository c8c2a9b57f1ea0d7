"""The validation split: shuffled, stratified for classes, seeded; never "the last rows"."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from degenet.errors import DegenetError
from degenet.randomness import derive

MIN_ROWS = 10


def validation_split(y: np.ndarray, *, validation: float, stratify: bool, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train, val)``; ``val`` holds a ``validation`` share of the rows.

    Classes are stratified so both parts see every class in the same proportion.
    """
    n_samples = len(y)
    if not 0.0 < validation < 1.0:
        raise DegenetError(
            f"validation must be a share between 0 and 1 (e.g. 0.2); received {validation!r}")
    if n_samples < MIN_ROWS:
        raise DegenetError(
            f"the data has {n_samples} usable row(s); degenet needs at least {MIN_ROWS} "
            "to train and validate")
    rows = np.arange(n_samples)
    strata = y if stratify else None
    if stratify:
        counts = np.bincount(y.astype(np.int64))
        if counts[counts > 0].min() < 2:
            strata = None  # a class with one row cannot be split; fall back to a plain shuffle
    try:
        train, val = train_test_split(
            rows, test_size=validation, random_state=derive(seed, "split"), stratify=strata)
    except ValueError as error:
        raise DegenetError(f"cannot split {n_samples} rows for validation: {error}") from None
    return np.sort(train), np.sort(val)
