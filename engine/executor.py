"""Run a compiled program stretch by stretch, each the way that costs least for its shape.

A program's levels (compiler.py) are cut into stretches of consecutive levels, each run by one of:

- ``VectorStretch``: the level program — one numpy call per (level, operator) segment, forward
  and backward. Each call costs ~1-3 µs however few nodes it covers, and a nanosecond or so per
  node: unbeatable on wide levels, ruinous on a chain (one node per level).
- ``FloatStretch``: one sample (unbatched, or a batch of 1): forward, a flat loop over the
  stretch's nodes with Python floats and ``math`` (scalar_ops.py); backward, the local
  derivatives by numpy, one call per operator of the stretch, then a flat loop over its edges:
  ~0.25-0.3 µs a node, nearly all per node.
- ``RowStretch``: a batch: the same numpy functions as the level program, one node (one row of
  the arrays) per call: cheaper than a level's ~10 calls where a level holds one or two nodes.

Which one runs a level is decided by the cost model ``Costs`` (numbers measured by
``calibrate()``; ``python bench/shapes.py --calibrate`` measures them again) for the program's
batch size: each level goes to the cheaper executor, then stretches too short to repay an
interpreter's fixed cost (gathering its inputs, storing its results) join their neighbours.

All three fill the same arrays — values, gradients, one local derivative per edge — and add
contributions to each gradient in the same order (levels from the top, positions ascending, left
child first), so traces, error reports and events are those of the level program.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .ops import OPERATORS, apply, local_derivatives
from .scalar_ops import VALUE_BY_CODE

if TYPE_CHECKING:
    from .compiler import Program


@dataclass(frozen=True)
class Costs:
    """What running one level costs, in ns (forward + backward), by executor."""

    segment: float  # vector program: per (level, operator) segment
    level: float  # vector program: per level (the backward gather and scatter)
    element: float  # vector program: per node and sample
    node: float  # float interpreter: per node
    row: float  # row interpreter: per node
    row_element: float  # row interpreter: per node and sample
    stretch: float  # either interpreter: per stretch (gathers, list building, stores)


# Measured by calibrate() (best of 5) on the development machine: 2 cores shared with other jobs
# (load average 11-14), numpy 2.4, Python 3.11; three runs gave segment + level 3,700-32,000,
# element 26-28, node 297-337, row 1,500-2,550, row_element 23-162, stretch 2,670-2,740; the
# numbers below are rounded from the quieter runs. Only their ratios steer the choice: on a
# level of one segment, interpreting wins below ~20 nodes (one sample) or ~2 nodes (batch 64).
COSTS = Costs(segment=3000.0, level=3000.0, element=25.0, node=300.0, row=2500.0,
              row_element=25.0, stretch=2700.0)

MODES = ("adaptive", "levels", "nodes")


# -- planning --------------------------------------------------------------------------------
def plan(widths: np.ndarray, segments: np.ndarray, batch: int, mode: str = "adaptive",
         costs: Costs = COSTS) -> list[tuple[bool, int, int]]:
    """Stretches ``(interpreted, first level, end level)`` covering levels 0..len(widths)-1
    (levels counted from the first non-leaf level). ``batch`` is 1 for one sample."""
    n = len(widths)
    if n == 0:
        return []
    if mode == "levels":
        return [(False, 0, n)]
    if mode == "nodes":
        return [(True, 0, n)]
    if mode != "adaptive":
        raise ValueError(f"executor mode must be one of {', '.join(MODES)}, not {mode!r}")
    vector = costs.segment * segments + costs.level + costs.element * widths * batch
    if batch == 1:
        interpreted = costs.node * widths
    else:
        interpreted = (costs.row + costs.row_element * batch) * widths.astype(np.float64)
    gain = vector - interpreted  # what interpreting each level saves
    choice = gain > 0
    for _ in range(3):  # merging runs can make a neighbour's run worth flipping; settle it
        choice = _merge_short_runs(choice, gain, costs.stretch)
    cuts = np.flatnonzero(np.diff(choice.astype(np.int8))) + 1
    bounds = [0, *cuts.tolist(), n]
    return [(bool(choice[a]), a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _merge_short_runs(choice: np.ndarray, gain: np.ndarray, stretch: float) -> np.ndarray:
    """Interpreted runs that save less than a stretch costs go back to the vector program;
    then vector runs between two interpreted runs that cost less than the stretch they would
    save become interpreted."""
    starts = np.concatenate(([0], np.flatnonzero(np.diff(choice.astype(np.int8))) + 1))
    if len(starts) == 1 and not choice[0]:
        return choice
    run_gain = np.add.reduceat(gain, starts)
    run_choice = choice[starts]
    flip = run_choice & (run_gain < stretch)
    inner = np.zeros(len(starts), bool)
    inner[1:-1] = True
    flip |= ~run_choice & inner & (-run_gain < stretch)
    lengths = np.diff(np.append(starts, len(choice)))
    return np.repeat(run_choice ^ flip, lengths)


# -- the vector program ----------------------------------------------------------------------
@dataclass(frozen=True)
class Segment:
    """Nodes ``start..stop-1``: one level, one operator."""

    op_index: int
    start: int
    stop: int
    left: np.ndarray
    right: np.ndarray | None
    edge_start: int
    edge_stop: int


class VectorStretch:
    """Levels run one numpy call per segment (the program docs/engine.md describes)."""

    def __init__(self, p: Program, first: int, end: int) -> None:
        starts = p.level_starts
        start, stop = int(starts[first]), int(starts[end])
        seg = p.segment_starts
        cuts = seg[np.searchsorted(seg, start):np.searchsorted(seg, stop)].tolist() + [stop]
        self.segments: list[Segment] = []
        for s, e in zip(cuts[:-1], cuts[1:], strict=True):
            op = int(p.opcodes[s])
            binary = OPERATORS[op].arity == 2
            self.segments.append(Segment(
                op, s, e, p.left[s:e].copy(), p.right[s:e].copy() if binary else None,
                int(p.edge_start[s]), int(p.edge_start[e])))
        # Per level from the top: its edges, and whether a child repeats among them (fan-out):
        # if not, a plain fancy-index += is correct and faster than np.add.at.
        a, b = int(p.edge_start[start]), int(p.edge_start[stop])
        kids, parents = p.edge_child[a:b], p.edge_parent[a:b]
        level_of = p.levels[parents]
        keys = np.sort(level_of * np.int64(len(p.nodes)) + kids)
        repeated = set((keys[1:][keys[1:] == keys[:-1]] // len(p.nodes)).tolist())
        self.level_edges: list[tuple[int, int, np.ndarray, np.ndarray, bool]] = []
        for lv in range(end - 1, first - 1, -1):
            s, e = int(starts[lv]), int(starts[lv + 1])
            ea, eb = int(p.edge_start[s]), int(p.edge_start[e])
            self.level_edges.append((ea, eb, p.edge_parent[ea:eb], p.edge_child[ea:eb],
                                     int(p.levels[s]) not in repeated))

    def forward(self, values: np.ndarray) -> None:
        for seg in self.segments:
            op = OPERATORS[seg.op_index]
            a = values[seg.left]
            b = values[seg.right] if seg.right is not None else None
            values[seg.start:seg.stop] = apply(op, a, b)

    def backward(self, values: np.ndarray, grads: np.ndarray, local: np.ndarray) -> None:
        for seg in self.segments:
            op = OPERATORS[seg.op_index]
            a = values[seg.left]
            b = values[seg.right] if seg.right is not None else None
            derivatives = local_derivatives(op, a, b, values[seg.start:seg.stop])
            stride = len(derivatives)
            for k, d in enumerate(derivatives):
                local[seg.edge_start + k:seg.edge_stop:stride] = d
        for ea, eb, parents, kids, unique in self.level_edges:
            contribution = grads[parents] * local[ea:eb]
            if unique:
                grads[kids] += contribution
            else:
                np.add.at(grads, kids, contribution)


# -- the interpreters ------------------------------------------------------------------------
class _Interpreted:
    """What both interpreters share: the stretch's nodes, children and backward order."""

    def __init__(self, p: Program, first: int, end: int) -> None:
        start, stop = int(p.level_starts[first]), int(p.level_starts[end])
        self.start, self.stop = start, stop
        self.edges = int(p.edge_start[start]), int(p.edge_start[stop])
        self.ops: Any = p.opcodes[start:stop].astype(np.uint8).tobytes()  # one byte a node
        self.left = p.left[start:stop]
        self.right = p.right[start:stop]
        # Backward order: levels from the top, positions ascending within a level.
        levels = p.levels[start:stop]
        self.order = np.lexsort((np.arange(stop - start), -levels))


