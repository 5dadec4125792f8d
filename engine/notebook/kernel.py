"""The widget's requests, answered by the engine in the kernel: the page's Socket.IO events
(docs/protocol.md: load_graph, trace_graph, cancel_trace, gradient_check) and the widget's own
``descend`` and ``undo_descend``.

Each handler returns ``(ack, events)``: the acknowledgement and the messages to push before it
(a trace's ``trace_start``, frames and ``trace_done``, as the server streams them). What-if
values (``values``: {name or id: number}) hold for one computation and are then put back, as on
the server; a descent step is kept: the graph's inputs take their new values, as ``p.data -=
lr * p.grad`` would leave them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import frames
from ..descent import Step, carried_by_position, descend
from ..errors import DomainError, EngineError
from ..node import node
from ..trace import Trace
from .target import Target

MODES = ("forward", "backward", "both")
GRADIENT_CHECK_MAX_INPUTS = 200  # inputs nudged by a gradient check (the rest are sampled out)
UNDO_LIMIT = 100  # descent steps kept for undo

Events = list[tuple[str, dict[str, Any]]]
WIRE_ID = re.compile(r"[0-9]{1,12}")  # ASCII digits only: "²".isdigit() is true, int("²") fails


class RequestError(ValueError):
    """A request the widget should not have sent (unknown node, bad mode): its message is shown."""


class KernelGraph:
    """One shown graph and the requests about it."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.graph = target.graph
        self.tokens = itertools.count(1)
        self.steps: list[Step] = []

    def handle(self, event: str, payload: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        """Answer one request; every failure becomes an {ok: false} acknowledgement."""
        handler = getattr(self, f"on_{event}", None) if event in HANDLED else None
        if handler is None:
            return _failure(f"unknown request {event!r}"), []
        try:
            return handler(payload if isinstance(payload, dict) else {})
        except DomainError as exc:
            position = self.graph.program().position.get(exc.node) if exc.node else None
            message = str(exc)
            if exc.node is not None and position is not None:
                message = message.replace(f"#{exc.node.id}", f"#{position}", 1)
            return _failure(message, node=position), []
        except (EngineError, RequestError) as exc:
            return _failure(str(exc)), []
        except Exception as exc:  # the widget waits for an answer: it always gets one
            return _failure(f"the kernel failed: {type(exc).__name__}: {exc}"), []

    # -- the page's events ---------------------------------------------------------------------
    def on_load_graph(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        program = self.graph.program()
        description = frames.describe(program, self.target.layers)
        return {"ok": True, "graph": {"ref": "kernel", "name": self.target.title,
                                      "format": "kernel", "description": description}}, []

    def on_trace_graph(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        mode = payload.get("mode", "both")
        if mode not in MODES:
            raise RequestError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        with self.overridden(payload.get("values") or {}):
            self.graph.compute_forward()
            if mode != "forward":
                self.graph.back_prop()
            program = self.graph.program()
            token = f"k_{next(self.tokens)}"
            trace = Trace(program)
            sent = list(frames.forward_frames(trace, token))
            if mode != "forward":
                sent.append(frames.seed_frame(trace, token))
                sent.extend(frames.backward_frames(trace, token))
            flagged = [int(p) for p in program.nonfinite_positions()]
        counts = {"nodes": len(program.nodes), "edges": len(program.edge_child)}
        events: Events = [("trace_start", {"trace": token, "mode": mode, **counts,
                                           "frames": len(sent)})]
        events += [("trace", frame) for frame in sent]
        events.append(("trace_done", {"trace": token, "flagged": flagged}))
        return {"ok": True, "trace": token, **counts}, events

    def on_cancel_trace(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        return {"ok": True}, []  # a kernel trace is sent whole: nothing is left to cancel

    def on_gradient_check(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        with self.overridden(payload.get("values") or {}) as restore:
            return {"ok": True, "inputs": self._gradient_check(restore)}, []

    # -- descent ---------------------------------------------------------------------------------
    def on_descend(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        """One step from the shown values (what-if ones included); the inputs keep the result."""
        lr, carried = payload.get("lr"), payload.get("carried") or {}
        if not isinstance(carried, dict):
            raise RequestError("carried must be an object {input's wire id: gradient}")
        with self.overridden(payload.get("values") or {}) as restore:
            # zero_grad skipped: the gradients of the steps before, added to this pass's
            step = descend(self.graph, lr, carried_by_position(self.graph, carried))  # type: ignore[arg-type]
            for n in step.inputs:
                restore.pop(n, None)  # the step's values stay; overridden consts go back
        self.steps = (self.steps + [step])[-UNDO_LIMIT:]
        return {"ok": True, "step": self._step_message(step), "steps": len(self.steps)}, []

    def on_undo_descend(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        if not self.steps:
            raise RequestError("no descent step to undo")
        step = self.steps.pop()
        for n, value in zip(step.inputs, step.old, strict=True):
            n.feed(float(value) if np.ndim(value) == 0 else value)
        self.graph.compute_forward()
        self.graph.back_prop()
        return {"ok": True, "steps": len(self.steps)}, []

    def _step_message(self, step: Step) -> dict[str, Any]:
        position = self.graph.program().position
        return {"lr": step.lr, "ids": frames.i32([position[n] for n in step.inputs]),
                "old": frames.f64(step.old), "gradient": frames.f64(step.gradient),
                "new": frames.f64(step.new), "fresh": frames.f64(step.fresh),
                "outputs_before": frames.f64(step.outputs_before),
                "outputs_after": frames.f64(step.outputs_after)}

    # -- values ------------------------------------------------------------------------------------
    @contextmanager
    def overridden(self, values: dict[str, Any]) -> Iterator[dict[node, Any]]:
        """Feed what-if values (by name or wire id) for one computation, then put back every
        value and recompute, so the graph in Python shows its own values again. Every key and
        value is checked before anything is fed."""
        if not isinstance(values, dict):
            raise RequestError("values must be an object {name or id: number}")
        program = self.graph.program()
        wanted = [(self._leaf(key, program), _number(key, value)) for key, value in values.items()]
        if wanted and program.values is None:
            # A leaf's value (n.forward) is read from the computed arrays; a leaf fed through
            # graph.feed has no value of its own before the first pass.
            self.graph.compute_forward()
        restore: dict[node, Any] = {}
        try:
            for n, value in wanted:
                restore.setdefault(n, n.forward)
                n.feed(value)
            yield restore
        finally:
            for n, value in restore.items():
                n.feed(value)
            if restore:
                try:
                    self.graph.compute_forward()
                    self.graph.back_prop()
                except EngineError:
                    pass  # the graph's own values fail too: the next trace will say so

    def _leaf(self, key: str, program: Any) -> node:
        # As the page sends them (whatif.js): a number below the node count is a wire id, even
        # where a node is named so (the const "2"); anything else is a name.
        if WIRE_ID.fullmatch(str(key)) and int(key) < len(program.nodes):
            n = program.nodes[int(key)]
        else:
            n = self.target.names.get(key) or _by_name(program.nodes, key)
        if n is None:
            raise RequestError(f"no node {key!r} in this graph")
        if n.operator not in ("input", "const"):
            raise RequestError(f"node {key!r} is computed ({n.operator}); only inputs and "
                               "consts take values")
        return n

    def _gradient_check(self, restore: dict[node, Any]) -> list[dict[str, Any]]:
        """Central differences for (up to GRADIENT_CHECK_MAX_INPUTS of) the inputs."""
        g, program = self.graph, self.graph.program()
        g.compute_forward()
        g.back_prop()
        assert program.grads is not None and program.values is not None, "computed above"
        inputs = [p for p, n in enumerate(program.nodes) if n.operator == "input"]
        if len(inputs) > GRADIENT_CHECK_MAX_INPUTS:
            chosen = np.random.default_rng(0).choice(inputs, GRADIENT_CHECK_MAX_INPUTS, False)
            inputs = sorted(int(p) for p in chosen)
        analytic = {p: float(np.sum(program.grads[p])) for p in inputs}

        def total(n: node, value: float) -> float:
            n.feed(value)
            g.compute_forward()
            assert program.values is not None
            return float(np.sum(program.values[program.output_positions]))

        report = []
        for p in inputs:
            n = program.nodes[p]
            x = float(np.asarray(n.forward).ravel()[0])
            restore.setdefault(n, n.forward)
            h = 1e-6 * max(1.0, abs(x))
            numeric = (total(n, x + h) - total(n, x - h)) / (2 * h)
            n.feed(x)
            scale = max(1.0, abs(analytic[p]), abs(numeric))
            report.append({"id": p, "name": n.name, "analytic": analytic[p], "numeric": numeric,
                           "agree": abs(analytic[p] - numeric) <= 1e-6 * scale})
        return report


HANDLED = ("load_graph", "trace_graph", "cancel_trace", "gradient_check", "descend",
           "undo_descend")


def _failure(message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": {"message": message,
                                   **{k: v for k, v in extra.items() if v is not None}}}


def _by_name(nodes: list[node], name: str) -> node | None:
    found = [n for n in nodes if n.name == name]
    return found[0] if len(found) == 1 else None


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise RequestError(f"the value for {key!r} must be a finite number, not {value!r}")
    return float(value)
