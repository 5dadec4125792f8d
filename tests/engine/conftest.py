"""Engine tests run on the adaptive executor; BACKPROP_ENGINE_MODE=levels or =nodes runs them all
on one executor instead (the level program, or the per-node interpreters everywhere)."""

from __future__ import annotations

import os

import pytest

from engine import compiler
from engine.executor import MODES


@pytest.fixture(autouse=True)
def engine_mode(monkeypatch):
    mode = os.environ.get("BACKPROP_ENGINE_MODE", "adaptive")
    assert mode in MODES, f"BACKPROP_ENGINE_MODE must be one of {MODES}"
    monkeypatch.setattr(compiler, "default_mode", mode)
    return mode
