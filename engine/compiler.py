"""Compile a DAG of ``node`` objects into arrays and run it level by level with numpy.

Layout of a compiled program (a "position" is a node's index in these arrays):
- leaves first (positions ``0 .. n_leaves-1``), then every other node sorted by (level, operator),
  where a node's level is 1 + the largest level of its children. All nodes of one level depend
  only on lower levels, so a level is computed at once, one numpy call per operator present.
- ``left`` / ``right``: children's positions; ``segments``: spans of one level and one operator.
- edges, one per (parent, child) pair, in position order of the parent (left child first). The
  backward pass walks levels from the top, pushing ``gradient[parent] * local_derivative`` into
  ``gradient[child]``; a level's contributions are scattered in one call.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import numpy as np

from .errors import DomainError, GraphError, describe_node
from .ops import LEAVES, OPCODE, OPERATORS, apply, local_derivatives

if TYPE_CHECKING:
    from .node import node


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


def collect(outputs: Sequence[node], listed_leaves: Iterable[node] = (),
            ) -> tuple[list[node], dict[node, int], int]:
    """Every node the outputs depend on, children before parents, with each node's level; then
    the listed leaves and the nodes built on all these that reach no output. The third value
    counts the first part (what the outputs depend on).

    Iterative, so a chain of 100,000 nodes does not hit Python's recursion limit.
    """
    level: dict[node, int] = {}
    order: list[node] = []
    stack = [(n, False) for n in reversed(outputs)]
    while stack:
        current, expanded = stack.pop()
        if current in level:
            continue
        children = current.children
        if expanded:
            level[current] = 1 + max(level[c] for c in children) if children else 0
            order.append(current)
            continue
        stack.append((current, True))
        stack.extend((c, False) for c in reversed(children) if c not in level)
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
    while frontier:
        candidate = frontier.pop()
        if candidate in level:
            continue
        children = candidate.children
        missing = [c for c in children if c not in level]
        if any(c.operator not in LEAVES or c._fed is None for c in missing):
            continue  # revisited if a missing child joins later
        for leaf in missing:
            level[leaf] = 0
            order.append(leaf)
        level[candidate] = 1 + max(level[c] for c in children)
        order.append(candidate)
        frontier.extend(p for p in candidate.parents if p not in level)


class Program:
    """The arrays of one compiled graph, its last values and gradients."""

    def __init__(self, outputs: Sequence[node], listed_leaves: Sequence[node]) -> None:
        for n in listed_leaves:
            if n.operator not in LEAVES:
                raise GraphError(f"{describe_node(n)} is listed as a graph input or const, "
                                 "but only 'input' and 'const' nodes can be fed")
        closure, level, n_needed = collect(outputs, listed_leaves)
        listed = list(dict.fromkeys(listed_leaves))
        listed_set = set(listed)
        extra_leaves = [n for n in closure if n.operator in LEAVES and n not in listed_set]
        inner = [n for n in closure if n.operator not in LEAVES]
        inner_level = np.fromiter((level[n] for n in inner), np.int64, len(inner))
        inner_op = np.fromiter((OPCODE[n.operator] for n in inner), np.int64, len(inner))
        inner = [inner[i] for i in np.lexsort((inner_op, inner_level))]

        self.nodes = listed + extra_leaves + inner
        self.n_leaves = len(listed) + len(extra_leaves)
        self.extra_leaves = extra_leaves
        size = len(self.nodes)
        position = {n: p for p, n in enumerate(self.nodes)}
        self.position = position
        self.listed_positions = np.array([position[n] for n in listed_leaves], np.int64)
        self.opcodes = np.fromiter((OPCODE[n.operator] for n in self.nodes), np.int64, size)
        self.levels = np.zeros(size, np.int64)
        self.levels[self.n_leaves:] = np.sort(inner_level)
        self.left = np.full(size, -1, np.int64)
        self.right = np.full(size, -1, np.int64)
        for p in range(self.n_leaves, size):
            n = self.nodes[p]
            assert n.left_child is not None, "every node past the leaves has a left child"
            self.left[p] = position[n.left_child]
            if n.right_child is not None:
                self.right[p] = position[n.right_child]

        # Nodes flagged is_output count as outputs where the listed outputs depend on them (the
        # reference started back-prop from them); a flagged node merely built on this graph's
        # nodes, say another graph's loss, does not.
        flagged = [n for n in closure[:n_needed] if n.is_output]
        seen_outputs = dict.fromkeys(list(outputs) + flagged)
        self.outputs = list(seen_outputs)
        self.output_positions = np.array([position[n] for n in self.outputs], np.int64)

        # Edges in position order of the parent: left child, then right child.
        arity = (self.left >= 0).astype(np.int64) + (self.right >= 0)
        self.edge_start = np.concatenate(([0], np.cumsum(arity)))
        n_edges = int(self.edge_start[-1])
        self.edge_parent = np.repeat(np.arange(size), arity)
        children = np.stack([self.left, self.right], axis=1).ravel()
        self.edge_child = children[children >= 0]
        assert len(self.edge_child) == n_edges

        self.segments: list[Segment] = []
        self.level_ranges: list[tuple[int, int]] = []  # positions of each level >= 1
        bounds = np.flatnonzero(np.diff(self.levels[self.n_leaves:]) != 0) + self.n_leaves + 1
        level_starts = [self.n_leaves, *bounds.tolist(), size] if size > self.n_leaves else []
        for start, stop in zip(level_starts[:-1], level_starts[1:], strict=False):
            self.level_ranges.append((start, stop))
            ops = self.opcodes[start:stop]
            cuts = np.flatnonzero(np.diff(ops) != 0) + start + 1
            for s, e in zip([start, *cuts.tolist()], [*cuts.tolist(), stop], strict=False):
                op = int(self.opcodes[s])
                binary = OPERATORS[op].arity == 2
                self.segments.append(Segment(
                    op, s, e, self.left[s:e].copy(), self.right[s:e].copy() if binary else None,
                    int(self.edge_start[s]), int(self.edge_start[e])))
        # Per level, its edge range and whether a child repeats within it (fan-out): if not,
        # a plain fancy-index += is correct and faster than np.add.at.
        self.level_edges: list[tuple[int, int, np.ndarray, np.ndarray, bool]] = []
        for start, stop in reversed(self.level_ranges):
            a, b = int(self.edge_start[start]), int(self.edge_start[stop])
            kids = self.edge_child[a:b]
            unique = len(np.unique(kids)) == len(kids)
            self.level_edges.append((a, b, self.edge_parent[a:b], kids, unique))

        self.values: np.ndarray | None = None
        self.grads: np.ndarray | None = None
        self.edge_derivatives: np.ndarray | None = None
        self.lenient = False

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
        for seg in self.segments:
            op = OPERATORS[seg.op_index]
            a = values[seg.left]
            b = values[seg.right] if seg.right is not None else None
            values[seg.start:seg.stop] = apply(op, a, b)
        self.values, self.grads, self.edge_derivatives = values, None, None
        if not self.lenient and not np.isfinite(values).all():
            self._raise_forward_domain_error()

    @np.errstate(all="ignore")
    def backward(self) -> None:
        values = self.values
        assert values is not None, "backward() runs after forward()"
        batch = values.shape[1:]
        local = np.empty((len(self.edge_child),) + batch, np.float64)
        for seg in self.segments:
            op = OPERATORS[seg.op_index]
            a = values[seg.left]
            b = values[seg.right] if seg.right is not None else None
            derivatives = local_derivatives(op, a, b, values[seg.start:seg.stop])
            stride = len(derivatives)
            for k, d in enumerate(derivatives):
                local[seg.edge_start + k:seg.edge_stop:stride] = d
        grads = np.zeros_like(values)
        grads[self.output_positions] += 1.0
        for a, b, parents, kids, unique in self.level_edges:
            contribution = grads[parents] * local[a:b]
            if unique:
                grads[kids] += contribution
            else:
                np.add.at(grads, kids, contribution)
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
