"""Socket.IO events (docs/protocol.md), by concern: ``traces`` (load, trace and check graphs)
and ``runs`` (training runs). Each module's handlers are plain functions that receive the
services; ``register`` binds them to a SocketIO."""

from __future__ import annotations

from . import runs, traces
from .common import workspace


def register(socketio, services) -> None:
    socketio.on_event("connect", lambda auth=None: workspace())
    traces.register(socketio, services)
    runs.register(socketio, services)
