"""Socket.IO events of the Playground tab (docs/protocol.md): start an exercise, play, pause,
step, reset, edit a weight; frames stream to the page that plays."""

from __future__ import annotations

from dataclasses import fields
from functools import partial

from flask import request

from engine.playground import PlaygroundConfig, frames
from engine.playground.upload import CsvError, CsvLimits, read_points

from ..limits import LimitError
from . import backpressure
from .common import handle, workspace

CONFIG_FIELDS = {f.name for f in fields(PlaygroundConfig)}
TUPLES = ("features", "hidden")


def config_of(data: dict) -> PlaygroundConfig:
    given = data.get("config") or {}
    if not isinstance(given, dict):
        raise ValueError("config must be an object of Playground options")
    unknown = sorted(set(given) - CONFIG_FIELDS)
    if unknown:
        raise ValueError(f"unknown Playground option {unknown[0]!r}; options are "
                         f"{sorted(CONFIG_FIELDS)}")
    options = dict(given)
    for name in TUPLES:
        if name in options:
            if not isinstance(options[name], list):
                raise ValueError(f"{name} must be a list")
            options[name] = tuple(options[name])
    for name in ("noise", "ratio", "lr", "reg_rate"):
        if isinstance(options.get(name), int) and not isinstance(options[name], bool):
            options[name] = float(options[name])
    return PlaygroundConfig(**options).checked()


def start(services, data):
    config = config_of(data)
    points = None
    csv = data.get("csv")
    if csv is not None:
        if not isinstance(csv, str):
            raise ValueError("csv must be the file's text")
        limits = CsvLimits(services.config["MAX_CSV_BYTES"], services.config["MAX_CSV_POINTS"])
        try:
            points = read_points(csv, config.classification, limits)
        except CsvError as exc:
            if exc.limit is not None:
                raise LimitError(str(exc), exc.limit) from None
            raise
    exercise = services.playgrounds.start(workspace(), request.sid, config, points)
    playground = exercise.playground
    return {"ok": True, "points": frames.points(playground), "shape": frames.shape(playground),
            "frame": services.playgrounds.frame(exercise)}


def play(services, data):
    services.playgrounds.play(workspace(), request.sid)
    return {"ok": True}


def pause(services, data):
    return {"ok": True, "frame": services.playgrounds.pause(workspace())}


def step(services, data):
    return {"ok": True, "frame": services.playgrounds.step(workspace())}


def weight(services, data):
    """{position, value}: the edge's weight set; ack {ok, frame} with the new boundary."""
    frame = services.playgrounds.set_weight(workspace(), data.get("position"), data.get("value"))
    return {"ok": True, "frame": frame}


def sample(services, data):
    """Point ``index``'s scalar graph, stored as this workspace's upload (a JSON graph) so the
    Graph tab loads it as any other: {ok, ref, name}."""
    ws = workspace()
    text, name = services.playgrounds.sample_source(ws, data.get("index"))
    config, catalog = services.config, services.catalog

    def store() -> dict:
        entry = catalog.upload_entry(text, "graph", None, name)
        nodes = len(entry.loaded.graph.program().nodes)
        graph_id = services.store.add_graph(ws, name, "graph", text, nodes,
                                            max_graphs=config["MAX_GRAPHS_PER_WORKSPACE"],
                                            max_bytes=config["MAX_WORKSPACE_BYTES"])
        catalog.remember(catalog.upload_key(graph_id, ws), entry)
        return {"ok": True, "ref": graph_id, "name": name}
    return services.cpu.call(ws, store)


def register(socketio, services) -> None:
    def emit(event: str, data: dict, sid: str) -> None:
        backpressure.wait_to_send(socketio, sid, services.config["MAX_QUEUED_BYTES"],
                                  services.config["QUEUE_STALL_SECONDS"])
        socketio.emit(event, data, to=sid)
        # Let Engine.IO's writer send it now, before the next turn starts in the CPU pool (its
        # thread holds the GIL): step end → the page has it went from p50 ~28 ms to ~13 ms.
        socketio.sleep(0)

    services.playgrounds.emit = emit
    handle(socketio, "playground_start", partial(start, services))
    handle(socketio, "playground_play", partial(play, services))
    handle(socketio, "playground_pause", partial(pause, services))
    handle(socketio, "playground_step", partial(step, services))
    handle(socketio, "playground_sample", partial(sample, services))
    handle(socketio, "playground_weight", partial(weight, services))
