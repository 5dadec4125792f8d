"""A real server in a subprocess, real Socket.IO clients over websocket: what a page lives on."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests

from engine.formats import load
from tests.live_server import LiveServer, Page, wait_until
from tests.server.frames import decode

pytestmark = pytest.mark.slow  # real server and training subprocesses
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("live")) as live:
        yield live


def test_reference_trace_arrives_exactly_once_in_order_with_the_engines_values(server):
    page = Page(server.url).connect()
    try:
        ack = page.call("trace_graph", {"graph": "example:reference.expr", "mode": "both"})
        assert ack["ok"]
        frames = [decode(data) for name, data in page.events if name == "trace"]
    finally:
        page.close()
    # The same file loaded here, in this process: the oracle for every value and gradient.
    loaded = load((EXAMPLES / "reference.expr").read_bytes(), filename="reference.expr")
    loaded.compute()
    program = loaded.graph.program()
    order = [i for f in frames if f["phase"] == "forward" for i in f["ids"]]
    assert order == list(range(len(program.nodes)))  # every node once, in engine order
    values = [v for f in frames if f["phase"] == "forward" for v in f["values"]]
    assert values == pytest.approx(program.values.tolist(), rel=1e-15)
    backward = [f for f in frames if f["phase"] == "backward"]
    grads = {i: g for f in backward for i, g in zip(f["ids"], f["grads"], strict=True)}
    assert sorted(grads) == list(range(len(program.nodes)))
    assert [grads[i] for i in range(len(program.nodes))] == pytest.approx(
        program.grads.tolist(), rel=1e-15)
    edges = [(p, c) for f in backward for p, c in zip(f["edges"]["parent"], f["edges"]["child"],
                                                      strict=True)]
    assert sorted(edges) == sorted(zip(program.edge_parent.tolist(),
                                       program.edge_child.tolist(), strict=True))


def test_mlp_epoch_streams_every_step(server):
    page = Page(server.url).connect()
    try:
        ack = page.call("train", {"model": "mlp", "epochs": 1, "batch_size": 64, "width": 16})
        assert ack["ok"]
        page.call("watch_run", {"run_id": ack["run_id"], "after": 0})
        wait_until(lambda: any(n == "run_status" for n, _ in page.events))
        records = page.records()
    finally:
        page.close()
    steps = [r["step"] for r in records if r["type"] == "step"]
    assert steps == list(range(1, -(-1437 // 64) + 1))
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    status = [d for n, d in page.events if n == "run_status"][0]
    assert status["status"] == "completed"
    assert status["summary"]["test_accuracy"] == records[-1]["test_accuracy"]


def test_late_joiner_gets_history_then_the_live_tail_without_gap(server):
    first = Page(server.url).connect()
    second = Page(server.url, http=first.http)  # the same workspace, another tab
    try:
        ack = first.call("train", {"model": "resnet", "epochs": 2, "batch_size": 16,
                                   "width": 32})
        first.call("watch_run", {"run_id": ack["run_id"], "after": 0})
        wait_until(lambda: len(first.records()) >= 20)
        second.connect()
        second.call("watch_run", {"run_id": ack["run_id"], "after": 0})
        joined_at = len(first.records())
        for page in (first, second):
            wait_until(lambda page=page: any(n == "run_status" for n, _ in page.events),
                       timeout=120)
        a, b = first.records(), second.records()
    finally:
        first.close()
        second.close()
    assert [r["seq"] for r in b] == list(range(1, len(b) + 1))  # no gap, no duplicate
    assert a == b
    assert joined_at < len(b)  # it really joined mid-run
    history = [d for n, d in second.events if n == "run_history"][0]
    assert len(history["records"]) >= 20


def test_disconnect_cancels_traces_within_a_second(server):
    page = Page(server.url).connect()
    assert page.call("load_graph", {"graph": "model:resnet"})["ok"]  # warm the cache
    started = threading.Event()
    page.sio.on("trace_start", lambda data: started.set())
    page.sio.emit("trace_graph", {"graph": "model:resnet", "mode": "both"})
    assert started.wait(60)
    page.sio.disconnect()
    gone = time.monotonic()
    wait_until(lambda: requests.get(server.url + "/healthz", timeout=5).json()["traces"]
               == 0, timeout=10)
    assert time.monotonic() - gone < 1.0


def test_kill_9_during_training_leaves_an_interrupted_run_with_its_metrics(tmp_path):
    http = requests.Session()
    with LiveServer(tmp_path) as live:
        page = Page(live.url, http=http).connect()
        ack = page.call("train", {"model": "resnet", "epochs": 20, "batch_size": 16,
                                  "width": 32})
        page.call("watch_run", {"run_id": ack["run_id"], "after": 0})
        wait_until(lambda: len(page.records()) >= 10)
        group = os.getpgid(live.process.pid)
        live.kill()  # SIGKILL to the server alone, mid-run
        received = len(page.records())
        # its worker notices the closed pipe and exits: nothing is left writing
        wait_until(lambda: _group_gone(group), timeout=15)
    with LiveServer(tmp_path) as again:
        runs = http.get(again.url + "/api/runs", timeout=10).json()["runs"]
        run = next(r for r in runs if r["id"] == ack["run_id"])
        assert run["status"] == "interrupted"
        metrics = http.get(f"{again.url}/api/runs/{run['id']}", timeout=10).json()["metrics"]
        assert [m["seq"] for m in metrics] == list(range(1, len(metrics) + 1))
        assert len(metrics) >= received  # everything a page saw was stored first
        assert run["steps"] == sum(m["type"] == "step" for m in metrics)
    db = sqlite3.connect(tmp_path / "backprop-live.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def _group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def test_training_outlives_its_page_and_can_be_watched_again(server):
    page = Page(server.url).connect()
    ack = page.call("train", {"model": "resnet", "epochs": 1, "batch_size": 16, "width": 32})
    page.close()  # the tab closes right after pressing Train
    again = Page(server.url, http=page.http).connect()  # same browser, later
    try:
        watched = again.call("watch_run", {"run_id": ack["run_id"], "after": 0})
        if watched["status"] == "running":  # else it already finished: the history is all
            wait_until(lambda: any(n == "run_status" for n, _ in again.events), timeout=120)
        records = again.records()
    finally:
        again.close()
    status = [d for n, d in again.events if n == "run_status"]
    history = [d for n, d in again.events if n == "run_history"]
    assert (status[0]["status"] if status else history[0]["status"]) == "completed"
    assert [r["seq"] for r in records] == list(range(1, -(-1437 // 16) + 2))
