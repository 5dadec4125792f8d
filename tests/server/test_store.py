"""The store on both its databases — SQLite (the default) and a real PostgreSQL — each test run on
each: versioned migrations, portable types, writers from several processes at once, workspace
isolation; then what only a database server does (lost connections, shared runs)."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import server.store
from server.store import MIGRATIONS, TERMINAL, QuotaError, StorageError, Store

STEP = {"type": "step", "epoch": 1, "loss": 0.5}


def in_threads(*targets):
    """Run the targets at once (each in a thread, released together); their errors raised."""
    start, errors = threading.Barrier(len(targets)), []

    def run(target):
        start.wait()
        try:
            target()
        except Exception as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_reopening_keeps_the_data_and_the_schema_version(database):
    location = database()
    store = Store(location)
    run_id = store.add_run("ws", "kept", {"model": "mlp"})
    store.add_metrics(run_id, [{**STEP, "step": k} for k in (1, 2)])
    store.finish_run(run_id, "completed", {"test_accuracy": 0.75})
    store.close()
    again = Store(location)
    assert again.migrate() == len(MIGRATIONS)
    run = again.run(run_id, "ws")
    assert (run["name"], run["status"], run["steps"], run["summary"]) == (
        "kept", "completed", 2, {"test_accuracy": 0.75})
    assert [r["step"] for r in again.metrics(run_id)] == [1, 2]
    assert again.integrity_check() == "ok"
    again.close()


def test_a_migration_in_portable_sql_keeps_each_type_exactly(database, monkeypatch):
    """What another helper's migration may use: INTEGER (beyond 32 bits), REAL (a time needs all
    of a double's 53 bits; PostgreSQL's REAL has 24), TEXT, BLOB and an INTEGER PRIMARY KEY that
    numbers rows by itself."""
    monkeypatch.setattr(server.store, "MIGRATIONS", [*MIGRATIONS, """
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            big INTEGER NOT NULL,
            at REAL NOT NULL,       -- a REAL comment that names INTEGER and BLOB
            body TEXT NOT NULL DEFAULT 'REAL text',
            raw BLOB
        );
    """])
    store = Store(database())
    now, big, body, raw = time.time(), 2**53 + 1, "∂L/∂w — naïve", bytes(range(256))
    store._write([("INSERT INTO notes (big, at, body, raw) VALUES (?, ?, ?, ?)",
                   (big, now, body, raw)), ("INSERT INTO notes (big, at) VALUES (?, ?)",
                                            (1, math.pi))])
    rows = [dict(r) for r in store._read("SELECT * FROM notes ORDER BY id")]
    assert [r["id"] for r in rows] == [1, 2]
    assert (rows[0]["big"], rows[0]["at"], rows[0]["body"], bytes(rows[0]["raw"])) == (
        big, now, body, raw)
    assert (rows[1]["at"], rows[1]["body"], rows[1]["raw"]) == (math.pi, "REAL text", None)
    store.close()


def test_two_processes_appending_to_one_run_get_consecutive_seqs(database):
    """A worker and a web process (two connections) append to one run at once: every record
    gets a seq, 1..n without a gap or a repeat, each batch's consecutive."""
    location = database()
    first, second = Store(location), Store(location)
    run_id = first.add_run("ws", "shared", {"model": "mlp"})
    batches: list[list[int]] = []

    def append(store, tag):
        for k in range(40):
            batches.append(store.add_metrics(run_id, [{**STEP, "step": k, "by": tag}] * 3))
    in_threads(lambda: append(first, "a"), lambda: append(second, "b"))
    assert sorted(s for batch in batches for s in batch) == list(range(1, 241))
    assert all(batch == list(range(batch[0], batch[0] + 3)) for batch in batches)
    assert [r["seq"] for r in first.metrics(run_id)] == list(range(1, 241))
    first.close()
    second.close()


def test_a_workspace_quota_holds_when_two_processes_add_at_once(database):
    location = database()
    stores = [Store(location), Store(location)]
    refused = []

    def add(store):
        for k in range(12):
            try:
                store.add_graph("ws", f"g{k}", "expr", "x = input(1)\noutput x\n", 1,
                                max_graphs=10)
            except QuotaError:
                refused.append(k)
    in_threads(*(lambda s=s: add(s) for s in stores))
    assert len(stores[0].graphs("ws")) == 10 and len(refused) == 14
    for store in stores:
        store.close()


def test_processes_starting_on_a_new_database_at_once_migrate_it_once(database):
    location = database()
    opened: list[Store] = []
    in_threads(*(lambda: opened.append(Store(location)) for _ in range(4)))
    assert len(opened) == 4
    opened[0].add_run("ws", "after", {"model": "mlp"})  # the tables exist, once each
    assert [r["name"] for r in opened[3].runs("ws")] == ["after"]
    for store in opened:
        store.close()


def test_a_workspace_sees_nothing_of_another(database):
    store = Store(database())
    graph_id = store.add_graph("mine", "g", "expr", "x = input(1)\noutput x\n", 1)
    run_id = store.add_run("mine", "r", {"model": "mlp"})
    terminal_run = store.add_run(TERMINAL, "t", {"model": "mlp"}, owner="host:1")
    assert store.graph(graph_id, "other") is None and store.graphs("other") == []
    assert [r["id"] for r in store.runs("other")] == [terminal_run]  # the terminal's: everyone's
    assert store.run(run_id, "other") is None
    assert not store.delete_graph(graph_id, "other") and not store.delete_run(run_id, "other")
    assert not store.rename_run(run_id, "other", "taken")
    assert store.share("graphs", graph_id, "other") is None
    assert store.graph(graph_id, "mine")["name"] == "g" and store.run(run_id, "mine")["name"] == "r"
    store.close()


