"""Socket.IO events for training runs (docs/protocol.md): start, stop and watch them.

A page that watches a run gets its history, then the live tail, each record exactly once —
whether the server trains it (a worker process of the job runner) or a terminal does
(``backprop-live train``, followed by ``jobs.terminal``).
"""

from __future__ import annotations

from functools import partial

from flask import request
from flask_socketio import join_room, leave_room

from engine.training import TrainConfig, from_network

from ..catalog import NotFoundError
from ..jobs.records import TRAIN_FIELDS, run_name, run_options, steps_per_epoch
from . import backpressure
from .common import address, handle, text_arg, workspace


def train(services, data):
    fields = {k: data[k] for k in TRAIN_FIELDS if k in data}
    stored, network, title, ws = {}, None, None, workspace()
    graph = text_arg(data, "graph", required=False)
    if graph is not None:  # an uploaded (or example) network spec
        title, fmt, network = services.catalog.source(graph, ws)
        if fmt != "network":
            raise ValueError(f"only a network spec can be trained, not a {fmt} graph")
        fields["model"] = "network"
        stored = {"graph": graph, "network_name": title}
    config = TrainConfig(**fields, network=network).checked()
    services.jobs.check_budget(steps_per_epoch(config.batch_size), config.epochs, config.width)
    if network is not None:
        services.cpu.call(ws, from_network, network)  # refuse it here, not in a worker
    name = str(data.get("name") or run_name(config, title))[:200]
    options = run_options(config)
    run_id = services.jobs.start_training(ws, address(), name, {**options, **stored},
                                          {**options, "network": network})
    return {"ok": True, "run_id": run_id, "name": name}


def stop_run(services, data):
    run_id = text_arg(data, "run_id")
    if not services.jobs.stop_training(run_id, workspace()):
        run = services.store.run(run_id, workspace())
        if run is None:
            raise NotFoundError("no such run")
        if run["origin"] == "terminal" and run["status"] == "running":
            raise ValueError("this run is trained in a terminal: stop it there (Ctrl-C)")
        return {"ok": True, "status": run["status"]}
    return {"ok": True, "status": "stopping"}


def watch_run(services, data):
    run_id, after, ws = text_arg(data, "run_id"), data.get("after", 0), workspace()
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**62:
        raise ValueError("after must be the last seq the page has (an integer ≥ 0)")
    if services.store.run(run_id, ws) is None:
        raise NotFoundError("no such run")
    sent = _send_history_pages(services, run_id, after)
    # Holding the job runner's lock, no record can be stored and published between reading
    # the rest of the history and joining the room: the page gets each record exactly once.
    # With a message queue, the relay's lock too: records of other processes arrive through it.
    with services.jobs.lock, services.watching():
        run = services.store.run(run_id, ws)
        if run is None:
            raise NotFoundError("no such run")
        upto = None
        if run["origin"] == "terminal" and run["status"] == "running":
            upto = services.terminal_runs.follow(run_id)  # the rest comes as it is published
        records = services.store.metrics(run_id, sent, upto)
        join_room(f"run:{run_id}")
        services.watched(request.sid, run_id, records[-1]["seq"] if records else sent)
        services.socketio.emit("run_history", {"run_id": run_id, "status": run["status"],
                                               "records": records}, to=request.sid)
    return {"ok": True, "status": run["status"], "records": sent - after + len(records)}


def _send_history_pages(services, run_id: str, after: int) -> int:
    """A long history goes first as ``run_metrics`` pages, read off the loop and outside the
    lock (stored records never change); returns the last seq sent."""
    page = services.config["METRICS_PAGE"]
    upto = services.store.last_seq(run_id)
    while upto - after > page:
        records = services.cpu.call(workspace(), services.store.metrics, run_id, after, upto,
                                    page)
        if not records:
            break
        backpressure.wait_to_send(services.socketio, request.sid,
                                  services.config["MAX_QUEUED_BYTES"],
                                  services.config["QUEUE_STALL_SECONDS"])
        services.socketio.emit("run_metrics", {"run_id": run_id, "records": records},
                               to=request.sid)
        after = records[-1]["seq"]
    return after


def unwatch_run(data):
    leave_room(f"run:{text_arg(data, 'run_id')}")
    return {"ok": True}


def register(socketio, services) -> None:
    handle(socketio, "train", partial(train, services))
    handle(socketio, "stop_run", partial(stop_run, services))
    handle(socketio, "watch_run", partial(watch_run, services))
    handle(socketio, "unwatch_run", unwatch_run)
