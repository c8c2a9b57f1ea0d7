"""The epoch's shuffle of the compiled engine: a keyed Feistel permutation (see
:func:`permutation`), a few elementwise passes inside the XLA program."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


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
