"""The hub: where the processes of a run meet, exchange small values, and learn of failures.

A small TCP server in the coordinator process (:mod:`degenet.parallel.coordinator`), on the
coordinator's port + 1. Messages are newline-delimited JSON. Each process says ``hello``
(its rank, the run's size and token), then sends a heartbeat every :data:`BEAT` seconds;
once all have joined the hub says ``go``. It relays gathers (every process's JSON value, in
rank order), the last barrier (``done`` from all, then ``release``) and failures: a process
that does not join within the timeout, whose connection closes before it is done, that is
silent for the timeout, or that reports a failure ends the run: every process is told to
``abort`` with one line naming the process and why, and the hub exits.

It is pure Python (socket, threading, json): it listens within a fraction of a second of
starting, while importing JAX took up to 10 s on a loaded machine.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time

BEAT = 1.0  # seconds between heartbeats


def send(sock: socket.socket, lock: threading.Lock, message: dict) -> None:
    """One JSON message on ``sock`` (``lock`` keeps concurrent senders' lines whole)."""
    data = (json.dumps(message) + "\n").encode()
    with lock:
        sock.sendall(data)


class Hub:
    """The hub's server for a run of ``world`` processes (see the module's text).

    Parameters
    ----------
    port : int
        Listens on every interface at this port.
    world : int
    timeout : float
        Seconds for every process to join, and of silence before a process is dead.
    token : str
        The run's token: a hello with another token is a process of another run.
    """

    def __init__(self, port: int, world: int, timeout: float, token: str = ""):
        self.world, self.timeout, self.token = world, timeout, token
        self._server = socket.create_server(("", port))
        self._clients: dict[int, tuple[socket.socket, threading.Lock]] = {}
        self._readers: dict = {}
        self._heard: dict[int, float] = {}
        self._gathers: dict[str, dict] = {}
        self._done: set[int] = set()
        self._closed: set[int] = set()
        self._state = threading.Lock()
        self._aborting = threading.Lock()
        self._closing = False
        threading.Thread(target=self._accept, daemon=True, name="degenet-hub").start()
        threading.Thread(target=self._watch, daemon=True, name="degenet-hub-watch").start()

    def _accept(self) -> None:
        deadline = time.monotonic() + self.timeout
        self._server.settimeout(0.5)
        while len(self._clients) < self.world:
            if time.monotonic() > deadline:
                missing = sorted(set(range(self.world)) - set(self._clients))
                self.abort(f"process(es) {', '.join(map(str, missing))} of {self.world} did "
                           f"not join within {self.timeout:g} s")
            try:
                sock, _ = self._server.accept()
            except TimeoutError:
                continue
            sock.settimeout(5.0)
            reader = sock.makefile("r")
            try:
                hello = json.loads(reader.readline() or "{}")
            except (OSError, ValueError):
                sock.close()  # not one of ours (a port scanner, a health check)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            rank = hello.get("hello")
            if (not isinstance(rank, int) or hello.get("world") != self.world
                    or hello.get("token", "") != self.token or rank in self._clients):
                self.abort(f"a process joined as {hello} but this run has {self.world} "
                           "processes; are two runs sharing a port?")
            with self._state:
                self._clients[rank] = (sock, threading.Lock())
                self._readers[rank] = reader
        for rank in self._clients:
            self._heard[rank] = time.monotonic()
            threading.Thread(target=self._serve, args=(rank,), daemon=True).start()
        self._broadcast({"go": True})

    def _serve(self, rank: int) -> None:
        try:
            for line in self._readers[rank]:
                message = json.loads(line)
                self._heard[rank] = time.monotonic()
                if "failed" in message:
                    self.abort(f"process {rank} of {self.world} failed: {message['message']}")
                elif "gather" in message:
                    self._gather(message)
                elif "done" in message:
                    self._finish(rank)
        except (OSError, ValueError):
            pass
        self._closed.add(rank)
        if not self._closing and rank not in self._done:
            self.abort(f"process {rank} of {self.world} exited unexpectedly (its connection "
                       "closed): killed, crashed or out of memory")

    def _gather(self, message: dict) -> None:
        with self._state:
            values = self._gathers.setdefault(message["gather"], {})
            values[message["rank"]] = message["value"]
            if len(values) < self.world:
                return
            del self._gathers[message["gather"]]
        self._broadcast({f"gathered:{message['gather']}": [values[r] for r in range(self.world)]})

    def _finish(self, rank: int) -> None:
        with self._state:
            self._done.add(rank)
            if len(self._done) < self.world:
                return
            self._closing = True
        self._broadcast({"release": True})

    def _watch(self) -> None:
        while not self._closing:
            time.sleep(BEAT)
            self._broadcast({"beat": 0})
            now = time.monotonic()
            for rank, heard in list(self._heard.items()):
                if now - heard > self.timeout and not self._closing:
                    self.abort(f"process {rank} of {self.world} sent no heartbeat for "
                               f"{self.timeout:g} s; it is hung or its machine is unreachable")

    def _broadcast(self, message: dict) -> None:
        for sock, lock in list(self._clients.values()):
            try:
                send(sock, lock, message)
            except OSError:
                pass

    def abort(self, message: str) -> None:
        """Tell every process to stop with ``message``, give them 2 s to go, then exit.

        The coordinator process also hosts JAX's coordination service: leaving before the
        workers would make their JAX clients abort with a stack trace instead of our line.
        """
        if not self._aborting.acquire(blocking=False):
            time.sleep(3600)  # another thread is already ending this process
        self._closing = True
        self._broadcast({"abort": message})
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not set(self._clients) <= self._closed:
            time.sleep(0.01)
        os._exit(1)

    def wait_closed(self) -> None:
        """Return once every process has joined and then disconnected."""
        while len(self._closed) < self.world:
            time.sleep(0.1)
