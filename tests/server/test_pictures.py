"""A run's pictures over Socket.IO, from the weights its worker stored at each epoch end: checked
against the run's own epoch records and against the scalar graph fed those weights."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.training import load_digits, resnet
from tests.live_server import wait_until

pytestmark = pytest.mark.slow  # a real training worker process

WIDTH = 8


def call(sock, event, data):
    return sock.emit(event, data, callback=True)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture
def trained(app, sock):
    """A finished two-epoch ResNet run: (run id, its epoch records, the store)."""
    ack = call(sock, "train", {"model": "resnet", "epochs": 2, "batch_size": 128,
                               "width": WIDTH, "seed": 5})
    assert ack["ok"], ack
    store = app.extensions["backprop_live"].store
    wait_until(lambda: store.run(ack["run_id"])["status"] != "running", timeout=300)
    assert store.run(ack["run_id"])["status"] == "completed"
    epochs = [r for r in store.metrics(ack["run_id"]) if r["type"] == "epoch"]
    return ack["run_id"], epochs, store


def _scalar_graph(params, image, label):
    """The digit through the scalar graph with the run's weights: the engine's own answer."""
    model = resnet(width=WIDTH)
    g = model.graph
    g.feed(params, model.consts(image.reshape(1, -1), np.array([label])).T)
    g.compute_forward()
    g.back_prop()
    return model


def _layer_nodes(model):
    by_name = {layer.name: layer for layer in model.net.layers}
    add = by_name["Add2"]
    return {"image": model.image, "Conv1": by_name["Conv1"].outputs,
            "ReLU1": by_name["ReLU1"].outputs, "Conv2": by_name["Conv2"].outputs,
            "Add2": add.outputs, "ReLU2": by_name["ReLU2"].outputs,
            "skip": add.inputs[0], "residual": add.inputs[1]}


def _close(a, b) -> bool:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(np.max(np.abs(a - b))) <= 1e-12 * max(float(np.max(np.abs(b))), 1e-300)


def test_each_epochs_test_digits_give_back_its_accuracy_and_confusion(trained, sock):
    run_id, epochs, store = trained
    assert store.weight_epochs(run_id) == [0, 1, 2]
    for record in epochs:
        ack = call(sock, "run_test_digits", {"run_id": run_id, "epoch": record["epoch"]})
        assert ack["ok"], ack
        labels = np.frombuffer(ack["labels"], "<u1")
        predicted = np.frombuffer(ack["predicted"], "<u1")
        assert ack["epochs"] == [0, 1, 2] and ack["count"] == len(labels) == 360
        assert np.mean(labels == predicted) == record["test_accuracy"]
        confusion = np.zeros((10, 10), int)
        np.add.at(confusion, (labels, predicted), 1)
        assert confusion.tolist() == record["confusion"]
        probability = np.frombuffer(ack["probability"], "<f4")
        assert ((probability >= 0.1) & (probability <= 1)).all()  # the argmax of 10 classes


def test_a_test_digits_maps_and_saliency_equal_the_scalar_graph(trained, sock, digits):
    run_id, _, store = trained
    params = np.frombuffer(store.weights(run_id, 2), "<f8")
    digit = 17
    ack = call(sock, "digit_maps", {"run_id": run_id, "epoch": 2, "digit": digit})
    assert ack["ok"], ack
    assert ack["label"] == digits.test_labels[digit] and ack["target"] == ack["label"]
    mean, std = digits.train_images.mean(), digits.train_images.std()
    image = (digits.test_images[digit] - mean) / std
    model = _scalar_graph(params, image, ack["label"])
    size = ack["size"] ** 2
    values = np.frombuffer(ack["values"], "<f8").reshape(-1, size)
    grads = np.frombuffer(ack["grads"], "<f8").reshape(-1, size)
    nodes = _layer_nodes(model)
    add_grads = [n.backward for n in nodes["Add2"]]
    for k, name in enumerate(ack["layers"]):
        assert _close(values[k], [n.forward for n in nodes[name]]), name
        # Add2's operands get the sum's gradient; the other maps are the nodes' own
        expected = add_grads if name in ("skip", "residual") else [n.backward for n in
                                                                    nodes[name]]
        assert _close(grads[k], expected), name
    assert ack["loss"] == pytest.approx(float(np.ravel(model.loss.forward)[0]), rel=1e-12)


def test_a_drawn_digit_is_scored_as_the_engine_scores_it(trained, sock, digits):
    run_id, _, store = trained
    params = np.frombuffer(store.weights(run_id, 1), "<f8")
    ink = np.zeros((16, 16))
    ink[3:13, 7:9] = 1.0  # a stroke: a "1"
    ink[12, 5:11] = 0.5
    ack = call(sock, "digit_maps", {"run_id": run_id, "epoch": 1,
                                    "pixels": ink.ravel().tolist(), "label": 1})
    assert ack["ok"], ack
    probabilities = np.frombuffer(ack["probabilities"], "<f8")
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    mean, std = digits.train_images.mean(), digits.train_images.std()
    model = _scalar_graph(params, (ink.ravel() - mean) / std, 1)
    logits = np.array([n.forward for n in model.logits]).ravel()
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert _close(probabilities, expected)
    assert ack["label"] == -1 and ack["target"] == 1
    assert ack["loss"] == pytest.approx(float(np.ravel(model.loss.forward)[0]), rel=1e-12)


def test_kernel_history_is_the_stored_weights(trained, sock):
    run_id, _, store = trained
    ack = call(sock, "run_kernels", {"run_id": run_id})
    assert ack["ok"] and ack["epochs"] == [0, 1, 2]
    kernels = np.frombuffer(ack["kernels"], "<f8").reshape(3, 2, 10)
    model = resnet(width=WIDTH)
    position = {n: i for i, n in enumerate(model.params)}
    conv = [layer for layer in model.net.layers if layer.kind == "conv"]
    for epoch in range(3):
        params = np.frombuffer(store.weights(run_id, epoch), "<f8")
        for k, layer in enumerate(conv):
            expected = [params[position[n]] for n in layer.weights + layer.bias]
            assert kernels[epoch, k].tolist() == expected
    assert not np.array_equal(kernels[0], kernels[2])  # training moved them


def test_bad_requests_get_clear_errors(trained, sock):
    run_id, _, _ = trained
    cases = [({"run_id": run_id, "epoch": 7, "digit": 0}, "epochs 0..2"),
             ({"run_id": run_id, "epoch": -1, "digit": 0}, "epoch must be"),
             ({"run_id": run_id, "digit": 360}, "0..359"),
             ({"run_id": run_id, "pixels": [0.5] * 255}, "256 numbers in \\[0, 1\\]"),
             ({"run_id": run_id, "pixels": [2.0] * 256}, "256 numbers in \\[0, 1\\]"),
             ({"run_id": run_id, "pixels": [0.0] * 256, "label": 10}, "class 0..9"),
             ({"run_id": "r_nope", "digit": 0}, "not found")]
    for data, message in cases:
        ack = call(sock, "digit_maps", data)
        assert not ack["ok"]
        assert re.search(message, ack["error"]["message"]), ack


def test_an_mlp_run_says_it_has_no_feature_maps(app, sock):
    ack = call(sock, "train", {"model": "mlp", "epochs": 1, "batch_size": 512, "width": 4})
    store = app.extensions["backprop_live"].store
    wait_until(lambda: store.run(ack["run_id"])["status"] != "running", timeout=120)
    assert store.weight_epochs(ack["run_id"]) == [0, 1]  # stored all the same
    answer = call(sock, "digit_maps", {"run_id": ack["run_id"], "digit": 0})
    assert not answer["ok"] and "resnet model" in answer["error"]["message"]


def test_a_digits_graph_traces_to_the_loss_its_maps_gave(trained, sock, app, make_app):
    """digit_graph's ref loads and traces like any graph; its output is the loss digit_maps
    reports, for this workspace only, and each new one replaces the workspace's last."""
    from tests.server.frames import decode

    run_id, _, _ = trained
    ack = call(sock, "digit_graph", {"run_id": run_id, "epoch": 1, "digit": 9})
    assert ack["ok"], ack
    maps = call(sock, "digit_maps", {"run_id": run_id, "epoch": 1, "digit": 9})
    assert ack["loss"] == maps["loss"]
    loaded = call(sock, "load_graph", {"graph": ack["ref"]})
    assert loaded["ok"] and "test digit 9" in loaded["graph"]["name"]
    sock.get_received()
    traced = call(sock, "trace_graph", {"graph": ack["ref"], "mode": "forward"})
    assert traced["ok"], traced
    (output,) = loaded["graph"]["description"]["outputs"]
    values = {}
    for event in sock.get_received():
        if event["name"] == "trace" and event["args"][0]["phase"] == "forward":
            frame = decode(event["args"][0])
            values.update(zip(frame["ids"], frame["values"], strict=True))
    assert values[output] == pytest.approx(ack["loss"], rel=1e-12)

    other = app.extensions["socketio"].test_client(app)  # no cookie: another workspace
    refused = call(other, "load_graph", {"graph": ack["ref"]})
    assert not refused["ok"] and "no longer kept" in refused["error"]["message"]
    other.disconnect()
    newer = call(sock, "digit_graph", {"run_id": run_id, "digit": 10})
    assert newer["ok"] and newer["ref"] != ack["ref"]
    gone = call(sock, "load_graph", {"graph": ack["ref"]})
    assert not gone["ok"] and "open its back-prop again" in gone["error"]["message"]
