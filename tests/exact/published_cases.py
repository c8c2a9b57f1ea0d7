"""The published reference problems (tests/exact/published_reference.json) as arrays.

NIST StRD linear regressions with their certified values; statsmodels' stored Stata / R
results refitted in mpmath at 50 digits (logit, Poisson with and without exposure,
multinomial logit); robust and clustered covariances in mpmath. Parameters are ordered
``[coefficients of X's columns..., const]``, degenet's order; multinomial ones class by
class against class 0. Made by tests/exact/make_published_reference.py.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).parent / "published_reference.json"
NIST = ("nist_norris", "nist_pontius", "nist_noint1", "nist_noint2", "nist_filip",
        "nist_longley", "nist_wampler1", "nist_wampler2", "nist_wampler3", "nist_wampler4",
        "nist_wampler5")
GLMS = ("spector_logit", "dollhill_poisson", "dollhill_poisson_exposure", "cpunish_poisson",
        "ships_poisson_exposure", "anes96_mnlogit")


@cache
def cases() -> dict:
    return json.loads(REFERENCE.read_text())


def floats(values) -> np.ndarray:
    """Reference values (strings of 25 digits, or numbers) as float64, flattened."""
    return np.asarray(values, dtype=np.float64).ravel()


def load(name: str):
    """``(family, X, y, offset, groups, intercept)`` of case ``name``; X without constant."""
    case = cases()[name]
    if "X" in case:
        X, y = np.asarray(case["X"], dtype=np.float64), np.asarray(case["y"], dtype=np.float64)
    elif name == "diabetes_ols_robust":
        from sklearn.datasets import load_diabetes

        data = load_diabetes()
        X, y = data.data, data.target.astype(np.float64)
    else:  # anes96_mnlogit: statsmodels' exog, PID's 7 classes
        import statsmodels.api as sm

        frame = sm.datasets.anes96.load_pandas().data
        X = frame[["logpopul", "selfLR", "age", "educ", "income"]].to_numpy(np.float64)
        y = frame["PID"].to_numpy(np.float64)
    X = X.reshape(len(y), -1)
    offset = np.log(np.asarray(case["exposure"], dtype=np.float64)) if "exposure" in case \
        else None
    if "groups" in case:
        groups = np.asarray(case["groups"])
    elif name == "diabetes_ols_robust":
        groups = np.arange(len(y)) % 20
    else:
        groups = None
    return case["family"], X, y, offset, groups, bool(case["intercept"])
