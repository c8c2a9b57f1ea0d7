"""The steps every fit shares, in memory (:mod:`degenet.fitting`) or streamed
(:mod:`degenet.streaming`): reading the request (training settings, solver, family), the
network's start, and what gradient descent and the exact check report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from degenet.errors import ConvergenceWarning, DegenetError, warn
from degenet.exact.results import MAX_STD_ERRORS, RegressionResults
from degenet.model.families import Family, get_family, infer_family
from degenet.model.specs import ModelSpec
from degenet.spelling import option
from degenet.train.settings import TrainSettings

SOLVERS = ("gd", "exact")


def settings_from(options: dict) -> TrainSettings:
    """TrainSettings from keyword arguments; unknown names get a clear error."""
    known = TrainSettings.__dataclass_fields__
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise DegenetError(
            f"unknown training option(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return TrainSettings(**options)


def choose_family(spec: ModelSpec, target: pd.Series, family: str | Family | None) -> Family:
    """The family ``spec`` trains on ``target``: named, implied by the spec, or inferred."""
    named = get_family(family) if family is not None else None
    return spec.family_for(infer_family(target), named)


def check_solver(solver: str, spec: ModelSpec) -> None:
    """``solver`` must be ``gd`` or ``exact``, and ``exact`` needs a single-layer model."""
    if solver not in SOLVERS:
        raise DegenetError(f"unknown solver {solver!r}; choose 'gd' (gradient descent) or "
                           "'exact' (Newton / least squares, single-layer models)")
    if solver == "exact" and not spec.is_regression:
        raise DegenetError(f"solver='exact' needs a single-layer model; {spec.text!r} has "
                           "hidden layers: use solver='gd'")


def start_bias(family: Family, y: np.ndarray, n_classes: int | None,
               offset: np.ndarray | None = None, weight: np.ndarray | None = None
               ) -> np.ndarray:
    """The ``eta`` bias starts at the intercept-only optimum (finite: an empty class would
    give log 0), so training spends no epochs learning the base rate. ``weight``: rows as
    frequencies (a streamed table's distinct values and their counts)."""
    weight = np.ones(len(y)) if weight is None else weight
    constant = (family.optimal_constant(y, weight, n_classes) if offset is None
                else family.offset_constant(y, weight, offset))
    return np.clip(np.nan_to_num(constant, neginf=-30.0, posinf=30.0), -30.0, 30.0)


def warn_off_optimum(spec: ModelSpec, regression: RegressionResults,
                     settings: TrainSettings) -> None:
    """A ConvergenceWarning when gradient descent's weights are not within the tolerance
    of the exact optimum (:attr:`RegressionResults.at_optimum`), with the figures."""
    warn(
        f"model {spec.text!r}: gradient descent stopped short of the exact optimum: "
        f"{regression.agreement()}. Tolerance: every coefficient within "
        f"{MAX_STD_ERRORS:g} std error and a likelihood ratio at most the number of "
        "coefficients. The coefficient table is the exact optimum's; for the network's "
        f"own weights there, use {option('solver', 'exact')} or raise "
        f"{option('max_epochs', settings.max_epochs)}.",
        ConvergenceWarning)
