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
from .trace import concat_ranges

# A trace travels in frames of at most FRAME_BYTES (its binary arrays, plus ENVELOPE_BYTES
# allowed for its JSON fields) and FRAME_EVENTS events, whichever comes first, for every shape of
# graph: a chain's thousand levels share a frame as a DAG's wide level does. The page unrolls a
# frame into its timeline in 0.3-1 ms on average (docs/protocol.md).
FRAME_BYTES = 65_536
FRAME_EVENTS = 8_192
ENVELOPE_BYTES = 512
SPAN_BYTES = 8  # one (start, count) pair of a backward frame's spans
EDGE_BYTES = 24  # parent, child (int32), local, contribution (float64)
MIN_FRAME_BYTES = 1_024


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
    36,000-node network is a few typed arrays rather than 36,000 JSON objects. At most 10 of
    them: socket.io-client's parser refuses a packet with more binary attachments
    (socket.io-parser's Decoder, maxAttachments 10), and the page cannot raise it."""
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
        **_names([nodes[p].name for p in named]),
        "group_names": group_names,
        "group": i32([group_index.get(n.group, -1) for n in nodes]),
        "inputs": i32([p for p, n in enumerate(nodes) if n.operator == "input"]),
        "consts": [p for p, n in enumerate(nodes) if n.operator == "const"],
        "outputs": [int(p) for p in program.output_positions],
        "groups": _groups(program, kinds),
        "operators": OPERATOR_TABLE,
        "leaf_values": f64(_leaf_values(nodes[: program.n_leaves])),
    }


def _names(names: list[str]) -> dict:
    """The named nodes' names as one string and where each ends in it (int32, in UTF-16 code
    units: a JavaScript string's indexes, so the page slices it as it is). As a JSON list,
    100,000 names were 100,000 strings for the page's socket to parse, in one task; one string
    is one. Not a binary buffer: a description has at most 10 (see describe)."""
    joined = "".join(names)
    units = ([len(name) for name in names] if joined.isascii()  # one unit a character
             else [len(name.encode("utf-16-le", "surrogatepass")) // 2 for name in names])
    return {"names": joined, "name_ends": i32(np.cumsum(units, dtype=np.int64))}


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


def level_bounds(program) -> np.ndarray:
    """Where each level begins, level 0 (the leaves) first, then the end: int64 × (levels + 1)."""
    if len(program.level_starts):
        return np.concatenate(([0], program.level_starts)).astype(np.int64)
    return np.array([0, program.n_leaves], np.int64)


def check_budget(max_bytes: int, max_events: int) -> None:
    """ValueError, naming the setting, for a frame budget that cannot hold one node."""
    if max_bytes < MIN_FRAME_BYTES:
        raise ValueError(f"a trace frame must hold one node with its edges: TRACE_FRAME_BYTES "
                         f"must be at least {MIN_FRAME_BYTES:,}, not {max_bytes:,}")
    if max_events < 3:
        raise ValueError(f"a trace frame must hold one node with its edges: TRACE_FRAME_EVENTS "
                         f"must be at least 3, not {max_events:,}")


def _cuts(nbytes: np.ndarray, nevents: np.ndarray, max_bytes: int, max_events: int) -> list:
    """Greedy cuts of a sequence of items into runs of at most ``max_bytes`` and ``max_events``
    (each item fits on its own): the indices where runs begin, and the end."""
    total_bytes = np.concatenate(([0], np.cumsum(nbytes)))
    total_events = np.concatenate(([0], np.cumsum(nevents)))
    cuts, a, n = [0], 0, len(nbytes)
    while a < n:
        b = min(int(np.searchsorted(total_bytes, total_bytes[a] + max_bytes, "right")),
                int(np.searchsorted(total_events, total_events[a] + max_events, "right"))) - 1
        a = max(b, a + 1)
        cuts.append(a)
    return cuts


def forward_frames(trace, token: str, max_bytes: int = FRAME_BYTES,
                   max_events: int = FRAME_EVENTS):
    """The forward pass in frames of consecutive wire ids, leaves first, each at most
    ``max_bytes`` (its values and envelope) and ``max_events`` nodes: a frame holds as many
    levels as fit, and a wide level is split.

    Numbers are binary (Socket.IO sends bytes as attachments, with no JSON encoding on either
    side). ``level`` is the level of the frame's first node.
    """
    check_budget(max_bytes, max_events)
    program = trace.program
    per_frame = min(max_events, (max_bytes - ENVELOPE_BYTES) // 8)
    n = len(program.nodes)
    for s in range(0, n, per_frame):
        e = min(n, s + per_frame)
        yield {"trace": token, "phase": "forward", "level": int(program.levels[s]), "start": s,
               "count": e - s, "values": f64(trace.values[s:e])}


def seed_frame(trace, token: str) -> dict:
    ids = [int(p) for p in trace.program.output_positions]
    return {"trace": token, "phase": "seed", "ids": ids, "values": [1.0] * len(ids)}


def backward_frames(trace, token: str, max_bytes: int = FRAME_BYTES,
                    max_events: int = FRAME_EVENTS):
    """Back-prop in the engine's order (top level first), in frames of at most ``max_bytes``
    and ``max_events`` events (a node's gradient and one per edge); a node's edges travel with
    it. A frame's nodes are ``spans``: runs of consecutive wire ids, one per level it holds,
    top level first; ``level`` is the level of its first span."""
    check_budget(max_bytes, max_events)
    program = trace.program
    order = trace.backward_order()
    if not len(order):
        return
    starts = program.edge_start
    arity = (starts[1:] - starts[:-1])[order]
    new_span = np.ones(len(order), bool)
    new_span[1:] = np.diff(order) != 1
    nbytes = 8 + EDGE_BYTES * arity + SPAN_BYTES * new_span
    cuts = _cuts(nbytes, 1 + arity, max_bytes - ENVELOPE_BYTES - SPAN_BYTES, max_events)
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        positions = order[a:b]
        first = np.flatnonzero(np.diff(positions) != 1) + 1
        span_start = positions[np.concatenate(([0], first))]
        span_count = np.diff(np.concatenate(([0], first, [len(positions)])))
        edges = concat_ranges(starts[span_start], starts[span_start + span_count])
        yield {"trace": token, "phase": "backward", "level": int(program.levels[positions[0]]),
               "count": len(positions),
               "spans": i32(np.stack([span_start, span_count], axis=1).ravel()),
               "grads": f64(trace.grads[positions]),
               "edges": {"count": len(edges), "parent": i32(trace.edge_parent[edges]),
                         "child": i32(trace.edge_child[edges]),
                         "local": f64(trace.edge_derivatives[edges]),
                         "contribution": f64(trace.contributions[edges])}}
