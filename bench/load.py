"""Load on a real server, loopback only, bounded in count and time.

    python bench/load.py [--clients 50] [--resnet-clients 5]

Starts the server in a subprocess, starts one ResNet training job, then at once: ``--clients``
Socket.IO clients each run the reference expression's trace, ``--resnet-clients`` run the full
ResNet trace (~36,000 nodes), while a prober measures the round trip of an HTTP request and of a
Socket.IO event every 20 ms. Prints p50 / p99 latencies and checks that every client received
every frame of its trace (nothing lost, nothing twice).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo root, not bench/

import requests  # noqa: E402

from tests.live_server import LiveServer, ordered_client  # noqa: E402
from tests.server.frames import decode  # noqa: E402


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1e3 if values else float("nan")


def connect(url, cookie):
    client = ordered_client(reconnection=False)  # frames in wire order, as a page sees them
    frames = []
    client.on("trace", frames.append)
    client.connect(url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=30)
    return client, frames


def run_client(url, cookie, graph, results, index):
    """One page: connect, run a trace, check it whole."""
    client, frames = connect(url, cookie)
    try:
        start = time.perf_counter()
        ack = client.call("trace_graph", {"graph": graph, "mode": "both"}, timeout=120)
        latency = time.perf_counter() - start
        time.sleep(0.1)
        frames = [decode(f) for f in frames]
        forward = [i for f in frames if f["phase"] == "forward" for i in f["ids"]]
        backward = [i for f in frames if f["phase"] == "backward" for i in f["ids"]]
        whole = (ack.get("ok") and forward == list(range(ack["nodes"]))
                 and sorted(backward) == list(range(ack["nodes"])))
        results[index] = (graph, latency, bool(whole), ack.get("error"))
    finally:
        client.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--resnet-clients", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, LiveServer(Path(data_dir)) as server:
        # One workspace per client would hit MAX_JOBS_PER_WORKSPACE by design; a classroom is
        # many workspaces, so each client gets its own cookie.
        def cookie():
            session = requests.Session()
            session.get(server.url + "/api/examples", timeout=10)  # a workspace cookie
            return "; ".join(f"{k}={v}" for k, v in session.cookies.items())

        trainer, _ = connect(server.url, cookie())
        run = trainer.call("train", {"model": "resnet", "epochs": 500})  # outlasts the bench
        assert run["ok"], run
        warm, _ = connect(server.url, cookie())
        warm.call("load_graph", {"graph": "model:resnet"}, timeout=120)
        warm.disconnect()

        http_times, socket_times = [], []
        stop = threading.Event()

        def probe():
            prober, _ = connect(server.url, cookie())
            while not stop.is_set():
                t = time.perf_counter()
                requests.get(server.url + "/healthz", timeout=10)
                http_times.append(time.perf_counter() - t)
                t = time.perf_counter()
                prober.call("ping_server", {}, timeout=10)
                socket_times.append(time.perf_counter() - t)
                time.sleep(0.02)
            prober.disconnect()

        # Phase 1: the training job alone — the event loop's latency while a job trains.
        prober = threading.Thread(target=probe)
        prober.start()
        time.sleep(5)
        stop.set()
        prober.join()
        idle_http, idle_socket = list(http_times), list(socket_times)
        http_times.clear()
        socket_times.clear()
        stop.clear()

        # Phase 2: every client at once, still training.
        graphs = ["example:reference.expr"] * args.clients + ["model:resnet"] * args.resnet_clients
        results = [None] * len(graphs)
        prober = threading.Thread(target=probe)
        prober.start()
        time.sleep(0.5)
        threads = [threading.Thread(target=run_client, args=(server.url, cookie(), g, results, i))
                   for i, g in enumerate(graphs)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        elapsed = time.perf_counter() - started
        stop.set()
        prober.join()
        status = requests.get(server.url + "/healthz", timeout=10).json()
        trainer.call("stop_run", {"run_id": run["run_id"]})
        trainer.disconnect()

    print("while one ResNet training job runs (no other load):")
    print(f"  HTTP /healthz:                  p50 {percentile(idle_http, .5):6.1f} ms  "
          f"p99 {percentile(idle_http, .99):6.1f} ms  ({len(idle_http)} requests) "
          "[target p99 < 100 ms]")
    print(f"  Socket.IO ping:                 p50 {percentile(idle_socket, .5):6.1f} ms  "
          f"p99 {percentile(idle_socket, .99):6.1f} ms  ({len(idle_socket)} round trips)")
    print(f"{args.clients} reference clients + {args.resnet_clients} ResNet clients, "
          f"one training job running (still training at the end: {status['training'] == 1}); "
          f"all traces done in {elapsed:.1f} s")
    for graph in sorted(set(graphs)):
        mine = [r for r in results if r and r[0] == graph]
        latencies = [r[1] for r in mine]
        complete = sum(r[2] for r in mine)
        errors = {str(r[3]) for r in mine if r[3]}
        print(f"  {graph:24s} trace_graph ack p50 {percentile(latencies, .5):7.1f} ms  "
              f"p99 {percentile(latencies, .99):7.1f} ms  complete traces {complete}/"
              f"{graphs.count(graph)}"
              + (f"  errors: {errors}" if errors else ""))
    print(f"  HTTP /healthz while loaded:     p50 {percentile(http_times, .5):6.1f} ms  "
          f"p99 {percentile(http_times, .99):6.1f} ms  ({len(http_times)} requests)")
    print(f"  Socket.IO ping while loaded:    p50 {percentile(socket_times, .5):6.1f} ms  "
          f"p99 {percentile(socket_times, .99):6.1f} ms  ({len(socket_times)} round trips)")
    lost = sum(1 for r in results if not r or not r[2])
    print(f"  traces incomplete or lost: {lost}")


if __name__ == "__main__":
    main()
