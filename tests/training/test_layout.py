"""The fused layout made without nodes (layout.Sketch) is the one read from the scalar graph,
and training on it gives bit-identical weights without ever building the scalar graph."""

from __future__ import annotations

import numpy as np
import pytest

from engine.training import (
    SGD,
    Adam,
    FusedProgram,
    TrainConfig,
    Trainer,
    load_digits,
    mlp,
    resnet,
    train,
)
from engine.training.layout import from_graph

MODELS = {"resnet": lambda: resnet(width=8), "resnet32": lambda: resnet(width=32),
          "mlp": lambda: mlp(width=16), "mlp8": lambda: mlp(size=8, width=5)}


def assert_same_spans(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert (a.source, a.contiguous, a.unique) == (b.source, b.contiguous, b.unique)
        np.testing.assert_array_equal(a.columns, b.columns)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("const_grads", [False, True])
def test_sketch_layout_is_the_scalar_graphs(name, const_grads):
    model = MODELS[name]()
    sketched = model.program(const_grads)
    assert model._scalar is None  # the layout came without a single node
    read = from_graph(model.graph, model.net, const_grads)
    assert [(i, layer) for i, layer in sketched.layers] == read.layers  # kinds, names, shapes
    assert sketched.n_params == read.n_params == len(model.graph.input_nodes)
    for ours, theirs in zip(sketched.plans, read.plans, strict=True):
        operands, weights, bias, extra, need = ours
        for a, b in zip(operands + extra, theirs[0] + theirs[3], strict=True):
            assert_same_spans(a, b)
        np.testing.assert_array_equal(weights, theirs[1])
        np.testing.assert_array_equal(bias, theirs[2])
        assert need == theirs[4]
    for a, b in zip(sketched.outputs, read.outputs, strict=True):
        assert_same_spans(a, b)


@pytest.mark.parametrize("name", ["resnet", "mlp"])
def test_groups_and_initialisation_are_those_of_the_nodes(name):
    model = MODELS[name]()
    groups = model.param_groups()
    init = model.initial_params(np.random.default_rng(7))
    position = {n: i for i, n in enumerate(model.graph.input_nodes)}
    expected = {layer.name: [position[w] for w in layer.weights + layer.bias]
                for layer in model.net.layers if layer.weights}
    assert {k: v.tolist() for k, v in groups.items()} == expected
    for layer in model.net.layers:
        if layer.bias:  # biases start at 0, weights do not
            assert all(init[position[b]] == 0.0 for b in layer.bias)
            assert all(init[position[w]] != 0.0 for w in layer.weights)


@pytest.mark.parametrize("optimizer", [lambda: Adam(lr=0.01), lambda: SGD(lr=0.05)],
                         ids=["adam", "sgd"])
def test_training_on_the_sketch_is_bit_identical_to_the_scalar_graphs_program(optimizer):
    digits = load_digits()
    model = resnet(width=16)
    start = model.initial_params(np.random.default_rng(3))
    sketched = Trainer(model, optimizer(), start.copy(), label_smoothing=0.1)
    read = Trainer(model, optimizer(), start.copy(), label_smoothing=0.1)
    read.program = FusedProgram(model.graph, model.net, const_grads=False)
    rng = np.random.default_rng(0)
    for _ in range(25):
        batch = rng.choice(len(digits.train_labels), 16, replace=False)
        a = sketched.step(digits.train_images[batch], digits.train_labels[batch])
        b = read.step(digits.train_images[batch], digits.train_labels[batch])
        assert a == b  # loss, accuracy and every layer's gradient norm
        assert sketched.branches() == read.branches()
    np.testing.assert_array_equal(sketched.params, read.params)
    assert not np.array_equal(sketched.params, start)


def test_a_run_never_builds_the_scalar_graph(monkeypatch):
    """Counted: the real builder runs, wrapped to count its calls."""
    from engine.training import models

    built = []
    original = models._scalar
    monkeypatch.setattr(models, "_scalar", lambda architecture: built.append(1)
                        or original(architecture))
    result = train(TrainConfig(model="mlp", epochs=1, batch_size=256, width=4))
    assert result.epochs and built == []
    models.mlp(width=4).graph  # noqa: B018 - a view asking for it builds it
    assert built == [1]
