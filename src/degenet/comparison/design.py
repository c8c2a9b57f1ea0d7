"""How a comparison holds rows out: one split, or K folds drawn ``repeats`` times.

By default (``cv=None``) the size of the table decides. One split scores the models on a
fifth of the rows; on a small table those few rows make the verdict a coin toss that
changes with the seed (iris, 30 held-out rows: seeds 0, 1, 2 said "network", "either",
"network"). Below :data:`SMALL` rows the comparison uses :data:`SMALL_FOLDS`-fold
cross-validation drawn :data:`SMALL_REPEATS` times, judged by the corrected resampled t
(:mod:`degenet.comparison.verdict`), and says so; ``cv=1`` asks for one split whatever the
size. The figures that chose these numbers are in bench/optimum.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from degenet.checks import is_integer, positive_int
from degenet.data.split import validation_split
from degenet.errors import DegenetError
from degenet.randomness import derive
from degenet.spelling import option

SMALL = 5_000
SMALL_FOLDS = 5
SMALL_REPEATS = 2


@dataclass(frozen=True)
class Design:
    """The held-out design of one comparison.

    Attributes
    ----------
    cv : int or None
        K folds, or None for one split.
    repeats : int
    note : str or None
        Why degenet chose it, when the user did not.
    """

    cv: int | None
    repeats: int
    note: str | None = None


class Part(NamedTuple):
    """One fold's rows, as positions in the prepared table.

    ``train`` trains every model, ``val`` is early stopping's, ``test`` is only scored
    (one split: ``test`` is ``val``), and ``whole`` is every row a model may train on when
    it needs no validation rows: ``train`` and ``val`` under folds, ``train`` for one split.
    """

    repeat: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    whole: np.ndarray


def choose_design(cv, repeats, n_samples: int) -> Design:
    """The user's design, checked, or the default for ``n_samples`` rows."""
    if cv is not None and (not is_integer(cv) or not 1 <= cv <= n_samples):
        raise DegenetError(
            f"cv must be a whole number of folds from 2 to the {n_samples} rows (e.g. "
            f"{option('cv', 5)}), 1 for one split, or None for degenet's choice; received "
            f"{option('cv', cv)}")
    positive_int("repeats", repeats)
    if cv == 1 or (cv is None and n_samples >= SMALL):
        if repeats > 1:
            raise DegenetError(f"{option('repeats', repeats)} needs folds (e.g. "
                               f"{option('cv', 5)}); one split is not repeated")
        return Design(cv=None, repeats=1)
    if cv is not None:
        return Design(cv=int(cv), repeats=int(repeats))
    repeats = max(repeats, SMALL_REPEATS)
    return Design(cv=SMALL_FOLDS, repeats=repeats, note=(
        f"{n_samples} rows, fewer than {SMALL:,}: {SMALL_FOLDS}-fold cross-validation drawn "
        f"{repeats} times instead of one split, whose verdict on few rows changes with the "
        f"seed ({option('cv', 1)} for one split)"))


def plan(y: np.ndarray, stratify: bool, validation: float, seed: int, design: Design
         ) -> list[Part]:
    """The parts of ``design``; under folds, ``val`` is a ``validation`` share of each fold's
    training rows, so the test rows are only ever scored."""
    if design.cv is None:
        train, val = validation_split(y, validation=validation, stratify=stratify, seed=seed)
        return [Part(0, train, val, val, train)]
    parts = []
    for repeat in range(design.repeats):
        folds = _splitter(y, stratify, design.cv, derive(seed, "folds", repeat))
        for k, (outer, test) in enumerate(folds.split(np.zeros(len(y)), y)):
            inner_train, inner_val = validation_split(
                y[outer], validation=validation, stratify=stratify,
                seed=derive(seed, "folds", 1000 + repeat * design.cv + k))
            parts.append(Part(repeat, outer[inner_train], outer[inner_val], np.sort(test),
                              np.sort(outer)))
    return parts


def _splitter(y: np.ndarray, stratify: bool, cv: int, random_state: int):
    if stratify and np.bincount(y.astype(np.int64)).min(initial=cv) >= cv:
        return StratifiedKFold(cv, shuffle=True, random_state=random_state)
    return KFold(cv, shuffle=True, random_state=random_state)  # a class too small to stratify
