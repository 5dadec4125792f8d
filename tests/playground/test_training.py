"""Playground training: it learns, it reproduces, and its fused gradients are the scalar graph's."""

from __future__ import annotations

import numpy as np
import pytest

from engine import graph, nn
from engine.playground import FEATURES, SQUARE, Playground, PlaygroundConfig, PlaygroundError
from engine.training import FusedProgram


def trained(config: PlaygroundConfig, epochs: int) -> Playground:
    playground = Playground(config)
    for _ in range(epochs):
        playground.run_epoch()
    return playground


@pytest.mark.parametrize("dataset", ["circle", "xor"])
def test_the_default_network_learns_circle_and_xor(dataset):
    metrics = trained(PlaygroundConfig(dataset=dataset), 100).metrics()
    assert metrics.test_accuracy >= 0.95


def test_three_layers_of_eight_tanh_learn_the_spiral():
    config = PlaygroundConfig(dataset="spiral", hidden=(8, 8, 8), features=tuple(FEATURES))
    assert trained(config, 150).metrics().test_accuracy >= 0.90


def test_regression_fits_the_plane():
    playground = trained(PlaygroundConfig(dataset="plane"), 50)
    metrics = playground.metrics()
    guessing_zero = np.mean(0.5 * playground.data.test.labels ** 2)
    assert metrics.test_accuracy is None and metrics.test_loss < 0.05 * guessing_zero


def test_an_epoch_is_one_pass_of_batches():
    playground = Playground(PlaygroundConfig(batch_size=10, ratio=0.5, points=500))
    playground.run_epoch()
    assert (playground.epoch, playground.steps) == (1, 25)


def test_the_same_config_gives_the_same_weights_and_losses():
    a, b = (trained(PlaygroundConfig(dataset="moons", init_seed=3), 1) for _ in range(2))
    assert np.array_equal(a.params, b.params) and a.metrics() == b.metrics()
    c = trained(PlaygroundConfig(dataset="moons", init_seed=4), 1)
    assert not np.array_equal(a.params, c.params)


def scalar_loss_and_grads(playground: Playground, index: int) -> tuple[float, np.ndarray]:
    g = playground.sample_graph(True, index)
    g.compute_forward()
    g.back_prop()
    return playground.network.loss.forward, np.array([w.backward for w in g.input_nodes])


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
@pytest.mark.parametrize("regularization", ["none", "l1", "l2"])
def test_one_samples_fused_gradients_are_the_scalar_graphs(activation, regularization):
    config = PlaygroundConfig(dataset="xor", hidden=(3, 4), features=tuple(FEATURES),
                              activation=activation, regularization=regularization,
                              reg_rate=0.01)
    playground = trained(config, 1)  # weights away from their start
    for index in (0, 7):
        loss, grads = scalar_loss_and_grads(playground, index)
        features = playground._train_features[index:index + 1]
        label = playground.data.train.labels[index:index + 1]
        consts = playground.network.consts(features, label, playground.rate)
        fused = playground.program.forward(playground.params, consts, consts_by_sample=True)
        assert abs(fused[0, 0] - loss) <= 1e-12
        assert np.abs(playground.program.backward() - grads).max() <= 1e-12


@pytest.mark.parametrize("kind", ["L1", "L2"])
def test_penalty_gradients_match_finite_differences(kind):
    net = nn()
    weights = net.new_input_nodes_list(5)
    rate = net.new_const_nodes_list(1)[0]
    penalty = getattr(net, kind)(5, weights, rate)
    penalty.set_as_output()
    g = graph(weights, [rate], [penalty])
    w0 = np.array([0.3, -1.2, 0.7, -0.05, 2.0])

    def value(w):
        g.feed(w, [0.4])
        g.compute_forward()
        return penalty.forward

    g.feed(w0, [0.4])
    g.compute_forward()
    g.back_prop()
    analytic = [w.backward for w in weights]
    h = 1e-6
    numeric = [(value(w0 + h * e) - value(w0 - h * e)) / (2 * h) for e in np.eye(5)]
    assert np.allclose(analytic, numeric, rtol=1e-7, atol=1e-9)
    closed = 0.4 * (np.abs(w0).sum() if kind == "L1" else (w0 ** 2).sum())
    assert abs(value(w0) - closed) <= 1e-12
    fused = FusedProgram(g, net, const_grads=False)
    assert abs(fused.forward(w0, np.array([[0.4], [0.4]]), consts_by_sample=True)[0, 0]
               - closed) <= 1e-12
    assert np.allclose(fused.backward() / 2, numeric, rtol=1e-7, atol=1e-9)


