"""Robust (HC0-HC3) and clustered covariances, against statsmodels and mpmath.

OLS: statsmodels' own HC0-HC3 and cluster std errors on three datasets (diabetes, Greene's
credit card data, Grunfeld's investment data clustered by firm) to 1e-8, longley against the
stored mpmath values to 1e-9 (statsmodels itself keeps only 8 digits there). GLMs:
statsmodels' HC0 and cluster; HC1-HC3 from their sandwich definitions in mpmath, since
statsmodels 0.15's GLM and discrete results silently return HC0 for HC1-HC3.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.datasets import load_diabetes

import degenet
from degenet.errors import DataWarning, DegenetError
from degenet.exact.robust import robust_covariance
from degenet.exact.solve import solve
from degenet.model.families import get_family
from degenet.report.render import fit_dict
from tests.exact.published_cases import cases, floats, load

HC = ("HC0", "HC1", "HC2", "HC3")


def _ols_data(name):
    if name == "diabetes":
        data = load_diabetes()
        return data.data, data.target.astype(float), np.arange(442) % 20
    if name == "ccard":
        data = sm.datasets.ccard.load_pandas()
        return data.exog.to_numpy(float), data.endog.to_numpy(float), np.arange(72) % 9
    frame = sm.datasets.grunfeld.load_pandas().data
    return (frame[["value", "capital"]].to_numpy(float), frame["invest"].to_numpy(float),
            pd.factorize(frame["firm"])[0])


def _std_errors(family, X, y, cov_type, groups=None, offset=None, weight=None):
    solution = solve(family, X, y, offset=offset, sample_weight=weight)
    covariance = robust_covariance(get_family(family), solution, X, y, cov_type=cov_type,
                                   intercept=True, offset=offset, weight=weight,
                                   groups=groups if cov_type == "cluster" else None)
    return np.sqrt(np.diag(covariance.matrix))


def _codes(groups):
    return np.unique(groups, return_inverse=True)[1]


@pytest.mark.parametrize("name", ["diabetes", "ccard", "grunfeld"])
@pytest.mark.parametrize("cov_type", HC + ("cluster",))
def test_ols_std_errors_equal_statsmodels(name, cov_type):
    X, y, groups = _ols_data(name)
    kwds = {"groups": groups} if cov_type == "cluster" else None
    result = sm.OLS(y, sm.add_constant(X, prepend=False)).fit(cov_type=cov_type, cov_kwds=kwds)
    np.testing.assert_allclose(_std_errors("gaussian", X, y, cov_type, groups), result.bse,
                               rtol=1e-8)


@pytest.mark.parametrize("cov_type", HC + ("cluster",))
def test_longley_against_mpmath(cov_type):
    family, X, y, _, groups, _ = load("longley_ols_robust")
    reference = cases()["longley_ols_robust"]
    std_error = _std_errors(family, X, y, cov_type, _codes(groups))
    np.testing.assert_allclose(std_error, floats(reference["mpmath"][cov_type]), rtol=1e-9)
    np.testing.assert_allclose(std_error, reference["statsmodels"]["bse"][cov_type], rtol=1e-7)


def _glm(name, cov_type, groups):
    family, X, y, offset, _, _ = load(name)
    sm_family = sm.families.Binomial() if family == "bernoulli" else sm.families.Poisson()
    kwds = {"groups": groups} if cov_type == "cluster" else None
    return sm.GLM(y, sm.add_constant(X, prepend=False), family=sm_family,
                  exposure=None if offset is None else np.exp(offset)).fit(
        cov_type=cov_type, cov_kwds=kwds, tol=1e-14, maxiter=200)


@pytest.mark.parametrize("name", ["spector_logit_robust", "ships_poisson_exposure_robust"])
@pytest.mark.parametrize("cov_type", HC + ("cluster",))
def test_glm_std_errors(name, cov_type):
    family, X, y, offset, groups, _ = load(name)
    codes = _codes(groups)
    std_error = _std_errors(family, X, y, cov_type, codes, offset)
    mpmath = cases()[name]["mpmath"]
    # HC1-HC3 by their definitions (R's sandwich::vcovHC); statsmodels' GLM returns HC0.
    key = f"sandwich_{cov_type}" if cov_type in ("HC1", "HC2", "HC3") else cov_type
    np.testing.assert_allclose(std_error, floats(mpmath[key]), rtol=1e-9)
    if cov_type in ("HC0", "cluster"):
        np.testing.assert_allclose(std_error, _glm(name, cov_type, codes).bse, rtol=1e-8)


@pytest.mark.parametrize("cov_type", ["HC0", "cluster"])
def test_multinomial_equals_statsmodels(cov_type):
    family, X, y, _, _, _ = load("anes96_mnlogit")
    groups = np.arange(len(y)) % 12
    kwds = {"cov_kwds": {"groups": groups}} if cov_type == "cluster" else {}
    result = sm.MNLogit(y, sm.add_constant(X, prepend=False)).fit(
        method="newton", tol=1e-14, maxiter=100, disp=0, cov_type=cov_type, **kwds)
    np.testing.assert_allclose(_std_errors(family, X, y, cov_type, groups),
                               np.asarray(result.bse).ravel(order="F"), rtol=1e-8)


def test_multinomial_has_no_leverage():
    family, X, y, _, _, _ = load("anes96_mnlogit")
    with pytest.raises(DegenetError, match="cov_type='HC2' needs a leverage per row"):
        _std_errors(family, X, y, "HC2")


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC3", "cluster"])
def test_weights_count_as_frequencies(cov_type):
    X, y, groups = _ols_data("ccard")
    weight = np.arange(len(y)) % 3 + 0.0  # 0, 1 or 2 copies of each row
    repeated = np.repeat(np.arange(len(y)), weight.astype(int))
    np.testing.assert_allclose(
        _std_errors("gaussian", X, y, cov_type, groups, weight=weight),
        _std_errors("gaussian", X[repeated], y[repeated], cov_type, groups[repeated]),
        rtol=1e-9)


def test_leverage_one_is_undefined_not_infinite():
    X = np.column_stack([np.r_[np.zeros(9), 1.0], np.arange(10.0)])  # row 9 alone has x0 = 1
    y = np.arange(10.0) ** 1.5
    with pytest.warns(DataWarning, match="leverage 1"):
        std_error = _std_errors("gaussian", X, y, "HC2")
    assert np.isnan(std_error).all()


@pytest.fixture(scope="module")
def grunfeld():
    return sm.datasets.grunfeld.load_pandas().data


def test_fit_reports_the_clustered_table_summary_json_and_file(grunfeld, tmp_path):
    fitted = degenet.fit(grunfeld, "invest", features=["value", "capital"], solver="exact",
                         cov_type="cluster", groups="firm")
    train = grunfeld.iloc[fitted.train_rows]
    result = sm.OLS(train["invest"], sm.add_constant(train[["value", "capital"]],
                                                     prepend=False)).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(train["firm"])[0]}, use_t=True)
    table = fitted.coefficients
    np.testing.assert_allclose(table["std_error"], result.bse, rtol=1e-8)
    # t statistics on G - 1 degrees of freedom (statsmodels' use_t, Stata's regress)
    np.testing.assert_allclose(table["p_value"], result.pvalues, rtol=1e-6)
    np.testing.assert_allclose(table[["ci_low", "ci_high"]], result.conf_int(), rtol=1e-8)
    summary = fitted.summary()
    assert "Covariance type:" in summary and "clustered by 11 groups (column 'firm'" in summary
    assert "(t statistics, 10 df)" in summary
    exact = fit_dict(fitted)["exact"]
    assert (exact["cov_type"], exact["n_groups"], exact["groups"]) == ("cluster", 11, "firm")
    fitted.save(tmp_path / "model")
    assert degenet.load(tmp_path / "model").sidecar["inference"]["cov_type"] == "cluster"
    saved = degenet.load(tmp_path / "model").coefficients
    np.testing.assert_allclose(saved["std_error"], table["std_error"], rtol=1e-15)


def test_fit_heteroskedasticity_robust_uses_t_on_the_residual_df(grunfeld):
    fitted = degenet.fit(grunfeld, "invest", features=["value", "capital"], solver="exact",
                         cov_type="HC3")
    train = grunfeld.iloc[fitted.train_rows]
    result = sm.OLS(train["invest"], sm.add_constant(train[["value", "capital"]],
                                                     prepend=False)).fit(cov_type="HC3",
                                                                         use_t=True)
    np.testing.assert_allclose(fitted.exact.bse, result.bse, rtol=1e-8)
    np.testing.assert_allclose(fitted.exact.pvalues, result.pvalues, rtol=1e-6)
    assert fitted.exact.cov_type == "HC3"


@pytest.mark.parametrize("options, message", [
    ({"cov_type": "HC4"}, "unknown cov_type 'HC4'; choose one of: nonrobust, HC0"),
    ({"cov_type": "cluster"}, "cov_type='cluster' needs groups="),
    ({"groups": "firm"}, "groups= is for cov_type='cluster'"),
    ({"cov_type": "cluster", "groups": "plant"}, "groups column 'plant' not found"),
    ({"cov_type": "cluster", "groups": "value"}, "column 'value' is the groups column"),
])
def test_bad_covariance_options_are_named(grunfeld, options, message):
    with pytest.raises(DegenetError, match=message):
        degenet.fit(grunfeld, "invest", features=["value", "capital"], solver="exact",
                    **options)


def test_gradient_descent_tables_take_the_cov_type_too(grunfeld):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = degenet.fit(grunfeld, "invest", features=["value", "capital"],
                             cov_type="HC1", max_epochs=5)
    assert fitted.exact.cov_type == "HC1"
    assert "Covariance type:" in fitted.summary() and "HC1" in fitted.summary()


def test_compare_and_its_report_carry_the_cov_type(grunfeld, tmp_path):
    from degenet.report import write_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comparison = degenet.compare(grunfeld, "invest", models=["linear", "mlp:4"],
                                     features=["value", "capital"], solver="exact",
                                     cov_type="cluster", groups="firm", max_epochs=3)
    assert comparison.fits["linear"].exact.cov_type == "cluster"
    path = write_report(tmp_path / "report.md", comparison, title="grunfeld")
    text = path.read_text()
    assert "Covariance type:" in text and "clustered by 11 groups (column 'firm'" in text