# scalar_ops' value functions by opcode, in an object array: take() lists a stretch's (~8 ns a
# node, where a list comprehension over its opcodes took ~40)
_VALUE_FUNCTIONS = np.array(VALUE_BY_CODE, dtype=object)


class FloatStretch(_Interpreted):
    """One sample: values by a flat loop over Python floats, gradients by a flat loop over edges.

    Forward, node by node (each value needs the one before): the stretch's outside inputs
    gathered into a list of floats, one ``math`` call or operator per node, results stored.
    Backward, in two steps, since no local derivative depends on a gradient:

    - every local derivative of the stretch with numpy, one call per operator present (not per
      level): the level program's own functions, so its very numbers;
    - the gradients by one loop over the stretch's edges in the level program's order (levels
      from the top, positions ascending, left child first): ``g[child] += g[parent] * d``, the
      level program's operations (``g * 1.0`` is ``g`` exactly, so ``+`` needs no case).

    Its code is held as columns (lists of shared ints, numpy index arrays) rather than a
    tuple per node: ~110 bytes a node instead of ~300."""

    def __init__(self, p: Program, first: int, end: int) -> None:
        super().__init__(p, first, end)
        start, stop, left, right = self.start, self.stop, self.left, self.right
        kids = np.concatenate((left, right[right >= 0]))
        self.outside = _distinct(kids[kids < start])  # children in earlier stretches
        n_out = len(self.outside)

        def local_index(q: np.ndarray) -> np.ndarray:
            inside = q - start + n_out
            return np.where(q < start, np.searchsorted(self.outside, q), inside)

        li = local_index(left)
        ri = np.where(right < 0, -1, local_index(np.maximum(right, 0)))
        functions: list[Callable[..., float]] = (
            _VALUE_FUNCTIONS.take(p.opcodes[start:stop]).tolist())
        self.forward_code = (functions, _indices(li), _indices(ri))
        self.derivative_groups = _derivative_groups(p, start, stop)
        # The backward loop's edges: per node in backward order, its left edge then its right.
        order = self.order
        arity = np.where(right[order] >= 0, 2, 1)
        ends = np.cumsum(arity)
        second = np.arange(int(ends[-1])) - np.repeat(ends - arity, arity)  # 0 left, 1 right
        children = np.where(second == 0, np.repeat(li[order], arity), np.repeat(ri[order], arity))
        self.gradient_code = (_indices(children), _indices(np.repeat(order + n_out, arity)))
        self.edge_order = np.repeat(p.edge_start[start:stop][order], arity) + second
        del self.order, self.left, self.right  # all in the code now: memory a node kept

    def forward(self, values: np.ndarray) -> None:
        v: list[float] = values[self.outside].tolist()
        try:
            _run_forward(*self.forward_code, v)
        except (ArithmeticError, ValueError):  # a non-finite result: numpy makes that one
            v = values[self.outside].tolist()
            self._forward_carefully(v)
        values[self.start:self.stop] = v[len(self.outside):]

    def backward(self, values: np.ndarray, grads: np.ndarray, local: np.ndarray) -> None:
        for op, q, a, b, edges in self.derivative_groups:
            derivatives = local_derivatives(op, values[a], None if b is None else values[b],
                                            values[q])
            for e, d in zip(edges, derivatives, strict=True):
                local[e] = d
        # Lists of floats: indexing one hands out the float it holds, where numpy or
        # array.array make a new one each time (~40% of the loop).
        g: list[float] = grads[self.outside].tolist()
        g += grads[self.start:self.stop].tolist()
        _accumulate(*self.gradient_code, local[self.edge_order].tolist(), g)
        n_out = len(self.outside)
        grads[self.outside] = g[:n_out]
        grads[self.start:self.stop] = g[n_out:]

    # The slow path, taken only when math refuses (numpy then gives inf or NaN).
    def _forward_carefully(self, v: list[float]) -> None:
        for i, (f, a, b) in enumerate(zip(*self.forward_code, strict=True)):
            try:
                v.append(f(v[a]) if b < 0 else f(v[a], v[b]))
            except (ArithmeticError, ValueError):
                op = OPERATORS[self.ops[i]]
                v.append(float(apply(op, _number(v[a]), _number(v[b]) if b >= 0 else None)))


