"""Any engine graph as a JSON graph (the format json_graph.py loads).

Ids are the nodes' names where those are unique, so an exported graph reads like its source:
outputs get first claim on their names, then inputs, then other named nodes; a name already
taken gets a "#2", "#3", ... suffix, and unnamed nodes get "n<position>". Leaves carry the value
the graph would compute with now. Loading the export gives the same values and gradients.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import DomainError
from ..graph import graph
from ..node import node
from .json_graph import FORMAT
from .loaded import Loaded
from .problems import FormatError, Problem


def export_graph(g: graph | Loaded) -> dict[str, Any]:
    """The JSON graph (a dict ready for ``json.dumps``) of an engine graph or a ``Loaded``."""
    if isinstance(g, Loaded):
        g = g.graph
    program = g.program()
    if program.values is None:
        # Only the leaves' values are exported, and those are set before any DomainError.
        with contextlib.suppress(DomainError):
            g.compute_forward()
    values = program.values
    assert values is not None, "compute_forward() sets the values before any DomainError"
    if values.ndim == 2 and values.shape[1] == 1:
        # A batch of one is one sample (and what the engine makes of values given by
        # node.feed(): engine/graph.py _stack_columns turns every number into a batch of 1).
        values = values[:, 0]
    if values.ndim != 1:
        raise FormatError([Problem("", "this graph was fed a batch of samples; the JSON graph "
                                       "format holds one value per leaf: feed one sample")])
    nodes = program.nodes
    ids = _ids(nodes, program.outputs, list(g.input_nodes))
    listed = []
    for position, n in enumerate(nodes):
        item: dict[str, Any] = {"id": ids[n], "op": n.operator}
        if position < program.n_leaves:
            item["value"] = float(values[position])
        else:
            item["args"] = [ids[c] for c in n.children]
        if isinstance(n.name, str) and n.name != item["id"] and 0 < len(n.name) <= 200:
            item["name"] = n.name
        if isinstance(n.group, str) and len(n.group) <= 200:
            item["group"] = n.group
        listed.append(item)
    return {"format": FORMAT, "version": 1, "nodes": listed,
            "outputs": [ids[n] for n in program.outputs]}


def _ids(nodes: Sequence[node], outputs: Iterable[node], inputs: Iterable[node],
         ) -> dict[node, str]:
    taken: set[str] = set()
    ids: dict[node, str] = {}
    next_suffix: dict[str, int] = {}  # base -> the next "#k" to try: linear, not quadratic

    def claim(n: node, base: str) -> None:
        candidate, k = base, next_suffix.get(base, 2)
        while candidate in taken:
            candidate, k = f"{base}#{k}", k + 1
        next_suffix[base] = k
        taken.add(candidate)
        ids[n] = candidate

    def named(n: node) -> bool:
        return isinstance(n.name, str) and 0 < len(n.name) <= 190

    in_graph = set(nodes)
    for n in [*outputs, *(i for i in inputs if i in in_graph), *nodes]:
        if n not in ids and named(n):
            claim(n, n.name)  # type: ignore[arg-type]  # named(n): the name is a str
    for position, n in enumerate(nodes):
        if n not in ids:
            claim(n, f"n{position}")
    return ids
