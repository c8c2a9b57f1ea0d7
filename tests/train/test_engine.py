"""The compiled engine: Keras's update, its optimum, early stopping, restored weights, seeds."""

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import degenet
from degenet.train import engine, optimizers
from degenet._keras import keras
from degenet.model.families import get_family
from degenet.model.network import build_network, logits_model
from degenet.randomness import derive
from degenet.data.scaling import fit_scaling
from degenet.model.specs import parse_spec
from degenet.train.loop import _train_keras, train
from degenet.train.settings import TrainSettings


@pytest.fixture(scope="module")
def linear_data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(600, 3)) * [1.0, 3.0, 0.2] + [0.0, 5.0, -1.0]
    y = X @ [0.5, -0.2, 2.0] + 1.0 + rng.normal(scale=0.3, size=600)
    return X, y


def _net(spec, family, n_features, seed=0):
    return logits_model(build_network(parse_spec(spec), get_family(family),
                                      n_features=n_features, n_outputs=1, seed=seed))


def _weights(net):
    return [np.asarray(v.value) for v in net.trainable_variables]


def test_permutation_is_a_permutation_that_changes_with_key_and_epoch():
    first = np.asarray(engine.permutation(jnp.uint32(5), jnp.asarray(0), 1000))
    assert sorted(first) == list(range(1000))
    assert not np.array_equal(first, np.arange(1000))
    again = np.asarray(engine.permutation(jnp.uint32(5), jnp.asarray(0), 1000))
    np.testing.assert_array_equal(first, again)
    for key, epoch in [(6, 0), (5, 1)]:
        other = np.asarray(engine.permutation(jnp.uint32(key), jnp.asarray(epoch), 1000))
        assert np.mean(other == first) < 0.02


def test_adam_update_is_keras_adam():
    rng = np.random.default_rng(0)
    weights = [jnp.asarray(rng.normal(size=(4, 3)), jnp.float32),
               jnp.asarray(rng.normal(size=3), jnp.float32)]
    variables = [keras.Variable(np.asarray(w)) for w in weights]
    theirs = keras.optimizers.Adam(learning_rate=0.01)
    theirs.build(variables)
    ours = optimizers.Adam(0.01)
    state, keras_state, keras_weights = ours.init(weights), [v.value for v in theirs.variables], \
        weights
    for _ in range(5):
        grads = [jnp.asarray(rng.normal(size=w.shape), jnp.float32) for w in weights]
        weights, state = ours.update(state, grads, weights, jnp.float32(1.0))
        keras_weights, keras_state = theirs.stateless_apply(keras_state, grads, keras_weights)
    for mine, keras_value in zip(weights, keras_weights):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(keras_value), rtol=1e-6,
                                   atol=1e-7)


