"""A process's link to the hub: joining, heartbeats, gathers, the last barrier, failures.

Why a watchdog of degenet's own (measured with jax 0.10.2 on CPU, gloo): a peer killed
mid-step makes the survivors' collective fail at once, but a peer that never starts makes
``jax.distributed.initialize`` abort the process (``LOG(FATAL)``, SIGABRT, no Python
exception) after its initialization timeout (300 s by default); a peer that leaves early
makes the others abort after the shutdown timeout, and a stopped one after the heartbeat
timeout. So the processes meet at the hub (:mod:`degenet.parallel.hub`) before JAX starts,
and stay connected: any failure reaches every process within the timeout, and each ends
with one line on stderr and exit status 1 (:func:`die`: ``os._exit``, so no interpreter
shutdown and no JAX shutdown barrier to hang in), after removing the folders it staged.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import threading
import time

from degenet.parallel.environment import ClusterSpec
from degenet.parallel.hub import BEAT, send

_STAGED: list[str] = []


def remove_on_failure(path: str) -> None:
    """Delete ``path`` (a folder being written) if this process is ended by :func:`die`."""
    _STAGED.append(os.fspath(path))


def die(message: str, code: int = 1) -> None:
    """``error: message`` on stderr and exit now with ``code``: no atexit, no JAX barrier."""
    try:
        for path in _STAGED:
            shutil.rmtree(path, ignore_errors=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(2, f"error: {message}\n".encode())
    finally:
        os._exit(code)


class Watchdog:
    """This process's connection to the hub; made before JAX is initialized.

    Connecting retries until the spec's timeout (the coordinator may still be starting);
    the constructor returns once every process has joined (the hub's ``go``).
    """

    def __init__(self, spec: ClusterSpec, token: str = ""):
        self.spec, self.timeout = spec, spec.timeout
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._inbox: dict = {}
        self._heard = time.monotonic()
        self._closing = False
        self._sock = self._connect(token)
        threading.Thread(target=self._read, daemon=True, name="degenet-watchdog").start()
        threading.Thread(target=self._beat, daemon=True, name="degenet-heartbeat").start()
        self._wait("go")

    def _connect(self, token: str) -> socket.socket:
        host = "127.0.0.1" if self.spec.rank == 0 else self.spec.host
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                sock = socket.create_connection((host, self.spec.hub_port), timeout=2.0)
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                send(sock, self._lock, {"hello": self.spec.rank, "world": self.spec.world,
                                        "token": token})
                return sock
            except OSError:
                if time.monotonic() > deadline:
                    die(f"process {self.spec.rank} of {self.spec.world} could not reach the "
                        f"coordinator (started by process 0) at {host}:{self.spec.hub_port} "
                        f"within {self.timeout:g} s; is process 0 running? (address from "
                        f"{self.spec.source})")
                time.sleep(0.2)

    def _read(self) -> None:
        stream = self._sock.makefile("r")
        try:
            for line in stream:
                message = json.loads(line)
                self._heard = time.monotonic()
                if "abort" in message:
                    die(message["abort"])
                with self._cond:
                    self._inbox.update({k: v for k, v in message.items() if k != "beat"})
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        if not self._closing:
            die(f"process {self.spec.rank} of {self.spec.world} lost the connection to the "
                "coordinator (started by process 0): it stopped or its machine is unreachable")

    def _beat(self) -> None:
        while not self._closing:
            try:
                send(self._sock, self._lock, {"beat": self.spec.rank})
            except OSError:
                return
            if time.monotonic() - self._heard > self.timeout and not self._closing:
                die(f"process {self.spec.rank} of {self.spec.world}: no word from the "
                    f"coordinator for {self.timeout:g} s; it is hung or unreachable")
            time.sleep(BEAT)

    def _wait(self, key: str):
        with self._cond:
            while key not in self._inbox:
                self._cond.wait()
            return self._inbox.pop(key)

    def allgather(self, value, tag: str) -> list:
        """Every process's JSON ``value``, in rank order (``tag`` names the exchange)."""
        send(self._sock, self._lock, {"gather": tag, "rank": self.spec.rank, "value": value})
        return self._wait(f"gathered:{tag}")

    def fail(self, message: str) -> None:
        """End the run because this process failed; every process says why, in one line.

        When a peer dies, a collective fails here at once, but the hub's word naming the
        peer arrives within moments and is the better message: wait for it first.
        """
        time.sleep(min(2.0, self.timeout))
        try:
            send(self._sock, self._lock, {"failed": self.spec.rank, "message": message})
        except OSError:
            pass
        time.sleep(1.0)  # the hub's abort, naming this process, ends it
        die(f"process {self.spec.rank} of {self.spec.world} failed: {message}")

    def finish(self) -> None:
        """The last barrier: return once every process is done, then stop watching."""
        send(self._sock, self._lock, {"done": self.spec.rank})
        self._wait("release")
        self._closing = True
