"""Socket.IO events (docs/protocol.md): load and trace graphs, gradient checks, training.

Handlers translate between messages and the engine; the CPU work itself runs through the job
runner (``jobs.call_cpu``), off the event loop. Every handler answers its acknowledgement with
``{"ok": True, ...}`` or ``{"ok": False, "error": {...}}`` — one client's bad input never
raises into the server.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from contextlib import contextmanager

import numpy as np
from flask import current_app, request, session
from flask_socketio import join_room, leave_room

from engine import DomainError, EngineError
from engine.formats import FormatError
from engine.models import from_network
from engine.trace import Trace
from engine.training import TrainConfig, TrainingError

from . import wire
from .app import services
from .catalog import NotFoundError
from .jobs import BusyError

MODES = ("forward", "backward", "both")
TRAIN_FIELDS = ("model", "epochs", "batch_size", "lr", "optimizer", "momentum", "seed", "width",
                "shift", "label_smoothing")


def fail(message: str, **extra) -> dict:
    return {"ok": False, "error": {"message": message, **extra}}


def guarded(handler):
    """Turn the errors a client can cause into a failed acknowledgement."""
    def wrapper(data=None):
        if data is not None and not isinstance(data, dict):
            return fail(f"{handler.__name__} takes an object {{...}}, not {type(data).__name__}")
        try:
            return handler(data or {})
        except NotFoundError as exc:
            return fail(f"not found: {exc}")
        except FormatError as exc:
            return {"ok": False, "error": wire.format_error(exc)}
        except BusyError as exc:
            return fail(str(exc), limit=exc.limit)
        except (EngineError, TrainingError, ValueError, TypeError) as exc:
            return fail(str(exc))
    wrapper.__name__ = handler.__name__
    return wrapper


class Streams:
    """Graph traces in flight, by connection, so a disconnect can cancel them."""

    def __init__(self):
        self.by_sid: dict[str, set[str]] = {}
        self.cancelled: set[str] = set()
        self.lock = threading.Lock()

    @staticmethod
    def new_token() -> str:
        return "t_" + secrets.token_urlsafe(6)

    def open(self, sid: str, token: str) -> None:
        with self.lock:
            self.by_sid.setdefault(sid, set()).add(token)

    def close(self, sid: str, token: str) -> None:
        with self.lock:
            tokens = self.by_sid.get(sid, set())
            tokens.discard(token)
            if not tokens:
                self.by_sid.pop(sid, None)  # nothing kept for a connection with no traces
            self.cancelled.discard(token)

    def cancel(self, sid: str, token: str | None = None) -> None:
        with self.lock:
            tokens = self.by_sid.get(sid, set())
            self.cancelled.update(tokens if token is None else tokens & {token})


def workspace() -> str:
    if "workspace" not in session:
        session["workspace"] = uuid.uuid4().hex  # a socket without the page's cookie
    return session["workspace"]


@contextmanager
def _overridden(entry, values: dict):
    """Feed overrides (by name or wire id) for one computation, then put every value back.

    Every key and value is checked before anything is fed, so a bad request changes nothing;
    the cached graph is shared by every workspace. Yields the {node: value to restore} dict,
    to which callers add any node they change themselves.
    """
    loaded, program = entry.loaded, entry.loaded.graph.program()
    wanted = []
    for key, value in values.items():
        n = loaded.names.get(key)
        if n is None and (isinstance(key, int) or str(key).isdigit()):
            position = int(key)
            n = program.nodes[position] if 0 <= position < len(program.nodes) else None
        if n is None:
            raise NotFoundError(f"no node {key!r} in this graph")
        if n.operator not in ("input", "const"):
            raise ValueError(f"node {key!r} is computed ({n.operator}); only inputs and "
                             "consts take values")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"the value for {key!r} must be a number, not {value!r}")
        wanted.append((n, value))
    restore = {}
    try:
        for n, value in wanted:
            restore.setdefault(n, n.forward)
            n.feed(value)
        yield restore
    except DomainError as exc:
        # The page numbers nodes by wire id, not by the engine's internal id.
        exc.position = program.position.get(exc.node)
        if exc.node is not None and exc.position is not None:
            exc.args = (str(exc).replace(f"#{exc.node.id}", f"#{exc.position}", 1),)
        raise
    finally:
        for n, value in restore.items():
            n.feed(value)


def _describe(catalog, ref, workspace) -> tuple:
    entry = catalog.entry(ref, workspace)
    with entry.lock:
        if entry.description is None:
            entry.description = wire.describe(entry.loaded.graph.program(), entry.loaded.layers)
        return entry, entry.description


def _trace(catalog, ref, workspace, mode: str, values: dict, cancelled):
    """Load (cached) and compute under the graph's lock: (Trace, program, flagged ids).

    Runs in a worker thread. Returns None if the trace was cancelled while it waited.
    """
    entry = catalog.entry(ref, workspace)
    if cancelled():
        return None
    with entry.lock, _overridden(entry, values):
        g = entry.loaded.graph
        g.compute_forward()
        if mode != "forward":
            g.back_prop()
        program = g.program()
        flagged = [int(p) for p in program.nonfinite_positions()]
        return Trace(program), program, flagged


def _gradient_check(catalog, ref, workspace, values: dict, max_inputs: int) -> list:
    """Central differences for (up to max_inputs of) the graph's inputs, against back-prop."""
    entry = catalog.entry(ref, workspace)
    with entry.lock, _overridden(entry, values) as restore:
        g, program = entry.loaded.graph, entry.loaded.graph.program()
        g.compute_forward()
        g.back_prop()
        inputs = [p for p, n in enumerate(program.nodes) if n.operator == "input"]
        if len(inputs) > max_inputs:
            inputs = sorted(np.random.default_rng(0).choice(inputs, max_inputs, False))
        analytic = {p: float(np.sum(program.grads[p])) for p in inputs}

        def total_output(n, value):
            n.feed(value)
            g.compute_forward()
            return float(np.sum(program.values[program.output_positions]))
        report = []
        for p in inputs:
            n = program.nodes[p]
            x = float(np.asarray(n.forward).ravel()[0])
            restore.setdefault(n, x)  # put back even if a nudge leaves the domain
            h = 1e-6 * max(1.0, abs(x))
            numeric = (total_output(n, x + h) - total_output(n, x - h)) / (2 * h)
            n.feed(x)
            scale = max(1.0, abs(analytic[p]), abs(numeric))
            report.append({"id": int(p), "name": n.name, "analytic": analytic[p],
                           "numeric": numeric,
                           "agree": abs(analytic[p] - numeric) <= 1e-6 * scale})
        return report


