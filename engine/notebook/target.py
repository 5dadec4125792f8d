"""What a widget shows: any graph the engine builds, as one ``Target``.

``engine.show`` takes a graph, a node (the graph of what it depends on), a loaded file
(``engine.formats.Loaded``) or anything with a ``to_graph()`` method; a Target keeps the graph,
the names the file gave its nodes (what-if values may name them) and the layers (the grouped
view shows each block's kind).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..formats.loaded import Loaded
from ..graph import graph
from ..nn import Layer
from ..node import node


@dataclass
class Target:
    graph: graph
    title: str
    names: dict[str, node] = field(default_factory=dict)
    layers: list[Layer] = field(default_factory=list)


def as_target(obj: Any, title: str | None = None) -> Target:
    """A Target for ``obj``; TypeError naming what is accepted otherwise."""
    if isinstance(obj, Loaded):
        name = obj.filename or f"{obj.format} graph"
        return Target(obj.graph, title or name, dict(obj.names), list(obj.layers))
    if isinstance(obj, graph):
        return Target(obj, title or _title(obj.output_nodes))
    if isinstance(obj, node):
        return Target(graph([], [], [obj]), title or _title([obj]))
    to_graph = getattr(obj, "to_graph", None)
    if callable(to_graph):
        return as_target(to_graph(), title)
    raise TypeError(f"engine.show takes a graph, a node, or a loaded file "
                    f"(engine.formats.load), not {type(obj).__name__}")


def _title(outputs: list[node]) -> str:
    names = [n.name for n in outputs if n.name]
    return ", ".join(names) if names else "graph"
