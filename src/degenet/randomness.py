"""The one place where the user's seed becomes the seeds of each random step."""

from __future__ import annotations

import numpy as np

from degenet.errors import DegenetError

_PURPOSES = {"split": 1, "init": 2, "shuffle": 3, "folds": 4, "bootstrap": 5}


def check_seed(seed) -> int:
    """The seed as a non-negative int; errors name the value received."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DegenetError(f"seed must be a non-negative integer; received seed={seed!r}")
    return int(seed)


def derive(seed: int, purpose: str, index: int = 0) -> int:
    """A 31-bit seed for one ``purpose`` (and the ``index``-th model or fold), from ``seed``."""
    sequence = np.random.SeedSequence([check_seed(seed), _PURPOSES[purpose], index])
    return int(sequence.generate_state(1)[0] & 0x7FFFFFFF)
