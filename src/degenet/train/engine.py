"""The compiled training engine for the JAX backend.

Plain ``model.fit`` spends most of each step in Python (~300 us a step on 2 CPU cores). Here
a whole run of epochs is one XLA program: a ``lax.scan`` over the minibatches of an epoch,
the validation loss computed in the same program, and early stopping with the best weights
kept inside a ``lax.while_loop``. Python regains control only every half second or so, to
report progress. Each step costs about 10-30 us on that machine, so compile time (once per
model) is what is left to save, and the program is written to compile quickly:

- the network is a stack of Dense layers, so its forward pass is written here as plain
  ``jnp`` on the Keras variables' values (the same maths as ``Dense.call``): tracing Keras's
  functional graph costs more than the whole program's arithmetic;
- Adam is the update of ``keras.optimizers.Adam`` written out (the same formula, checked in
  the tests against Keras's own loop); other optimizers go through
  ``optimizer.stateless_apply``;
- the epoch's shuffle is a keyed Feistel permutation with cycle-walking (:func:`permutation`):
  a few elementwise passes, where ``jax.random.permutation`` compiles the Threefry
  generator (~0.3 s on this machine, longer than most of these models take to train) and
  sorting hashes took 0.42 s an epoch on 1.6M rows;
- compiled programs are kept (a few, keyed by everything that shapes them), so models of
  the same shapes and family, e.g. the folds or seeds of one comparison, compile once.

Memory: the program reads one float32 copy of the design (all rows, in the data's units;
the caller's own array when it is float32 and 64-byte aligned, see ``_device_array``) and
the row indices of the split; each minibatch is gathered and standardized inside the
program, and the validation loss is accumulated over chunks of rows, so work space is
proportional to the batch, never to the data.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from degenet._keras import keras
from degenet.model.families import Family
from degenet.randomness import derive
from degenet.data.scaling import Scaling
from degenet.train.settings import (ProgressCallback, TrainResult, TrainSettings, batch_size_for,
                              history_frame, learning_rate_for, make_optimizer)

# Python regains control about this often (seconds), to report progress.
_CALL_SECONDS = 0.5
# Rows of the validation set scored at once: bounds the work space on large data.
_VAL_CHUNK = 16_384
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8


class _State(NamedTuple):
    weights: list
    optimizer: object  # (m, v, step) for the built-in Adam, else Keras's optimizer variables
    key: jax.Array  # uint32 seed of the shuffles
    best: list
    best_val: jax.Array
    best_epoch: jax.Array
    wait: jax.Array
    epoch: jax.Array
    rate: jax.Array  # the learning rate's multiplier, lowered on each epoch without progress
    loss: jax.Array  # (max_epochs,) training loss per epoch
    val_loss: jax.Array  # (max_epochs,)


def dense_stack(net: keras.Model) -> tuple | None:
    """The layers of ``net`` as ``(kernel index, bias index or None, activation)``.

    Indices point into ``net.trainable_variables``. ``None`` when ``net`` is not a chain of
    Dense layers without non-trainable state (then Keras's loop trains it); an offset input
    added to its output (``plus_offset``) is allowed: the program adds the offset itself.
    """
    layers = [layer for layer in net.layers if not isinstance(layer, keras.layers.InputLayer)]
    offset = len(net.inputs) == 2 and bool(layers) and type(layers[-1]) is keras.layers.Add
    if offset:
        layers = layers[:-1]
    if (not layers or net.non_trainable_variables or len(net.inputs) != 1 + offset
            or any(type(layer) is not keras.layers.Dense for layer in layers)):
        return None
    position = {id(v): i for i, v in enumerate(net.trainable_variables)}
    stack, width = [], net.inputs[0].shape[-1]
    for layer in layers:
        if layer.kernel.shape[0] != width or id(layer.kernel) not in position:
            return None
        bias = position[id(layer.bias)] if layer.use_bias else None
        stack.append((position[id(layer.kernel)], bias, layer.activation))
        width = layer.kernel.shape[1]
    return tuple(stack)


def _forward(stack: tuple, weights: list, X: jax.Array) -> jax.Array:
    """``eta`` of the Dense stack: ``activation(h @ kernel + bias)`` layer by layer."""
    h = X
    for kernel, bias, activation in stack:
        h = h @ weights[kernel]
        if bias is not None:
            h = h + weights[bias]
        h = activation(h)
    return h


def _fmix32(h: jax.Array) -> jax.Array:
    """MurmurHash3's 32-bit finaliser: a bijection of uint32 that mixes every bit."""
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def permutation(key: jax.Array, epoch: jax.Array, n: int) -> jax.Array:
    """A pseudo-random permutation of ``range(n)`` for one epoch, shape ``(n,)``.

    A four-round Feistel network keyed by (key, epoch) permutes the ``2^bits >= n`` integers
    of its even-width domain; cycle-walking (apply it again while the value is ``>= n``)
    restricts it to a permutation of ``range(n)`` (Black & Rogaway 2002, the standard
    format-preserving construction). Fewer than 4 rounds of walking on average. It costs a
    few elementwise passes: sorting 1.6M hashes (the previous construction) took 0.42 s an
    epoch, most of a large regression's epoch; ``jax.random.permutation`` compiles Threefry
    (~0.3 s) for every model.
    """
    bits = max(2, int(np.ceil(np.log2(max(n, 2)))))
    half = (bits + 1) // 2
    mask = jnp.uint32((1 << half) - 1)
    round_key = _fmix32(key ^ _fmix32(epoch.astype(jnp.uint32) + jnp.uint32(0x9E3779B9)))
    keys = []
    for _ in range(4):
        round_key = _fmix32(round_key + jnp.uint32(0x7F4A7C15))
        keys.append(round_key)

    def rounds(x):
        left, right = x >> half, x & mask
        for k in keys:
            left, right = right, left ^ (_fmix32(right ^ k) & mask)
        return (left << half) | right

    def walk(x):
        return jnp.where(x >= n, rounds(x), x)

    first = rounds(jnp.arange(n, dtype=jnp.uint32))
    return jax.lax.while_loop(lambda x: jnp.any(x >= n), walk, first).astype(jnp.int32)


class _Adam(NamedTuple):
    """``keras.optimizers.Adam`` (no amsgrad), as a pure init/update pair."""

    learning_rate: float
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7

    def init(self, weights):
        zeros = [jnp.zeros_like(w) for w in weights]
        return zeros, [jnp.zeros_like(w) for w in weights], jnp.zeros((), jnp.float32)

    def update(self, state, grads, weights, rate):
        # Kingma & Ba (2015), Algorithm 1, in Keras's arrangement (keras/optimizers/adam.py).
        m, v, step = state
        step = step + 1.0
        alpha = (self.learning_rate * rate * jnp.sqrt(1.0 - self.beta_2 ** step)
                 / (1.0 - self.beta_1 ** step))
        m = [a + (g - a) * (1.0 - self.beta_1) for a, g in zip(m, grads)]
        v = [b + (jnp.square(g) - b) * (1.0 - self.beta_2) for b, g in zip(v, grads)]
        weights = [w - a * alpha / (jnp.sqrt(b) + self.epsilon)
                   for w, a, b in zip(weights, m, v)]
        return weights, (m, v, step)


class _KerasOptimizer(NamedTuple):
    """Any Keras optimizer through its stateless API."""

    optimizer: keras.optimizers.Optimizer

    def init(self, weights):
        return [jnp.array(v.value, copy=True) for v in self.optimizer.variables]

    def update(self, state, grads, weights, rate):
        # The learning rate is one of Keras's optimizer variables (unless it is a schedule).
        for i, variable in enumerate(self.optimizer.variables):
            if variable.name == "learning_rate":
                state = [*state[:i], jnp.asarray(variable.value) * rate, *state[i + 1:]]
        return self.optimizer.stateless_apply(state, grads, weights)


def _optimizer(net: keras.Model, settings: TrainSettings):
    optimizer = make_optimizer(settings)
    if type(optimizer) is keras.optimizers.Adam:
        return _Adam(float(settings.learning_rate))
    optimizer.build(net.trainable_variables)
    return _KerasOptimizer(optimizer)


def _device_array(X: np.ndarray) -> jax.Array:
    """``X`` as a float32 JAX array, sharing the caller's buffer where JAX can.

    A float32, C-contiguous, writeable array aligned to 64 bytes is shared through DLPack
    with no copy on CPU (measured: 2,000,000 x 100 rows add 0.004 GB of RSS instead of
    0.8 GB). The program never writes to it. Anything else is copied once, to float32.
    """
    if (isinstance(X, np.ndarray) and X.dtype == np.float32 and X.flags.c_contiguous
            and X.flags.writeable and X.ctypes.data % 64 == 0):
        try:
            shared = jnp.from_dlpack(X)
            if shared.unsafe_buffer_pointer() == X.ctypes.data:
                return shared
        except Exception:  # a device or jaxlib that cannot share host memory: copy instead
            pass
    return jnp.asarray(X, jnp.float32)


def _select(flag, new, old):
    return jax.tree_util.tree_map(lambda a, b: jnp.where(flag, a, b), new, old)


def _batches(rows: jax.Array, size: int) -> tuple[jax.Array, jax.Array]:
    """``rows`` padded to whole batches: indices ``(n_batches, size)`` and a 0/1 mask."""
    n_batches = math.ceil(rows.shape[0] / size)
    pad = n_batches * size - rows.shape[0]
    mask = jnp.concatenate([jnp.ones(rows.shape[0]), jnp.zeros(pad)])
    rows = jnp.concatenate([rows, jnp.zeros(pad, rows.dtype)])
    return rows.reshape(n_batches, size), mask.reshape(n_batches, size)


def _program(stack: tuple, family: Family, optimizer, settings: TrainSettings,
             batch_size: int) -> Callable:
    """The jitted ``run(state, X, y, w, o, train_rows, val_rows, mean, scale, stop_at)``.

    ``w`` ``(n_samples,)`` weights each row's loss (ones without sample weights); ``o``
    ``(n_samples,)`` is each row's offset, added to eta, or None.
    """

    def linear(weights, X, o, rows):  # eta, plus the rows' offset
        return _forward(stack, weights, X) + (0.0 if o is None else o[rows][:, None])

    def batch_loss(weights, X, y, o, rows, mask):
        total = jnp.sum(family.loss(y, linear(weights, X, o, rows)) * mask)
        return total / jnp.maximum(jnp.sum(mask), 1.0), total

    grad = jax.value_and_grad(batch_loss, has_aux=True)
    # A regression (one Dense layer) is convex: its candidate at each epoch's end is the
    # mean of that epoch's iterates (Polyak & Juditsky 1992), which cancels most of the
    # minibatch noise that a constant learning rate leaves in the last iterate. That noise
    # is what kept early-stopped regressions 1.5-2.5 std errors from the exact optimum on the
    # demo. Networks keep their last iterate (averaging cost them 3-4x the epochs).
    average = len(stack) == 1

    def epoch(state: _State, X, y, w, o, train_rows, val_rows, mean, scale) -> _State:
        def step(carry, batch):
            weights, opt_state, mean_weights, count = carry
            rows, mask = batch
            rows = train_rows[rows]
            (_, total), grads = grad(weights, (X[rows] - mean) / scale, y[rows], o, rows,
                                     mask * w[rows])
            weights, opt_state = optimizer.update(opt_state, grads, weights, state.rate)
            if average:
                count = count + 1.0
                mean_weights = [a + (b - a) / count for a, b in zip(mean_weights, weights)]
            return (weights, opt_state, mean_weights, count), total

        order = permutation(state.key, state.epoch, train_rows.shape[0])
        start = (state.weights, state.optimizer, state.weights, jnp.zeros((), jnp.float32))
        (weights, opt_state, mean_weights, _), totals = jax.lax.scan(
            step, start, _batches(order, batch_size))
        candidate = mean_weights if average else weights

        def score(total, chunk):
            rows, mask = chunk
            eta = linear(candidate, (X[rows] - mean) / scale, o, rows)
            return total + jnp.sum(family.loss(y[rows], eta) * mask * w[rows]), None

        chunk = min(_VAL_CHUNK, val_rows.shape[0])
        val, _ = jax.lax.scan(score, jnp.zeros((), jnp.float32), _batches(val_rows, chunk))
        val = val / val_rows.shape[0]
        improved = val < state.best_val - settings.min_delta
        return _State(
            weights=weights, optimizer=opt_state, key=state.key,
            best=_select(improved, candidate, state.best),
            best_val=jnp.where(improved, val, state.best_val),
            best_epoch=jnp.where(improved, state.epoch + 1, state.best_epoch),
            wait=jnp.where(improved, 0, state.wait + 1), epoch=state.epoch + 1,
            rate=jnp.where(improved, state.rate, state.rate * settings.plateau_factor),
            loss=state.loss.at[state.epoch].set(jnp.sum(totals) / train_rows.shape[0]),
            val_loss=state.val_loss.at[state.epoch].set(val))

    def run(state: _State, X, y, w, o, train_rows, val_rows, mean, scale, stop_at) -> _State:
        def going(s):
            return (s.epoch < stop_at) & (s.wait < settings.patience)

        return jax.lax.while_loop(
            going, lambda s: epoch(s, X, y, w, o, train_rows, val_rows, mean, scale), state)

    return jax.jit(run, donate_argnums=0)


def _compiler_options(X: jax.Array) -> dict:
    """XLA options for the program's device.

    On CPU, XLA's newer fusion emitters (MLIR) compile each fusion ~2x slower than the
    classic LLVM IR emitters, for the same arithmetic and the same speed here (measured on
    the balloons demo: linear 0.37 -> 0.20 s, mlp 0.83 -> 0.39 s of compile; epochs as fast;
    results equal), and compile time is the engine's main cost on small data.
    """
    if next(iter(X.devices())).platform == "cpu":
        return {"xla_cpu_use_fusion_emitters": False}
    return {}


def _optimizer_key(optimizer) -> str:
    """What shapes the optimizer's part of the program: its class and configuration (never
    its identity, so that two fits with equal settings share one compiled program)."""
    if isinstance(optimizer, _Adam):
        return repr(optimizer)
    inner = optimizer.optimizer
    config = {k: v for k, v in inner.get_config().items() if k != "name"}  # sgd_1, sgd_2, ...
    return f"{type(inner).__name__}{json.dumps(config, sort_keys=True, default=str)}"


def _compiled(stack, family, optimizer, settings, batch_size, state, args):
    """The compiled program and the seconds its compile took (0.0 when reused)."""
    shapes = jax.tree_util.tree_map(lambda a: (a.shape, a.dtype), (state, args))
    activations = tuple((k, b, getattr(act, "__name__", repr(act))) for k, b, act in stack)
    key = (activations, family.name, _optimizer_key(optimizer), settings, batch_size,
           jax.tree_util.tree_structure((state, args)), str(shapes))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key], 0.0
    start = time.perf_counter()
    lowered = _program(stack, family, optimizer, settings, batch_size).lower(state, *args)
    try:
        compiled = lowered.compile(compiler_options=_compiler_options(args[0]))
    except Exception:  # an XLA build without that option: its defaults are as correct
        compiled = lowered.compile()
    _CACHE[key] = compiled
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled, time.perf_counter() - start


