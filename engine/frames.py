"""A graph and its last trace as plain, columnar data: what the page (over Socket.IO) and the
notebook widget (over a Jupyter comm) both receive (docs/protocol.md).

Nodes are numbered by their position in the compiled program (leaves first, then by level): the
same definition always gives the same numbering, so a re-run keeps every id. Per-node arrays are
little-endian bytes (a JavaScript Float64Array / Int32Array on the other side), so a
36,000-node network is a few typed arrays rather than 36,000 JSON objects. Pure numpy: the
transports (server/wire.py, engine/notebook/) only carry these dicts.
"""

from __future__ import annotations

import math

import numpy as np

from .nn import block_of
from .ops import OPERATORS

FRAME_LIMIT = 4096  # nodes per frame; a wider level is split


def number(value) -> float | str:
    """A float for JSON: NaN and ±inf become "NaN", "Infinity", "-Infinity"."""
    value = float(value)
    if math.isfinite(value):
        return value
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def jsonable(value):
    """``value`` with every non-finite float replaced by its string form, recursively: JSON has
    no NaN, and a diverging training run must not send invalid JSON to the page."""
    if isinstance(value, float):
        return value if math.isfinite(value) else number(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


OPERATOR_TABLE = {op.name: {"formula": op.formula, "derivatives": list(op.derivatives),
                            "arity": op.arity} for op in OPERATORS}


def describe(program, layers=()) -> dict:
    """The graph for the page, columnar (docs/protocol.md): per-node arrays as binary, so a
    36,000-node network is a few typed arrays rather than 36,000 JSON objects."""
    nodes = program.nodes
    op_names = [op.name for op in OPERATORS]
    group_names = sorted({n.group for n in nodes if n.group is not None})
    group_index = {g: k for k, g in enumerate(group_names)}
    named = [p for p, n in enumerate(nodes) if n.name is not None]
    kinds = {layer.name: layer.kind for layer in layers}
    return {
        "count": len(nodes),
        "ops": op_names,
        "op": np.asarray(program.opcodes, "<u1").tobytes(),
        "depth": i32(program.levels),
        "child_start": i32(program.edge_start),
        "children": i32(program.edge_child),
        "named": i32(named),
        "names": [nodes[p].name for p in named],
        "group_names": group_names,
        "group": i32([group_index.get(n.group, -1) for n in nodes]),
        "inputs": i32([p for p, n in enumerate(nodes) if n.operator == "input"]),
        "consts": [p for p, n in enumerate(nodes) if n.operator == "const"],
        "outputs": [int(p) for p in program.output_positions],
        "groups": _groups(program, kinds),
        "operators": OPERATOR_TABLE,
        "leaf_values": f64(_leaf_values(nodes[: program.n_leaves])),
    }


def _leaf_values(leaves) -> np.ndarray:
    """Each leaf's value as defined (wire ids 0 … n_leaves-1): the page shows an input's value
    in its what-if field, and a const's in labels, even when the first trace fails."""
    out = np.full(len(leaves), np.nan)
    for k, n in enumerate(leaves):
        value = n.forward
        if value is not None:
            out[k] = np.asarray(value, np.float64).reshape(-1)[0]
    return out


def _groups(program, kinds: dict) -> list:
    """Each group's size, depth range and the groups it reads from, in order of first depth."""
    blocks: dict = {}
    for p, n in enumerate(program.nodes):
        if n.group is None or n.operator in ("input", "const"):
            continue
        block = blocks.setdefault(n.group, {"name": n.group, "kind": kinds.get(n.group),
                                            "size": 0, "depth": [1 << 30, 0], "inputs": [],
                                            "params": 0})
        block["size"] += 1
        depth = int(program.levels[p])
        block["depth"] = [min(block["depth"][0], depth), max(block["depth"][1], depth)]
        for c in n.children:
            if c.operator == "input" and c.group == n.group:
                continue  # the layer's own weights: counted below, not an incoming edge
            source = block_of(c) if c.operator in ("input", "const") else c.group
            if source is not None and source != n.group and source not in block["inputs"]:
                block["inputs"].append(source)
    for n in program.nodes:
        if n.operator == "input" and n.group in blocks:
            blocks[n.group]["params"] += 1
    return _topological(blocks)


def _topological(blocks: dict) -> list:
    """Blocks in data-flow order (a block after those it reads), ties by depth."""
    waiting = {name: {i for i in b["inputs"] if i in blocks} for name, b in blocks.items()}
    ordered = []
    while waiting:
        ready = [name for name, needs in waiting.items() if not needs] or list(waiting)
        name = min(ready, key=lambda k: (blocks[k]["depth"][1], blocks[k]["depth"][0]))
        ordered.append(blocks[name])
        del waiting[name]
        for needs in waiting.values():
            needs.discard(name)
    return ordered


def f64(array) -> bytes:
    """Little-endian float64 bytes (a JavaScript Float64Array); NaN and ±inf travel as such."""
    array = np.asarray(array)
    if array.ndim > 1:
        array = array[:, 0]  # a batched graph shows its first sample
    return np.ascontiguousarray(array, dtype="<f8").tobytes()


def i32(array) -> bytes:
    """Little-endian int32 bytes (a JavaScript Int32Array)."""
    return np.ascontiguousarray(array, dtype="<i4").tobytes()


def _ranges(program):
    """(level, start, stop) of each level, leaves as level 0, split above FRAME_LIMIT."""
    bounds = [(0, program.n_leaves), *program.level_ranges]
    for level, (start, stop) in enumerate(bounds):
        for s in range(start, stop, FRAME_LIMIT):
            yield level, s, min(stop, s + FRAME_LIMIT)


def forward_frames(trace, token: str):
    """One frame per level (split above FRAME_LIMIT nodes), leaves first.

    A frame covers the consecutive wire ids ``start .. start+count-1``; its numbers are binary
    (Socket.IO sends bytes as attachments, with no JSON encoding on either side).
    """
    for level, s, e in _ranges(trace.program):
        yield {"trace": token, "phase": "forward", "level": level, "start": s, "count": e - s,
               "values": f64(trace.values[s:e])}


def seed_frame(trace, token: str) -> dict:
    ids = [int(p) for p in trace.program.output_positions]
    return {"trace": token, "phase": "seed", "ids": ids, "values": [1.0] * len(ids)}


def backward_frames(trace, token: str):
    """One frame per level from the top down; each carries its nodes' edges to their children."""
    starts = trace.program.edge_start
    chunks = sorted(_ranges(trace.program), key=lambda r: (-r[0], r[1]))  # top level first
    for level, s, e in chunks:
        a, b = int(starts[s]), int(starts[e])
        yield {"trace": token, "phase": "backward", "level": level, "start": s, "count": e - s,
               "grads": f64(trace.grads[s:e]),
               "edges": {"count": b - a, "parent": i32(trace.edge_parent[a:b]),
                         "child": i32(trace.edge_child[a:b]),
                         "local": f64(trace.edge_derivatives[a:b]),
                         "contribution": f64(trace.contributions[a:b])}}
