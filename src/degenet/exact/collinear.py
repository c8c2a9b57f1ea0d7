"""Exactly collinear columns left out before Newton starts, found from ``R`` when needed."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import linalg

from degenet.exact.design import r_factor
from degenet.exact.linalg import equilibrated_condition
from degenet.exact.solution import find_collinear, relations_of

# cond(A'A) at most this: A is surely of full rank, no QR pass is needed to find its rank.
FULL_RANK_MAX_CONDITION = 1e10


class Collinear(NamedTuple):
    """Columns left out as exactly collinear, their relations, and the condition number."""

    dropped: tuple
    relations: np.ndarray
    condition: float


def drop_collinear(design, weight, G, b):
    """Leave out exactly collinear columns, found from ``R`` when ``A'WA`` is ill-conditioned.

    Returns the reduced design, its ``G`` and ``b``, and a :class:`Collinear`.
    """
    condition2 = equilibrated_condition(G)
    nothing = np.zeros((design.X.shape[1] + 1, 0))
    if condition2 <= FULL_RANK_MAX_CONDITION:
        return design, G, b, Collinear((), nothing, float(np.sqrt(condition2)))
    R = r_factor(design, weight)
    kept, dropped, condition = find_collinear(R, design.n_samples, keep_last=design.intercept)
    if not len(dropped):
        return design, G, b, Collinear((), nothing, condition)
    relations = relations_of(design, R, kept, dropped, design.X.shape[1])
    names = tuple(int(design.keep[c]) for c in dropped)
    reduced = design.restrict(kept)
    _, _, condition = find_collinear(linalg.qr(R[:, kept], mode="r")[0], design.n_samples)
    return reduced, G[np.ix_(kept, kept)], b[kept], Collinear(names, relations, condition)
