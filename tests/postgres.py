"""A real PostgreSQL server for tests: Debian's binaries, a cluster made by ``initdb`` in a
temporary folder, listening on a free loopback port, stopped by its process group.

As root (CI, this machine) it runs as the ``postgres`` user (``runuser``), since PostgreSQL
refuses to run as root; as anyone else, as that user. Durability is switched off (``fsync``,
``synchronous_commit``): the cluster is thrown away, and the tests are about the store's SQL.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from itertools import count
from pathlib import Path

from tests.live_server import stop_group, wait_until

SERVICE_USER = "postgres"


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder ($BACKPROP_TEST_PG_BIN says another)."""
    given = os.environ.get("BACKPROP_TEST_PG_BIN")
    found = [given] if given else sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                                         key=lambda p: int(Path(p).parent.name))
    return Path(found[-1]) if found and (Path(found[-1]) / "initdb").exists() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _schema(url: str) -> str:
    return url.rsplit("%3D", 1)[1]


class PostgresServer:
    def __init__(self):
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed: bash scripts/setup.sh --test "
                               "installs Debian's postgresql")
        self.folder = Path(tempfile.mkdtemp(prefix="backprop-pg-"))
        self.process: subprocess.Popen | None = None
        self.port = 0
        self._names = count(1)

    def _as_service_user(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", SERVICE_USER, "--", *command] if os.geteuid() == 0 else command

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVICE_USER)
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        data = self.folder / "data"
        subprocess.run(self._as_service_user(
            [str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--no-sync", "--locale=C"]), check=True, capture_output=True)
        self.port = _free_port()
        self.process = subprocess.Popen(self._as_service_user(
            [str(self.bin / "postgres"), "-D", str(data), "-p", str(self.port),
             "-k", str(self.folder), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        wait_until(self._answers, timeout=60)
        return self

    def _answers(self) -> bool:
        import psycopg

        if self.process.poll() is not None:
            raise RuntimeError("PostgreSQL did not start:\n" + self.process.stderr.read())
        try:
            psycopg.connect(self.url("postgres"), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def url(self, database: str, schema: str | None = None) -> str:
        url = f"postgresql://postgres@127.0.0.1:{self.port}/{database}"
        return url + (f"?options=-csearch_path%3D{schema}" if schema else "")

    def _admin(self, sql: str, params=()) -> list:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            cursor = admin.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def new_database(self) -> str:
        """A new, empty database's URL: a schema of its own in the database ``tests`` (a new
        database takes a second or two to make, a schema a millisecond; the store's SQL names
        no schema, so it cannot tell the difference)."""
        if not self._admin("SELECT 1 FROM pg_database WHERE datname = 'tests'"):
            self._admin("CREATE DATABASE tests")
        schema = f"test_{next(self._names)}"
        with_schema = self.url("tests", schema)
        import psycopg

        with psycopg.connect(self.url("tests"), autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
        return with_schema

    def drop_database(self, url: str) -> None:
        import psycopg

        with psycopg.connect(self.url("tests"), autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{_schema(url)}" CASCADE')

    def terminate_connections(self) -> int:
        """Cut every connection of the app off, as a restart of the database server would."""
        return len(self._admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                               "application_name = 'backprop-live'"))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)  # a fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop_group(self.process)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
