"""A network that ``nn`` built, as whole-layer array operations, for batched training.

The scalar graph stays the truth (and what the page shows, one sample at a time); this runs the
same layers on a batch as a few matrix operations each: FC as a matrix product, Conv as an
im2col matrix-vector product, Softmax + cross-entropy as one log-sum-exp. Tests check that both
give the same values and gradients.

Arrays are laid out (batch, features). A layer's operand is a list of nodes; it is read from the
arrays that hold those nodes (a layer's outputs, the graph's consts, or the parameter vector)
with a precomputed gather plan, and its gradient is scattered back the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GraphError, describe_node
from ..ops import LEAVES

if TYPE_CHECKING:
    from ..graph import graph
    from ..nn import Layer, nn
    from ..node import node

# Where an operand's columns live: "param", "const", or the index of the layer making them.
Source = str | int

# -- layer kernels: forward(layer, operands, weights, bias, extra) -> (output, cache) ------------
#                   backward(layer, cache, d_output, need) -> (d_operands, d_weights, d_bias)
# ``need[i]`` says whether operand i's gradient is wanted (an image's usually is not); a kernel
# may return None for an operand that is not needed.


def _fc_forward(layer, ops, w, b, extra):
    n_in, n_out = layer.shape
    weight = w.reshape(n_out, n_in)
    return ops[0] @ weight.T + b, (ops[0], weight)


def _fc_backward(layer, cache, dy, need):
    x, weight = cache
    return [dy @ weight if need[0] else None], (dy.T @ x).ravel(), dy.sum(axis=0)


def _matmul_forward(layer, ops, w, b, extra):
    n_in, n_out = layer.shape
    weight = w.reshape(n_out, n_in)
    return ops[0] @ weight.T, (ops[0], weight)


def _matmul_backward(layer, cache, dy, need):
    x, weight = cache
    return [dy @ weight if need[0] else None], (dy.T @ x).ravel(), None


_TAPS = [(k // 3, k % 3) for k in range(9)]  # (row, column) offsets into the padded image


def _conv_forward(layer, ops, w, b, extra):
    m, n = layer.shape
    x = ops[0].reshape(-1, m, n)
    batch = x.shape[0]
    padded = np.empty((batch, m + 2, n + 2))
    padded[:] = extra[0].reshape(-1, 1, 1)  # the padding node's value (0 in a ResNet)
    padded[:, 1:-1, 1:-1] = x
    # im2col: one shifted copy of the images per tap, so that both the output and, in the
    # backward pass, the kernel's gradient are a single matrix-vector product.
    patches = np.empty((9, batch, m, n))
    for k, (r, c) in enumerate(_TAPS):
        patches[k] = padded[:, r:r + m, c:c + n]
    patches = patches.reshape(9, -1)
    return (w @ patches + b[0]).reshape(batch, m * n), (patches, w)


def _conv_backward(layer, cache, dy, need):
    m, n = layer.shape
    patches, w = cache
    dw = patches @ dy.ravel()
    dx = None
    if need[0]:
        # A cross-correlation's input gradient is dy correlated with the kernel turned 180°.
        batch = dy.shape[0]
        d_padded = np.zeros((batch, m + 2, n + 2))
        d_padded[:, 1:-1, 1:-1] = dy.reshape(batch, m, n)
        dx = np.zeros((batch, m, n))
        tap = np.empty_like(dx)  # reused: one multiply-add per tap without temporaries
        for k, (r, c) in enumerate(_TAPS):
            dx += np.multiply(d_padded[:, 2 - r:2 - r + m, 2 - c:2 - c + n], w[k], out=tap)
        dx = dx.reshape(batch, m * n)
    return [dx], dw, np.array([dy.sum()])


def _relu_forward(layer, ops, w, b, extra):
    return np.maximum(ops[0], 0.0), ops[0] > 0


def _relu_backward(layer, cache, dy, need):
    return [dy * cache], None, None


def _tanh_forward(layer, ops, w, b, extra):
    y = np.tanh(ops[0])
    return y, ops[0]


def _tanh_backward(layer, cache, dy, need):
    # 1 / cosh² a, as the scalar operator computes it (ops.py): the same bits, not 1 - tanh².
    return [dy / np.cosh(cache) ** 2], None, None


def _sigmoid_forward(layer, ops, w, b, extra):
    y = np.exp(-np.logaddexp(0.0, -ops[0]))  # ops.py's overflow-free form
    return y, (ops[0], y)


def _sigmoid_backward(layer, cache, dy, need):
    a, y = cache
    return [dy * (y * np.exp(-np.logaddexp(0.0, a)))], None, None


def _penalty_forward(layer, ops, w, b, extra):
    weights, rate = ops  # weights (1, n): params are shared; rate (B, 1): a const
    total = np.abs(weights) if layer.kind == "l1" else weights * weights
    return rate * total.sum(axis=1, keepdims=True), (weights, rate, total)


def _penalty_backward(layer, cache, dy, need):
    weights, rate, total = cache
    local = np.sign(weights) if layer.kind == "l1" else 2.0 * weights
    return [dy * rate * local, dy * total.sum(axis=1, keepdims=True)], None, None


def _squared_error_forward(layer, ops, w, b, extra):
    pred, labels, half = ops
    diff = pred - labels
    squares = (diff * diff).sum(axis=1, keepdims=True)
    return half * squares, (diff, half, squares)


def _squared_error_backward(layer, cache, dloss, need):
    diff, half, squares = cache
    d_pred = dloss * half * 2.0 * diff
    return [d_pred, -d_pred, dloss * squares], None, None


def _margin_forward(layer, ops, w, b, extra):
    scores, labels, one = ops
    gap = one - labels * scores
    return np.maximum(gap, 0.0).sum(axis=1, keepdims=True), (scores, labels, gap > 0)


def _margin_backward(layer, cache, dloss, need):
    scores, labels, active = cache
    d_gap = dloss * active
    return [-d_gap * labels, -d_gap * scores, d_gap.sum(axis=1, keepdims=True)], None, None


def _add_forward(layer, ops, w, b, extra):
    return ops[0] + ops[1], None


def _add_backward(layer, cache, dy, need):
    return [dy, dy], None, None


def _sum_forward(layer, ops, w, b, extra):
    return ops[0].sum(axis=1, keepdims=True), ops[0].shape[1]


def _sum_backward(layer, cache, dy, need):
    return [np.repeat(dy, cache, axis=1)], None, None


def _softmax_forward(layer, ops, w, b, extra):
    shifted = ops[0] - ops[0].max(axis=1, keepdims=True)
    e = np.exp(shifted)
    p = e / e.sum(axis=1, keepdims=True)
    return p, p


def _softmax_backward(layer, cache, dp, need):
    p = cache
    return [p * (dp - (dp * p).sum(axis=1, keepdims=True))], None, None


def _cross_entropy_forward(layer, ops, w, b, extra):
    scores, labels = ops
    if layer.parts["softmax"] is not None:
        # scores are the softmax's logits: log p = (x - max) - log Σ exp(x - max)
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_total = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_p = shifted - log_total
    else:
        log_p = np.log(scores)
    return -(labels * log_p).sum(axis=1, keepdims=True), (scores, labels, log_p)


def _cross_entropy_backward(layer, cache, dloss, need):
    scores, labels, log_p = cache
    if layer.parts["softmax"] is not None:
        p = np.exp(log_p)
        d_scores = dloss * (p * labels.sum(axis=1, keepdims=True) - labels)
    else:
        d_scores = -dloss * labels / scores
    return [d_scores, -dloss * log_p], None, None


KERNELS = {
    "fc": (_fc_forward, _fc_backward),
    "matmul": (_matmul_forward, _matmul_backward),
    "conv": (_conv_forward, _conv_backward),
    "relu": (_relu_forward, _relu_backward),
    "tanh": (_tanh_forward, _tanh_backward),
    "sigmoid": (_sigmoid_forward, _sigmoid_backward),
    "l1": (_penalty_forward, _penalty_backward),
    "l2": (_penalty_forward, _penalty_backward),
    "squared_error": (_squared_error_forward, _squared_error_backward),
    "margin": (_margin_forward, _margin_backward),
    "add": (_add_forward, _add_backward),
    "sum": (_sum_forward, _sum_backward),
    "softmax": (_softmax_forward, _softmax_backward),
    "cross_entropy": (_cross_entropy_forward, _cross_entropy_backward),
}


# -- plans: where a list of nodes lives ---------------------------------------------------------
@dataclass(frozen=True)
class Span:
    """Columns ``columns`` of source ``source`` fill ``width`` consecutive operand columns."""

    source: Source  # "param", "const", or a layer index
    columns: np.ndarray
    contiguous: slice | None  # the same columns as a slice, when they are consecutive
    unique: bool


class FusedProgram:
    """The layers an ``nn`` made for a graph, as a list of array kernels.

    ``forward(params, consts)`` takes values in the graph's feed order: ``params`` for
    ``graph.input_nodes`` (shape (P,)) and ``consts`` for ``graph.const_nodes`` (shape (C, B), or
    already transposed as (B, C) with ``consts_by_sample=True``). ``backward()`` returns the
    gradient of the summed outputs for every param, summed over the batch, as the scalar graph
    does. With ``const_grads=False`` (training) gradients that reach only consts, such as the
    image's, are not computed.
    """

    def __init__(self, g: graph, net: nn, const_grads: bool = True) -> None:
        self.graph = g
        param_at = {n: i for i, n in enumerate(g.input_nodes)}
        const_at = {n: i for i, n in enumerate(g.const_nodes)}
        made_by: dict[node, tuple[int, int]] = {}
        for index, layer in enumerate(net.layers):
            for column, y in enumerate(layer.outputs):
                made_by[y] = (index, column)
        needed = _needed_layers(g.output_nodes, net.layers, made_by, param_at, const_at)
        self.layers = [(i, net.layers[i]) for i in sorted(needed)]

        def locate(n: node) -> tuple[Source, int]:
            if n in made_by and made_by[n][0] in needed:
                return made_by[n]
            if n in const_at:
                return ("const", const_at[n])
            if n in param_at:
                return ("param", param_at[n])
            raise GraphError(f"{describe_node(n)} feeds a fused layer but is neither a graph "
                             "input, a graph const, nor a layer's output")

        # per layer: (operand plans, weight positions, bias positions, extra plans, need)
        self.plans: list[tuple[list[list[Span]], np.ndarray, np.ndarray, list[list[Span]],
                               list[bool]]] = []
        for _, layer in self.layers:
            operands = [_plan([locate(n) for n in nodes]) for nodes in _operands(layer)]
            weights = np.array([param_at[n] for n in layer.weights], np.int64)
            bias = np.array([param_at[n] for n in layer.bias], np.int64)
            extra = [_plan([locate(layer.parts["zero"])])] if layer.kind == "conv" else []
            need = [const_grads or any(span.source != "const" for span in plan)
                    for plan in operands]
            self.plans.append((operands, weights, bias, extra, need))
        self.outputs = [_plan([locate(n)]) for n in g.output_nodes]
        self.n_params = len(g.input_nodes)
        self.caches: list[Any] = []

    def forward(self, params: np.ndarray, consts: np.ndarray,
                consts_by_sample: bool = False) -> np.ndarray:
        """Forward pass; returns the outputs, shape (B, number of outputs)."""
        params = np.asarray(params, np.float64)
        consts = np.asarray(consts, np.float64)
        if consts.ndim == 1:
            consts = consts[:, None]
        sources: dict[Source, np.ndarray] = {
            "param": params[None, :], "const": consts if consts_by_sample else consts.T}
        self.batch = sources["const"].shape[0]
        self.caches = []
        for (index, layer), (operands, w, b, extra, _) in zip(self.layers, self.plans,
                                                             strict=True):
            forward = KERNELS[layer.kind][0]
            ops = [_gather(plan, sources) for plan in operands]
            extras = [_gather(plan, sources) for plan in extra]
            y, cache = forward(layer, ops, params[w], params[b], extras)
            sources[index] = y
            self.caches.append(cache)
        self.sources = sources
        return np.concatenate([_gather(plan, sources) for plan in self.outputs], axis=1)

    def backward(self) -> np.ndarray:
        """Gradient of the sum of outputs (over outputs and samples) for each param."""
        grads: dict[Source, np.ndarray] = {"param": np.zeros((1, self.n_params))}
        # layer index -> gradient at its output, (B, width)
        self.output_grads: dict[int, np.ndarray] = {}
        for plan in self.outputs:
            _scatter(plan, np.ones((self.batch, 1)), grads, self.sources)
        d_params = np.zeros(self.n_params)
        for (index, layer), (operands, w, b, _, need), cache in zip(
                reversed(self.layers), reversed(self.plans), reversed(self.caches), strict=True):
            dy = grads.pop(index, None)
            if dy is None:
                continue  # nothing downstream depends on this layer
            self.output_grads[index] = dy
            d_ops, dw, db = KERNELS[layer.kind][1](layer, cache, dy, need)
            for plan, d, wanted in zip(operands, d_ops, need, strict=True):
                if wanted and d is not None:
                    _scatter(plan, d, grads, self.sources)
            if dw is not None:
                np.add.at(d_params, w, dw)
            if db is not None:
                np.add.at(d_params, b, db)
        self.const_grads = grads.get("const")
        return d_params + grads["param"][0]

    def layer_values(self, index: int) -> np.ndarray:
        return self.sources[index]

    def operand_values(self, position: int) -> list[np.ndarray]:
        """What the ``position``-th layer (in ``self.layers``) read in the last forward pass."""
        operands = self.plans[position][0]
        return [_gather(plan, self.sources) for plan in operands]


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


def _plan(locations: Sequence[tuple[Source, int]]) -> list[Span]:
    """Group a node list's locations into spans of one source."""
    spans = []
    start = 0
    for k in range(1, len(locations) + 1):
        if k == len(locations) or locations[k][0] != locations[start][0]:
            columns = np.array([c for _, c in locations[start:k]], np.int64)
            lo = int(columns[0])
            consecutive = bool((columns == np.arange(lo, lo + len(columns))).all())
            spans.append(Span(locations[start][0], columns,
                              slice(lo, lo + len(columns)) if consecutive else None,
                              len(np.unique(columns)) == len(columns)))
            start = k
    return spans


