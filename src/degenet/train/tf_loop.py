"""Gradient descent on the TensorFlow backend: one XLA program per epoch.

``tf.function(jit_compile=True)`` over a ``tf.while_loop`` of the epoch's minibatches (the
engine's ``lax.scan``), then the validation loss of the epoch's candidate, in the same
program. The weights travel through the loop as tensors, not variables; the Dense chain is
``h @ kernel + bias``; the loss is the family's ``keras.ops`` loss (TF ops on this
backend); the gradient a ``GradientTape``; Adam is Keras's written out. Python regains
control once an epoch, for early stopping (:mod:`degenet.train.hostloop`): a few ms of an
epoch of hundreds of steps.

Measured on the post's four models (bench/backends.py): 3.8-8.8 CPU s against 38.6-40.2 s
for Keras's ``model.fit`` and 16.6-17.2 s for ``model.fit`` with a whole epoch per
execution (``steps_per_execution``). Programs are kept by everything they close over, and
``tf.function`` keeps one executable per input shape, so the folds and seeds of a
comparison compile once.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import numpy as np
import tensorflow as tf

from degenet.data.scaling import Scaling
from degenet.model.family import Family
from degenet.train.hostloop import Stopper, route_setup
from degenet.train.settings import (Optimum, ProgressCallback, TrainResult, TrainSettings,
                                    watch_for)

_ACTIVATIONS = {"linear": None, "relu": tf.nn.relu, "tanh": tf.tanh, "sigmoid": tf.sigmoid}
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8
# Kingma & Ba (2015), Keras's defaults.
_BETA_1, _BETA_2, _EPSILON = 0.9, 0.999, 1e-7


def _forward(stack, weights, X):
    h = X
    for kernel, bias, activation in stack:
        h = tf.matmul(h, weights[kernel])
        if bias is not None:
            h = h + weights[bias]
        if activation is not None:
            h = activation(h)
    return h


def _adam(weights, grads, m, v, step, alpha):
    m = [a + (g - a) * (1.0 - _BETA_1) for a, g in zip(m, grads)]
    v = [b + (tf.square(g) - b) * (1.0 - _BETA_2) for b, g in zip(v, grads)]
    weights = [w - alpha * a / (tf.sqrt(b) + _EPSILON) for w, a, b in zip(weights, m, v)]
    return weights, m, v


def _build(stack, family: Family, average: bool):
    """The epoch program: ``(weights, m, v, step, rate, lr, X, y, w, o, order, masks, X_val,
    y_val, w_val, o_val) -> (weights, m, v, step, candidate, training loss sum, val_loss)``;
    ``w`` weights the rows' losses, ``o`` ``(n, 1)`` is added to their eta."""

    def epoch(weights, m, v, step, rate, lr, X, y, w, o, order, masks, X_val, y_val, w_val,
              o_val):
        def body(i, weights, m, v, step, mean, total):
            rows, mask = order[i], masks[i] * tf.gather(w, order[i])
            xb, yb, ob = tf.gather(X, rows), tf.gather(y, rows), tf.gather(o, rows)
            with tf.GradientTape() as tape:
                tape.watch(weights)
                eta = _forward(stack, weights, xb) + ob
                batch_total = tf.reduce_sum(family.loss(yb, eta) * mask)
                loss = batch_total / tf.maximum(tf.reduce_sum(masks[i]), 1.0)
            grads = tape.gradient(loss, weights)
            step = step + 1.0
            alpha = lr * rate * tf.sqrt(1.0 - _BETA_2 ** step) / (1.0 - _BETA_1 ** step)
            weights, m, v = _adam(weights, grads, m, v, step, alpha)
            if average:  # the running mean of the epoch's iterates
                count = tf.cast(i + 1, tf.float32)
                mean = [a + (b - a) / count for a, b in zip(mean, weights)]
            return i + 1, weights, m, v, step, mean, total + batch_total

        _, weights, m, v, step, mean, total = tf.while_loop(
            lambda i, *_: i < tf.shape(order)[0], body,
            (tf.constant(0), weights, m, v, step, list(weights), tf.constant(0.0)))
        candidate = mean if average else weights
        val = tf.reduce_mean(family.loss(y_val, _forward(stack, candidate, X_val) + o_val)
                             * w_val)
        return weights, m, v, step, candidate, total, val

    return tf.function(epoch, jit_compile=True, reduce_retracing=True)


