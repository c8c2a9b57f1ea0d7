"""The post's toy experiment: people, relationship status, children, age and balloons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from degenet.checks import positive_int
from degenet.randomness import check_seed


def balloons(n: int = 100_000, *, seed: int = 0, partnered_children: float = 1.0) -> pd.DataFrame:
    """People buying balloons, from the post's generator.

    ``relationship`` is -0.5 (partnered) or +0.5 (single); ``children`` and ``age`` are
    uniform on [-0.5, 0.5] (already normalized, as in the post). Then::

        partnered: num_balloons = partnered_children * children - 0.2 * age
                   color = 1 if 0.8 * children + 0.2 * age > 0 else 0
        single:    num_balloons = 0.8 * children + 0.5 * age
                   color = 1 if 0.5 * children + 0.5 * age > 0 else 0

    ``color`` is 1 for a red balloon and 0 for a green one. The post's listing gives
    ``partnered_children = 1.0``; its printed figures match 0.1 (a lost decimal point).

    Returns
    -------
    DataFrame with columns ``relationship, children, age, num_balloons, color``, ``n`` rows.
    """
    positive_int("n", n)
    rng = np.random.default_rng(check_seed(seed))
    relationship = rng.choice([-0.5, 0.5], size=n)
    children = rng.uniform(-0.5, 0.5, size=n)
    age = rng.uniform(-0.5, 0.5, size=n)
    partnered = relationship == -0.5
    num_balloons = np.where(partnered, partnered_children * children - 0.2 * age,
                            0.8 * children + 0.5 * age)
    color = np.where(partnered, 0.8 * children + 0.2 * age > 0, 0.5 * children + 0.5 * age > 0)
    return pd.DataFrame({"relationship": relationship, "children": children, "age": age,
                         "num_balloons": num_balloons, "color": color.astype(np.int64)})
