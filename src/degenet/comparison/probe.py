"""A fit asked about tables it never saw: held-out rows with one input changed.

Effects and partial dependence both work on the *table*, not on the design matrix: a
change of one input column goes through the fit's own encoding (its coding, its formula's
interactions and splines), so every rung of the ladder, whatever its design, is asked the
same question in the analyst's units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from degenet.data.coding import level_name
from degenet.data.schema import CATEGORICAL, NUMBER, NUMERIC, ColumnSchema
from degenet.fitted import Fit
from degenet.model.compiled import logits


def inputs(fitted: Fit) -> tuple[ColumnSchema, ...]:
    """The fit's input columns as fitted: numeric or categorical, with their levels."""
    encoding = fitted.encoding
    return encoding.schema or tuple(ColumnSchema(c, NUMERIC, NUMBER) for c in encoding.columns)


def blocks(fitted: Fit) -> dict[str, list[int]] | None:
    """The design columns each input fills, for a design without a formula: one for a
    number, one per non-reference level for a category. None for a formula's design, whose
    columns may mix inputs (interactions): it is rebuilt from the table."""
    encoding = fitted.encoding
    if encoding.formula is not None:
        return None
    position = {term: j for j, term in enumerate(encoding.terms)}
    return {c.name: ([position[c.name]] if c.kind != CATEGORICAL else
                     [position[level_name(c.name, level)] for level in c.levels[1:]])
            for c in inputs(fitted)}


def design(fitted: Fit, frame: pd.DataFrame) -> np.ndarray:
    """The fit's design of ``frame``, shape ``(n_rows, n_features)``: only its columns read."""
    return fitted.encoding.transform(frame[list(fitted.encoding.columns)])


def linear_predictor(fitted: Fit, frame: pd.DataFrame, X: np.ndarray | None = None,
                     offset: np.ndarray | None = None) -> np.ndarray:
    """``eta`` of the fit on ``frame`` (or on its design ``X``), plus each row's ``offset``
    (none: the model's own ``eta``), ``(n_rows, n_outputs)``; a network's by its compiled
    program, a regression's from the weights it holds."""
    X = design(fitted, frame) if X is None else X
    if fitted.exact is not None:  # a regression: its weights, no program to compile
        eta = np.asarray(X, dtype=np.float64) @ fitted.exact.beta + fitted.exact.alpha
        return eta if offset is None else eta + np.asarray(offset, dtype=np.float64)[:, None]
    return logits(fitted.model, X, offset)


def identified(fitted: Fit, eta: np.ndarray) -> np.ndarray:
    """``eta`` with what the family cannot see removed: softmax logits are identified only
    up to a shift per row, so each row is centred across classes; others are unchanged."""
    if fitted.family.contrasts:
        return eta - eta.mean(axis=1, keepdims=True)
    return eta


def mean(fitted: Fit, eta: np.ndarray) -> np.ndarray:
    """The predicted mean, ``(n_rows, n_means)``: one column, or one per class."""
    mu = fitted.family.mean(fitted.family.squeeze(np.asarray(eta, dtype=np.float64)))
    return mu[:, None] if mu.ndim == 1 else mu


def with_value(frame: pd.DataFrame, column: str, value) -> pd.DataFrame:
    """``frame`` with every row's ``column`` set to ``value`` (a scalar or an array)."""
    changed = frame.copy(deep=False)
    changed[column] = value
    return changed


def output_labels(fitted: Fit) -> list:
    """One label per column of :func:`mean`: None, or the class of each probability."""
    if fitted.family.contrasts:
        return [str(label) for label in fitted.classes]
    return [None]


__all__ = ["blocks", "design", "identified", "inputs", "linear_predictor", "mean", "output_labels", "with_value"]
