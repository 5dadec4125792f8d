"""Built-in models, built with ``nn``: the reference ResNet and an MLP, for 16×16 digit images.

A ``Model`` holds the scalar graph (what the page draws, one sample at a time) and knows how to
initialise its parameters and lay out a batch of images and labels as the graph's consts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import EngineError
from ..graph import graph
from ..nn import nn
from ..node import node

if TYPE_CHECKING:
    from ..formats.limits import Limits


@dataclass
class Model:
    name: str
    net: nn
    graph: graph
    image: list[node]
    label: list[node]
    padding: list[node]  # the Conv layers' shared zero node (empty for an MLP)
    logits: list[node]
    loss: node
    # For each layer with weights: (fan_in, fan_out, before a ReLU, weight positions)
    init_plan: list[tuple[int, int, bool, np.ndarray]] = field(default_factory=list)
    initial: np.ndarray | None = None  # given starting parameters (a network spec's own)

    @property
    def params(self) -> list[node]:
        return self.graph.input_nodes

    @property
    def n_params(self) -> int:
        return len(self.graph.input_nodes)

    def param_groups(self) -> dict[str, np.ndarray]:
        """Parameter positions of each layer that has weights ("Conv1", "FC3", ...)."""
        position = {n: i for i, n in enumerate(self.params)}
        return {layer.name: np.array([position[n] for n in layer.weights + layer.bias])
                for layer in self.net.layers if layer.weights}

    def initial_params(self, rng: np.random.Generator) -> np.ndarray:
        """He initialisation before a ReLU, Xavier (Glorot) before the softmax; zero biases.

        A model from a network spec starts from the spec's own weights instead.
        """
        if self.initial is not None:
            return self.initial.copy()
        params = np.zeros(self.n_params)
        for fan_in, fan_out, before_relu, weights in self.init_plan:
            std = np.sqrt(2.0 / fan_in) if before_relu else np.sqrt(2.0 / (fan_in + fan_out))
            params[weights] = rng.normal(0.0, std, len(weights))
        return params

    def consts(self, images: np.ndarray, labels: np.ndarray,
               smoothing: float = 0.0) -> np.ndarray:
        """The graph's consts for a batch, laid out (B, C): image pixels, label, 0.

        The label is one-hot, or with ``smoothing`` ε, (1 - ε)·one-hot + ε/classes: the
        cross-entropy node takes any label weights.
        """
        images = np.asarray(images, np.float64).reshape(len(images), -1)
        classes = len(self.label)
        one_hot = np.eye(classes)[np.asarray(labels)] * (1.0 - smoothing) + smoothing / classes
        padding = np.zeros((len(images), len(self.padding)))
        return np.concatenate((images, one_hot, padding), axis=1)


def _finish(name: str, net: nn, image: list[node], label: list[node], padding: list[node],
            logits: list[node], weights_in_order: list[list[node]]) -> Model:
    loss = net.Cross_Entropy_Loss(len(label), net.Softmax(len(logits), logits), label)
    loss.set_as_output()
    params = [w for group in weights_in_order for w in group]
    model = Model(name, net, graph(params, image + label + padding, [loss]), image, label,
                  padding, logits, loss)
    position = {n: i for i, n in enumerate(params)}
    layers = [layer for layer in net.layers if layer.weights]
    for k, layer in enumerate(layers):
        fan_in = 9 if layer.kind == "conv" else layer.shape[0]
        fan_out = 9 if layer.kind == "conv" else layer.shape[1]
        weights = np.array([position[w] for w in layer.weights])
        model.init_plan.append((fan_in, fan_out, k < len(layers) - 1, weights))
    return model


def resnet(size: int = 16, classes: int = 10, width: int = 32) -> Model:
    """The reference README's ResNet: conv → relu → conv → (+ image) → relu → FC width → relu →
    FC classes → softmax → cross-entropy."""
    net = nn()
    image = net.new_const_nodes_list(size * size, name="image")
    label = net.new_const_nodes_list(classes, name="label")
    zero = [net.new_const_nodes_list(1, name="zero")[0]]
    conv1, w1, b1, _ = net.Conv(size, size, image, None, None, zero)
    relu1 = net.ReLU(size * size, conv1)
    conv2, w2, b2, _ = net.Conv(size, size, relu1, None, None, zero)
    skip = net.vector_add(size * size, image, conv2)
    relu2 = net.ReLU(size * size, skip)
    fc3, w3, b3 = net.FC(size * size, width, relu2)
    relu3 = net.ReLU(width, fc3)
    fc4, w4, b4 = net.FC(width, classes, relu3)
    return _finish("resnet", net, image, label, zero, fc4,
                   [w1, b1, w2, b2, w3, b3, w4, b4])


def mlp(size: int = 16, classes: int = 10, width: int = 32) -> Model:
    """image → FC width → relu → FC classes → softmax → cross-entropy."""
    net = nn()
    image = net.new_const_nodes_list(size * size, name="image")
    label = net.new_const_nodes_list(classes, name="label")
    fc1, w1, b1 = net.FC(size * size, width, image)
    relu1 = net.ReLU(width, fc1)
    fc2, w2, b2 = net.FC(width, classes, relu1)
    return _finish("mlp", net, image, label, [], fc2, [w1, b1, w2, b2])


MODELS = {"resnet": resnet, "mlp": mlp}


class NetworkSpecError(EngineError, ValueError):
    """A network spec that cannot be trained on the digits; the message says why."""


def from_network(source: str | bytes, limits: Limits | None = None) -> Model:
    """A trainable model from a network spec (docs/formats.md): it must read one square image
    whose side is a multiple of 8 (the digits are upscaled to it), one 10-class label, and end
    in a cross-entropy loss on a softmax. Training starts from the spec's own weights."""
    from ..formats import decode, load, read_json
    from ..formats.limits import DEFAULT_LIMITS

    loaded = load(source, "network", limits=limits)
    # The same text load() read: UTF-8, byte-order mark dropped.
    limits = limits or DEFAULT_LIMITS
    layers = read_json(decode(source, limits), limits)["layers"]
    images = [layer for layer in layers if layer["type"] == "image"]
    labels = [layer for layer in layers if layer["type"] == "label"]
    losses = [layer for layer in loaded.layers if layer.kind == "cross_entropy"]
    if len(images) != 1 or images[0]["size"][0] != images[0]["size"][1] \
            or images[0]["size"][0] % 8:
        raise NetworkSpecError("to train on the digits, a network needs exactly one image "
                               "layer of n×n pixels with n a multiple of 8 (8, 16, 24, ...)")
    if len(labels) != 1 or labels[0]["classes"] != 10:
        raise NetworkSpecError("to train on the digits, a network needs exactly one label "
                               "layer with 10 classes")
    if len(losses) != 1 or losses[0].parts["softmax"] is None \
            or list(loaded.outputs.values()) != losses[0].outputs:
        raise NetworkSpecError("to train, a network must end in one cross_entropy layer "
                               "applied to a softmax, and output only that loss")
    by_group: dict[str | None, list[node]] = {}
    for n in loaded.consts:
        by_group.setdefault(n.group, []).append(n)
    image, label = by_group[images[0]["name"]], by_group[labels[0]["name"]]
    padding = [n for n in loaded.consts if n.name == "zero"]
    loss = losses[0].outputs[0]
    weights = loaded.graph.input_nodes
    assert loaded.network is not None, "a network spec's Loaded carries the nn that built it"
    model = Model("network", loaded.network, graph(weights, image + label + padding, [loss]),
                  image, label, padding, losses[0].parts["softmax"].inputs[0], loss)
    model.initial = np.array([w.forward for w in weights], np.float64)
    return model
