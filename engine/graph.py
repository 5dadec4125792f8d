"""``graph``: the reference design's graph API over a compiled program.

``feed`` → ``compute_forward`` → ``back_prop`` may repeat any number of times; ``clear`` is
optional. The graph compiles itself on first use and again only when its outputs or leaf lists
change. A graph holds its outputs and everything they depend on, every listed input and const,
and the nodes built on those that reach no output (they get values, and gradient 0).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from . import node as node_module
from .compiler import Program
from .errors import FeedError, describe_node
from .node import node
from .trace import Event, Trace

Observer = Callable[[Event], object]


class graph:
    """``graph(input_nodes, const_nodes, output_nodes, *, lenient=False)``.

    With ``lenient=True`` a value outside an operator's domain becomes NaN or inf and the node is
    flagged (see ``flagged()``) instead of raising ``DomainError``.
    """

    def __init__(self, input_nodes: Iterable[node], const_nodes: Iterable[node],
                 output_nodes: Iterable[node], *, lenient: bool = False) -> None:
        # Kept as the caller's lists, so appending to them later is seen (and recompiled).
        self.input_nodes = _as_list(input_nodes)
        self.const_nodes = _as_list(const_nodes)
        self.output_nodes = _as_list(output_nodes)
        self.lenient = lenient
        self._program: Program | None = None
        # (inputs, consts, outputs, node.output_version) the program was compiled for
        self._compiled_for: tuple[list[node], list[node], list[node], int] | None = None
        self._fed: np.ndarray | None = None  # listed leaves' values from graph.feed
        self._fed_version = -1  # node.feed_version when graph.feed was last called
        self._leaf_cache: tuple[int, np.ndarray] | None = None  # (feed version, leaf matrix)

    # -- reference API -------------------------------------------------------------------------
    def feed(self, input_value_list: Sequence[node_module.Feedable] | np.ndarray,
             const_value_list: Sequence[node_module.Feedable] | np.ndarray) -> None:
        """Values of the listed inputs and consts, in list order: numbers, or batches (B,)."""
        inputs = _column(input_value_list, len(self.input_nodes), "input", self.input_nodes)
        consts = _column(const_value_list, len(self.const_nodes), "const", self.const_nodes)
        self._fed = _stack(inputs, consts)
        self._fed_version = node_module.feed_version
        self._leaf_cache = None

    def clear(self) -> None:
        """Forget computed values and the compiled form; fed values stay. Never required."""
        if self._program is not None:
            self._program.values = self._program.grads = self._program.edge_derivatives = None
        self._program = None
        self._compiled_for = None
        self._leaf_cache = None

    def compute_forward(self, observer: Observer | None = None) -> None:
        """Compute every node's value; ``observer(event)`` receives each in engine order."""
        program = self.program()
        program.forward(self._leaf_values(program))
        if observer is not None:
            for event in Trace(program).forward_events():
                observer(event)

    def back_prop(self, observer: Observer | None = None) -> None:
        """Compute d(sum of outputs)/d(node) for every node, accumulated over all paths."""
        program = self._program
        if program is None or program.values is None:
            self.compute_forward()
            program = self._program
            assert program is not None, "compute_forward() compiled it"
        elif not _is_bound(program):
            program.bind()
            _bound_last[0] = weakref.ref(program)
        program.backward()
        if observer is not None:
            for event in Trace(program).backward_events():
                observer(event)

    # -- beyond the reference ------------------------------------------------------------------
    def program(self) -> Program:
        """The compiled form, rebuilt if the output or leaf lists changed since."""
        key = self._compiled_for
        if (self._program is not None and key is not None
                and key[3] != node_module.output_version and self._flags_unchanged()):
            # Another graph's node was flagged (every parse flags its outputs): not this one's.
            key = self._compiled_for = (*key[:3], node_module.output_version)
        # key is None exactly when self._program is (they are set and cleared together)
        if (self._program is None or key is None or key[3] != node_module.output_version
                or key[0] != self.input_nodes or key[1] != self.const_nodes
                or key[2] != self.output_nodes):
            self._program = Program(self.output_nodes,
                                    list(self.input_nodes) + list(self.const_nodes))
            self._compiled_for = (list(self.input_nodes), list(self.const_nodes),
                                  list(self.output_nodes), node_module.output_version)
            self._leaf_cache = None
        program = self._program
        program.lenient = self.lenient
        if not _is_bound(program):
            program.bind()
            _bound_last[0] = weakref.ref(program)
        return program

    def _flags_unchanged(self) -> bool:
        """Whether the compiled nodes flagged is_output are those flagged when compiled (a
        scan of the flags, ~3 ms per 100,000 nodes, instead of a compile, ~400 ms)."""
        program = self._program
        assert program is not None, "only asked of a compiled graph"
        return [n for n in program.nodes if n.is_output] == program.flagged_when_compiled

    def trace(self) -> Trace:
        """The last forward and backward pass as arrays, for streaming (see trace.py)."""
        return Trace(self.program())

    def nodes(self) -> list[node]:
        """Every node of the graph in the engine's order (leaves first, then by level)."""
        return list(self.program().nodes)

    def flagged(self) -> list[node]:
        """Nodes whose value or gradient is NaN or infinite after the last run."""
        program = self.program()
        if program.values is None:
            return []
        return [program.nodes[p] for p in program.nonfinite_positions()]

    def describe(self) -> dict[str, Any]:
        """The graph as plain data, for the server to send: no numpy, no node objects."""
        program = self.program()
        nodes = []
        for p, n in enumerate(program.nodes):
            nodes.append({
                "id": n.id, "op": n.operator, "name": n.name, "group": n.group,
                "children": [c.id for c in n.children], "depth": int(program.levels[p]),
            })
        return {
            "nodes": nodes,
            "inputs": [n.id for n in self.input_nodes],
            "consts": [n.id for n in self.const_nodes],
            "outputs": [n.id for n in program.outputs],
        }

    def show(self, **options: Any) -> Any:
        """The animated graph inline in a Jupyter notebook: ``engine.show(self)``."""
        from .display import show
        return show(self, **options)

    # -- leaves --------------------------------------------------------------------------------
    def _leaf_values(self, program: Program) -> np.ndarray:
        version = node_module.feed_version
        cache = self._leaf_cache
        if cache is not None and cache[0] == version:
            return cache[1]
        listed = list(self.input_nodes) + list(self.const_nodes)
        if self._fed is not None:
            listed_values = self._fed
            if version != self._fed_version:
                # Some node.feed() came after graph.feed(): the later value wins.
                late = [i for i, n in enumerate(listed) if n._fed_version > self._fed_version]
                if late:
                    rows: list[Any] = [listed_values[i] for i in range(len(listed))]
                    for i in late:
                        rows[i] = listed[i]._fed
                    listed_values = _stack_columns(rows, listed)
        else:
            listed_values = _stack_columns(_fed_values(listed), listed)
        extra = program.extra_leaves
        extra_values = _stack_columns(_fed_values(extra), extra)
        leaves = _stack(listed_values, extra_values) if len(extra) else listed_values
        matrix = np.empty((program.n_leaves,) + leaves.shape[1:], np.float64)
        # A node listed twice gets the last of its values, as repeated node.feed() would do.
        matrix[program.listed_positions] = leaves[: len(listed)]
        matrix[program.n_leaves - len(extra):] = leaves[len(listed):]
        self._leaf_cache = (version, matrix)
        return matrix


