"""Fixtures and settings for the whole suite: hypothesis profiles, markers, the reference ResNet.

Hypothesis runs with the ``dev`` profile (random examples) by default and with ``ci``
(derandomised: the same examples every run) when the environment variable CI is set, as it is
in CI; ``--hypothesis-profile`` picks one by hand.
"""

from __future__ import annotations

import os
from itertools import count
from pathlib import Path

import pytest
from hypothesis import settings

from tests.oracles import REFERENCE_RESNET, run_reference

# Engine tests build graphs (compilation is part of what they test), so per-example timing varies.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


def pytest_collection_modifyitems(items):
    """Every test under tests/browser drives chromium: mark it ``browser``."""
    for item in items:
        if BROWSER_TESTS in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def resnet() -> dict:
    """The reference ResNet, built and run once per test module (seeded)."""
    return run_reference(REFERENCE_RESNET, seed=20240601)


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL for the session (tests/postgres.py); each test takes a database."""
    from tests.postgres import PostgresServer

    with PostgresServer() as server:
        yield server


@pytest.fixture
def new_postgres_database(postgres_server):
    """Makes new empty databases (URLs), dropped after the test."""
    made = []

    def make() -> str:
        made.append(postgres_server.new_database())
        return made[-1]
    yield make
    for url in made:
        postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_kind(request) -> str:
    """Every test that takes it runs twice: on SQLite (the default), then on PostgreSQL."""
    return request.param


@pytest.fixture
def database(database_kind, tmp_path, request):
    """Makes new empty store locations of ``database_kind``: SQLite files or PostgreSQL URLs."""
    if database_kind == "sqlite":
        made = count(1)
        return lambda: tmp_path / f"store{next(made)}.sqlite3"
    return request.getfixturevalue("new_postgres_database")
