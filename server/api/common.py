"""What the HTTP routes share: the workspace, JSON bodies and error answers."""

from __future__ import annotations

from flask import jsonify, request, session

from engine.formats import Limits, read_json

from ..services import services

MAX_NAME = 200


class TerminalRunError(Exception):
    """A page tried to change a run trained in a terminal."""


def problem(status: int, message: str, **extra):
    return jsonify({"error": {"message": message, **extra}}), status


def workspace() -> str:
    return session["workspace"]


def json_body():
    """The request's JSON, read as uploads are — nesting and numbers checked first, so no body
    can make the parser recurse away (FormatError: a 400 naming the problem)."""
    text = request.get_data(cache=True, as_text=True)
    limits: Limits = services().catalog.limits
    return read_json(text, limits) if text.strip() else None


def cpu(fn, *args):
    """``fn(*args)`` in the CPU pool, within this workspace's budget."""
    return services().cpu.call(workspace(), fn, *args)
