"""Fixtures for the server: an app on a temporary data dir, its HTTP and Socket.IO clients."""

from __future__ import annotations

import pytest

from server.app import create_app


@pytest.fixture
def make_app(tmp_path, database_kind, request):
    """create_app on a temporary data dir, with settings for the test (budgets, say); its store
    in the data dir (SQLite), then in a new PostgreSQL database: each test runs on both."""
    made = []

    def make(**settings):
        folder = tmp_path / f"data{len(made)}"
        if database_kind == "postgresql":
            settings = {"DATABASE": request.getfixturevalue("new_postgres_database")(),
                        **settings}
        made.append(create_app({"DATA_DIR": str(folder), "TESTING": True, **settings}))
        return made[-1]
    yield make
    for app in made:
        app.extensions["backprop_live"].shutdown()
        app.extensions["backprop_live"].store.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    client = app.test_client()
    client.get("/api/examples")  # the first request gives this client its workspace cookie
    return client


@pytest.fixture
def other_client(app):
    """A second browser: another workspace."""
    client = app.test_client()
    client.get("/api/examples")
    return client


@pytest.fixture
def sock(app, client):
    """A Socket.IO test client sharing ``client``'s cookie, hence its workspace."""
    sock = app.extensions["socketio"].test_client(app, flask_test_client=client)
    assert sock.is_connected()
    yield sock
    if sock.is_connected():
        sock.disconnect()
