"""A real Backprop Live server in a subprocess, for tests that need one (sockets, browsers).

It starts with port 0, waits for the "listening on http://host:port" line, and is stopped by
killing its whole process group (the server and any training workers it started).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

LISTENING = re.compile(r"listening on (http://[\d.]+:\d+)")


def stop_group(process: subprocess.Popen) -> None:
    """Kill a process started with ``start_new_session=True`` and everything in its group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


class LiveServer:
    def __init__(self, data_dir: Path, env: dict | None = None, timeout: float = 60,
                 args: tuple[str, ...] = (), host: str = "127.0.0.1",
                 command: tuple[str, ...] = (sys.executable, "-m", "server"),
                 cwd: Path | None = None):
        # command: how to run backprop-live (an installed one: its console script); cwd: where
        self.command, self.cwd = list(command), cwd
        self.data_dir = Path(data_dir)
        self.env = env
        self.args, self.host = list(args), host
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.output: list[str] = []

    def start(self) -> LiveServer:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(self.env or {})}
        self.process = subprocess.Popen(
            [*self.command, "serve", "--host", self.host, "--port", "0",
             "--data-dir", str(self.data_dir), *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            cwd=self.cwd, start_new_session=True)
        deadline = time.monotonic() + self.timeout
        for line in self.process.stdout:
            self.output.append(line)
            match = LISTENING.search(line)
            if match:
                # Bound to every interface, it is still only ever reached on loopback here.
                self.url = match.group(1).replace("://0.0.0.0:", "://127.0.0.1:")
                break
            if time.monotonic() > deadline:
                break
        if not self.url:
            self.stop()
            raise RuntimeError("the server did not start:\n" + "".join(self.output))
        # Keep draining its output so a chatty server never blocks on a full pipe.
        threading.Thread(target=lambda: self.output.extend(self.process.stdout),
                         daemon=True).start()
        return self

    def line_matching(self, pattern: str, timeout: float = 30) -> re.Match:
        """The first line the server printed that matches ``pattern`` (waiting for it)."""
        found = wait_until(lambda: next((m for m in map(re.compile(pattern).search,
                                                        list(self.output)) if m), None), timeout)
        return found

    def kill(self, sig=signal.SIGKILL) -> None:
        """Send ``sig`` to the server process only (a crash), not to its workers."""
        self.process.send_signal(sig)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Kill the process group: the server, and workers that outlived a killed server."""
        if self.process is not None:
            stop_group(self.process)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def ordered_client(**options):
    """A python-socketio client whose handlers see messages in the order they came off the wire.

    python-engineio's client runs each incoming message's handler on a thread of its own, so
    two messages can reach their handlers swapped; a page (one JavaScript thread) never sees
    that. Tests about order run the handlers on the reading thread instead. The handlers must
    not wait on the socket themselves.
    """
    import socketio

    client = socketio.Client(**options)
    dispatch = client.eio._trigger_event

    def in_order(event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return dispatch(event, *args, **kwargs)

    client.eio._trigger_event = in_order
    return client


class Page:
    """What a browser tab holds: a cookie (its workspace) and a socket."""

    def __init__(self, url: str, http: requests.Session | None = None):
        self.url = url
        self.http = http or requests.Session()
        self.http.get(url + "/api/examples", timeout=10)  # a workspace cookie
        self.events: list[tuple[str, dict]] = []
        self.arrived = threading.Condition()
        self.sio = ordered_client(reconnection=False)
        for name in ("trace_queued", "trace_start", "trace", "trace_done", "run_history",
                     "run_metrics", "run_status", "playground_frame", "playground_stopped"):
            self.sio.on(name, lambda data, name=name: self._arrive(name, data))

    def _arrive(self, name: str, data: dict) -> None:
        with self.arrived:
            self.events.append((name, data))
            self.arrived.notify_all()

    def wait_for(self, predicate, timeout: float = 120):
        """Wait until ``predicate(events)`` is true, woken by each message that arrives."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: predicate(self.events), timeout):
                raise AssertionError(f"timed out; events: {[n for n, _ in self.events][-20:]}")
        return predicate(self.events)

    def connect(self) -> Page:
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        self.sio.connect(self.url, headers={"Cookie": cookie}, transports=["websocket"],
                         wait_timeout=10)
        return self

    def call(self, event, data, timeout=60):
        return self.sio.call(event, data, timeout=timeout)

    def emit(self, event, data) -> list[dict]:
        """Send without waiting; the answer lands in the returned list and wakes ``wait_for``."""
        answers: list[dict] = []

        def answered(ack):
            with self.arrived:
                answers.append(ack)
                self.arrived.notify_all()
        self.sio.emit(event, data, callback=answered)
        return answers

    def records(self) -> list[dict]:
        """Every metrics record received, in the order it came."""
        return [r for name, data in list(self.events) if name in ("run_history", "run_metrics")
                for r in data["records"]]

    def close(self):
        self.sio.disconnect()


def wait_until(predicate, timeout=60, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out")
