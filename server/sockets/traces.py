"""Socket.IO events for graphs (docs/protocol.md): load a graph, trace it, check its gradients,
take a descent step.

Handlers translate between messages and the engine; the CPU work itself runs in the pool
(``services.cpu``), off the event loop, within the workspace's budget — or, with ``JOBS`` set and
a graph of ``QUEUED_GRAPH_MIN_NODES`` or more, on a ``backprop-live worker``
(``jobs.queued_graphs``), which runs ``trace_messages`` and ``gradient_check_messages`` here.
"""

from __future__ import annotations

import secrets
import threading
import time
from contextlib import contextmanager
from functools import partial

import numpy as np
from flask import request

from engine import DomainError
from engine.descent import carried_by_position, descend
from engine.trace import Trace

from .. import wire
from ..catalog import NotFoundError
from . import backpressure
from .common import checked_values, fail, handle, text_arg, workspace

MODES = ("forward", "backward", "both")


class Streams:
    """Graph traces in flight, by connection, so a disconnect can cancel them."""

    def __init__(self):
        self.by_sid: dict[str, set[str]] = {}
        self.cancelled: set[str] = set()
        self.lock = threading.Lock()

    @staticmethod
    def new_token() -> str:
        return "t_" + secrets.token_urlsafe(6)

    @contextmanager
    def opened(self, sid: str, token: str):
        """The trace ``token`` streams to ``sid`` while inside; a disconnect cancels it."""
        with self.lock:
            self.by_sid.setdefault(sid, set()).add(token)
        try:
            yield
        finally:
            self.close(sid, token)

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
        if n is None and (isinstance(key, int) or (str(key).isascii() and str(key).isdigit())):
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
        if restore:
            # The computed values are the overrides': forget them, or the next call's
            # `n.forward` above would read an override back as the value to restore, and the
            # shared graph would keep it (issue 11: a what-if leaked into the next load).
            program.values = program.grads = program.edge_derivatives = None


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


def _descend(catalog, ref, workspace, values: dict, lr, carried: dict):
    """One descent step from the page's values (engine.descend), as a message; the shared graph
    keeps nothing of it: the page holds the values history and sends it back."""
    entry = catalog.entry(ref, workspace)
    with entry.lock, _overridden(entry, values) as restore:
        g, program = entry.loaded.graph, entry.loaded.graph.program()
        inputs = [n for n in program.nodes if n.operator == "input"]
        for n in inputs:
            restore.setdefault(n, n.forward)  # the step feeds every input: all go back
        g.compute_forward()
        g.back_prop()
        position = program.position
        step = descend(g, lr, carried_by_position(g, carried))
        return {"lr": step.lr, "ids": wire.i32([position[n] for n in step.inputs]),
                "old": wire.f64(step.old), "gradient": wire.f64(step.gradient),
                "fresh": wire.f64(step.fresh), "new": wire.f64(step.new),
                "outputs_before": wire.f64(step.outputs_before),
                "outputs_after": wire.f64(step.outputs_after)}


def _node_count(catalog, ref, workspace) -> int:
    entry = catalog.entry(ref, workspace)
    with entry.lock:
        return len(entry.loaded.graph.program().nodes)


def _frames(trace, token, mode, budget) -> list:
    frames = list(wire.forward_frames(trace, token, *budget))
    if mode != "forward":
        frames.append(wire.seed_frame(trace, token))
        frames.extend(wire.backward_frames(trace, token, *budget))
    return frames


# -- what a worker of the queue computes (jobs.queued_graphs.graph_job) ----------------------
def trace_messages(catalog, ref, workspace, args, token, cancelled) -> list | None:
    """A trace's header ({nodes, edges, flagged, frames: count}) and its frames, as messages."""
    done = _trace(catalog, ref, workspace, args["mode"], args["values"], cancelled)
    if done is None:
        return None
    trace, program, flagged = done
    frames = _frames(trace, token, args["mode"], tuple(args["budget"]))
    return [{"nodes": len(program.nodes), "edges": len(program.edge_child), "flagged": flagged,
             "frames": len(frames)}, *({"frame": frame} for frame in frames)]


def gradient_check_messages(catalog, ref, workspace, args, token, cancelled) -> list:
    return [{"inputs": _gradient_check(catalog, ref, workspace, args["values"],
                                       args["max_inputs"])}]


def _queued(services, ref, ws) -> bool:
    """Whether this graph's heavy work goes on the job queue (JOBS, QUEUED_GRAPH_MIN_NODES)."""
    return services.graphs is not None and services.graphs.wanted(
        services.cpu.call(ws, _node_count, services.catalog, ref, ws))


def _worker_failed(answer: dict) -> dict:
    """A worker's error, answered as the web process answers its own."""
    if answer.get("kind") == "NotFoundError":
        return fail(f"not found: {answer['error']}")
    if answer.get("node") is not None:
        return fail(answer["error"], node=answer["node"])
    if answer.get("limit"):
        return fail(answer["error"], limit=answer["limit"])
    return fail(answer["error"])


def load_graph(services, data):
    ref, ws = text_arg(data, "graph"), workspace()
    entry, description = services.cpu.call(ws, _describe, services.catalog, ref, ws)
    return {"ok": True, "graph": {"ref": ref, "name": entry.name, "format": entry.format,
                                  "description": description,
                                  "notes": wire.notes(entry.loaded.notes)}}


