"""Passes over the rows of a large array, spread over the CPU cores by threads.

A pass of the exact solver reads ``X`` once in blocks of rows and accumulates small
results (``A'WA``, ``A'W r``, sums). Left to BLAS, each block's product runs on all cores
but everything between the products (converting, centring, weighting) runs on one, and
OpenBLAS parallelizes a ``(q, m) x (m, q)`` product of a thin block poorly: measured here
(2 cores, 1,000,000 x 101 float32) one pass of ``X'X`` takes 0.26 s with BLAS's own two
threads and 0.10 s with two threads of our own, each running single-threaded BLAS on its
own blocks (numpy releases the GIL inside its loops and its BLAS calls).

The products use ``np.dot``, not ``@``: numpy's matmul keeps the GIL when its result is
small (numpy 2.4: under about 500 values, so ``Z'Z`` of 20 columns or ``Z'[v, h]`` of any
width), and two threads then ran ``S.T @ S`` of 4096 x 20 float32 at 0.94x the rate of
one; ``np.dot`` calls the same BLAS routine (``syrk`` for ``np.dot(B.T, B)``, the same
numbers bit for bit) and releases the GIL at any size (1.91x). A Newton solve of
10,000,000 x 20 float32 rows took a median 5.24 s instead of 6.38 s (4 runs each).

So a pass splits the blocks into ``lanes``, one per thread: lane ``k`` takes blocks
``k, k + lanes, ...`` in order and keeps its own accumulators, which the caller then sums
in lane order, so a result does not depend on how the threads were scheduled.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from threadpoolctl import ThreadpoolController

# Rows per block of a threaded pass: one float64 block of 100 columns (3.3 MB) and its
# float32 copy stay near each core's cache; larger blocks measured slower, smaller ones pay
# Python's per-block overhead.
PASS_ROWS = 4096
MAX_LANES = 8

_pool: ThreadPoolExecutor | None = None
_controller: ThreadpoolController | None = None


def n_lanes(n_blocks: int) -> int:
    """Threads for a pass of ``n_blocks`` blocks: one per available core, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_LANES, n_blocks))


def row_pass(n_samples: int, block_rows: int, start: Callable[[], Any],
             step: Callable[[Any, slice], None]) -> list:
    """Run ``step(state, rows)`` on every block of rows, each lane on its own thread.

    Parameters
    ----------
    n_samples : int
    block_rows : int
        Rows per block.
    start : callable
        ``start()`` makes one lane's state (its buffers and accumulators).
    step : callable
        ``step(state, rows)`` with ``rows`` a slice; it may write to disjoint rows of
        shared arrays, and must only read anything else.

    Returns
    -------
    list
        The lanes' states, lane 0 first.
    """
    starts = range(0, n_samples, block_rows)
    lanes = n_lanes(len(starts))

    def lane(k: int):
        state = start()
        for first in starts[k::lanes]:
            step(state, slice(first, min(first + block_rows, n_samples)))
        return state

    if lanes == 1:
        with one_blas_thread():  # a block's products are too small for BLAS's threads
            return [lane(0)]
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(MAX_LANES, thread_name_prefix="degenet-pass")
    # One BLAS thread per lane: the lanes already use every core.
    with one_blas_thread():
        return list(_pool.map(lane, range(lanes)))


def one_blas_thread():
    """A context in which BLAS runs on one thread.

    For the lanes of a pass, and for products and factorizations too small for BLAS's
    threads to pay: on a busy 2-core machine, OpenBLAS's spinning threads took the digits
    softmax check (1,437 rows, 549 x 549 Hessians) from 0.7 s to 10 s.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
