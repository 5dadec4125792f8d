"""The shape-adaptive executor against the level program (engine/executor.py).

Random DAGs mix wide stretches (many nodes per level: the vector program) and narrow ones
(chains: the per-node interpreters), so one graph runs on both. Three checks:

- with the operators whose float arithmetic numpy and Python share (+ - * / neg inv abs relu max
  min sqrt), adaptive, level-by-level and all-interpreted runs are bit-identical: values, edge
  derivatives and gradients, NaN and inf included (lenient graphs), one sample, a batch of one
  and a batch of three, with the same events;
- with every operator, each node's value and local derivatives, recomputed by numpy from the
  adaptive run's own operands, are within the stated ulps (2; sigmoid 3; tanh 6 —
  docs/engine.md), and each gradient equals the sum the level program's order gives over
  those derivatives, bit for bit;
- the cost model sends a chain to the interpreter and a wide level to numpy.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from engine import compiler, executor, graph, node, tanh
from engine.executor import MODES, FloatStretch, RowStretch, VectorStretch
from engine.ops import OPERATORS, OPS, apply, local_derivatives

EXACT = ("+", "-", "*", "/", "neg", "inv", "abs", "relu", "max", "min", "sqrt")
ALL = tuple(op.name for op in OPERATORS if op.arity > 0)
# numpy (SIMD) and the C library may round these differently; measured bounds, docs/engine.md
# tanh: 3 ulp in the value; its derivative 1/cosh² compounds cosh's 1 ulp (measured ≤ 6 on 600k
# arguments). sigmoid: 1 ulp, its derivative 2.
ULPS = {"tanh": 6, "sigmoid": 3}
DEFAULT_ULPS = 2  # one rounding difference in the value, one more in a derivative built on it


@st.composite
def mixed_dags(draw, ops=EXACT):
    """(inputs, outputs): stretches of wide levels and of chains, each child from anywhere."""
    n_inputs = draw(st.integers(1, 4))
    inputs = [node("input", None, name=f"x{i}") for i in range(n_inputs)]
    made: list[node] = list(inputs)

    def new(name: str, previous: list[node]) -> node:
        # on the deepest node so far (so all of a wide stretch shares one level), and anything
        op = OPS[name]
        kids = [previous[-1]] + [draw(st.sampled_from(previous)) for _ in range(op.arity - 1)]
        return node(op.name, *kids)

    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):  # a wide level: 30-60 nodes of one or two operators
            before = list(made)
            names = draw(st.lists(st.sampled_from(ops), min_size=1, max_size=2))
            made += [new(draw(st.sampled_from(names)), before)
                     for _ in range(draw(st.integers(30, 60)))]
        else:  # a chain: each node uses the one before it (and maybe anything earlier)
            for _ in range(draw(st.integers(5, 60))):
                op = OPS[draw(st.sampled_from(ops))]
                kids = [made[-1]] + [draw(st.sampled_from(made)) for _ in range(op.arity - 1)]
                made.append(node(op.name, *kids))
    outputs = list(dict.fromkeys([made[-1]] + draw(st.lists(st.sampled_from(made[n_inputs:]),
                                                            max_size=3))))
    return inputs, outputs


def run(inputs, outputs, mode: str, values) -> compiler.Program:
    g = graph(inputs, [], outputs, lenient=True)
    g.program().mode = mode
    g.feed(values, [])
    g.compute_forward()
    g.back_prop()
    return g.program()


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit for bit (so -0.0 is not 0.0), and NaN where the other has NaN: which NaN (its sign
    bit) depends on which operand the CPU's instruction propagates, not on the engine."""
    a, b = np.where(np.isnan(a), np.nan, a), np.where(np.isnan(b), np.nan, b)
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


def leaf_values(inputs, batch: int | None, seed: int):
    rng = np.random.default_rng(seed)
    shape = (len(inputs),) if batch is None else (len(inputs), batch)
    return rng.uniform(-2.0, 2.0, shape)


@settings(max_examples=100)
@given(mixed_dags(), st.sampled_from([None, 1, 3]), st.integers(0, 2**31))
def test_exact_operators_run_bit_identical_in_every_mode(dag, batch, seed):
    inputs, outputs = dag
    values = leaf_values(inputs, batch, seed)
    programs = {mode: run(inputs, outputs, mode, values) for mode in MODES}
    reference = programs["levels"]
    for mode in ("adaptive", "nodes"):
        p = programs[mode]
        assert same(p.values, reference.values), mode
        assert same(p.edge_derivatives, reference.edge_derivatives), mode
        assert same(p.grads, reference.grads), mode
    size = 1 if batch in (None, 1) else batch
    assert {type(s) for s in programs["nodes"].stretches(size)} == (
        {FloatStretch} if size == 1 else {RowStretch})
    event("adaptive ran " + " and ".join(sorted({type(s).__name__
                                                 for s in programs["adaptive"].stretches(size)})))


