"""The public data sets the exact solver is checked on (shared by the tests, the script that
makes their reference values, tests/exact/make_exact_reference.py, and bench/agreement.py).

Every case is ``(family, X, y, intercept)`` in float64 with ``y`` as the solver takes it.
Parameters are ordered as :class:`degenet.exact.solve.Solution` orders them: output by output
(categorical: classes 1.. against class 0), each ``[beta..., intercept]``; statsmodels
orders them the same way when its constant is appended last.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).parent / "exact_reference.json"


def _polynomial(x: np.ndarray, degree: int = 10) -> np.ndarray:
    return np.column_stack([x**k for k in range(1, degree + 1)])


def synthetic_polynomials() -> dict:
    """Two degree-10 polynomial regressions; their data are stored with the references.

    ``poly01``: x on [0, 1] (cond ~1e7 standardized). ``filip_like``: x on [-9, -3], as
    NIST's Filip (cond ~3e9): statsmodels' pinv declares it rank deficient.
    """
    rng = np.random.default_rng(20261129)
    x = np.linspace(0.0, 1.0, 41)
    y = np.round(np.exp(x) * np.sin(4 * x) + 0.05 * rng.standard_normal(41), 6)
    rng = np.random.default_rng(7)
    u = np.round(np.sort(rng.uniform(-9.0, -3.0, 82)), 4)
    v = np.round(0.8 + 0.01 * np.sin(u) + 0.003 * rng.standard_normal(82), 5)
    return {"poly01": (x, y), "filip_like": (u, v)}


def _stored_polynomial(name: str):
    data = json.loads(REFERENCE.read_text())[name]["data"]
    return np.asarray(data["x"]), np.asarray(data["y"])


def load(name: str, *, stored: bool = True):
    """``(family, X, y, intercept)`` of case ``name``."""
    import statsmodels.api as sm
    from sklearn import datasets

    if name in ("poly01", "filip_like"):
        x, y = _stored_polynomial(name) if stored else synthetic_polynomials()[name]
        return "gaussian", _polynomial(x), y, True
    if name == "longley":
        data = sm.datasets.longley.load_pandas()
        return "gaussian", data.exog.to_numpy(float), data.endog.to_numpy(float), True
    if name == "diabetes":
        data = datasets.load_diabetes()
        return "gaussian", data.data, data.target.astype(float), True
    if name == "diabetes_no_intercept":
        data = datasets.load_diabetes()
        return "gaussian", data.data[:, :4], data.target.astype(float), False
    if name == "spector":
        data = sm.datasets.spector.load_pandas()
        return "bernoulli", data.exog.to_numpy(float), data.endog.to_numpy(float), True
    if name == "iris_versicolor_virginica":
        data = datasets.load_iris()
        rows = data.target > 0
        return "bernoulli", data.data[rows], (data.target[rows] == 2).astype(float), True
    if name == "cpunish":
        data = sm.datasets.cpunish.load_pandas()
        X = data.exog.to_numpy(float).copy()
        X[:, 3] = np.log(X[:, 3])  # as statsmodels' own GLM example
        return "poisson", X, data.endog.to_numpy(float), True
    if name == "randhie":
        data = sm.datasets.randhie.load_pandas()
        return "poisson", data.exog.to_numpy(float), data.endog.to_numpy(float), True
    if name == "anes96":
        frame = sm.datasets.anes96.load_pandas().data
        X = frame[["logpopul", "selfLR", "age", "educ", "income"]].to_numpy(float)
        return "categorical", X, frame["PID"].to_numpy(float), True
    raise KeyError(name)


CASES = ("longley", "diabetes", "diabetes_no_intercept", "poly01", "filip_like", "spector",
         "iris_versicolor_virginica", "cpunish", "randhie", "anes96")


def statsmodels_fit(name: str):
    """statsmodels' estimates and std errors, at tight tolerances, in the solver's order."""
    import statsmodels.api as sm

    family, X, y, intercept = load(name)
    design = sm.add_constant(X, prepend=False, has_constant="add") if intercept else X
    if family == "gaussian":
        result = sm.OLS(y, design).fit()
    elif family == "bernoulli":
        result = sm.Logit(y, design).fit(method="newton", tol=1e-14, maxiter=200, disp=0)
    elif family == "poisson":
        result = sm.GLM(y, design, family=sm.families.Poisson()).fit(tol=1e-14, maxiter=200)
    else:
        result = sm.MNLogit(y, design).fit(method="newton", tol=1e-14, maxiter=200, disp=0)
    params, bse = np.asarray(result.params), np.asarray(result.bse)
    if params.ndim == 2:  # MNLogit: (q, n_classes - 1), class by class
        params, bse = params.ravel(order="F"), bse.ravel(order="F")
    return params, bse


def reference(name: str) -> dict:
    """The stored reference of ``name``: source, estimate, std_error (and statsmodels')."""
    return json.loads(REFERENCE.read_text())[name]
