"""What each input does: average marginal effects of every model, on held-out rows.

For a numeric input ``x`` the average marginal effect is the mean over held-out rows of
``d mu / d x`` (the "average marginal effect" of Bartus 2005 and Williams 2012), in the
mean's units per unit of ``x``. It is taken by the chain rule through the fit's encoding:

    d mu / d x = mu'(eta) * sum_j (d eta / d X_j) (d X_j / d x)

``d eta / d X`` by automatic differentiation of the Keras model
(:func:`degenet.model.compiled.logits_gradient`, one jitted call); ``d X / d x`` is the
unit vector of the column for a plain design, else central differences of the fitted
encoding (exact for interactions, ``O(h^2)`` for splines); ``mu'`` is a central difference
of the family's inverse link, in float64. For a categorical input each non-reference level
gets the average change of ``mu`` when every row switches from the reference level to it; a
numeric input with two values (a 0/1 indicator, the post's -0.5/+0.5) gets the average
change when every row switches from the low to the high value, per unit. A categorical
target has one effect per class probability.

Intervals (``confidence``, default 95%):

* **One split**: the mean over ``n`` held-out rows with its std error ``sd / sqrt(n)``
  and a t quantile: how sure we are of the average over new rows, the trained model held
  fixed (the verdict's reading). For a single-output regression the sampling error of its
  coefficients is added by the delta method (its covariance at the exact optimum), so a
  regression's effect carries the uncertainty its coefficient table reports; when the
  regression's p-values are withheld (separation), so is the interval.
* **K folds**: Nadeau and Bengio's corrected resampled t over the folds' means, retraining
  included, as the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from degenet.comparison.probe import (design, inputs, linear_predictor, mean, output_labels,
                                      with_value)
from degenet.comparison.verdict import CONFIDENCE, corrected_t_interval
from degenet.data.coding import level_name
from degenet.data.schema import CATEGORICAL
from degenet.fitted import Fit
from degenet.model.compiled import logits_gradient

COLUMNS = ("model", "term", "class", "kind", "effect", "ci_low", "ci_high")
STEP = 1e-4  # of a column's spread: the encoding's central difference


@dataclass(frozen=True)
class RowEffects:
    """One input's effect on every held-out row, for one fit.

    Attributes
    ----------
    term : str
        The input column, or ``column[level]`` for a level of a categorical one.
    kind : {'slope', 'switch'}
        A derivative per unit, or the change when switching level (per unit for numbers).
    values : ndarray, shape (n_rows, n_means)
        Each row's effect on each mean (one column, or one per class).
    parameter_gradient : ndarray, shape (n_means, n_params) or None
        d (mean effect) / d (beta, alpha) of a single-output regression, for the delta method.
    """

    term: str
    kind: str
    values: np.ndarray
    parameter_gradient: np.ndarray | None = None


def two_valued(frame: pd.DataFrame, columns) -> dict[str, tuple[float, float]]:
    """The numeric columns of ``frame`` holding exactly two values: ``{name: (low, high)}``."""
    found = {}
    for column in columns:
        if column.kind != CATEGORICAL:
            distinct = np.unique(frame[column.name].to_numpy(dtype=np.float64))
            if len(distinct) == 2:
                found[column.name] = (float(distinct[0]), float(distinct[1]))
    return found


def row_effects(fitted: Fit, frame: pd.DataFrame, switches: dict[str, tuple[float, float]],
                offset: np.ndarray | None = None) -> list[RowEffects]:
    """Every input's effect on each row of ``frame`` (the held-out rows of the table).

    ``switches`` names the two-valued numeric columns (:func:`two_valued` of the whole table);
    ``offset`` is each row's, when the model adds one to its linear predictor.
    """
    X = design(fitted, frame)
    eta = linear_predictor(fitted, frame, X, offset)
    gradient = None
    found = []
    for column in inputs(fitted):
        if column.kind == CATEGORICAL:
            found += [_switch(fitted, frame, column.name, (column.levels[0], level),
                              level_name(column.name, level), per=1.0, offset=offset)
                      for level in column.levels[1:]]
            continue
        if column.name in switches:
            low, high = switches[column.name]
            found.append(_switch(fitted, frame, column.name, (low, high), column.name,
                                 per=high - low, offset=offset))
            continue
        if gradient is None:
            gradient = _gradient(fitted, X, offset)
        found.append(_slope(fitted, frame, X, eta, gradient, column.name))
    return found


def _gradient(fitted: Fit, X: np.ndarray, offset: np.ndarray | None) -> np.ndarray:
    """``d eta / d X`` by row, ``(n, n_outputs, n_features)``: a regression's is its beta."""
    if fitted.exact is not None:
        return np.broadcast_to(fitted.exact.beta.T[None], (len(X), *fitted.exact.beta.T.shape))
    return logits_gradient(fitted.model, X, offset)


def _slope(fitted, frame, X, eta, gradient, column) -> RowEffects:
    jacobian = _design_jacobian(fitted, frame, X, column)  # d X / d x, (n, n_features)
    direction = np.einsum("nkj,nj->nk", gradient, jacobian)  # d eta / d x
    step = 1e-5 / max(1.0, float(np.abs(direction).max(initial=0.0)))
    up, down = mean(fitted, eta + step * direction), mean(fitted, eta - step * direction)
    values = (up - down) / (2.0 * step)
    return RowEffects(term=column, kind="slope", values=values,
                      parameter_gradient=_slope_gradient(fitted, X, eta, jacobian))


