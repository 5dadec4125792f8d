"""The Playground's training on the job queue (issue 16): with ``--jobs``, every turn of a playing
exercise is a ``backprop-live worker``'s RQ job and the exercise lives in Redis, so any worker
computes any turn and any web process serves the workspace. Real redis-server, two web processes,
two workers. Oracle: the engine's own Playground, stepped here in the test's process as many
times as the server says it stepped — turns on two workers, a kill -9 and an edit from the other
web process must give exactly the parameters one uninterrupted run gives.
"""

from __future__ import annotations

import signal

import numpy as np
import pytest
import redis
from rq.job import Job
from rq.serializers import JSONSerializer

from engine.playground import Playground, PlaygroundConfig
from tests.cluster import Cluster
from tests.live_server import Page, wait_until

pytestmark = pytest.mark.slow  # redis-server and four Backprop Live processes
CONFIG = {"dataset": "xor", "seed": 5, "hidden": [4, 2], "lr": 0.03, "batch_size": 10}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with Cluster(tmp_path_factory.mktemp("playground"), webs=2, workers=2,
                 heartbeat=30.0) as running:
        yield running


def params(frame: dict) -> np.ndarray:
    return np.frombuffer(frame["params"], "<f8")


def frames(page: Page) -> list[dict]:
    return [data for name, data in page.events if name == "playground_frame"]


def turns_by_worker(cluster) -> dict[str, int]:
    counts = cluster.redis.client().hgetall("bpl:playground-work")
    return {name: int(n) for name, n in counts.items()}


def replayed(steps: int, edits=()) -> Playground:
    """The exercise run here: ``steps`` SGD steps, each edit ``(after_step, position, value)``
    made after that many."""
    mine = Playground(PlaygroundConfig(**{**CONFIG, "hidden": tuple(CONFIG["hidden"])}))
    pending = sorted(edits)
    for k in range(steps + 1):
        while pending and pending[0][0] == k:
            _, position, value = pending.pop(0)
            mine.params[position] = value
        if k < steps:
            mine.step()
    return mine


def play_until(page: Page, count: int) -> None:
    seen = len(frames(page))
    assert page.call("playground_play", {})["ok"]
    page.wait_for(lambda events: sum(n == "playground_frame" for n, _ in events) >= seen + count,
                  timeout=120)


def test_turns_on_two_workers_train_as_one_run_and_the_edits_on_b_are_kept(cluster):
    before = sum(turns_by_worker(cluster).values())
    on_a = Page(cluster.webs[0].url).connect()
    on_b = Page(cluster.webs[1].url, http=on_a.http).connect()  # the same workspace, on B
    started = on_a.call("playground_start", {"config": CONFIG})
    assert started["ok"], started
    position = started["shape"]["weights"][1][3]
    play_until(on_a, 12)
    paused = on_a.call("playground_pause", {})["frame"]
    first = paused["step"]
    assert np.array_equal(params(paused), replayed(first).params)
    shown = [f["step"] for f in frames(on_a)]
    assert shown == sorted(set(shown)) and shown[-1] <= first  # each turn once, in order

    edited = on_b.call("playground_weight", {"position": position, "value": -1.75})
    assert edited["ok"], edited
    assert np.array_equal(params(edited["frame"]), replayed(first, [(first, position,
                                                                      -1.75)]).params)
    play_until(on_a, 12)  # A's loop: its first turn starts from B's edit
    # An edit on B while A plays: it lands at the step its answer says, and the turns go on
    # from it (a turn in flight when it came is dropped, or the edit is computed again)
    during = on_b.call("playground_weight", {"position": position, "value": 0.5})
    assert during["ok"], during
    edits = [(first, position, -1.75), (during["frame"]["step"], position, 0.5)]
    seen = len(frames(on_a))
    on_a.wait_for(lambda events: sum(n == "playground_frame" for n, _ in events) >= seen + 8,
                  timeout=120)
    last = on_a.call("playground_pause", {})["frame"]
    mine = replayed(last["step"], edits)
    assert np.array_equal(params(last), mine.params)
    assert last["epoch"] == mine.epoch
    assert last["test_loss"] == pytest.approx(mine.metrics().test_loss, rel=1e-12)
    # Both workers computed turns, and together every turn that was shown
    counts = turns_by_worker(cluster)
    assert len(counts) == 2 and all(n > 0 for n in counts.values()), counts
    assert sum(counts.values()) - before >= len(frames(on_a))
    on_a.close()
    on_b.close()


