"""What a fused program runs: its layers and, for each operand, where its columns live.

A ``Layout`` is made in one of two ways that give the same thing:

- ``from_graph(g, net)``: from the scalar graph ``nn`` built, by locating every operand's nodes
  (a network spec, which arrives as nodes);
- ``Sketch``: an ``nn``-shaped builder that records the same layers as column ranges without
  making a single node, so a built-in model trains without first building its 36,000-node
  scalar graph (tests check both give equal layouts and bit-identical training).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import GraphError, describe_node
from ..ops import LEAVES

if TYPE_CHECKING:
    from ..graph import graph
    from ..nn import Layer, nn
    from ..node import node

# Where an operand's columns live: "param", "const", or the index of the layer making them.
Source = str | int


@dataclass(frozen=True)
class Span:
    """Columns ``columns`` of source ``source`` fill ``width`` consecutive operand columns."""

    source: Source  # "param", "const", or a layer index
    columns: np.ndarray
    contiguous: slice | None  # the same columns as a slice, when they are consecutive
    unique: bool


@dataclass(frozen=True)
class FusedLayer:
    """What a kernel needs of a layer: no nodes."""

    kind: str  # conv, fc, matmul, sum, add, relu, softmax, cross_entropy
    name: str
    shape: tuple[int, ...]  # conv: (m, n); fc / matmul: (input_size, output_size)
    softmax: bool = False  # cross_entropy: its first operand is a softmax's logits
    operand_groups: tuple[str, ...] = ()  # the block each data operand comes from ("image")
    nodes: Layer | None = field(default=None, compare=False, repr=False)  # from_graph's layer


# One layer's plan: operand spans, weight positions, bias positions, extra spans (a conv's
# padding node), and whether each operand's gradient is wanted.
Plan = tuple[list[list[Span]], np.ndarray, np.ndarray, list[list[Span]], list[bool]]


@dataclass
class Layout:
    layers: list[tuple[int, FusedLayer]]  # (index among the net's layers, layer), those needed
    plans: list[Plan]
    outputs: list[list[Span]]
    n_params: int


# -- from the scalar graph ----------------------------------------------------------------------
def from_graph(g: graph, net: nn, const_grads: bool = True) -> Layout:
    from ..nn import block_of

    param_at = {n: i for i, n in enumerate(g.input_nodes)}
    const_at = {n: i for i, n in enumerate(g.const_nodes)}
    made_by: dict[node, tuple[int, int]] = {}
    for index, layer in enumerate(net.layers):
        for column, y in enumerate(layer.outputs):
            made_by[y] = (index, column)
    needed = _needed_layers(g.output_nodes, net.layers, made_by, param_at, const_at)

    def locate(n: node) -> tuple[Source, int]:
        if n in made_by and made_by[n][0] in needed:
            return made_by[n]
        if n in const_at:
            return ("const", const_at[n])
        if n in param_at:
            return ("param", param_at[n])
        raise GraphError(f"{describe_node(n)} feeds a fused layer but is neither a graph "
                         "input, a graph const, nor a layer's output")

    layers, plans = [], []
    for index in sorted(needed):
        layer = net.layers[index]
        layers.append((index, FusedLayer(
            layer.kind, layer.name, layer.shape,
            layer.kind == "cross_entropy" and layer.parts["softmax"] is not None,
            tuple(block_of(nodes[0]) for nodes in layer.inputs), layer)))
        operands = [plan([locate(n) for n in nodes]) for nodes in _operands(layer)]
        weights = np.array([param_at[n] for n in layer.weights], np.int64)
        bias = np.array([param_at[n] for n in layer.bias], np.int64)
        extra = [plan([locate(layer.parts["zero"])])] if layer.kind == "conv" else []
        plans.append((operands, weights, bias, extra, _need(operands, const_grads)))
    outputs = [plan([locate(n)]) for n in g.output_nodes]
    return Layout(layers, plans, outputs, len(g.input_nodes))


def _need(operands: list[list[Span]], const_grads: bool) -> list[bool]:
    return [const_grads or any(span.source != "const" for span in p) for p in operands]


def _operands(layer: Layer) -> list[list[node]]:
    if layer.kind == "cross_entropy" and layer.parts["softmax"] is not None:
        return [layer.parts["softmax"].inputs[0], layer.inputs[1]]
    return layer.inputs


def _needed_layers(outputs: Iterable[node], layers: Sequence[Layer],
                   made_by: dict[node, tuple[int, int]], param_at: dict[node, int],
                   const_at: dict[node, int]) -> set[int]:
    """Layers the outputs depend on; every non-leaf node reached must be a layer's output."""
    needed: set[int] = set()
    stack = list(outputs)
    seen: set[node] = set()
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n.operator in LEAVES:
            if n not in param_at and n not in const_at:
                raise GraphError(f"{describe_node(n)} is a leaf the graph does not list; the "
                                 "fused path feeds only graph inputs and consts")
            continue
        if n not in made_by:
            raise GraphError(f"{describe_node(n)} was not made by an nn layer, so this graph "
                             "cannot run fused; use the scalar graph")
        index = made_by[n][0]
        if index in needed:
            continue
        needed.add(index)
        layer = layers[index]
        for nodes in _operands(layer):
            stack.extend(nodes)
        for w in layer.weights + layer.bias:
            if w not in param_at:
                raise GraphError(f"{describe_node(w)} is a weight of {layer.name} but not a "
                                 "graph input; the fused path trains only graph inputs")
        if layer.kind == "conv":
            stack.append(layer.parts["zero"])
    return needed


