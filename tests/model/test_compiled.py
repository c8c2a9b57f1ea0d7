"""The compiled programs of a trained network: the same eta as Keras, the right gradient."""

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet.model import compiled
from degenet.model.network import predict_logits

pytestmark = pytest.mark.filterwarnings("ignore::degenet.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def fits():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(-1, 1, (400, 3)), columns=["a", "b", "c"])
    frame["y"] = np.sin(2 * frame["a"]) + frame["b"] * frame["c"] + rng.normal(0, 0.1, 400)
    frame["k"] = (frame["y"] > 0).astype(int)
    return {"mlp": degenet.fit(frame, "y", model="mlp:8", features=["a", "b", "c"],
                               max_epochs=20, seed=0),
            "logistic": degenet.fit(frame, "k", features=["a", "b", "c"], solver="exact"),
            "X": frame[["a", "b", "c"]].to_numpy()}


def test_logits_are_the_models_eta(fits):
    for name in ("mlp", "logistic"):
        np.testing.assert_allclose(compiled.logits(fits[name].model, fits["X"]),
                                   predict_logits(fits[name].model, fits["X"]), rtol=1e-5,
                                   atol=1e-5)


def test_a_regressions_gradient_is_its_coefficients(fits):
    gradient = compiled.logits_gradient(fits["logistic"].model, fits["X"])
    beta = fits["logistic"].exact.beta[:, 0]
    assert gradient.shape == (len(fits["X"]), 1, 3)
    np.testing.assert_allclose(gradient[:, 0, :], np.tile(beta, (len(fits["X"]), 1)),
                               rtol=1e-5)


def test_a_networks_gradient_matches_central_differences(fits):
    model, X = fits["mlp"].model, fits["X"]
    gradient = compiled.logits_gradient(model, X)[:, 0, :]
    h = 1e-3
    for j in range(3):
        step = np.zeros(3)
        step[j] = h
        difference = (predict_logits(model, X + step) - predict_logits(model, X - step))[:, 0]
        close = np.isclose(gradient[:, j], difference / (2 * h), rtol=1e-2, atol=1e-3)
        assert close.mean() > 0.97  # a ReLU kink within h of a row is not differentiable there


def test_one_program_serves_folds_of_one_architecture(fits):
    other = degenet.fit(pd.DataFrame(fits["X"], columns=["a", "b", "c"]).assign(
        y=np.arange(len(fits["X"])) % 7), "y", model="mlp:8", max_epochs=2, seed=1)
    before = len(compiled._PROGRAMS)
    compiled.logits_gradient(fits["mlp"].model, fits["X"])
    compiled.logits_gradient(other.model, fits["X"])
    assert len(compiled._PROGRAMS) <= before + 1
    np.testing.assert_allclose(compiled.logits(other.model, fits["X"]),
                               predict_logits(other.model, fits["X"]), rtol=1e-5, atol=1e-5)


def test_a_model_with_an_offset_input(fits):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(fits["X"], columns=["a", "b", "c"]).assign(
        exposure=rng.uniform(0.5, 2.0, len(fits["X"])))
    frame["count"] = rng.poisson(frame["exposure"] * np.exp(frame["a"]))
    fitted = degenet.fit(frame, "count", model="mlp:8", family="poisson",
                         features=["a", "b", "c"], exposure="exposure", max_epochs=5, seed=0)
    offset = np.log(frame["exposure"].to_numpy())
    np.testing.assert_allclose(compiled.logits(fitted.model, fits["X"], offset),
                               predict_logits(fitted.model, fits["X"], offset), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(compiled.logits_gradient(fitted.model, fits["X"], offset),
                               compiled.logits_gradient(fitted.model, fits["X"]), atol=1e-6)
