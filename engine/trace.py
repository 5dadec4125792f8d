"""What the page animates: the last forward and backward pass of a compiled graph, as events.

Events are read from the program's arrays after the pass, so a graph run without an observer
pays nothing for them. Order (the engine's order):

forward   one ``forward`` event per node, leaves first, then level by level.
backward  one ``seed`` event per output (gradient 1), then, level by level from the top, for
          each node: its ``gradient`` event (final: every parent has already contributed), then
          one ``edge`` event per child carrying ``upstream`` (the node's gradient), ``local`` (the
          operator's local derivative) and ``value`` = upstream × local, the contribution added
          to the child's gradient.

Replaying the events in order — set values, start gradients at 0, add each seed and each
contribution — reproduces every node's value and gradient.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .compiler import Program


class Event(NamedTuple):
    kind: str  # "forward" | "seed" | "edge" | "gradient"
    node: Any  # the node (for an edge: the parent, whose gradient flows down)
    value: Any  # forward value, seed, final gradient, or the edge's contribution
    child: Any = None  # edge only
    local: Any = None  # edge only: d node / d child
    upstream: Any = None  # edge only: the parent's gradient


def _scalar(x: Any) -> Any:
    return float(x) if np.ndim(x) == 0 else x


def concat_ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``concatenate([arange(a, b) for a, b in zip(starts, stops)])`` in a few numpy calls:
    a chain's million one-node levels are a million ranges."""
    starts = np.asarray(starts, np.int64)
    sizes = np.asarray(stops, np.int64) - starts
    offsets = starts - (np.cumsum(sizes) - sizes)
    return np.repeat(offsets, sizes) + np.arange(int(sizes.sum()), dtype=np.int64)


class Trace:
    """Arrays of one pass, indexed by program position, plus iterators over events."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.values = program.values
        self.grads = program.grads
        self.edge_derivatives = program.edge_derivatives
        self.edge_parent = program.edge_parent
        self.edge_child = program.edge_child
        self.contributions: np.ndarray | None = None
        if self.grads is not None:
            self.contributions = self.grads[self.edge_parent] * self.edge_derivatives

    def backward_order(self) -> np.ndarray:
        """Positions in the order their gradients become final: top level first, each level's
        positions ascending, the leaves last."""
        p = self.program
        if len(p.level_starts):
            bounds = np.concatenate(([0], p.level_starts))
        else:
            bounds = np.array([0, p.n_leaves])
        return concat_ranges(bounds[-2::-1], bounds[:0:-1])

    def forward_events(self) -> Iterator[Event]:
        if self.values is None:
            return
        nodes = self.program.nodes
        for position, n in enumerate(nodes):
            yield Event("forward", n, _scalar(self.values[position]))

    def backward_events(self) -> Iterator[Event]:
        grads, derivatives, contributions = self.grads, self.edge_derivatives, self.contributions
        # A program sets its gradients and edge derivatives together, and contributions are
        # computed from them: all three are None, or none is.
        if grads is None or derivatives is None or contributions is None:
            return
        p = self.program
        nodes = p.nodes
        for position in p.output_positions:
            yield Event("seed", nodes[position], 1.0)
        for position in self.backward_order():
            grad = _scalar(grads[position])
            yield Event("gradient", nodes[position], grad)
            for e in range(p.edge_start[position], p.edge_start[position + 1]):
                yield Event("edge", nodes[position], _scalar(contributions[e]),
                            nodes[self.edge_child[e]], _scalar(derivatives[e]), grad)