def plan(locations: Sequence[tuple[Source, int]]) -> list[Span]:
    """Group a node list's locations into spans of one source."""
    spans = []
    start = 0
    for k in range(1, len(locations) + 1):
        if k == len(locations) or locations[k][0] != locations[start][0]:
            columns = np.array([c for _, c in locations[start:k]], np.int64)
            spans.append(_span(locations[start][0], columns))
            start = k
    return spans


def _span(source: Source, columns: np.ndarray) -> Span:
    lo = int(columns[0])
    consecutive = bool((columns == np.arange(lo, lo + len(columns))).all())
    return Span(source, columns, slice(lo, lo + len(columns)) if consecutive else None,
                len(np.unique(columns)) == len(columns))


# -- without nodes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Columns:
    """A node list the sketch stands for: ``width`` columns of ``source`` from ``start``.

    Params and consts are numbered in the order they were made; ``Sketch.layout`` renumbers
    them in the order the graph lists them.
    """

    source: Source
    start: int
    width: int
    group: str  # the block its nodes would belong to (nn.block_of)

    def __len__(self) -> int:
        return self.width


@dataclass
class _Record:
    layer: FusedLayer
    operands: list[Columns]  # what the kernel reads (a cross-entropy: the softmax's logits)
    weights: Columns | None = None
    bias: Columns | None = None
    extra: list[Columns] = field(default_factory=list)


