"""The message queue's relay (issue 16): a record published on Redis after a page read it from
the store reaches that page once — the race between "store, then publish" in a worker and
"read the history, then join the room" in a web process, made to happen on purpose.

Debian's redis-server on a free port; a server with --message-queue; the late
publication comes from a write-only manager, as a worker's does.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from server.jobs.relay import RunRelay
from server.store import DATABASE, Store
from tests.cluster import RedisServer
from tests.live_server import LiveServer, Page

pytestmark = pytest.mark.slow  # starts redis-server


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


def records(first: int, last: int) -> list[dict]:
    return [{"type": "step", "step": s, "loss": 1.0 / s} for s in range(first, last + 1)]


def workspace_of(page: Page, data_dir) -> str:
    """The workspace the page's signed session cookie names (read with the server's key)."""
    signer = Flask(__name__)
    signer.secret_key = (data_dir / "secret_key").read_text().strip()
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
    return serializer.loads(page.http.cookies["session"])["workspace"]


def test_a_late_publication_of_stored_records_reaches_the_watcher_once(tmp_path, redis_url):
    with LiveServer(tmp_path, args=("--message-queue", redis_url)) as server:
        page = Page(server.url).connect()
        store = Store(tmp_path / DATABASE)  # the same SQLite file, written from here
        run_id = store.add_run(workspace_of(page, tmp_path), "a run", {"model": "mlp"})
        store.add_metrics(run_id, records(1, 5))
        assert page.call("watch_run", {"run_id": run_id})["ok"]
        assert [r["seq"] for r in page.records()] == [1, 2, 3, 4, 5]

        worker = RunRelay(redis_url, write_only=True)  # another process's publications
        late = [{**r, "seq": s} for s, r in zip(range(4, 8), records(4, 7), strict=True)]
        room = f"run:{run_id}"
        worker.emit("run_metrics", {"run_id": run_id, "records": late}, room=room)
        worker.emit("run_metrics", {"run_id": run_id, "records": late[-1:]}, room=room)
        worker.emit("run_status", {"run_id": run_id, "status": "completed", "summary": None},
                    room=room)
        page.wait_for(lambda events: any(name == "run_status" for name, _ in events))
        # 4 and 5 were in the history, 7 came twice: each reached the page once
        assert [r["seq"] for r in page.records()] == [1, 2, 3, 4, 5, 6, 7]
        page.close()
        store.close()
