"""A real server subprocess on a real PostgreSQL (``--database postgresql://…``): a graph played,
a training run streamed, and its metrics read back from PostgreSQL itself — the rows a page saw,
in order, nothing in the data dir but the secret; the settings reach it from a flag, the
environment and a config file; a bad or unreachable database stops it at start, named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from engine.formats import load
from server.store import DATABASE
from tests.live_server import LiveServer, Page
from tests.server.frames import decode

pytestmark = pytest.mark.slow  # real server and training subprocesses
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STEPS_PER_EPOCH_64 = -(-1437 // 64)  # 1,437 training digits in batches of 64


def rows(url: str, sql: str, params=()) -> list[dict]:
    """Read PostgreSQL directly, not through the store under test."""
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as db:
        return db.execute(sql, params).fetchall()


def train_and_watch(page: Page) -> tuple[str, list[dict], dict]:
    ack = page.call("train", {"model": "mlp", "epochs": 1, "batch_size": 64, "width": 16})
    assert ack["ok"], ack
    page.call("watch_run", {"run_id": ack["run_id"], "after": 0})
    page.wait_for(lambda events: any(n == "run_status" for n, _ in events))
    status = next(d for n, d in page.events if n == "run_status")
    return ack["run_id"], page.records(), status


def test_a_server_on_postgresql_plays_a_graph_and_stores_a_runs_metrics_there(
        tmp_path, new_postgres_database):
    url = new_postgres_database()
    with LiveServer(tmp_path, args=("--database", url)) as server:
        page = Page(server.url).connect()
        try:
            uploaded = page.http.post(server.url + "/api/graphs", timeout=30, json={
                "source": (EXAMPLES / "reference.expr").read_text(), "name": "mine"})
            assert uploaded.status_code == 201, uploaded.text
            graph_id = uploaded.json()["id"]
            ack = page.call("trace_graph", {"graph": graph_id, "mode": "forward"})
            assert ack["ok"], ack
            frames = [decode(d) for n, d in page.events if n == "trace"]
            run_id, seen, status = train_and_watch(page)
        finally:
            page.close()
    loaded = load((EXAMPLES / "reference.expr").read_bytes(), filename="reference.expr")
    loaded.compute()  # the oracle: the engine, in this process
    assert [v for f in frames for v in f["values"]] == pytest.approx(
        loaded.graph.program().values.tolist(), rel=1e-15)
    # What the page saw is what PostgreSQL holds: every record once, in order.
    stored = rows(url, "SELECT seq, data FROM metrics WHERE run_id = %s ORDER BY seq", (run_id,))
    assert [r["seq"] for r in stored] == list(range(1, len(stored) + 1))
    assert [{"seq": r["seq"], **json.loads(r["data"])} for r in stored] == seen
    assert [r["step"] for r in seen if r["type"] == "step"] == list(
        range(1, STEPS_PER_EPOCH_64 + 1))
    run = rows(url, "SELECT status, summary, workspace FROM runs WHERE id = %s", (run_id,))[0]
    assert status["status"] == run["status"] == "completed"
    assert json.loads(run["summary"])["test_accuracy"] == seen[-1]["test_accuracy"]
    graph = rows(url, "SELECT name, workspace FROM graphs WHERE id = %s", (graph_id,))[0]
    assert graph["name"] == "mine" and graph["workspace"] == run["workspace"]
    assert not (tmp_path / DATABASE).exists()  # nothing of it in the data dir's SQLite file


def test_the_database_setting_reaches_the_server_from_the_environment_and_a_config_file(
        tmp_path, new_postgres_database):
    """Started from the environment, then again (the same data dir, so the same browser's
    workspace) from a config file: the second sees the first's run, kept in PostgreSQL."""
    url = new_postgres_database()
    page = None
    with LiveServer(tmp_path, env={"BACKPROP_LIVE_DATABASE": url}) as first:
        page = Page(first.url).connect()
        run_id, seen, _ = train_and_watch(page)
        page.close()
    config = tmp_path / "backprop-live.toml"
    config.write_text(f'database = "{url}"\nmax_training_jobs = 3\n')
    with LiveServer(tmp_path, args=("--config", str(config))) as second:
        listed = page.http.get(second.url + "/api/runs", timeout=10).json()["runs"]
        assert [r["id"] for r in listed] == [run_id]
        metrics = page.http.get(f"{second.url}/api/runs/{run_id}", timeout=10).json()["metrics"]
        assert metrics == seen


def serve(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", "serve", "--port", "0", *argv],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("argv, says", [
    (["--database", "mysql://admin:hunter2@db/x"],
     "DATABASE (from --database) must be a postgresql://"),
    (["--database", "postgresql://admin:hunter2@127.0.0.1:1/x?connect_timeout=3"],
     "cannot be reached"),
])
def test_a_bad_or_unreachable_database_stops_the_server_at_start_naming_it(tmp_path, argv, says):
    ended = serve("--data-dir", str(tmp_path), *argv)
    assert ended.returncode == 2
    assert says in ended.stderr and "hunter2" not in ended.stderr + ended.stdout


def test_a_terminal_run_goes_to_postgresql_and_runs_lists_it(tmp_path, new_postgres_database):
    url = new_postgres_database()
    trained = subprocess.run(
        [sys.executable, "-m", "server", "train", "--model", "mlp", "--epochs", "1",
         "--batch-size", "64", "--width", "16", "--json", "--database", url,
         "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    summary = json.loads(trained.stdout.strip().splitlines()[-1])
    listed = subprocess.run([sys.executable, "-m", "server", "runs", "--database", url, "list",
                             "--json"], capture_output=True, text=True, timeout=60)
    assert [r["id"] for r in json.loads(listed.stdout)] == [summary["run_id"]]
    steps = rows(url, "SELECT COUNT(*) AS n FROM metrics WHERE run_id = %s AND type = 'step'",
                 (summary["run_id"],))[0]["n"]
    assert steps == summary["steps"] == STEPS_PER_EPOCH_64
    assert not (tmp_path / DATABASE).exists()