class Sketch:
    """``nn``'s layer methods, recording layers as column ranges instead of making nodes.

    Only what the built-in models use: consts, Conv, FC, ReLU, vector_add, Softmax and
    Cross_Entropy_Loss, named and numbered exactly as ``nn`` names them.
    """

    def __init__(self) -> None:
        self.records: list[_Record] = []
        self._stage = 0
        self._names: set[str] = set()
        self._made = {"param": 0, "const": 0}
        self._softmax_input: dict[int, Columns] = {}  # softmax layer index -> its logits

    def new_const_nodes_list(self, n: int, name: str | None = None) -> Columns:
        return self._leaves("const", n, name or "const")

    def Conv(self, m: int, n: int, x: Columns, weights: None, bias: None,
             padding_zero: Columns) -> tuple[Columns, Columns, Columns, Columns]:
        self._stage += 1
        name = self._name(f"Conv{self._stage}")
        w, b = self._leaves("param", 9, name), self._leaves("param", 1, name)
        y = self._layer(FusedLayer("conv", name, (m, n), operand_groups=(x.group,)), [x],
                        m * n, w, b, [padding_zero])
        return y, w, b, padding_zero

    def FC(self, input_size: int, output_size: int,
           x: Columns) -> tuple[Columns, Columns, Columns]:
        self._stage += 1
        name = self._name(f"FC{self._stage}")
        w = self._leaves("param", input_size * output_size, name)
        b = self._leaves("param", output_size, name)
        layer = FusedLayer("fc", name, (input_size, output_size), operand_groups=(x.group,))
        return self._layer(layer, [x], output_size, w, b), w, b

    def ReLU(self, input_size: int, x: Columns) -> Columns:
        name = self._name(f"ReLU{max(self._stage, 1)}")
        return self._layer(FusedLayer("relu", name, (), operand_groups=(x.group,)), [x],
                           input_size)

    def vector_add(self, n: int, a: Columns, b: Columns) -> Columns:
        name = self._name(f"Add{max(self._stage, 1)}")
        return self._layer(FusedLayer("add", name, (), operand_groups=(a.group, b.group)),
                           [a, b], n)

    def Softmax(self, n: int, x: Columns) -> Columns:
        name = self._name(f"Softmax{max(self._stage, 1)}")
        p = self._layer(FusedLayer("softmax", name, (), operand_groups=(x.group,)), [x], n)
        self._softmax_input[int(p.source)] = x
        return p

    def Cross_Entropy_Loss(self, n: int, y_pred: Columns, labels: Columns) -> Columns:
        name = self._name("Loss")
        logits = (self._softmax_input.get(y_pred.source) if isinstance(y_pred.source, int)
                  else None)
        if logits is None or y_pred.start != 0 or y_pred.width != n:
            raise GraphError("the sketch's cross-entropy reads a whole softmax's output")
        layer = FusedLayer("cross_entropy", name, (), softmax=True,
                           operand_groups=(y_pred.group, labels.group))
        return self._layer(layer, [logits, labels], 1)

    # -- the layout -----------------------------------------------------------------------
    def layout(self, params: Sequence[Columns], consts: Sequence[Columns],
               outputs: Sequence[Columns], const_grads: bool = True) -> Layout:
        """The fused layout for a graph of ``params`` and ``consts`` (node lists in the graph's
        order) computing ``outputs``: what ``from_graph`` gives for the nodes nn would make."""
        moved = {"param": _renumber(params, self._made["param"], "param"),
                 "const": _renumber(consts, self._made["const"], "const")}

        def span(c: Columns) -> Span:
            start = moved[c.source][c.start] if isinstance(c.source, str) else c.start
            return _span(c.source, np.arange(start, start + c.width, dtype=np.int64))

        needed: set[int] = set()
        stack = [int(c.source) for c in outputs if not isinstance(c.source, str)]
        while stack:
            index = stack.pop()
            if index not in needed:
                needed.add(index)
                record = self.records[index]
                stack.extend(int(c.source) for c in record.operands + record.extra
                             if not isinstance(c.source, str))
        layers, plans = [], []
        for index in sorted(needed):
            record = self.records[index]
            operands = [[span(c)] for c in record.operands]
            weights, bias = (span(c).columns if c is not None else np.zeros(0, np.int64)
                             for c in (record.weights, record.bias))
            plans.append((operands, weights, bias, [[span(c)] for c in record.extra],
                          _need(operands, const_grads)))
            layers.append((index, record.layer))
        return Layout(layers, plans, [[span(c)] for c in outputs], self._made["param"])

    def weight_layers(self, params: Sequence[Columns]) -> list[tuple[FusedLayer, np.ndarray,
                                                                     np.ndarray]]:
        """Each layer with weights, with its weight and bias positions in ``params``' order."""
        moved = _renumber(params, self._made["param"], "param")
        out = []
        for record in self.records:
            if record.weights is not None and record.bias is not None:
                w, b = record.weights, record.bias
                out.append((record.layer,
                            np.arange(moved[w.start], moved[w.start] + w.width),
                            np.arange(moved[b.start], moved[b.start] + b.width)))
        return out

    # -- helpers --------------------------------------------------------------------------
    def _leaves(self, source: str, n: int, group: str) -> Columns:
        start = self._made[source]
        self._made[source] += n
        return Columns(source, start, n, group)

    def _layer(self, layer: FusedLayer, operands: list[Columns], width: int,
               weights: Columns | None = None, bias: Columns | None = None,
               extra: Sequence[Columns] = ()) -> Columns:
        self.records.append(_Record(layer, operands, weights, bias, list(extra)))
        return Columns(len(self.records) - 1, 0, width, layer.name)

    def _name(self, name: str) -> str:
        """nn._name for an unnumbered base: a repeated name gets ".2", ".3", ..."""
        unique, k = name, 2
        while unique in self._names:
            unique, k = f"{name}.{k}", k + 1
        self._names.add(unique)
        return unique


def _renumber(lists: Sequence[Columns], made: int, source: str) -> dict[int, int]:
    """Old start -> new start, for node lists laid end to end in the given order."""
    moved, at = {}, 0
    for c in lists:
        if c.source != source:
            raise GraphError(f"a graph's {source}s must be {source} lists, not {c}")
        moved[c.start] = at
        at += c.width
    if at != made:
        raise GraphError(f"the graph lists {at} {source}s of the {made} the sketch made")
    return moved
