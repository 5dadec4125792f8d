"""The Playground's network, built with ``nn``: features → hidden layers → one output neuron →
Playground's squared error, plus an L1 or L2 penalty on the weights.

The graph's consts, per sample: the features, the label, the loss's ½ and the penalty's rate.
Classification puts a tanh on the output (labels ±1), regression leaves it linear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..graph import graph
from ..nn import ACTIVATIONS, nn
from ..node import node
from .features import checked

REGULARIZATIONS = ("none", "l1", "l2")
MAX_LAYERS, MAX_NEURONS = 6, 8


@dataclass
class Network:
    net: nn
    graph: graph
    features: tuple[str, ...]
    inputs: list[node]  # the feature consts
    label: node
    half: node
    rate: node
    hidden: list[list[node]]  # each hidden layer's outputs (after its activation)
    output: node  # the output neuron, after its activation
    loss: node
    # each FC layer's (weight nodes, bias nodes), input side first
    layers: list[tuple[list[node], list[node]]]
    classification: bool

    @property
    def params(self) -> list[node]:
        return self.graph.input_nodes

    def weight_positions(self) -> np.ndarray:
        """Positions of the weights (not the biases) in the parameter vector."""
        at = {n: i for i, n in enumerate(self.params)}
        return np.array([at[w] for weights, _ in self.layers for w in weights], np.int64)

    def bias_positions(self) -> np.ndarray:
        at = {n: i for i, n in enumerate(self.params)}
        return np.array([at[b] for _, bias in self.layers for b in bias], np.int64)

    def initial_params(self, seed: int) -> np.ndarray:
        """Playground's start: every weight uniform in [-0.5, 0.5), every bias 0.1."""
        rng = np.random.default_rng(seed)
        params = np.full(len(self.params), 0.1)
        weights = self.weight_positions()
        params[weights] = rng.uniform(-0.5, 0.5, len(weights))
        return params

    def consts(self, features: np.ndarray, labels: np.ndarray, rate: float) -> np.ndarray:
        """The graph's consts for a batch, laid out (B, C)."""
        count = len(features)
        return np.concatenate((features, np.asarray(labels, np.float64).reshape(count, 1),
                               np.full((count, 1), 0.5), np.full((count, 1), rate)), axis=1)


def build(features: Sequence[str], hidden: Sequence[int], activation: str = "tanh",
          regularization: str = "none", classification: bool = True) -> Network:
    features = checked(features)
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, not {activation!r}")
    if regularization not in REGULARIZATIONS:
        raise ValueError(f"regularization must be one of {list(REGULARIZATIONS)}, "
                         f"not {regularization!r}")
    if len(hidden) > MAX_LAYERS or any(not 1 <= w <= MAX_NEURONS for w in hidden):
        raise ValueError(f"hidden layers: 0..{MAX_LAYERS} of 1..{MAX_NEURONS} neurons each, "
                         f"not {list(hidden)}")
    net = nn()
    inputs = net.new_const_nodes_list(len(features), name="feature")
    label, half, rate = (net.new_const_nodes_list(1, name=n)[0] for n in ("label", "half", "rate"))
    layers, outputs, h = [], [], inputs
    for width in hidden:
        y, w, b = net.FC(len(h), width, h)
        layers.append((w, b))
        h = net.Activation(activation, width, y)
        outputs.append(h)
    y, w, b = net.FC(len(h), 1, h)
    layers.append((w, b))
    out = (net.Tanh(1, y) if classification else net.Linear(1, y))[0]
    loss = net.Squared_Error_Loss(1, [out], [label], half)
    if regularization != "none":
        weights = [x for ws, _ in layers for x in ws]
        penalty = (net.L1 if regularization == "l1" else net.L2)(len(weights), weights, rate)
        loss = net.vector_add(1, [loss], [penalty], name="Total")[0]
    loss.set_as_output()
    params = [x for ws, bs in layers for x in ws + bs]
    g = graph(params, inputs + [label, half, rate], [loss])
    return Network(net, g, features, inputs, label, half, rate, outputs, out, loss, layers,
                   classification)
