"""Joining a run of several processes, ending it together, and failing it cleanly.

:func:`current` is the cluster of this process: the one :func:`join` made, else one made
from the environment (:func:`degenet.parallel.environment.detect`) on first use, else this
process alone. :func:`join` meets the others at the hub first (process 0 starts the
coordinator), then initializes ``jax.distributed``; it must run before anything computes
with JAX. :func:`finish` is the last barrier. :func:`guarded` runs the work of a process
of a run: any exception ends every process with one line
(:meth:`~degenet.parallel.watchdog.Watchdog.fail`).
"""

from __future__ import annotations

import itertools
import os

from degenet.parallel.cluster import (Cluster, allreduce_program, muted_stdout,
                                      process_devices)
from degenet.parallel.environment import ClusterError, ClusterSpec, detect
from degenet.parallel.watchdog import Watchdog

TOKEN = "DEGENET_RUN_TOKEN"

_state: dict = {"cluster": None, "watchdog": None}


def current() -> Cluster:
    """This process's cluster: joined, or joined now from the environment, or alone."""
    if _state["cluster"] is None:
        spec = detect()
        _state["cluster"] = Cluster.single() if spec is None else join(spec)
    return _state["cluster"]


def watchdog() -> Watchdog | None:
    """The hub connection of a joined run (None alone)."""
    return _state["watchdog"]


def join(spec: ClusterSpec | None = None) -> Cluster:
    """Join the run ``spec`` describes (default: the environment's); return its Cluster.

    Process 0 starts the coordinator; every process then meets the others at its hub (an
    error within the timeout if one never comes) and initializes ``jax.distributed``.
    """
    spec = spec or detect()
    if spec is None:
        return current()
    if _state["cluster"] is not None:
        raise ClusterError("this process has already joined a run; join once, first")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # XLA's C++ log lines stay quiet
    token = os.environ.get(TOKEN, "")
    if spec.rank == 0:
        from degenet.parallel.coordinator import spawn

        spawn(spec, token)
    link = Watchdog(spec, token)
    try:
        mesh, allreduce = _start_jax(spec)
    except Exception as error:  # one process cannot start JAX: the whole run stops
        link.fail(str(error).splitlines()[0])
    tags = itertools.count()
    cluster = Cluster(mesh=mesh, rank=spec.rank, world=spec.world, allreduce=allreduce,
                      allgather=lambda value: link.allgather(value, f"g{next(tags)}"))
    _state.update(cluster=cluster, watchdog=link)
    return cluster


def _start_jax(spec: ClusterSpec):
    """``jax.distributed`` started: the mesh of the processes' devices and the all-reduce."""
    import numpy as np
    from jax.sharding import Mesh

    from degenet.parallel.jaxservice import initialize

    try:
        initialize(spec)
    except RuntimeError as error:
        if "before" not in str(error):
            raise
        raise ClusterError("JAX has already computed in this process; join the run "
                           "(degenet.parallel.join()) before anything else uses JAX") from None
    devices = process_devices()
    if len(devices) != spec.world:
        raise ClusterError(f"expected {spec.world} processes' devices; JAX sees {len(devices)}")
    mesh = Mesh(np.array(devices), ("processes",))
    allreduce = allreduce_program(mesh, spec.world)
    muted_stdout(lambda: allreduce(np.zeros(1)))  # gloo's first communicator prints
    return mesh, allreduce


def finish() -> None:
    """The last barrier of a joined run (nothing alone): every process has done its work."""
    link = _state["watchdog"]
    if link is None:
        return
    import jax

    link.finish()
    jax.distributed.shutdown()
    _state["watchdog"] = None  # what follows is process 0's alone (writing the results)


def guarded(job):
    """``job()``; in a joined run an exception ends every process with one line.

    Alone, exceptions propagate as usual.
    """
    link = _state["watchdog"]
    if link is None:
        return job()
    try:
        return job()
    except Exception as error:  # every failure: one line, every process stops
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        if not isinstance(error, ValueError):  # DegenetError is a ValueError: its text is enough
            text = f"{type(error).__name__}: {text}"
        link.fail(text)
        raise
