"""Gradient descent on a convex model reaches its exact optimum: the loss gap that stops it,
the whitening that makes the path short, and the bundled data sets where it used not to."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn import datasets

import degenet
from degenet.data.scaling import fit_scaling
from degenet.errors import ConvergenceWarning
from degenet.exact.solve import solve
from degenet.model.families import FAMILIES
from degenet.optimum import GD_STD_ERRORS, whitening

CASES = {
    "gaussian": lambda rng, eta: eta + rng.normal(size=len(eta)),
    "bernoulli": lambda rng, eta: (rng.random(len(eta)) < 1 / (1 + np.exp(-eta))).astype(float),
    "poisson": lambda rng, eta: rng.poisson(np.exp(eta)).astype(float),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_loss_rises_by_loss_scale_over_2_times_the_squared_distance(name):
    # The stopping rule's premise, checked by finite steps away from the optimum: the summed
    # loss rises by loss_scale / 2 * d' C^-1 d (C the covariance of the estimates).
    family, rng = FAMILIES[name], np.random.default_rng(5)
    X = rng.normal(size=(400, 3))
    y = CASES[name](rng, 0.3 + X @ [0.5, -0.4, 0.2])
    solution = solve(family, X, y, intercept=True)
    theta = np.r_[solution.beta[:, 0], solution.alpha]
    C = solution.covariance
    for direction in np.eye(4) + 0.3:
        d = 1e-3 * direction
        eta = X @ (theta[:3] + d[:3]) + theta[3] + d[3]
        rise = family.loss_np(y, eta).sum() - family.loss_np(y, X @ theta[:3] + theta[3]).sum()
        expected = family.loss_scale(solution.dispersion) / 2 * d @ np.linalg.solve(C, d)
        assert rise == pytest.approx(expected, rel=1e-2)


def test_whitening_makes_the_hessian_the_identity():
    # Gaussian: the mean squared error's Hessian in the training coordinates is 2 Z'Z / n.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3)) @ [[1.0, 0.9, 0.0], [0.0, 0.3, 0.5], [0.0, 0.0, 0.1]]
    y = X @ [1.0, 2.0, -1.0] + rng.normal(size=300)
    scaling = fit_scaling(X)
    solution = solve(FAMILIES["gaussian"], X, y, intercept=True)
    P = whitening(solution, FAMILIES["gaussian"], scaling, intercept=True)
    Z = scaling.apply(X)
    np.testing.assert_allclose(P.T @ (2 * Z.T @ Z / len(Z)) @ P, np.eye(3), atol=1e-10)


def _bundled(name):
    if name == "diabetes":
        return datasets.load_diabetes(as_frame=True).frame, "target"
    data = sm.datasets.longley.load_pandas()
    return data.exog.assign(TOTEMP=data.endog), "TOTEMP"


@pytest.mark.parametrize("name", ["longley", "diabetes"])
def test_default_gradient_descent_lands_at_the_optimum(name):
    # Before: 8.2 (longley) and 2.3 (diabetes) std errors away, with a ConvergenceWarning.
    frame, target = _bundled(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = degenet.fit(frame, target)
    assert fitted.training.watched == "optimum" and fitted.exact.at_optimum
    assert fitted.exact.max_std_diff <= GD_STD_ERRORS + 0.01
    # The table is the optimum's: statsmodels' OLS on the same training rows.
    rows = fitted.train_rows
    features = frame.drop(columns=target)
    ols = sm.OLS(frame[target].to_numpy()[rows],
                 sm.add_constant(features.to_numpy()[rows], prepend=False)).fit()
    table = fitted.coefficients
    np.testing.assert_allclose(table["estimate"], ols.params, rtol=1e-8)
    np.testing.assert_allclose(table["std_error"], ols.bse, rtol=1e-8)
    weights = fitted.model.get_layer("eta").get_weights()
    np.testing.assert_allclose(table["gd_estimate"],
                               np.r_[weights[0][:, 0], weights[1]], rtol=1e-6)
    gap = (table["gd_estimate"] - table["estimate"]) / table["std_error"]
    np.testing.assert_allclose(table["gd_std_diff"], gap)


def test_a_network_without_validation_rows_stops_on_its_training_loss():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 2)), columns=["a", "b"])
    frame["y"] = np.sin(frame["a"]) + 0.1 * rng.normal(size=300)
    fitted = degenet.fit(frame, "y", model="mlp:8", validation=0, min_delta=1e-3)
    assert fitted.training.watched == "loss" and len(fitted.val_rows) == 0
    assert len(fitted.train_rows) == 300 and fitted.training.stopped_early
    # Stopped by patience: 5 epochs without a training loss lower by min_delta.
    assert fitted.epochs - fitted.best_epoch == 5
    assert fitted.history["val_loss"].isna().all() and np.isnan(fitted.val_loss)
