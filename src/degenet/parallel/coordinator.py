"""The coordinator process: the hub and JAX's coordination service, until every worker left.

Process 0 starts it (``python -m degenet.parallel.coordinator PORT HUB_PORT WORLD TIMEOUT
TOKEN``) in its own session, so that no worker's death, process 0's included, takes the
hub or the service down under the others. The hub comes first: it is pure Python and
listens at once, while importing jaxlib for the service takes seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys

from degenet.parallel.environment import ClusterSpec


def spawn(spec: ClusterSpec, token: str) -> subprocess.Popen:
    """Start the coordinator of ``spec``'s run (called by process 0)."""
    return subprocess.Popen(
        [sys.executable, "-m", "degenet.parallel.coordinator", str(spec.port),
         str(spec.hub_port), str(spec.world), str(spec.timeout), token],
        start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def main(argv: list[str]) -> None:
    port, hub_port, world, timeout, token = argv
    from degenet.parallel.hub import Hub

    try:
        hub = Hub(int(hub_port), int(world), float(timeout), token)
    except OSError as error:
        os.write(2, f"error: the coordinator cannot listen on port {hub_port}: {error}\n".encode())
        os._exit(1)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from degenet.parallel.jaxservice import start_service

    try:
        service = start_service(int(port), int(world), float(timeout))
    except Exception as error:  # the service cannot start: every process learns why
        hub.abort(f"the coordinator could not start JAX's service on port {port}: {error}")
    hub.wait_closed()
    service.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
