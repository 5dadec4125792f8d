"""The pictures' numpy reference against the scalar graph, and weights stored at epoch ends."""

from __future__ import annotations

import numpy as np
import pytest

from engine.training import TrainConfig, Trainer, mlp, resnet, train
from engine.training.optim import SGD
from engine.training.pictures import (
    IMAGE_LAYERS,
    PicturesError,
    ResNetWeights,
    evaluation_set,
    losses,
    maps,
    saliency,
)
from tests.oracles import relative_error


def _layer(model, name):
    return next(layer for layer in model.net.layers if layer.name == name)


@pytest.mark.parametrize("sample", [0, 123])
def test_maps_and_saliency_equal_the_scalar_graph(digits, sample):
    """One digit through the scalar graph (the truth the Graph tab shows): every image-shaped
    layer's values and loss gradients equal the reference's to 1e-12."""
    model = resnet()
    rng = np.random.default_rng(sample)
    params = model.initial_params(rng) + rng.normal(0, 0.05, model.n_params)  # nonzero biases
    images, labels = evaluation_set(digits)
    image, label = images[sample:sample + 1], labels[sample:sample + 1]

    g = model.graph
    g.feed(params, model.consts(image.reshape(1, -1), label).T)
    g.compute_forward()
    g.back_prop()

    w = ResNetWeights.of(model, params)
    values = maps(w, image)
    grads = saliency(w, values, label)
    scalar_nodes = {"image": model.image, **{name: _layer(model, name).outputs
                                             for name in IMAGE_LAYERS[1:]}}
    for name, nodes in scalar_nodes.items():
        forward = np.array([n.forward for n in nodes]).reshape(16, 16)
        backward = np.array([n.backward for n in nodes]).reshape(16, 16)
        assert relative_error(values[name][0], forward) <= 1e-12, name
        assert relative_error(grads[name][0], backward) <= 1e-12, name
    # Add2's operands side by side: the skip path's values are the image's, the residual's
    # Conv2's; the gradient each receives through the sum is the sum's own.
    add = _layer(model, "Add2")
    add_grads = np.array([n.backward for n in add.outputs]).reshape(16, 16)
    for name, nodes in zip(("skip", "residual"), add.inputs, strict=True):
        forward = np.array([n.forward for n in nodes]).reshape(16, 16)
        assert relative_error(values[name][0], forward) <= 1e-12, name
        assert relative_error(grads[name][0], add_grads) <= 1e-12, name
    # the loss reads the logits (its log-sum-exp), so the softmax nodes are not computed
    logits = np.array([n.forward for n in model.logits]).ravel()
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert relative_error(values["probabilities"][0], probabilities) <= 1e-12
    assert losses(values, label)[0] == pytest.approx(float(np.ravel(model.loss.forward)[0]),
                                                     rel=1e-12)
    assert add.inputs[0] == model.image  # the skip path carries the image itself


def test_saliency_agrees_with_finite_differences(digits):
    """An oracle apart from the engine: central differences of the reference's own loss."""
    model = resnet(width=8)
    rng = np.random.default_rng(7)
    params = model.initial_params(rng) + rng.normal(0, 0.05, model.n_params)
    w = ResNetWeights.of(model, params)
    images, labels = evaluation_set(digits)
    image, label = images[5:6], labels[5:6]
    grad = saliency(w, maps(w, image), label)["image"][0]
    h = 1e-6
    for r, c in [(3, 4), (8, 8), (12, 2), (0, 0)]:
        up, down = image.copy(), image.copy()
        up[0, r, c] += h
        down[0, r, c] -= h
        numeric = (losses(maps(w, up), label)[0] - losses(maps(w, down), label)[0]) / (2 * h)
        assert grad[r, c] == pytest.approx(numeric, abs=1e-6)


def test_an_mlp_has_no_feature_maps():
    model = mlp(width=8)
    with pytest.raises(PicturesError, match="reference ResNet"):
        ResNetWeights.of(model, model.initial_params(np.random.default_rng(0)))
    model = resnet(width=8)
    with pytest.raises(PicturesError, match="8574|parameters"):
        ResNetWeights.of(model, np.zeros(3))


def test_weights_stored_at_an_epoch_end_reproduce_its_test_accuracy(digits):
    """Re-evaluating each epoch's stored weights gives back that epoch's test accuracy and
    loss exactly — by the trainer's own evaluation and by the independent reference."""
    stored: dict[int, np.ndarray] = {}
    config = TrainConfig(epochs=3, batch_size=64, seed=2)
    result = train(config, on_weights=lambda epoch, params: stored.setdefault(epoch, params),
                   data=digits)
    assert sorted(stored) == [0, 1, 2, 3]
    assert not np.array_equal(stored[1], stored[2])  # copies, not the live array
    model = resnet()
    images, labels = evaluation_set(digits)
    for summary in result.epochs:
        params = stored[summary.epoch]
        trainer = Trainer(model, SGD(lr=0.0), params.copy())
        loss, accuracy, confusion = trainer.evaluate(images.reshape(len(images), -1), labels)
        assert accuracy == summary.test_accuracy and loss == summary.test_loss
        assert confusion.tolist() == summary.confusion
        predicted = maps(ResNetWeights.of(model, params), images)["logits"].argmax(axis=1)
        assert np.mean(predicted == labels) == summary.test_accuracy
    assert np.array_equal(stored[3], result.params)
