"""Training: fused kernels agree with the scalar graph, optimisers learn, runs reproduce, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.training import (
    SGD,
    Adam,
    FusedProgram,
    TrainConfig,
    Trainer,
    TrainingError,
    load_digits,
    mlp,
    resnet,
    train,
)
from tests.oracles import relative_error


@pytest.mark.parametrize("build", [lambda: resnet(width=8), lambda: mlp(width=16)],
                         ids=["resnet", "mlp"])
def test_fused_and_scalar_evaluation_agree(build, digits):
    """The scalar graph (the truth the page shows) and the fused kernels: same numbers."""
    model = build()
    rng = np.random.default_rng(3)
    params = model.initial_params(rng) + rng.normal(0, 0.05, model.n_params)  # nonzero biases
    batch = 6
    consts = model.consts(digits.train_images[:batch] * 2 - 0.5, digits.train_labels[:batch])

    g = model.graph
    g.feed(params, consts.T)
    g.compute_forward()
    g.back_prop()

    fused = FusedProgram(g, model.net)
    losses = fused.forward(params, consts, consts_by_sample=True)[:, 0]
    grads = fused.backward()

    assert relative_error(losses, model.loss.forward) <= 1e-9
    assert relative_error(grads, [w.backward for w in model.params]) <= 1e-9
    # every layer's output values, and the gradients reaching them, sample by sample
    for index, layer in fused.layers:
        scalar = np.array([y.forward for y in layer.nodes.outputs]).T
        assert relative_error(fused.layer_values(index), scalar) <= 1e-9, layer.name
    # the image's gradient (a const), through both convs and the skip connection
    image_grads = np.array([p.backward for p in model.image]).T
    assert relative_error(fused.const_grads[:, :len(model.image)], image_grads) <= 1e-9


def test_fused_accepts_consts_in_feed_layout(digits):
    model = mlp(width=4)
    params = model.initial_params(np.random.default_rng(0))
    consts = model.consts(digits.train_images[:3], digits.train_labels[:3])
    fused = FusedProgram(model.graph, model.net)
    by_sample = fused.forward(params, consts, consts_by_sample=True)
    by_node = fused.forward(params, consts.T)
    np.testing.assert_array_equal(by_sample, by_node)


@pytest.mark.parametrize("optimizer", [Adam(lr=1e-3), SGD(lr=0.01, momentum=0.9)],
                         ids=["adam", "sgd"])
def test_one_step_lowers_the_loss_of_its_batch(optimizer, digits):
    model = resnet(width=16)
    trainer = Trainer(model, optimizer, model.initial_params(np.random.default_rng(1)))
    images, labels = digits.train_images[:32], digits.train_labels[:32]
    before = trainer.evaluate(images, labels)[0]
    trainer.step(images, labels)
    after = trainer.evaluate(images, labels)[0]
    assert after < before


def test_overfits_32_samples(digits):
    model = resnet(width=32)
    trainer = Trainer(model, Adam(lr=0.01), model.initial_params(np.random.default_rng(0)))
    images, labels = digits.train_images[:32], digits.train_labels[:32]
    for _ in range(150):
        trainer.step(images, labels)
    loss, accuracy, confusion = trainer.evaluate(images, labels)
    assert accuracy >= 0.99
    assert confusion.sum() == 32 and np.trace(confusion) == round(accuracy * 32)


def small_run(seed: int, digits, **options):
    config = TrainConfig(model="mlp", epochs=2, batch_size=128, width=8, seed=seed, **options)
    steps, epochs = [], []
    result = train(config, on_step=steps.append, on_epoch=epochs.append, data=digits)
    return result, steps, epochs


def test_same_seed_same_curve_other_seed_other_curve(digits):
    first, steps, epochs = small_run(5, digits)
    again, _, _ = small_run(5, digits)
    other, _, _ = small_run(6, digits)
    curve = [s.loss for s in first.steps]
    assert curve == [s.loss for s in again.steps]
    assert curve != [s.loss for s in other.steps]
    np.testing.assert_array_equal(first.params, again.params)
    # callbacks saw every step once, in order, and every epoch
    assert [s.step for s in steps] == list(range(1, len(steps) + 1))
    assert len(steps) == 2 * -(-len(digits.train_labels) // 128)
    assert [e.epoch for e in epochs] == [1, 2]
    assert set(steps[0].grad_norms) == {"FC1", "FC2"}
    assert all(v > 0 for v in steps[0].grad_norms.values())
    assert np.array(epochs[-1].confusion).sum() == len(digits.test_labels)


def test_grad_norms_are_the_norms_of_the_layer_gradients(digits):
    """The per-layer norm the page colours blocks by equals the norm of the scalar gradients."""
    model = mlp(width=4)
    params = model.initial_params(np.random.default_rng(2))
    trainer = Trainer(model, SGD(lr=0.0), params.copy())
    images, labels = digits.train_images[:5], digits.train_labels[:5]
    _, _, norms = trainer.step(images, labels)
    g = model.graph
    g.feed(params, model.consts(images, labels).T)
    g.back_prop()
    for layer in model.net.layers:
        if layer.weights:
            scalar = np.array([w.backward for w in layer.weights + layer.bias]) / len(images)
            assert norms[layer.name] == pytest.approx(np.linalg.norm(scalar), rel=1e-9)


def test_should_stop_ends_the_run_early(digits):
    calls = []
    result = train(TrainConfig(model="mlp", epochs=3, batch_size=256, width=4),
                   on_step=calls.append, should_stop=lambda: len(calls) >= 2, data=digits)
    assert result.stopped and len(result.steps) == 2 and result.epochs == []


@pytest.mark.parametrize("option", [{"epochs": 0}, {"batch_size": -1}, {"model": "vgg"},
                                    {"optimizer": "lbfgs"}, {"lr": 0.0}, {"width": 2.5}])
def test_bad_options_are_named(option):
    with pytest.raises(TrainingError, match=next(iter(option))):
        TrainConfig(**option).checked()


def test_a_network_spec_trains_from_its_own_weights(digits):
    from pathlib import Path

    from engine.training import NetworkSpecError, from_network

    source = (Path(__file__).resolve().parents[2] / "examples" / "mlp.network.json").read_text()
    model = from_network(source)
    params = model.initial_params(np.random.default_rng(0))
    np.testing.assert_array_equal(params, [w.forward for w in model.params])  # the spec's own
    small = load_digits(size=8)
    consts = model.consts(small.train_images[:4], small.train_labels[:4])
    g = model.graph
    g.feed(params, consts.T)
    g.compute_forward()
    g.back_prop()
    fused = FusedProgram(g, model.net)
    assert relative_error(fused.forward(params, consts, consts_by_sample=True)[:, 0],
                          model.loss.forward) <= 1e-9
    assert relative_error(fused.backward(), [w.backward for w in model.params]) <= 1e-9

    result = train(TrainConfig(model="network", network=source, epochs=2, batch_size=64))
    assert result.epochs[-1].test_loss < result.epochs[0].test_loss * 1.5
    assert result.epochs[-1].test_accuracy > 0.5
    assert "network" not in result.summary()["config"]

    not_square = json.dumps({"format": "backprop-live/network", "version": 1, "layers": [
        {"name": "image", "type": "image", "size": [8, 16]},
        {"name": "label", "type": "label", "classes": 10},
        {"name": "fc", "type": "fc", "input": "image", "size": 10},
        {"name": "p", "type": "softmax", "input": "fc"},
        {"name": "loss", "type": "cross_entropy", "inputs": ["p", "label"]}]})
    from_network(not_square.replace("[8, 16]", "[8, 8]"))  # the same, square: fine
    with pytest.raises(NetworkSpecError, match="n×n"):
        from_network(not_square)
    with pytest.raises(TrainingError, match="network"):
        TrainConfig(model="network").checked()


def test_branch_metrics_match_the_scalar_graph(digits):
    """The skip-against-residual figures the page shows, recomputed from scalar nodes."""
    model = resnet(width=8)
    params = model.initial_params(np.random.default_rng(4))
    trainer = Trainer(model, SGD(lr=0.0), params.copy())
    images, labels = digits.train_images[:6], digits.train_labels[:6]
    trainer.step(images, labels)
    (name, branch), = trainer.branches().items()
    add = next(layer for layer in model.net.layers if layer.kind == "add")
    assert name == add.name and branch["operands"] == ["image", "Conv2"]
    g = model.graph
    g.feed(params, model.consts(images, labels).T)
    g.back_prop()
    for nodes, rms in zip(add.inputs, branch["value_rms"], strict=True):
        values = np.array([n.forward for n in nodes])
        assert rms == pytest.approx(np.sqrt(np.mean(values ** 2)), rel=1e-12)
    grads = np.array([n.backward for n in add.outputs])
    assert branch["grad_rms"] == pytest.approx(np.sqrt(np.mean(grads ** 2)), rel=1e-9)


def test_label_smoothing_trains_on_soft_targets_and_scores_on_true_labels(digits):
    model = mlp(width=8)
    consts = model.consts(digits.train_images[:3], digits.train_labels[:3], smoothing=0.1)
    labels = consts[:, 256:266]
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-15)
    assert labels.max() == pytest.approx(0.91) and labels.min() == pytest.approx(0.01)

    trainer = Trainer(model, SGD(lr=0.0), model.initial_params(np.random.default_rng(0)), 0.1)
    images, truth = digits.test_images[:20], digits.test_labels[:20]
    loss, _, _ = trainer.evaluate(images, truth)
    _, logits = trainer.forward(images, truth)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-log_p[np.arange(20), truth].mean(), rel=1e-12)  # hard labels
    smoothed_loss, _, _ = trainer.step(images, truth)
    assert smoothed_loss == pytest.approx(-(0.9 * log_p[np.arange(20), truth]
                                            + 0.01 * log_p.sum(axis=1)).mean(), rel=1e-12)


def test_a_network_spec_is_read_as_load_reads_it():
    """from_network takes what load() takes: bytes with a byte-order mark, a memoryview."""
    from pathlib import Path

    from engine.formats import load
    from engine.training import from_network

    text = (Path(__file__).resolve().parents[2] / "examples" / "mlp.network.json").read_text()
    expected = load(text, "network").network.layers
    for source in ("\ufeff" + text, ("\ufeff" + text).encode(), memoryview(text.encode())):
        model = from_network(source)
        assert [layer.name for layer in model.net.layers] == [layer.name for layer in expected]
        assert model.n_params == sum(len(layer.weights) + len(layer.bias) for layer in expected)