def _program(stack, family: Family, average: bool):
    """The epoch program, and whether it was built now (it compiles on its first call)."""
    key = (tuple((k, b, getattr(a, "__name__", a)) for k, b, a in stack), family.name, average)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key], False
    _CACHE[key] = _build(stack, family, average)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return _CACHE[key], True


def _tensors(family, X, y, weight, offset, rows, scaling, toward):
    """Features (whitened towards an optimum), target, row weights and offsets ``(n, 1)``
    of ``rows`` (ones and zeros when there are none: one program serves both)."""
    w = np.ones(len(rows), np.float32) if weight is None else weight[rows].astype(np.float32)
    o = (np.zeros((len(rows), 1), np.float32) if offset is None
         else offset[rows, None].astype(np.float32))
    features = scaling.apply(X[rows])
    features = features if toward is None else toward.features(features)
    return (tf.constant(np.asarray(features, dtype=np.float32)),
            tf.constant(np.asarray(y[rows]).astype(family.y_dtype)), tf.constant(w),
            tf.constant(o))


def train_tf(net, family: Family, X: np.ndarray, y: np.ndarray, settings: TrainSettings, *,
             train_rows: np.ndarray, val_rows: np.ndarray, scaling: Scaling, seed: int,
             progress: ProgressCallback | None = None, weight: np.ndarray | None = None,
             offset: np.ndarray | None = None, optimum: Optimum | None = None
             ) -> TrainResult:
    """Train the Dense chain ``net`` (outputting logits) in place; see ``loop.train``;
    ``optimum``: a regression's exact optimum, trained towards on whitened inputs."""
    started = time.perf_counter()
    p, variables, stack, toward = route_setup(
        net, family, settings, n_train=len(train_rows), seed=seed, scaling=scaling,
        optimum=optimum, activations=_ACTIVATIONS)
    weights = [tf.identity(v.value) for v in variables]
    if toward is not None:
        weights[0] = tf.constant(toward.start(weights[0].numpy().astype(np.float64)),
                                 tf.float32)
    m, v = [tf.zeros_like(w) for w in weights], [tf.zeros_like(w) for w in weights]
    step, lr = tf.constant(0.0), tf.constant(float(p.settings.learning_rate), tf.float32)
    X_train, y_train, w_train, o_train = _tensors(family, X, y, weight, offset, train_rows,
                                                  scaling, toward)
    X_val, y_val, w_val, o_val = _tensors(family, X, y, weight, offset, val_rows, scaling,
                                          toward)
    program, new = _program(stack, family, p.average)
    watch = watch_for(p.settings, has_validation=len(val_rows) > 0, optimum=optimum)
    stopper, best, seconds = Stopper(p.settings, watch, progress), list(weights), []
    while not stopper.done:
        order, masks = p.padded_order(stopper.epoch, len(train_rows))
        call = time.perf_counter()
        weights, m, v, step, candidate, total, val = program(
            weights, m, v, step, tf.constant(stopper.rate, tf.float32), lr, X_train, y_train,
            w_train, o_train, tf.constant(order.astype(np.int32)), tf.constant(masks), X_val,
            y_val, w_val, o_val)
        distance = (float("nan") if toward is None else toward.distance(
            candidate[0].numpy(), candidate[1].numpy() if len(candidate) > 1 else None))
        improved = stopper.update(float(total) / len(train_rows),
                                  float(val) if len(val_rows) else float("nan"), distance)
        seconds.append(time.perf_counter() - call)
        if improved:
            best = candidate
    # Tracing and XLA's compile happen in the first call: what it took beyond the next one.
    compile_seconds = max(0.0, seconds[0] - (seconds[1] if len(seconds) > 1 else 0.0)) if new \
        else 0.0
    if toward is not None:
        best = [tf.constant(toward.kernel(best[0].numpy().astype(np.float64)), tf.float32)
                ] + list(best[1:])
    for variable, value in zip(variables, best):
        variable.assign(value)
    return stopper.result(compile_seconds=compile_seconds, started=started, engine="tf-xla")
