"""SQLite, the embedded default: one file in the data dir, private to its user (0600), in WAL
mode. Processes on this machine share it (``backprop-live train`` writes while a server reads);
SQLite's locking orders their writes, ``BEGIN IMMEDIATE`` taking the write lock up front."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time

from . import StorageError


def storage_error(exc: sqlite3.Error) -> StorageError | None:
    """What a write's failure means for users, if it is the storage's fault."""
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    if code == sqlite3.SQLITE_FULL or "full" in text:
        return StorageError("the server's disk is full: nothing was saved")
    if code == sqlite3.SQLITE_READONLY or "readonly" in text or "read-only" in text:
        return StorageError("the server's database is read-only: nothing was saved")
    if code == sqlite3.SQLITE_IOERR or "disk i/o" in text:
        return StorageError("the server could not write to its disk: nothing was saved")
    return None


def statements(script: str) -> list[str]:
    """A migration's SQL statements, one by one (executescript would commit the transaction)."""
    found, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    assert not pending.strip(), f"an incomplete statement in a migration: {pending!r}"
    return found


class Sqlite:
    shared = False  # one machine's file

    def __init__(self, path: str):
        self.location = self.path = path
        # Private: other users of the machine must not read anyone's workspace.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._wal()
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self.execute = self._db.execute  # the hot path: no layer in between
        self.executemany = self._db.executemany

    def _wal(self) -> None:
        """Switch to write-ahead logging. Another process may be creating the database at this
        very moment; SQLite then answers "locked" at once, not after the busy timeout (to
        avoid a deadlock between the two), so this tries again, for a while."""
        for attempt in range(100):
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise
                time.sleep(0.05)

    @contextlib.contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error; a full disk or a read-only file
        becomes a StorageError that says so."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            yield
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:  # SQLite may have rolled back already (SQLITE_FULL)
                self._db.execute("ROLLBACK")
            storage = storage_error(exc) if isinstance(exc, sqlite3.Error) else None
            if storage is not None:
                raise storage from exc
            raise

    def lock(self, key: str) -> None:
        """Nothing to do: BEGIN IMMEDIATE holds the database's one write lock already."""

    statements = staticmethod(statements)

    def version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def set_version(self, version: int) -> None:
        self._db.execute(f"PRAGMA user_version = {int(version)}")

    @staticmethod
    def byte_length(column: str) -> str:
        return f"LENGTH(CAST({column} AS BLOB))"

    def broken(self) -> bool:
        return False  # a file does not hang up

    def reopen(self) -> Sqlite:
        return Sqlite(self.path)

    def integrity_check(self) -> str:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        self._db.close()