# The program whose arrays nodes currently point at; rebinding is needed only when it changes.
# Held weakly: a graph nobody uses any more must be freed, not kept alive by this note.
_bound_last: list[weakref.ref[Program] | None] = [None]


def _is_bound(program: Program) -> bool:
    ref = _bound_last[0]
    return ref is not None and ref() is program


def _as_list(nodes: Iterable[node]) -> list[node]:
    return nodes if isinstance(nodes, list) else list(nodes)


def _fed_values(nodes: Sequence[node]) -> list[node_module.Value | None]:
    missing = [n for n in nodes if n._fed is None]
    if missing:
        raise FeedError(f"{describe_node(missing[0])} has no value: feed it with graph.feed() "
                        "or node.feed() before computing")
    return [n._fed for n in nodes]


def _column(values: Any, count: int, kind: str, nodes: Sequence[node]) -> np.ndarray:
    """Values for ``count`` leaves: shape (count,) or (count, B)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return _stack_columns(list(values), nodes, kind)
    if array.ndim not in (1, 2) or array.shape[0] != count:
        if array.ndim == 0 or len(array) != count:
            raise FeedError(f"graph.feed: {count} {kind} node(s) but "
                            f"{0 if array.ndim == 0 else len(array)} {kind} value(s)")
        raise FeedError(f"graph.feed: {kind} values have shape {array.shape}; expected "
                        f"({count},) or ({count}, B)")
    if not np.isfinite(array).all():
        i, bad = _first_non_finite(array)
        raise FeedError(f"graph.feed: {kind} value {i} for {describe_node(nodes[i])} is {bad}; "
                        "values must be finite")
    return array


def _first_non_finite(array: np.ndarray) -> tuple[int, float]:
    """The first row holding a NaN or infinity, and that value."""
    rows = array.reshape(len(array), -1)
    i = int(np.flatnonzero(~np.isfinite(rows).any(axis=1))[0])
    return i, float(rows[i][~np.isfinite(rows[i])][0])


def _stack_columns(columns: Sequence[Any], nodes: Sequence[node],
                   kind: str = "leaf") -> np.ndarray:
    """Numbers and (B,) batches side by side: scalars broadcast over the batch."""
    batch = {len(c) for c in columns if np.ndim(c) == 1}
    if len(batch) > 1:
        raise FeedError(f"{kind} values mix batch sizes {sorted(batch)}; a batch must share one "
                        "size B")
    shape = (len(columns),) + ((batch.pop(),) if batch else ())
    out = np.empty(shape, np.float64)
    for i, c in enumerate(columns):
        try:
            out[i] = c
        except (TypeError, ValueError) as exc:
            raise FeedError(f"cannot feed {c!r} to {describe_node(nodes[i])}: {exc}") from None
    if not np.isfinite(out).all():
        i, bad = _first_non_finite(out)
        raise FeedError(f"{describe_node(nodes[i])}: fed {bad}; values must be finite")
    return out


def _stack(inputs: np.ndarray, consts: np.ndarray) -> np.ndarray:
    if inputs.ndim == consts.ndim:
        if inputs.ndim == 2 and inputs.shape[1] != consts.shape[1]:
            raise FeedError(f"input batch size {inputs.shape[1]} differs from const batch size "
                            f"{consts.shape[1]}")
        return np.concatenate((inputs, consts))
    batch = (inputs if inputs.ndim == 2 else consts).shape[1]
    widen = lambda a: a if a.ndim == 2 else np.repeat(a[:, None], batch, axis=1)
    return np.concatenate((widen(inputs), widen(consts)))
