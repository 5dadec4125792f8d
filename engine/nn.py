"""``nn``: the reference design's layers, built from scalar nodes.

Every node a layer makes carries the layer's name as its ``group`` ("Conv1", "ReLU1", "FC3", ...),
so the page can draw a 36,000-node network as a dozen blocks. Names follow the reference README's
numbering: each Conv or FC starts a new stage, and the layers after it share its number.

Sums are balanced trees of ``+`` rather than chains, so a 256-input neuron is 8 levels deep, not
255: the same value up to rounding, and far fewer sequential steps for the compiled graph.

Each layer is also recorded in ``nn.layers`` with its node lists, so an engine can run a whole
layer as one array operation while the scalar nodes stay available for the page.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import GraphError
from .node import node


@dataclass
class Layer:
    kind: str  # conv, fc, matmul, sum, add, relu, tanh, sigmoid, softmax, cross_entropy,
    #            l1, l2, squared_error, margin
    name: str
    # the layer's data operand(s), each a list of nodes (two for add / cross_entropy)
    inputs: list[list[node]]
    outputs: list[node]
    weights: list[node] = field(default_factory=list)
    bias: list[node] = field(default_factory=list)
    shape: tuple[int, ...] = ()  # conv: (m, n); fc / matmul: (input_size, output_size)
    # internal nodes a fused kernel must fill: nodes, node lists, or (cross_entropy's
    # "softmax") the Softmax Layer it reads, or None
    parts: dict[str, Any] = field(default_factory=dict)


class nn:
    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self._stage = 0
        self._names: set[str] = set()
        # probability node -> the Softmax layer that made it
        self._softmax_of: dict[node, Layer] = {}

    # -- leaves --------------------------------------------------------------------------------
    def new_input_nodes_list(self, n: int, name: str | None = None) -> list[node]:
        """``n`` trainable 'input' nodes, named ``name[i]`` if a name is given."""
        return [node("input", None, name=_item(name, i)) for i in range(_count(n))]

    def new_const_nodes_list(self, n: int, name: str | None = None) -> list[node]:
        """``n`` 'const' nodes (data fed each run)."""
        return [node("const", None, name=_item(name, i)) for i in range(_count(n))]

    # -- layers --------------------------------------------------------------------------------
    def scalar_sum(self, n: int, x: Iterable[node], name: str | None = None) -> node:
        """y = Σ x_i, as a balanced tree of '+' nodes."""
        group = self._name("Sum", name)
        x = _take(x, n, "scalar_sum", "x")
        y = _tree_sum(x, group)
        self.layers.append(Layer("sum", group, [x], [y]))
        return y

    def vector_add(self, n: int, a: Iterable[node], b: Iterable[node],
                   name: str | None = None) -> list[node]:
        """c_i = a_i + b_i (a skip connection, in a ResNet)."""
        group = self._name(f"Add{max(self._stage, 1)}", name, numbered=False)
        a, b = _take(a, n, "vector_add", "a"), _take(b, n, "vector_add", "b")
        c = [node("+", a[i], b[i], group=group, name=f"{group}[{i}]") for i in range(n)]
        self.layers.append(Layer("add", group, [a, b], c))
        return c

    def matrix_multiply(self, m: int, n: int, W: Iterable[node], x: Iterable[node],
                        name: str | None = None) -> list[node]:
        """y = W x for W of m×n flattened row-major (``W[i*n + j]``); returns m nodes."""
        group = self._name("MatMul", name)
        W, x = _take(W, m * n, "matrix_multiply", "W"), _take(x, n, "matrix_multiply", "x")
        y = self._matmul(m, n, W, x, group)
        self.layers.append(Layer("matmul", group, [x], y, W, [], (n, m)))
        return y

    def FC(self, input_size: int, output_size: int, x: Iterable[node],
           weights: Iterable[node] | None = None, bias: Iterable[node] | None = None,
           name: str | None = None) -> list[list[node]]:
        """Fully connected: y = W x + b with W of output_size × input_size. Returns [y, W, b]."""
        self._stage += 1
        group = self._name(f"FC{self._stage}", name, numbered=False)
        x = _take(x, input_size, "FC", "x")
        W = self._weights(weights, input_size * output_size, group, "W")
        b = self._weights(bias, output_size, group, "b")
        products = self._matmul(output_size, input_size, W, x, group)
        y = [node("+", products[i], b[i], group=group, name=f"{group}[{i}]")
             for i in range(output_size)]
        self.layers.append(Layer("fc", group, [x], y, W, b, (input_size, output_size)))
        return [y, W, b]

    def ReLU(self, input_size: int, x: Iterable[node], name: str | None = None) -> list[node]:
        group = self._name(f"ReLU{max(self._stage, 1)}", name, numbered=False)
        x = _take(x, input_size, "ReLU", "x")
        y = [node("relu", x[i], group=group, name=f"{group}[{i}]") for i in range(input_size)]
        self.layers.append(Layer("relu", group, [x], y))
        return y

    def Tanh(self, input_size: int, x: Iterable[node], name: str | None = None) -> list[node]:
        return self._activation("tanh", "Tanh", input_size, x, name)

    def Sigmoid(self, input_size: int, x: Iterable[node],
                name: str | None = None) -> list[node]:
        return self._activation("sigmoid", "Sigmoid", input_size, x, name)

    def Linear(self, input_size: int, x: Iterable[node],
               name: str | None = None) -> list[node]:
        """The identity activation: returns ``x`` itself and records no layer (a layer whose
        outputs were its inputs would make nothing the page or a fused kernel could show)."""
        return _take(x, input_size, "Linear", "x")

    def Activation(self, kind: str, input_size: int, x: Iterable[node],
                   name: str | None = None) -> list[node]:
        """One of ``ACTIVATIONS`` ("tanh", "relu", "sigmoid", "linear") by name."""
        if kind not in ACTIVATIONS:
            raise GraphError(f"activation must be one of {sorted(ACTIVATIONS)}, not {kind!r}")
        layer = getattr(self, ACTIVATIONS[kind])
        result: list[node] = layer(input_size, x, name=name)
        return result

    def L1(self, n: int, weights: Iterable[node], rate: node,
           name: str | None = None) -> node:
        """Penalty rate · Σ |w_i| (``rate`` a const node, so it can change without a rebuild)."""
        return self._penalty("l1", "L1", n, weights, rate, name)

    def L2(self, n: int, weights: Iterable[node], rate: node,
           name: str | None = None) -> node:
        """Penalty rate · Σ w_i² (micrograd's demo's form; Playground's ½ is in the rate)."""
        return self._penalty("l2", "L2", n, weights, rate, name)

    def Squared_Error_Loss(self, n: int, y_pred: Iterable[node], y_label: Iterable[node],
                           half: node, name: str | None = None) -> node:
        """L = half · Σ_i (y_pred_i - y_label_i)², ``half`` a const node fed 0.5 (Playground's
        loss; a const rather than a number because every leaf a graph runs must be listed)."""
        group = self._name("Loss", name, numbered=False)
        y_pred = _take(y_pred, n, "Squared_Error_Loss", "y_pred")
        labels = _take(y_label, n, "Squared_Error_Loss", "y_label")
        half = _take([half], 1, "Squared_Error_Loss", "half")[0]
        diffs = [node("-", y_pred[i], labels[i], group=group) for i in range(n)]
        squares = [node("*", d, d, group=group) for d in diffs]
        loss = node("*", half, _tree_sum(squares, group), group=group, name=group)
        self.layers.append(Layer("squared_error", group, [y_pred, labels, [half]], [loss]))
        return loss

    def Margin_Loss(self, n: int, scores: Iterable[node], y_label: Iterable[node], one: node,
                    name: str | None = None) -> node:
        """L = Σ_i relu(one - y_i · score_i), labels ±1 and ``one`` a const node fed 1: the
        max-margin (hinge) loss of micrograd's demo."""
        group = self._name("Loss", name, numbered=False)
        scores = _take(scores, n, "Margin_Loss", "scores")
        labels = _take(y_label, n, "Margin_Loss", "y_label")
        one = _take([one], 1, "Margin_Loss", "one")[0]
        hinges = [node("relu", node("-", one, node("*", labels[i], scores[i], group=group),
                                    group=group), group=group) for i in range(n)]
        loss = _tree_sum(hinges, group)
        if loss.name is None:
            loss.name = group
        self.layers.append(Layer("margin", group, [scores, labels, [one]], [loss]))
        return loss

    def Conv(self, m: int, n: int, x: Iterable[node], weights: Iterable[node] | None = None,
             bias: Iterable[node] | None = None, padding_zero: Iterable[node] | None = None,
             name: str | None = None) -> list[list[node]]:
        """3×3 cross-correlation of an m×n image (row-major), one channel, same padding.

        Out-of-image taps multiply the shared const node ``zero``, which must hold 0 (it is fed
        0 here if nn creates it). Returns [y, W, b, [zero]].
        """
        self._stage += 1
        group = self._name(f"Conv{self._stage}", name, numbered=False)
        x = _take(x, m * n, "Conv", "x")
        W = self._weights(weights, 9, group, "W")
        b = self._weights(bias, 1, group, "b")
        if padding_zero is None:
            padding_zero = [node("const", 0.0, name="zero")]
        zero = _take(padding_zero, 1, "Conv", "padding_zero")[0]
        y = []
        for i in range(m):
            for j in range(n):
                taps = []
                for k in range(9):
                    r, c = i + k // 3 - 1, j + k % 3 - 1
                    pixel = x[r * n + c] if 0 <= r < m and 0 <= c < n else zero
                    taps.append(node("*", W[k], pixel, group=group))
                y.append(node("+", _tree_sum(taps, group), b[0], group=group,
                              name=f"{group}[{i},{j}]"))
        self.layers.append(Layer("conv", group, [x], y, W, b, (m, n), {"zero": zero}))
        return [y, W, b, [zero]]

    def Softmax(self, n: int, x: Iterable[node], name: str | None = None) -> list[node]:
        """p_i = exp(x_i - max x) / Σ_j exp(x_j - max x): never overflows.

        The shift by the max changes no value and, in exact arithmetic, no gradient: the
        gradient reaching the max node is 0 up to rounding, which the page shows.
        """
        group = self._name(f"Softmax{max(self._stage, 1)}", name, numbered=False)
        x = _take(x, n, "Softmax", "x")
        peak = _tree(x, "max", group)
        shifted = [node("-", x[i], peak, group=group) for i in range(n)]
        exps = [node("exp", s, group=group) for s in shifted]
        total = _tree_sum(exps, group)
        p = [node("/", exps[i], total, group=group, name=f"{group}[{i}]") for i in range(n)]
        layer = Layer("softmax", group, [x], p,
                      parts={"peak": peak, "shifted": shifted, "exps": exps, "total": total})
        self._softmax_of.update((pi, layer) for pi in p)
        self.layers.append(layer)
        return p

    def Cross_Entropy_Loss(self, n: int, y_pred: Iterable[node],
                           y_label_one_hot: Iterable[node], name: str | None = None) -> node:
        """L = -Σ_i label_i · log p_i.

        When ``y_pred`` came from ``Softmax``, log p_i is taken as (x_i - max x) - log Σ exp(...)
        from the softmax's own nodes, so it is finite and exact even where p_i underflows to 0
        (the probabilities then feed no gradient: the loss does not pass through them).
        Otherwise it is ``log(p_i)``, which needs p_i > 0.
        """
        group = self._name("Loss", name, numbered=False)
        y_pred = _take(y_pred, n, "Cross_Entropy_Loss", "y_pred")
        labels = _take(y_label_one_hot, n, "Cross_Entropy_Loss", "y_label_one_hot")
        softmax = self._softmax_of.get(y_pred[0])
        # Stable only when y_pred is exactly one softmax's output, in its order.
        if softmax is not None and softmax.outputs == y_pred:
            total = softmax.parts["total"]
            log_total = node("log", total, group=group, name=f"{group}.logΣexp")
            log_p = [node("-", shifted, log_total, group=group)
                     for shifted in softmax.parts["shifted"]]
        else:
            softmax = None
            log_p = [node("log", p, group=group) for p in y_pred]
        terms = [node("*", labels[i], log_p[i], group=group) for i in range(n)]
        loss = node("neg", _tree_sum(terms, group), group=group, name=group)
        self.layers.append(Layer("cross_entropy", group, [y_pred, labels], [loss],
                                 parts={"softmax": softmax, "log_p": log_p}))
        return loss

    # -- helpers -------------------------------------------------------------------------------
    def _activation(self, op: str, base: str, input_size: int, x: Iterable[node],
                    name: str | None) -> list[node]:
        group = self._name(f"{base}{max(self._stage, 1)}", name, numbered=False)
        x = _take(x, input_size, base, "x")
        y = [node(op, x[i], group=group, name=f"{group}[{i}]") for i in range(input_size)]
        self.layers.append(Layer(op, group, [x], y))
        return y

    def _penalty(self, kind: str, base: str, n: int, weights: Iterable[node], rate: node,
                 name: str | None) -> node:
        group = self._name(base, name, numbered=False)
        weights = _take(weights, n, base, "weights")
        rate = _take([rate], 1, base, "rate")[0]
        if kind == "l1":
            terms = [node("abs", w, group=group) for w in weights]
        else:
            terms = [node("*", w, w, group=group) for w in weights]
        penalty = node("*", rate, _tree_sum(terms, group), group=group, name=group)
        self.layers.append(Layer(kind, group, [weights, [rate]], [penalty]))
        return penalty

    def _matmul(self, m: int, n: int, W: Sequence[node], x: Sequence[node],
                group: str) -> list[node]:
        return [_tree_sum([node("*", W[i * n + j], x[j], group=group) for j in range(n)], group)
                for i in range(m)]

    def _weights(self, given: Iterable[node] | None, count: int, group: str,
                 label: str) -> list[node]:
        if given is None:
            return [node("input", None, name=f"{group}.{label}[{i}]", group=group)
                    for i in range(count)]
        given = _take(given, count, group, label)
        for i, w in enumerate(given):
            if w.group is None:
                w.group = group
            if w.name is None:
                w.name = f"{group}.{label}[{i}]"
        return given

    def _name(self, base: str, given: str | None, numbered: bool = True) -> str:
        if given is not None:
            name = given
        else:
            name = base
            if numbered:
                k = 1
                while f"{base}{k}" in self._names:
                    k += 1
                name = f"{base}{k}"
        unique, k = name, 2
        while unique in self._names:
            unique, k = f"{name}.{k}", k + 1
        self._names.add(unique)
        return unique


ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "sigmoid": "Sigmoid", "linear": "Linear"}


