"""statsmodels' names on degenet's results, against statsmodels' own results objects.

Each figure is compared with what statsmodels returns for the same model on the same rows:
OLS on longley, GLMs (logit on spector, Poisson with exposure on ships, Poisson on cpunish).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

import degenet
from degenet.errors import DegenetError
from degenet.exact.diagnostics import diagnose
from degenet.exact.results import Fitted, read_regression
from degenet.exact.solve import solve
from degenet.model.families import get_family


def _read(family, X, y, offset=None, terms=None):
    family = get_family(family)
    solution = solve(family, X, y, offset=offset)
    terms = tuple(terms or (f"x{j}" for j in range(X.shape[1])))
    fitted = Fitted(model=family.regression, target="y", family=family, terms=terms,
                    classes=(0.0, 1.0) if family.is_classifier else None, reference=None,
                    intercept=True, solver="exact")
    diagnostics = diagnose(family, solution, X, y, terms)
    return read_regression(fitted, X, y, solution.beta, solution.alpha, solution,
                           diagnostics, offset=offset)


def _ships():
    from tests.exact.published_cases import load

    _, X, y, offset, _, _ = load("ships_poisson_exposure")
    return X, y, offset


CASES = {
    "spector": lambda: (sm.datasets.spector.load_pandas().exog.to_numpy(float),
                        sm.datasets.spector.load_pandas().endog.to_numpy(float), None),
    "ships": _ships,
}


@pytest.mark.parametrize("name, family", [("spector", "bernoulli"), ("ships", "poisson")])
def test_glm_names_equal_statsmodels_glm(name, family):
    X, y, offset = CASES[name]()
    ours = _read(family, X, y, offset)
    sm_family = sm.families.Binomial() if family == "bernoulli" else sm.families.Poisson()
    design = sm.add_constant(X, prepend=False)
    theirs = sm.GLM(y, design, family=sm_family, offset=offset).fit(method="newton", tol=1e-14)
    for name_ in ("params", "bse", "tvalues", "pvalues", "fittedvalues", "resid_response",
                  "resid_deviance", "resid_pearson"):
        np.testing.assert_allclose(np.asarray(getattr(ours, name_)),
                                   np.asarray(getattr(theirs, name_)), rtol=1e-8, atol=1e-12,
                                   err_msg=name_)
    np.testing.assert_allclose(ours.conf_int(0.1), theirs.conf_int(0.1), rtol=1e-8)
    np.testing.assert_allclose(ours.cov_params(), theirs.cov_params(), rtol=1e-8)
    for name_, value in [("llf", theirs.llf), ("llnull", theirs.llnull),
                         ("deviance", theirs.deviance), ("aic", theirs.aic),
                         ("bic", theirs.bic_llf), ("nobs", theirs.nobs),
                         ("df_model", theirs.df_model), ("df_resid", theirs.df_resid)]:
        assert getattr(ours, name_) == pytest.approx(value, rel=1e-10), name_
    new = X[:5] * 1.1
    np.testing.assert_allclose(
        ours.predict(new, offset=None if offset is None else offset[:5]),
        theirs.predict(sm.add_constant(new, prepend=False, has_constant="add"),
                       offset=None if offset is None else offset[:5]), rtol=1e-10)


def test_logit_pseudo_r_squared_equals_statsmodels():
    data = sm.datasets.spector.load_pandas()
    X, y = data.exog.to_numpy(float), data.endog.to_numpy(float)
    theirs = sm.Logit(y, sm.add_constant(X, prepend=False)).fit(disp=0, tol=1e-12)
    assert _read("bernoulli", X, y).prsquared == pytest.approx(theirs.prsquared, rel=1e-10)
    with pytest.raises(DegenetError, match="rsquared is for the gaussian family"):
        _read("bernoulli", X, y).rsquared


def test_ols_names_equal_statsmodels_ols():
    data = sm.datasets.longley.load_pandas()
    X, y = data.exog.to_numpy(float), data.endog.to_numpy(float)
    ours = _read("gaussian", X, y)
    theirs = sm.OLS(y, sm.add_constant(X, prepend=False)).fit()
    # statsmodels' OLS keeps ~12 digits on longley (cond ~1e9): 1e-9 covers it
    for name in ("params", "bse", "tvalues", "fittedvalues"):
        np.testing.assert_allclose(np.asarray(getattr(ours, name)),
                                   np.asarray(getattr(theirs, name)), rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(ours.resid_response, theirs.resid, rtol=1e-7)
    np.testing.assert_allclose(ours.pvalues, theirs.pvalues, rtol=1e-6)
    for name in ("llf", "aic", "bic", "rsquared", "rsquared_adj", "nobs", "df_model",
                 "df_resid", "scale"):
        assert getattr(ours, name) == pytest.approx(getattr(theirs, name), rel=1e-9), name


def test_the_names_read_the_coefficient_table():
    data = sm.datasets.spector.load_pandas().data
    fitted = degenet.fit(data, "GRADE", solver="exact", cov_type="HC1")
    table, results = fitted.coefficients, fitted.exact
    pd.testing.assert_series_equal(results.params, table["estimate"])
    pd.testing.assert_series_equal(results.bse, table["std_error"])
    pd.testing.assert_series_equal(results.pvalues, table["p_value"])
    np.testing.assert_array_equal(results.conf_int(), table[["ci_low", "ci_high"]])
    np.testing.assert_allclose(np.sqrt(np.diag(results.cov_params())), table["std_error"])
    assert len(results.fittedvalues) == len(fitted.train_rows)


def test_softmax_rows_and_covariance_follow_the_table():
    data = sm.datasets.anes96.load_pandas().data.iloc[:300]
    fitted = degenet.fit(data, "PID", features=["logpopul", "selfLR", "age"],
                         family="categorical", solver="exact")
    results = fitted.exact
    assert results.fittedvalues.shape == (len(fitted.train_rows), 7)
    np.testing.assert_allclose(results.fittedvalues.sum(axis=1), 1.0)
    np.testing.assert_allclose(results.resid_response.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(results.cov_params())),
                               fitted.coefficients["std_error"])
    assert list(results.cov_params().index) == list(fitted.coefficients.index)


def test_variance_inflation_factors_equal_statsmodels_and_draw_a_note():
    data = sm.datasets.longley.load_pandas()
    design = sm.add_constant(data.exog, prepend=False)
    expected = [variance_inflation_factor(design.to_numpy(), j) for j in range(6)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = degenet.fit(data.data, "TOTEMP", solver="exact", validation=0.2)
    ours = _read("gaussian", data.exog.to_numpy(float), data.endog.to_numpy(float),
                 terms=list(data.exog.columns))
    np.testing.assert_allclose(ours.vif, expected, rtol=1e-9)
    assert ours.vif["GNP"] == pytest.approx(1788.5, abs=0.1)
    note = next(n for n in fitted.exact.diagnostics.notes if "Variance inflation" in n)
    assert "'GNP'" in note and "above 10" in note
    assert any("Variance inflation factors above 10" in str(w.message) for w in caught)
    assert fitted.exact.to_dict()["vif"]["GNP"] > 10


def test_no_note_when_the_predictors_are_unrelated():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    results = _read("gaussian", X, X.sum(axis=1) + rng.normal(size=200))
    assert results.vif.max() < 1.2
    assert not any("Variance inflation" in n for n in results.diagnostics.notes)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("family", ["bernoulli", "gaussian"])
def test_variance_inflation_on_many_rows_whose_first_block_is_unlike_the_rest(order, family):
    # Newton hands over the Gram matrix of its first pass; least squares by QR (this many
    # rows fit one block) does not, and the VIF then takes a pass of its own, standardized
    # by the first rows' statistics. Here the first 5,000 rows hold a constant third column
    # and the means are far from zero: only exact centring and the invariance of VIF keep
    # the answer right.
    rng = np.random.default_rng(7)
    n = 20_000
    z = rng.normal(size=(n, 3))
    X = np.column_stack([1e4 + 3.0 * z[:, 0], 1e4 + 3.0 * z[:, 0] + 0.05 * z[:, 1],
                         -5e3 + 1e-3 * z[:, 2], 2.0 * z[:, 1] + z[:, 2]])
    X[:5_000, 2] = -5e3
    X = np.asarray(X, order=order)
    design = np.column_stack([X, np.ones(n)])
    expected = [variance_inflation_factor(design, j) for j in range(4)]
    y = (rng.uniform(size=n) < 0.5).astype(float) if family == "bernoulli" else z @ [1, 2, 3]
    results = _read(family, X, y)
    assert (results.solution.gram is None) == (family == "gaussian")
    np.testing.assert_allclose(results.vif, expected, rtol=1e-8)
    assert results.vif.iloc[0] > 1000  # nearly collinear, and still exact
