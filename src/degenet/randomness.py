"""The one place where the user's seed becomes the seeds of each random step."""

from __future__ import annotations

import numpy as np

from degenet.checks import positive_int

_PURPOSES = {"split": 1, "init": 2, "shuffle": 3, "folds": 4, "bootstrap": 5, "sample": 6}


def check_seed(seed) -> int:
    """The seed as a non-negative int; errors name the value received."""
    return positive_int("seed", seed, minimum=0)


def derive(seed: int, purpose: str, index: int = 0) -> int:
    """A 31-bit seed for one ``purpose`` (and the ``index``-th model or fold), from ``seed``."""
    sequence = np.random.SeedSequence([check_seed(seed), _PURPOSES[purpose], index])
    return int(sequence.generate_state(1)[0] & 0x7FFFFFFF)