def train_scan(net: keras.Model, family: Family, X: np.ndarray, y: np.ndarray,
               settings: TrainSettings, *, train_rows: np.ndarray, val_rows: np.ndarray,
               scaling: Scaling, seed: int, progress: ProgressCallback | None = None,
               weight: np.ndarray | None = None, offset: np.ndarray | None = None
               ) -> TrainResult:
    """Train the Dense stack ``net`` (outputting logits) in place; see ``training.train``.

    ``X`` ``(n_samples, n_features)`` in the data's units (read as float32, never copied to
    float64); ``y``, ``weight`` (of the rows' losses, ``training.row_weights``) and ``offset``
    (added to eta: a net with an offset input) ``(n_samples,)``; the split as row indices.
    """
    stack = dense_stack(net)
    settings = learning_rate_for(settings, regression=len(stack) == 1)
    optimizer = _optimizer(net, settings)
    batch_size = batch_size_for(settings, len(train_rows))
    y_dtype = jnp.dtype(family.y_dtype)
    weight = np.ones(len(y)) if weight is None else weight
    args = (_device_array(X), jnp.asarray(y, y_dtype), jnp.asarray(weight, jnp.float32),
            None if offset is None else jnp.asarray(offset, jnp.float32),
            jnp.asarray(train_rows, jnp.int32), jnp.asarray(val_rows, jnp.int32),
            jnp.asarray(scaling.mean, jnp.float32), jnp.asarray(scaling.scale, jnp.float32))
    # The state is donated to the program, so it holds copies, never the variables' buffers.
    weights = [jnp.array(v.value, copy=True) for v in net.trainable_variables]
    state = _State(
        weights=weights, optimizer=optimizer.init(weights),
        key=jnp.asarray(derive(seed, "shuffle"), jnp.uint32),
        best=[jnp.array(w, copy=True) for w in weights],
        best_val=jnp.asarray(jnp.inf, jnp.float32), best_epoch=jnp.asarray(0),
        wait=jnp.asarray(0), epoch=jnp.asarray(0), rate=jnp.asarray(1.0, jnp.float32),
        loss=jnp.full(settings.max_epochs, jnp.nan, jnp.float32),
        val_loss=jnp.full(settings.max_epochs, jnp.nan, jnp.float32))
    compiled, compile_seconds = _compiled(stack, family, optimizer, settings, batch_size,
                                          state, args + (jnp.asarray(1),))

    start, per_call, done = time.perf_counter(), 1, 0
    while True:
        stop_at = min(done + per_call, settings.max_epochs)
        call_start = time.perf_counter()
        state = compiled(state, *args, jnp.asarray(stop_at))
        ran, done = int(state.epoch) - done, int(state.epoch)
        if progress:
            progress(done, settings.max_epochs)
        if done >= settings.max_epochs or int(state.wait) >= settings.patience:
            break
        seconds_per_epoch = (time.perf_counter() - call_start) / max(1, ran)
        per_call = max(1, int(_CALL_SECONDS / max(seconds_per_epoch, 1e-6)))
    train_seconds = time.perf_counter() - start

    for variable, value in zip(net.trainable_variables, state.best):
        variable.assign(value)
    history = history_frame(np.asarray(state.loss[:done]), np.asarray(state.val_loss[:done]))
    # best_epoch 0: no epoch had a finite validation loss; the initial weights are kept.
    return TrainResult(history=history, best_epoch=int(state.best_epoch),
                       stopped_early=done < settings.max_epochs,
                       compile_seconds=compile_seconds, train_seconds=train_seconds,
                       engine="jax-scan")