def trace_graph(services, streams, data):
    mode = data.get("mode", "both")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    values, ref = checked_values(data), text_arg(data, "graph")
    sid, ws = request.sid, workspace()
    def wait_to_send():
        backpressure.wait_to_send(services.socketio, sid, services.config["MAX_QUEUED_BYTES"],
                                  services.config["QUEUE_STALL_SECONDS"])
    wait_to_send()  # a client that reads nothing gets no more
    token = streams.new_token()
    budget = (services.config["TRACE_FRAME_BYTES"], services.config["TRACE_FRAME_EVENTS"])
    with services.cpu.trace(token, ws), streams.opened(sid, token):
        if _queued(services, ref, ws):
            return _queued_trace(services, streams, sid, token, wait_to_send,
                                 {"mode": mode, "values": values, "budget": list(budget)},
                                 ref, ws)
        try:
            done = services.cpu.call(ws, _trace, services.catalog, ref, ws, mode, values,
                                     lambda: token in streams.cancelled)
        except DomainError as exc:
            return fail(str(exc), node=getattr(exc, "position", None))
        if done is None or token in streams.cancelled:
            return fail("cancelled", trace=token)
        return _stream(services.socketio, streams, sid, token, mode, wait_to_send, budget, *done)


def _stream(socketio, streams, sid, token, mode, wait_to_send, budget, trace, program, flagged):
    """Send a computed trace's frames to one connection, stopping if it is cancelled or stops
    reading. ``budget``: (bytes, events) a frame holds at most."""
    frames = _frames(trace, token, mode, budget)
    socketio.emit("trace_start", {"trace": token, "mode": mode, "nodes": len(program.nodes),
                                  "edges": len(program.edge_child), "frames": len(frames)},
                  to=sid)
    for frame in frames:
        if token in streams.cancelled:
            return fail("cancelled", trace=token)
        wait_to_send()
        socketio.emit("trace", frame, to=sid)
        socketio.sleep(0)  # let pings and other clients through between frames
    socketio.emit("trace_done", {"trace": token, "flagged": flagged}, to=sid)
    return {"ok": True, "trace": token, "nodes": len(program.nodes),
            "edges": len(program.edge_child)}


def _queued_trace(services, streams, sid, token, wait_to_send, args, ref, ws):
    """The trace computed by a worker of the queue, its frames streamed from here as they are
    read back: the same events, in the same order, as a trace computed here."""
    socketio, queue = services.socketio, services.graphs
    queue.start("trace", token, ref, ws, args)
    socketio.emit("trace_queued", {"trace": token}, to=sid)  # cancel_trace takes this token

    def cancelled():
        return token in streams.cancelled
    answers = queue.answers(token, cancelled)
    header = next(answers, None)
    if header is None:
        return fail("cancelled", trace=token)
    if "error" in header:
        return _worker_failed(header)
    worker = {"worker": header["worker"], "pid": header["pid"]}
    socketio.emit("trace_start", {"trace": token, "mode": args["mode"], "nodes": header["nodes"],
                                  "edges": header["edges"], "frames": header["frames"],
                                  **worker}, to=sid)
    sent = 0
    for message in answers:
        wait_to_send()
        socketio.emit("trace", message["frame"], to=sid)
        sent += 1
        socketio.sleep(0)
    if cancelled() or sent != header["frames"]:
        return fail("cancelled", trace=token)
    socketio.emit("trace_done", {"trace": token, "flagged": header["flagged"]}, to=sid)
    return {"ok": True, "trace": token, "nodes": header["nodes"], "edges": header["edges"],
            **worker}


def cancel_trace(streams, data):
    streams.cancel(request.sid, text_arg(data, "trace"))
    return {"ok": True}


def gradient_check(services, streams, data):
    values, ref, ws = checked_values(data), text_arg(data, "graph"), workspace()
    token, sid = streams.new_token(), request.sid
    with services.cpu.trace(token, ws), streams.opened(sid, token):  # a trace's worth, and more
        if _queued(services, ref, ws):
            return _queued_gradient_check(services, streams, token, values, ref, ws)
        report = services.cpu.call(ws, _gradient_check, services.catalog, ref, ws, values,
                                   services.config["GRADIENT_CHECK_MAX_INPUTS"])
    return {"ok": True, "inputs": report}


def _queued_gradient_check(services, streams, token, values, ref, ws):
    queue = services.graphs
    queue.start("gradient_check", token, ref, ws,
                {"values": values, "max_inputs": services.config["GRADIENT_CHECK_MAX_INPUTS"]})
    answer = next(queue.answers(token, lambda: token in streams.cancelled), None)
    if answer is None:
        return fail("cancelled")
    if "error" in answer:
        return _worker_failed(answer)
    return {"ok": True, "inputs": answer["inputs"], "worker": answer["worker"],
            "pid": answer["pid"]}


def descend_graph(services, streams, data):
    values, ref, ws = checked_values(data), text_arg(data, "graph"), workspace()
    carried = data.get("carried") or {}
    if not isinstance(carried, dict):
        raise ValueError("carried must be an object {input's wire id: gradient}")
    with services.cpu.trace(streams.new_token(), ws):  # a forward and two backward passes
        try:
            step = services.cpu.call(ws, _descend, services.catalog, ref, ws, values,
                                     data.get("lr"), carried)
        except DomainError as exc:
            return fail(str(exc), node=getattr(exc, "position", None))
    return {"ok": True, "step": step}


def ping_server(data):
    return {"ok": True, "time": time.time()}


def register(socketio, services, streams: Streams) -> None:
    handle(socketio, "ping_server", ping_server)
    handle(socketio, "load_graph", partial(load_graph, services))
    handle(socketio, "trace_graph", partial(trace_graph, services, streams))
    handle(socketio, "cancel_trace", partial(cancel_trace, streams))
    handle(socketio, "gradient_check", partial(gradient_check, services, streams))
    handle(socketio, "descend_graph", partial(descend_graph, services, streams))
