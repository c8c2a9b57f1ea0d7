"""Coefficient tables, summaries and the gradient-descent check, against statsmodels.

Fits run on a validation split, so statsmodels is fitted on the same training rows
(``fit.train_rows``). Exact fits report the float64 optimum, so the tables agree to 8 digits.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import degenet
from degenet.errors import ConvergenceWarning, DegenetError

COLUMNS = ["estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
RTOL = 1e-8


def _sm_design(frame, columns, intercept=True):
    X = frame[columns].to_numpy(float)
    return sm.add_constant(X, prepend=False, has_constant="add") if intercept else X


def _check_table(table, result, level=0.95):
    assert list(table.columns) == COLUMNS
    np.testing.assert_allclose(table["estimate"], result.params, rtol=RTOL)
    np.testing.assert_allclose(table["std_error"], result.bse, rtol=RTOL)
    np.testing.assert_allclose(table["statistic"], result.tvalues, rtol=RTOL)
    np.testing.assert_allclose(table["p_value"], result.pvalues, rtol=1e-6)
    interval = np.asarray(result.conf_int(alpha=1 - level))
    np.testing.assert_allclose(table[["ci_low", "ci_high"]], interval, rtol=RTOL)


@pytest.fixture(scope="module")
def spector():
    return sm.datasets.spector.load_pandas().data


@pytest.fixture(scope="module")
def longley():
    return sm.datasets.longley.load_pandas().data


def test_logistic_table_matches_statsmodels_at_two_levels(spector):
    fitted = degenet.fit(spector, "GRADE", model="logistic", solver="exact")
    rows = spector.iloc[fitted.train_rows]
    result = sm.Logit(rows["GRADE"], _sm_design(rows, ["GPA", "TUCE", "PSI"])).fit(
        method="newton", tol=1e-14, disp=0)
    assert list(fitted.coefficients.index) == ["GPA", "TUCE", "PSI", "intercept"]
    _check_table(fitted.coefficients, result)
    _check_table(fitted.coefficient_table(level=0.9), result, level=0.9)
    assert fitted.exact.log_likelihood == pytest.approx(result.llf, rel=RTOL)
    assert fitted.exact.null_log_likelihood == pytest.approx(result.llnull, rel=RTOL)
    text = fitted.summary()
    for label, value in [("Log-likelihood", result.llf), ("AIC", result.aic),
                         ("BIC", result.bic), ("Pseudo R-sq. (McFadden)", result.prsquared)]:
        shown = float(re.search(re.escape(label) + r":\s+(\S+)", text).group(1))
        assert shown == pytest.approx(value, rel=1e-4, abs=5e-5), label  # 4 decimals shown
    assert "exact, newton-cholesky" in text and "Converged:" in text


def test_linear_table_uses_t_with_residual_degrees_of_freedom(longley):
    fitted = degenet.fit(longley, "TOTEMP", model="linear", solver="exact", validation=0.25)
    rows = longley.iloc[fitted.train_rows]
    columns = [c for c in longley.columns if c != "TOTEMP"]
    result = sm.OLS(rows["TOTEMP"].to_numpy(), _sm_design(rows, columns)).fit()
    _check_table(fitted.coefficients, result)
    assert fitted.coefficients.attrs["statistic"] == "t"
    assert fitted.exact.solution.df_residual == result.df_resid
    assert fitted.exact.log_likelihood == pytest.approx(result.llf, rel=RTOL)
    r_squared = float(re.search(r"R-squared:\s+(\S+)", fitted.summary()).group(1))
    assert r_squared == pytest.approx(result.rsquared, abs=1e-4)


def test_without_intercept_no_centering_and_no_constant(longley):
    columns = ["GNP", "UNEMP", "ARMED"]
    frame = longley[columns + ["TOTEMP"]]
    fitted = degenet.fit(frame, "TOTEMP", model="linear", solver="exact", intercept=False)
    rows = frame.iloc[fitted.train_rows]
    result = sm.OLS(rows["TOTEMP"].to_numpy(), _sm_design(rows, columns, False)).fit()
    assert "intercept" not in fitted.coefficients.index
    _check_table(fitted.coefficients, result)
    assert not fitted.model.get_layer("eta").use_bias


def test_poisson_log_likelihood_and_deviance_have_their_constants():
    data = sm.datasets.cpunish.load_pandas().data
    fitted = degenet.fit(data, "EXECUTIONS", model="poisson", solver="exact", validation=0.1)
    rows = data.iloc[fitted.train_rows]
    columns = [c for c in data.columns if c != "EXECUTIONS"]
    result = sm.GLM(rows["EXECUTIONS"].to_numpy(), _sm_design(rows, columns),
                    family=sm.families.Poisson()).fit(tol=1e-14, maxiter=100)
    _check_table(fitted.coefficients, result)
    assert fitted.exact.log_likelihood == pytest.approx(result.llf, rel=RTOL)
    assert fitted.exact.deviance == pytest.approx(result.deviance, rel=1e-7)
    assert fitted.exact.null_deviance == pytest.approx(result.null_deviance, rel=1e-7)


def test_softmax_table_is_against_the_chosen_reference_class():
    frame = sm.datasets.anes96.load_pandas().data[
        ["PID", "logpopul", "selfLR", "age", "educ", "income"]]
    fitted = degenet.fit(frame, "PID", model="softmax", solver="exact", reference=3.0)
    rows = frame.iloc[fitted.train_rows]
    columns = ["logpopul", "selfLR", "age", "educ", "income"]
    result = sm.MNLogit(rows["PID"].to_numpy(), _sm_design(rows, columns)).fit(
        method="newton", tol=1e-14, disp=0)
    q = len(columns) + 1
    params = np.column_stack([np.zeros(q), np.asarray(result.params)])  # class 0 = 0
    covariance = np.zeros((7 * q, 7 * q))
    covariance[q:, q:] = np.asarray(result.cov_params())
    table = fitted.coefficients
    assert table.index.names == ["class", "term"]
    assert 3.0 not in table.index.get_level_values("class")
    for k in (0, 6):
        L = np.zeros((q, 7 * q))
        L[:, k * q:(k + 1) * q] += np.eye(q)
        L[:, 3 * q:4 * q] -= np.eye(q)
        part = table.loc[float(k)]
        np.testing.assert_allclose(part["estimate"], params[:, k] - params[:, 3], rtol=1e-7)
        np.testing.assert_allclose(part["std_error"], np.sqrt(np.diag(L @ covariance @ L.T)),
                                   rtol=1e-7)
    assert "reference class 3.0" in fitted.summary()
    assert fitted.exact.log_likelihood == pytest.approx(result.llf, rel=RTOL)
    assert fitted.exact.null_log_likelihood == pytest.approx(result.llnull, rel=RTOL)


def test_the_exact_fit_is_the_keras_model(spector):
    fitted = degenet.fit(spector, "GRADE", model="logistic", solver="exact", validation=0.25)
    X = spector[["GPA", "TUCE", "PSI"]].to_numpy(float)
    solution = fitted.exact.solution
    expected = 1 / (1 + np.exp(-(X @ solution.beta[:, 0] + solution.alpha[0])))
    np.testing.assert_allclose(fitted.model.predict(X.astype("float32"), verbose=0)[:, 0],
                               expected, rtol=1e-5)
    assert fitted.epochs == 0 and len(fitted.history) == 0
    eta = X[fitted.val_rows] @ solution.beta[:, 0] + solution.alpha[0]
    y = spector["GRADE"].to_numpy()[fitted.val_rows]
    assert fitted.val_loss == pytest.approx(np.mean(np.logaddexp(0, eta) - y * eta), rel=1e-10)


@pytest.fixture(scope="module")
def well_conditioned():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1500, 3)) * [2.0, 1.0, 0.5] + [5.0, 0.0, -1.0]
    y = 1.0 + X @ [0.8, -0.5, 1.5] + rng.normal(size=1500)
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y})


def test_gradient_descent_lands_within_one_std_error(well_conditioned):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = degenet.fit(well_conditioned, "y", model="linear", seed=1)
    assert fitted.exact.max_std_diff < 1.0
    assert fitted.exact.at_optimum
    assert 0 <= fitted.exact.loss_gap_relative < 1e-3
    table = fitted.coefficients
    np.testing.assert_allclose(table["gd_estimate"],
                               fitted.model.get_layer("eta").kernel.numpy().ravel().tolist()
                               + [float(fitted.model.get_layer("eta").bias.numpy()[0])],
                               rtol=1e-6)  # gradient descent's weights, beside the optimum's
    solution = fitted.exact.solution
    np.testing.assert_allclose(table["estimate"], np.r_[solution.beta[:, 0], solution.alpha])
    assert "within tolerance" in fitted.summary()


def test_gradient_descent_off_the_optimum_warns_with_its_figures(well_conditioned):
    with pytest.warns(ConvergenceWarning, match=r"stopped short of the exact optimum: training "
                      r"loss .* likelihood ratio .* largest coefficient difference [\d.e+]+ std"):
        fitted = degenet.fit(well_conditioned, "y", model="linear", max_epochs=1,
                             learning_rate=1e-4)
    assert fitted.exact.max_std_diff > 1.0 and not fitted.exact.at_optimum


def test_networks_have_no_coefficients_and_no_exact_solver(well_conditioned):
    with pytest.raises(DegenetError, match="solver='exact' needs a single-layer model"):
        degenet.fit(well_conditioned, "y", model="mlp:4", solver="exact")
    with pytest.raises(DegenetError, match="unknown solver 'newton'"):
        degenet.fit(well_conditioned, "y", model="linear", solver="newton")
    fitted = degenet.fit(well_conditioned.head(200), "y", model="mlp:2", max_epochs=2)
    assert fitted.exact is None
    with pytest.raises(DegenetError, match="has hidden layers"):
        fitted.coefficients
    with pytest.raises(DegenetError, match="has hidden layers"):
        fitted.summary()


def test_level_must_be_a_probability(spector):
    fitted = degenet.fit(spector, "GRADE", model="logistic", solver="exact")
    with pytest.raises(DegenetError, match="level must be a number between 0 and 1; "
                                           "received level=95"):
        fitted.coefficient_table(level=95)


def test_cli_fit_prints_the_summary_and_puts_the_table_in_json(spector, tmp_path):
    import json

    from typer.testing import CliRunner

    from degenet.cli import app

    path = tmp_path / "spector.csv"
    spector.to_csv(path, index=False)
    runner = CliRunner()
    text = runner.invoke(app, ["fit", str(path), "-t", "GRADE", "-m", "logistic", "--solver",
                               "exact", "-q"])
    assert text.exit_code == 0, text.output
    assert "degenet regression results: logistic (bernoulli)" in text.stdout
    assert "Log-likelihood:" in text.stdout and "P>|z|" in text.stdout
    result = runner.invoke(app, ["fit", str(path), "-t", "GRADE", "-m", "logistic", "--solver",
                                 "exact", "--json"])
    document = json.loads(result.stdout)
    assert document["solver"] == "exact"
    rows = document["coefficient_table"]
    assert [row["term"] for row in rows] == ["GPA", "TUCE", "PSI", "intercept"]
    assert set(rows[0]) == {"term", *COLUMNS}
    fitted = degenet.fit(spector, "GRADE", model="logistic", solver="exact")
    assert rows[0]["std_error"] == pytest.approx(fitted.coefficients["std_error"].iloc[0])
    assert document["exact"]["coefficients"]["GPA"] == pytest.approx(rows[0]["estimate"])
