"""Every family through every method: derivatives by finite differences, keras.ops == numpy,
deviances, probabilities, shapes, and the target checks."""

import numpy as np
import pandas as pd
import pytest
from scipy import special

from degenet._keras import keras
from degenet.errors import DegenetError
from degenet.model.families import FAMILIES, get_family, infer_family

N = 7
N_CLASSES = 3
# A sample target per family, as its encode_target makes it (a new family adds one here).
TARGETS = {
    "gaussian": lambda rng: rng.normal(size=N),
    "bernoulli": lambda rng: rng.integers(0, 2, N).astype(float),
    "categorical": lambda rng: rng.integers(0, N_CLASSES, N).astype(float),
    "poisson": lambda rng: rng.poisson(2.0, N).astype(float),
}
EVERY = pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES)
CLASSIFIERS = [f for f in FAMILIES.values() if f.is_classifier]


def _case(family, seed=0):
    """``y``, the network's ``eta`` ``(n, n_outputs)`` and the family's squeezed ``eta``."""
    rng = np.random.default_rng(seed)
    y = TARGETS[family.name](rng)
    outputs = rng.normal(size=(N, family.n_outputs(N_CLASSES)))
    return y, outputs, family.squeeze(outputs)


def _nudged(family, outputs, row, column, step):
    out = outputs.copy()
    out[row, column] += step
    return family.squeeze(out)


@EVERY
def test_gradient_matches_finite_differences(family):
    y, outputs, eta = _case(family)
    step, numeric = 1e-6, np.zeros_like(outputs)
    for row, column in np.ndindex(outputs.shape):
        up = family.loss_np(y, _nudged(family, outputs, row, column, step))[row]
        down = family.loss_np(y, _nudged(family, outputs, row, column, -step))[row]
        numeric[row, column] = (up - down) / (2 * step)
    gradient = family.gradient(y, eta)
    assert gradient.shape == eta.shape
    np.testing.assert_allclose(gradient, family.squeeze(numeric), rtol=1e-6, atol=1e-8)


@EVERY
def test_curvature_matches_finite_differences_of_the_gradient(family):
    # d gradient_free[i, a] / d eta_free[i, b], the categorical family's block Hessian too.
    y, outputs, eta = _case(family)
    n_free = family.n_free(outputs.shape[1])
    pinned = outputs.shape[1] - n_free
    step, numeric = 1e-5, np.zeros((N, n_free, n_free))
    for b in range(n_free):
        for row in range(N):
            up = family.free(family.gradient(y, _nudged(family, outputs, row, pinned + b, step)))
            down = family.free(family.gradient(y, _nudged(family, outputs, row, pinned + b,
                                                          -step)))
            numeric[row, :, b] = (up[row] - down[row]) / (2 * step)
    curvature = family.curvature(eta)
    assert curvature.shape == (N, n_free, n_free)
    np.testing.assert_allclose(curvature, numeric, rtol=1e-6, atol=1e-9)


@EVERY
def test_keras_loss_equals_numpy_loss(family):
    y, outputs, eta = _case(family)
    loss = keras.ops.convert_to_numpy(family.loss(keras.ops.convert_to_tensor(y),
                                                  keras.ops.convert_to_tensor(outputs)))
    np.testing.assert_allclose(loss, family.loss_np(y, eta), rtol=1e-5)


@pytest.mark.parametrize("family", [f for f in FAMILIES.values() if f.exact_solver == "newton"],
                         ids=lambda f: f.name)
def test_gradient_is_the_mean_minus_the_targets(family):
    # The canonical link's identity the Newton solver's first step rests on.
    y, outputs, eta = _case(family)
    expected = family.free(family.mean(eta)) - family.free_targets(y, outputs.shape[1])
    np.testing.assert_allclose(family.free(family.gradient(y, eta)), expected, atol=1e-12)


@EVERY
def test_unit_deviance_is_twice_the_loss_gap_to_the_saturated_model(family):
    # Checked where the saturated model is finite: eta at the observed mean.
    y, outputs, eta = _case(family)
    deviance = family.unit_deviance(y, eta)
    assert deviance.shape == (N,) and (deviance >= -1e-12).all()
    np.testing.assert_allclose(family.deviance(y, eta, np.ones(N)), deviance.sum())
    if family.name == "gaussian":
        np.testing.assert_allclose(deviance, (y - eta) ** 2)
    elif family.name == "poisson":
        saturated = np.log(np.where(y > 0, y, 1.0))
        gap = family.loss_np(y, eta) - np.where(y > 0, family.loss_np(y, saturated), 0.0)
        np.testing.assert_allclose(deviance, 2.0 * gap)
    else:  # the classifiers' saturated loss is 0
        np.testing.assert_allclose(deviance, 2.0 * family.loss_np(y, eta))


@pytest.mark.parametrize("family", [f for f in FAMILIES.values() if not f.contrasts],
                         ids=lambda f: f.name)
