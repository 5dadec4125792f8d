"""Network specs: the reference ResNet and the MLP against an independent numpy implementation
(weights drawn by the documented He rule, loss computed with numpy, every gradient by central
finite differences of that numpy loss), the layer grouping the page draws, and the errors."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine import nn
from engine.formats import FormatError, Limits, load
from engine.formats.network import matrix_matches_schema

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def spec_of(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def flat(values) -> np.ndarray:
    return np.asarray(values, np.float64).reshape(-1)


def documented_parameters(spec: dict) -> tuple[dict, list[np.ndarray]]:
    """Pixels and weights as docs/formats.md says they are drawn, without the loader: returns
    ({layer: pixels}, [W, b, W, b, ...] in layer order)."""
    rng = np.random.default_rng(spec.get("seed", 0))
    sizes, pixels, params = {}, {}, []
    for layer in spec["layers"]:
        name, kind = layer["name"], layer["type"]
        if kind == "image":
            rows, cols = layer["size"]
            sizes[name] = rows * cols
            pixels[name] = flat(layer["pixels"]) if "pixels" in layer else rng.random(rows * cols)
        elif kind == "label":
            sizes[name] = layer["classes"]
        elif kind == "conv":
            w = flat(layer["weights"]) if "weights" in layer else rng.normal(0, math.sqrt(2 / 9), 9)
            params += [w, np.array([layer.get("bias", 0.0)])]
            sizes[name] = sizes[layer["input"]]
        elif kind == "fc":
            fan_in, size = sizes[layer["input"]], layer["size"]
            w = flat(layer["weights"]) if "weights" in layer else \
                rng.normal(0, math.sqrt(2 / fan_in), size * fan_in)
            params += [w, flat(layer.get("bias", np.zeros(size)))]
            sizes[name] = size
        else:
            first = layer["input"] if "input" in layer else layer["inputs"][0]
            sizes[name] = 1 if kind == "cross_entropy" else sizes[first]
    return pixels, params


def numpy_loss(spec: dict, pixels: dict, params: list, kinks: list | None = None) -> float:
    """The network's output (summed) with numpy: conv as 9 shifted slices of the padded image."""
    values, log_probs, shapes = {}, {}, {}
    params = iter(params)
    for layer in spec["layers"]:
        name, kind = layer["name"], layer["type"]
        x = values.get(layer.get("input"))
        if kind == "image":
            shapes[name] = tuple(layer["size"])
            values[name] = pixels[name]
        elif kind == "label":
            values[name] = np.eye(layer["classes"])[layer.get("class", 0)]
        elif kind == "conv":
            w, b = next(params), next(params)
            rows, cols = shapes[name] = shapes[layer["input"]]
            padded = np.pad(x.reshape(rows, cols), 1)
            out = sum(w[k] * padded[k // 3:k // 3 + rows, k % 3:k % 3 + cols] for k in range(9))
            values[name] = (out + b[0]).reshape(-1)
        elif kind == "fc":
            w, b = next(params), next(params)
            values[name] = w.reshape(layer["size"], -1) @ x + b
        elif kind == "relu":
            if kinks is not None:
                kinks.append(np.min(np.abs(x)))
            values[name] = np.maximum(x, 0.0)
            shapes[name] = shapes.get(layer["input"])
        elif kind == "add":
            a, b = layer["inputs"]
            values[name] = values[a] + values[b]
            shapes[name] = shapes.get(a)
        elif kind == "softmax":
            shifted = x - x.max()
            log_probs[name] = shifted - np.log(np.exp(shifted).sum())
            values[name] = np.exp(log_probs[name])
        elif kind == "cross_entropy":
            pred, label = layer["inputs"]
            log_p = log_probs.get(pred)
            log_p = np.log(values[pred]) if log_p is None else log_p
            values[name] = np.array([-(values[label] * log_p).sum()])
    outputs = spec.get("outputs") or [spec["layers"][-1]["name"]]
    return float(sum(values[o].sum() for o in outputs))


def fd_gradient(f, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.empty_like(theta)
    for i in range(len(theta)):
        step = h * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        grad[i] = (f(up) - f(down)) / (2 * step)
    return grad


@pytest.fixture(scope="module", params=["resnet.network.json", "mlp.network.json"])
def example(request):
    name = request.param
    loaded = load((EXAMPLES / name).read_bytes(), filename=name)
    return name, spec_of(name), loaded, loaded.compute()


def test_weights_are_drawn_as_documented(example):
    _, spec, loaded, _ = example
    _, params = documented_parameters(spec)
    weights = np.array([n.forward for n in loaded.inputs.values()])
    assert np.array_equal(weights, np.concatenate(params))


def test_loss_matches_numpy(example):
    _, spec, _, result = example
    pixels, params = documented_parameters(spec)
    assert result.outputs["loss"] == pytest.approx(numpy_loss(spec, pixels, params), rel=1e-12)


def test_every_gradient_matches_finite_differences_of_the_numpy_loss(example):
    _, spec, loaded, result = example
    pixels, params = documented_parameters(spec)
    kinks: list = []
    numpy_loss(spec, pixels, params, kinks)
    assert min(kinks) > 1e-4  # no ReLU input near 0: finite differences are valid here
    sizes = [len(p) for p in params]

    def f(theta):
        return numpy_loss(spec, pixels, np.split(theta, np.cumsum(sizes)[:-1]))

    expected = fd_gradient(f, np.concatenate(params))
    found = np.array(list(result.gradients.values()))
    np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-8)


def test_resnet_layers_and_groups_for_the_page():
    loaded = load((EXAMPLES / "resnet.network.json").read_bytes())
    assert loaded.format == "network" and isinstance(loaded.network, nn)
    assert [(layer.kind, layer.name) for layer in loaded.layers] == [
        ("conv", "conv1"), ("relu", "relu1"), ("conv", "conv2"), ("add", "skip"),
        ("relu", "relu2"), ("fc", "fc3"), ("relu", "relu3"), ("fc", "fc4"),
        ("softmax", "softmax"), ("cross_entropy", "loss")]
    nodes = loaded.graph.nodes()
    groups = {n.group for n in nodes}
    assert groups == {layer["name"] for layer in spec_of("resnet.network.json")["layers"]} | {None}
    assert [n.name for n in nodes if n.group is None] == ["zero"]  # conv padding, shared
    assert len(loaded.inputs) == 9 + 1 + 9 + 1 + 256 * 32 + 32 + 32 * 10 + 10
    assert list(loaded.outputs) == ["loss"]
    assert loaded.locate(loaded.names["fc3.W[5]"]) == "/layers/7"
    assert loaded.names["conv1[3,4]"].group == "conv1"


def test_the_node_count_estimate_is_checked_before_building():
    data = (EXAMPLES / "resnet.network.json").read_bytes()
    count = len(load(data).graph.nodes())
    load(data, limits=Limits(max_nodes=count + 50))  # the estimate is within a few nodes
    with pytest.raises(FormatError) as info:
        load(data, limits=Limits(max_nodes=int(count * 0.95)))
    [problem] = info.value.problems
    assert problem.limit == "max_nodes" and problem.location == "/layers/7"
    assert f"max_nodes={int(count * 0.95)}" in problem.message


def test_a_huge_network_is_refused_at_once():
    spec = {"format": "backprop-live/network", "version": 1, "layers": [
        {"name": "image", "type": "image", "size": [1000, 1000]},
        {"name": "fc", "type": "fc", "input": "image", "size": 100000}]}
    start = time.perf_counter()
    with pytest.raises(FormatError) as info:
        load(json.dumps(spec))
    assert time.perf_counter() - start < 1.0
    assert [p.location for p in info.value.problems] == ["/layers/0"]
    assert info.value.problems[0].limit == "max_nodes"


def tiny(layers, **extra) -> dict:
    return {"format": "backprop-live/network", "version": 1, "layers": layers, **extra}


IMAGE = {"name": "image", "type": "image", "size": [2, 3], "pixels": [[0.1, 0.2, 0.3],
                                                                       [0.4, 0.5, 0.6]]}


def test_seed_weights_pixels_and_outputs():
    layers = [{"name": "image", "type": "image", "size": [2, 2]},
              {"name": "c", "type": "conv", "input": "image",
               "weights": [[1, 0, 0], [0, 2, 0], [0, 0, 3]], "bias": 0.5},
              {"name": "f", "type": "fc", "input": "c", "size": 2},
              {"name": "p", "type": "softmax", "input": "f"}]
    a = load(json.dumps(tiny(layers, seed=1)))
    b = load(json.dumps(tiny(layers, seed=1)))
    c = load(json.dumps(tiny(layers, seed=2)))
    weights = [[n.forward for n in x.inputs.values()] for x in (a, b, c)]
    assert weights[0] == weights[1] != weights[2]
    assert weights[0][:10] == [1, 0, 0, 0, 2, 0, 0, 0, 3, 0.5]
    pixels = [n.forward for n in a.consts if n.group == "image"]
    assert len(pixels) == 4 and all(0 <= p < 1 for p in pixels)
    assert list(a.outputs) == ["p[0]", "p[1]"]  # the last layer, by default
    assert sum(a.compute().outputs.values()) == pytest.approx(1.0)
    spec, _ = tiny(layers, seed=1), None
    pixels_oracle, params = documented_parameters(spec)
    assert numpy_loss(spec, pixels_oracle, params) == pytest.approx(1.0)


def test_explicit_outputs_and_a_label_class():
    layers = [IMAGE, {"name": "label", "type": "label", "classes": 3, "class": 2},
              {"name": "f", "type": "fc", "input": "image", "size": 3, "weights": [0.1] * 18,
               "bias": [0, 1, 2]},
              {"name": "p", "type": "softmax", "input": "f"},
              {"name": "loss", "type": "cross_entropy", "inputs": ["p", "label"]}]
    spec = tiny(layers, outputs=["loss", "f"])
    result = load(json.dumps(spec)).compute()
    assert list(result.outputs) == ["loss", "f[0]", "f[1]", "f[2]"]
    pixels, params = documented_parameters(spec)
    assert sum(result.outputs.values()) == pytest.approx(numpy_loss(spec, pixels, params))


def problems(spec) -> list[tuple[str, str]]:
    with pytest.raises(FormatError) as info:
        load(json.dumps(spec))
    return [(p.location, p.message) for p in info.value.problems]


@pytest.mark.parametrize(("layers", "where", "fragment"), [
    ([IMAGE, {"name": "r", "type": "relu", "input": "imag"}], "/layers/1/input",
     "no layer is named 'imag'; did you mean 'image'?"),
    ([IMAGE, {"name": "r", "type": "relu", "input": "s"}, {"name": "s", "type": "relu",
                                                          "input": "image"}],
     "/layers/1/input", "'s' is defined at /layers/2, not before this layer"),
    ([IMAGE, {"name": "image", "type": "relu", "input": "image"}], "/layers/1/name",
     "the name 'image' is already used by /layers/0"),
    ([IMAGE, {"name": "f", "type": "fc", "input": "image", "size": 4},
      {"name": "c", "type": "conv", "input": "f"}], "/layers/2/input",
     "conv needs an image, but 'f' outputs a flat vector of 4"),
    ([IMAGE, {"name": "f", "type": "fc", "input": "image", "size": 4},
      {"name": "a", "type": "add", "inputs": ["image", "f"]}], "/layers/2/inputs",
     "'image' outputs 6 values but 'f' outputs 4"),
    ([IMAGE, {"name": "x", "type": "cross_entropy", "inputs": ["image", "image"]}],
     "/layers/1/inputs/1", "the second input of cross_entropy must be a label layer"),
    ([{"name": "label", "type": "label", "classes": 3, "class": 3}], "/layers/0/class",
     "class 3 is out of range: with 3 classes it is 0 to 2"),
    ([IMAGE, {"name": "c", "type": "conv", "input": "image", "weights": [1, 2]}],
     "/layers/1/weights", "expected 9 numbers (3×3), got 2"),
    ([IMAGE, {"name": "f", "type": "fc", "input": "image", "size": 2, "weights": [[1] * 6]}],
     "/layers/1/weights", "expected 2 rows of 6 numbers, got 1 rows of 6"),
    ([IMAGE, {"name": "f", "type": "fc", "input": "image", "size": 2, "bias": [1, 2, 3]}],
     "/layers/1/bias", "expected 2 numbers (1×2), got 3"),
    ([{"name": "image", "type": "image", "size": [2, 2], "pixels": [[1, 2], [3]]}],
     "/layers/0/pixels", "expected 2 rows of 2 numbers"),
    ([{"name": "image", "type": "image", "size": [1, 2], "pixels": [1, 1e300]}],
     "/layers/0/pixels/1", "the number 1e+300 is too large in magnitude, over the limit "
                           "max_literal=1e+15"),
    ([IMAGE, {"name": "c", "type": "convolution", "input": "image"}], "/layers/1/type",
     "the text \"convolution\" is not one of: image, label, conv, relu, add, fc, softmax"),
    ([IMAGE, {"name": "c", "type": "conv", "inputs": ["image"]}], "/layers/1",
     "missing the field 'input'"),
    ([IMAGE, {"name": "c", "type": "conv", "input": "image", "size": 3}], "/layers/1/size",
     "unknown field 'size'; the fields here are: bias, input, name, type, weights"),
    ([{"name": "bad name", "type": "image", "size": [2, 2]}], "/layers/0/name",
     "is not a valid name"),
    ([{"name": "image", "type": "image", "size": [0, 2]}], "/layers/0/size/0",
     "must be at least 1, got 0"),
])
def test_each_kind_of_error(layers, where, fragment):
    found = problems(tiny(layers))
    assert found[0][0] == where, found
    assert fragment in found[0][1], found


def test_non_finite_pixels_are_reported_at_their_pointer():
    text = json.dumps(tiny([IMAGE])).replace("0.5", "NaN")
    with pytest.raises(FormatError) as info:
        load(text)
    assert [(p.location, p.message) for p in info.value.problems] == [
        ("/layers/0/pixels/1/1", "nan is not a finite number: values must be finite")]


def test_unknown_outputs_and_top_level_fields():
    assert problems(tiny([IMAGE], outputs=["imgae"])) == [
        ("/outputs/0", "no layer is named 'imgae'; did you mean 'image'?")]
    found = problems({**tiny([IMAGE]), "seed": -1, "extra": 1})
    assert ("/extra", "unknown field 'extra'; the fields here are: description, format, "
                      "layers, name, outputs, seed, version") in found
    assert ("/seed", "must be at least 0, got -1") in found


matrix_like = st.lists(st.integers(-2, 2) | st.floats(allow_nan=True) | st.booleans() | st.none()
                       | st.text(max_size=2)
                       | st.lists(st.integers(-2, 2) | st.floats() | st.booleans() | st.text(
                           max_size=1) | st.lists(st.integers(), max_size=1), max_size=3),
                       max_size=4)


@settings(max_examples=300, deadline=None)
@given(matrix_like | st.integers() | st.text(max_size=3))
def test_fast_matrix_check_agrees_with_the_schema(value):
    schema = json.loads((EXAMPLES.parent / "engine" / "formats" / "network.schema.json")
                        .read_text())
    matrix = Draft202012Validator({"$ref": "#/$defs/matrix", "$defs": schema["$defs"]})
    bias = Draft202012Validator(schema["$defs"]["fc"]["properties"]["bias"])
    assert matrix_matches_schema(value) == matrix.is_valid(value)
    assert matrix_matches_schema(value, flat=True) == bias.is_valid(value)
