"""Chunks of gradient steps, filled from the shards' shuffle buffers while the last one runs.

A chunk is ``steps`` steps of every local shard's rows: the global array ``(processes,
local shards, steps, shard batch, width)`` and its row mask. Two pairs of 64-byte-aligned
buffers alternate: the program runs on one pair (JAX shares aligned host memory, no copy)
while the next chunk is filled into the other; before a pair is refilled, the call that
read it is waited for. An epoch's last chunk is padded with empty steps, so every call has
the same shapes (one compile).
"""

from __future__ import annotations

import numpy as np

from degenet.parallel.cluster import Cluster

CHUNK_BYTES = 16 << 20  # one chunk's rows (two are in flight)
MIN_STEPS = 16  # a call holding a collective costs ~3.6 ms here: at least this many steps


def steps_per_call(batch_size: int, width: int) -> int:
    """Steps in one call: as many as fit in :data:`CHUNK_BYTES`, at least :data:`MIN_STEPS`."""
    return max(MIN_STEPS, CHUNK_BYTES // (batch_size * width * 4))


def aligned(shape: tuple, alignment: int = 64) -> np.ndarray:
    """A zeroed float32 array whose data start on ``alignment`` bytes."""
    size = int(np.prod(shape)) * 4
    raw = np.zeros(size + alignment, np.uint8)
    offset = (-raw.ctypes.data) % alignment
    return raw[offset:offset + size].view(np.float32).reshape(shape)


class Chunks:
    """Runs epochs of the chunk program on rows taken from shuffle buffers."""

    def __init__(self, program, cluster: Cluster, standardize: tuple, shards: int,
                 shard_batch: int, width: int, per_call: int):
        self._program, self._cluster = program, cluster
        self._standardize = cluster.replicate(standardize)
        self._per_call = per_call
        self._pairs = [[aligned((shards, per_call, shard_batch, width)),
                        aligned((shards, per_call, shard_batch)), None] for _ in range(2)]

    def epoch(self, state, buffers, steps: int, rate: float):
        """Run ``steps`` steps; the state, and the epoch's summed loss and rows."""
        outputs = []
        rate = self._cluster.replicate(np.float32(rate))
        for turn, first in enumerate(range(0, steps, self._per_call)):
            pair = self._pairs[turn % 2]
            data, mask, busy = pair
            if busy is not None:
                busy[0].block_until_ready()  # the call that read these buffers is done
            k = min(self._per_call, steps - first)
            for s, buffer in enumerate(buffers):
                rows = data[s, :k].reshape(-1, data.shape[-1])
                n = buffer.take(rows)
                rows[n:] = 0.0  # a pad must not hold NaN: 0 * NaN is NaN
                data[s, k:] = 0.0
                flat = mask[s].reshape(-1)
                flat[:n], flat[n:] = 1.0, 0.0
            state, total, count = self._program(
                state, self._cluster.global_array(data), self._cluster.global_array(mask),
                rate, *self._standardize)
            pair[2] = (total, count)
            outputs.append((total, count))
        sums = [(float(t), float(c)) for t, c in outputs]
        return state, sum(t for t, _ in sums), sum(c for _, c in sums)
