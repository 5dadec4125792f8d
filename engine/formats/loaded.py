"""What a loader hands back: the engine graph plus what the file called its parts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..graph import graph
from ..nn import Layer, nn
from ..node import Value, node
from .problems import Problem


@dataclass
class Result:
    """One forward and backward pass: each output's value, each input's gradient, by name.

    A gradient is d(sum of the outputs)/d(input), the engine's convention for several outputs.
    """

    outputs: dict[str, float]
    gradients: dict[str, float]


@dataclass
class Loaded:
    format: str  # "expr", "graph" or "network"
    graph: graph  # fed with the file's values, ready for compute_forward / back_prop
    inputs: dict[str, node]  # name -> trainable 'input' node, in file order
    outputs: dict[str, node]  # name -> output node, in file order
    names: dict[str, node]  # every name (or JSON id) the file gave -> its node
    consts: list[node] = field(default_factory=list)  # 'const' nodes, in the graph's const order
    # node -> where the file defines it: "line:col" (expressions) or a JSON pointer.
    locations: dict[node, str] = field(default_factory=dict)
    network: nn | None = None  # network specs: the nn that built the layers
    layers: list[Layer] = field(default_factory=list)  # network specs: nn.layers, in order
    filename: str | None = None
    # What was accepted and ignored (micrograd's import, print lines), with where: said to the
    # user as notes beside the errors, never an error.
    notes: list[Problem] = field(default_factory=list)

    def compute(self) -> Result:
        """compute_forward + back_prop; engine errors (DomainError, ...) propagate."""
        self.graph.compute_forward()
        self.graph.back_prop()
        return Result(
            outputs={name: _scalar(n.forward) for name, n in self.outputs.items()},
            gradients={name: _scalar(n.backward) for name, n in self.inputs.items()},
        )

    def locate(self, engine_node: node) -> str:
        """Where the file defines a node (e.g. the one a DomainError names), or ""."""
        return self.locations.get(engine_node, "")


    def show(self, **options: object) -> object:
        """The loaded graph, animated in a Jupyter notebook (``engine.show``)."""
        from ..display import show
        return show(self, **options)

def leaf_values(leaves: Iterable[node]) -> list[Value]:
    """The leaves' values (``n.forward``), for ``graph.feed``; the loaders feed every leaf as
    they make it."""
    # A leaf not yet in a compiled graph returns what it was fed; fed, so never None here.
    return [n.forward for n in leaves]  # type: ignore[misc]


def _scalar(value: object) -> float:
    """A float from a node's value. The engine returns a batch of one, shape (1,), when leaf
    values came from node.feed() rather than graph.feed() (engine/graph.py _stack_columns
    treats every number as a batch of 1); that is still one sample."""
    array = np.asarray(value, dtype=np.float64)
    if array.size != 1:
        raise ValueError(f"expected one value, got a batch of shape {array.shape}")
    return float(array.reshape(-1)[0])
