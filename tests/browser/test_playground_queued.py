"""The Playground tab in chromium against a cluster (issue 16): a web process, a worker for the
pages and redis-server; every turn of the playing exercise is the worker's. Oracle: the engine's
own Playground, stepped here as many times as the page says, gives the weights the page shows."""

from __future__ import annotations

import pytest

from engine.playground import Playground, PlaygroundConfig
from tests.browser.conftest import VIEWPORT, shot
from tests.browser.test_playground import attribute, open_playground, play_pause_and_step
from tests.cluster import Cluster

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_playground_trains_on_the_worker_and_pauses_where_the_engine_is(browser, tmp_path):
    with Cluster(tmp_path, webs=1, workers=1, heartbeat=30.0,
                 worker_args=("--graphs-only",)) as cluster:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.base_url = cluster.webs[0].url
        open_playground(page)
        paused = play_pause_and_step(page)  # the Step: in the web process, from Redis
        shot(page, "playground-on-the-queue")
        turns = cluster.redis.client().hgetall("bpl:playground-work")
        assert list(turns) == [cluster.workers[0].name] and int(turns[cluster.workers[0].name]) > 0
        mine = Playground(PlaygroundConfig())
        for _ in range(paused + 1):
            mine.step()
        loss = float(attribute(page, "test-loss"))
        assert loss == pytest.approx(mine.metrics().test_loss, rel=1e-6)
        assert int(attribute(page, "epoch")) == mine.epoch
        assert not errors
        context.close()
