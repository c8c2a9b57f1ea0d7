"""Where this process stands in a run of several: read from the environment, nothing else.

:func:`detect` reads, in order:

1. degenet's own variables (``DEGENET_COORDINATOR_ADDRESS``, ``DEGENET_NUM_PROCESSES``,
   ``DEGENET_PROCESS_ID``), which ``--processes N`` sets for the workers it starts;
2. those ``jax.distributed.initialize`` reads (``JAX_COORDINATOR_ADDRESS``,
   ``JAX_NUM_PROCESSES``, ``JAX_PROCESS_ID``) and those of ``keras.distribution``
   (``KERAS_DISTRIBUTION_JOB_ADDRESSES``, ``..._NUM_PROCESSES``, ``..._PROCESS_ID``);
3. SLURM's (``SLURM_NTASKS``, ``SLURM_PROCID``; the coordinator is the first host of
   ``SLURM_STEP_NODELIST`` on the port JAX derives from ``SLURM_JOB_ID``, as
   ``jax/_src/clusters/slurm_cluster.py`` does);
4. Open MPI's and PMI's ranks (``mpirun``), which name no coordinator: set
   ``DEGENET_COORDINATOR_ADDRESS``;
5. a Kubernetes indexed job's ``JOB_COMPLETION_INDEX``, with ``DEGENET_NUM_PROCESSES`` and
   ``DEGENET_COORDINATOR_ADDRESS``.

A run of one process (no variables, or a size of 1) is ``None``. A launcher that gives a
rank but no coordinator is an error naming what to set. The hub (:mod:`degenet.parallel.hub`)
listens on the coordinator's port + 1 unless ``DEGENET_WATCHDOG_PORT`` says otherwise;
``DEGENET_TIMEOUT`` (seconds, default :data:`TIMEOUT`) bounds joining and silence.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from degenet.errors import DegenetError

TIMEOUT = 30.0  # seconds: for every process to join, and of silence before a peer is dead


class ClusterError(DegenetError):
    """The processes of a run cannot be set up as asked; the message says what to set."""


@dataclass(frozen=True)
class ClusterSpec:
    """This process's place in a run.

    Attributes
    ----------
    coordinator : str
        ``host:port`` of JAX's coordination service (started for process 0).
    world : int
        The number of processes.
    rank : int
        This process's id, ``0 <= rank < world``.
    source : str
        Which variables said so (named in errors).
    hub_port : int
        The port of degenet's hub on the coordinator's host.
    timeout : float
        Seconds to wait for every process to join, and of silence before a peer is dead.
    """

    coordinator: str
    world: int
    rank: int
    source: str
    hub_port: int
    timeout: float = TIMEOUT

    @property
    def host(self) -> str:
        return self.coordinator.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.coordinator.rsplit(":", 1)[1])


def first_host(nodelist: str) -> str:
    """The first host of a SLURM node list: ``node[03-05,9],gpu1`` gives ``node03``."""
    head = re.match(r"([^,\[]+)(\[([^\]]+)\])?", nodelist.strip())
    if head is None:
        raise ClusterError(f"cannot read the SLURM node list {nodelist!r}")
    prefix, ranges = head.group(1), head.group(3)
    return prefix if ranges is None else prefix + re.split(r"[-,]", ranges)[0]


def detect(env: dict | None = None) -> ClusterSpec | None:
    """The run this process belongs to, from ``env`` (default ``os.environ``); None: alone."""
    env = dict(os.environ if env is None else env)
    for world, rank, address, source in (
            ("DEGENET_NUM_PROCESSES", "DEGENET_PROCESS_ID", "DEGENET_COORDINATOR_ADDRESS",
             "DEGENET_*"),
            ("JAX_NUM_PROCESSES", "JAX_PROCESS_ID", "JAX_COORDINATOR_ADDRESS", "JAX_*"),
            ("KERAS_DISTRIBUTION_NUM_PROCESSES", "KERAS_DISTRIBUTION_PROCESS_ID",
             "KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_*")):
        if world in env and rank in env:
            coordinator = env.get(address, "").split(",")[0] or None
            return _spec(env, coordinator, _integer(env, world), _integer(env, rank), source,
                         address)
    if all(name in env for name in ("SLURM_NTASKS", "SLURM_PROCID", "SLURM_STEP_NODELIST")):
        # JAX's own port for a SLURM job (jax/_src/clusters/slurm_cluster.py).
        port = int(env.get("SLURM_JOB_ID", "0") or 0) % 2**12 + (65535 - 2**12 + 1)
        coordinator = (env.get("DEGENET_COORDINATOR_ADDRESS")
                       or f"{first_host(env['SLURM_STEP_NODELIST'])}:{port}")
        return _spec(env, coordinator, _integer(env, "SLURM_NTASKS"),
                     _integer(env, "SLURM_PROCID"), "SLURM", "DEGENET_COORDINATOR_ADDRESS")
    for world, rank, source in (("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "Open MPI"),
                                ("PMI_SIZE", "PMI_RANK", "MPI (PMI)"),
                                ("PMIX_SIZE", "PMIX_RANK", "MPI (PMIx)")):
        if world in env and rank in env:
            return _spec(env, env.get("DEGENET_COORDINATOR_ADDRESS"), _integer(env, world),
                         _integer(env, rank), source,
                         "DEGENET_COORDINATOR_ADDRESS (host:port of rank 0)")
    if "JOB_COMPLETION_INDEX" in env:
        if "DEGENET_NUM_PROCESSES" not in env:
            raise ClusterError(
                "a Kubernetes indexed job (JOB_COMPLETION_INDEX is set) needs "
                "DEGENET_NUM_PROCESSES (the job's completions) and DEGENET_COORDINATOR_ADDRESS "
                "(host:port of pod 0, e.g. through the job's headless service)")
        return _spec(env, env.get("DEGENET_COORDINATOR_ADDRESS"),
                     _integer(env, "DEGENET_NUM_PROCESSES"),
                     _integer(env, "JOB_COMPLETION_INDEX"), "Kubernetes indexed job",
                     "DEGENET_COORDINATOR_ADDRESS")
    return None


def _integer(env: dict, name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise ClusterError(f"{name} must be a whole number; received {name}={env[name]!r}"
                           ) from None


def _spec(env: dict, coordinator: str | None, world: int, rank: int, source: str,
          needed: str) -> ClusterSpec | None:
    if world < 1 or not 0 <= rank < world:
        raise ClusterError(f"process id {rank} is outside 0..{world - 1} ({source})")
    if world == 1:
        return None
    if not coordinator:
        raise ClusterError(f"{source} gives this process rank {rank} of {world} but no "
                           f"coordinator address; set {needed}")
    host, _, port = coordinator.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"coordinator address {coordinator!r} ({source}) needs a host and "
                           "a port: host:port")
    hub = env.get("DEGENET_WATCHDOG_PORT")
    if hub is not None and not hub.isdigit():
        raise ClusterError(f"DEGENET_WATCHDOG_PORT must be a port number; received {hub!r}")
    return ClusterSpec(coordinator=coordinator, world=world, rank=rank, source=source,
                       hub_port=int(hub) if hub is not None else int(port) + 1,
                       timeout=timeout_from(env))


def timeout_from(env: dict) -> float:
    """``DEGENET_TIMEOUT`` of ``env`` in seconds (default :data:`TIMEOUT`); errors name it."""
    text = env.get("DEGENET_TIMEOUT")
    if text is None:
        return TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ClusterError(f"DEGENET_TIMEOUT must be a positive number of seconds; received "
                           f"{text!r}")
    return value
