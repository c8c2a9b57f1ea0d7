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
  ``optimizer.stateless_apply`` (:mod:`degenet.train.optimizers`);
- the epoch's shuffle is a keyed Feistel permutation with cycle-walking
  (:mod:`degenet.train.shuffle`): a few elementwise passes, where ``jax.random.permutation``
  compiles the Threefry generator (~0.3 s on this machine, longer than most of these
  models take to train) and sorting hashes took 0.42 s an epoch on 1.6M rows;
- compiled programs are kept (a few, keyed by everything that shapes them), so models of
  the same shapes, e.g. the folds or seeds of one comparison, compile once;
- the single-output families (gaussian, bernoulli, poisson) share one program: its loss is
  chosen by an argument (``lax.switch``), so a linear and a logistic regression of the same
  shapes, or the networks of two targets, compile once (the post's four models: two
  compiles instead of four, 1.2 s less on 2 cores).

What training watches (:class:`~degenet.train.settings.Watch`): the validation loss (early
stopping), the training loss when there are no validation rows, or, for a convex model
whose exact optimum is known (:class:`~degenet.train.settings.Optimum`), the largest
distance of a coefficient from the optimum's in std errors (from the weights alone: no pass
over the data). Towards an optimum the kernel trains on whitened inputs and the learning
rate halves on each plateau; training stops once the distance is within the tolerance.