DerivativeGroup = tuple[Any, np.ndarray, np.ndarray, np.ndarray | None, tuple[np.ndarray, ...]]


def _derivative_groups(p: Program, start: int, stop: int) -> list[DerivativeGroup]:
    """Per operator among positions start..stop-1: (operator, its nodes, their left and right
    children, their edges: left, and right for a binary operator), so one numpy call per
    operator finds their local derivatives. int64 indices: numpy converts int32 ones on every
    call (~1 µs each)."""
    codes = p.opcodes[start:stop]
    groups: list[DerivativeGroup] = []
    for code in _distinct(codes).tolist():
        q = np.flatnonzero(codes == code) + start
        op = OPERATORS[code]
        binary = op.arity == 2
        e = p.edge_start[q]
        groups.append((op, q, p.left[q], p.right[q] if binary else None,
                       (e, e + 1) if binary else (e,)))
    return groups


def _accumulate(children: Sequence[int], parents: Sequence[int], derivatives: Sequence[float],
                g: list[float]) -> None:
    for c, q, d in zip(children, parents, derivatives):  # noqa: B905 (built equal; strict costs)
        g[c] += g[q] * d


def _number(x: float) -> np.ndarray:
    return np.asarray(x, np.float64)  # a 0-d array: numpy's arithmetic, numpy's inf and NaN


