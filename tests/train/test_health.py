"""Divergence and uselessness caught for every model (issue 12: a network that diverges
said nothing: learning_rate=1e6 gave val_loss 1e12 and exit status 0)."""

import warnings

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet import ConvergenceWarning
from degenet.model.families import get_family
from degenet.train.settings import TrainSettings


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=200), "x2": rng.normal(size=200)})
    frame["y"] = 1 + 2 * frame.x1 - frame.x2 + 0.1 * rng.normal(size=200)
    return frame


def _convergence_warnings(**options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = degenet.fit(options.pop("table"), "y", **options)
    return fitted, [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize("rate", [1e6, 10, 10.0])  # an int rate is a number too
def test_a_diverging_network_is_reported_with_a_sane_rate(table, rate):
    fitted, messages = _convergence_warnings(table=table, model="mlp:8", learning_rate=rate)
    assert any("diverged" in m and f"learning_rate={float(rate)!r}" in m
               and "Try learning_rate=0.003" in m for m in messages), messages
    assert fitted.settings.learning_rate == float(rate)


def test_a_diverging_regression_is_reported(table):
    _, messages = _convergence_warnings(table=table, model="linear", learning_rate=1e6)
    assert any("diverged" in m and "Try learning_rate=0.01" in m for m in messages), messages


def test_a_healthy_network_says_nothing_of_divergence(table):
    _, messages = _convergence_warnings(table=table, model="mlp:8", max_epochs=400)
    assert not any("diverged" in m or "learned nothing" in m for m in messages), messages


def test_a_network_on_noise_learned_nothing(table):
    noise = table.assign(y=np.random.default_rng(9).normal(size=len(table)))
    _, messages = _convergence_warnings(table=noise, model="mlp:8", max_epochs=400)
    assert any("learned nothing" in m and "intercept-only baseline" in m for m in messages), \
        messages


def test_the_baseline_is_the_training_mean_scored_on_validation_rows():
    from degenet.train.health import baseline_loss

    y = np.array([1.0, 2.0, 3.0, 10.0, 20.0])
    got = baseline_loss(get_family("gaussian"), y, train_rows=np.array([0, 1, 2]),
                        rows=np.array([3, 4]), weight=None, n_classes=None)
    assert got == pytest.approx(((10 - 2) ** 2 + (20 - 2) ** 2) / 2)


@pytest.mark.parametrize("used, regression, want", [
    (1e6, False, 0.003), (1e6, True, 0.01), (0.003, False, 0.0003), (None, True, 0.001)])
def test_the_suggested_rate(used, regression, want):
    from degenet.train.health import sane_rate

    assert sane_rate(TrainSettings(learning_rate=used), regression=regression) == \
        pytest.approx(want)