Memory: the program reads one float32 copy of the design (all rows, in the data's units;
the caller's own array when it is float32 and 64-byte aligned, see ``_device_array``) and
the row indices of the split; each minibatch is gathered and standardized inside the
program, and the validation loss is accumulated over chunks of rows, so work space is
proportional to the batch, never to the data.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from degenet._keras import keras
from degenet.model.families import FAMILIES, Family
from degenet.randomness import derive
from degenet.data.design_buffer import ALIGNMENT, aligned_empty
from degenet.data.scaling import Scaling
from degenet.train.optimizers import engine_optimizer, host as _host, optimizer_key
from degenet.train.shuffle import permutation
from degenet.train.toward import distance
from degenet.train.toward import target as optimum_target
from degenet.train.settings import (Optimum, ProgressCallback, TrainResult,
                                    TrainSettings, Watch, batch_size_for, history_frame,
                                    model_defaults, watch_for)

# Python regains control about this often (seconds), to report progress.
_CALL_SECONDS = 0.5
# Rows of the validation set scored at once: bounds the work space on large data.
_VAL_CHUNK = 16_384
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8
# Towards a known optimum the learning rate halves on each plateau, down to this share.
_LEAST_RATE = 2.0**-8


class _State(NamedTuple):
    weights: list
    optimizer: object  # (m, v, step) for the built-in Adam, else Keras's optimizer variables
    key: jax.Array  # uint32 seed of the shuffles
    best: list
    best_val: jax.Array  # the best value of the watched loss (settings.monitor)
    best_epoch: jax.Array
    wait: jax.Array
    epoch: jax.Array
    rate: jax.Array  # the learning rate's multiplier, lowered on each epoch without progress
    best_loss: jax.Array  # towards an optimum: the best epoch's training loss (plateaus)
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


def _device_array(X: np.ndarray) -> jax.Array:
    """``X`` as a float32 JAX array, sharing the caller's buffer where JAX can.

    A float32, C-contiguous, writeable array aligned to 64 bytes is shared through DLPack
    with no copy on CPU (measured: 2,000,000 x 100 rows add 0.004 GB of RSS instead of
    0.8 GB). The program never writes to it. Anything else (float64, a read-only view of a
    DataFrame's columns, column order) is copied once, by numpy, into such an array.
    """
    if not (isinstance(X, np.ndarray) and X.dtype == np.float32 and X.flags.c_contiguous
            and X.flags.writeable and X.ctypes.data % ALIGNMENT == 0):
        copy = aligned_empty(X.shape, np.float32)
        np.copyto(copy, X, casting="unsafe")  # numpy, not XLA: no program compiled per shape
        X = copy
    try:
        shared = jnp.from_dlpack(X)
        if shared.unsafe_buffer_pointer() == X.ctypes.data:
            return shared
    except Exception:  # a device or jaxlib that cannot share host memory: copy instead
        pass
    return jax.device_put(X)


def _select(flag, new, old):
    return jax.tree_util.tree_map(lambda a, b: jnp.where(flag, a, b), new, old)


def _batches(rows: jax.Array, size: int) -> tuple[jax.Array, jax.Array]:
    """``rows`` padded to whole batches: indices ``(n_batches, size)`` and a 0/1 mask."""
    n_batches = math.ceil(rows.shape[0] / size)
    pad = n_batches * size - rows.shape[0]
    mask = jnp.concatenate([jnp.ones(rows.shape[0]), jnp.zeros(pad)])
    rows = jnp.concatenate([rows, jnp.zeros(pad, rows.dtype)])
    return rows.reshape(n_batches, size), mask.reshape(n_batches, size)


def family_group(family: Family) -> tuple[Family, ...]:
    """The families whose models share a program with ``family``'s: those of one output
    and a float target, whose programs differ only in the loss; a family with contrasts
    or an integer target (categorical) has its own."""
    def shared(f):
        return not f.contrasts and f.y_dtype == "float32"

    if not shared(family) or family not in FAMILIES.values():
        return (family,)
    return tuple(f for f in FAMILIES.values() if shared(f))


def _program(stack: tuple, group: tuple[Family, ...], optimizer, settings: TrainSettings,
             batch_size: int, watch: Watch) -> Callable:
    """The jitted ``run(state, X, y, w, o, train_rows, val_rows, mean, scale, optimum,
    which, stop_at) -> state``.

    ``w`` ``(n_samples,)`` weights each row's loss (ones without sample weights); ``o``
    ``(n_samples,)`` is each row's offset, added to eta, or None; ``optimum`` is the
    :class:`~degenet.train.toward.Target` of :class:`~degenet.train.settings.Optimum` (zeros and ``reached``
    -inf when training watches a loss); ``which`` indexes the family in ``group``
    (:func:`family_group`) whose loss is trained.
    """
    kernel = stack[0][0]
    family = group[0]  # what the group's families share (no contrasts, the target's dtype)

    def family_loss(which, y, eta):
        if len(group) == 1:
            return family.loss(y, eta)
        # Only the chosen branch runs: another family's loss (Poisson's exp) never overflows
        # into this one's gradients.
        return jax.lax.switch(which, [f.loss for f in group], y, eta)

    def unwhitened(weights, whitening):
        """The layers' weights: under whitening, the trained kernel ``v`` stands for
        ``whitening @ v`` (see :class:`~degenet.train.settings.Optimum`)."""
        if not watch.whitened:
            return weights
        return [whitening @ v if i == kernel else v for i, v in enumerate(weights)]

    def linear(weights, X, o, rows):  # eta, plus the rows' offset
        return _forward(stack, weights, X) + (0.0 if o is None else o[rows][:, None])

    def batch_loss(weights, X, y, o, rows, mask, whitening, which):
        eta = linear(unwhitened(weights, whitening), X, o, rows)
        total = jnp.sum(family_loss(which, y, eta) * mask)
        return total / jnp.maximum(jnp.sum(mask), 1.0), total

    grad = jax.value_and_grad(batch_loss, has_aux=True)
    # A regression (one Dense layer) is convex: its candidate at each epoch's end is the
    # mean of that epoch's iterates (Polyak & Juditsky 1992), which cancels most of the
    # minibatch noise that a constant learning rate leaves in the last iterate. That noise
    # is what kept early-stopped regressions 1.5-2.5 std errors from the exact optimum on the
    # demo. Networks keep their last iterate (averaging cost them 3-4x the epochs).
    average = len(stack) == 1
    # Towards a known optimum, `patience` epochs without a lower training loss mean the
    # minibatch noise of this learning rate: halve it and go on, down to 1/2^8 of it
    # (ReduceLROnPlateau). The distance itself is no guide to plateaus: on a curved path to
    # the optimum the largest coefficient's distance can grow for a while as the loss falls.
    toward = watch.kind == "optimum"

    def mean_loss(weights, X, y, w, o, rows, mean, scale, which):
        """The weighted mean loss of ``weights`` on ``rows``."""
        def add(total, chunk):
            rows, mask = chunk
            eta = linear(weights, (X[rows] - mean) / scale, o, rows)
            return total + jnp.sum(family_loss(which, y[rows], eta) * mask * w[rows]), None

        if rows.shape[0] == 0:
            return jnp.asarray(jnp.nan, jnp.float32)
        chunk = min(_VAL_CHUNK, rows.shape[0])
        total, _ = jax.lax.scan(add, jnp.zeros((), jnp.float32), _batches(rows, chunk))
        return total / rows.shape[0]

    def epoch(state: _State, X, y, w, o, train_rows, val_rows, mean, scale, optimum, which
              ) -> _State:
        def step(carry, batch):
            weights, opt_state, mean_weights, count = carry
            rows, mask = batch
            rows = train_rows[rows]
            (_, total), grads = grad(weights, (X[rows] - mean) / scale, y[rows], o, rows,
                                     mask * w[rows], optimum.whitening, which)
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
        layers = unwhitened(candidate, optimum.whitening)
        val = mean_loss(layers, X, y, w, o, val_rows, mean, scale, which)
        loss = jnp.sum(totals) / train_rows.shape[0]
        if watch.kind == "optimum":
            watched = distance(stack, family, candidate, layers, optimum, mean / scale,
                                whitened=watch.whitened)
        else:
            watched = loss if watch.kind == "loss" else val
        improved = watched < state.best_val - watch.min_delta
        wait = jnp.where(improved, 0, state.wait + 1)
        rate = jnp.where(improved, state.rate, state.rate * settings.plateau_factor)
        best_loss = state.best_loss
        if toward:
            lower = loss < state.best_loss
            best_loss = jnp.minimum(loss, state.best_loss)
            wait = jnp.where(lower, 0, state.wait + 1)
            rate = jnp.where(wait >= settings.patience, state.rate * 0.5, state.rate)
            wait = jnp.where(wait >= settings.patience, 0, wait)
        return _State(
            weights=weights, optimizer=opt_state, key=state.key,
            best=_select(improved, candidate, state.best),
            best_val=jnp.where(improved, watched, state.best_val),
            best_epoch=jnp.where(improved, state.epoch + 1, state.best_epoch),
            wait=wait, epoch=state.epoch + 1, rate=rate, best_loss=best_loss,
            loss=state.loss.at[state.epoch].set(loss),
            val_loss=state.val_loss.at[state.epoch].set(val))

    def run(state: _State, X, y, w, o, train_rows, val_rows, mean, scale, optimum, which,
            stop_at) -> _State:
        def going(s):
            return (s.epoch < stop_at) & (s.wait < settings.patience) & ~(
                s.best_val <= optimum.reached) & (s.rate >= _LEAST_RATE)

        return jax.lax.while_loop(
            going, lambda s: epoch(s, X, y, w, o, train_rows, val_rows, mean, scale, optimum,
                                   which), state)

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


def _compiled(stack, group, optimizer, settings, batch_size, watch, state, args):
    """The compiled program and the seconds its compile took (0.0 when reused)."""
    shapes = jax.tree_util.tree_map(lambda a: (a.shape, a.dtype), (state, args))
    activations = tuple((k, b, getattr(act, "__name__", repr(act))) for k, b, act in stack)
    key = (activations, tuple(f.name for f in group), optimizer_key(optimizer), settings,
           batch_size, watch, jax.tree_util.tree_structure((state, args)), str(shapes))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key], 0.0
    start = time.perf_counter()
    lowered = _program(stack, group, optimizer, settings, batch_size, watch).lower(state, *args)
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
               weight: np.ndarray | None = None, offset: np.ndarray | None = None,
               optimum: Optimum | None = None) -> TrainResult:
    """Train the Dense stack ``net`` (outputting logits) in place; see ``training.train``.

    ``X`` ``(n_samples, n_features)`` in the data's units (read as float32, never copied to
    float64); ``y``, ``weight`` (of the rows' losses, ``training.row_weights``) and ``offset``
    (added to eta: a net with an offset input) ``(n_samples,)``; the split as row indices;
    ``optimum``: train until the weights are within its distance (a convex model).
    """
    stack = dense_stack(net)
    watch = watch_for(settings, has_validation=len(val_rows) > 0, optimum=optimum)
    settings = model_defaults(settings, regression=len(stack) == 1,
                              optimum=optimum is not None)
    optimizer = engine_optimizer(net, settings)
    batch_size = batch_size_for(settings, len(train_rows))
    y_dtype = np.dtype(family.y_dtype)
    weight = np.ones(len(y)) if weight is None else weight
    args = (_device_array(X), _host(y, y_dtype), _host(weight, np.float32),
            None if offset is None else _host(offset, np.float32),
            _host(train_rows, np.int32), _host(val_rows, np.int32),
            _host(scaling.mean, np.float32), _host(scaling.scale, np.float32))
    # The state is donated to the program, so it holds copies, never the variables' buffers.
    weights = [_host(v.value) for v in net.trainable_variables]
    target = optimum_target(optimum, weights, stack[0][0])
    if watch.whitened:  # the trained kernel v stands for whitening @ v
        weights[stack[0][0]] = _host(
            np.linalg.solve(optimum.whitening, np.asarray(weights[stack[0][0]], np.float64)),
            np.float32)
    state = _State(
        weights=weights, optimizer=optimizer.init(weights),
        key=_host(derive(seed, "shuffle"), np.uint32), best=[_host(w) for w in weights],
        best_val=_host(np.inf, np.float32), best_epoch=jax.device_put(0),
        wait=jax.device_put(0), epoch=jax.device_put(0), rate=_host(1.0, np.float32),
        best_loss=_host(np.inf, np.float32),
        loss=_host(np.full(settings.max_epochs, np.nan), np.float32),
        val_loss=_host(np.full(settings.max_epochs, np.nan), np.float32))
    group = family_group(family)
    args = args + (target, _host(group.index(family), np.int32))
    compiled, compile_seconds = _compiled(stack, group, optimizer, settings, batch_size, watch,
                                          state, args + (jax.device_put(1),))

    start, per_call, done = time.perf_counter(), 1, 0
    while True:
        stop_at = min(done + per_call, settings.max_epochs)
        call_start = time.perf_counter()
        state = compiled(state, *args, jax.device_put(stop_at))
        ran, done = int(state.epoch) - done, int(state.epoch)
        if progress:
            progress(done, settings.max_epochs)
        reached = optimum is not None and float(state.best_val) <= 1.0
        if (done >= settings.max_epochs or reached or int(state.wait) >= settings.patience
                or float(state.rate) < _LEAST_RATE):
            break
        seconds_per_epoch = (time.perf_counter() - call_start) / max(1, ran)
        per_call = max(1, int(_CALL_SECONDS / max(seconds_per_epoch, 1e-6)))
    train_seconds = time.perf_counter() - start

    best = list(state.best)
    if watch.whitened:
        best[stack[0][0]] = target.whitening @ best[stack[0][0]]
    for variable, value in zip(net.trainable_variables, best):
        variable.assign(value)
    history = history_frame(np.asarray(state.loss)[:done], np.asarray(state.val_loss)[:done])
    # best_epoch 0: no epoch had a finite validation loss; the initial weights are kept.
    return TrainResult(history=history, best_epoch=int(state.best_epoch),
                       stopped_early=done < settings.max_epochs,
                       compile_seconds=compile_seconds, train_seconds=train_seconds,
                       engine="jax-scan", watched=watch.kind, best_watched=float(state.best_val))
