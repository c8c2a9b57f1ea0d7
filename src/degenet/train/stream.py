"""Gradient descent fed by a stream of design blocks, on one process or several.

**Batches are defined by shards, not processes.** The training rows are dealt into
``n_shards`` shards (row groups balanced by rows, :mod:`degenet.data.dataset`). Step ``t``
of an epoch takes the next ``batch_size / n_shards`` rows of every shard's shuffled stream;
its gradient is the sum of the shards' gradient sums over the step's rows, and a process
computes the sums of its own shards. So one process reading both shards of a 2-shard run
takes the same steps as two processes reading one each (weights within 1e-7 here).

**Every process runs the same steps.** Steps per epoch are ``ceil(largest shard's rows /
shard batch)``, known before the epoch from the encoding pass's counts; a shard that runs
out pads its rows with weight zero, and a step without rows changes nothing. No process is
left waiting in a collective for a peer that has finished.

**The program.** As in the in-memory engine (:mod:`degenet.train.engine`, whose forward
pass and optimizers it uses), steps run inside XLA: a jitted ``lax.scan`` over a chunk of
steps, each standardizing its rows, computing the gradient of the summed loss, summing it
over the processes (one ``psum`` a step inside the program, no Python between) and taking
the optimizer's step; a regression's epoch ends on the mean of its iterates (Polyak &
Juditsky 1992), as in memory. A call holding a collective costs a fixed ~3.6 ms here, so a
chunk holds many steps; chunks are filled from the shuffle buffers while the previous one
runs (:mod:`degenet.train.chunks`).

**Validation** rows are scored as they stream past during the next epoch's read, with the
previous epoch's candidate held fixed: no extra pass per epoch, at the price of learning an
epoch's validation loss an epoch later (early stopping then trains one epoch more than it
keeps). The sums are all-reduced, so every process takes the same decision. A run that ends
at ``max_epochs`` scores its last candidate in a validation-only pass.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from degenet.data.reader import ShuffleBuffer, trim_malloc
from degenet.model.family import Family
from degenet.parallel.cluster import AXIS, Cluster
from degenet.randomness import derive
from degenet.train.chunks import Chunks, steps_per_call
from degenet.train.engine import _forward, dense_stack
from degenet.train.optimizers import engine_optimizer
from degenet.train.settings import (ProgressCallback, TrainResult, TrainSettings,
                                    history_frame, watch_for)

logger = logging.getLogger(__name__)
SHUFFLE_BYTES = 32 << 20  # each shard's shuffle buffer: 390,000 rows of 21 float32 columns


@dataclass(frozen=True)
class Standardize:
    """What the program standardizes with: the design's and the target's centre and scale."""

    mean: np.ndarray
    scale: np.ndarray
    target_center: float = 0.0
    target_scale: float = 1.0

    def arrays(self) -> tuple:
        return (np.asarray(self.mean, np.float32), np.asarray(self.scale, np.float32),
                np.float32(self.target_center), np.float32(self.target_scale))


@dataclass(frozen=True)
class Shards:
    """Where the training rows are: each shard's rows, and the shards this process reads.

    ``blocks(shard, epoch)`` yields the shard's ``(train, val)`` design blocks, its row
    groups in that epoch's order.
    """

    rows: np.ndarray
    local: tuple
    blocks: Callable[[int, int], Iterator]


def chunk_program(stack, family: Family, optimizer, mesh, average: bool) -> Callable:
    """The jitted ``run(state, data, mask, rate, *standardize) -> (state, loss sum, rows)``.

    ``data`` is the global array ``(processes, local shards, steps, shard batch, width)``
    sharded over the processes (the target last), ``mask`` the ``(..., shard batch)`` 0/1
    weight of each row. The state ``(weights, optimizer state, mean weights, count)`` is
    replicated. On one process the program holds no collective.
    """
    y_dtype = jnp.dtype(family.y_dtype)

    def shard_sum(weights, block, mask, mean, scale, center, spread):
        X = (block[:, :-1] - mean) / scale
        y = ((block[:, -1] - center) / spread).astype(y_dtype)
        return jnp.sum(family.loss(y, _forward(stack, weights, X)) * mask)

    value_and_grad = jax.vmap(jax.value_and_grad(shard_sum),
                              in_axes=(None, 0, 0, None, None, None, None))
    several = mesh.devices.size > 1

    def run(state, data, mask, rate, *standardize):
        data, mask = data[0], mask[0]

        def step(state, t):
            weights, opt_state, mean_weights, count = state
            totals, grads = value_and_grad(weights, data[:, t], mask[:, t], *standardize)
            sums = ([g.sum(axis=0) for g in grads], totals.sum(), mask[:, t].sum())
            grads, loss, rows = jax.lax.psum(sums, AXIS) if several else sums
            grads = [g / jnp.maximum(rows, 1.0) for g in grads]
            new_weights, new_opt = optimizer.update(opt_state, grads, weights, rate)
            new_count = count + 1.0
            new_mean = ([a + (b - a) / new_count for a, b in zip(mean_weights, new_weights)]
                        if average else new_weights)
            # A step without rows (an epoch's padding) changes nothing: every chunk then
            # has the same shape, one compile and one pair of buffers.
            state = jax.tree.map(lambda new, old: jnp.where(rows > 0, new, old),
                                 (new_weights, new_opt, new_mean, new_count), state)
            return state, (loss, rows)

        state, (losses, rows) = jax.lax.scan(step, state, jnp.arange(data.shape[1]))
        return state, jnp.sum(losses), jnp.sum(rows)

    replicated, split = jax.sharding.PartitionSpec(), jax.sharding.PartitionSpec(AXIS)
    # check_vma=False: with it, JAX's autodiff all-reduces the gradient of the replicated
    # weights itself, and the psum above would count it twice (weights of 1 vs 2 processes
    # then 7.7e-7 apart, hidden by Adam's scale invariance; 1.5e-8 without).
    return jax.jit(jax.shard_map(
        run, mesh=mesh, in_specs=(replicated, split, split, replicated) + (replicated,) * 4,
        out_specs=(replicated, replicated, replicated), check_vma=False))


def score_program(stack, family: Family) -> Callable:
    """Jitted local ``(weights, block, mask, *standardize) -> loss sum``."""
    y_dtype = jnp.dtype(family.y_dtype)

    def score(weights, block, mask, mean, scale, center, spread):
        X = (block[:, :-1] - mean) / scale
        y = ((block[:, -1] - center) / spread).astype(y_dtype)
        return jnp.sum(family.loss(y, _forward(stack, weights, X)) * mask)

    return jax.jit(score)


class _Validation:
    """Sums of a fixed candidate's loss over the validation blocks that stream past.

    The blocks' sums stay on the device until :attr:`total` is read: reading each one at
    once waited for the training chunk queued before it (0.3 s an epoch on 2M x 20 rows).
    """

    def __init__(self, score, weights, standardize: Standardize):
        self._score, self._weights, self._args = score, weights, standardize.arrays()
        self._sums, self.count = [], 0

    def add(self, block: np.ndarray) -> None:
        if self._weights is None or len(block) == 0:
            return
        size = 1 << max(10, math.ceil(math.log2(len(block))))  # few shapes, few compiles
        padded = np.zeros((size, block.shape[1]), np.float32)
        padded[:len(block)] = block
        mask = np.zeros(size, np.float32)
        mask[:len(block)] = 1.0
        self._sums.append(self._score(self._weights, padded, mask, *self._args))
        self.count += len(block)

    @property
    def total(self) -> float:
        """The loss summed over the blocks so far, in their order (float64)."""
        return sum(float(value) for value in jax.device_get(self._sums))


def _training_rows(blocks: Iterator, validation: _Validation) -> Iterator[np.ndarray]:
    """The training parts of ``(train, val)`` blocks as float32; the val parts are scored."""
    for train, val in blocks:
        validation.add(val)
        if len(train):
            yield train.astype(np.float32, copy=False)


def train_stream(net, family: Family, shards: Shards, settings: TrainSettings, *,
                 batch_size: int, standardize: Standardize, seed: int, cluster: Cluster,
                 progress: ProgressCallback | None = None) -> TrainResult:
    """Train the logits network ``net`` (a Dense stack) on streamed blocks, in place.

    ``batch_size`` is the global batch, a multiple of the number of shards. The best
    candidate's weights are left in ``net``; losses are in standardized target units.
    """
    stack = dense_stack(net)
    n_shards = len(shards.rows)
    shard_batch = batch_size // n_shards
    steps = max(1, math.ceil(int(np.max(shards.rows)) / shard_batch))
    width = net.inputs[0].shape[-1] + 1
    optimizer = engine_optimizer(net, settings)
    average = len(stack) == 1
    program = chunk_program(stack, family, optimizer, cluster.mesh, average)
    # Every step of a call all-reduces, padding steps too: calls of equal size, padded least.
    calls = math.ceil(steps / steps_per_call(batch_size, width))
    per_call = math.ceil(steps / calls)
    runner = Chunks(program, cluster, standardize.arrays(), len(shards.local), shard_batch,
                    width, per_call)
    score = score_program(stack, family)
    weights = [np.asarray(v.value, np.float32) for v in net.trainable_variables]
    zero = cluster.replicate(np.float32(0.0))
    state = cluster.replicate((weights, optimizer.init(weights), weights, np.float32(0.0)))
    rate, candidate, best, best_val, best_epoch, wait = 1.0, None, None, np.inf, 0, 0
    # No validation rows: the epoch's training loss decides, as in memory (Watch "loss").
    watch = watch_for(settings, has_validation=bool(settings.validation), optimum=None)
    losses, val_losses, epoch = [], [], 0
    capacity = max(shard_batch, SHUFFLE_BYTES // (4 * width))
    start = time.perf_counter()
    while epoch < settings.max_epochs and wait < settings.patience:
        validation = _Validation(score, candidate, standardize)
        buffers = [ShuffleBuffer(_training_rows(shards.blocks(s, epoch), validation), capacity,
                                 np.random.default_rng([derive(seed, "shuffle"), epoch, s]))
                   for s in shards.local]
        if average:  # a regression's epoch ends on the mean of its own iterates
            state = (state[0], state[1], state[0], zero)
        state, loss, count = runner.epoch(state, buffers, steps, rate)
        for buffer in buffers:  # read to the end: validation rows may follow the last
            buffer.take(np.empty((1, width), np.float32))
        losses.append(loss / max(count, 1.0))
        val_losses.append(np.nan)  # this epoch's candidate is scored during the next
        judged = None
        if watch.kind == "val_loss" and candidate is not None:
            val_losses[-2] = _reduced(cluster, validation)
            judged = (candidate, val_losses[-2], epoch)
        candidate = [np.asarray(w.addressable_data(0)) for w in state[2]]
        if watch.kind == "loss":
            judged = (candidate, losses[-1], epoch + 1)
        if judged is not None:
            improved = judged[1] < best_val - watch.min_delta
            best, best_val, best_epoch = judged if improved else (best, best_val, best_epoch)
            wait, rate = (0, rate) if improved else (wait + 1, rate * settings.plateau_factor)
        epoch += 1
        trim_malloc()
        logger.info("epoch %d of at most %d: training loss %.6g, validation loss of the last "
                    "epoch %.6g (standardized)", epoch, settings.max_epochs, losses[-1],
                    val_losses[-2] if len(val_losses) > 1 else np.nan)
        if progress:
            progress(epoch, settings.max_epochs)
    stopped = wait >= settings.patience
    if not stopped and watch.kind == "val_loss":
        # ended at max_epochs: score the last candidate in one more pass
        validation = _Validation(score, candidate, standardize)
        for s in shards.local:
            for _ in _training_rows(shards.blocks(s, epoch), validation):
                pass
        val_losses[-1] = _reduced(cluster, validation)
        if val_losses[-1] < best_val - settings.min_delta:
            best, best_val, best_epoch = candidate, val_losses[-1], epoch
    for variable, value in zip(net.trainable_variables, best if best is not None else weights):
        variable.assign(value)
    return TrainResult(history=history_frame(np.array(losses), np.array(val_losses)),
                       best_epoch=best_epoch, stopped_early=stopped, compile_seconds=0.0,
                       train_seconds=time.perf_counter() - start, engine="jax-stream",
                       watched=watch.kind, best_watched=float(best_val))


def _reduced(cluster: Cluster, validation: _Validation) -> float:
    total, count = cluster.allreduce(np.array([validation.total, validation.count], float))
    return total / max(count, 1.0)
