"""The network spec format: named layers built with ``engine.nn``.

    {"format": "backprop-live/network", "version": 1, "seed": 0,
     "layers": [{"name": "image", "type": "image", "size": [16, 16]},
                {"name": "conv1", "type": "conv", "input": "image"}, ...,
                {"name": "skip", "type": "add", "inputs": ["image", "conv2"]}, ...]}

Layers name earlier layers as inputs, so skip connections are just names. The nodes each layer
makes carry the layer's name as their group (nn does this), so the page can draw the network as
blocks. Weights the spec does not give are drawn, in layer order, from
``numpy.random.default_rng(seed)``: He initialisation, normal with standard deviation
sqrt(2 / fan_in) (9 for a 3×3 conv), biases 0; pixels not given are uniform in [0, 1).

Sizes are checked and the node count estimated *before* any node is made, so a spec asking for
a billion-node layer is refused at once rather than after filling the memory.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..graph import graph
from ..nn import nn
from ..node import node
from .jsonio import finite_number, schema_problems, validator
from .limits import Limits, exceeded
from .loaded import Loaded, leaf_values
from .problems import Collector, FormatError

FORMAT = "backprop-live/network"
SCHEMA = "network.schema.json"


@dataclass
class _Shape:
    kind: str  # the layer's type
    size: int  # how many nodes it outputs
    image: tuple[int, int] | None = None  # (rows, columns) when its output is still an image


def load_network(data: Any, limits: Limits) -> Loaded:
    problems = schema_problems(validator(SCHEMA), _without_plain_matrices(data))
    if problems:
        raise FormatError(problems[: limits.max_problems])
    layers: list[dict] = data["layers"]
    shapes = _check(layers, data.get("outputs"), limits)
    return _build(data, layers, shapes)


def matrix_matches_schema(value: object, flat: bool = False) -> bool:
    """Exactly the schema's ``$defs/matrix`` (numbers, or lists of numbers, in a list), or with
    ``flat`` its list of numbers (an fc bias). Keep in step with network.schema.json."""
    return isinstance(value, list) and all(
        type(v) in (int, float) or (not flat and type(v) is list
                                    and all(type(w) in (int, float) for w in v))
        for v in value)


def _without_plain_matrices(data: Any) -> Any:
    """The document with well-formed pixel and weight lists emptied, for jsonschema only.

    jsonschema takes ~30 µs a number, so a 2 MB weight list would take seconds; a list that
    ``matrix_matches_schema`` accepts is valid whatever its length, so jsonschema sees ``[]``.
    """
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
        return data
    layers = [{k: [] if k in ("pixels", "weights", "bias") and matrix_matches_schema(v, k == "bias")
               else v for k, v in layer.items()} if isinstance(layer, dict) else layer
              for layer in data["layers"]]
    return {**data, "layers": layers}


# -- checks -----------------------------------------------------------------------------------
def _check(layers: list[dict], outputs: Iterable[str] | None,
           limits: Limits) -> dict[str, _Shape]:
    problems = Collector(limits.max_problems)
    shapes: dict[str, _Shape] = {}
    where_defined: dict[str, int] = {}  # layer name -> index of the first layer so named
    for i, layer in enumerate(layers):
        where_defined.setdefault(layer["name"], i)
    estimate = 0
    for i, layer in enumerate(layers):
        here, name = f"/layers/{i}", layer["name"]
        if where_defined[name] != i:
            problems.add(f"{here}/name", f"the name {name!r} is already used by "
                                         f"/layers/{where_defined[name]}; names must be unique")
            continue
        sources = _sources(layer, here, i, where_defined, shapes, problems)
        if sources is None:
            continue
        shape = _shape(layer, here, sources, limits, problems)
        if shape is None:
            continue
        shapes[name] = shape
        estimate += _node_estimate(layer, shape, sources)
        if estimate > limits.max_nodes:
            problems.fail(*_too_many(here, estimate, limits))
    for k, out in enumerate(outputs or ()):
        if out not in where_defined:
            problems.add(f"/outputs/{k}", _unknown(out, where_defined))
    problems.check()
    return shapes


def _too_many(here: str, estimate: int, limits: Limits) -> tuple[str, str, str | None]:
    p = exceeded(here, "max_nodes", limits.max_nodes,
                 f"up to this layer the network needs about {estimate:,} nodes")
    return p.location, p.message, p.limit


def _sources(layer, here, i, where_defined, shapes, problems) -> list[_Shape] | None:
    """The shapes of the layers this one reads, or None after reporting a bad reference."""
    if "input" in layer:
        refs = [(f"{here}/input", layer["input"])]
    else:
        refs = [(f"{here}/inputs/{k}", ref) for k, ref in enumerate(layer.get("inputs", ()))]
    found = []
    for where, ref in refs:
        if ref not in where_defined:
            problems.add(where, _unknown(ref, where_defined))
        elif where_defined[ref] >= i:
            problems.add(where, f"{ref!r} is defined at /layers/{where_defined[ref]}, not "
                                "before this layer; list each layer after its inputs")
        elif ref in shapes:
            found.append(shapes[ref])
        # else: that layer had a problem of its own, already reported
    return found if len(found) == len(refs) else None


def _shape(layer, here, sources, limits, problems) -> _Shape | None:
    kind = layer["type"]
    if kind == "image":
        rows, cols = layer["size"]
        if "pixels" in layer and not _matrix(layer["pixels"], rows, cols, f"{here}/pixels",
                                             limits, problems):
            return None
        return _Shape(kind, rows * cols, (rows, cols))
    if kind == "label":
        if layer.get("class", 0) >= layer["classes"]:
            problems.add(f"{here}/class", f"class {layer['class']} is out of range: with "
                                          f"{layer['classes']} classes it is 0 to "
                                          f"{layer['classes'] - 1}")
            return None
        return _Shape(kind, layer["classes"])
    first = sources[0]
    if kind == "conv":
        if first.image is None:
            problems.add(f"{here}/input", f"conv needs an image, but {layer['input']!r} "
                                          f"outputs a flat vector of {first.size}")
            return None
        ok = _matrix(layer.get("weights"), 3, 3, f"{here}/weights", limits, problems) \
            if "weights" in layer else True
        ok &= finite_number(layer.get("bias", 0.0), f"{here}/bias", limits, problems)
        return _Shape(kind, first.size, first.image) if ok else None
    if kind == "relu":
        return _Shape(kind, first.size, first.image)
    if kind == "softmax":
        return _Shape(kind, first.size)
    if kind == "fc":
        size = layer["size"]
        ok = True
        if "weights" in layer:
            ok = _matrix(layer["weights"], size, first.size, f"{here}/weights", limits, problems)
        if "bias" in layer:
            ok &= _matrix(layer["bias"], 1, size, f"{here}/bias", limits, problems)
        return _Shape(kind, size) if ok else None
    second = sources[1]
    a, b = layer["inputs"]
    if first.size != second.size:
        problems.add(f"{here}/inputs", f"{a!r} outputs {first.size} values but {b!r} outputs "
                                       f"{second.size}; {kind} needs the same number")
        return None
    if kind == "cross_entropy":
        if second.kind != "label":
            problems.add(f"{here}/inputs/1", f"the second input of cross_entropy must be a "
                                             f"label layer; {b!r} is a {second.kind} layer")
            return None
        return _Shape(kind, 1)
    return _Shape(kind, first.size, first.image if first.image == second.image else None)


def _matrix(values, rows, cols, where, limits, problems) -> bool:
    """``rows × cols`` finite numbers, flat (row-major) or as ``rows`` lists of ``cols``."""
    if all(isinstance(v, list) for v in values) and values:
        if len(values) != rows or any(len(row) != cols for row in values):
            lengths = sorted({len(row) for row in values})
            problems.add(where, f"expected {rows} rows of {cols} numbers, got {len(values)} "
                                f"rows of {', '.join(map(str, lengths[:3]))}")
            return False
        flat = [(f"{where}/{r}/{c}", v) for r, row in enumerate(values) for c, v in enumerate(row)]
    elif any(isinstance(v, list) for v in values):
        problems.add(where, "give either a flat list of numbers or a list of rows, not a mix")
        return False
    else:
        if len(values) != rows * cols:
            problems.add(where, f"expected {rows * cols} numbers ({rows}×{cols}), "
                                f"got {len(values)}")
            return False
        flat = [(f"{where}/{k}", v) for k, v in enumerate(values)]
    return all([finite_number(v, at, limits, problems) for at, v in flat])


def _node_estimate(layer, shape: _Shape, sources) -> int:
    """Nodes nn will make for a layer (exact up to a few), computed from sizes alone."""
    n_in = sources[0].size if sources else 0
    return {
        "image": shape.size, "label": shape.size, "relu": shape.size, "add": shape.size,
        "conv": 18 * shape.size + 11,  # 9 products, 8 sums and the bias per pixel; W, b, zero
        "fc": 3 * n_in * shape.size + shape.size,  # W, products and sums per weight; bias
        "softmax": 5 * n_in,  # max tree, shift, exp, sum tree, division
        "cross_entropy": 3 * n_in + 2,
    }[layer["type"]]


def _unknown(ref: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(ref, list(names), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"no layer is named {ref!r}{hint}"


# -- building ---------------------------------------------------------------------------------
def _build(data: Any, layers: list[dict], shapes: dict[str, _Shape]) -> Loaded:
    net = nn()
    rng = np.random.default_rng(data.get("seed", 0))
    made: dict[str, list[node]] = {}
    weights: list[node] = []
    consts: list[node] = []
    zero: node | None = None
    for layer in layers:
        name, kind = layer["name"], layer["type"]
        shape = shapes[name]
        # the operand of the one-input layers (conv, fc, relu, softmax: the schema requires
        # their "input"); no other layer reads x
        x: list[node] = made[layer["input"]] if "input" in layer else []
        if kind in ("image", "label"):
            nodes = net.new_const_nodes_list(shape.size, name)
            for n in nodes:
                n.group = name
            if kind == "image":
                pixels = (_flat(layer["pixels"]) if "pixels" in layer
                          else rng.random(shape.size).tolist())
            else:
                pixels = [0.0] * shape.size
                pixels[layer.get("class", 0)] = 1.0
            for n, v in zip(nodes, pixels, strict=True):
                n.feed(float(v))
            consts += nodes
        elif kind == "conv":
            if zero is None:
                zero = node("const", 0.0, name="zero")
            w = _weights(layer.get("weights"), 9, 9, rng)
            b = [node("input", float(layer.get("bias", 0.0)))]
            assert shape.image is not None, "_shape() accepts a conv only on an image"
            rows, cols = shape.image
            nodes = net.Conv(rows, cols, x, w, b, [zero], name=name)[0]
            weights += w + b
        elif kind == "fc":
            w = _weights(layer.get("weights"), layer["size"] * len(x), len(x), rng)
            b = [node("input", float(v)) for v in layer.get("bias", [0.0] * layer["size"])]
            nodes = net.FC(len(x), layer["size"], x, w, b, name=name)[0]
            weights += w + b
        elif kind == "relu":
            nodes = net.ReLU(len(x), x, name=name)
        elif kind == "softmax":
            nodes = net.Softmax(len(x), x, name=name)
        else:
            a, b = (made[ref] for ref in layer["inputs"])
            nodes = (net.vector_add(len(a), a, b, name=name) if kind == "add"
                     else [net.Cross_Entropy_Loss(len(a), a, b, name=name)])
        made[name] = nodes
    if zero is not None:
        consts.append(zero)
    output_layers = data.get("outputs") or [layers[-1]["name"]]
    outputs = {n.name: n for layer in output_layers for n in made[layer]}
    for n in outputs.values():
        n.set_as_output()
    g = graph(weights, consts, list(outputs.values()))
    g.feed(leaf_values(weights), leaf_values(consts))
    pointer = {layer["name"]: f"/layers/{i}" for i, layer in enumerate(layers)}
    everything = g.nodes()
    locations = {n: pointer[n.group] for n in everything if n.group in pointer}
    names = {n.name: n for n in everything if n.name is not None}
    inputs = {n.name: n for n in weights}
    # The keys of inputs and outputs are never None: nn names every node a layer outputs, and
    # every weight it is given that has no name (nn._weights).
    return Loaded("network", g, inputs, outputs,  # type: ignore[arg-type]
                  names, consts, locations, network=net, layers=list(net.layers))


def _flat(values: Sequence[Any]) -> list[Any]:
    return [v for row in values for v in row] if values and isinstance(values[0], list) \
        else list(values)


def _weights(given: Sequence[Any] | None, count: int, fan_in: int,
             rng: np.random.Generator) -> list[node]:
    if given is None:
        values = rng.normal(0.0, math.sqrt(2.0 / fan_in), count).tolist()  # He initialisation
    else:
        values = _flat(given)
    return [node("input", float(v)) for v in values]
