"""What a loader hands back: the engine graph plus what the file called its parts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..graph import graph
from ..nn import Layer, nn


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
    inputs: dict[str, object]  # name -> trainable 'input' node, in file order
    outputs: dict[str, object]  # name -> output node, in file order
    names: dict[str, object]  # every name (or JSON id) the file gave -> its node
    consts: list = field(default_factory=list)  # 'const' nodes, in the graph's const order
    # node -> where the file defines it: "line:col" (expressions) or a JSON pointer.
    locations: dict = field(default_factory=dict)
    network: nn | None = None  # network specs: the nn that built the layers
    layers: list[Layer] = field(default_factory=list)  # network specs: nn.layers, in order
    filename: str | None = None

    def compute(self) -> Result:
        """compute_forward + back_prop; engine errors (DomainError, ...) propagate."""
        self.graph.compute_forward()
        self.graph.back_prop()
        return Result(
            outputs={name: _scalar(n.forward) for name, n in self.outputs.items()},
            gradients={name: _scalar(n.backward) for name, n in self.inputs.items()},
        )

    def locate(self, engine_node) -> str:
        """Where the file defines a node (e.g. the one a DomainError names), or ""."""
        return self.locations.get(engine_node, "")


def _scalar(value) -> float:
    """A float from a node's value. The engine returns a batch of one, shape (1,), when leaf
    values came from node.feed() rather than graph.feed() (engine/graph.py _stack_columns
    treats every number as a batch of 1); that is still one sample."""
    array = np.asarray(value, dtype=np.float64)
    if array.size != 1:
        raise ValueError(f"expected one value, got a batch of shape {array.shape}")
    return float(array.reshape(-1)[0])
