"""A trace in bounded frames (engine/frames.py, docs/protocol.md "Tracing a graph"; issue 18).

Every frame of every shape — a chain (one node per level), a window (thousands of narrow levels),
a random DAG (few wide levels) — holds at most FRAME_BYTES as Socket.IO sends it and at most
FRAME_EVENTS events, whichever comes first; frames are full (a chain no longer goes one frame
per level); and the frames, unrolled the way the page does, are the engine's own events in the
engine's order (engine/trace.py's iterators, an independent walk over the same arrays).
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from engine import frames, graph, node, tanh
from engine.trace import Trace
from tests.server.frames import decode

SHAPES = ("chain", "window", "dag")


def build(shape: str, size: int, seed: int = 0):
    """The bench's shapes (bench/shapes.py): x = x + tanh(x); children among the last 32
    nodes; children anywhere."""
    rng = random.Random(seed)
    inputs = [node("input", 0.1 + 0.05 * k) for k in range(8)]
    nodes = list(inputs)
    while len(nodes) < size:
        if shape == "chain":
            nodes.append(tanh(nodes[-1]))
            nodes.append(nodes[-2] + nodes[-1])
            continue
        reach = len(nodes) if shape == "dag" else min(32, len(nodes))
        a = nodes[len(nodes) - 1 - rng.randrange(reach)]
        b = nodes[len(nodes) - 1 - rng.randrange(reach)]
        nodes.append(rng.choice((tanh(a), a + b, a * tanh(b))))
    g = graph(inputs, [], [nodes[-1]])
    g.compute_forward()
    g.back_prop()
    return g


def wire_size(frame: dict) -> int:
    """Bytes of the frame as Socket.IO sends it: the JSON with each binary part replaced by a
    placeholder, and the binary parts."""
    parts: list[bytes] = []

    def placeholder(value):
        if isinstance(value, bytes):
            parts.append(value)
            return {"_placeholder": True, "num": len(parts) - 1}
        if isinstance(value, dict):
            return {k: placeholder(v) for k, v in value.items()}
        return value
    text = json.dumps(placeholder(frame), separators=(",", ":"))
    return len(text) + sum(len(p) for p in parts)


def events_in(frame: dict) -> int:
    if frame["phase"] == "backward":
        return frame["count"] + frame["edges"]["count"]
    return len(frame.get("ids") or ()) or frame["count"]


def all_frames(g, token="t_abcdefgh", **budget):
    trace = Trace(g.program())
    return [*frames.forward_frames(trace, token, **budget), frames.seed_frame(trace, token),
            *frames.backward_frames(trace, token, **budget)]


def unrolled(sent) -> list[tuple]:
    """(kind, position, child, value, local) in the order the page's timeline unrolls them."""
    out = []
    for frame in map(decode, sent):
        if frame["phase"] == "forward":
            out += [("forward", i, None, v, None) for i, v in zip(frame["ids"],
                                                                  frame["values"], strict=True)]
        elif frame["phase"] == "seed":
            out += [("seed", i, None, v, None) for i, v in zip(frame["ids"], frame["values"],
                                                               strict=True)]
        else:
            e, edges = 0, frame["edges"]
            for i, grad in zip(frame["ids"], frame["grads"], strict=True):
                out.append(("gradient", i, None, grad, None))
                while e < len(edges["parent"]) and edges["parent"][e] == i:
                    out.append(("edge", i, edges["child"][e], edges["contribution"][e],
                                edges["local"][e]))
                    e += 1
            assert e == len(edges["parent"]), "edges not ordered by the frame's nodes"
    return out


def engine_events(g) -> list[tuple]:
    program = g.program()
    trace = Trace(program)
    position = program.position
    return [(e.kind, position[e.node], None if e.child is None else position[e.child],
             float(e.value), None if e.local is None else float(e.local))
            for e in [*trace.forward_events(), *trace.backward_events()]]


@pytest.mark.parametrize("shape", SHAPES)
def test_every_frame_is_bounded_in_bytes_and_events_and_frames_are_full(shape):
    g = build(shape, 30_000)
    sent = all_frames(g)
    sizes = [wire_size(f) for f in sent]
    assert max(sizes) <= frames.FRAME_BYTES
    assert max(events_in(f) for f in sent) <= frames.FRAME_EVENTS
    # Greedy packing: two neighbouring frames of one phase could not have been one, so a
    # phase takes fewer than 2 × its bytes / the budget + 1 frames (one per level before).
    for phase in ("forward", "backward"):
        of_phase = [s for f, s in zip(sent, sizes, strict=True) if f["phase"] == phase]
        assert len(of_phase) <= 2 * sum(of_phase) / frames.FRAME_BYTES + 1, (phase, of_phase)
    levels = len(g.program().level_starts)
    if shape != "dag":
        assert len(sent) < levels / 20  # thousands of levels in a few dozen frames


@pytest.mark.parametrize("shape", SHAPES)
def test_frames_unroll_into_the_engines_events_in_the_engines_order(shape):
    g = build(shape, 3_000, seed=1)
    assert unrolled(all_frames(g, max_bytes=1_024, max_events=40)) == engine_events(g)
    assert unrolled(all_frames(g)) == engine_events(g)


@pytest.mark.parametrize(("max_bytes", "max_events"), [(1_024, 8_192), (65_536, 3),
                                                       (4_096, 100)])
def test_a_small_budget_is_kept_too(max_bytes, max_events):
    g = build("window", 2_000, seed=2)
    sent = all_frames(g, max_bytes=max_bytes, max_events=max_events)
    assert max(wire_size(f) for f in sent) <= max_bytes
    assert max(events_in(f) for f in sent if f["phase"] != "seed") <= max_events
    assert unrolled(sent) == engine_events(g)


def test_a_frame_says_the_level_it_begins_at_and_spans_are_whole_levels():
    g = build("chain", 4_000)
    program = g.program()
    sent = all_frames(g, max_bytes=2_048)
    backward = [f for f in sent if f["phase"] == "backward"]
    for f in backward:
        spans = np.frombuffer(f["spans"], "<i4").reshape(-1, 2)
        assert f["level"] == program.levels[spans[0, 0]]
        # one span per level, top level first: each a run of the same level, descending
        span_levels = [int(program.levels[s]) for s, _ in spans]
        assert span_levels == list(range(span_levels[0], span_levels[0] - len(spans), -1))
        for s, n in spans:
            assert len(set(program.levels[s:s + n].tolist())) == 1
    forward = [f for f in sent if f["phase"] == "forward"]
    assert [f["level"] for f in forward] == [int(program.levels[f["start"]]) for f in forward]


def test_a_budget_that_cannot_hold_one_node_is_refused_by_name():
    trace = Trace(build("chain", 100).program())
    with pytest.raises(ValueError, match="TRACE_FRAME_BYTES must be at least 1,024"):
        list(frames.backward_frames(trace, "t", max_bytes=600))
    with pytest.raises(ValueError, match="TRACE_FRAME_EVENTS must be at least 3"):
        list(frames.forward_frames(trace, "t", max_events=2))


def test_backward_order_is_top_level_first_each_level_ascending():
    program = build("window", 2_000, seed=3).program()
    order = Trace(program).backward_order()
    levels = program.levels[order]
    assert sorted(order.tolist()) == list(range(len(program.nodes)))
    assert np.all(np.diff(levels) <= 0)
    same_level = np.diff(levels) == 0
    assert np.all(np.diff(order)[same_level] == 1)
