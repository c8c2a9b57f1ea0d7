"""``--processes N`` on one machine: the same command as N processes on 127.0.0.1.

Each child gets degenet's variables (coordinator address, size, rank, hub port, timeout and
a token for the run), so it joins as a cluster launcher's process would. A failed child
makes the others fail by themselves within the timeout (the hub); any still running
``timeout + 10`` s after the first failure is killed. The exit status is the first
failure's, or 0.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import subprocess
import sys
import time

from degenet.data.dataset import is_dataset
from degenet.errors import DegenetError
from degenet.parallel.environment import TIMEOUT, detect, timeout_from
from degenet.parallel.runtime import join


def relaunch(processes: int | None, argv: list[str]) -> int | None:
    """``--processes N`` outside any launcher: the command ``argv`` run as N processes on
    127.0.0.1, and their exit status; None when this process does the work itself (alone, or
    one of a launcher's: srun, mpirun, a Kubernetes indexed job, JAX_* or DEGENET_*)."""
    if processes is not None and processes < 1:
        raise DegenetError(f"--processes must be at least 1; received {processes}")
    if detect() is not None or processes is None or processes == 1:
        return None
    return launch_command(processes, argv, timeout_from(os.environ))


def join_command(data: str) -> int:
    """This process's rank in the run a launcher started (0 alone), joined before anything
    uses JAX; every process but 0 then prints nothing but errors (stdout is closed at its
    descriptor, so what libraries print there goes too)."""
    spec = detect()
    if spec is None:
        return 0
    if not is_dataset(data):
        raise DegenetError(f"several processes train on a Parquet dataset (a .parquet file, a "
                           f"folder or a glob); {data} is read whole by one process: run one "
                           "process")
    join(spec)
    if spec.rank > 0:
        logging.disable()
        sys.stdout.flush()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    return spec.rank


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_local(n: int, command: list[str], timeout: float = TIMEOUT) -> int:
    """Run ``command`` as ``n`` processes on this machine; the first failure's exit code."""
    port, hub = free_port(), free_port()
    token = secrets.token_hex(8)
    children = []
    for rank in range(n):
        env = {**os.environ, "DEGENET_COORDINATOR_ADDRESS": f"127.0.0.1:{port}",
               "DEGENET_NUM_PROCESSES": str(n), "DEGENET_PROCESS_ID": str(rank),
               "DEGENET_WATCHDOG_PORT": str(hub), "DEGENET_TIMEOUT": str(timeout),
               "DEGENET_RUN_TOKEN": token}
        children.append(subprocess.Popen(command, env=env))
    code, failed_at = 0, None
    try:
        while any(child.poll() is None for child in children):
            for child in children:
                if child.poll() not in (None, 0) and code == 0:
                    code, failed_at = child.returncode, time.monotonic()
            if failed_at is not None and time.monotonic() - failed_at > timeout + 10:
                for child in children:
                    if child.poll() is None:
                        child.kill()
            time.sleep(0.05)
    except KeyboardInterrupt:  # the terminal sent SIGINT to the children too
        for child in children:
            child.wait()
        return 130
    return code or next((child.returncode for child in children if child.returncode), 0)


def launch_command(n: int, argv: list[str], timeout: float = TIMEOUT) -> int:
    """The ``degenet`` command ``argv`` (without ``--processes``) as ``n`` processes."""
    command = [sys.executable, "-c", "from degenet.cli import main; main()",
               *without_processes(argv)]
    return launch_local(n, command, timeout)


def without_processes(argv: list[str]) -> list[str]:
    """``argv`` less its ``--processes N`` (the children are the processes)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--processes":
            skip = True
        elif not arg.startswith("--processes="):
            out.append(arg)
    return out
