"""The regression in a verdict is at its optimum: converged gradient descent, the exact
optimum where gradient descent stopped short, an early-stopped fit under separation."""

import warnings

import numpy as np
import pandas as pd
import pytest

from degenet.comparison.comparison import compare
from degenet.comparison.verdict import Verdict


@pytest.fixture(scope="module")
def linear_table():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    y = 1.0 + X @ [1.0, -0.5, 0.25] + rng.normal(size=400)
    return pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)


def _quiet(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compare(**kwargs)


def test_a_regression_short_of_its_optimum_is_scored_at_the_optimum(linear_table):
    result = _quiet(data=linear_table, target="y", models="linear,mlp:4", cv=2, seed=0,
                    max_epochs=1, learning_rate=1e-4)
    for fold, fitted in zip(result.folds, result.fold_fits["linear"]):
        assert not fitted.exact.at_optimum and fold.stands["linear"] == "exact"
        solution = fitted.exact.solution
        X = linear_table[["a", "b", "c"]].to_numpy()[fold.test_rows]
        np.testing.assert_allclose(fold.eta["linear"], X @ solution.beta[:, 0] + solution.alpha,
                                   rtol=1e-12)
    (verdict,) = result.verdicts
    assert "the exact optimum in all 2 folds" in verdict.regression_fit
    assert any("regression linear: scored as the exact optimum" in n for n in result.notes)


def test_a_converged_regression_is_scored_as_trained(linear_table):
    result = _quiet(data=linear_table, target="y", models="linear", cv=2, seed=0)
    assert [fold.stands["linear"] for fold in result.folds] == ["gd", "gd"]


def test_an_exact_regression_trains_on_the_folds_whole_training_share(linear_table):
    result = _quiet(data=linear_table, target="y", models="linear,mlp:4", cv=4, seed=0,
                    solver="exact", max_epochs=5)
    for fold, fitted in zip(result.folds, result.fold_fits["linear"]):
        np.testing.assert_array_equal(fitted.train_rows,
                                      np.setdiff1d(np.arange(400), fold.test_rows))
        assert fold.stands["linear"] == "exact"
    network = result.fold_fits["mlp:4"][0]
    assert len(network.train_rows) + len(network.val_rows) == 300  # early stopping's share


def test_a_separated_regression_is_compared_through_a_finite_fit():
    # Before: the diverging maximum-likelihood fit lost by 30 deviance units on breast cancer.
    rng = np.random.default_rng(4)
    x = rng.normal(size=300)
    frame = pd.DataFrame({"x": x, "z": rng.normal(size=300), "y": (x > 0).astype(int)})
    result = _quiet(data=frame, target="y", models="logistic,mlp:4", cv=2, seed=0,
                    solver="exact", max_epochs=30)
    for fold, fitted in zip(result.folds, result.fold_fits["logistic"]):
        assert fold.stands["logistic"] == "early-stopped" and fitted.solver == "gd"
        assert np.abs(fold.eta["logistic"]).max() < 100  # a finite model, not a divergence
    assert "separation" in result.verdicts[0].regression_fit


def test_the_sentence_says_better_but_not_by_a_practical_margin():
    # randhie, one split: [-0.108, -0.014] against a margin of 0.05.
    verdict = Verdict(network="mlp", regression="poisson", loss_difference=-0.061,
                      ci_low=-0.108, ci_high=-0.014, prefer="either", network_loss=4.94,
                      regression_loss=5.0, margin=0.05, confidence=0.95,
                      method="paired bootstrap", n_rows=4038, n_folds=1)
    assert verdict.sentence.startswith("The network mlp is better than the regression poisson, "
                                       "by less than the 1% of the regression's deviance")
    assert "no reason" not in verdict.sentence
    worse = Verdict(**{**verdict.__dict__, "loss_difference": 0.02, "ci_low": 0.01,
                       "ci_high": 0.03})
    assert worse.sentence.startswith("The regression poisson is better than the network mlp, "
                                     "by less than")