def test_metrics_are_read_in_pages_and_ranges(database):
    store = Store(database())
    run_id = store.add_run("ws", "long", {"model": "mlp"})
    for start in range(0, 50, 10):
        store.add_metrics(run_id, [{**STEP, "step": k} for k in range(start, start + 10)])
    pages = list(store.metric_pages(run_id, after=3, page=7))
    assert [len(p) for p in pages] == [7] * 6 + [5]
    assert [r["step"] for p in pages for r in p] == list(range(3, 50))
    assert [r["seq"] for r in store.metrics(run_id, after=10, upto=14)] == [11, 12, 13, 14]
    assert store.last_seq(run_id) == 50
    store.close()


def test_a_nul_character_is_kept_by_sqlite_and_refused_by_postgresql_by_name(
        make_app, database_kind):
    app = make_app()
    client = app.test_client()
    client.get("/api/examples")
    answer = client.post("/api/graphs", json={"source": "x = input(2)\n# a\x00b\noutput x\n"})
    if database_kind == "sqlite":
        assert answer.status_code == 201
        kept = client.get("/api/source", query_string={"ref": answer.get_json()["id"]})
        assert "a\x00b" in kept.get_json()["source"]
    else:
        assert answer.status_code == 400
        assert "NUL character" in answer.get_json()["error"]["message"]
        assert client.get("/api/graphs").get_json()["graphs"] == []  # nothing half-kept


# -- what only a database server does ---------------------------------------------------------
def test_an_unreachable_database_is_named_without_its_password():
    with pytest.raises(StorageError, match="cannot be reached") as caught:
        Store("postgresql://teacher:hunter2@127.0.0.1:1/course?connect_timeout=3")
    assert "hunter2" not in str(caught.value) and "teacher:***@127.0.0.1:1" in str(caught.value)


def test_a_lost_connection_fails_one_call_by_name_and_the_next_reconnects(
        postgres_server, new_postgres_database):
    store = Store(new_postgres_database())
    run_id = store.add_run("ws", "before", {"model": "mlp"})
    assert postgres_server.terminate_connections() >= 1
    with pytest.raises(StorageError, match="cannot be reached: nothing was saved"):
        store.add_metrics(run_id, [{**STEP, "step": 1}])
    assert store.add_metrics(run_id, [{**STEP, "step": 1}]) == [1]  # connected again
    assert store.run(run_id, "ws")["steps"] == 1
    store.close()


def _dead_pid() -> int:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(ended.stdout)


def test_a_starting_server_cuts_off_only_its_own_machines_dead_runs_on_a_shared_database(
        database, database_kind):
    """On the data dir's file every server run still 'running' at start was that server's and
    is interrupted; PostgreSQL holds other servers' runs too, which go on."""
    from server.store import this_process

    store = Store(database())
    alive = store.add_run("ws", "a live worker's", {"model": "mlp"})
    store.set_owner(alive, this_process())
    dead = store.add_run("ws", "a dead worker's", {"model": "mlp"})
    store.set_owner(dead, this_process(_dead_pid()))
    elsewhere = store.add_run("ws", "another machine's", {"model": "mlp"})
    store.set_owner(elsewhere, "elsewhere.example:4242")
    store.interrupt_running()
    status = {r["name"]: r["status"] for r in store.runs("ws")}
    if database_kind == "sqlite":
        assert set(status.values()) == {"interrupted"}
    else:
        assert status == {"a live worker's": "running", "a dead worker's": "interrupted",
                          "another machine's": "running"}
    store.close()


def test_the_store_says_where_it_is_without_a_password(tmp_path):
    assert Store(tmp_path / "x.sqlite3").path == str(tmp_path / "x.sqlite3")
    assert isinstance(Path(Store(tmp_path / "y.sqlite3").path), Path)


def test_web_processes_sharing_a_database_and_a_secret_key_serve_one_workspace(
        tmp_path, new_postgres_database):
    """Two apps (as two web processes: their own data dirs) on one PostgreSQL: with the same
    SECRET_KEY a browser's cookie names its workspace on both, and another browser sees none of
    it on either; with another key the second app makes the browser a new workspace."""
    from server.app import create_app

    url, key = new_postgres_database(), "k" * 64
    apps = [create_app({"DATA_DIR": str(tmp_path / name), "TESTING": True, "DATABASE": url,
                        "SECRET_KEY": secret})
            for name, secret in (("a", key), ("b", key), ("c", "another"))]
    try:
        browser = apps[0].test_client()
        browser.get("/api/examples")
        graph = browser.post("/api/graphs", json={"source": "x = input(2)\noutput x\n",
                                                  "name": "on a"}).get_json()["id"]
        cookie = browser.get_cookie("session").value
        on_b, on_c = apps[1].test_client(), apps[2].test_client()
        for client in (on_b, on_c):
            client.set_cookie("session", cookie)
        assert [g["id"] for g in on_b.get("/api/graphs").get_json()["graphs"]] == [graph]
        assert on_b.get(f"/api/graphs/{graph}/export").status_code == 200
        assert on_c.get("/api/graphs").get_json()["graphs"] == []  # its key refused the cookie
        stranger = apps[1].test_client()
        stranger.get("/api/examples")
        assert stranger.get(f"/api/graphs/{graph}/export").status_code == 404
    finally:
        for app in apps:
            app.extensions["backprop_live"].shutdown()
            app.extensions["backprop_live"].store.close()
