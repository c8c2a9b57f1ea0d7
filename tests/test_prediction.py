"""Predictions of exact fits come from the float64 optimum, not the network's float32 copy."""

import numpy as np
import statsmodels.api as sm

import degenet
from degenet.comparison.comparison import held_out_eta


def test_exact_predictions_are_float64(tmp_path):
    data = sm.datasets.longley.load_pandas()
    fitted = degenet.fit(data.data, "TOTEMP", solver="exact")
    train = data.data.iloc[fitted.train_rows]
    columns = list(data.exog.columns)
    ols = sm.OLS(train["TOTEMP"], sm.add_constant(train[columns], prepend=False)).fit()
    expected = ols.predict(sm.add_constant(data.exog, prepend=False))
    # float32 weights put longley's predictions ~0.2 off (7 digits of 6e4); float64: 1e-10
    np.testing.assert_allclose(fitted.predict(data.data), expected, rtol=1e-10)
    fitted.save(tmp_path / "model")
    np.testing.assert_allclose(degenet.load(tmp_path / "model").predict(data.data), expected,
                               rtol=1e-10)
    np.testing.assert_allclose(held_out_eta(fitted, data.exog.to_numpy(float)), expected,
                               rtol=1e-10)


def test_exact_estimator_predictions_are_float64():
    data = sm.datasets.longley.load_pandas()
    X, y = data.exog.to_numpy(float), data.endog.to_numpy(float)
    model = degenet.LinearRegression(solver="exact").fit(X, y)
    rows = model.fit_.train_rows
    ols = sm.OLS(y[rows], sm.add_constant(X[rows], prepend=False)).fit()
    np.testing.assert_allclose(model.predict(X), ols.predict(sm.add_constant(X, prepend=False)),
                               rtol=1e-10)
