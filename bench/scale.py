"""Simulated students against several process layouts, loopback only, bounded in count.

    python bench/scale.py [--students 12] [--rounds 2] [--layouts embedded,1x1,2x2,4x2]

A layout WxK is W web processes (``serve --jobs``) and K workers on one redis-server, over one
data dir's SQLite file (``--database postgresql://…`` for PostgreSQL); ``embedded`` is one
``serve`` as the README starts it. Each student, in a workspace of its own, on web process
``i % W``: connects, loads the reference graph, plays it (a whole trace), starts a short MLP
training and watches it to its end — ``--rounds`` times. Meanwhile a prober pings over Socket.IO
every 50 ms. Printed per layout: completed trainings per minute, p50/p99 of the ping and of
step-to-client latency (a record's wall clock at its step's end, in the worker, to its arrival
here: one clock, one machine), events lost (records stored but not received, or received twice),
and the CPU seconds each kind of process spent per training. Then, apart: the cost of one
published event on the message queue and of one stored step, against the embedded default's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo root, not bench/

import requests  # noqa: E402

from tests.cluster import Cluster, RedisServer  # noqa: E402
from tests.live_server import LiveServer, ordered_client  # noqa: E402

TRAINING = {"model": "mlp", "epochs": 1, "batch_size": 64, "width": 16}  # 23 steps, 1 epoch
GRAPH = "example:reference.expr"
BUDGETS = ("MAX_TRAINING_JOBS=1000", "MAX_TRAINING_PER_ADDRESS=1000",
           "MAX_NEW_WORKSPACES_PER_MINUTE=100000")  # every student is on 127.0.0.1
TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1e3 if values else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


class Student:
    def __init__(self, url: str, stats: dict):
        self.url, self.stats = url, stats
        self.http = requests.Session()
        self.http.get(url + "/api/examples", timeout=30)
        self.done = threading.Event()
        self.frames = 0
        self.records: list[dict] = []
        self.sio = ordered_client(reconnection=False)
        self.sio.on("trace", lambda frame: setattr(self, "frames", self.frames + 1))
        self.sio.on("run_history", self._records)
        self.sio.on("run_metrics", self._records)
        self.sio.on("run_status", lambda data: self.done.set())
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        self.sio.connect(url, headers={"Cookie": cookie}, transports=["websocket"],
                         wait_timeout=60)

    def _records(self, data):
        now = time.time()
        for record in data["records"]:
            self.records.append(record)
            if "time" in record:
                self.stats["step_latency"].append(now - record["time"])

    def round(self) -> None:
        assert self.sio.call("load_graph", {"graph": GRAPH}, timeout=120)["ok"]
        traced = self.sio.call("trace_graph", {"graph": GRAPH, "mode": "both"}, timeout=120)
        self.stats["traces"] += bool(traced.get("ok"))
        self.records, self.done = [], threading.Event()
        started = self.sio.call("train", TRAINING, timeout=120)
        if not started.get("ok"):
            self.stats["refused"].append(started.get("error"))
            return
        run_id = started["run_id"]
        self.sio.call("watch_run", {"run_id": run_id}, timeout=120)
        if not self.done.wait(600):
            self.stats["unfinished"] += 1
            return
        stored = self.http.get(f"{self.url}/api/runs/{run_id}/metrics.json", timeout=60).json()
        seqs = [r["seq"] for r in self.records]
        expected = [r["seq"] for r in stored["records"]]
        self.stats["lost"] += len(set(expected) - set(seqs)) + (len(seqs) - len(set(seqs)))
        self.stats["completed"] += 1
        self.stats["events"] += len(expected)

    def close(self):
        with contextlib.suppress(Exception):
            self.sio.disconnect()


def play(urls: list[str], students: int, rounds: int) -> dict:
    stats = {"ping": [], "step_latency": [], "traces": 0, "completed": 0, "lost": 0,
             "events": 0, "unfinished": 0, "refused": []}
    stop = threading.Event()

    def probe():
        prober = Student(urls[0], {"step_latency": []})
        while not stop.is_set():
            t = time.perf_counter()
            prober.sio.call("ping_server", {}, timeout=30)
            stats["ping"].append(time.perf_counter() - t)
            stop.wait(0.05)
        prober.close()

    crowd = [Student(urls[i % len(urls)], stats) for i in range(students)]
    prober = threading.Thread(target=probe)
    prober.start()
    started = time.perf_counter()

    def student_rounds(student):
        for _ in range(rounds):
            student.round()
    threads = [threading.Thread(target=student_rounds, args=(s,)) for s in crowd]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats["seconds"] = time.perf_counter() - started
    stop.set()
    prober.join()
    for student in crowd:
        student.close()
    return stats


def report(name: str, stats: dict, cpu: dict) -> None:
    per_minute = stats["completed"] / stats["seconds"] * 60
    print(f"{name:9s} {stats['completed']:3d} trainings in {stats['seconds']:6.1f} s = "
          f"{per_minute:6.1f}/min | ping p50 {percentile(stats['ping'], .5):6.1f} "
          f"p99 {percentile(stats['ping'], .99):7.1f} ms | step→client p50 "
          f"{percentile(stats['step_latency'], .5):6.1f} p99 "
          f"{percentile(stats['step_latency'], .99):7.1f} ms | lost {stats['lost']} of "
          f"{stats['events']} | unfinished {stats['unfinished']} refused "
          f"{len(stats['refused'])}")
    done = max(stats["completed"], 1)
    print("          CPU s per training: " + ", ".join(
        f"{kind} {seconds / done:.3f}" for kind, seconds in cpu.items()))


def on_layout(layout: str, folder: Path, budgets: tuple[str, ...], run,
              database: tuple[str, ...] = (), worker_args: tuple[str, ...] = ()):
    """``run(urls)`` against ``layout`` — "embedded" (one ``serve``) or "WxK" (W web processes,
    K workers, redis-server); returns what it returned and the CPU seconds each kind of process
    spent meanwhile."""
    sets = tuple(f"--set={b}" for b in budgets)
    if layout == "embedded":
        with LiveServer(folder, args=(*sets, *database)) as web:
            before = cpu_seconds(web.process.pid)
            stats = run([web.url])
            return stats, {"web+its workers": cpu_seconds(web.process.pid) - before}
    webs, workers = (int(n) for n in layout.split("x"))
    with Cluster(folder, webs=webs, workers=workers, heartbeat=10, settings=budgets,
                 web_args=database, worker_args=(*database, *worker_args)) as cluster:
        pids = {"web": [w.process.pid for w in cluster.webs],
                "worker": [w.pid for w in cluster.workers],
                "redis": [cluster.redis.process.pid]}
        before = {k: sum(map(cpu_seconds, v)) for k, v in pids.items()}
        stats = run([w.url for w in cluster.webs])
        return stats, {k: sum(map(cpu_seconds, v)) - before[k] for k, v in pids.items()}


def run_layout(layout: str, folder: Path, args) -> None:
    database = ("--database", args.database) if args.database else ()
    stats, cpu = on_layout(layout, folder, BUDGETS,
                           lambda urls: play(urls, args.students, args.rounds), database)
    report(layout, stats, cpu)


def event_costs(folder: Path, args) -> None:
    """One published event (a batch of records on the queue) and one stored step, measured
    here against the embedded default's local emit and SQLite insert."""
    from server.jobs.relay import RunRelay
    from server.store import Store

    record = {"type": "step", "step": 1, "epoch": 1, "loss": 2.3, "accuracy": 0.1,
              "grad_norms": {"fc1": 0.5, "fc2": 0.25}, "seconds": 0.01, "time": time.time()}
    n = 2000
    redis_server = RedisServer(folder / "redis").start()
    try:
        relay = RunRelay(redis_server.url, write_only=True)
        relay.emit("run_metrics", {"run_id": "r", "records": [record]}, room="run:r")  # connect
        t = time.perf_counter()
        for _ in range(n):
            relay.emit("run_metrics", {"run_id": "r", "records": [record]}, room="run:r")
        publish = (time.perf_counter() - t) / n
    finally:
        redis_server.stop()
    size = len(json.dumps({"run_id": "r", "records": [record]}))
    print(f"publish one event on Redis (a {size}-byte batch of one record): "
          f"{publish * 1e6:.0f} µs (the embedded default: no publish)")
    stores = [("SQLite", folder / "bench.sqlite3")]
    if args.database:
        stores.append(("PostgreSQL", args.database))
    for name, target in stores:
        store = Store(target)
        run_id = store.add_run("bench", "bench", {})
        for batch in (1, 10):
            t = time.perf_counter()
            for _ in range(n // batch):
                store.add_metrics(run_id, [record] * batch)
            per_step = (time.perf_counter() - t) / n
            print(f"store a step on {name}, in batches of {batch:2d}: "
                  f"{per_step * 1e6:6.0f} µs per step")
        store.delete_run_anywhere(run_id)
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--layouts", default="embedded,1x1,2x2,4x2")
    parser.add_argument("--database", default=None, help="a postgresql:// URL (default SQLite)")
    args = parser.parse_args()
    print(f"{args.students} students × {args.rounds} rounds (load + play the reference graph, "
          f"train {TRAINING}, watch it); {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        for layout in args.layouts.split(","):
            run_layout(layout, Path(folder) / layout, args)
        event_costs(Path(folder) / "costs", args)


if __name__ == "__main__":
    main()
