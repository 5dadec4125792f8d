"""What every Socket.IO handler shares: the workspace, argument checks, and turning errors into
acknowledgements.

Every handler answers its acknowledgement exactly once, with ``{"ok": True, ...}`` or
``{"ok": False, "error": {"message": ..., "limit"?: ...}}`` — whatever a client sends (wrong
types, extra arguments, huge numbers), it never raises into the server and never goes
unanswered.
"""

from __future__ import annotations

import logging

from flask import request, session

from engine import EngineError
from engine.formats import FormatError
from engine.training import TrainingError

from .. import wire
from ..catalog import NotFoundError
from ..limits import LimitError
from ..store import StorageError

log = logging.getLogger(__name__)
MAX_ID_LENGTH = 200  # ids, tokens and references a client may send


def fail(message: str, **extra) -> dict:
    return {"ok": False, "error": {"message": message, **extra}}


def workspace() -> str:
    """The connection's workspace (``connect`` made one for a socket without the cookie)."""
    return session["workspace"]


def address() -> str:
    return request.remote_addr or "unknown"


def text_arg(data: dict, key: str, required: bool = True) -> str | None:
    """``data[key]`` if it is a string of sane length; ValueError otherwise."""
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise ValueError(f"{key} must be a string of 1..{MAX_ID_LENGTH} characters")
    return value


def checked_values(data: dict) -> dict:
    values = data.get("values") or {}
    if not isinstance(values, dict):
        raise ValueError("values must be an object {name or id: number}")
    return values


def handle(socketio, event: str, handler) -> None:
    """Register ``handler(data: dict) -> ack`` for ``event``, turning the errors a client can
    cause into a failed acknowledgement."""
    def acknowledged(*args):
        if len(args) > 1:
            return fail(f"{event} takes one argument, an object {{...}}; got {len(args)}")
        data = args[0] if args else None
        if data is not None and not isinstance(data, dict):
            return fail(f"{event} takes an object {{...}}, not {type(data).__name__}")
        try:
            return handler(data or {})
        except NotFoundError as exc:
            return fail(f"not found: {exc}")
        except FormatError as exc:
            return {"ok": False, "error": wire.format_error(exc)}
        except LimitError as exc:
            return fail(str(exc), limit=exc.limit)
        except StorageError as exc:
            return fail(str(exc))
        except (EngineError, TrainingError, ValueError, TypeError, OverflowError) as exc:
            return fail(str(exc)[:2000])
        except Exception:  # a promise to the client: an answer, whatever went wrong here
            log.exception("%s failed", event)
            return fail(f"{event} failed on the server (an internal error, logged)")
    socketio.on_event(event, acknowledged)
