"""Gradient descent on the torch backend: a plain eager loop on the network's tensors.

Keras's ``model.fit`` on torch spends most of a small model's step in Python (callbacks,
metrics, ``keras.ops`` dispatch, its optimizer): 66.9 CPU s for the post's four models
against 12-16 s here (bench/backends.py). This loop keeps what the maths needs:

- the Dense chain as ``addmm(bias, h, kernel)`` on detached copies of the variables;
- the family's loss on ``eta`` (its ``keras.ops`` code runs on torch tensors, so a new
  family needs nothing here);
- ``torch.autograd.grad`` and Keras's Adam written out with ``torch._foreach_*`` ops (one
  call per op for all tensors; Kingma & Ba 2015, in Keras's arrangement);
- the engine's semantics (:mod:`degenet.train.hostloop`): its permutation, the epoch's mean
  iterate as a regression's candidate, early stopping with the best candidate restored, and
  a regression trained on whitened inputs towards its known exact optimum.

One thread while training: these matrices are too small to split, and torch's second
thread spinning on a busy 2-core machine made a step 20-70x slower (bench/backends.py
notes). ``torch.compile`` did not pay on CPU (first compile 1.3-94 s for steps of
0.2-0.5 ms), so it is not used.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from degenet.data.scaling import Scaling
from degenet.model.family import Family
from degenet.train.hostloop import Plan, Stopper, route_setup
from degenet.train.settings import (Optimum, ProgressCallback, TrainResult, TrainSettings,
                                    watch_for)

_ACTIVATIONS = {"linear": None, "relu": torch.relu, "tanh": torch.tanh,
                "sigmoid": torch.sigmoid}


def _forward(stack: list, weights: list, X: torch.Tensor) -> torch.Tensor:
    h = X
    for kernel, bias, activation in stack:
        h = h @ weights[kernel] if bias is None else torch.addmm(weights[bias], h,
                                                                 weights[kernel])
        if activation is not None:
            h = activation(h)
    return h


class _Adam:
    """``keras.optimizers.Adam`` (no amsgrad) on a list of tensors, updated in place."""

    def __init__(self, weights: list, learning_rate: float, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7):
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = (
            learning_rate, beta_1, beta_2, epsilon)
        self.m = [torch.zeros_like(w) for w in weights]
        self.v = [torch.zeros_like(w) for w in weights]
        self.step = 0

    def update(self, weights: list, grads: tuple, rate: float) -> None:
        self.step += 1
        alpha = (self.learning_rate * rate * (1.0 - self.beta_2 ** self.step) ** 0.5
                 / (1.0 - self.beta_1 ** self.step))
        torch._foreach_lerp_(self.m, grads, 1.0 - self.beta_1)
        torch._foreach_mul_(self.v, self.beta_2)
        torch._foreach_addcmul_(self.v, grads, grads, value=1.0 - self.beta_2)
        denominator = torch._foreach_sqrt(self.v)
        torch._foreach_add_(denominator, self.epsilon)
        torch._foreach_addcdiv_(weights, self.m, denominator, value=-alpha)


def train_torch(net, family: Family, X: np.ndarray, y: np.ndarray, settings: TrainSettings, *,
                train_rows: np.ndarray, val_rows: np.ndarray, scaling: Scaling, seed: int,
                progress: ProgressCallback | None = None, weight: np.ndarray | None = None,
                offset: np.ndarray | None = None, optimum: Optimum | None = None
                ) -> TrainResult:
    """Train the Dense chain ``net`` (outputting logits) in place; see ``loop.train``.

    ``weight`` ``(n_samples,)`` weights the rows' losses (``settings.row_weights``);
    ``offset`` ``(n_samples,)`` is added to each row's eta; ``optimum``: a regression's
    exact optimum, trained towards.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.enable_grad():
            return _train(net, family, X, y, settings, train_rows=train_rows,
                          val_rows=val_rows, scaling=scaling, seed=seed, progress=progress,
                          weight=weight, offset=offset, optimum=optimum)
    finally:
        torch.set_num_threads(threads)


