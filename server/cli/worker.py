"""``backprop-live worker``: train the runs of the queue (``serve --jobs``), on any machine.

One worker trains one run at a time, in its own process (RQ's SimpleWorker): start as many as
the machine has cores for training. Its records go into the same database as the web app's and
onto the message queue, from which every web process hands them to its pages. SIGTERM (systemd's
stop) ends the run it trains as stopped at the next step — "its worker was shut down" — and
then the worker; a worker killed outright is noticed by the web processes within
1.5 × JOB_HEARTBEAT_SECONDS, and its run is marked failed (docs/deploy.md).
"""

from __future__ import annotations

import os
import sys

from . import data_dir

EXIT_BAD_SETUP = 2
READY = "Backprop Live worker {name} taking runs from {queue}"  # tests wait for this line


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "worker", help="train the runs a web app started with --jobs queues",
        description="Train runs from the job queue of `serve --jobs URL`, one at a time. Give "
                    "it the same --jobs, --message-queue and data dir (or database) as the web "
                    "processes.")
    parser.add_argument("--jobs", default=os.environ.get("BACKPROP_LIVE_JOBS"), metavar="URL",
                        help="the queue's Redis, redis://host:port/db ($BACKPROP_LIVE_JOBS)")
    parser.add_argument("--message-queue", metavar="URL",
                        default=os.environ.get("BACKPROP_LIVE_MESSAGE_QUEUE"),
                        help="where the web processes listen for events (default: --jobs; "
                             "$BACKPROP_LIVE_MESSAGE_QUEUE)")
    data_dir.add_argument(parser)
    parser.add_argument("--heartbeat", type=float, metavar="SECONDS",
                        default=float(os.environ.get("BACKPROP_LIVE_JOB_HEARTBEAT_SECONDS", 10)),
                        help="JOB_HEARTBEAT_SECONDS: the web processes take a run whose worker "
                             "is silent this long for dead (give them the same; default 10)")
    parser.set_defaults(main=main)


def main(args) -> int:
    if not args.jobs or not args.jobs.startswith(("redis://", "rediss://", "unix://")):
        print("backprop-live worker: give --jobs redis://host:port/db, the URL the web "
              "processes were started with", file=sys.stderr)
        return EXIT_BAD_SETUP
    if not args.heartbeat > 0:
        print("backprop-live worker: --heartbeat must be a number of seconds > 0",
              file=sys.stderr)
        return EXIT_BAD_SETUP
    import redis
    from rq import Queue, SimpleWorker
    from rq.serializers import JSONSerializer

    from ..jobs import queued_run
    from ..jobs.queued import QUEUE, connect_rq
    from ..jobs.relay import RunRelay
    from ..jobs.shared import SharedTraining, connect
    from ..store import DATABASE, StorageError, Store

    folder = data_dir.resolve(args.data_dir)
    try:
        store = Store(folder / DATABASE)
        rq_redis = connect_rq(args.jobs)
        rq_redis.ping()
    except (StorageError, OSError, redis.RedisError) as exc:
        print(f"backprop-live worker: {exc}", file=sys.stderr)
        return EXIT_BAD_SETUP
    context = queued_run.WorkerContext(
        store, SharedTraining(connect(args.jobs)),
        RunRelay(args.message_queue or args.jobs, write_only=True), args.heartbeat)
    queued_run.CONTEXT = context

    class RunWorker(SimpleWorker):
        def request_stop(self, signum, frame):
            context.shutting_down.set()  # the run ends at its next step, recorded as stopped
            super().request_stop(signum, frame)

    worker = RunWorker([Queue(QUEUE, connection=rq_redis, serializer=JSONSerializer)],
                       connection=rq_redis, serializer=JSONSerializer)
    print(READY.format(name=worker.name, queue=args.jobs), flush=True)
    worker.work(with_scheduler=False, logging_level="WARNING")
    store.close()
    return 0
