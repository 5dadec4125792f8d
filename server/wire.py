"""Engine graphs and traces as Socket.IO messages (docs/protocol.md).

The encoding itself (describe, frames, binary arrays, JSON-safe numbers) is engine/frames.py,
shared with the notebook widget; this module adds what only the server sends.
"""

from __future__ import annotations

from engine.frames import (  # noqa: F401  (the server's modules use them as wire.*)
    FRAME_BYTES,
    FRAME_EVENTS,
    OPERATOR_TABLE,
    backward_frames,
    check_budget,
    describe,
    f64,
    forward_frames,
    i32,
    jsonable,
    number,
    seed_frame,
)


def format_error(exc) -> dict:
    """A loader's FormatError as the error body both the HTTP API and the sockets send: the
    problems with their locations and, where a limit was hit, its name."""
    problems = [{"location": p.location, "message": p.message,
                 **({"limit": p.limit} if getattr(p, "limit", None) else {})}
                for p in exc.problems]
    limits = [p["limit"] for p in problems if "limit" in p]
    return {"message": "the graph definition has problems", "problems": problems,
            **({"limit": limits[0]} if limits else {})}


def notes(found) -> list[dict]:
    """A load's notes (what was accepted and ignored, e.g. micrograd's import) as the page and
    the HTTP API list them: [{location, message}]."""
    return [{"location": n.location, "message": n.message} for n in found]
