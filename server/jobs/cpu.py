"""CPU-heavy work off the event loop, within budgets: parsing and exporting uploads, building
graphs, traces, gradient checks and big reads run in OS threads (eventlet's tpool under the
server), never on the loop, which only moves bytes.

At most ``MAX_CPU_JOBS`` calls run at once in all — more wait their turn — and at most
``MAX_CPU_JOBS_PER_WORKSPACE`` for one workspace; up to ``MAX_CPU_QUEUE_PER_WORKSPACE`` more of
that workspace wait behind them (a page asks for a few things at once: a graph, a run's history,
the runs list) and beyond that they are refused, so one visitor's flood waits on itself, not on
everyone. Traces (computed, then streamed) are counted apart, since
streaming one lasts longer than computing it.

With ``JOBS`` set (several web processes), the per-workspace budgets and MAX_TRACES are counted
in Redis for every process (``shared``, a ``shared.SharedSlots``); MAX_CPU_JOBS stays this
process's: it is the number of its threads that compute.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from contextlib import contextmanager, nullcontext

from ..limits import BusyError

# A slot held in Redis lapses after this, should its process die without giving it back.
SHARED_HOLD_SECONDS = 600


class CpuPool:
    def __init__(self, settings: dict, cpu_call=None):
        self.most = settings["MAX_CPU_JOBS"]
        self.most_each = settings["MAX_CPU_JOBS_PER_WORKSPACE"]
        self.queue_each = settings["MAX_CPU_QUEUE_PER_WORKSPACE"]
        self.traces_most = settings["MAX_TRACES"]
        self.traces_most_each = settings["MAX_TRACES_PER_WORKSPACE"]
        self._cpu_call = cpu_call or (lambda fn, *a: fn(*a))
        # Green under eventlet (the server patches threading first): a waiting call yields.
        self._slots = threading.BoundedSemaphore(self.most)
        self._lock = threading.Lock()
        self.running: Counter[str] = Counter()  # workspace -> calls running or waiting
        self._turns: dict[str, threading.BoundedSemaphore] = {}  # workspace -> its running slots
        self.traces: dict[str, str] = {}  # trace token -> workspace
        self.on_idle = lambda: None  # called when the last running call ends
        self.shared = None  # a shared.SharedSlots: budgets counted for every process

    def call(self, workspace: str, fn, *args):
        """``fn(*args)`` in a worker thread, once a slot is free; BusyError over the
        workspace's budget."""
        shared = self._shared_admitted(workspace) if self.shared is not None else nullcontext()
        with shared, self._admitted(workspace) as turns, turns, self._slots:
            return self._cpu_call(fn, *args)

    @contextmanager
    def _shared_admitted(self, workspace: str):
        """The workspace's calls going on or waiting in every process, within budget."""
        slot, budget = uuid.uuid4().hex, f"cpu:{workspace}"
        if self.shared.take(slot, [(budget, self.most_each + self.queue_each)],
                            SHARED_HOLD_SECONDS) is not None:
            raise BusyError(
                f"this workspace already has {self.shared.count(budget)} computations going on "
                f"or waiting on the server's processes (MAX_CPU_JOBS_PER_WORKSPACE="
                f"{self.most_each} at once, MAX_CPU_QUEUE_PER_WORKSPACE={self.queue_each} "
                "waiting); wait for them", "MAX_CPU_QUEUE_PER_WORKSPACE")
        try:
            yield
        finally:
            self.shared.give_back(slot, [budget])

    @contextmanager
    def _admitted(self, workspace: str):
        with self._lock:
            if self.running[workspace] >= self.most_each + self.queue_each:
                raise BusyError(
                    f"this workspace already has {self.running[workspace]} computations going on "
                    f"or waiting (MAX_CPU_JOBS_PER_WORKSPACE={self.most_each} at once, "
                    f"MAX_CPU_QUEUE_PER_WORKSPACE={self.queue_each} waiting); wait for them",
                    "MAX_CPU_QUEUE_PER_WORKSPACE")
            self.running[workspace] += 1
            turns = self._turns.setdefault(workspace, threading.BoundedSemaphore(self.most_each))
        try:
            yield turns
        finally:
            with self._lock:
                self.running[workspace] -= 1
                if not self.running[workspace]:
                    del self.running[workspace]
                    del self._turns[workspace]
                idle = not self.running
            if idle:
                self.on_idle()

    # -- traces: computed here, then streamed by the caller -----------------------------------
    def begin_trace(self, token: str, workspace: str) -> None:
        with self._lock:
            owners = list(self.traces.values())
            if len(owners) >= self.traces_most:
                raise BusyError(f"the server is busy: {len(owners)} graph traces are going on "
                                f"(MAX_TRACES={self.traces_most}); try again when one ends",
                                "MAX_TRACES")
            mine = owners.count(workspace)
            if mine >= self.traces_most_each:
                raise BusyError(f"this workspace already has {mine} graph traces going on "
                                f"(MAX_TRACES_PER_WORKSPACE={self.traces_most_each}); wait "
                                "for one to end", "MAX_TRACES_PER_WORKSPACE")
            self.traces[token] = workspace
        if self.shared is not None:
            self._take_shared_trace(token, workspace)

    def _take_shared_trace(self, token: str, workspace: str) -> None:
        budgets = [("traces", self.traces_most), (f"traces:{workspace}", self.traces_most_each)]
        spent = self.shared.take(token, budgets, SHARED_HOLD_SECONDS)
        if spent is None:
            return
        with self._lock:
            self.traces.pop(token, None)
        if spent == 0:
            raise BusyError(f"the server is busy: {self.shared.count('traces')} graph traces "
                            f"are going on (MAX_TRACES={self.traces_most}); try again when one "
                            "ends", "MAX_TRACES")
        raise BusyError(f"this workspace already has {self.shared.count(budgets[1][0])} graph "
                        f"traces going on (MAX_TRACES_PER_WORKSPACE={self.traces_most_each}); "
                        "wait for one to end", "MAX_TRACES_PER_WORKSPACE")

    def end_trace(self, token: str) -> None:
        with self._lock:
            workspace = self.traces.pop(token, None)
        if self.shared is not None and workspace is not None:
            self.shared.give_back(token, ["traces", f"traces:{workspace}"])

    @contextmanager
    def trace(self, token: str, workspace: str):
        self.begin_trace(token, workspace)
        try:
            yield
        finally:
            self.end_trace(token)
