"""What the torch and TensorFlow routes share with the JAX engine, on the host.

The compiled engine (:mod:`degenet.train.engine`) keeps every epoch on the device; the
routes of the other backends (:mod:`degenet.train.torch_loop`, :mod:`degenet.train.tf_loop`)
run the epoch on their backend and come back to Python once an epoch. What they share, so
that every backend trains the same model the same way:

- the plan: the learning rate and batch size degenet chooses (``learning_rate_for``,
  ``batch_size_for``), and whether the epoch's candidate is the mean of its iterates (a
  regression; Polyak & Juditsky 1992, as the engine);
- the epoch's shuffle: :func:`permutation` is the engine's keyed Feistel permutation in
  numpy, bit for bit, so a seed gives the same minibatches on every backend;
- early stopping as the engine does it (:class:`Stopper`): patience, ``min_delta``, the
  plateau factor, the best candidate kept; on the validation loss, on the training loss
  when no rows are held out, or, for a regression whose exact optimum is known, on the
  distance to it (:class:`Toward`: whitened inputs and the engine's measure, in numpy);
- the Dense chain of a network (:func:`layers_of`) without importing JAX.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from degenet._keras import keras
from degenet.randomness import derive
from degenet.train.settings import (GD_STD_ERRORS, Optimum, ProgressCallback, TrainResult,
                                    TrainSettings, Watch, batch_size_for, history_frame,
                                    learning_rate_for)

# Towards a known optimum the learning rate halves on each plateau, down to this share (the
# engine's ``_LEAST_RATE``).
LEAST_RATE = 2.0**-8


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser on a uint32 array (products wrap mod 2^32)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _word(value: int) -> np.ndarray:
    # One-element arrays, not numpy scalars: scalar uint32 arithmetic warns on overflow.
    return np.array([value & 0xFFFFFFFF], dtype=np.uint32)


def permutation(key: int, epoch: int, n: int) -> np.ndarray:
    """``engine.permutation`` in numpy: the same permutation of ``range(n)``, shape ``(n,)``.

    A four-round Feistel network keyed by (key, epoch) with cycle-walking (Black & Rogaway
    2002); see the engine's docstring. Only the values still outside ``range(n)`` walk.
    """
    bits = max(2, int(np.ceil(np.log2(max(n, 2)))))
    half = (bits + 1) // 2
    mask, shift = np.uint32((1 << half) - 1), np.uint32(half)
    round_key = _fmix32(_word(key) ^ _fmix32(_word(epoch) + _word(0x9E3779B9)))
    keys = []
    for _ in range(4):
        round_key = _fmix32(round_key + _word(0x7F4A7C15))
        keys.append(round_key)

    def rounds(x):
        left, right = x >> shift, x & mask
        for k in keys:
            left, right = right, left ^ (_fmix32(right ^ k) & mask)
        return (left << shift) | right

    x = rounds(np.arange(n, dtype=np.uint32))
    outside = np.flatnonzero(x >= n)
    while outside.size:
        x[outside] = rounds(x[outside])
        outside = outside[x[outside] >= n]
    return x.astype(np.int64)


@dataclass(frozen=True)
class Plan:
    """How one run of gradient descent goes, whatever the backend.

    Attributes
    ----------
    settings : TrainSettings
        With the learning rate filled in.
    batch_size, n_batches : int
    average : bool
        A regression's candidate is the mean of its epoch's iterates; a network's is its
        last iterate (averaging cost networks 3-4x the epochs; see the engine).
    shuffle_key : int
    """

    settings: TrainSettings
    batch_size: int
    n_batches: int
    average: bool
    shuffle_key: int

    def padded_order(self, epoch: int, n_train: int) -> tuple[np.ndarray, np.ndarray]:
        """The epoch's shuffled positions ``(n_batches, batch_size)`` and the 0/1 mask of
        the padding, as the engine's ``_batches``."""
        order = permutation(self.shuffle_key, epoch, n_train)
        pad = self.n_batches * self.batch_size - n_train
        mask = np.concatenate([np.ones(n_train, np.float32), np.zeros(pad, np.float32)])
        order = np.concatenate([order, np.zeros(pad, np.int64)])
        shape = (self.n_batches, self.batch_size)
        return order.reshape(shape), mask.reshape(shape)


