"""Socket.IO events (docs/protocol.md), by concern: ``traces`` (load, trace and check graphs),
``runs`` (training runs) and ``pictures`` (a run's digits, kernels and feature maps). Each
module's handlers are plain functions that receive the services; ``register`` binds them to a
SocketIO."""

from __future__ import annotations

from flask import request, session

from .. import guard
from ..limits import LimitError
from . import pictures, playground, runs, traces
from .common import address, workspace
from .traces import Streams


def register(socketio, services) -> None:
    streams = Streams()

    def connect(auth=None):
        if not guard.admitted(services.config["ACCESS_TOKEN"]):
            raise ConnectionRefusedError("this server needs its access token")
        if not guard.host_allowed(services.config["ALLOWED_HOSTS"], request.host):
            raise ConnectionRefusedError("this server does not answer to that host name")
        if "workspace" not in session:  # a socket without the page's cookie
            try:
                session["workspace"] = services.workspaces.new(address())
            except LimitError as exc:
                raise ConnectionRefusedError(str(exc)) from None
        services.jobs.client_connected(workspace())

    def disconnect(reason=None):
        streams.cancel(request.sid)
        services.playgrounds.close(workspace(), request.sid)  # issue 13: closing the page stops it
        services.jobs.client_left(workspace())

    socketio.on_event("connect", connect)
    socketio.on_event("disconnect", disconnect)
    traces.register(socketio, services, streams)
    runs.register(socketio, services)
    pictures.register(socketio, services)
    playground.register(socketio, services)  # issue 13: Playground
