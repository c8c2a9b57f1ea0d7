"""JAX's coordination service in degenet's coordinator process, not inside process 0.

``jax.distributed.initialize`` starts the coordination service inside process 0 and has no
public way to join a service started elsewhere (jax 0.4.30 to 0.10.2: ``State.initialize``
calls ``get_distributed_runtime_service`` whenever ``process_id == 0``). With the service in
process 0, a process 0 that died took the service with it, and the survivors' JAX clients
aborted with a stack trace (``LOG(QFATAL)``) before the hub's one line could reach them:
1 run in 3 here. So the service runs in the coordinator process
(:mod:`degenet.parallel.coordinator`), which outlives every worker, and process 0's
``initialize`` is kept from starting a second one.

That takes JAX's private API, used here and nowhere else: the factory
``jax._src.distributed._jax.get_distributed_runtime_service`` (in jaxlib's extension). A jax
without it gets a clear error naming the version, not a silent fallback.
"""

from __future__ import annotations

from contextlib import contextmanager

from degenet.parallel.environment import ClusterError, ClusterSpec

TESTED = "0.10.2"
FACTORY = "get_distributed_runtime_service"


def _extension():
    """jaxlib's extension module as ``jax._src.distributed`` sees it, and that module."""
    import jax
    from jax._src import distributed

    extension = getattr(distributed, "_jax", None) or getattr(distributed, "xla_extension", None)
    if extension is None or not hasattr(extension, FACTORY) or jax.__version_info__ < (0, 4, 30):
        raise ClusterError(
            f"several processes need JAX's coordination service where degenet looks for it "
            f"(jax._src.distributed._jax.{FACTORY}); jax {jax.__version__} does not have it "
            f"(tested with jax {TESTED}): install that jax, or run one process")
    return extension, distributed


def start_service(port: int, world: int, timeout: float):
    """The coordination service for ``world`` processes on ``port`` (the coordinator's)."""
    extension, _ = _extension()
    return getattr(extension, FACTORY)(f"[::]:{port}", world,
                                       heartbeat_timeout=int(timeout) + 60,
                                       shutdown_timeout=int(timeout))


class _NoService:
    """What process 0 holds instead of a service: the coordinator process runs it."""

    def shutdown(self) -> None:
        pass


@contextmanager
def _service_elsewhere():
    extension, distributed = _extension()
    factory = getattr(extension, FACTORY)
    setattr(extension, FACTORY, lambda *args, **kwargs: _NoService())
    try:
        yield
    finally:
        setattr(extension, FACTORY, factory)


def initialize(spec: ClusterSpec) -> None:
    """``jax.distributed.initialize`` for this process, the service left to the coordinator.

    JAX's own heartbeat timeout is set beyond the hub's, so that the hub speaks first.
    """
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    # The preemption service polls the coordinator, and logs warnings when it goes away.
    jax.config.update("jax_enable_preemption_service", False)
    with _service_elsewhere():
        jax.distributed.initialize(
            spec.coordinator, spec.world, spec.rank,
            initialization_timeout=int(spec.timeout) + 30,
            heartbeat_timeout_seconds=int(spec.timeout) + 60,
            shutdown_timeout_seconds=int(spec.timeout))