def test_a_worker_killed_in_the_middle_of_a_turn_loses_no_step(tmp_path):
    # Turns of a second: the kill lands while the worker named in the turn's mark computes it
    with Cluster(tmp_path, webs=1, workers=2, heartbeat=30.0,
                 settings=("PLAYGROUND_TURN_SECONDS=1.0",)) as slow:
        page = Page(slow.webs[0].url).connect()
        assert page.call("playground_start", {"config": CONFIG})["ok"]
        play_until(page, 2)
        client = slow.redis.client()
        marked = wait_until(lambda: client.keys("bpl:playground-taken:*"), timeout=30)
        name = client.get(marked[0])
        victim = next(w for w in slow.workers if w.name == name)
        shown = len(frames(page))
        victim.process.send_signal(signal.SIGKILL)
        play_until(page, 3)  # the other worker plays that turn again, and goes on
        last = page.call("playground_pause", {})["frame"]
        assert not [d for n, d in page.events if n == "playground_stopped"]
        assert np.array_equal(params(last), replayed(last["step"]).params)
        steps = [f["step"] for f in frames(page)]
        assert steps == sorted(set(steps)) and len(steps) >= shown + 3
        survivor = next(w for w in slow.workers if w is not victim)
        assert turns_by_worker(slow)[survivor.name] >= 3
        page.close()


def test_changes_sent_at_once_are_each_made_once(cluster):
    page = Page(cluster.webs[0].url).connect()
    started = page.call("playground_start", {"config": CONFIG})
    assert started["ok"], started
    answers = [page.emit("playground_step", {}) for _ in range(6)]  # not waiting in between
    page.wait_for(lambda events: all(answers), timeout=60)
    steps = sorted(a[0]["frame"]["step"] for a in answers)
    assert steps == [1, 2, 3, 4, 5, 6]
    last = page.call("playground_pause", {})["frame"]
    assert last["step"] == 6 and np.array_equal(params(last), replayed(6).params)
    page.close()


def test_closing_the_page_ends_the_exercise_in_redis(cluster):
    page = Page(cluster.webs[0].url).connect()
    assert page.call("playground_start", {"config": CONFIG})["ok"]
    client = cluster.redis.client()
    assert len(client.keys("bpl:playground:*")) == 1
    page.close()
    wait_until(lambda: not client.keys("bpl:playground:*"), timeout=30)
    assert client.zcard("bpl:slots:playgrounds") == 0


def test_max_playgrounds_holds_across_web_processes_and_no_worker_is_named(tmp_path):
    with Cluster(tmp_path, webs=2, workers=0, heartbeat=30.0,
                 settings=("MAX_PLAYGROUNDS=1", "PLAYGROUND_TURN_WAIT_SECONDS=3")) as alone:
        first = Page(alone.webs[0].url).connect()
        second = Page(alone.webs[1].url).connect()  # another workspace, on the other process
        assert first.call("playground_start", {"config": CONFIG})["ok"]
        refused = second.call("playground_start", {"config": CONFIG})
        assert refused["ok"] is False and refused["error"]["limit"] == "MAX_PLAYGROUNDS"
        assert "MAX_PLAYGROUNDS=1" in refused["error"]["message"]
        # No worker: the turn waits PLAYGROUND_TURN_WAIT_SECONDS, then the page is told
        assert first.call("playground_play", {})["ok"]
        first.wait_for(lambda events: any(n == "playground_stopped" for n, _ in events),
                       timeout=60)
        stopped = next(d for n, d in first.events if n == "playground_stopped")
        assert stopped["limit"] == "PLAYGROUND_TURN_WAIT_SECONDS"
        assert "PLAYGROUND_TURN_WAIT_SECONDS" in stopped["reason"]
        raw = redis.Redis(port=alone.redis.port)
        jobs = [Job.fetch(key.decode().split(":")[-1], connection=raw,
                          serializer=JSONSerializer) for key in raw.keys("rq:job:*")]
        assert jobs and all(job.get_status() == "canceled" for job in jobs)  # none runs later
        # Stopped, it steps in the web process as before, and a closed page frees its slot
        assert first.call("playground_step", {})["frame"]["step"] == 1
        first.close()
        admitted = wait_until(
            lambda: second.call("playground_start", {"config": CONFIG})["ok"] or None,
            timeout=30)
        assert admitted
        second.close()
