"""What the torch and TensorFlow routes share: the engine's permutation in numpy, early
stopping, the Dense chain and the optimizer check."""

import math

import numpy as np
import pytest

from degenet._keras import keras
from degenet.train.hostloop import (Stopper, Toward, layers_of, permutation, plan,
                                    uses_builtin_adam)
from degenet.train.settings import Optimum, TrainSettings, Watch


@pytest.mark.parametrize("n", [1, 5, 1600, 80_003])
def test_the_numpy_permutation_is_the_engines_bit_for_bit(n):
    import jax.numpy as jnp

    from degenet.train.engine import permutation as engine_permutation

    for key, epoch in [(0, 0), (123456789, 7), (2**32 - 1, 199)]:
        ours = permutation(key, epoch, n)
        theirs = np.asarray(engine_permutation(jnp.asarray(key, jnp.uint32),
                                               jnp.asarray(epoch), n))
        np.testing.assert_array_equal(ours, theirs)
        assert sorted(ours.tolist()) == list(range(n))


def test_padded_order_covers_every_row_once_and_masks_the_padding():
    p = plan(1, 1000, TrainSettings(batch_size=64), seed=3)
    order, mask = p.padded_order(epoch=2, n_train=1000)
    assert order.shape == mask.shape == (math.ceil(1000 / 64), 64)
    kept = order.reshape(-1)[mask.reshape(-1) == 1]
    assert sorted(kept.tolist()) == list(range(1000)) and mask.sum() == 1000
    assert p.average and p.settings.learning_rate == 0.01  # a regression's defaults


def test_stopper_keeps_the_best_waits_patience_and_lowers_the_rate():
    seen = []
    stopper = Stopper(TrainSettings(patience=2, plateau_factor=0.5, max_epochs=10),
                      Watch("val_loss", 0.0),
                      progress=lambda done, total: seen.append((done, total)))
    assert stopper.update(1.0, 0.5) and stopper.update(1.0, 0.4)
    assert not stopper.update(1.0, float("nan"))  # NaN is never better
    assert stopper.rate == 0.5 and not stopper.done
    assert not stopper.update(1.0, 0.45)
    assert stopper.done and stopper.best_epoch == 2 and stopper.rate == 0.25
    assert seen == [(1, 10), (2, 10), (3, 10), (4, 10)]
    result = stopper.result(compile_seconds=0.0, started=0.0, engine="test")
    assert result.best_epoch == 2 and result.stopped_early and result.epochs == 4


def test_without_validation_rows_the_stopper_watches_the_training_loss():
    stopper = Stopper(TrainSettings(patience=1, max_epochs=10), Watch("loss", 1e-4))
    assert stopper.update(1.0, float("nan")) and stopper.update(0.5, float("nan"))
    assert not stopper.update(0.49995, float("nan"))  # less than min_delta lower
    assert stopper.done and stopper.best_epoch == 2
    assert stopper.result(compile_seconds=0, started=0, engine="t").watched == "loss"


def test_towards_an_optimum_the_stopper_halves_the_rate_and_stops_there():
    """As the engine: the distance chooses the best epoch; a plateau of the training loss
    halves the rate instead of stopping; a distance within the tolerance (<= 1) stops."""
    stopper = Stopper(TrainSettings(patience=2, max_epochs=100), Watch("optimum", 0.0))
    assert stopper.update(1.0, float("nan"), 5.0) and stopper.update(0.9, float("nan"), 3.0)
    assert stopper.update(0.95, float("nan"), 2.0) and not stopper.done
    assert stopper.update(0.95, float("nan"), 1.5)  # second epoch without a lower loss
    assert stopper.rate == 0.5 and stopper.wait == 0 and not stopper.done
    assert not stopper.update(0.8, float("nan"), 1.7) and not stopper.done
    assert stopper.update(0.7, float("nan"), 0.9) and stopper.done
    result = stopper.result(compile_seconds=0, started=0, engine="t")
    assert result.watched == "optimum" and result.best_watched == 0.9 and result.best_epoch == 6


@pytest.mark.parametrize("contrasts, whitened", [(False, True), (True, True), (False, False)])
def test_the_hosts_distance_is_the_engines(contrasts, whitened):
    import jax.numpy as jnp

    from degenet.train.toward import distance, target

    rng = np.random.default_rng(4)
    k, q = 3, 3 if contrasts else 1
    A = rng.normal(size=(k, k))
    optimum = Optimum(weights=(rng.normal(size=(k, q)), rng.normal(size=q)),
                      inverse_std_errors=(rng.uniform(0.5, 2, (k, q)), rng.uniform(0.5, 2, q)),
                      joint_scale=1.7, joint_limit=1.5,
                      whitening=np.linalg.cholesky(A @ A.T + np.eye(k)) if whitened else None)
    shift = rng.normal(size=k)
    v, bias = rng.normal(size=(k, q)), rng.normal(size=q)
    host = Toward(optimum, contrasts=contrasts, shift=shift)
    kernel = host.kernel(v)
    stack = ((0, 1, None),)
    family = type("F", (), {"contrasts": contrasts})()
    theirs = distance(stack, family, [jnp.asarray(v, jnp.float32), jnp.asarray(bias, jnp.float32)],
                      [jnp.asarray(kernel, jnp.float32), jnp.asarray(bias, jnp.float32)],
                      target(optimum, [jnp.asarray(kernel), jnp.asarray(bias)], 0),
                      jnp.asarray(shift, jnp.float32), whitened=whitened)
    assert host.distance(v, bias) == pytest.approx(float(theirs), rel=1e-5)
    np.testing.assert_allclose(host.start(kernel), v, rtol=1e-10)


def test_only_adam_itself_takes_the_written_out_adam():
    assert uses_builtin_adam(TrainSettings(optimizer="adam"))
    assert not uses_builtin_adam(TrainSettings(optimizer="adamw"))
    assert not uses_builtin_adam(TrainSettings(optimizer="sgd"))


def test_layers_of_reads_a_dense_chain_and_nothing_else():
    inputs = keras.Input(shape=(3,))
    hidden = keras.layers.Dense(4, activation="relu")(inputs)
    chain = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    assert [name for _, _, name in layers_of(chain)] == ["relu", "linear"]
    other = keras.Model(inputs, keras.layers.Dense(1, activation="softplus")(inputs))
    assert layers_of(other) is None
    normalized = keras.Model(inputs, keras.layers.Dense(1)(
        keras.layers.BatchNormalization()(inputs)))
    assert layers_of(normalized) is None