def _tensors(family, X, y, weight, offset, rows, scaling, toward):
    """Features (whitened towards an optimum), target, row weights (or None) and offsets
    ``(n, 1)`` (or None) of ``rows``."""
    y_dtype = torch.int64 if np.dtype(family.y_dtype).kind == "i" else torch.float32
    w = None if weight is None else torch.from_numpy(weight[rows].astype(np.float32))
    o = None if offset is None else torch.from_numpy(offset[rows, None].astype(np.float32))
    features = scaling.apply(X[rows])
    features = features if toward is None else toward.features(features)
    return (torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32)),
            torch.from_numpy(np.asarray(y[rows])).to(y_dtype), w, o)


def _eta(stack, weights, X, o):
    eta = _forward(stack, weights, X)
    return eta if o is None else eta + o


def _train(net, family, X, y, settings, *, train_rows, val_rows, scaling, seed, progress,
           weight, offset, optimum) -> TrainResult:
    started = time.perf_counter()
    p, variables, stack, toward = route_setup(
        net, family, settings, n_train=len(train_rows), seed=seed, scaling=scaling,
        optimum=optimum, activations=_ACTIVATIONS)
    start = [np.array(v.numpy(), np.float32) for v in variables]
    if toward is not None:
        start[0] = toward.start(start[0].astype(np.float64)).astype(np.float32)
    weights = [torch.tensor(w).requires_grad_(True) for w in start]
    train = _tensors(family, X, y, weight, offset, train_rows, scaling, toward)
    X_val, y_val, w_val, o_val = _tensors(family, X, y, weight, offset, val_rows, scaling,
                                          toward)
    optimizer = _Adam(weights, float(p.settings.learning_rate))
    watch = watch_for(p.settings, has_validation=len(val_rows) > 0, optimum=optimum)
    stopper = Stopper(p.settings, watch, progress)
    best = [w.detach().clone() for w in weights]
    n_train = len(train_rows)
    while not stopper.done:
        candidate, total = _epoch(p, stack, weights, optimizer, family, stopper, *train)
        val = float("nan")
        if len(val_rows):
            with torch.no_grad():
                losses = family.loss(y_val, _eta(stack, candidate, X_val, o_val))
                val = float(torch.mean(losses if w_val is None else losses * w_val))
        distance = (float("nan") if toward is None else toward.distance(
            candidate[0].numpy(), candidate[1].numpy() if len(candidate) > 1 else None))
        if stopper.update(total / n_train, val, distance):
            best = [w.detach().clone() for w in candidate]
    if toward is not None:
        best[0] = torch.from_numpy(toward.kernel(best[0].numpy().astype(np.float64))
                                   .astype(np.float32))
    for variable, value in zip(variables, best):
        variable.assign(value)
    return stopper.result(compile_seconds=0.0, started=started, engine="torch-loop")


def _epoch(p: Plan, stack, weights, optimizer, family, stopper, X, y, w, o):
    """One pass over the shuffled training rows; ``(candidate, summed training loss)``.

    The last batch is simply shorter (the engine pads and masks it: the same mean)."""
    n_train = len(X)
    order = torch.from_numpy(p.padded_order(stopper.epoch, n_train)[0].reshape(-1)[:n_train])
    X, y = X[order], y[order]
    w = None if w is None else w[order]
    o = None if o is None else o[order]
    mean = [v.detach().clone() for v in weights] if p.average else None
    total = torch.zeros((), dtype=torch.float64)
    for count, start in enumerate(range(0, n_train, p.batch_size), start=1):
        rows = slice(start, start + p.batch_size)
        offset = None if o is None else o[rows]
        losses = family.loss(y[rows], _eta(stack, weights, X[rows], offset))
        batch_total = torch.sum(losses if w is None else losses * w[rows])
        grads = torch.autograd.grad(batch_total / losses.shape[0], weights)
        with torch.no_grad():
            optimizer.update(weights, grads, stopper.rate)
            total += batch_total.detach()
            if p.average:  # the running mean of the epoch's iterates
                torch._foreach_lerp_(mean, weights, 1.0 / count)
    return (mean if p.average else [v.detach() for v in weights]), float(total)
