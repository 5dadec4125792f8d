"""Built-in models, built with ``nn``: the reference ResNet and an MLP, for 16×16 digit images.

A ``Model`` knows the fused layout training runs, how to initialise its parameters and how to
lay out a batch of images and labels as the graph's consts. Its scalar graph (what the page
draws, one sample at a time) is built only when something asks for it: a built-in model's
architecture is written once, against either builder — ``nn`` for the nodes, ``layout.Sketch``
for the layout alone — so training never waits for 36,000 nodes it does not use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import EngineError
from ..graph import graph
from ..nn import nn
from ..node import node
from .kernels import FusedProgram
from .layout import FusedLayer, Layout, Sketch, from_graph

if TYPE_CHECKING:
    from ..formats.limits import Limits


@dataclass
class ScalarModel:
    """The model as scalar nodes: what the page draws and the tests' truth."""

    net: nn
    graph: graph
    image: list[node]
    label: list[node]
    padding: list[node]  # the Conv layers' shared zero node (empty for an MLP)
    logits: list[node]
    loss: node


# An architecture: builds its layers with the builder it is given (nn or Sketch) and returns
# (image, label, padding, logits, loss, weights in the graph's order).
Architecture = Callable[[Any], tuple[Any, Any, Any, Any, Any, list[Any]]]


class Model:
    def __init__(self, name: str, n_params: int, n_image: int, n_label: int, n_padding: int,
                 weight_layers: list[tuple[FusedLayer, np.ndarray, np.ndarray]],
                 layout: Callable[[bool], Layout], scalar: Callable[[], ScalarModel],
                 initial: np.ndarray | None = None) -> None:
        self.name = name
        self.n_image, self.n_label, self.n_padding = n_image, n_label, n_padding
        self._weight_layers = weight_layers  # (layer, weight positions, bias positions)
        self._layout = layout
        self._make_scalar = scalar
        self._scalar: ScalarModel | None = None
        self.initial = initial  # given starting parameters (a network spec's own)
        self.n_params = n_params
        # For each layer with weights: (fan_in, fan_out, before a ReLU, weight positions)
        self.init_plan = [
            (9 if layer.kind == "conv" else layer.shape[0],
             9 if layer.kind == "conv" else layer.shape[1], k < len(weight_layers) - 1, w)
            for k, (layer, w, _) in enumerate(weight_layers)]

    def program(self, const_grads: bool = False) -> FusedProgram:
        """The fused program training runs (without building the scalar graph, when built in)."""
        return FusedProgram.from_layout(self._layout(const_grads))

    @property
    def scalar(self) -> ScalarModel:
        """The scalar graph, built on first use."""
        if self._scalar is None:
            self._scalar = self._make_scalar()
        return self._scalar

    # The scalar model's parts, for the page and the tests.
    net = property(lambda self: self.scalar.net)
    graph = property(lambda self: self.scalar.graph)
    image = property(lambda self: self.scalar.image)
    label = property(lambda self: self.scalar.label)
    padding = property(lambda self: self.scalar.padding)
    logits = property(lambda self: self.scalar.logits)
    loss = property(lambda self: self.scalar.loss)

    @property
    def params(self) -> list[node]:
        return self.graph.input_nodes

    def param_groups(self) -> dict[str, np.ndarray]:
        """Parameter positions of each layer that has weights ("Conv1", "FC3", ...)."""
        return {layer.name: np.concatenate((w, b)) for layer, w, b in self._weight_layers}

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
        out = np.zeros((len(images), self.n_image + self.n_label + self.n_padding))
        out[:, :self.n_image] = images
        labelled = out[:, self.n_image:self.n_image + self.n_label]
        labelled += smoothing / self.n_label
        labelled[np.arange(len(images)), np.asarray(labels)] += 1.0 - smoothing
        return out


def _scalar(architecture: Architecture) -> ScalarModel:
    net = nn()
    image, label, padding, logits, loss, weights = architecture(net)
    loss.set_as_output()
    params = [w for group in weights for w in group]
    return ScalarModel(net, graph(params, image + label + padding, [loss]), image, label,
                       padding, logits, loss)


def _built_in(name: str, architecture: Architecture) -> Model:
    """A model whose layout comes from a Sketch; its scalar graph from nn when asked for."""
    sketch = Sketch()
    image, label, padding, _, loss, weights = architecture(sketch)
    consts = [image, label, *([padding] if len(padding) else [])]

    def layout(const_grads: bool) -> Layout:
        return sketch.layout(weights, consts, [loss], const_grads)

    return Model(name, sum(len(w) for w in weights), len(image), len(label), len(padding),
                 sketch.weight_layers(weights), layout, lambda: _scalar(architecture))


def _head(net: Any, label: Any, logits: Any) -> Any:
    return net.Cross_Entropy_Loss(len(label), net.Softmax(len(logits), logits), label)


def resnet(size: int = 16, classes: int = 10, width: int = 32) -> Model:
    """The reference README's ResNet: conv → relu → conv → (+ image) → relu → FC width → relu →
    FC classes → softmax → cross-entropy."""
    def architecture(net):
        image = net.new_const_nodes_list(size * size, name="image")
        label = net.new_const_nodes_list(classes, name="label")
        zero = net.new_const_nodes_list(1, name="zero")
        conv1, w1, b1, _ = net.Conv(size, size, image, None, None, zero)
        relu1 = net.ReLU(size * size, conv1)
        conv2, w2, b2, _ = net.Conv(size, size, relu1, None, None, zero)
        skip = net.vector_add(size * size, image, conv2)
        relu2 = net.ReLU(size * size, skip)
        fc3, w3, b3 = net.FC(size * size, width, relu2)
        relu3 = net.ReLU(width, fc3)
        fc4, w4, b4 = net.FC(width, classes, relu3)
        return (image, label, zero, fc4, _head(net, label, fc4),
                [w1, b1, w2, b2, w3, b3, w4, b4])
    return _built_in("resnet", architecture)


def mlp(size: int = 16, classes: int = 10, width: int = 32) -> Model:
    """image → FC width → relu → FC classes → softmax → cross-entropy."""
    def architecture(net):
        image = net.new_const_nodes_list(size * size, name="image")
        label = net.new_const_nodes_list(classes, name="label")
        fc1, w1, b1 = net.FC(size * size, width, image)
        relu1 = net.ReLU(width, fc1)
        fc2, w2, b2 = net.FC(width, classes, relu1)
        return image, label, [], fc2, _head(net, label, fc2), [w1, b1, w2, b2]
    return _built_in("mlp", architecture)


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
    scalar = ScalarModel(loaded.network, graph(weights, image + label + padding, [loss]),
                         image, label, padding, losses[0].parts["softmax"].inputs[0], loss)
    return _of_scalar("network", scalar, np.array([w.forward for w in weights], np.float64))


def _of_scalar(name: str, scalar: ScalarModel, initial: np.ndarray | None) -> Model:
    """A model that arrives as nodes: its layout is read from them."""
    position = {n: i for i, n in enumerate(scalar.graph.input_nodes)}
    weight_layers = [
        (FusedLayer(layer.kind, layer.name, layer.shape),
         np.array([position[n] for n in layer.weights], np.int64),
         np.array([position[n] for n in layer.bias], np.int64))
        for layer in scalar.net.layers if layer.weights]

    def layout(const_grads: bool) -> Layout:
        return from_graph(scalar.graph, scalar.net, const_grads)

    model = Model(name, len(position), len(scalar.image), len(scalar.label),
                  len(scalar.padding), weight_layers, layout, lambda: scalar, initial)
    model._scalar = scalar
    return model
