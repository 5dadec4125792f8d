"""New workspaces, at a bounded rate per client address.

A workspace is made for a browser's first request (a signed cookie names it), and for a
socket that comes without that cookie. Each has its own budgets, so a client that drops its
cookie would get fresh ones at every request: at most ``MAX_NEW_WORKSPACES_PER_MINUTE`` are
made for one address in any minute — counted in Redis for every web process when ``shared``
(a ``jobs.shared.SharedSlots``, with ``JOBS`` set) is given.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque

from .limits import LimitError


class NewWorkspaces:
    def __init__(self, per_minute: int, clock=time.monotonic, shared=None):
        self.per_minute = per_minute
        self.shared = shared
        self.clock = clock
        self.made: dict[str, deque] = {}  # address -> when its recent workspaces were made
        self.lock = threading.Lock()

    def new(self, address: str) -> str:
        """A new workspace id for a client at ``address``; LimitError over the rate."""
        workspace = uuid.uuid4().hex
        if self.shared is not None:
            budget = f"workspaces:{address}"
            if self.shared.take(workspace, [(budget, self.per_minute)], 60) is not None:
                raise self._too_many(self.shared.count(budget))
            return workspace
        now = self.clock()
        with self.lock:
            for other in [a for a, times in self.made.items() if now - times[-1] > 60]:
                del self.made[other]  # forget addresses quiet for a minute
            times = self.made.setdefault(address, deque())
            while times and now - times[0] > 60:
                times.popleft()
            if len(times) >= self.per_minute:
                raise self._too_many(len(times))
            times.append(now)
        return workspace

    def _too_many(self, made: int) -> LimitError:
        return LimitError(f"{made} new workspaces were made for this address in the last "
                          f"minute (MAX_NEW_WORKSPACES_PER_MINUTE={self.per_minute}): keep your "
                          "cookie, or wait a minute", "MAX_NEW_WORKSPACES_PER_MINUTE")
