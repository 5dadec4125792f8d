"""Playground players against several process layouts: the turns of every playing exercise in
the web process (the embedded default) or on the workers (``--jobs``), loopback only.

    python bench/scale_playground.py [--players 8] [--seconds 10] [--layouts embedded,1x1,1x2,2x2]

Each player, in a workspace of its own on web process ``i % W``, starts the default exercise
(circle, 4-2 tanh), plays it for ``--seconds`` and pauses it. Printed per layout: SGD steps a
second in all (the throughput: it grows with the cores that compute turns), frames a second per
player, p50/p99 of a frame's latency (its turn's last step, on the server, to its arrival here:
one clock, one machine), the CPU seconds each kind of process spent, and whether every player's
parameters at its pause are the engine's own run of that many steps (turns moving from worker to
worker must lose nothing).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo root, not bench/

import numpy as np  # noqa: E402
import requests  # noqa: E402

from bench.scale import on_layout, percentile  # noqa: E402
from engine.playground import Playground, PlaygroundConfig  # noqa: E402
from tests.live_server import ordered_client  # noqa: E402

CONFIG = {"dataset": "circle", "seed": 1, "hidden": [4, 2], "lr": 0.03, "batch_size": 10}
BUDGETS = ("MAX_NEW_WORKSPACES_PER_MINUTE=100000",)


class Player:
    def __init__(self, url: str):
        self.http = requests.Session()
        self.http.get(url + "/api/examples", timeout=30)
        self.latency: list[float] = []
        self.frames = 0
        self.sio = ordered_client(reconnection=False)
        self.sio.on("playground_frame", self._frame)
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        self.sio.connect(url, headers={"Cookie": cookie}, transports=["websocket"],
                         wait_timeout=60)

    def _frame(self, frame: dict) -> None:
        self.frames += 1
        self.latency.append(time.time() - frame["stepped_at"] / 1000)

    def play(self, seconds: float, stop: threading.Event) -> dict:
        assert self.sio.call("playground_start", {"config": CONFIG}, timeout=60)["ok"]
        assert self.sio.call("playground_play", {}, timeout=60)["ok"]
        stop.wait(seconds)
        return self.sio.call("playground_pause", {}, timeout=60)["frame"]


def exact(frame: dict) -> bool:
    mine = Playground(PlaygroundConfig(**{**CONFIG, "hidden": tuple(CONFIG["hidden"])}))
    for _ in range(frame["step"]):
        mine.step()
    return bool(np.array_equal(np.frombuffer(frame["params"], "<f8"), mine.params))


def run(urls: list[str], players: int, seconds: float) -> dict:
    crowd = [Player(urls[i % len(urls)]) for i in range(players)]
    last: list[dict] = [{}] * players
    stop = threading.Event()

    def one(k: int) -> None:
        last[k] = crowd[k].play(seconds, stop)
    threads = [threading.Thread(target=one, args=(k,)) for k in range(players)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    for player in crowd:
        player.sio.disconnect()
    return {"steps": sum(f["step"] for f in last), "seconds": elapsed,
            "frames": [p.frames / elapsed for p in crowd],
            "latency": [x for p in crowd for x in p.latency],
            "exact": sum(exact(f) for f in last), "players": players}


def report(name: str, stats: dict, cpu: dict) -> None:
    per_player = np.median(stats["frames"])
    print(f"{name:9s} {stats['steps'] / stats['seconds']:8.0f} steps/s in all | "
          f"{per_player:5.1f} frames/s per player (median) | frame latency p50 "
          f"{percentile(stats['latency'], .5):6.1f} p99 {percentile(stats['latency'], .99):7.1f}"
          f" ms | exact {stats['exact']}/{stats['players']} | CPU s: " + ", ".join(
              f"{kind} {seconds:.1f}" for kind, seconds in cpu.items()))


def run_layout(layout: str, folder: Path, args) -> None:
    stats, cpu = on_layout(layout, folder, BUDGETS,
                           lambda urls: run(urls, args.players, args.seconds),
                           worker_args=("--graphs-only",))
    report(layout, stats, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--layouts", default="embedded,1x1,1x2,2x2")
    args = parser.parse_args()
    print(f"{args.players} players × {args.seconds:g} s of {CONFIG}; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        for layout in args.layouts.split(","):
            run_layout(layout, Path(folder) / layout, args)


if __name__ == "__main__":
    main()
