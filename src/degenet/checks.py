"""Checks of arguments at the boundary, one of each kind, with the messages users read."""

from __future__ import annotations

import numpy as np

from degenet.errors import DegenetError
from degenet.spelling import option


def is_integer(value) -> bool:
    """Whether ``value`` is a whole number of Python's or numpy's (booleans are not)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def positive_int(name: str, value, *, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``; else an error naming ``name`` and it."""
    if not is_integer(value) or value < minimum:
        kind = "a positive integer" if minimum == 1 else (
            "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}")
        raise DegenetError(f"{name} must be {kind}; received {option(name, value)}")
    return int(value)