def test_one_sgd_epoch_is_minibatch_gradient_descent_with_a_padded_last_batch():
    """10 rows in batches of 4, 4, 2 (the last padded and masked), checked by hand in numpy."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(13, 2)), rng.normal(size=13)
    train_rows, val_rows = np.arange(10), np.arange(10, 13)
    scaling = fit_scaling(X[train_rows])
    net = _net("linear", "gaussian", 2)
    settings = TrainSettings(max_epochs=1, batch_size=4, optimizer="sgd", learning_rate=0.1)
    engine._CACHE.clear()
    result = engine.train_scan(net, get_family("gaussian"), X, y, settings,
                               train_rows=train_rows, val_rows=val_rows, scaling=scaling, seed=4)
    Z = scaling.apply(X)
    order = np.asarray(engine.permutation(jnp.uint32(derive(4, "shuffle")), jnp.asarray(0), 10))
    beta, alpha, losses, iterates = np.zeros(2), 0.0, [], []
    for start in range(0, 10, 4):
        rows = train_rows[order[start:start + 4]]
        residual = Z[rows] @ beta + alpha - y[rows]
        losses.append(np.sum(residual**2))
        beta = beta - 0.1 * 2 * Z[rows].T @ residual / len(rows)
        alpha = alpha - 0.1 * 2 * residual.mean()
        iterates.append(np.r_[beta, alpha])
    # A regression keeps the mean of the epoch's iterates (Polyak averaging), not the last.
    beta, alpha = np.mean(iterates, axis=0)[:2], np.mean(iterates, axis=0)[2]
    kernel, bias = _weights(net)
    np.testing.assert_allclose(kernel[:, 0], beta, rtol=1e-5)
    np.testing.assert_allclose(bias, [alpha], rtol=1e-5)
    assert result.history["loss"].iloc[0] == pytest.approx(sum(losses) / 10, rel=1e-5)
    val = np.mean((Z[val_rows] @ beta + alpha - y[val_rows]) ** 2)
    assert result.history["val_loss"].iloc[0] == pytest.approx(val, rel=1e-5)


def test_engine_and_keras_fit_reach_the_least_squares_optimum(linear_data):
    X, y = linear_data
    train_rows, val_rows = np.arange(480), np.arange(480, 600)
    scaling = fit_scaling(X[train_rows])
    settings = TrainSettings(max_epochs=300, batch_size=32, learning_rate=0.01, patience=20)
    design = np.column_stack([scaling.apply(X[train_rows]), np.ones(480)])
    exact = np.linalg.lstsq(design, y[train_rows], rcond=None)[0]
    ours, theirs = _net("linear", "gaussian", 3), _net("linear", "gaussian", 3)
    family = get_family("gaussian")
    train(ours, family, X, y, settings, train_rows=train_rows, val_rows=val_rows,
          scaling=scaling, seed=1)
    _train_keras(theirs, family, scaling.apply(X[train_rows]), y[train_rows],
                 scaling.apply(X[val_rows]), y[val_rows], settings, seed=1, progress=None,
                 validated=True)
    for net in (ours, theirs):
        kernel, bias = _weights(net)
        np.testing.assert_allclose(np.append(kernel[:, 0], bias), exact, atol=0.02)


def test_early_stopping_keeps_the_best_epoch_and_restores_its_weights():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(150, 8))
    y = X[:, 0] + rng.normal(scale=1.0, size=150)  # few noisy rows: a wide MLP overfits
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(8)]).assign(y=y)
    fitted = degenet.fit(frame, "y", model="mlp:128,128", seed=0, max_epochs=400,
                         batch_size=16, learning_rate=0.01, patience=4)
    training = fitted.training
    assert training.stopped_early
    assert training.epochs == training.best_epoch + 4 < 400
    history = fitted.history["val_loss"].to_numpy()
    assert history[training.best_epoch - 1] == history.min()
    assert fitted.val_loss < history[-1]
    # The model holds the best epoch's weights: its loss on the validation rows is that one.
    mu = fitted.predict(frame.iloc[fitted.val_rows])
    mse = np.mean((frame["y"].to_numpy()[fitted.val_rows] - mu) ** 2)
    assert mse == pytest.approx(fitted.val_loss, rel=1e-4)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adamw"])
@pytest.mark.filterwarnings("ignore::degenet.ConvergenceWarning")
def test_two_identical_fits_compile_once_whatever_the_optimizer(optimizer):
    # The program cache is keyed by the optimizer's configuration, not by its identity.
    frame = degenet.datasets.balloons(517, seed=2)
    options = dict(target="color", model="mlp:5,3", seed=1, max_epochs=2, optimizer=optimizer,
                   features=["relationship", "children", "age"])
    degenet.fit(frame, **options)
    again = degenet.fit(frame, **options)
    assert again.training.compile_seconds == 0.0


@pytest.mark.filterwarnings("ignore::degenet.ConvergenceWarning")
def test_same_seed_same_fit_other_seed_other_fit():
    frame = degenet.datasets.balloons(2000, seed=1)
    options = dict(target="color", model="mlp:8", seed=5, max_epochs=3, batch_size=64,
                   features=["relationship", "children", "age"])
    first, second = degenet.fit(frame, **options), degenet.fit(frame, **options)
    assert second.training.compile_seconds == 0.0  # the compiled program was reused
    pd.testing.assert_frame_equal(first.history, second.history)
    for a, b in zip(first.model.get_weights(), second.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    third = degenet.fit(frame, **{**options, "seed": 6})
    assert not np.allclose(first.history["loss"], third.history["loss"])


@pytest.mark.filterwarnings("ignore::degenet.ConvergenceWarning")
def test_networks_of_single_output_families_share_one_program_and_keep_their_losses(
        monkeypatch):
    # The same shapes under the gaussian, bernoulli and poisson heads: one compile, and
    # each model exactly as trained by a program of its own family alone.
    frame = degenet.datasets.balloons(600, seed=3)
    frame["count"] = frame["num_balloons"].round().clip(lower=0)
    options = dict(model="mlp:6", seed=2, max_epochs=3, check=False,
                   features=["relationship", "children", "age"])
    targets = {"gaussian": "num_balloons", "bernoulli": "color", "poisson": "count"}
    alone = {}
    with monkeypatch.context() as patched:
        patched.setattr(engine, "family_group", lambda family: (family,))
        for family, target in targets.items():
            engine._CACHE.clear()
            alone[family] = degenet.fit(frame, target, family=family, **options)
    engine._CACHE.clear()
    for i, (family, target) in enumerate(targets.items()):
        shared = degenet.fit(frame, target, family=family, **options)
        assert (shared.training.compile_seconds == 0.0) == (i > 0)
        # XLA may order the float32 sums differently inside a branch: the last bit moves.
        pd.testing.assert_frame_equal(shared.history, alone[family].history, rtol=1e-5)
        for a, b in zip(shared.model.get_weights(), alone[family].model.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_validation_loss_in_chunks_equals_one_pass(linear_data, monkeypatch):
    X, y = linear_data
    train_rows, val_rows = np.arange(500), np.arange(500, 600)
    scaling, family = fit_scaling(X[train_rows]), get_family("gaussian")
    settings = TrainSettings(max_epochs=2, batch_size=50)
    results = []
    for chunk in (1000, 7):  # 100 rows at once, or 15 chunks with the last padded
        monkeypatch.setattr(engine, "_VAL_CHUNK", chunk)
        engine._CACHE.clear()
        results.append(engine.train_scan(_net("linear", "gaussian", 3), family, X, y, settings,
                                         train_rows=train_rows, val_rows=val_rows,
                                         scaling=scaling, seed=0).history)
    np.testing.assert_allclose(results[0]["val_loss"], results[1]["val_loss"], rtol=1e-5)


def test_other_layers_go_to_keras_fit(linear_data):
    X, y = linear_data
    inputs = keras.Input(shape=(3,))
    net = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dropout(0.1)(inputs)))
    assert engine.dense_stack(net) is None
    result = train(net, get_family("gaussian"), X, y, TrainSettings(max_epochs=2),
                   train_rows=np.arange(500), val_rows=np.arange(500, 600),
                   scaling=fit_scaling(X[:500]), seed=0)
    assert result.engine == "keras-fit" and result.epochs == 2


def test_engine_does_not_touch_the_callers_arrays(linear_data):
    X, y = (a.copy() for a in linear_data)
    X32 = X.astype(np.float32)
    before = X32.copy()
    engine.train_scan(_net("linear", "gaussian", 3), get_family("gaussian"), X32, y,
                      TrainSettings(max_epochs=1), train_rows=np.arange(500),
                      val_rows=np.arange(500, 600), scaling=fit_scaling(X[:500]), seed=0)
    np.testing.assert_array_equal(X32, before)


def test_default_batch_size_keeps_enough_steps_per_epoch():
    from degenet.train.settings import batch_size_for

    sizes = {n: batch_size_for(TrainSettings(), n) for n in (20, 455, 40_000, 80_000, 10**7)}
    assert sizes == {20: 20, 455: 32, 40_000: 128, 80_000: 256, 10**7: 4096}
    assert batch_size_for(TrainSettings(batch_size=64), 50) == 50


def test_bad_plateau_factor_is_named():
    from degenet.errors import DegenetError

    with pytest.raises(DegenetError, match=r"plateau_factor must be in \(0, 1\].*received 0"):
        TrainSettings(plateau_factor=0)
