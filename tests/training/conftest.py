"""Fixtures of the training tests."""

import pytest

from engine.training import load_digits


@pytest.fixture(scope="module")
def digits():
    return load_digits()