def block_of(n: node) -> str:
    """The block a node belongs to in a grouped view: its layer (group), else, for leaves such as
    ``image[17]``, its name without the index, else its operator."""
    if n.group:
        return n.group
    if n.name:
        return n.name.split("[")[0]
    return n.operator


def _count(n: object) -> int:
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
        raise GraphError(f"expected a count >= 0, got {n!r}")
    return int(n)


def _item(prefix: str | None, i: int) -> str | None:
    return None if prefix is None else f"{prefix}[{i}]"


def _take(nodes: Iterable[node], n: int, layer: str, argument: str) -> list[node]:
    nodes = list(nodes)
    if len(nodes) != _count(n):
        raise GraphError(f"{layer}: {argument} has {len(nodes)} node(s), expected {n}")
    for k, v in enumerate(nodes):
        if not isinstance(v, node):
            raise GraphError(f"{layer}: {argument}[{k}] is {v!r}, not a node")
    return nodes


def _tree(items: Sequence[node], op: str, group: str) -> node:
    """Combine items pairwise, level by level: depth ceil(log2 n). Ties of max go left."""
    if not items:
        raise GraphError(f"cannot reduce an empty list with {op!r}")
    level = list(items)
    while len(level) > 1:
        paired = [node(op, level[k], level[k + 1], group=group)
                  for k in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _tree_sum(items: Sequence[node], group: str) -> node:
    return _tree(items, "+", group)
