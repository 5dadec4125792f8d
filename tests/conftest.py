"""Fixtures and settings for the whole suite: hypothesis profiles, markers, the reference ResNet.

Hypothesis runs with the ``dev`` profile (random examples) by default and with ``ci``
(derandomised: the same examples every run) when the environment variable CI is set, as it is
in CI; ``--hypothesis-profile`` picks one by hand.
"""

from __future__ import annotations

import os
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