def test_loss_gradient_and_curvature_together_equal_each_alone(family):
    y, outputs, eta = _case(family)
    eta = np.concatenate([eta, [-800.0, -40.0, -1e-20, 0.0, 1e-20, 40.0, 700.0]])
    y = np.concatenate([y, np.resize(y, 7)])
    with np.errstate(over="ignore"):
        loss, gradient, curvature = family.loss_gradient_curvature(y, eta)
        np.testing.assert_array_equal(loss, family.loss_np(y, eta))
    np.testing.assert_allclose(gradient, family.gradient(y, eta), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(curvature, family.curvature(eta)[:, 0, 0], rtol=1e-15,
                               atol=1e-300)


def test_the_logistic_loss_is_softplus_to_the_last_digits():
    bernoulli = get_family("bernoulli")
    eta = np.array([-800.0, -40.0, -3.0, -1e-20, 0.0, 1e-20, 2.5, 40.0, 800.0])
    for y in (np.zeros(9), np.ones(9)):
        np.testing.assert_allclose(bernoulli.loss_np(y, eta),
                                   np.logaddexp(0.0, eta) - y * eta, rtol=1e-14, atol=1e-300)


@EVERY
def test_fit_figures_are_the_mean_loss_log_likelihood_and_deviance(family):
    y, outputs, eta = _case(family)
    weight = np.random.default_rng(1).uniform(0.5, 2.0, N)
    loss, log_likelihood, deviance = family.fit_figures(y, eta, weight)
    assert loss == pytest.approx(np.average(family.loss_np(y, eta), weights=weight), rel=1e-12)
    assert log_likelihood == pytest.approx(family.log_likelihood(y, eta, weight), rel=1e-12)
    assert deviance == pytest.approx(family.deviance(y, eta, weight), rel=1e-12)


@pytest.mark.parametrize("family", CLASSIFIERS, ids=lambda f: f.name)
def test_probabilities_and_full_logits(family):
    _, outputs, eta = _case(family)
    proba = family.probabilities(eta)
    assert proba.shape == (N, max(2, outputs.shape[1]))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(special.softmax(family.full_logits(eta), axis=1), proba)
    np.testing.assert_allclose(family.free(family.mean(eta)), proba[:, -family.n_free(
        outputs.shape[1]):] if outputs.shape[1] > 1 else proba[:, 1:])


@pytest.mark.parametrize("family", [f for f in FAMILIES.values() if not f.is_classifier],
                         ids=lambda f: f.name)
def test_regression_families_have_no_class_probabilities(family):
    _, _, eta = _case(family)
    with pytest.raises(DegenetError, match=f"the {family.name} family"):
        family.probabilities(eta)


@EVERY
def test_optimal_constant_zeroes_the_gradient(family):
    y, outputs, _ = _case(family)
    constant = family.optimal_constant(y, np.ones(N), outputs.shape[1])
    eta = family.squeeze(np.tile(constant, (N, 1)))
    np.testing.assert_allclose(family.free(family.gradient(y, eta)).sum(axis=0), 0.0,
                               atol=1e-12)


@pytest.mark.parametrize("family", CLASSIFIERS, ids=lambda f: f.name)
def test_separation_margins_are_non_negative_along_a_separating_direction(family):
    # One column separates the classes: class c where x lies in the c-th third.
    x = np.linspace(-1.0, 1.0, 12)
    n_classes = 2 if family.n_outputs(3) == 1 else 3
    y = np.digitize(x, np.linspace(-1, 1, n_classes + 1)[1:-1]).astype(float)
    A = np.column_stack([x, np.ones_like(x)])
    margins = family.separation_margins(A, y, n_classes)
    # Logit of class c minus class c - 1 crosses zero at the boundary between them.
    direction = np.r_[1.0, 0.0] if n_classes == 2 else np.r_[3.0, 1.0, 6.0, 0.0]
    assert (margins @ direction >= -1e-12).all()
    assert (margins @ -direction < 0).any()


def test_infer_family():
    assert infer_family(pd.Series([0.1, 2.5, 3.0])).name == "gaussian"
    assert infer_family(pd.Series([0, 1, 1, 0])).name == "bernoulli"
    assert infer_family(pd.Series(["red", "green"])).name == "bernoulli"
    assert infer_family(pd.Series(["a", "b", "c"])).name == "categorical"


def test_labels_are_kept_and_positive_class_is_the_second():
    target = FAMILIES["bernoulli"].encode_target(pd.Series(["red", "green", "red"], name="color"))
    assert target.classes == ("green", "red")
    assert target.y.tolist() == [1.0, 0.0, 1.0]


def test_losses_from_logits_stay_finite_far_out():
    # Computed from eta, not from clipped probabilities: no overflow, no log(0).
    eta = np.array([-800.0, 800.0])
    assert np.allclose(FAMILIES["bernoulli"].loss_np(np.array([1.0, 0.0]), eta), 800.0)


def test_errors_name_the_value():
    with pytest.raises(DegenetError, match="unknown family 'normal'"):
        get_family("normal")
    with pytest.raises(DegenetError, match="'color'.*3 distinct"):
        FAMILIES["bernoulli"].encode_target(pd.Series(["a", "b", "c"], name="color"))
    with pytest.raises(DegenetError, match="'n'.*-1.*counts >= 0"):
        FAMILIES["poisson"].encode_target(pd.Series([1.0, -1.0], name="n"))
    with pytest.raises(DegenetError, match="'k' has a single class"):
        FAMILIES["categorical"].encode_target(pd.Series(["a", "a"], name="k"))


@pytest.mark.parametrize("family, y, match", [
    ("bernoulli", [0.0, 2.0], "must be 0 or 1; received 2"),
    ("bernoulli", [1.0, 1.0], "bernoulli y has a single class"),
    ("poisson", [1.0, -3.0], "counts >= 0; received -3"),
    ("poisson", [0.0, 0.0], "0 on every row"),
    ("categorical", [0.0, 1.5], "class codes"),
])
def test_encoded_targets_are_checked_with_the_value(family, y, match):
    with pytest.raises(DegenetError, match=match):
        FAMILIES[family].check_encoded(np.array(y), np.ones(len(y)), None)
