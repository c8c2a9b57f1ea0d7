"""Std errors, statistics, p-values and intervals in the data's units.

Everything comes from one covariance matrix: by default the inverse Fisher information at
the exact optimum, times the dispersion (gaussian: ``sigma^2 (X'X)^-1`` with
``sigma^2 = RSS / df_residual`` and t statistics on ``df_residual`` degrees of freedom; the
other families: dispersion 1 and z statistics), or a robust or clustered one
(:mod:`degenet.exact.robust`). The solver already took it from the
standardized design to the data's units through the Jacobian of the standardization
(:func:`degenet.exact.solution.covariance_to_original`), so the intercept's std error is the
one of the intercept in the data's units.

Categorical fits are read against a reference class: each other class's coefficients are
differences ``theta_k - theta_ref`` (softmax only sees differences), and their covariance
is ``L C L'`` for that contrast ``L``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from degenet.errors import DegenetError
from degenet.exact.solution import Solution
from degenet.model.family import Family

COLUMNS = ("estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high")


def contrast_covariance(covariance: np.ndarray, n_classes: int, reference: int) -> np.ndarray:
    """Covariance of the coefficients of every class but ``reference`` against it.

    ``covariance`` is in the solver's parameter order: classes 1.. against class 0.
    Returns shape ``((n_classes - 1) q, (n_classes - 1) q)``, class by class in order,
    ``q`` = terms (+ intercept).
    """
    C = covariance
    q = C.shape[0] // (n_classes - 1)
    missing = np.isnan(np.diag(C))
    C = np.where(np.isnan(C), 0.0, C)
    E = np.eye(n_classes)[:, 1:]  # class k's parameters in the solver's coordinates
    others = [k for k in range(n_classes) if k != reference]
    L = np.kron(np.array([E[k] - E[reference] for k in others]), np.eye(q))
    covariance = L @ C @ L.T
    gone = np.tile(missing[:q], len(others))
    covariance[gone, :] = np.nan
    covariance[:, gone] = np.nan
    return covariance


def table_covariance(family: Family, covariance: np.ndarray, n_classes: int | None = None,
                     reference: int = 0) -> np.ndarray:
    """``covariance`` (the solver's order) in the order of :func:`coefficient_frame`'s rows."""
    if family.contrasts:
        return contrast_covariance(covariance, n_classes, reference)
    return covariance


def std_errors(family: Family, covariance: np.ndarray | Solution, n_classes: int | None = None,
               reference: int = 0) -> np.ndarray:
    """Std errors in the order of :func:`coefficient_frame`'s rows, from ``covariance`` (the
    solver's order) or a solution's model-based covariance."""
    if isinstance(covariance, Solution):
        covariance = covariance.covariance
    return np.sqrt(np.diag(table_covariance(family, covariance, n_classes, reference)))


def coefficient_frame(beta: np.ndarray, alpha: np.ndarray, terms, family: Family, classes,
                      reference=None, intercept: bool = True) -> pd.DataFrame:
    """A coefficient table (column ``estimate``) from beta ``(p, k)`` and alpha ``(k,)``.

    Indexed by term, ``intercept`` last; a family read in contrasts (softmax) has a
    ``(class, term)`` index with each class against the ``reference`` class (default the
    first).
    """
    names = list(terms) + (["intercept"] if intercept else [])
    stacked = np.vstack([beta, alpha[None, :]]) if intercept else beta
    if not family.contrasts:
        return pd.DataFrame({"estimate": stacked[:, 0]}, index=pd.Index(names, name="term"))
    ref = classes.index(reference if reference is not None else classes[0])
    contrasts = stacked - stacked[:, [ref]]  # softmax is shift-invariant: only differences count
    keep = [k for k in range(len(classes)) if k != ref]
    index = pd.MultiIndex.from_product([[classes[k] for k in keep], names],
                                       names=["class", "term"])
    return pd.DataFrame({"estimate": contrasts[:, keep].T.ravel()}, index=index)


def coefficient_table(frame: pd.DataFrame, std_error: np.ndarray, *, t_df: float | None,
                      level: float = 0.95, withhold: str | None = None) -> pd.DataFrame:
    """Add ``std_error, statistic, p_value, ci_low, ci_high`` to a frame of estimates.

    Parameters
    ----------
    frame : DataFrame
        Column ``estimate``, rows in the order of ``std_error``.
    std_error : ndarray, shape (n_rows,)
    t_df : float or None
        Degrees of freedom of a t statistic (gaussian); None for z statistics.
    level : float
        Confidence level of the intervals, in (0, 1).
    withhold : str, optional
        Why p-values (and intervals) cannot be trusted; they are then NaN.
    """
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise DegenetError(f"level must be a number between 0 and 1; received level={level!r}")
    estimate = frame["estimate"].to_numpy(dtype=np.float64)
    std_error = np.asarray(std_error, dtype=np.float64)
    distribution = stats.t(t_df) if t_df is not None else stats.norm()
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / std_error
    p_value = 2.0 * distribution.sf(np.abs(statistic))
    half = distribution.ppf(0.5 + level / 2.0) * std_error
    low, high = estimate - half, estimate + half
    if withhold is not None:
        p_value = low = high = np.full(len(estimate), np.nan)
    table = pd.DataFrame({"estimate": estimate, "std_error": std_error,
                          "statistic": statistic, "p_value": p_value,
                          "ci_low": low, "ci_high": high}, index=frame.index)
    table.attrs.update(level=level, statistic="t" if t_df is not None else "z",
                       withheld=withhold)
    return table
