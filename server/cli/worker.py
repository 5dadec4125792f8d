"""``backprop-live worker``: train the runs of the queue (``serve --jobs``), on any machine, and
compute the big traces and gradient checks the web processes queue (``jobs.queued_graphs``),
those first, and the turns of playing Playground exercises (``jobs.playground_turns``), those
last; ``--graphs-only``: the graphs and the Playground, no training.

One worker trains one run at a time, in its own process (RQ's SimpleWorker): start as many as
the machine has cores for training. Its records go into the same database as the web app's and
onto the message queue, from which every web process hands them to its pages. SIGTERM (systemd's
stop) ends the run it trains as stopped at the next step — "its worker was shut down" — and
then the worker; a worker killed outright is noticed by the web processes within
1.5 × JOB_HEARTBEAT_SECONDS, and its run is marked failed (docs/deploy.md).
"""

from __future__ import annotations

import sys

from ..databases.postgres import redacted
from . import data_dir, settings
from .settings import SetupError

EXIT_BAD_SETUP = 2
READY = "Backprop Live worker {name} taking runs from {queue}"  # tests wait for this line


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "worker", help="train the runs a web app started with --jobs queues",
        description="Train runs from the job queue of `serve --jobs URL`, one at a time. Give "
                    "it the settings of the web processes — --jobs, --message-queue, the data "
                    "dir or --database, JOB_HEARTBEAT_SECONDS — by flag, environment or the "
                    "same --config file.")
    data_dir.add_argument(parser)
    settings.add_arguments(parser, ["DATABASE", "MESSAGE_QUEUE", "JOBS"])
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting, e.g. --set JOB_HEARTBEAT_SECONDS=10")
    parser.add_argument("--graphs-only", action="store_true",
                        help="take only big traces, gradient checks and the Playground's "
                             "turns, no training runs: a worker for the pages while the others "
                             "train")
    parser.set_defaults(main=main)


def main(args) -> int:
    from ..app import DEFAULTS

    try:
        given = {**DEFAULTS, **settings.resolve(args, DEFAULTS)}
        if not given["JOBS"]:
            raise SetupError("give --jobs redis://host:port/db, the URL the web processes were "
                             "started with (the setting JOBS)")
        if not given["JOB_HEARTBEAT_SECONDS"] > 0:
            raise SetupError("JOB_HEARTBEAT_SECONDS must be a number of seconds > 0")
    except SetupError as exc:
        print(f"backprop-live worker: {exc}", file=sys.stderr)
        return EXIT_BAD_SETUP
    import redis
    from rq import Queue, SimpleWorker
    from rq.serializers import JSONSerializer

    from ..jobs import playground_turns, queued_graphs, queued_run
    from ..jobs.queued import QUEUE, connect_rq
    from ..jobs.relay import RunRelay
    from ..jobs.shared import SharedTraining, connect
    from ..store import DATABASE, StorageError, Store

    jobs = given["JOBS"]
    try:
        store = Store(given["DATABASE"] or data_dir.resolve(args.data_dir) / DATABASE)
        rq_redis = connect_rq(jobs)
        rq_redis.ping()
    except (StorageError, OSError, redis.RedisError) as exc:
        print(f"backprop-live worker: {exc}", file=sys.stderr)
        return EXIT_BAD_SETUP
    context = queued_run.WorkerContext(
        store, SharedTraining(connect(jobs)),
        RunRelay(given["MESSAGE_QUEUE"] or jobs, write_only=True),
        float(given["JOB_HEARTBEAT_SECONDS"]))
    queued_run.CONTEXT = context
    graph_queue = _serve_graph_work(given, store, connect(jobs), rq_redis)
    playground_queue = _serve_playground_turns(connect(jobs), rq_redis)

    class RunWorker(SimpleWorker):
        def request_stop(self, signum, frame):
            context.shutting_down.set()  # the run ends at its next step, recorded as stopped
            super().request_stop(signum, frame)

    # Graph work first: a trace takes a second or less, and a page waits on it. Then a run
    # that waits (admitted within the training budgets), then the Playground's turns, which
    # come for as long as an exercise plays and would otherwise keep every run waiting.
    queues = [graph_queue, playground_queue] if args.graphs_only else [
        graph_queue, Queue(QUEUE, connection=rq_redis, serializer=JSONSerializer),
        playground_queue]
    worker = RunWorker(queues, connection=rq_redis, serializer=JSONSerializer)
    queued_graphs.CONTEXT.name = playground_turns.CONTEXT.name = worker.name
    print(READY.format(name=worker.name, queue=redacted(jobs)), flush=True)
    worker.work(with_scheduler=False, logging_level="WARNING")
    store.close()
    return 0


def _serve_playground_turns(shared_redis, rq_redis):
    """The Playground's turns (jobs.playground_turns): each job carries the web process's
    settings of them. Returns their queue."""
    from rq import Queue
    from rq.serializers import JSONSerializer

    from ..jobs import playground_turns

    playground_turns.CONTEXT = playground_turns.PlaygroundWorkContext(
        shared_redis, rq_redis, progress=playground_turns.Progress(shared_redis))
    return Queue(playground_turns.QUEUE, connection=rq_redis, serializer=JSONSerializer)


def _serve_graph_work(given: dict, store, shared_redis, rq_redis):
    """Big traces and gradient checks (jobs.queued_graphs): the graphs come from the same
    catalog as the web processes' (built-in models and examples, the store's uploads), within
    the same limits; the computations are the sockets' own. Returns the graphs' queue."""
    from functools import partial
    from pathlib import Path

    from rq import Queue
    from rq.serializers import JSONSerializer

    from engine.formats import Limits

    from ..catalog import Catalog
    from ..jobs import queued_graphs
    from ..sockets import traces

    catalog = Catalog(store, Path(given["EXAMPLES_DIR"]),
                      Limits(max_bytes=given["MAX_UPLOAD_BYTES"], max_nodes=given["MAX_NODES"]),
                      given["GRAPH_CACHE_BYTES"])
    queued_graphs.CONTEXT = queued_graphs.GraphWorkContext(shared_redis, "", {
        "trace": partial(traces.trace_messages, catalog),
        "gradient_check": partial(traces.gradient_check_messages, catalog)})
    return Queue(queued_graphs.QUEUE, connection=rq_redis, serializer=JSONSerializer)
