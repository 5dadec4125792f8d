"""Heavy graph work on the job queue (issue 16): with ``--jobs``, a trace or gradient check of a
graph of QUEUED_GRAPH_MIN_NODES or more is computed by a ``backprop-live worker`` and streamed by
the web process that was asked; smaller graphs stay in the web process. Real redis-server, two web
processes, one worker. Oracles: the engine run here, in the test's own process, on the same graph;
RQ's own record of each job; which process the worker is (its pid, its RQ name).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import redis
from rq import Worker
from rq.job import Job
from rq.serializers import JSONSerializer

from engine.formats import Limits
from server.catalog import Catalog
from tests.cluster import Cluster
from tests.live_server import Page, wait_until
from tests.server.frames import decode

pytestmark = pytest.mark.slow  # redis-server and three Backprop Live processes
BIG = "model:mlp"  # ~26,000 nodes: above the default QUEUED_GRAPH_MIN_NODES (20,000)
SMALL = "example:reference.expr"
# 90,000 steps (MAX_TRAINING_STEPS is 100,000) of the ResNet: minutes, unless stopped (an MLP's
# took ~50 s, and under load the test's cancels outlasted it: the worker was free too soon)
LONG = {"model": "resnet", "epochs": 500, "batch_size": 8, "seed": 3}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    # A long heartbeat: no worker deaths are tested here, and a busy 2-core machine can delay
    # a training worker's beat by seconds (it would be taken for dead, its run failed).
    with Cluster(tmp_path_factory.mktemp("graphs"), webs=2, workers=1,
                 heartbeat=30.0) as running:
        yield running


def engine_program(ref: str):
    """The graph computed by the engine in this process: values and gradients by wire id."""
    entry = Catalog(None, EXAMPLES, Limits()).entry(ref, "w_test")
    graph = entry.loaded.graph
    graph.compute_forward()
    graph.back_prop()
    return graph.program()


def graph_jobs_done(cluster) -> int:
    counts = cluster.redis.client().hgetall("bpl:graph-work")
    return sum(int(n) for n in counts.values())


def trace_events(page: Page, token: str) -> list[tuple[str, dict]]:
    return [(name, decode(data) if name == "trace" else data) for name, data in page.events
            if name.startswith("trace") and data.get("trace") == token]


def test_a_big_trace_started_on_a_is_computed_by_the_worker_every_frame_once(cluster):
    web_a = cluster.webs[0]
    worker = cluster.workers[-1]
    page = Page(web_a.url).connect()
    done_before = graph_jobs_done(cluster)
    ack = page.call("trace_graph", {"graph": BIG, "mode": "both"}, timeout=120)
    assert ack["ok"], ack
    assert (ack["worker"], ack["pid"]) == (worker.name, worker.pid)  # not web A's own pool
    assert graph_jobs_done(cluster) == done_before + 1
    events = trace_events(page, ack["trace"])
    names = [name for name, _ in events]
    assert names[0] == "trace_queued" and names[1] == "trace_start" and names[-1] == "trace_done"
    frames = [data for name, data in events if name == "trace"]
    assert names.count("trace_start") == names.count("trace_done") == 1
    assert len(frames) == events[1][1]["frames"]
    phases = [f["phase"] for f in frames]
    n_forward = phases.count("forward")
    n_backward = len(frames) - n_forward - 1
    assert phases == ["forward"] * n_forward + ["seed"] + ["backward"] * n_backward
    program = engine_program(BIG)
    assert ack["nodes"] == len(program.nodes)
    values = {}
    for frame in frames[:n_forward]:  # in order: levels ascending, each node exactly once
        for i, v in zip(frame["ids"], frame["values"], strict=True):
            assert i not in values
            values[i] = v
    assert [f["level"] for f in frames[:n_forward]] == sorted(f["level"]
                                                              for f in frames[:n_forward])
    assert sorted(values) == list(range(len(program.nodes)))
    assert np.array_equal([values[i] for i in range(len(program.nodes))], program.values)
    grads, edges = {}, 0
    for frame in frames[n_forward + 1:]:
        for i, g in zip(frame["ids"], frame["grads"], strict=True):
            assert i not in grads
            grads[i] = g
        edges += len(frame["edges"]["parent"])
    assert edges == ack["edges"] == len(program.edge_child)
    assert np.array_equal([grads[i] for i in sorted(grads)], program.grads[sorted(grads)])
    page.close()


def test_a_small_trace_stays_in_the_web_process(cluster):
    page = Page(cluster.webs[1].url).connect()
    done_before = graph_jobs_done(cluster)
    ack = page.call("trace_graph", {"graph": SMALL, "mode": "both"})
    assert ack["ok"] and "worker" not in ack
    assert graph_jobs_done(cluster) == done_before
    assert "trace_queued" not in [name for name, _ in trace_events(page, ack["trace"])]
    page.close()


def test_a_big_gradient_check_on_b_is_computed_by_the_worker(cluster):
    worker = cluster.workers[-1]
    page = Page(cluster.webs[1].url).connect()
    ack = page.call("gradient_check", {"graph": BIG}, timeout=120)
    assert ack["ok"], ack
    assert (ack["worker"], ack["pid"]) == (worker.name, worker.pid)
    program = engine_program(BIG)
    n_inputs = sum(1 for n in program.nodes if n.operator == "input")
    assert len(ack["inputs"]) == min(64, n_inputs)  # GRADIENT_CHECK_MAX_INPUTS
    for item in ack["inputs"]:
        assert item["agree"], item
        assert item["analytic"] == float(np.sum(program.grads[item["id"]]))
        assert item["numeric"] == pytest.approx(item["analytic"], rel=1e-5, abs=1e-8)
    page.close()


def test_a_cancelled_trace_is_cancelled_in_the_queue_and_never_computed(cluster):
    """Cancelled by the page (cancel_trace), or by its going away (a disconnect)."""
    web_a, web_b = cluster.webs[:2]
    worker = cluster.workers[-1]
    trainer = Page(web_b.url).connect()
    run_id = trainer.call("train", LONG)["run_id"]
    assert cluster.worker_of(run_id) is worker  # the one worker is busy training (RQ says)
    page = Page(web_a.url).connect()
    answered = page.emit("trace_graph", {"graph": BIG, "mode": "both"})
    queued = page.wait_for(lambda events: next(
        (d for n, d in events if n == "trace_queued"), None), timeout=60)
    token = queued["trace"]
    connection = redis.Redis(port=cluster.redis.port)
    assert Job.fetch(token, connection=connection,
                     serializer=JSONSerializer).get_status() == "queued"
    assert page.call("cancel_trace", {"trace": token})["ok"]
    page.wait_for(lambda events: answered, timeout=60)
    assert answered[0]["ok"] is False and answered[0]["error"]["message"] == "cancelled"
    assert Job.fetch(token, connection=connection,
                     serializer=JSONSerializer).get_status() == "canceled"  # RQ's own record
    # A page that goes away while its trace waits takes it out of the queue too.
    leaving = Page(web_a.url).connect()
    leaving.emit("trace_graph", {"graph": BIG, "mode": "both"})
    gone = leaving.wait_for(lambda events: next(
        (d for n, d in events if n == "trace_queued"), None), timeout=60)["trace"]
    leaving.close()
    wait_until(lambda: Job.fetch(gone, connection=connection,
                                 serializer=JSONSerializer).get_status() == "canceled", timeout=30)
    done_before = graph_jobs_done(cluster)
    assert trainer.call("stop_run", {"run_id": run_id})["ok"]
    # The worker, free again, computes the next trace — and never computed the cancelled ones.
    ack = page.call("trace_graph", {"graph": BIG, "mode": "forward"}, timeout=120)
    assert ack["ok"] and ack["worker"] == worker.name
    assert graph_jobs_done(cluster) == done_before + 1
    assert [n for n, _ in trace_events(page, token)] == ["trace_queued"]  # no frame of it
    page.close()
    trainer.close()


def test_no_worker_to_answer_is_an_error_naming_the_wait(tmp_path):
    with Cluster(tmp_path, webs=1, workers=0, heartbeat=4.0,
                 settings=("QUEUED_GRAPH_WAIT_SECONDS=1",)) as alone:
        page = Page(alone.webs[0].url).connect()
        answer = page.call("trace_graph", {"graph": BIG, "mode": "both"})
        assert answer["ok"] is False
        assert answer["error"]["limit"] == "QUEUED_GRAPH_WAIT_SECONDS"
        assert "QUEUED_GRAPH_WAIT_SECONDS" in answer["error"]["message"]
        token = next(d for n, d in page.events if n == "trace_queued")["trace"]
        job = Job.fetch(token, connection=redis.Redis(port=alone.redis.port),
                        serializer=JSONSerializer)
        assert job.get_status() == "canceled"  # no worker started later takes it
        assert page.call("trace_graph", {"graph": SMALL, "mode": "forward"})["ok"]  # local
        graphs_only = alone.add_worker(args=("--graphs-only",))
        # A worker's first build of a graph takes a second or so: wait longer on a second web
        alone.settings = ("QUEUED_GRAPH_WAIT_SECONDS=120",)
        patient = Page(alone.add_web().url).connect()
        ack = patient.call("trace_graph", {"graph": BIG, "mode": "forward"}, timeout=120)
        assert ack["ok"] and ack["worker"] == graphs_only.name
        (registered,) = Worker.all(connection=redis.Redis(port=alone.redis.port))
        # no training queue: the graphs, then the Playground's turns
        assert registered.queue_names() == ["backprop-live-graphs", "backprop-live-playground"]
        page.close()
        patient.close()


def test_a_bad_request_the_worker_refuses_is_answered_as_the_web_process_would(cluster):
    program = engine_program(BIG)
    computed = next(p for p, n in enumerate(program.nodes) if n.operator not in ("input",
                                                                                "const"))
    page = Page(cluster.webs[0].url).connect()
    done_before = graph_jobs_done(cluster)
    answer = page.call("trace_graph", {"graph": BIG, "values": {str(computed): 1.0}},
                       timeout=120)
    assert graph_jobs_done(cluster) == done_before + 1  # the worker read the request
    assert answer["ok"] is False
    assert answer["error"]["message"].startswith(f"node '{computed}' is computed")
    assert page.call("trace_graph", {"graph": BIG, "mode": "forward"}, timeout=120)["ok"]
    page.close()