def plan(n_layers: int, n_train: int, settings: TrainSettings, seed: int) -> Plan:
    regression = n_layers == 1
    settings = learning_rate_for(settings, regression=regression)
    size = batch_size_for(settings, n_train)
    return Plan(settings=settings, batch_size=size, n_batches=math.ceil(n_train / size),
                average=regression, shuffle_key=derive(seed, "shuffle"))


@dataclass
class Stopper:
    """Early stopping as the engine does it, one epoch at a time.

    ``update(loss, val_loss, distance)`` returns whether the epoch's candidate is the best
    so far (a NaN never is). What it watches is ``watch.kind``: the validation loss, the
    training loss (no validation rows), or the distance to a known optimum (as a share of
    the tolerance; ``done`` once it is at most 1). ``rate`` is the learning rate's
    multiplier: ``plateau_factor`` after every epoch without progress or, towards an
    optimum, halved after ``patience`` epochs without a lower training loss (minibatch
    noise), down to :data:`LEAST_RATE`. ``done`` after ``patience`` epochs without
    progress (not towards an optimum) or ``max_epochs``.
    """

    settings: TrainSettings
    watch: Watch
    progress: ProgressCallback | None = None
    best_val: float = math.inf
    best_epoch: int = 0
    best_loss: float = math.inf
    wait: int = 0
    rate: float = 1.0
    loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)

    @property
    def epoch(self) -> int:
        return len(self.val_loss)

    @property
    def toward(self) -> bool:
        return self.watch.kind == "optimum"

    def update(self, loss: float, val_loss: float, distance: float = math.nan) -> bool:
        self.loss.append(loss)
        self.val_loss.append(val_loss)
        watched = {"optimum": distance, "loss": loss}.get(self.watch.kind, val_loss)
        improved = bool(watched < self.best_val - self.watch.min_delta)
        if improved:
            self.best_val, self.best_epoch = watched, self.epoch
        if self.toward:
            self.wait = 0 if loss < self.best_loss else self.wait + 1
            self.best_loss = min(loss, self.best_loss)
            if self.wait >= self.settings.patience:
                self.rate, self.wait = self.rate * 0.5, 0
        elif improved:
            self.wait = 0
        else:
            self.wait += 1
            self.rate *= self.settings.plateau_factor
        if self.progress:
            self.progress(self.epoch, self.settings.max_epochs)
        return improved

    @property
    def done(self) -> bool:
        if self.epoch >= self.settings.max_epochs:
            return True
        if self.toward:
            return self.best_val <= 1.0 or self.rate < LEAST_RATE
        return self.wait >= self.settings.patience

    def result(self, *, compile_seconds: float, started: float, engine: str) -> TrainResult:
        seconds = time.perf_counter() - started
        return TrainResult(history=history_frame(np.asarray(self.loss), np.asarray(self.val_loss)),
                           best_epoch=self.best_epoch,
                           stopped_early=self.epoch < self.settings.max_epochs,
                           compile_seconds=compile_seconds,
                           train_seconds=max(0.0, seconds - compile_seconds), engine=engine,
                           watched=self.watch.kind, best_watched=self.best_val)


