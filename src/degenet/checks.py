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


def check_flag(name: str, value) -> bool:
    """``value`` must be True or False (not 'no', not None, not 0)."""
    if not isinstance(value, (bool, np.bool_)):
        raise DegenetError(f"{name} must be True or False; received {name}={value!r}")
    return bool(value)


def check_progress(progress) -> None:
    """A progress callback is called as ``progress(done, total)``: it must be callable."""
    if progress is not None and not callable(progress):
        raise DegenetError(f"progress must be a function called as progress(done, total), or "
                           f"None; received progress={progress!r}")


def real_number(name: str, value) -> float:
    """``value`` as a finite float (an int is fine; a bool, text or NaN is not)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)) \
            or not np.isfinite(value):
        raise DegenetError(f"{name} must be a finite number; received {name}={value!r}")
    return float(value)


def random_state_seed(random_state) -> int:
    """scikit-learn's ``random_state``: an int, or None for fresh randomness (the seed
    drawn is recorded in the fit, so the model can still be reproduced)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] & 0x7FFFFFFF)
    if isinstance(random_state, np.random.RandomState) or not is_integer(random_state) \
            or random_state < 0:
        raise DegenetError(f"random_state must be a non-negative integer or None; received "
                           f"random_state={random_state!r}")
    return int(random_state)
