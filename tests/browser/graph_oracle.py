"""What the Graph tab must show, computed by the engine in the test process (issue 11).

``Expected`` runs the engine on the same source text with the same input values and replays
its events the way the page's timeline orders them (every node's forward event in wire order,
then the engine's own back-prop events), so that for any playhead position it knows which
numbers are on screen and what they are. ``read_screen`` reads every number the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import DomainError, formats


@dataclass
class Expected:
    n: int
    values: list[float]  # by wire id
    inputs: dict[int, float]  # input wire id -> value fed
    forward: list[int]  # wire ids in forward-event order
    backward: list[tuple]  # (kind, node, child, value, local, upstream), engine order
    traced: bool = True  # False: the engine refused these values (the page shows no trace)

    def at(self, pos: int) -> dict:
        """{'values': {id: v}, 'grads': {id: g}, 'edges': {(parent, child): [(local, upstream,
        contribution)]}} after the first `pos` events."""
        shown_values = {k: self.values[k] for k in self.forward[:pos]}
        grads, edges = {}, {}
        for kind, node, child, value, local, upstream in self.backward[:max(0, pos - self.n)]:
            if kind == "gradient":
                grads[node] = value
            elif kind == "edge":
                edges.setdefault((node, child), []).append((local, upstream, value))
        return {"values": shown_values, "grads": grads, "edges": edges}


def expected(text: str, filename: str, values: dict[int, float] | None = None,
             mode: str = "both") -> Expected:
    """The engine's trace of `text` with input `values` (wire id -> number)."""
    loaded = formats.load(text, filename=filename)
    program = loaded.graph.program()
    position = program.position
    for wire_id, value in (values or {}).items():
        program.nodes[wire_id].feed(value)
    defined = {k: float(np.asarray(n.forward).reshape(-1)[0])
               for k, n in enumerate(program.nodes) if n.operator == "input"}
    events: list = []
    try:
        loaded.graph.compute_forward()
        if mode != "forward":
            loaded.graph.back_prop(events.append)
    except DomainError:
        return Expected(n=len(program.nodes), values=[], inputs=defined, forward=[], backward=[],
                        traced=False)
    vals = [float(program.value_of(k)) for k in range(len(program.nodes))]
    backward = [(e.kind, position[e.node], position[e.child] if e.child is not None else None,
                 float(e.value), None if e.local is None else float(e.local),
                 None if e.upstream is None else float(e.upstream)) for e in events]
    inputs = {k: vals[k] for k, n in enumerate(program.nodes) if n.operator == "input"}
    return Expected(n=len(program.nodes), values=vals, inputs=inputs,
                    forward=list(range(len(program.nodes))), backward=backward)


READ_SCREEN = """() => {
  const num = (s) => (s === undefined || s === null ? null : Number(s));
  const nodes = Array.from(document.querySelectorAll('#view [data-node-id]')).map((g) => ({
    id: +g.dataset.nodeId, value: num(g.dataset.value), grad: num(g.dataset.grad) }));
  const insp = document.querySelector('#inspector');
  const body = insp.querySelector('.inspector-body');
  const field = (f, a) => {
    const el = body.querySelector(`[data-field=${f}]`);
    return el ? num(el.getAttribute(a)) : null;
  };
  const arrived = body.querySelectorAll('.contributions li[data-local]');
  const contributions = Array.from(arrived).map((li) => ({
    parent: +li.dataset.parent, local: +li.dataset.local, upstream: +li.dataset.upstream,
    value: +li.dataset.contribution }));
  const locals = Array.from(body.querySelectorAll('.derivatives li[data-local]')).map((li) => ({
    edge: +li.dataset.edge, local: +li.dataset.local }));
  const whatif = Array.from(document.querySelectorAll('#whatif input[data-node-id]')).map((f) => ({
    id: +f.dataset.nodeId, value: f.value === '' ? null : Number(f.value) }));
  const inspectorInput = body.querySelector('[data-field=whatif]');
  const caption = document.querySelector('#caption');
  const message = document.querySelector('#message');
  return {
    pos: caption.dataset.index === '' ? null : +caption.dataset.index + 1,
    graph: document.body.dataset.graph, nodes, whatif,
    inspector: { id: insp.dataset.nodeId === '' ? null : +insp.dataset.nodeId,
      value: field('value', 'data-value'), grad: field('grad', 'data-grad'), contributions, locals,
      input: inspectorInput ? num(inspectorInput.value || null) : undefined },
    editor: document.querySelector('#editor').expressionEditor.text,
    sourceState: document.querySelector('#editor').dataset.sourceState,
    banner: message.hidden ? '' : message.textContent,
  };
}"""


def read_screen(page) -> dict:
    return page.evaluate(READ_SCREEN)


def settle(page) -> None:
    """Until nothing is loading or tracing and two frames have drawn what that left."""
    page.wait_for_function("() => document.body.dataset.busy !== 'true'")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def check_screen(screen: dict, want: Expected, edge_children: dict[int, tuple[int, int]]) -> None:
    """Every number on screen is the engine's for the playhead on screen."""
    pos = screen["pos"] or 0
    shown = want.at(pos)
    for n in screen["nodes"]:
        k = n["id"]
        if k in shown["values"]:
            assert n["value"] == shown["values"][k], (k, n, shown["values"][k])
        else:
            assert n["value"] is None, (k, n, "no value yet at", pos)
        if k in shown["grads"]:
            assert n["grad"] == shown["grads"][k], (k, n, shown["grads"][k])
        else:
            assert n["grad"] is None, (k, n, "no final gradient yet at", pos)
    for f in screen["whatif"]:
        assert f["value"] == want.inputs[f["id"]], (f, want.inputs)
    insp = screen["inspector"]
    k = insp["id"]
    if k is None:
        return
    assert insp["value"] == shown["values"].get(k), ("inspector value", k, insp)
    assert insp["grad"] == shown["grads"].get(k), ("inspector grad", k, insp)
    if insp["input"] is not None and k in want.inputs:
        assert insp["input"] == want.inputs[k]
    for c in insp["contributions"]:
        options = shown["edges"].get((c["parent"], k), [])
        assert (c["local"], c["upstream"], c["value"]) in options, ("contribution", k, c, options)
    full = want.at(want.n + len(want.backward))["edges"]
    for d in insp["locals"]:
        parent, child = edge_children[d["edge"]]
        assert parent == k
        assert any(local == d["local"] for local, _, _ in full.get((parent, child), [])), d


def edge_ends(text: str, filename: str) -> dict[int, tuple[int, int]]:
    """Edge id (the page's: child_start[p] + slot) -> (parent, child) wire ids."""
    loaded = formats.load(text, filename=filename)
    program = loaded.graph.program()
    out, e = {}, 0
    for p, n in enumerate(program.nodes):
        for c in n.children:
            out[e] = (p, program.position[c])
            e += 1
    return out
