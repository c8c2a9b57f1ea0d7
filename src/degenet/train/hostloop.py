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
  plateau factor, the best candidate kept;
- the Dense chain of a network (:func:`layers_of`) without importing JAX.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from degenet._keras import keras
from degenet.randomness import derive
from degenet.train.settings import (ProgressCallback, TrainResult, TrainSettings, batch_size_for,
                                    history_frame, learning_rate_for)


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

    ``update(val_loss)`` returns whether the epoch's candidate is the best so far (a NaN
    loss never is); ``rate`` is the learning rate's multiplier (``plateau_factor`` after
    every epoch without progress); ``done`` after ``patience`` such epochs or
    ``max_epochs``.
    """

    settings: TrainSettings
    progress: ProgressCallback | None = None
    best_val: float = math.inf
    best_epoch: int = 0
    wait: int = 0
    rate: float = 1.0
    loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)

    @property
    def epoch(self) -> int:
        return len(self.val_loss)

    def update(self, loss: float, val_loss: float) -> bool:
        self.loss.append(loss)
        self.val_loss.append(val_loss)
        improved = bool(val_loss < self.best_val - self.settings.min_delta)
        if improved:
            self.best_val, self.best_epoch, self.wait = val_loss, self.epoch, 0
        else:
            self.wait += 1
            self.rate *= self.settings.plateau_factor
        if self.progress:
            self.progress(self.epoch, self.settings.max_epochs)
        return improved

    @property
    def done(self) -> bool:
        return self.wait >= self.settings.patience or self.epoch >= self.settings.max_epochs

    def result(self, *, compile_seconds: float, started: float, engine: str) -> TrainResult:
        seconds = time.perf_counter() - started
        return TrainResult(history=history_frame(np.asarray(self.loss), np.asarray(self.val_loss)),
                           best_epoch=self.best_epoch,
                           stopped_early=self.epoch < self.settings.max_epochs,
                           compile_seconds=compile_seconds,
                           train_seconds=max(0.0, seconds - compile_seconds), engine=engine,
                           watched="val_loss", best_watched=self.best_val)


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


# The activations a Dense chain may use on the torch and TensorFlow routes.
ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid")


def uses_builtin_adam(settings: TrainSettings) -> bool:
    """Whether the routes' written-out Adam is the optimizer asked for (else Keras's loop).

    By class name: on torch Keras's Adam is a subclass (``torch_adam.Adam``), and AdamW,
    another subclass, is not Adam."""
    optimizer = keras.optimizers.get(settings.optimizer)
    return isinstance(optimizer, keras.optimizers.Adam) and type(optimizer).__name__ == "Adam"
