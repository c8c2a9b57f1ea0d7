"""JSON values from numpy and pandas ones: the one converter every JSON form uses."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def plain(value):
    """A JSON value: numpy scalars become Python's, non-finite floats None, tuples lists;
    strings, numbers, booleans, None, lists and dicts stay; anything else becomes its text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, tuple):
        return [plain(item) for item in value]
    if value is None or isinstance(value, (str, int, bool, list, dict)):
        return value
    return str(value)


def number(value) -> float | None:
    """``value`` as a float, or None when it is not finite (JSON has no NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


def records(frame: pd.DataFrame | None) -> list[dict]:
    """The rows of ``frame`` (index dropped) as JSON records with string keys."""
    if frame is None:
        return []
    return [{str(key): plain(value) for key, value in row.items()}
            for row in frame.to_dict("records")]


def default(value):
    """For ``json.dumps(default=...)``: numpy scalars and arrays, tuples and sets."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
