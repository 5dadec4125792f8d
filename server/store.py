"""The store: uploaded graphs, training runs and their metrics, in SQLite (the data dir's file,
the default) or PostgreSQL (``DATABASE``, a postgresql:// URL); ``server.databases`` holds what
differs between the two, this module the queries, written once.

The one store of training runs: the server's runs (``origin = 'server'``, each in the workspace
of the page that started it) and those trained with ``backprop-live train`` in a terminal
(``origin = 'terminal'``, workspace ``TERMINAL``), which every page lists but only the command
line changes. Both processes open the same database; its locking orders their writes.

One connection per Store, guarded by a lock (an OS lock under eventlet, since worker threads read
graphs too; every statement is short). Every write is one transaction, so no run is ever
half-written. The schema is versioned (SQLite's ``PRAGMA user_version``, PostgreSQL's
``schema_version`` table); ``MIGRATIONS[k]`` takes version k to k+1. Migrations are portable
SQL: the types INTEGER, REAL, TEXT and BLOB (mapped for PostgreSQL), no SQLite-only statements.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import threading
import time
from pathlib import Path

from .databases import StorageError as StorageError  # re-exported: callers catch them here
from .databases import UnstorableTextError as UnstorableTextError
from .databases import open_database
from .limits import LimitError

MIGRATIONS = [
    """
    CREATE TABLE graphs (
        id TEXT PRIMARY KEY,
        workspace TEXT NOT NULL,
        name TEXT NOT NULL,
        format TEXT NOT NULL,
        source TEXT NOT NULL,
        normalized TEXT NOT NULL,      -- the JSON graph export, for download and sharing
        nodes INTEGER NOT NULL,
        created REAL NOT NULL,
        share_token TEXT UNIQUE
    );
    CREATE INDEX graphs_by_workspace ON graphs (workspace, created);
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        workspace TEXT NOT NULL,
        name TEXT NOT NULL,
        config TEXT NOT NULL,          -- JSON
        status TEXT NOT NULL,          -- running, completed, stopped, failed, interrupted
        created REAL NOT NULL,
        finished REAL,
        summary TEXT,                  -- JSON, when finished
        error TEXT,
        share_token TEXT UNIQUE
    );
    CREATE INDEX runs_by_workspace ON runs (workspace, created);
    CREATE TABLE metrics (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,          -- 1, 2, 3 ... without gaps
        type TEXT NOT NULL,            -- step or epoch
        data TEXT NOT NULL,            -- JSON
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    """,
    """
    ALTER TABLE runs ADD COLUMN origin TEXT NOT NULL DEFAULT 'server';  -- server or terminal
    ALTER TABLE runs ADD COLUMN owner TEXT;  -- a terminal run's "host:pid", to notice it die
    """,
]

TERMINAL = "terminal"  # the workspace of runs trained from the command line
DATABASE = "backprop-live.sqlite3"  # its name inside the data dir


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(9)}"


class QuotaError(LimitError):
    """A workspace's storage budget is spent."""


class Store:
    def __init__(self, location: str | Path, lock_factory=threading.Lock):
        """``location``: a postgresql:// URL, else the SQLite file's path."""
        self._db = open_database(location)
        self.path = self._db.location  # no password in it
        self._lock = lock_factory()  # an OS lock: worker threads read graphs too
        self.migrate()

    # -- plumbing ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _session(self):
        """The database, held; a lost connection is made again first — outside the lock,
        since connecting may yield to eventlet."""
        if self._db.broken():
            fresh = self._db.reopen()
            with self._lock:
                stale, self._db = self._db, fresh
            with contextlib.suppress(Exception):
                stale.close()
        with self._lock:
            yield self._db

    @contextlib.contextmanager
    def _transaction(self):
        """One write transaction (rolled back on any error; a full disk, a read-only file or a
        lost database server is a StorageError that says so), the database held."""
        with self._session() as db, db.transaction():
            yield db

    def _write(self, statements):
        """Run [(sql, params), ...] as one transaction."""
        with self._transaction() as db:
            return [db.execute(sql, params) for sql, params in statements]

    def _read(self, sql, params=()):
        with self._session() as db:
            return db.execute(sql, params).fetchall()

    def migrate(self) -> int:
        """Bring the schema up to date, in one write transaction: the version is read inside
        it, so two processes starting on a new database at once migrate it once."""
        with self._transaction() as db:
            for k in range(db.version(), len(MIGRATIONS)):
                for statement in db.statements(MIGRATIONS[k]):
                    db.execute(statement)
            db.set_version(len(MIGRATIONS))
        return len(MIGRATIONS)

    def integrity_check(self) -> str:
        with self._session() as db:
            return db.integrity_check()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- graphs --------------------------------------------------------------------------------
    def add_graph(self, workspace, name, fmt, source: str, nodes: int, *,
                  max_graphs: int | None = None, max_bytes: int | None = None) -> str:
        """Store an upload's source (its export is made again when asked for: a small spec can
        build a large graph); QuotaError if the workspace would go over ``max_graphs`` graphs
        or ``max_bytes`` stored bytes. The check and the insert are one transaction."""
        graph_id = new_id("g")
        size = len(source.encode("utf-8"))
        with self._transaction() as db:
            db.lock(f"graphs:{workspace}")
            row = db.execute(
                f"SELECT COUNT(*) AS count, CAST(COALESCE(SUM({db.byte_length('source')} + "
                f"{db.byte_length('normalized')}), 0) AS BIGINT) AS bytes FROM graphs "
                "WHERE workspace = ?", (workspace,)).fetchone()
            count, stored = row["count"], row["bytes"]
            if max_graphs is not None and count >= max_graphs:
                raise QuotaError(f"this workspace already keeps {count} graphs "
                                 f"(MAX_GRAPHS_PER_WORKSPACE={max_graphs}); delete one first",
                                 "MAX_GRAPHS_PER_WORKSPACE")
            if max_bytes is not None and stored + size > max_bytes:
                raise QuotaError(f"this workspace's graphs would take {stored + size:,} bytes "
                                 f"(MAX_WORKSPACE_BYTES={max_bytes:,}); delete some first",
                                 "MAX_WORKSPACE_BYTES")
            db.execute("INSERT INTO graphs (id, workspace, name, format, source, "
                       "normalized, nodes, created) VALUES (?, ?, ?, ?, ?, '', ?, ?)",
                       (graph_id, workspace, name, fmt, source, nodes, time.time()))
        return graph_id

    def graphs(self, workspace) -> list[dict]:
        rows = self._read("SELECT id, name, format, nodes, created, share_token FROM graphs "
                          "WHERE workspace = ? ORDER BY created", (workspace,))
        return [dict(r) for r in rows]

    def graph(self, graph_id, workspace=None) -> dict | None:
        """The graph if it exists and (when ``workspace`` is given) belongs to it."""
        rows = self._read("SELECT * FROM graphs WHERE id = ?", (graph_id,))
        if not rows or (workspace is not None and rows[0]["workspace"] != workspace):
            return None
        return dict(rows[0])

    def delete_graph(self, graph_id, workspace) -> bool:
        cursor = self._write([("DELETE FROM graphs WHERE id = ? AND workspace = ?",
                               (graph_id, workspace))])[0]
        return cursor.rowcount > 0

    def share(self, table: str, item_id, workspace) -> str | None:
        """The item's share token, created on first use; None if not this workspace's."""
        assert table in ("graphs", "runs")
        token = secrets.token_urlsafe(16)
        self._write([(f"UPDATE {table} SET share_token = ? WHERE id = ? AND workspace = ? "
                      "AND share_token IS NULL", (token, item_id, workspace))])
        rows = self._read(f"SELECT share_token FROM {table} WHERE id = ? AND workspace = ?",
                          (item_id, workspace))
        return rows[0]["share_token"] if rows else None

    def unshare(self, table: str, item_id, workspace) -> bool:
        """Revoke the item's share link (a later share makes a new one); False if not this
        workspace's."""
        assert table in ("graphs", "runs")
        cursor = self._write([(f"UPDATE {table} SET share_token = NULL WHERE id = ? AND "
                               "workspace = ?", (item_id, workspace))])[0]
        return cursor.rowcount > 0

    def shared(self, token) -> tuple[str, dict] | None:
        """("graph", row) or ("run", run) for a share token; None if nothing is shared by it."""
        if not isinstance(token, str):
            return None
        for table, kind in (("graphs", "graph"), ("runs", "run")):
            rows = self._read(f"SELECT * FROM {table} WHERE share_token = ?", (token,))
            if rows:
                return kind, (dict(rows[0]) if kind == "graph" else _run(rows[0]))
        return None

    # -- runs ----------------------------------------------------------------------------------
    def add_run(self, workspace, name, config: dict, owner: str | None = None) -> str:
        """A new running run: a terminal run in workspace TERMINAL, trained by ``owner``
        ("host:pid"), else a server run."""
        run_id = new_id("r")
        origin = "terminal" if workspace == TERMINAL else "server"
        self._write([("INSERT INTO runs (id, workspace, name, config, status, created, origin, "
                      "owner) VALUES (?, ?, ?, ?, 'running', ?, ?, ?)",
                      (run_id, workspace, name, json.dumps(config), time.time(), origin,
                       owner))])
        return run_id

    def add_metrics(self, run_id, records: list[dict]) -> list[int]:
        """Append records in one transaction; returns their seqs, consecutive."""
        with self._transaction() as db:
            db.lock(f"metrics:{run_id}")
            first = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM metrics "
                               "WHERE run_id = ?", (run_id,)).fetchone()["next"]
            seqs = list(range(first, first + len(records)))
            db.executemany(
                "INSERT INTO metrics (run_id, seq, type, data) VALUES (?, ?, ?, ?)",
                [(run_id, seq, r["type"], json.dumps(r)) for seq, r in zip(seqs, records,
                                                                           strict=True)])
        return seqs

    def finish_run(self, run_id, status, summary: dict | None = None, error=None) -> None:
        self._write([("UPDATE runs SET status = ?, finished = ?, summary = ?, error = ? "
                      "WHERE id = ? AND status = 'running'",
                      (status, time.time(), json.dumps(summary) if summary else None, error,
                       run_id))])

    def interrupt_running(self) -> int:
        """At start-up: the server's runs still 'running' were cut off by a crash or kill, and
        so were terminal runs whose process is gone. A shared database (PostgreSQL) holds the
        runs of other servers too, which go on: there only the runs whose process, on this
        machine, is gone are cut off."""
        cut_off = 0
        if not self._db.shared:  # one server per data dir: every server run was its own
            cut_off = self._write([("UPDATE runs SET status = 'interrupted', finished = ? "
                                    "WHERE status = 'running' AND origin = 'server'",
                                    (time.time(),))])[0].rowcount
        query = "SELECT id, owner, origin FROM runs WHERE status = 'running'"
        orphans = [r for r in self._read(query + ("" if self._db.shared
                                                  else " AND origin = 'terminal'"))
                   if r["owner"] and not owner_alive(r["owner"])]
        for run in orphans:
            self.finish_run(run["id"], "interrupted", error=f"its {run['origin']} process ended")
        return cut_off + len(orphans)

    _RUN_COLUMNS = ("SELECT r.*, (SELECT COUNT(*) FROM metrics m WHERE m.run_id = r.id "
                    "AND m.type = 'step') AS steps FROM runs r ")

    def runs(self, workspace=None) -> list[dict]:
        """A workspace's runs and every terminal run, oldest first; every run for None."""
        if workspace is None:
            rows = self._read(self._RUN_COLUMNS + "ORDER BY created")
        else:
            rows = self._read(self._RUN_COLUMNS + "WHERE workspace IN (?, ?) ORDER BY created",
                              (workspace, TERMINAL))
        return [_run(r) for r in rows]

    def run(self, run_id, workspace=None) -> dict | None:
        """The run if it exists and (when ``workspace`` is given) that workspace may see it:
        its own runs and the terminal's."""
        rows = self._read(self._RUN_COLUMNS + "WHERE id = ?", (run_id,))
        if not rows or (workspace is not None
                        and rows[0]["workspace"] not in (workspace, TERMINAL)):
            return None
        return _run(rows[0])

    def set_owner(self, run_id, owner: str) -> None:
        """The process that trains a server run (its worker), for operators who stop it."""
        self._write([("UPDATE runs SET owner = ? WHERE id = ?", (owner, run_id))])

    def owner(self, run_id) -> str | None:
        rows = self._read("SELECT owner FROM runs WHERE id = ?", (run_id,))
        return rows[0]["owner"] if rows else None

    def last_seq(self, run_id) -> int:
        return self._read("SELECT COALESCE(MAX(seq), 0) AS seq FROM metrics WHERE run_id = ?",
                          (run_id,))[0]["seq"]

    def metrics(self, run_id, after: int = 0, upto: int | None = None,
                limit: int | None = None) -> list[dict]:
        """The run's records with ``after < seq <= upto``, in order, at most ``limit``."""
        rows = self._read("SELECT seq, data FROM metrics WHERE run_id = ? AND seq > ? "
                          "AND seq <= ? ORDER BY seq LIMIT ?",
                          (run_id, after, (1 << 62) if upto is None else upto,
                           (1 << 62) if limit is None else limit))
        return [{"seq": r["seq"], **json.loads(r["data"])} for r in rows]

    def metric_pages(self, run_id, after: int = 0, upto: int | None = None,
                     page: int = 5000):
        """The same records, ``page`` at a time: big runs are never read whole."""
        while True:
            records = self.metrics(run_id, after, upto, page)
            if records:
                yield records
            if len(records) < page:
                return
            after = records[-1]["seq"]

    def rename_run(self, run_id, workspace, name) -> bool:
        cursor = self._write([("UPDATE runs SET name = ? WHERE id = ? AND workspace = ?",
                               (name, run_id, workspace))])[0]
        return cursor.rowcount > 0

    def delete_run_anywhere(self, run_id) -> bool:
        """For the command line: a run of any workspace, the terminal's included."""
        cursor = self._write([("DELETE FROM runs WHERE id = ?", (run_id,))])[0]
        return cursor.rowcount > 0

    def delete_run(self, run_id, workspace) -> bool:
        cursor = self._write([("DELETE FROM runs WHERE id = ? AND workspace = ?",
                               (run_id, workspace))])[0]
        return cursor.rowcount > 0


def _run(row) -> dict:
    run = dict(row)
    run["config"] = json.loads(run["config"])
    run["summary"] = json.loads(run["summary"]) if run.get("summary") else None
    run.pop("workspace", None)
    run.pop("owner", None)
    return run


def this_process(pid: int | None = None) -> str:
    """The owner of a run this process (or its child ``pid``) trains: "host:pid"."""
    return f"{socket.gethostname()}:{pid or os.getpid()}"


def owner_alive(owner: str | None) -> bool:
    """Whether a terminal run's process still runs; one on another host is assumed to."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not (pid.isascii() and pid.isdigit()):
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True
