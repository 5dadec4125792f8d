"""How much a connection has not read yet: a slow client is waited for, one that does not read
is cut off.

Messages to a client wait in its Engine.IO socket's queue until the connection takes them; a
client that never reads would let that queue grow without bound. Before each large message the
server looks at the bytes waiting there: above a high-water mark it waits for them to drain (a
slow network still gets a big trace); if they do not drain for ``QUEUE_STALL_SECONDS``, or ever
exceed ``MAX_QUEUED_BYTES``, it disconnects the client, which cancels its work. This reads
python-engineio's socket queue, the one place that knows.
"""

from __future__ import annotations

import contextlib
import time

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


HIGH_WATER = 1_000_000  # bytes waiting above which the server waits before sending more


def wait_to_send(socketio, sid: str, most: int, stall_seconds: float) -> None:
    """Return once ``sid`` has little waiting; disconnect it and raise LimitError if more than
    ``most`` bytes wait, or if what waits does not shrink for ``stall_seconds``."""
    waiting = queued_bytes(socketio, sid)
    least, since = waiting, time.monotonic()
    while waiting > min(HIGH_WATER, most):
        if waiting > most:
            _cut_off(socketio, sid, f"{waiting:,} bytes are waiting for this connection to read "
                     f"them (MAX_QUEUED_BYTES={most:,})", "MAX_QUEUED_BYTES")
        if waiting < least:
            least, since = waiting, time.monotonic()
        elif time.monotonic() - since > stall_seconds:
            _cut_off(socketio, sid, f"this connection read nothing of {waiting:,} bytes for "
                     f"{stall_seconds:g} s (QUEUE_STALL_SECONDS)", "QUEUE_STALL_SECONDS")
        socketio.sleep(0.05)
        waiting = queued_bytes(socketio, sid)


def _cut_off(socketio, sid: str, why: str, limit: str):
    socketio.server.disconnect(sid)
    raise LimitError(f"{why}: it was disconnected", limit)