def _switch(fitted, frame, column, levels, term, *, per: float, offset) -> RowEffects:
    """Every row switched from ``levels[0]`` to ``levels[1]``: the change of ``mu``, / ``per``."""
    X_low, X_high = (design(fitted, with_value(frame, column, value)) for value in levels)
    eta_low, eta_high = (linear_predictor(fitted, frame, Z, offset) for Z in (X_low, X_high))
    values = (mean(fitted, eta_high) - mean(fitted, eta_low)) / per
    gradient = None
    if _is_readable(fitted):
        gradient = (_weighted_mean(fitted, eta_high, X_high)
                    - _weighted_mean(fitted, eta_low, X_low)) / per
    return RowEffects(term=term, kind="switch", values=values, parameter_gradient=gradient)


def _design_jacobian(fitted: Fit, frame: pd.DataFrame, X: np.ndarray, column: str
                     ) -> np.ndarray:
    encoding = fitted.encoding
    if encoding.formula is None:  # a plain design: the column is its own term
        jacobian = np.zeros_like(X)
        jacobian[:, encoding.terms.index(column)] = 1.0
        return jacobian
    x = frame[column].to_numpy(dtype=np.float64)
    h = STEP * (float(np.std(x)) or 1.0)
    up, down = (design(fitted, with_value(frame, column, x + s)) for s in (h, -h))
    return (up - down) / (2.0 * h)


def _is_readable(fitted: Fit) -> bool:
    """A single-output regression: the delta method applies."""
    return fitted.exact is not None and not fitted.family.contrasts


def _inverse_link_derivatives(fitted: Fit, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``mu'(eta)`` and ``mu''(eta)`` of a single-output family, central differences."""
    eta = eta[:, 0]
    h = 1e-4 * np.maximum(1.0, np.abs(eta))
    f = fitted.family.mean
    up, mid, down = f(eta + h), f(eta), f(eta - h)
    return (up - down) / (2 * h), (up - 2 * mid + down) / h**2


def _weighted_mean(fitted: Fit, eta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Mean over rows of ``d mu / d (beta, alpha)``: ``mu'(eta) [X, 1]``, ``(1, n_params)``."""
    first, _ = _inverse_link_derivatives(fitted, eta)
    return _with_intercept(fitted, (first[:, None] * X).mean(axis=0), first.mean())


def _slope_gradient(fitted: Fit, X, eta, jacobian) -> np.ndarray | None:
    """d/d(beta, alpha) of the mean of ``mu'(eta) (J beta)`` for a regression."""
    if not _is_readable(fitted):
        return None
    beta = fitted.exact.beta[:, 0]
    first, second = _inverse_link_derivatives(fitted, eta)
    slope = jacobian @ beta
    d_beta = (second[:, None] * slope[:, None] * X + first[:, None] * jacobian).mean(axis=0)
    return _with_intercept(fitted, d_beta, float((second * slope).mean()))


def _with_intercept(fitted: Fit, d_beta: np.ndarray, d_alpha: float) -> np.ndarray:
    parts = [d_beta, [d_alpha]] if fitted.intercept else [d_beta]
    return np.concatenate(parts)[None, :]


def effect_rows(model: str, fits: list[Fit], per_fold: list[list[RowEffects]], *,
                n_train: float, confidence: float = CONFIDENCE) -> list[dict]:
    """The table's rows for one model: each term's effect and interval, over the folds."""
    rows = []
    labels = output_labels(fits[0])
    for position, first in enumerate(per_fold[0]):
        for k, label in enumerate(labels):
            folds = [effects[position].values[:, k] for effects in per_fold]
            effect, low, high = _interval(fits, [e[position] for e in per_fold], folds, k,
                                          n_train=n_train, confidence=confidence)
            rows.append({"model": model, "term": first.term, "class": label,
                         "kind": first.kind, "effect": effect, "ci_low": low, "ci_high": high})
    return rows


def _interval(fits, effects, folds, k, *, n_train, confidence):
    """The effect and its interval: one split (rows, plus the coefficients' error for a
    regression), or the corrected resampled t over folds."""
    means = np.array([np.mean(values) for values in folds])
    if len(folds) > 1:
        n_test = float(np.mean([len(values) for values in folds]))
        low, high = corrected_t_interval(means, n_train=n_train, n_test=n_test,
                                         confidence=confidence)
        return float(means.mean()), low, high
    values, fitted, found = folds[0], fits[0], effects[0]
    n = len(values)
    variance = np.var(values, ddof=1) / n if n > 1 else 0.0
    if found.parameter_gradient is not None:
        if fitted.exact.withheld:
            return float(means[0]), float("nan"), float("nan")
        covariance = np.nan_to_num(fitted.exact.solution.covariance)  # dropped columns: fixed
        g = found.parameter_gradient[k]
        variance += float(g @ covariance @ g)
    half = stats.t.ppf(0.5 + confidence / 2.0, df=max(n - 1, 1)) * np.sqrt(variance)
    return float(means[0]), float(means[0] - half), float(means[0] + half)


def effect_table(rows: list[dict]) -> pd.DataFrame:
    """The rows as a frame with :data:`COLUMNS`."""
    return pd.DataFrame(rows, columns=list(COLUMNS))


__all__ = ["COLUMNS", "RowEffects", "effect_rows", "effect_table", "row_effects", "two_valued"]
