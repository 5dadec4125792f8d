"""The databases the store runs on — SQLite in the data dir (the embedded default) and
PostgreSQL (``--database postgresql://…``) — behind one small interface, so that ``server.store``
holds the queries once.

A database object gives:

* ``execute(sql, params)`` / ``executemany(sql, rows)``: the store's SQL, written with ``?``
  placeholders in the subset both understand; rows are read by column name;
* ``transaction()``: one write transaction (writers are serialised as SQLite's ``BEGIN
  IMMEDIATE`` does, per ``lock(key)`` on PostgreSQL), failures of the storage itself raised as
  ``StorageError`` with a message for users;
* ``statements(migration)``: a migration's portable SQL (INTEGER, REAL, TEXT, BLOB) in its own
  dialect; ``version()`` / ``set_version(n)``: the schema version (``PRAGMA user_version``, a
  ``schema_version`` table);
* ``byte_length(column)``: the SQL of a text column's size in bytes;
* ``broken()`` / ``reopen()``: a lost connection noticed and made again;
* ``location`` (no password in it), ``shared`` (other machines may use it too), ``close()``.
"""

from __future__ import annotations

from pathlib import Path


class StorageError(RuntimeError):
    """The database cannot be written (a full disk, a read-only file, a server that cannot be
    reached): a message for users."""


class UnstorableTextError(StorageError):
    """Text the database cannot keep — PostgreSQL's text holds no NUL character — which is the
    input's fault, not the storage's: a 400 for HTTP."""


def is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def open_database(location: str | Path):
    """The database at ``location``: a PostgreSQL URL, else an SQLite file's path."""
    if is_url(location):
        from .postgres import Postgres
        return Postgres(str(location))
    from .sqlite import Sqlite
    return Sqlite(str(location))
