"""Certified and published results: NIST StRD linear regressions and statsmodels' stored
Stata / R GLMs, reached to at least 9 significant digits (estimates and std errors), through
the public API: ``degenet.fit(table, ..., solver="exact").exact``, the results a user reads
(the table's every row, the formula's columns, the exposure as the user passes it).

References (tests/exact/published_reference.json): NIST's certified values (15 digits,
each reproduced by a 90-digit mpmath refit); for the GLMs, the published values refitted
by Newton in mpmath at 50 digits, since the published Stata / R figures themselves are only
as accurate as their programs' default tolerances (6-13 digits). Filip is compared with the
exact least-squares solution of its float64 design: rounding ``x**k`` to float64 already
moves the exact answer 7.6 digits from the certified one (any float64 solver's limit; the
powers are the user's columns, the solver cannot rebuild them in extended precision).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import degenet
from tests.exact.published_cases import GLMS, NIST, cases, floats, load

DIGITS = 9


def _results(name: str):
    """``degenet.fit(..., solver="exact").exact`` on the case's table."""
    family, X, y, offset, _, intercept = load(name)
    columns = [f"x{j}" for j in range(X.shape[1])]
    table = pd.DataFrame(X, columns=columns).assign(y=y)
    if family == "categorical":
        table["y"] = y.astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # collinearity and VIF notes on the NIST designs
        fitted = degenet.fit(table, "y", features=columns, family=family, solver="exact",
                             intercept=intercept,
                             exposure=None if offset is None else np.exp(offset))
    assert len(fitted.train_rows) == len(y)  # every row
    return fitted.exact


def _digits(values, reference) -> float:
    """Significant digits of agreement (the minimum over the vector)."""
    values, reference = floats(values), floats(reference)
    error = np.max(np.abs(values - reference) / np.abs(reference))
    return np.inf if error == 0 else -np.log10(error)


@pytest.mark.parametrize("name", [n for n in NIST if n not in ("nist_wampler1", "nist_wampler2")])
def test_nist_linear_regressions_to_nine_digits(name):
    case = cases()[name]
    reference = case["mpmath_float64_design" if name == "nist_filip" else "reference"]
    results = _results(name)
    assert _digits(results.params, reference["params"]) >= DIGITS
    assert _digits(results.bse, reference["bse"]) >= DIGITS
    assert _digits(np.sqrt(results.scale), reference["residual_sd"]) >= DIGITS
    if name != "nist_filip":
        assert _digits(results.rsquared, case["reference"]["r_squared"]) >= DIGITS


def test_filip_is_as_certified_as_its_float64_design_allows():
    # The certified values hold for the exact decimal x; through the float64 powers the exact
    # answer itself is 7.6 digits from them, and so is degenet's.
    results = _results("nist_filip")
    certified = cases()["nist_filip"]["reference"]
    assert _digits(results.params, certified["params"]) >= 7.5
    assert _digits(results.bse, certified["bse"]) >= 7.5


@pytest.mark.parametrize("name", ["nist_wampler1", "nist_wampler2"])
def test_nist_exact_fits(name):
    # Certified std errors and residual SD are 0: compare them absolutely.
    results = _results(name)
    params = floats(cases()[name]["reference"]["params"])
    assert _digits(results.params, params) >= DIGITS
    assert np.all(results.bse <= 1e-9 * np.abs(params))
    assert results.rsquared == pytest.approx(1.0, abs=1e-12)


def test_noint2_three_rows():
    results = _results("nist_noint2")
    assert (results.nobs, results.df_resid) == (3.0, 2.0)
    assert _digits(results.rsquared, cases()["nist_noint2"]["reference"]["r_squared"]) >= DIGITS


@pytest.mark.parametrize("name", GLMS)
def test_published_glms_to_nine_digits(name):
    reference = cases()[name]["reference"]
    results = _results(name)
    assert _digits(results.params, reference["params"]) >= DIGITS
    assert _digits(results.bse, reference["bse"]) >= DIGITS
    if "llf" in reference:
        assert _digits(results.llf, reference["llf"]) >= DIGITS


@pytest.mark.parametrize("name", ["ships_poisson_exposure", "dollhill_poisson_exposure"])
def test_exposure_equals_statsmodels_glm(name):
    stored = cases()[name]["statsmodels"]  # GLM(y, X, family=Poisson(), exposure=e)
    results = _results(name)
    np.testing.assert_allclose(results.params, stored["params"], rtol=1e-10)
    np.testing.assert_allclose(results.bse, stored["bse"], rtol=1e-10)
