"""micrograd's demo network in ``nn``: an MLP 2-16-16-1 (ReLU, linear output) with the
max-margin loss mean(relu(1 - yᵢ·scoreᵢ)) + alpha·Σp² over every parameter, biases included.

Parameters are laid out as micrograd's ``MLP.parameters()``: layer by layer, neuron by neuron,
each neuron's weights then its bias — so one vector starts both engines at the same point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..graph import graph
from ..nn import nn
from ..node import node
from ..training.kernels import FusedProgram


@dataclass
class Demo:
    net: nn
    graph: graph
    scores: node
    program: FusedProgram
    alpha: float

    def consts(self, xy: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """(B, C): the point, its ±1 label, the loss's 1, the penalty's alpha."""
        count = len(xy)
        return np.concatenate((xy, np.reshape(labels, (count, 1)), np.ones((count, 1)),
                               np.full((count, 1), self.alpha)), axis=1)

    def loss_and_grad(self, params: np.ndarray, xy: np.ndarray,
                      labels: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """The full-batch loss, its gradient, and the scores."""
        consts = self.consts(xy, labels)
        losses = self.program.forward(params, consts, consts_by_sample=True)[:, 0]
        scores = self.program.layer_values(self._scores_layer)[:, 0].copy()
        return float(losses.mean()), self.program.backward() / len(losses), scores

    @property
    def _scores_layer(self) -> int:
        return next(i for i, layer in self.program.layers
                    if layer.nodes is not None and layer.nodes.outputs == [self.scores])


def build(sizes: Sequence[int] = (2, 16, 16, 1), alpha: float = 1e-4) -> Demo:
    net = nn()
    x = net.new_const_nodes_list(sizes[0], name="x")
    label, one, rate = (net.new_const_nodes_list(1, name=n)[0] for n in ("y", "one", "alpha"))
    params: list[node] = []
    h = x
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        y, weights, bias = net.FC(n_in, n_out, h)
        for j in range(n_out):  # micrograd's order: each neuron's weights, then its bias
            params += weights[j * n_in:(j + 1) * n_in] + [bias[j]]
        h = net.ReLU(n_out, y) if k < len(sizes) - 2 else y
    data_loss = net.Margin_Loss(1, h, [label], one)
    penalty = net.L2(len(params), params, rate)
    loss = net.vector_add(1, [data_loss], [penalty], name="Total")[0]
    loss.set_as_output()
    g = graph(params, x + [label, one, rate], [loss])
    return Demo(net, g, h[0], FusedProgram(g, net, const_grads=False), alpha)