# The interpreters' loops index with these: int objects made once and shared by every stretch
# (a piece's local indices stay below ~3 × FLOAT_STRETCH_NODES: its nodes and at most two
# outside children each), so a column costs 8 bytes an entry, and the loop reads an int where
# array.array would make one each time (~10% of the loops). Entry i + 1 is the int i, in an
# object array, whose take() hands out those very objects (~8 ns an entry; a list's
# __getitem__ through map takes ~30).
_SHARED = 3 << 12
_shared_ints = np.array([-1], dtype=object)


def _indices(a: np.ndarray) -> list[int]:
    """Local indices (-1: no right child) as a list of shared int objects."""
    global _shared_ints
    top = int(a.max()) + 1 if len(a) else 0
    if top > _SHARED:  # a level wider than a piece: its own ints
        return a.tolist()
    if len(_shared_ints) <= top:  # grown by doubling: few regrowths, each int made once
        have = len(_shared_ints) - 1
        grown = np.empty(min(max(top, 2 * have), _SHARED) + 1, dtype=object)
        grown[:have + 1] = _shared_ints
        grown[have + 1:] = range(have, len(grown) - 1)
        _shared_ints = grown
    return _shared_ints.take(a + 1).tolist()


def _distinct(a: np.ndarray) -> np.ndarray:
    """np.unique without its first call's import of numpy.ma (~30 ms)."""
    a = np.sort(a)
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if len(a) else a


def _run_forward(functions: list[Callable[..., float]], left: Sequence[int],
                 right: Sequence[int], v: list[float]) -> None:
    append = v.append
    for f, a, b in zip(functions, left, right):  # noqa: B905 (built equal; strict costs)
        append(f(v[a]) if b < 0 else f(v[a], v[b]))


class RowStretch(_Interpreted):
    """A batch, one node per numpy call: the level program's own functions, row by row."""

    def __init__(self, p: Program, first: int, end: int) -> None:
        super().__init__(p, first, end)
        positions = range(self.start, self.stop)
        ops = [OPERATORS[o] for o in self.ops]
        li, ri = self.left.tolist(), self.right.tolist()
        self.forward_code = list(zip(ops, positions, li, ri, strict=True))
        edge_of = p.edge_start[self.start:self.stop].tolist()
        self.backward_code = [(ops[i], self.start + i, li[i], ri[i], edge_of[i])
                              for i in self.order.tolist()]
        del self.order, self.left, self.right

    def forward(self, values: np.ndarray) -> None:
        for op, q, a, b in self.forward_code:
            values[q] = apply(op, values[a], values[b] if b >= 0 else None)

    def backward(self, values: np.ndarray, grads: np.ndarray, local: np.ndarray) -> None:
        for op, q, a, b, e in self.backward_code:
            vb = values[b] if b >= 0 else None
            derivatives = local_derivatives(op, values[a], vb, values[q])
            upstream = grads[q]
            local[e] = derivatives[0]
            grads[a] += upstream * local[e]
            if b >= 0:
                local[e + 1] = derivatives[1]
                grads[b] += upstream * local[e + 1]