@settings(max_examples=60)
@given(mixed_dags(ALL), st.integers(0, 2**31))
def test_every_operator_within_its_ulps_of_numpy(dag, seed):
    inputs, outputs = dag
    p = run(inputs, outputs, "nodes", leaf_values(inputs, None, seed))
    values, local, grads = p.values, p.edge_derivatives, p.grads
    for q in range(p.n_leaves, len(p.nodes)):
        op = OPERATORS[p.opcodes[q]]
        a = values[p.left[q]]
        b = values[p.right[q]] if p.right[q] >= 0 else None
        with np.errstate(all="ignore"):
            want = apply(op, np.array([a]), None if b is None else np.array([b]))[0]
            derivatives = local_derivatives(op, np.array([a]), None if b is None
                                            else np.array([b]), np.array([values[q]]))
        bound = ULPS.get(op.name, DEFAULT_ULPS)
        assert ulps(values[q], want) <= bound, (op.name, a, b, values[q], want)
        for k, d in enumerate(derivatives):
            d = float(np.broadcast_to(d, (1,))[0])
            assert ulps(local[p.edge_start[q] + k], d) <= bound, (op.name, a, b, k)
    # Gradients from those derivatives, summed in the level program's order (top level first,
    # positions ascending, left child first): exactly what the interpreter made.
    expect = np.zeros_like(grads)
    expect[p.output_positions] += 1.0
    with np.errstate(all="ignore"):
        for q in sorted(range(p.n_leaves, len(p.nodes)), key=lambda q: (-p.levels[q], q)):
            for e in range(p.edge_start[q], p.edge_start[q + 1]):
                expect[p.edge_child[e]] = expect[p.edge_child[e]] + expect[q] * local[e]
    assert same(grads, expect)


@settings(max_examples=60)
@given(mixed_dags(ALL), st.integers(0, 2**31))
def test_interpreted_local_derivatives_are_numpys_bit_for_bit(dag, seed):
    """The float interpreter finds a stretch's local derivatives with the level program's
    numpy functions (one call per operator), so each equals numpy's from the same operands
    exactly, for every operator (math's cosh, say, may differ by an ulp)."""
    inputs, outputs = dag
    p = run(inputs, outputs, "nodes", leaf_values(inputs, None, seed))
    values, local = p.values, p.edge_derivatives
    for q in range(p.n_leaves, len(p.nodes)):
        op = OPERATORS[p.opcodes[q]]
        b = np.array([values[p.right[q]]]) if p.right[q] >= 0 else None
        with np.errstate(all="ignore"):
            derivatives = local_derivatives(op, np.array([values[p.left[q]]]), b,
                                            np.array([values[q]]))
        for k, d in enumerate(derivatives):
            e = p.edge_start[q] + k
            assert same(local[e:e + 1], np.broadcast_to(d, (1,)).astype(np.float64)), op.name


@settings(max_examples=40)
@given(mixed_dags(ALL), st.integers(1, 40), st.integers(0, 2**31))
def test_a_stretch_cut_into_pieces_runs_as_it_does_whole(dag, most, seed):
    """Interpreted runs are cut into pieces of at most FLOAT_STRETCH_NODES nodes (to bound
    their lists); with pieces of ``most`` nodes, values, derivatives and gradients are those of
    one whole stretch, bit for bit, every operator."""
    inputs, outputs = dag
    values = leaf_values(inputs, None, seed)
    whole = run(inputs, outputs, "nodes", values)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(executor, "FLOAT_STRETCH_NODES", most)
        cut = run(inputs, outputs, "nodes", values)
        pieces = cut.stretches(1)
    assert len(pieces) >= (len(cut.nodes) - cut.n_leaves) / max(most, int(cut.level_widths.max()))
    for s in pieces:
        assert isinstance(s, FloatStretch)
        assert s.stop - s.start <= most or int(cut.levels[s.start]) == int(cut.levels[s.stop - 1])
    assert [s.start for s in pieces[1:]] == [s.stop for s in pieces[:-1]]
    assert (pieces[0].start, pieces[-1].stop) == (cut.n_leaves, len(cut.nodes))
    for name in ("values", "edge_derivatives", "grads"):
        assert same(getattr(cut, name), getattr(whole, name)), name


def test_a_level_wider_than_a_piece_runs_interpreted_as_the_level_program_does():
    """All interpreted, a level of 13,000 nodes is one piece whose indices pass the shared
    ints (executor._SHARED): its own ints then, the same numbers."""
    assert 13_000 > executor._SHARED > executor.FLOAT_STRETCH_NODES
    x, y = node("input", None), node("input", None)
    wide = [node("*", x, y if k % 2 else x) for k in range(13_000)]
    squares = [node("*", w, w) for w in wide]  # a second such level, on the first
    programs = {}
    for mode in ("levels", "nodes"):
        g = graph([x, y], [], squares)
        g.program().mode = mode
        g.feed([0.7, -1.3], [])
        g.compute_forward()
        g.back_prop()
        programs[mode] = g.program()
    p, reference = programs["nodes"], programs["levels"]
    assert max(s.stop - s.start for s in p.stretches(1)) > executor._SHARED
    for name in ("values", "edge_derivatives", "grads"):
        assert same(getattr(p, name), getattr(reference, name)), name
    # 6,500 x⁴ and 6,500 x²y²: d/dx = 6,500 (4x³ + 2xy²), d/dy = 6,500 · 2x²y
    assert p.grads[p.position[x]] == pytest.approx(6_500 * (4 * 0.7**3 + 2 * 0.7 * 1.3**2))
    assert p.grads[p.position[y]] == pytest.approx(6_500 * 2 * 0.7**2 * -1.3)


