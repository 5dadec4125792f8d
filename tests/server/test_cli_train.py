"""``backprop-live train`` and ``backprop-live runs``: a run trained in a terminal is recorded in
the web app's database, listed by every page, read-only there, live while it trains, and
managed from the command line."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys

import pytest

from server.store import DATABASE, Store
from tests.live_server import LiveServer, Page, wait_until

pytestmark = pytest.mark.slow  # real server and training subprocesses
STEPS_PER_EPOCH_64 = -(-1437 // 64)  # 1,437 training digits in batches of 64


def cli(*argv, timeout=300):
    return subprocess.run([sys.executable, "-m", "server", *map(str, argv)],
                          capture_output=True, text=True, timeout=timeout, check=False)


def train_in_terminal(data_dir, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "server", "train", "--model", "mlp", "--batch-size", "64",
         "--width", "16", "--data-dir", str(data_dir), *map(str, extra)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One epoch trained from the terminal: (data dir, its JSON summary)."""
    data_dir = tmp_path_factory.mktemp("terminal")
    out = cli("train", "--model", "mlp", "--epochs", 1, "--batch-size", 64, "--width", 16,
              "--json", "--data-dir", data_dir)
    assert out.returncode == 0, out.stderr
    return data_dir, json.loads(out.stdout.strip().splitlines()[-1])


def test_a_terminal_run_is_recorded_in_the_database(trained):
    data_dir, summary = trained
    assert summary["epochs"] == 1 and summary["steps"] == STEPS_PER_EPOCH_64
    assert 0.5 < summary["test_accuracy"] <= 1.0  # one epoch of an MLP learns something
    store = Store(data_dir / DATABASE)
    run = store.run(summary["run_id"])
    assert run["origin"] == "terminal" and run["status"] == "completed"
    assert run["config"]["model"] == "mlp" and run["config"]["batch_size"] == 64
    assert run["summary"]["test_accuracy"] == summary["test_accuracy"]
    records = store.metrics(summary["run_id"])
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert [r["step"] for r in records if r["type"] == "step"] == list(
        range(1, STEPS_PER_EPOCH_64 + 1))
    assert records[-1]["type"] == "epoch"
    assert records[-1]["test_accuracy"] == summary["test_accuracy"]


def test_every_page_lists_it_and_only_the_command_line_changes_it(trained):
    from server.app import create_app

    data_dir, summary = trained
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    try:
        for _ in range(2):  # two browsers: two workspaces
            client = app.test_client()
            runs = client.get("/api/runs").get_json()["runs"]
            assert [(r["id"], r["origin"]) for r in runs] == [(summary["run_id"], "terminal")]
        run_url = f"/api/runs/{summary['run_id']}"
        assert client.get(run_url).get_json()["steps"] == STEPS_PER_EPOCH_64
        refused = client.patch(run_url, json={"name": "mine now"})
        assert refused.status_code == 403 and "backprop-live runs" in refused.get_json()[
            "error"]["message"]
        assert client.delete(run_url).status_code == 403
        assert client.get(run_url).get_json()["name"] != "mine now"
    finally:
        app.extensions["backprop_live"].shutdown()


def test_runs_list_show_and_export(trained):
    data_dir, summary = trained
    run_id = summary["run_id"]
    listed = cli("runs", "--data-dir", data_dir, "list")
    assert listed.returncode == 0 and run_id in listed.stdout and "terminal" in listed.stdout
    assert [r["id"] for r in json.loads(cli("runs", "--data-dir", data_dir, "list",
                                            "--json").stdout)] == [run_id]
    shown = json.loads(cli("runs", "--data-dir", data_dir, "show", run_id).stdout)
    assert shown["status"] == "completed" and shown["steps"] == STEPS_PER_EPOCH_64
    exported = cli("runs", "--data-dir", data_dir, "export", run_id)
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == STEPS_PER_EPOCH_64 + 1  # every step, then the epoch
    assert [r["type"] for r in rows].count("epoch") == 1
    lines = cli("runs", "--data-dir", data_dir, "export", run_id, "--format", "jsonl").stdout
    assert [json.loads(line)["seq"] for line in lines.splitlines()] == list(
        range(1, STEPS_PER_EPOCH_64 + 2))
    missing = cli("runs", "--data-dir", data_dir, "show", "r_nothing")
    assert missing.returncode == 2 and "no run 'r_nothing'" in missing.stderr


