"""Honest warnings: separation, collinear columns, a large condition number, large variance
inflation factors.

:func:`diagnose` gathers what the reader of a regression must know about its design and
optimum; separation is found by :mod:`degenet.exact.separation`, variance inflation factors
by :mod:`degenet.exact.inflation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from degenet.errors import DataWarning, warn
from degenet.exact.inflation import LARGE_VIF, inflation_note, variance_inflation
from degenet.exact.separation import Separation, find_separation
from degenet.exact.solution import Solution
from degenet.model.family import Family

LARGE_CONDITION = 1e3  # of the standardized design, as statsmodels' note for the raw one


@dataclass(frozen=True)
class Diagnostics:
    """What the reader of a regression must know. ``notes`` are the lines of the summary."""

    separation: Separation | None
    dropped_terms: tuple
    condition_number: float
    notes: tuple
    vif: np.ndarray | None = None  # (n_features,): each term's variance inflation factor
    undefined_variance: str | None = None  # why std errors are NaN: no residual df

    @property
    def withhold(self) -> str | None:
        """Why p-values are withheld, or None."""
        if self.separation is not None:
            return self.separation.message()
        return self.undefined_variance


def diagnose(family: Family, solution: Solution, X: np.ndarray, y: np.ndarray, terms,
             *, intercept: bool = True, classes=None,
             sample_weight: np.ndarray | None = None) -> Diagnostics:
    """Look for separation, collinear columns and ill-conditioning; nothing is emitted."""
    separation = None
    if family.is_classifier:
        separation = find_separation(family, X, y, terms, intercept=intercept, classes=classes,
                                     solution=solution)
    notes = [collinear_note(solution, terms, j) for j in range(len(solution.dropped))]
    if separation is not None:
        notes.append(separation.message() + ".")
    if solution.condition_number > LARGE_CONDITION:
        notes.append(
            f"The condition number of the standardized design is {solution.condition_number:.3g} "
            f"(> {LARGE_CONDITION:g}): strong multicollinearity; the estimates are exact for "
            "these data but sensitive to small changes in them.")
    vif = variance_inflation(X, solution, intercept=intercept, weight=sample_weight)
    if np.nanmax(vif, initial=0.0) > LARGE_VIF:
        notes.append(inflation_note(vif, terms))
    if not solution.converged:
        notes.append(f"The exact solver did not converge in {solution.n_iter} iterations.")
    undefined = None
    if family.scale_estimated and not solution.df_residual > 0:
        undefined = (f"The residual variance is undefined: {solution.n_samples:g} rows for "
                     f"{solution.rank} coefficients leave no residual degrees of freedom, so "
                     "the optimum fits every row and std errors are NaN")
        notes.append(undefined + ".")
    dropped = tuple(terms[j] for j in solution.dropped)
    return Diagnostics(separation=separation, dropped_terms=dropped,
                       condition_number=solution.condition_number, notes=tuple(notes),
                       vif=vif, undefined_variance=undefined)


def emit(diagnostics: Diagnostics, model: str) -> None:
    """Each diagnostic as a :class:`DataWarning` naming the model."""
    for note in diagnostics.notes:
        if "did not converge" not in note:  # the solver warned already
            warn(f"model {model!r}: {note}", DataWarning)


def collinear_note(solution: Solution, terms, j: int) -> str:
    """``'x3' = 0.5 * 'x1' + 2 * 'x2' - 1`` on the training rows, and what was done."""
    column, relation = solution.dropped[j], solution.relations[:, j]
    parts = [f"{relation[i]:+.6g} * {terms[i]!r}" for i in range(len(terms))
             if abs(relation[i]) > 1e-10 * np.abs(relation).max()]
    if abs(relation[-1]) > 1e-10 * max(1.0, np.abs(relation).max()):
        parts.append(f"{relation[-1]:+.6g}")
    combination = " ".join(parts).lstrip("+") or "0"
    return (f"Column {terms[column]!r} is exactly collinear with the others "
            f"({terms[column]!r} = {combination} on the training rows): it was dropped; its "
            "coefficient is fixed at 0 and its std error is NaN.")