def test_the_maps_are_the_network_over_the_square():
    playground = trained(PlaygroundConfig(hidden=(3,)), 2)
    maps = playground.maps(resolution=64)
    assert maps.output.shape == (64, 64) and maps.neurons[0].shape == (3, 64, 64)
    corner = np.array([[-SQUARE, SQUARE]])  # row 0, column 0: top left
    g = playground.network.graph
    g.feed(playground.params, playground.network.consts(corner, [0.0], 0.0)[0])
    g.compute_forward()
    assert abs(playground.network.output.forward - maps.output[0, 0]) <= 1e-12
    hidden = [n.forward for n in playground.network.hidden[0]]
    assert np.abs(maps.neurons[0][:, 0, 0] - hidden).max() <= 1e-12


def test_bad_options_are_named():
    with pytest.raises(PlaygroundError, match="batch_size must be 1..1000"):
        Playground(PlaygroundConfig(batch_size=0))
    with pytest.raises(ValueError, match="hidden layers: 0..6 of 1..8"):
        Playground(PlaygroundConfig(hidden=(9,)))


def test_micrograds_demo_gives_micrograds_gradients():
    """The demo network in nn, fused, against micrograd itself on the same weights."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    from engine.playground import demo
    from engine.playground.data import moons

    points = moons(12, 0.1, np.random.default_rng(5), scale=1.0)
    model = MLP(2, [16, 16, 1])
    ours = demo.build()
    params = np.random.default_rng(6).uniform(-1, 1, len(ours.graph.input_nodes))
    for p, v in zip(model.parameters(), params, strict=True):
        p.data = float(v)
    scores = [model([Value(x), Value(y)]) for x, y in points.xy]
    hinge = sum((1 + -yi * s).relu() for yi, s in zip(points.labels, scores, strict=True))
    total = hinge * (1.0 / len(scores)) + 1e-4 * sum(p * p for p in model.parameters())
    total.backward()
    loss, grad, our_scores = ours.loss_and_grad(params, points.xy, points.labels)
    assert abs(loss - total.data) <= 1e-12
    assert np.allclose(our_scores, [s.data for s in scores], rtol=0, atol=1e-12)
    assert np.abs(grad - [p.grad for p in model.parameters()]).max() <= 1e-12


@pytest.mark.parametrize("first", [0, 7, 25, 26])  # 250 points, batch 10: an epoch is 25 steps
def test_a_copy_resumed_from_progress_trains_as_the_original(first):
    """What the job queue does between turns (server/jobs/queued_playground.py): a copy built
    from the config and points, given the progress, goes on bit for bit as one run does."""
    config = PlaygroundConfig(dataset="spiral", seed=2, noise=0.2, hidden=(5, 3), batch_size=10)
    original = Playground(config)
    for _ in range(first):
        original.step()
    copy = Playground(config, original.data)
    copy.resume(original.progress())
    for _ in range(40):
        original.step()
        copy.step()
    assert np.array_equal(copy.params, original.params)
    assert (copy.epoch, copy.steps) == (original.epoch, original.steps)
    assert copy.metrics() == original.metrics()


def test_progress_of_another_network_is_refused():
    small = Playground(PlaygroundConfig(hidden=(2,)))
    with pytest.raises(PlaygroundError, match="parameters given; this network has"):
        Playground(PlaygroundConfig(hidden=(4, 2))).resume(small.progress())
