"""Flask-SocketIO's Redis message queue, with each run's records handed to each watcher once.

With ``MESSAGE_QUEUE`` set, every web process and every ``backprop-live worker`` publish their
events on one Redis channel, and each web process delivers them to its own sockets — the
documented way to run Flask-SocketIO in several processes. A training record is stored first
and published after, by whichever process trains the run; a page that starts watching reads the
stored history and joins the run's room. Redis delivers a published message a moment later, so a
record can reach a web process after that process read it from the store: it would arrive
twice. This manager remembers, per socket and run, the last seq the socket has (``sent``), and
delivers a record only above it; ``watch_run`` sets the mark, holding ``lock``, when it sends the
history. Exactly once, in order — whichever process trained, stored or published the record.
"""

from __future__ import annotations

import threading

import socketio
from socketio.manager import Manager

CHANNEL = "backprop-live"  # the Redis channel every process of one deployment shares


class RunRelay(socketio.RedisManager):
    def __init__(self, url: str, channel: str = CHANNEL, write_only: bool = False):
        super().__init__(url, channel=channel, write_only=write_only)
        # Green under eventlet (the server patches threading before the app is imported); an
        # RLock, since the terminal-run follower publishes while holding it.
        self.lock = threading.RLock()
        self.sent: dict[tuple[str, str], int] = {}  # (sid, run_id) -> last seq it has

    def watched(self, sid: str, run_id: str, seq: int) -> None:
        """``sid`` has every record of ``run_id`` up to ``seq``. Call it holding ``lock``."""
        self.sent[(sid, run_id)] = seq

    def _handle_emit(self, message):
        room, data = message.get("room"), message.get("data")
        if (message.get("event") != "run_metrics" or not isinstance(room, str)
                or not room.startswith("run:") or not isinstance(data, list) or not data
                or not isinstance(data[0], dict)):
            return super()._handle_emit(message)
        run_id, records = data[0].get("run_id"), data[0].get("records") or []
        namespace = message.get("namespace") or "/"
        with self.lock:
            for sid, _ in list(self.get_participants(namespace, room)):
                last = self.sent.get((sid, run_id), 0)
                fresh = [r for r in records if r.get("seq", 0) > last]
                if fresh:
                    self.sent[(sid, run_id)] = fresh[-1]["seq"]
                    Manager.emit(self, "run_metrics", {"run_id": run_id, "records": fresh},
                                 namespace, room=sid)
        return None

    def leave_room(self, sid, namespace, room):
        if isinstance(room, str) and room.startswith("run:"):
            with self.lock:
                self.sent.pop((sid, room[len("run:"):]), None)
        return super().leave_room(sid, namespace, room)

    def basic_disconnect(self, sid, namespace, **kwargs):
        with self.lock:
            for key in [k for k in self.sent if k[0] == sid]:
                del self.sent[key]
        return super().basic_disconnect(sid, namespace, **kwargs)
