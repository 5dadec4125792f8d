"""``backprop-live runs``: the training runs in the database — every workspace's and the
terminal's — listed, shown, exported or deleted from the command line."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

from . import data_dir, settings
from .settings import SetupError


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "runs", help="list, show, export or delete training runs",
        description="The training runs in the database, whether trained on the page or with "
                    "backprop-live train.")
    data_dir.add_argument(parser)
    # --jobs, --message-queue: where `runs stop` finds a run trained by `backprop-live worker`
    settings.add_arguments(parser, ["DATABASE", "JOBS", "MESSAGE_QUEUE"])
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="one line per run, oldest first")
    listing.add_argument("--json", action="store_true", help="a JSON array of the runs")
    listing.set_defaults(main=list_runs)
    show = actions.add_parser("show", help="a run's options, status and result")
    show.add_argument("run_id", metavar="RUN")
    show.set_defaults(main=show_run)
    export = actions.add_parser("export", help="a run's records, as CSV or JSON lines")
    export.add_argument("run_id", metavar="RUN")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("-o", "--output", default="-",
                        help="the file to write ('-', the default: standard output)")
    export.set_defaults(main=export_run)
    stop = actions.add_parser("stop", help="stop a run that is training (on the page, in a "
                                           "terminal, or by a worker of --jobs)")
    stop.add_argument("run_id", metavar="RUN")
    stop.add_argument("--grace", type=float, default=5.0,
                      help="seconds to wait before killing a process that does not stop")
    stop.set_defaults(main=stop_run)
    delete = actions.add_parser("delete", help="delete a run that is not training")
    delete.add_argument("run_id", metavar="RUN")
    delete.set_defaults(main=delete_run)


def _database(args):
    """The PostgreSQL URL given, else the data dir's SQLite file (a Path)."""
    from ..store import DATABASE

    return data_dir.database(args) or data_dir.resolve(args.data_dir) / DATABASE


def _store(args):
    from ..store import Store

    path = _database(args)
    if isinstance(path, Path) and not path.exists():
        print(f"backprop-live runs: no database at {path} (train a run, or pass --data-dir)",
              file=sys.stderr)
        return None
    return Store(path)


def _named_run(args):
    """(store, run) for ``args.run_id``, or None once the reason is printed."""
    store = _store(args)
    run = store.run(args.run_id) if store else None
    if store and run is None:
        print(f"backprop-live runs: there is no run {args.run_id!r} (backprop-live runs list)",
              file=sys.stderr)
    return (store, run) if run else None


def list_runs(args) -> int:
    from ..store import Store

    path = _database(args)
    exists = not isinstance(path, Path) or path.exists()
    runs = Store(path).runs() if exists else []  # no database yet: no runs yet
    if args.json:
        print(json.dumps(runs))
        return 0
    if not runs:
        print("no runs yet")
    for run in runs:
        accuracy = (run["summary"] or {}).get("test_accuracy")
        print(f"{run['id']}  {time.strftime('%Y-%m-%d %H:%M', time.localtime(run['created']))}  "
              f"{run['origin']:8s}  {run['status']:11s}  {run['steps']:6d} steps  "
              f"{'' if accuracy is None else f'test accuracy {accuracy:.4f}  '}{run['name']}")
    return 0


def show_run(args) -> int:
    found = _named_run(args)
    if found is None:
        return 2
    print(json.dumps(found[1], indent=2))
    return 0


def export_run(args) -> int:
    from ..jobs.records import metrics_csv

    found = _named_run(args)
    if found is None:
        return 2
    store, _ = found
    records = store.metrics(args.run_id)
    text = (metrics_csv(records) if args.format == "csv"
            else "".join(json.dumps(r) + "\n" for r in records))
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        print(f"{len(records)} records of run {args.run_id} written to {args.output}")
    return 0


def stop_run(args) -> int:
    """SIGTERM to the process that trains the run (a server's worker, or a terminal's
    ``backprop-live train``): it sends what it has and ends, recorded as stopped; SIGKILL if it
    has not ended after the grace period."""
    from ..store import owner_alive

    found = _named_run(args)
    if found is None:
        return 2
    store, run = found
    if run["status"] != "running":
        print(f"run {args.run_id} is not training: it is {run['status']}")
        return 0
    owner = store.owner(args.run_id)
    if owner is None and run["origin"] == "server":  # a server's run: on the queue, if any
        return _stop_on_the_queue(args, store)
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not (pid.isascii() and pid.isdigit()):
        trainer = owner or "an unknown process"
        print(f"backprop-live runs: run {args.run_id} is trained by {trainer}, not on this "
              "computer: stop it there", file=sys.stderr)
        return 2
    with contextlib.suppress(ProcessLookupError):
        os.kill(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + args.grace
    while owner_alive(owner) and time.monotonic() < deadline:
        time.sleep(0.05)
    if owner_alive(owner):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
        print(f"run {args.run_id}: its process {pid} did not stop within {args.grace:g} s and "
              "was killed")
    else:
        print(f"stopped run {args.run_id}")
    return 0


def _stop_on_the_queue(args, store) -> int:
    """A run of `serve --jobs`: asked to stop through Redis, which its worker, on whatever
    machine, watches; cancelled there if it still waits (its watchers are told at once)."""
    from ..app import DEFAULTS

    try:
        given = settings.resolve(args, DEFAULTS)
    except SetupError as exc:
        print(f"backprop-live runs: {exc}", file=sys.stderr)
        return 2
    jobs = given.get("JOBS")
    if not jobs:
        print(f"backprop-live runs: run {args.run_id} is trained by a web process: stop it on "
              "the page, or give --jobs URL if the web app puts its runs on a queue",
              file=sys.stderr)
        return 2
    import redis

    from ..jobs.queued import connect_rq, stop_queued
    from ..jobs.relay import RunRelay
    from ..jobs.shared import SharedTraining, connect

    try:
        how = stop_queued(store, SharedTraining(connect(jobs)), connect_rq(jobs), args.run_id)
        if how == "cancelled":
            RunRelay(given.get("MESSAGE_QUEUE") or jobs, write_only=True).emit(
                "run_status", {"run_id": args.run_id, "status": "stopped", "summary": None},
                room=f"run:{args.run_id}")
    except redis.RedisError as exc:
        print(f"backprop-live runs: the job queue did not answer: {exc}", file=sys.stderr)
        return 2
    if how == "unknown":
        print(f"backprop-live runs: the job queue has no run {args.run_id} (was it trained "
              "with another --jobs?)", file=sys.stderr)
        return 2
    if how == "cancelled":
        print(f"stopped run {args.run_id}: it was still waiting in the queue")
        return 0
    deadline = time.monotonic() + args.grace
    while store.run(args.run_id)["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    status = store.run(args.run_id)["status"]
    if status == "running":
        print(f"run {args.run_id}: its worker was asked to stop it and has not yet after "
              f"{args.grace:g} s (it stops at its next step)")
    else:
        print(f"stopped run {args.run_id}")
    return 0


def delete_run(args) -> int:
    found = _named_run(args)
    if found is None:
        return 2
    store, run = found
    if run["status"] == "running":
        print(f"backprop-live runs: run {args.run_id} is training; stop it first (Stop on the "
              "page, or Ctrl-C in its terminal)", file=sys.stderr)
        return 2
    store.delete_run_anywhere(args.run_id)
    print(f"deleted run {args.run_id}")
    return 0
