"""What every Socket.IO handler shares: the workspace, and turning errors into acks.

Every handler answers its acknowledgement with ``{"ok": True, ...}`` or
``{"ok": False, "error": {...}}`` — one client's bad input never raises into the server.
"""

from __future__ import annotations

import uuid

from flask import session

from engine import EngineError
from engine.formats import FormatError
from engine.training import TrainingError

from .. import wire
from ..catalog import NotFoundError
from ..jobs import BusyError


def fail(message: str, **extra) -> dict:
    return {"ok": False, "error": {"message": message, **extra}}


def workspace() -> str:
    if "workspace" not in session:
        session["workspace"] = uuid.uuid4().hex  # a socket without the page's cookie
    return session["workspace"]


def handle(socketio, event: str, handler) -> None:
    """Register ``handler(data: dict) -> ack`` for ``event``, turning the errors a client can
    cause into a failed acknowledgement."""
    def acknowledged(data=None):
        if data is not None and not isinstance(data, dict):
            return fail(f"{event} takes an object {{...}}, not {type(data).__name__}")
        try:
            return handler(data or {})
        except NotFoundError as exc:
            return fail(f"not found: {exc}")
        except FormatError as exc:
            return {"ok": False, "error": wire.format_error(exc)}
        except BusyError as exc:
            return fail(str(exc), limit=exc.limit)
        except (EngineError, TrainingError, ValueError, TypeError) as exc:
            return fail(str(exc))
    socketio.on_event(event, acknowledged)


def checked_values(data: dict) -> dict:
    values = data.get("values") or {}
    if not isinstance(values, dict):
        raise ValueError("values must be an object {name or id: number}")
    return values