def test_runs_delete_removes_a_run(tmp_path):
    out = cli("train", "--model", "mlp", "--epochs", 1, "--batch-size", 256, "--width", 8,
              "--json", "--data-dir", tmp_path)
    run_id = json.loads(out.stdout.strip().splitlines()[-1])["run_id"]
    deleted = cli("runs", "--data-dir", tmp_path, "delete", run_id)
    assert deleted.returncode == 0, deleted.stderr
    assert Store(tmp_path / DATABASE).run(run_id) is None
    assert Store(tmp_path / DATABASE).metrics(run_id) == []


def test_bad_options_exit_2_without_a_traceback(tmp_path):
    out = cli("train", "--epochs", "0", "--data-dir", tmp_path)
    assert out.returncode == 2
    assert "epochs" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / DATABASE).exists()  # nothing recorded for a run that never began


def _first_run_id(data_dir):
    path = data_dir / DATABASE
    return path.exists() and next((r["id"] for r in Store(path).runs()), None)


def test_a_server_streams_a_terminal_run_live_exactly_once(tmp_path):
    with LiveServer(tmp_path) as server:
        training = train_in_terminal(tmp_path, "--epochs", 200)  # seconds: watched live
        try:
            run_id = wait_until(lambda: _first_run_id(tmp_path))
            page = Page(server.url).connect()
            try:
                watched = page.call("watch_run", {"run_id": run_id, "after": 0})
                assert watched["ok"] and watched["status"] == "running", watched
                page.wait_for(lambda events: any(n == "run_status" for n, _ in events))
                assert training.wait(timeout=120) == 0, training.stderr.read()
                status = next(d for n, d in page.events if n == "run_status")
                assert status["status"] == "completed"
                seqs = [r["seq"] for r in page.records()]
                stored = Store(tmp_path / DATABASE).metrics(run_id)
                assert seqs == [r["seq"] for r in stored]  # each once, in order, none missing
                assert len(stored) == 200 * STEPS_PER_EPOCH_64 + 200
                assert any(n == "run_metrics" for n, _ in page.events)  # it came live
            finally:
                page.close()
        finally:
            training.kill()
            training.wait()


def test_a_killed_terminal_run_is_marked_interrupted(tmp_path):
    with LiveServer(tmp_path) as server:
        training = train_in_terminal(tmp_path, "--epochs", 200)
        try:
            run_id = wait_until(lambda: _first_run_id(tmp_path))
            page = Page(server.url).connect()
            try:
                assert page.call("watch_run", {"run_id": run_id, "after": 0})["ok"]
                page.wait_for(lambda events: any(n == "run_metrics" for n, _ in events))
                os.killpg(training.pid, signal.SIGKILL)
                training.wait()
                page.wait_for(lambda events: any(n == "run_status" for n, _ in events))
                status = next(d for n, d in page.events if n == "run_status")
                assert status["status"] == "interrupted"
                stored = Store(tmp_path / DATABASE).metrics(run_id)
                assert [r["seq"] for r in page.records()] == [r["seq"] for r in stored]
            finally:
                page.close()
        finally:
            if training.poll() is None:
                training.kill()
                training.wait()


def test_ctrl_c_or_kill_stops_a_terminal_run_and_keeps_it(tmp_path):
    training = train_in_terminal(tmp_path, "--epochs", 500)
    try:
        run_id = wait_until(lambda: _first_run_id(tmp_path))
        store = Store(tmp_path / DATABASE)
        wait_until(lambda: store.metrics(run_id))  # it is training
        training.send_signal(signal.SIGTERM)
        assert training.wait(timeout=60) == 130
        assert "stopped; the run so far is kept as " + run_id in training.stderr.read()
        run = store.run(run_id)
        assert run["status"] == "stopped"
        steps = [r["step"] for r in store.metrics(run_id) if r["type"] == "step"]
        assert steps == list(range(1, len(steps) + 1)) and len(steps) == run["steps"]
        assert len(steps) < 500 * STEPS_PER_EPOCH_64
    finally:
        if training.poll() is None:
            training.kill()
            training.wait()