Stretch = VectorStretch | FloatStretch | RowStretch


def build(p: Program, batch: int, mode: str) -> list[Stretch]:
    """The stretches that run ``p`` for a batch of ``batch`` samples (1: one sample)."""
    stretches: list[Stretch] = []
    for interpreted, first, end in plan(p.level_widths, p.level_segments, batch, mode):
        if not interpreted:
            stretches.append(VectorStretch(p, first, end))
        elif batch == 1:
            stretches.extend(FloatStretch(p, a, b) for a, b in
                             _pieces(p.level_starts, first, end, FLOAT_STRETCH_NODES))
        else:
            stretches.append(RowStretch(p, first, end))
    return stretches


# A float stretch's lists (values, gradients, derivatives: ~100 bytes a node while it runs) are
# bounded by cutting longer interpreted runs into pieces of about this many nodes; a piece's
# fixed cost (~10 µs) is then < 1 ns a node.
FLOAT_STRETCH_NODES = 1 << 12


def _pieces(level_starts: np.ndarray, first: int, end: int, most: int,
            ) -> list[tuple[int, int]]:
    """Levels first..end-1 cut at level boundaries into runs of at most ``most`` nodes (or one
    level, if a level alone holds more)."""
    starts = level_starts[first:end + 1]
    cuts = [first]
    while cuts[-1] < end:
        a = cuts[-1]
        b = first + int(np.searchsorted(starts, starts[a - first] + most, "right")) - 1
        cuts.append(min(max(b, a + 1), end))
    return list(zip(cuts[:-1], cuts[1:], strict=True))


# -- calibration -----------------------------------------------------------------------------
def calibrate(repeats: int = 5) -> Costs:
    """Measure ``Costs`` on this machine: the best of ``repeats`` runs of small graphs, each
    forced onto one executor. Takes a few seconds; the numbers in ``COSTS`` came from here."""
    from .graph import graph
    from .node import cos, node, sin

    def best(g: graph, mode: str) -> float:
        program = g.program()
        program.mode = mode
        g.compute_forward()
        g.back_prop()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            g.compute_forward()
            g.back_prop()
            times.append(time.perf_counter_ns() - t0)
        return float(min(times))

    def chains(k: int, length: int, batch: int) -> graph:
        """k chains side by side; chain j applies sin or cos: one segment per chain a level."""
        x = node("input", None)
        ends = []
        for j in range(k):
            y = x
            for _ in range(length):
                y = sin(y) if j % 2 == 0 else cos(y)
            ends.append(y)
        g = graph([x], [], ends)
        g.feed([np.full(batch, 0.5)] if batch > 1 else [0.5], [])
        return g

    levels = 400
    one, two = best(chains(1, levels, 1), "levels"), best(chains(2, levels, 1), "levels")
    segment = max((two - one) / levels, 1.0)
    level = max(one / levels - segment, 1.0)
    wide = 20_000
    x = node("input", None)
    g = graph([x], [], [sin(x) for _ in range(wide)])
    g.feed([0.5], [])
    element = max((best(g, "levels") - segment - level) / wide, 0.1)
    node_cost = best(chains(1, levels, 1), "nodes") / levels
    row_8, row_256 = (best(chains(1, levels, b), "nodes") / levels for b in (8, 256))
    row_element = max((row_256 - row_8) / 248, 0.1)
    # A stretch's fixed cost: running a one-node stretch, less what its node costs.
    short = chains(1, 1, 1)
    short.compute_forward()
    program = short.program()
    one_node = FloatStretch(program, 0, 1)
    assert program.values is not None, "compute_forward() set them"
    values, grads = program.values.copy(), np.zeros_like(program.values)
    local = np.empty(len(program.edge_child))
    times = []
    for _ in range(repeats * 20):
        t0 = time.perf_counter_ns()
        one_node.forward(values)
        one_node.backward(values, grads, local)
        times.append(time.perf_counter_ns() - t0)
    stretch = max(min(times) - node_cost, 1.0)
    return Costs(segment=segment, level=level, element=element, node=node_cost,
                 row=row_8 - 8 * row_element, row_element=row_element, stretch=stretch)

