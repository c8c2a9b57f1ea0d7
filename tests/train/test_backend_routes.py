"""Every backend trains the same model: the JAX engine, the TensorFlow program and the torch
loop give the same regressions for the same seed (same permutation, Adam, averaging and
early stopping), within float32 round-off. The figures are the JAX engine's; the same test
runs on whichever backend is in use (``make test-torch`` runs it on torch)."""

import warnings

import numpy as np
import pytest

import degenet
from degenet._keras import backend
from degenet.datasets import balloons

FEATURES = ["relationship", "children", "age"]
ENGINES = {"jax": "jax-scan", "torch": "torch-loop", "tensorflow": "tf-xla"}
# degenet.fit(balloons(2000, seed=0), ...) on the JAX engine: epochs, best epoch, val_loss
# (a regression trains to its exact optimum and stops there).
REFERENCE = {("num_balloons", "linear"): (15, 15, 0.009921830505427203),
             ("color", "logistic"): (7, 7, 0.17986007034778595)}


@pytest.fixture(scope="module")
def people():
    return balloons(2000, seed=0)


def _fit(people, target, model, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return degenet.fit(people, target=target, model=model, features=FEATURES, **options)


@pytest.mark.parametrize("target, model", list(REFERENCE))
def test_every_backend_gives_the_engines_regression(people, target, model):
    fit = _fit(people, target, model)
    assert fit.training.engine == ENGINES.get(backend(), "keras-fit")
    epochs, best, val_loss = REFERENCE[(target, model)]
    assert (fit.epochs, fit.best_epoch) == (epochs, best)
    assert fit.val_loss == pytest.approx(val_loss, rel=1e-4)
    assert fit.training.watched == "optimum" and fit.exact.max_std_diff <= 0.5


def test_a_network_trains_on_the_route(people):
    fit = _fit(people, "color", "mlp:8", max_epochs=30)
    assert fit.training.engine == ENGINES.get(backend(), "keras-fit")
    assert 1 <= fit.best_epoch <= fit.epochs <= 30
    assert fit.val_loss < 0.5 * fit.history["val_loss"].iloc[0] or fit.val_loss < 0.1


def test_sample_weights_reach_the_route(people):
    """Weight 3 on every single person moves the exact optimum towards the single branch
    (children 0.8, age 0.5); gradient descent follows it, not the unweighted one."""
    weight = np.where(people["relationship"] > 0, 3.0, 1.0)
    fit = _fit(people, "num_balloons", "linear", sample_weight=weight)
    plain = _fit(people, "num_balloons", "linear")
    ours, weighted, unweighted = (fit.coefficients["estimate"].to_numpy(),
                                  fit.exact.estimates(exact=True)["estimate"].to_numpy(),
                                  plain.exact.estimates(exact=True)["estimate"].to_numpy())
    assert np.abs(weighted - unweighted).max() > 0.05
    assert np.abs(ours - weighted).max() < 0.2 * np.abs(ours - unweighted).max()
    assert fit.exact.max_std_diff < 3


def test_another_optimizer_trains_with_keras_where_there_is_no_engine(people):
    fit = _fit(people, "num_balloons", "linear", optimizer="sgd", max_epochs=5)
    expected = "jax-scan" if backend() == "jax" else "keras-fit"
    assert fit.training.engine == expected and fit.epochs <= 5


def test_an_exposure_reaches_the_route():
    """Counts proportional to time at risk: the route adds log(years) to eta, so the rate
    coefficients land at the exact optimum of the model with the exposure."""
    rng = np.random.default_rng(11)
    n = 2000
    years = np.exp(rng.uniform(np.log(0.1), np.log(10.0), n))
    age, smoker = rng.uniform(-1, 1, n), rng.integers(0, 2, n)
    visits = rng.poisson(np.exp(0.3 + 0.5 * age - 0.4 * smoker) * years)
    import pandas as pd

    frame = pd.DataFrame({"age": age, "smoker": smoker, "years": years, "visits": visits})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = degenet.fit(frame, "visits", model="poisson", features=["age", "smoker"],
                          exposure="years", seed=1)
    assert fit.training.engine == ENGINES.get(backend(), "keras-fit")
    assert fit.exact.max_std_diff < 1.0
    assert fit.coefficients.loc["smoker", "estimate"] == pytest.approx(-0.4, abs=0.15)
