"""What the streamed solvers know of the processes they run on: a mesh and two reductions.

A :class:`Cluster` is one device per process on the mesh axis :data:`AXIS` (for the
all-reduce inside the gradient-descent program), a float64 sum over the processes and a
gather of JSON values. :meth:`Cluster.single` is the one-process case, where both are
identities; :func:`degenet.parallel.runtime.join` builds the multi-process one. The solvers
take a Cluster and never ask how it was made.

The float64 sum (the exact solver's Gram matrices, validation losses) is a ``psum`` in
float64 under ``jax.enable_x64`` (gloo on CPU, NCCL on GPU): 1.6 ms a call for 2 to 10,404
values and 22 ms for 10^6 on 2 processes here. Gathers go through the hub (0.4 ms).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

AXIS = "processes"


@dataclass(frozen=True)
class Cluster:
    """The processes of a run.

    Attributes
    ----------
    mesh : jax.sharding.Mesh
        One device per process, on the axis :data:`AXIS`, in rank order.
    rank, world : int
    allreduce : callable
        ``allreduce(values)``: the float64 sum of ``values`` (any shape) over the
        processes; every process gets the same result.
    allgather : callable
        ``allgather(value)``: every process's JSON ``value``, in rank order.
    """

    mesh: object
    rank: int
    world: int
    allreduce: Callable[[np.ndarray], np.ndarray]
    allgather: Callable[[object], list]

    @classmethod
    def single(cls) -> "Cluster":
        """This process alone."""
        import jax
        from jax.sharding import Mesh

        return cls(mesh=Mesh(np.array(jax.local_devices()[:1]), (AXIS,)), rank=0, world=1,
                   allreduce=lambda values: np.asarray(values, dtype=np.float64),
                   allgather=lambda value: [value])

    @property
    def device(self):
        """This process's device of the mesh."""
        return self.mesh.devices.ravel()[self.rank]

    def global_array(self, local: np.ndarray):
        """The processes' ``local`` arrays stacked on a leading axis, one block each.

        ``make_array_from_process_local_data`` wraps a 64-byte-aligned numpy array without
        a copy (0.09 ms for a 44 MB chunk); numpy's 16-byte-aligned ones were copied (80 ms).
        """
        import jax
        from jax.sharding import NamedSharding, PartitionSpec

        return jax.make_array_from_process_local_data(
            NamedSharding(self.mesh, PartitionSpec(AXIS)), local[None],
            (self.world, *local.shape))

    def replicate(self, tree):
        """A pytree of host values as arrays replicated on every process's device."""
        import jax
        from jax.sharding import NamedSharding, PartitionSpec

        sharding = NamedSharding(self.mesh, PartitionSpec())
        return jax.tree.map(
            lambda a: jax.make_array_from_process_local_data(sharding, np.asarray(a)), tree)


def process_devices():
    """One device per process, in rank order (each process's first device)."""
    import jax

    first = {}
    for device in jax.devices():
        first.setdefault(device.process_index, device)
    return [first[index] for index in sorted(first)]


def allreduce_program(mesh, world: int) -> Callable[[np.ndarray], np.ndarray]:
    """``allreduce(values)``: a float64 ``psum`` of every process's ``values``."""
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    with jax.enable_x64(True):
        program = jax.jit(jax.shard_map(lambda x: jax.lax.psum(x, AXIS), mesh=mesh,
                                        in_specs=PartitionSpec(AXIS),
                                        out_specs=PartitionSpec()))

    def allreduce(values: np.ndarray) -> np.ndarray:
        values = np.ascontiguousarray(values, dtype=np.float64)
        with jax.enable_x64(True):
            local = jax.make_array_from_process_local_data(
                NamedSharding(mesh, PartitionSpec(AXIS)), values[None], (world, *values.shape))
            return np.asarray(program(local).addressable_data(0))[0]

    return allreduce


def muted_stdout(action: Callable):
    """Run ``action`` with file descriptor 1 silenced: gloo prints "[Gloo] Rank 0 is
    connected to 1 peer ranks..." from C++ when its first communicator is made."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return action()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
