"""Giving memory back once big graphs are done with.

An engine graph is a web of cycles (each node lists its parents), so a graph nobody uses is
freed by Python's cyclic collector, at a time of its own choosing, and the allocator then keeps
the freed pages. After the CPU pool has been idle a moment, the server collects and hands the
pages back (glibc's ``malloc_trim``): a visitor's 100,000-node upload does not stay resident.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import time

IDLE_SECONDS = 0.5  # how long the pool stays idle before memory is given back
EVERY_SECONDS = 2.0  # at most this often: a collection pauses the server for tens of ms


class MemoryRelease:
    def __init__(self, start_task, sleep, is_idle):
        self.start_task = start_task
        self.sleep = sleep
        self.is_idle = is_idle
        self.pending = False
        self.last = -EVERY_SECONDS

    def soon(self) -> None:
        """Give memory back once the pool has been idle for IDLE_SECONDS (once per lull)."""
        if not self.pending:
            self.pending = True
            self.start_task(self._release)

    def _release(self) -> None:
        while True:
            self.sleep(max(IDLE_SECONDS, self.last + EVERY_SECONDS - time.monotonic()))
            if self.is_idle():
                break
        self.pending = False
        gc.collect()
        give_memory_back()
        self.last = time.monotonic()


def few_arenas(count: int = 2) -> None:
    """At most ``count`` malloc arenas: glibc gives each thread that allocates its own, and
    each keeps what it freed — the pool's threads would hold a big graph's worth apiece."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, count)


M_ARENA_MAX = -8  # glibc's mallopt parameter


def give_memory_back() -> None:
    """Return freed memory to the system (glibc keeps it otherwise)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
