"""Compile a DAG of ``node`` objects into arrays; executor.py runs them.

Layout of a compiled program (a "position" is a node's index in these arrays):
- leaves first (positions ``0 .. n_leaves-1``), then every other node sorted by (level, operator),
  where a node's level is 1 + the largest level of its children. All nodes of one level depend
  only on lower levels, so a level can be computed at once, one numpy call per operator present.
- ``left`` / ``right``: children's positions; ``level_starts``: where each level >= 1 begins;
  ``segment_starts``: where each (level, operator) span begins.
- edges, one per (parent, child) pair, in position order of the parent (left child first). The
  backward pass walks levels from the top, pushing ``gradient[parent] * local_derivative`` into
  ``gradient[child]``.

Compiling is linear in the graph's size with no work per level beyond a few numpy calls over
all levels at once; executor.py cuts the levels into stretches (the vector program for wide
ones, a per-node interpreter for narrow ones) when the program first runs at a batch size.
The cyclic garbage collector is paused while a program is built (see ``gc_paused``).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, NoReturn, cast

import numpy as np

from . import executor
from .errors import DomainError, GraphError, describe_node
from .executor import Segment
from .ops import LEAVES, OPCODE, OPERATORS

if TYPE_CHECKING:
    from .node import node

__all__ = ["Program", "Segment", "collect", "gc_paused"]

# How programs run: "adaptive" (the cost model picks per stretch), "levels" (the level program
# everywhere) or "nodes" (the per-node interpreter everywhere). Tests compare the three.
default_mode = "adaptive"


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a big build. Building allocates millions of
    objects that all survive, so every collection it triggers finds nothing to free, and the
    full ones walk everything built so far: at 1M nodes that doubles the build's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_EXPAND = object()  # on collect's stack: the node below it has had its children pushed


def collect(outputs: Sequence[node], listed_leaves: Iterable[node] = (),
            ) -> tuple[list[node], dict[node, int], int]:
    """Every node the outputs depend on, children before parents, with each node's level; then
    the listed leaves and the nodes built on all these that reach no output. The third value
    counts the first part (what the outputs depend on).

    Iterative, so a chain of 1,000,000 nodes does not hit Python's recursion limit; a depth-first
    post-order, left child first.
    """
    level: dict[node, int] = {}
    order: list[node] = []
    append = order.append
    stack: list[object] = list(reversed(outputs))
    push, pop = stack.append, stack.pop
    expand = _EXPAND
    while stack:
        current = pop()
        if current is expand:
            current = pop()
            left, right = current.left_child, current.right_child  # type: ignore[attr-defined]
            if right is None:
                level[current] = level[left] + 1  # type: ignore[index]
            else:
                a, b = level[left], level[right]
                level[current] = (a if a > b else b) + 1  # type: ignore[index]
            append(current)  # type: ignore[arg-type]
            continue
        if current in level:
            continue
        left = current.left_child  # type: ignore[attr-defined]
        if left is None:  # a leaf
            level[current] = 0  # type: ignore[index]
            append(current)  # type: ignore[arg-type]
            continue
        push(current)
        push(expand)
        right = current.right_child  # type: ignore[attr-defined]
        if right is not None and right not in level:
            push(right)
        if left not in level:
            push(left)
    n_needed = len(order)
    for leaf in listed_leaves:
        if leaf not in level:
            level[leaf] = 0
            order.append(leaf)
    _add_dangling(order, level)
    return order, level, n_needed

def _add_dangling(order: list[node], level: dict[node, int]) -> None:
    """Add nodes built on the graph that reach no output: they get values (the reference
    computed them, and the page shows them, e.g. a softmax's probabilities next to a log-softmax
    loss) and gradient 0. A node joins once all its children are in; a leaf child only if it
    holds a value (a literal like the 2 in ``2 * y``)."""
    frontier = [p for n in order for p in n.parents if p not in level]
    pop, push, append, known = frontier.pop, frontier.append, order.append, level.get
    leaves = LEAVES
    # Written out (no children tuple, generator or max per node): at 1M nodes of a random DAG
    # most nodes are dangling, and this loop was half of the compile.
    while frontier:
        candidate = pop()
        if candidate in level:
            continue
        left, right = candidate.left_child, candidate.right_child
        a = known(left)  # type: ignore[arg-type]
        if a is None and (left._fed is None or left.operator not in leaves):  # type: ignore[union-attr]
            continue  # revisited if the missing child joins later
        if right is not None and right not in level and (
                right._fed is None or right.operator not in leaves):
            continue
        if a is None:  # a fed leaf: it joins first
            level[left] = a = 0  # type: ignore[index]
            append(left)  # type: ignore[arg-type]
        b = 0
        if right is not None:
            b = known(right, -1)
            if b < 0:  # (once, even when it is the left child too: x * x)
                level[right] = b = 0
                append(right)
        level[candidate] = (a if a > b else b) + 1
        append(candidate)
        for p in candidate.parents:
            if p not in level:
                push(p)


def _batch(array: np.ndarray) -> tuple[int, np.ndarray]:
    """(batch size, one sample's column): 1 and the column itself for one sample or a batch
    of one, which the float interpreter runs; else B and the array."""
    if array.ndim == 1:
        return 1, array
    if array.shape[1:] == (1,):
        return 1, array[:, 0]
    return int(np.prod(array.shape[1:])), array


class Program:
    """The arrays of one compiled graph, its last values and gradients."""

    def __init__(self, outputs: Sequence[node], listed_leaves: Sequence[node]) -> None:
        with gc_paused():
            self._layout(outputs, listed_leaves)
        self.values: np.ndarray | None = None
        self.grads: np.ndarray | None = None
        self.edge_derivatives: np.ndarray | None = None
        self.lenient = False
        self.mode = default_mode
        # batch size (1 for one sample) and mode -> the stretches that run it
        self._stretches: dict[tuple[int, str], list[executor.Stretch]] = {}
        self._level_ranges: list[tuple[int, int]] | None = None
        self._position: dict[node, int] | None = None

    def _layout(self, outputs: Sequence[node], listed_leaves: Sequence[node]) -> None:
        for n in listed_leaves:
            if n.operator not in LEAVES:
                raise GraphError(f"{describe_node(n)} is listed as a graph input or const, "
                                 "but only 'input' and 'const' nodes can be fed")
        closure, level, n_needed = collect(outputs, listed_leaves)
        listed = list(dict.fromkeys(listed_leaves))
        listed_set = set(listed)
        extra_leaves = [n for n in closure if n.operator in LEAVES and n not in listed_set]
        inner = [n for n in closure if n.operator not in LEAVES]
        inner_level = np.fromiter(map(level.__getitem__, inner), np.int64, len(inner))
        opcode = OPCODE.__getitem__
        inner_op = np.fromiter((opcode(n.operator) for n in inner), np.int64, len(inner))
        # Nodes flagged is_output count as outputs where the listed outputs depend on them (the
        # reference started back-prop from them); a flagged node merely built on this graph's
        # nodes, say another graph's loss, does not.
        flagged = [n for n in closure[:n_needed] if n.is_output]
        # The walk's dict and list go before the arrays are made: ~90 bytes a node of peak.
        del level, closure
        by_level = np.lexsort((inner_op, inner_level))
        # Through an object array: by_level.tolist() would make an int object per node.
        as_objects = np.empty(len(inner), dtype=object)
        as_objects[:] = inner
        inner = cast("list[node]", as_objects[by_level].tolist())
        del as_objects

        self.nodes = listed + extra_leaves + inner
        # which of them were flagged, compiled or not: a flag set later means a compile again
        self.flagged_when_compiled = [n for n in self.nodes if n.is_output]
        self.n_leaves = n_leaves = len(listed) + len(extra_leaves)
        self.extra_leaves = extra_leaves
        size = len(self.nodes)
        # Each node learns its position now (bind); children's positions are read from them, so
        # compiling needs no node -> position dict (~100 bytes a node at 1M nodes).
        self.bind()
        self.listed_positions = np.array([n._slot for n in listed_leaves], np.int64)
        self.opcodes = np.zeros(size, np.int64)
        self.opcodes[:n_leaves] = [OPCODE[n.operator] for n in self.nodes[:n_leaves]]
        self.opcodes[n_leaves:] = inner_op[by_level]
        self.levels = np.zeros(size, np.int64)
        self.levels[n_leaves:] = inner_level[by_level]
        self.left = np.full(size, -1, np.int64)
        self.right = np.full(size, -1, np.int64)
        # every node past the leaves has a left child; a missing right child is -1
        # attrgetter and getattr's default run in C: no Python frame per node.
        self.left[n_leaves:] = np.fromiter(map(attrgetter("left_child._slot"), inner),
                                           np.int64, len(inner))
        self.right[n_leaves:] = np.fromiter(
            map(getattr, map(attrgetter("right_child"), inner), repeat("_slot"), repeat(-1)),
            np.int64, len(inner))  # None has no _slot: -1

        seen_outputs = dict.fromkeys(list(outputs) + flagged)
        self.outputs = list(seen_outputs)
        self.output_positions = np.array([n._slot for n in self.outputs], np.int64)

        # Edges in position order of the parent: left child, then right child.
        arity = (self.left >= 0).astype(np.int64) + (self.right >= 0)
        self.edge_start = np.concatenate(([0], np.cumsum(arity)))
        n_edges = int(self.edge_start[-1])
        self.edge_parent = np.repeat(np.arange(size), arity)
        children = np.stack([self.left, self.right], axis=1).ravel()
        self.edge_child = children[children >= 0]
        assert len(self.edge_child) == n_edges

        # Levels and (level, operator) segments, found for all levels at once.
        inner_levels, inner_ops = self.levels[n_leaves:], self.opcodes[n_leaves:]
        new_level = np.flatnonzero(np.diff(inner_levels) != 0) + n_leaves + 1
        self.level_starts = (np.concatenate(([n_leaves], new_level, [size])) if size > n_leaves
                             else np.zeros(0, np.int64))
        new_segment = np.flatnonzero((np.diff(inner_levels) != 0) | (np.diff(inner_ops) != 0))
        self.segment_starts = (np.concatenate(([n_leaves], new_segment + n_leaves + 1))
                               if size > n_leaves else np.zeros(0, np.int64))
        self.level_widths = np.diff(self.level_starts)
        level_of_segment = np.searchsorted(self.level_starts, self.segment_starts, "right") - 1
        self.level_segments = np.bincount(level_of_segment, minlength=len(self.level_widths))

    @property
    def position(self) -> dict[node, int]:
        """node -> its position, made when first asked for (error reports, the page's ids)."""
        if self._position is None:
            self._position = dict(zip(self.nodes, range(len(self.nodes)), strict=True))
        return self._position

    @property
    def level_ranges(self) -> list[tuple[int, int]]:
        """(start, stop) positions of each level >= 1, bottom up."""
        if self._level_ranges is None:
            starts = self.level_starts.tolist()
            self._level_ranges = list(zip(starts[:-1], starts[1:], strict=True))
        return self._level_ranges

    def stretches(self, batch: int) -> list[executor.Stretch]:
        """How a batch of ``batch`` samples (1: one sample) runs, built on first use."""
        key = (batch, self.mode)
        found = self._stretches.get(key)
        if found is None:
            found = self._stretches[key] = executor.build(self, batch, self.mode)
        return found

    # -- running -------------------------------------------------------------------------------
    def bind(self) -> None:
        """Point each node at this program, so ``node.forward`` reads these arrays."""
        me = weakref.ref(self)
        for slot, n in enumerate(self.nodes):
            n._program = me
            n._slot = slot

    @np.errstate(all="ignore")  # non-finite results are found and reported below
    def forward(self, leaf_values: np.ndarray) -> None:
        values = np.empty((len(self.nodes),) + leaf_values.shape[1:], np.float64)
        values[: self.n_leaves] = leaf_values
        batch, rows = _batch(values)
        for stretch in self.stretches(batch):
            stretch.forward(rows if isinstance(stretch, executor.FloatStretch) else values)
        self.values, self.grads, self.edge_derivatives = values, None, None
        if not self.lenient and not np.isfinite(values).all():
            self._raise_forward_domain_error()

    @np.errstate(all="ignore")
    def backward(self) -> None:
        values = self.values
        assert values is not None, "backward() runs after forward()"
        local = np.empty((len(self.edge_child),) + values.shape[1:], np.float64)
        grads = np.zeros_like(values)
        grads[self.output_positions] += 1.0
        batch, value_rows = _batch(values)
        _, grad_rows = _batch(grads)
        _, local_rows = _batch(local)
        for stretch in reversed(self.stretches(batch)):
            if isinstance(stretch, executor.FloatStretch):
                stretch.backward(value_rows, grad_rows, local_rows)
            else:
                stretch.backward(values, grads, local)
        self.grads, self.edge_derivatives = grads, local
        if not self.lenient and not (np.isfinite(local).all() and np.isfinite(grads).all()):
            self._raise_backward_domain_error()

    # -- reading -------------------------------------------------------------------------------
    def value_of(self, slot: int) -> float | np.ndarray:
        assert self.values is not None, "value_of is called after a forward pass"
        v = self.values[slot]
        return float(v) if v.ndim == 0 else v

    def grad_of(self, slot: int, summed: bool) -> float | np.ndarray:
        assert self.grads is not None, "grad_of is called after a backward pass"
        g = self.grads[slot]
        if g.ndim == 0:
            return float(g)
        return float(g.sum()) if summed else g

    def nonfinite_positions(self) -> np.ndarray:
        """Positions whose value or gradient is NaN or infinite (lenient graphs keep going)."""
        assert self.values is not None, "nonfinite_positions() needs a forward pass"
        bad = ~np.isfinite(self.values)
        if self.grads is not None:
            bad |= ~np.isfinite(self.grads)
        rows = bad.any(axis=tuple(range(1, bad.ndim))) if bad.ndim > 1 else bad
        return np.flatnonzero(rows)

    # -- errors --------------------------------------------------------------------------------
    def _operands(self, p: int, sample: tuple[int, ...]) -> tuple[float, ...]:
        values = self.values
        assert values is not None, "domain errors are looked for after a pass"
        picks = [q for q in (self.left[p], self.right[p]) if q >= 0]
        return tuple(float(values[q][sample]) for q in picks)

    def _raise_forward_domain_error(self) -> NoReturn:
        values = self.values
        assert values is not None, "called by forward(), which has just set the values"
        bad = ~np.isfinite(values)
        rows = bad if bad.ndim == 1 else bad.any(axis=1)
        # Children precede parents, so the first non-finite position is where it started.
        p = int(np.argmax(rows))
        sample: tuple[int, ...] = () if bad.ndim == 1 else (int(np.argmax(bad[p])),)
        n = self.nodes[p]
        op = OPERATORS[self.opcodes[p]]
        operands = self._operands(p, sample)
        where = f" in sample {sample[0]}" if sample else ""
        shown = ", ".join(repr(x) for x in operands)
        value = float(values[p][sample])
        raise DomainError(
            f"{describe_node(n)}: {n.operator}({shown}) = {value}{where} is not finite"
            f"{' — ' + n.operator + ' ' + op.domain if op.domain else ''}", n, operands)

    def _raise_backward_domain_error(self) -> NoReturn:
        derivatives, grads = self.edge_derivatives, self.grads
        assert derivatives is not None and grads is not None, "called by backward(), after it"
        bad = ~np.isfinite(derivatives)
        bad_edges = bad.any(axis=1) if bad.ndim > 1 else bad
        if bad_edges.any():
            # Report the edge the backward pass reaches first: the highest level.
            candidates = np.flatnonzero(bad_edges)
            e = int(candidates[np.argmax(self.levels[self.edge_parent[candidates]])])
            p, c = int(self.edge_parent[e]), int(self.edge_child[e])
            n, op = self.nodes[p], OPERATORS[self.opcodes[p]]
            sample: tuple[int, ...] = (() if derivatives.ndim == 1
                                       else (int(np.argmax(~np.isfinite(derivatives[e]))),))
            operands = self._operands(p, sample)
            shown = ", ".join(repr(x) for x in operands)
            which = "left" if c == self.left[p] else "right"
            raise DomainError(
                f"{describe_node(n)}: the derivative of {n.operator}({shown}) with respect to "
                f"its {which} operand is {float(derivatives[e][sample])}, not finite"
                f"{' — ' + n.operator + ' ' + op.domain if op.domain else ''}", n, operands)
        bad = ~np.isfinite(grads)
        rows = bad.any(axis=1) if bad.ndim > 1 else bad
        # Gradients grow from the top, so the highest-positioned bad node overflowed first.
        p = int(np.flatnonzero(rows)[-1])
        n = self.nodes[p]
        raise DomainError(f"{describe_node(n)}: its gradient overflowed float64", n, ())