def ulps(x: float, y: float) -> int:
    """How many doubles apart two values are (0 for two NaNs or equal infinities)."""
    if math.isnan(x) or math.isnan(y):
        return 0 if math.isnan(x) and math.isnan(y) else 2**62
    if math.isinf(x) or math.isinf(y):
        return 0 if x == y else 2**62

    def key(v: float) -> int:
        i = int(np.float64(v).view(np.int64))
        return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)
    return abs(key(x) - key(y))


@settings(max_examples=25)
@given(mixed_dags(), st.integers(0, 2**31))
def test_events_are_those_of_the_level_program(dag, seed):
    inputs, outputs = dag
    values = leaf_values(inputs, None, seed)
    streams = []
    for mode in ("levels", "adaptive"):
        g = graph(inputs, [], outputs, lenient=True)
        g.program().mode = mode
        g.feed(values, [])
        events: list[tuple] = []
        def record(e, events=events):
            events.append((e.kind, e.node.id, e.child.id if e.child else None,
                           bits(e.value), bits(e.local), bits(e.upstream)))
        with np.errstate(all="ignore"):  # lenient: NaN and inf are expected here
            g.compute_forward(record)
            g.back_prop(record)
        streams.append(events)
    assert streams[0] == streams[1]


def bits(x: float | None) -> bytes:
    """A number's bits, any NaN as numpy's (see same())."""
    x = 0.0 if x is None else x
    return np.float64(np.nan if math.isnan(x) else x).tobytes()


def chain_and_wide(width: int, length: int):
    x = node("input", None)
    wide = [node("sin", x) for _ in range(width)]
    total = wide[0]
    for w in wide[1:]:
        total = total + w  # a chain of + on top of the wide level
    y = total
    for _ in range(length):
        y = tanh(y) + y
    g = graph([x], [], [y])
    g.program().mode = "adaptive"  # whatever BACKPROP_ENGINE_MODE says
    g.feed([0.3], [])
    return g


def test_the_cost_model_runs_a_chain_interpreted_and_a_wide_level_with_numpy():
    g = chain_and_wide(5000, 200)
    g.compute_forward()
    stretches = g.program().stretches(1)
    assert isinstance(stretches[0], VectorStretch)  # the level of 5,000 sines
    assert isinstance(stretches[-1], FloatStretch)  # the chains on top
    batched = chain_and_wide(5000, 200)
    batched.feed([np.linspace(0, 1, 64)], [])
    batched.compute_forward()
    kinds = [type(s) for s in batched.program().stretches(64)]
    assert kinds[0] is VectorStretch and kinds[-1] is RowStretch


def test_a_domain_error_inside_an_interpreted_stretch_names_the_node():
    x = node("input", None, name="x")
    y = x
    for _ in range(50):
        y = y + x
    bad = node("log", y - y * 1.0 - 1.0, name="bad")  # log(-1)
    out = bad
    for _ in range(50):
        out = out + x
    g = graph([x], [], [out])
    g.program().mode = "adaptive"
    g.feed([0.5], [])
    from engine import DomainError

    with pytest.raises(DomainError, match=r"'bad' \(log\): log\(-1.0\) = nan"):
        g.compute_forward()
    assert isinstance(g.program().stretches(1)[-1], FloatStretch)


@pytest.mark.slow
def test_a_million_node_chain_compiles_and_runs_in_bounded_memory():
    """In a fresh process, so its peak resident size is the chain's: ≤ 600 bytes a node for
    building, compiling and running it. Values and the gradient against plain Python floats."""
    script = textwrap.dedent("""
        import gc, json, math, resource
        from engine import graph, node, tanh
        def rss():
            return int(open("/proc/self/statm").read().split()[1]) * 4096
        gc.collect()
        before = rss()
        x0 = node("input", 0.5)
        x = x0
        for _ in range(500_000):
            x = x + tanh(x)
        g = graph([x0], [], [x])
        g.feed([0.5], [])
        g.compute_forward()
        g.back_prop()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({"value": x.forward, "grad": x0.backward,
                          "nodes": len(g.program().nodes), "bytes": peak - before}))
    """)
    root = Path(__file__).resolve().parents[2]  # this checkout's engine, not an installed one
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=root)
    result = eval_json(done.stdout)
    value, grad = 0.5, 1.0
    for _ in range(500_000):
        t = math.tanh(value)
        grad *= 1.0 + (1.0 - t * t)
        value += t
    assert result["nodes"] == 1_000_001
    assert math.isclose(result["value"], value, rel_tol=1e-12)
    assert math.isclose(result["grad"], grad, rel_tol=1e-9)
    assert result["bytes"] / result["nodes"] <= 600


def eval_json(text: str) -> dict:
    import json

    return json.loads(text.strip().splitlines()[-1])
