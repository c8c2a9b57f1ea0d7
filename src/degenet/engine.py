"""The compiled training engine for the JAX backend.

Plain ``model.fit`` spends most of each step in Python. Here a whole run of epochs is one
XLA program: a ``lax.scan`` over the minibatches of an epoch (Keras's stateless API:
``stateless_call`` and ``optimizer.stateless_apply``), the validation loss computed in the
same program, and early stopping with the best weights kept inside a ``lax.while_loop``.
Python only regains control every few epochs, to report progress.

The data are passed to the program as arguments, so they live on the device once and are
not baked into the program as constants. The last partial batch is padded and masked, so
there is one compile per model.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from degenet._keras import keras
from degenet.families import Family
from degenet.randomness import derive
from degenet.training import (ProgressCallback, TrainResult, TrainSettings, history_frame,
                              make_optimizer)

# Python regains control about this often (seconds), to report progress.
_CALL_SECONDS = 0.5


class _State(NamedTuple):
    trainable: list
    non_trainable: list
    optimizer: list
    key: jax.Array
    best_trainable: list
    best_non_trainable: list
    best_val: jax.Array
    best_epoch: jax.Array
    wait: jax.Array
    epoch: jax.Array
    loss: jax.Array  # (max_epochs,) training loss per epoch
    val_loss: jax.Array  # (max_epochs,)


def _fmix(h):
    h = h ^ (h >> 16); h = h * jnp.uint32(0x85EBCA6B); h = h ^ (h >> 13); h = h * jnp.uint32(0xC2B2AE35); return h ^ (h >> 16)

def _permutation(key, epoch, n):
    k1 = _fmix(key ^ _fmix(epoch.astype(jnp.uint32) + jnp.uint32(0x9E3779B9)))
    k2 = _fmix(k1 + jnp.uint32(0x7F4A7C15))
    return jnp.argsort(_fmix(_fmix(jnp.arange(n, dtype=jnp.uint32) + k1) ^ k2))

def _select(flag, new, old):
    return jax.tree_util.tree_map(lambda a, b: jnp.where(flag, a, b), new, old)


def _program(net: keras.Model, family: Family, optimizer, settings: TrainSettings,
             n_train: int, batch_size: int):
    """The jitted ``run(state, X, y, X_val, y_val, stop_at) -> state``."""
    n_steps = math.ceil(n_train / batch_size)
    n_pad = n_steps * batch_size - n_train

    def batch_loss(trainable, non_trainable, X, y, mask):
        eta, non_trainable = net.stateless_call(trainable, non_trainable, X, training=True)
        total = jnp.sum(family.loss(y, eta) * mask)
        return total / jnp.maximum(jnp.sum(mask), 1.0), (non_trainable, total)

    grad = jax.value_and_grad(batch_loss, has_aux=True)

    def step(carry, batch):
        trainable, non_trainable, opt_vars, X, y = carry
        rows, mask = batch
        (_, (non_trainable, total)), grads = grad(trainable, non_trainable, X[rows], y[rows], mask)
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        return (trainable, non_trainable, opt_vars, X, y), total

    def epoch(state: _State, X, y, X_val, y_val) -> _State:
        key = state.key
        order = _permutation(key, state.epoch, n_train)
        rows = jnp.concatenate([order, jnp.zeros(n_pad, order.dtype)]).reshape(n_steps, -1)
        mask = jnp.concatenate([jnp.ones(n_train), jnp.zeros(n_pad)]).reshape(n_steps, -1)
        carry = (state.trainable, state.non_trainable, state.optimizer, X, y)
        (trainable, non_trainable, opt_vars, _, _), totals = jax.lax.scan(step, carry,
                                                                          (rows, mask))
        eta_val, _ = net.stateless_call(trainable, non_trainable, X_val)
        val = jnp.mean(family.loss(y_val, eta_val))
        improved = val < state.best_val - settings.min_delta
        return _State(
            trainable, non_trainable, opt_vars, key,
            _select(improved, trainable, state.best_trainable),
            _select(improved, non_trainable, state.best_non_trainable),
            jnp.where(improved, val, state.best_val),
            jnp.where(improved, state.epoch + 1, state.best_epoch),
            jnp.where(improved, 0, state.wait + 1),
            state.epoch + 1,
            state.loss.at[state.epoch].set(jnp.sum(totals) / n_train),
            state.val_loss.at[state.epoch].set(val))

    def run(state: _State, X, y, X_val, y_val, stop_at) -> _State:
        def going(s):
            return (s.epoch < stop_at) & (s.wait < settings.patience)

        return jax.lax.while_loop(going, lambda s: epoch(s, X, y, X_val, y_val), state)

    return jax.jit(run, donate_argnums=0)


def train_scan(net: keras.Model, family: Family, X_train: np.ndarray, y_train: np.ndarray,
               X_val: np.ndarray, y_val: np.ndarray, settings: TrainSettings, *, seed: int,
               progress: ProgressCallback | None = None) -> TrainResult:
    """Train ``net`` (outputting logits) in place; see :func:`degenet.training.train`."""
    optimizer = make_optimizer(settings)
    optimizer.build(net.trainable_variables)
    batch_size = min(settings.batch_size, len(X_train))
    run = _program(net, family, optimizer, settings, len(X_train), batch_size)

    y_dtype = jnp.int32 if family.name == "categorical" else jnp.float32
    data = (jnp.asarray(X_train, jnp.float32), jnp.asarray(y_train, y_dtype),
            jnp.asarray(X_val, jnp.float32), jnp.asarray(y_val, y_dtype))
    # The state is donated to the program, so it holds copies, never the variables' buffers.
    def values(variables):
        return [jnp.array(v.value, copy=True) for v in variables]

    state = _State(
        values(net.trainable_variables), values(net.non_trainable_variables),
        values(optimizer.variables), jnp.asarray(derive(seed, "shuffle"), jnp.uint32),
        values(net.trainable_variables), values(net.non_trainable_variables),
        jnp.asarray(jnp.inf, jnp.float32), jnp.asarray(0), jnp.asarray(0), jnp.asarray(0),
        jnp.full(settings.max_epochs, jnp.nan, jnp.float32),
        jnp.full(settings.max_epochs, jnp.nan, jnp.float32))

    start = time.perf_counter()
    compiled = run.lower(state, *data, jnp.asarray(1)).compile()
    compile_seconds = time.perf_counter() - start

    start, per_call, done = time.perf_counter(), 1, 0
    while True:
        stop_at = min(done + per_call, settings.max_epochs)
        call_start = time.perf_counter()
        state = compiled(state, *data, jnp.asarray(stop_at))
        ran, done = int(state.epoch) - done, int(state.epoch)
        if progress:
            progress(done, settings.max_epochs)
        if done >= settings.max_epochs or int(state.wait) >= settings.patience:
            break
        seconds_per_epoch = (time.perf_counter() - call_start) / max(1, ran)
        per_call = max(1, int(_CALL_SECONDS / max(seconds_per_epoch, 1e-6)))
    train_seconds = time.perf_counter() - start

    for variable, value in zip(net.trainable_variables, state.best_trainable):
        variable.assign(value)
    for variable, value in zip(net.non_trainable_variables, state.best_non_trainable):
        variable.assign(value)
    history = history_frame(np.asarray(state.loss[:done]), np.asarray(state.val_loss[:done]))
    # best_epoch 0: no epoch had a finite validation loss; the initial weights are kept.
    return TrainResult(history, int(state.best_epoch), done < settings.max_epochs, compile_seconds,
                       train_seconds, "jax-scan")
