"""What the torch and TensorFlow routes share: the engine's permutation in numpy, early
stopping, the Dense chain and the optimizer check."""

import math

import numpy as np
import pytest

from degenet._keras import keras
from degenet.train.hostloop import Stopper, layers_of, permutation, plan, uses_builtin_adam
from degenet.train.settings import TrainSettings


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
                      progress=lambda done, total: seen.append((done, total)))
    assert stopper.update(1.0, 0.5) and stopper.update(1.0, 0.4)
    assert not stopper.update(1.0, float("nan"))  # NaN is never better
    assert stopper.rate == 0.5 and not stopper.done
    assert not stopper.update(1.0, 0.45)
    assert stopper.done and stopper.best_epoch == 2 and stopper.rate == 0.25
    assert seen == [(1, 10), (2, 10), (3, 10), (4, 10)]
    result = stopper.result(compile_seconds=0.0, started=0.0, engine="test")
    assert result.best_epoch == 2 and result.stopped_early and result.epochs == 4


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
