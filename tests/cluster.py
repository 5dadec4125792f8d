"""Several processes of one deployment, for tests and bench/scale.py: Debian's redis-server on a
free loopback port, web processes (``serve --jobs``) and ``backprop-live worker`` processes, each
in its own process group (stopped by it, never by name).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis

from tests.live_server import LiveServer, stop_group, wait_until

WORKER_READY = re.compile(r"Backprop Live worker (\S+) taking runs")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_server_binary() -> str:
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(found).exists():
        raise RuntimeError("redis-server is missing: bash scripts/setup.sh --test installs it")
    return found


class RedisServer:
    """redis-server on 127.0.0.1 and a free port, nothing saved to disk."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder),
             "--protected-mode", "yes"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        client = redis.Redis(port=self.port)

        def answers():
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited: " + self.process.stdout.read())
            with contextlib.suppress(redis.ConnectionError):
                return client.ping()
            return False
        wait_until(answers, timeout=30)
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)


class LiveWorker:
    """``backprop-live worker`` in a subprocess, ready once it says it takes runs."""

    def __init__(self, jobs: str, data_dir: Path, heartbeat: float, timeout: float = 60,
                 args: tuple[str, ...] = ()):
        self.command = [sys.executable, "-m", "server", "worker", "--jobs", jobs,
                        "--data-dir", str(data_dir),
                        "--set", f"JOB_HEARTBEAT_SECONDS={heartbeat}", *args]
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self.name = ""
        self.output: list[str] = []

    def start(self) -> LiveWorker:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                        start_new_session=True)
        deadline = time.monotonic() + self.timeout
        for line in self.process.stdout:
            self.output.append(line)
            match = WORKER_READY.search(line)
            if match:
                self.name = match.group(1)
                break
            if time.monotonic() > deadline:
                break
        if not self.name:
            self.stop()
            raise RuntimeError("the worker did not start:\n" + "".join(self.output))
        threading.Thread(target=lambda: self.output.extend(self.process.stdout),
                         daemon=True).start()
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)


class Cluster:
    """Redis, ``webs`` web processes and ``workers`` workers sharing one data dir."""

    def __init__(self, folder: Path, webs: int = 2, workers: int = 2, heartbeat: float = 2.0,
                 settings: tuple[str, ...] = (), web_args: tuple[str, ...] = (),
                 worker_args: tuple[str, ...] = (), env: dict | None = None,
                 database: str | None = None):
        self.folder = Path(folder)
        self.redis = RedisServer(self.folder / "redis")
        self.data_dir = self.folder / "data"
        self.heartbeat = heartbeat
        self.n_webs, self.n_workers, self.settings = webs, workers, settings
        self.web_args, self.worker_args, self.env = web_args, worker_args, env
        self.database = database  # a postgresql:// URL; None: the data dir's SQLite file
        self.webs: list[LiveServer] = []
        self.workers: list[LiveWorker] = []

    def start(self) -> Cluster:
        self.redis.start()
        try:
            for _ in range(self.n_webs):
                self.add_web()
            for _ in range(self.n_workers):
                self.add_worker()
        except BaseException:
            self.stop()
            raise
        return self

    def add_web(self) -> LiveServer:
        sets = [f"--set=JOB_HEARTBEAT_SECONDS={self.heartbeat}",
                *(f"--set={s}" for s in self.settings)]
        web = LiveServer(self.data_dir, env=self.env,
                         args=("--jobs", self.redis.url, *sets, *self._database(),
                               *self.web_args))
        self.webs.append(web)
        return web.start()

    def add_worker(self, args: tuple[str, ...] = ()) -> LiveWorker:
        worker = LiveWorker(self.redis.url, self.data_dir, self.heartbeat,
                            args=(*self._database(), *self.worker_args, *args))
        self.workers.append(worker)
        return worker.start()

    def _database(self) -> tuple[str, ...]:
        return ("--database", self.database) if self.database else ()

    def worker_of(self, run_id: str) -> LiveWorker:
        """The worker training ``run_id`` (RQ's registry of workers says which job each has)."""
        from rq import Worker

        connection = redis.Redis(port=self.redis.port)

        def find():
            for worker in Worker.all(connection=connection):
                if worker.get_current_job_id() == run_id:
                    return next((w for w in self.workers if w.name == worker.name), None)
            return None
        return wait_until(find, timeout=60)

    def stop(self) -> None:
        for process in [*self.webs, *self.workers]:
            process.stop()
        self.redis.stop()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
