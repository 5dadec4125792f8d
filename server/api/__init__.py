"""The HTTP API (docs/api.md), by concern: ``graphs`` (examples, uploads, exports, share links)
and ``runs`` (training runs and their metrics).

Every answer is JSON. A workspace sees only its own uploads and runs (and the runs trained in a
terminal, read-only); another workspace's ids answer 404, exactly like ids that do not exist, so
ids do not leak. CPU work (parsing, exporting, big reads) runs in the pool, off the event loop.
"""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.exceptions import HTTPException

from engine.formats import FormatError

from .. import wire
from ..catalog import NotFoundError
from ..limits import BusyError, LimitError
from ..services import services
from ..store import QuotaError, StorageError, UnstorableTextError
from .common import TerminalRunError, problem

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """JSON errors under /api (an unknown route, a wrong method, an upload over the limit)."""
    if not request.path.startswith("/api/"):
        return exc
    if exc.code == 413:
        max_bytes = services().catalog.limits.max_bytes
        return problem(413, f"the upload is larger than the limit max_bytes={max_bytes}",
                       limit="max_bytes")
    return problem(exc.code or 500, exc.description)


@bp.errorhandler(NotFoundError)
def not_found(exc):
    return problem(404, "not found")


@bp.errorhandler(FormatError)
def format_error(exc):
    return {"error": wire.format_error(exc)}, 400


@bp.errorhandler(LimitError)
def limit_error(exc):
    status = 413 if isinstance(exc, QuotaError) else 429 if isinstance(exc, BusyError) else 400
    return problem(status, str(exc), limit=exc.limit)


@bp.errorhandler(StorageError)
def storage_error(exc):
    return problem(507, str(exc))


@bp.errorhandler(UnstorableTextError)
def unstorable_text(exc):
    return problem(400, str(exc))


@bp.errorhandler(TerminalRunError)
def terminal_run(exc):
    return problem(403, "this run was trained in a terminal: only the command line changes it "
                        "(backprop-live runs --help)")


from . import graphs, runs  # noqa: E402 - the routes register on bp

__all__ = ["bp", "graphs", "runs"]
