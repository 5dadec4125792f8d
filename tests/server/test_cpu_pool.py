"""The CPU pool's per-workspace budget: a few calls run, a few more wait their turn, the rest
are refused by name — and another workspace is never held up by them."""

from __future__ import annotations

import threading

import pytest

from server.jobs.cpu import CpuPool
from server.limits import BusyError

SETTINGS = {"MAX_CPU_JOBS": 4, "MAX_CPU_JOBS_PER_WORKSPACE": 2,
            "MAX_CPU_QUEUE_PER_WORKSPACE": 2, "MAX_TRACES": 4, "MAX_TRACES_PER_WORKSPACE": 1}


class Blocking:
    """A computation that says when it starts and ends when released."""

    def __init__(self):
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.started = threading.Condition(self.lock)
        self.running = self.most = 0

    def __call__(self, value):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.started.notify_all()
        self.release.wait(30)
        with self.lock:
            self.running -= 1
        return value * 2

    def wait_running(self, n):
        with self.lock:
            assert self.started.wait_for(lambda: self.running >= n, 30)


def test_calls_beyond_the_running_budget_wait_then_beyond_the_queue_are_refused():
    pool, job = CpuPool(SETTINGS), Blocking()
    results, threads = {}, []
    for i in range(4):  # 2 run, 2 wait
        t = threading.Thread(target=lambda i=i: results.__setitem__(i, pool.call("a", job, i)))
        t.start()
        threads.append(t)
    job.wait_running(2)
    with pool._lock:
        assert pool.running["a"] == 4  # both waiting ones are admitted
    with pytest.raises(BusyError) as refused:
        pool.call("a", job, 99)
    assert refused.value.limit == "MAX_CPU_QUEUE_PER_WORKSPACE"
    assert "MAX_CPU_QUEUE_PER_WORKSPACE=2" in str(refused.value)
    # Another workspace runs at once, although "a" has its queue full.
    assert pool.call("b", lambda v: v + 1, 1) == 2
    job.release.set()
    for t in threads:
        t.join(30)
    assert results == {0: 0, 1: 2, 2: 4, 3: 6}
    assert job.most == 2  # never more than the workspace's budget at once
    assert not pool.running and not pool._turns