def register(socketio) -> None:
    streams = Streams()

    @socketio.on("connect")
    def connect(auth=None):
        workspace()

    @socketio.on("disconnect")
    def disconnect(reason=None):
        streams.cancel(request.sid)

    @socketio.on("ping_server")
    def ping_server(data=None):
        return {"ok": True, "time": time.time()}

    @socketio.on("load_graph")
    @guarded
    def load_graph(data):
        app_services = services()
        entry, description = app_services.jobs.call_cpu(_describe, app_services.catalog,
                                                        data.get("graph"), workspace())
        return {"ok": True, "graph": {"ref": data.get("graph"), "name": entry.name,
                                      "format": entry.format, "description": description}}

    @socketio.on("trace_graph")
    @guarded
    def trace_graph(data):
        mode = data.get("mode", "both")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        values = data.get("values") or {}
        if not isinstance(values, dict):
            raise ValueError("values must be an object {name or id: number}")
        app_services = services()
        sid, ws = request.sid, workspace()
        token = streams.new_token()
        app_services.jobs.begin_trace(token, ws)  # BusyError: nothing to clean up
        streams.open(sid, token)
        try:
            try:
                done = app_services.jobs.call_cpu(
                    _trace, app_services.catalog, data.get("graph"), ws, mode, values,
                    lambda: token in streams.cancelled)
            except DomainError as exc:
                return fail(str(exc), node=getattr(exc, "position", None))
            if done is None or token in streams.cancelled:
                return fail("cancelled", trace=token)
            trace, program, flagged = done
            frames = list(wire.forward_frames(trace, token))
            if mode != "forward":
                frames.append(wire.seed_frame(trace, token))
                frames.extend(wire.backward_frames(trace, token))
            emit = socketio.emit
            emit("trace_start", {"trace": token, "mode": mode, "nodes": len(program.nodes),
                                 "edges": len(program.edge_child), "frames": len(frames)},
                 to=sid)
            for frame in frames:
                if token in streams.cancelled:
                    return fail("cancelled", trace=token)
                emit("trace", frame, to=sid)
                socketio.sleep(0)  # let pings and other clients through between frames
            emit("trace_done", {"trace": token, "flagged": flagged}, to=sid)
            return {"ok": True, "trace": token, "nodes": len(program.nodes),
                    "edges": len(program.edge_child)}
        finally:
            app_services.jobs.end_trace(token)
            streams.close(sid, token)

    @socketio.on("cancel_trace")
    @guarded
    def cancel_trace(data):
        streams.cancel(request.sid, data.get("trace"))
        return {"ok": True}

    @socketio.on("gradient_check")
    @guarded
    def gradient_check(data):
        app_services = services()
        values = data.get("values") or {}
        if not isinstance(values, dict):
            raise ValueError("values must be an object {name or id: number}")
        report = app_services.jobs.call_cpu(
            _gradient_check, app_services.catalog, data.get("graph"), workspace(), values,
            current_app.config["GRADIENT_CHECK_MAX_INPUTS"])
        return {"ok": True, "inputs": report}

    @socketio.on("train")
    @guarded
    def train(data):
        fields = {k: data[k] for k in TRAIN_FIELDS if k in data}
        stored, network, title = {}, None, None
        if data.get("graph") is not None:  # an uploaded (or example) network spec
            title, fmt, network = services().catalog.source(data["graph"], workspace())
            if fmt != "network":
                raise ValueError(f"only a network spec can be trained, not a {fmt} graph")
            fields["model"] = "network"
            stored = {"graph": data["graph"], "network_name": title}
            services().jobs.call_cpu(from_network, network)  # refuse it here, not in a worker
        config = TrainConfig(**fields, network=network).checked()
        name = str(data.get("name") or f"{title or config.model} · {config.optimizer} · "
                   f"lr {config.learning_rate:g} · seed {config.seed}")[:200]
        options = {k: getattr(config, k) for k in TRAIN_FIELDS}
        run_id = services().jobs.start_training(workspace(), name, {**options, **stored},
                                                {**options, "network": network})
        return {"ok": True, "run_id": run_id, "name": name}

    @socketio.on("stop_run")
    @guarded
    def stop_run(data):
        if not services().jobs.stop_training(data.get("run_id"), workspace()):
            run = services().store.run(data.get("run_id"), workspace())
            if run is None:
                raise NotFoundError("no such run")
            return {"ok": True, "status": run["status"]}
        return {"ok": True, "status": "stopping"}

    @socketio.on("watch_run")
    @guarded
    def watch_run(data):
        app_services = services()
        run_id, after = data.get("run_id"), data.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ValueError("after must be the last seq the page has (an integer ≥ 0)")
        # Holding the job runner's lock, no record can be stored and published between
        # reading the history and joining the room: the page gets each record exactly once.
        with app_services.jobs.lock:
            run = app_services.store.run(run_id, workspace())
            if run is None:
                raise NotFoundError("no such run")
            records = app_services.store.metrics(run_id, after)
            status = run["status"]
            join_room(f"run:{run_id}")
            socketio.emit("run_history", {"run_id": run_id, "status": status,
                                          "records": records}, to=request.sid)
        return {"ok": True, "status": status, "records": len(records)}

    @socketio.on("unwatch_run")
    @guarded
    def unwatch_run(data):
        leave_room(f"run:{data.get('run_id')}")
        return {"ok": True}
