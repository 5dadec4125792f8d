"""New workspaces, at a bounded rate per client address.

A workspace is made for a browser's first request (a signed cookie names it), and for a
socket that comes without that cookie. Each has its own budgets, so a client that drops its
cookie would get fresh ones at every request: at most ``MAX_NEW_WORKSPACES_PER_MINUTE`` are
made for one address in any minute.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque

from .limits import LimitError


class NewWorkspaces:
    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self.made: dict[str, deque] = {}  # address -> when its recent workspaces were made
        self.lock = threading.Lock()

    def new(self, address: str) -> str:
        """A new workspace id for a client at ``address``; LimitError over the rate."""
        now = self.clock()
        with self.lock:
            for other in [a for a, times in self.made.items() if now - times[-1] > 60]:
                del self.made[other]  # forget addresses quiet for a minute
            times = self.made.setdefault(address, deque())
            while times and now - times[0] > 60:
                times.popleft()
            if len(times) >= self.per_minute:
                raise LimitError(f"{len(times)} new workspaces were made for this address in "
                                 f"the last minute (MAX_NEW_WORKSPACES_PER_MINUTE="
                                 f"{self.per_minute}): keep your cookie, or wait a minute",
                                 "MAX_NEW_WORKSPACES_PER_MINUTE")
            times.append(now)
        return uuid.uuid4().hex
