"""Every family's loss: its gradient against finite differences, and keras.ops == numpy."""

import numpy as np
import pandas as pd
import pytest

from degenet._keras import keras
from degenet.errors import DegenetError
from degenet.model.families import FAMILIES, get_family, infer_family

RNG = np.random.default_rng(0)
N = 7


def _case(family):
    if family.name == "categorical":
        return RNG.integers(0, 3, N).astype(float), RNG.normal(size=(N, 3))
    y = {"gaussian": RNG.normal(size=N), "bernoulli": RNG.integers(0, 2, N).astype(float),
         "poisson": RNG.poisson(2.0, N).astype(float)}[family.name]
    return y, RNG.normal(size=N)


@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES)
def test_gradient_matches_finite_differences(family):
    y, eta = _case(family)
    step = 1e-6
    numeric = np.zeros_like(eta)
    for index in np.ndindex(eta.shape):
        up, down = eta.copy(), eta.copy()
        up[index] += step
        down[index] -= step
        row = index[0]
        numeric[index] = (family.loss_np(y, up)[row] - family.loss_np(y, down)[row]) / (2 * step)
    np.testing.assert_allclose(family.gradient(y, eta), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("family", [f for f in FAMILIES.values() if f.name != "categorical"],
                         ids=lambda f: f.name)
def test_hessian_weight_matches_finite_differences(family):
    y, eta = _case(family)
    step = 1e-5
    numeric = (family.gradient(y, eta + step) - family.gradient(y, eta - step)) / (2 * step)
    np.testing.assert_allclose(family.hessian_weight(eta), numeric, rtol=1e-6)


@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES)
def test_keras_loss_equals_numpy_loss(family):
    y, eta = _case(family)
    keras_eta = eta if eta.ndim == 2 else eta[:, None]  # the network's head is (n, 1)
    loss = keras.ops.convert_to_numpy(family.loss(keras.ops.convert_to_tensor(y),
                                                  keras.ops.convert_to_tensor(keras_eta)))
    np.testing.assert_allclose(loss, family.loss_np(y, eta), rtol=1e-5)


def test_losses_from_logits_stay_finite_far_out():
    # Computed from eta, not from clipped probabilities: no overflow, no log(0).
    eta = np.array([-800.0, 800.0])
    assert np.isfinite(FAMILIES["bernoulli"].loss_np(np.array([1.0, 0.0]), eta)).all()
    assert np.allclose(FAMILIES["bernoulli"].loss_np(np.array([1.0, 0.0]), eta), 800.0)


def test_infer_family():
    assert infer_family(pd.Series([0.1, 2.5, 3.0])).name == "gaussian"
    assert infer_family(pd.Series([0, 1, 1, 0])).name == "bernoulli"
    assert infer_family(pd.Series(["red", "green"])).name == "bernoulli"
    assert infer_family(pd.Series(["a", "b", "c"])).name == "categorical"


def test_labels_are_kept_and_positive_class_is_the_second():
    target = FAMILIES["bernoulli"].encode_target(pd.Series(["red", "green", "red"], name="color"))
    assert target.classes == ("green", "red")
    assert target.y.tolist() == [1.0, 0.0, 1.0]


def test_errors_name_the_value():
    with pytest.raises(DegenetError, match="unknown family 'normal'"):
        get_family("normal")
    with pytest.raises(DegenetError, match="'color'.*3 distinct"):
        FAMILIES["bernoulli"].encode_target(pd.Series(["a", "b", "c"], name="color"))
    with pytest.raises(DegenetError, match="'n'.*-1.*counts >= 0"):
        FAMILIES["poisson"].encode_target(pd.Series([1.0, -1.0], name="n"))