class Toward:
    """A regression's known optimum on the host: the routes' view of the engine's
    (:mod:`degenet.train.toward`).

    Under whitening the kernel trains as ``v`` with ``kernel = P v``; since ``X (P v) =
    (X P) v``, the routes train ``v`` on the features ``X P`` (:meth:`features`), the same
    loss on the same path as the engine's. :meth:`distance` is the engine's measure in
    numpy: the largest coefficient's distance in std errors over :data:`GD_STD_ERRORS`,
    and the slopes' joint distance over its limit.
    """

    def __init__(self, optimum: Optimum, *, contrasts: bool, shift: np.ndarray):
        self.optimum, self.contrasts, self.shift = optimum, contrasts, shift
        self.P = optimum.whitening
        self.whitened_optimum = (None if self.P is None
                                 else np.linalg.solve(self.P, optimum.weights[0]))

    def features(self, X: np.ndarray) -> np.ndarray:
        """The standardized features the kernel ``v`` trains on, float32."""
        return X if self.P is None else (X @ self.P).astype(np.float32)

    def start(self, kernel: np.ndarray) -> np.ndarray:
        """The trained ``v`` of the layer's ``kernel``."""
        return kernel if self.P is None else np.linalg.solve(self.P, kernel)

    def kernel(self, v: np.ndarray) -> np.ndarray:
        """The layer's kernel of the trained ``v``."""
        return v if self.P is None else self.P @ v

    def _contrast(self, d: np.ndarray) -> np.ndarray:
        return d - d[..., :1] if self.contrasts else d  # softmax: the solver pins class 0

    def distance(self, v: np.ndarray, bias: np.ndarray | None) -> float:
        """How far the candidate ``(v, bias)`` is from the optimum, as a share of the
        tolerance (at most 1: there)."""
        v = np.asarray(v, np.float64)
        weights, inverse = self.optimum.weights, self.optimum.inverse_std_errors
        d_kernel = self._contrast(self.kernel(v) - weights[0])
        largest = np.max(np.abs(d_kernel) * inverse[0])
        if bias is not None:
            d_alpha = self._contrast(np.asarray(bias, np.float64) - weights[1]) \
                - self.shift @ d_kernel
            largest = max(largest, np.max(np.abs(d_alpha) * inverse[1]))
        share = largest / GD_STD_ERRORS
        if self.P is not None:
            d_v = self._contrast(v - self.whitened_optimum)
            share = max(share, self.optimum.joint_scale * np.sum(d_v**2)
                        / self.optimum.joint_limit)
        return float(share)


def layers_of(net: keras.Model) -> list[tuple] | None:
    """The network as ``(kernel, bias or None, activation name)`` Keras variables per layer
    (an offset added to its output is left to the caller, as in ``engine.dense_stack``).

    ``None`` when ``net`` is not a chain of Dense layers without non-trainable state, or
    uses an activation the routes do not write out: Keras's own loop trains it then.
    """
    layers = [layer for layer in net.layers if not isinstance(layer, keras.layers.InputLayer)]
    # An offset input added to eta (``plus_offset``): the routes add the offset themselves.
    offset = len(net.inputs) == 2 and bool(layers) and type(layers[-1]) is keras.layers.Add
    if offset:
        layers = layers[:-1]
    if (not layers or net.non_trainable_variables or len(net.inputs) != 1 + offset
            or any(type(layer) is not keras.layers.Dense for layer in layers)):
        return None
    chain = [(layer.kernel, layer.bias if layer.use_bias else None,
              getattr(layer.activation, "__name__", "")) for layer in layers]
    if any(name not in ACTIVATIONS for _, _, name in chain):
        return None
    return chain


def route_setup(net: keras.Model, family, settings: TrainSettings, *, n_train: int, seed: int,
                scaling, optimum: Optimum | None, activations: dict):
    """What both routes start from: the :class:`Plan`, the chain's Keras variables, its
    layers as ``(kernel index, bias index or None, the backend's activation)``, and the
    :class:`Toward` of a known optimum (or None)."""
    layers = layers_of(net)
    variables, stack = [], []
    for kernel, bias, name in layers:
        stack.append((len(variables), None if bias is None else len(variables) + 1,
                      activations[name]))
        variables += [kernel] + ([] if bias is None else [bias])
    toward = None if optimum is None else Toward(
        optimum, contrasts=family.contrasts, shift=scaling.mean / scaling.scale)
    return plan(len(layers), n_train, settings, seed), variables, stack, toward


# The activations a Dense chain may use on the torch and TensorFlow routes.
ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid")


def uses_builtin_adam(settings: TrainSettings) -> bool:
    """Whether the routes' written-out Adam is the optimizer asked for (else Keras's loop).

    By class name: on torch Keras's Adam is a subclass (``torch_adam.Adam``), and AdamW,
    another subclass, is not Adam."""
    optimizer = keras.optimizers.get(settings.optimizer)
    return isinstance(optimizer, keras.optimizers.Adam) and type(optimizer).__name__ == "Adam"