def _gather(plan: list[Span], sources: dict[Source, np.ndarray]) -> np.ndarray:
    parts = []
    for span in plan:
        array = sources[span.source]
        parts.append(array[:, span.contiguous] if span.contiguous is not None
                     else array[:, span.columns])
    if len(parts) == 1:
        return parts[0]
    batch = max(p.shape[0] for p in parts)
    return np.concatenate([np.broadcast_to(p, (batch, p.shape[1])) for p in parts], axis=1)


def _scatter(plan: list[Span], d: np.ndarray, grads: dict[Source, np.ndarray],
             sources: dict[Source, np.ndarray]) -> None:
    offset = 0
    for span in plan:
        width = len(span.columns)
        piece = d[:, offset:offset + width]
        offset += width
        if span.source == "param":
            piece = piece.sum(axis=0, keepdims=True)  # params are shared by every sample
        target = grads.get(span.source)
        if target is None:
            target = grads[span.source] = np.zeros(
                (piece.shape[0], sources[span.source].shape[1]))
        if span.contiguous is not None:
            target[:, span.contiguous] += piece
        elif span.unique:
            target[:, span.columns] += piece
        else:
            # numpy's stubs take only integer arrays as the indices of ufunc.at, but a tuple
            # (slice, columns) is a valid index there as everywhere.
            np.add.at(target, (slice(None), span.columns), piece)  # type: ignore[arg-type]
