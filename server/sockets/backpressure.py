"""How much a connection has not read yet, so a client that does not read is cut off.

Messages to a client wait in its Engine.IO socket's queue until the connection takes them; a
client that never reads would let that queue grow without bound. Before each large message the
server looks at the bytes waiting there and, over ``MAX_QUEUED_BYTES``, disconnects the client
(which cancels its work). This reads python-engineio's socket queue, the one place that knows.
"""

from __future__ import annotations

import contextlib

from ..limits import LimitError


def queued_bytes(socketio, sid: str, namespace: str = "/") -> int:
    """Bytes of the packets waiting to be sent to ``sid`` (0 if it is gone)."""
    server = socketio.server
    with contextlib.suppress(KeyError, AttributeError):
        eio_sid = server.manager.eio_sid_from_sid(sid, namespace)
        waiting = list(server.eio.sockets[eio_sid].queue.queue)
        return sum(len(p.data) for p in waiting
                   if p is not None and isinstance(p.data, bytes | str))
    return 0


def check(socketio, sid: str, most: int) -> None:
    """Disconnect ``sid`` and raise LimitError if more than ``most`` bytes wait for it."""
    waiting = queued_bytes(socketio, sid)
    if waiting > most:
        socketio.server.disconnect(sid)
        raise LimitError(f"{waiting:,} bytes are waiting for this connection to read them "
                         f"(MAX_QUEUED_BYTES={most:,}): it was disconnected", "MAX_QUEUED_BYTES")
