"""A network that ``nn`` built, as whole-layer array operations, for batched training.

The scalar graph stays the truth (and what the page shows, one sample at a time); this runs the
same layers on a batch as a few matrix operations each: FC as a matrix product, Conv as an
im2col matrix-vector product, Softmax + cross-entropy as one log-sum-exp. Tests check that both
give the same values and gradients.

Arrays are laid out (batch, features). A layer's operand is a list of nodes; it is read from the
arrays that hold those nodes (a layer's outputs, the graph's consts, or the parameter vector)
with a precomputed gather plan (``layout.py``: made from the scalar graph, or without it), and
its gradient is scattered back the same way.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from .layout import FusedLayer, Layout, Source, Span, from_graph

if TYPE_CHECKING:
    from ..graph import graph
    from ..nn import nn

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


@functools.cache
def _tap_index(m: int, n: int) -> np.ndarray:
    """For tap k (3×3, row-major) of output pixel p, the input pixel it reads — ``m * n``, the
    padding row, where it falls outside — flattened k-major: one gather makes all 9 taps."""
    rows, cols = np.divmod(np.arange(m * n), n)
    index = np.empty((9, m * n), np.int64)
    for k in range(9):
        r, c = rows + k // 3 - 1, cols + k % 3 - 1
        inside = (r >= 0) & (r < m) & (c >= 0) & (c < n)
        index[k] = np.where(inside, r * n + c, m * n)
    index.setflags(write=False)
    return index.ravel()


def _patches(values: np.ndarray, padding, m: int, n: int) -> np.ndarray:
    """im2col, transposed: (9, m·n·B), tap k's reads for pixel p of sample b at p·B + b.

    Pixels are rows here, samples columns, so the gather moves whole rows of B values and both
    a conv's output and its kernel's gradient are one matrix-vector product.
    """
    batch = values.shape[0]
    extended = np.empty((m * n + 1, batch))
    extended[:m * n] = values.T
    extended[m * n] = padding
    return extended.take(_tap_index(m, n), axis=0).reshape(9, -1)


def _conv_forward(layer, ops, w, b, extra):
    m, n = layer.shape
    batch = ops[0].shape[0]
    # the padding node's value (0 in a ResNet), per sample
    patches = _patches(ops[0], extra[0].reshape(-1), m, n)
    y = np.ascontiguousarray((w @ patches + b[0]).reshape(m * n, batch).T)
    return y, (patches, w)


def _conv_backward(layer, cache, dy, need):
    m, n = layer.shape
    patches, w = cache
    dw = patches @ dy.T.ravel()
    dx = None
    if need[0]:
        # A cross-correlation's input gradient is dy correlated with the kernel turned 180°,
        # with zeros outside.
        batch = dy.shape[0]
        d_patches = _patches(dy, 0.0, m, n)
        dx = np.ascontiguousarray((w[::-1] @ d_patches).reshape(m * n, batch).T)
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
    if layer.softmax:
        # scores are the softmax's logits: log p = (x - max) - log Σ exp(x - max)
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_total = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_p = shifted - log_total
    else:
        log_p = np.log(scores)
    return -(labels * log_p).sum(axis=1, keepdims=True), (scores, labels, log_p)


def _cross_entropy_backward(layer, cache, dloss, need):
    scores, labels, log_p = cache
    if layer.softmax:
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


class FusedProgram:
    """The layers an ``nn`` made for a graph, as a list of array kernels.

    ``forward(params, consts)`` takes values in the graph's feed order: ``params`` for
    ``graph.input_nodes`` (shape (P,)) and ``consts`` for ``graph.const_nodes`` (shape (C, B), or
    already transposed as (B, C) with ``consts_by_sample=True``). ``backward()`` returns the
    gradient of the summed outputs for every param, summed over the batch, as the scalar graph
    does. With ``const_grads=False`` (training) gradients that reach only consts, such as the
    image's, are not computed.
    """

    def __init__(self, g: graph | None, net: nn | None, const_grads: bool = True,
                 layout: Layout | None = None) -> None:
        if layout is None:
            assert g is not None and net is not None, "a graph and its nn, or a layout"
            layout = from_graph(g, net, const_grads)
        self.graph = g
        self.layers: list[tuple[int, FusedLayer]] = layout.layers
        self.plans = layout.plans
        self.outputs = layout.outputs
        self.n_params = layout.n_params
        # Each layer's weight and bias positions as slices where they are consecutive (they
        # are, in nn's models): a view to read and a slice to add into, not a gather and
        # np.add.at.
        self._weights_at = [(_as_slice(w), _as_slice(b)) for _, w, b, _, _ in self.plans]
        # Each operand's reader: (source, slice) for one run of consecutive columns — nearly
        # every operand: a view, no call — else its plan, for _gather.
        self._readers = [[_reader(p) for p in operands + extra]
                         for operands, _, _, extra, _ in self.plans]
        self.caches: list[Any] = []

    @classmethod
    def from_layout(cls, layout: Layout) -> FusedProgram:
        """The program for a layout made without the scalar graph (layout.Sketch)."""
        return cls(None, None, layout=layout)

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
        for (index, layer), (operands, _, _, _, _), (w, b), readers in zip(
                self.layers, self.plans, self._weights_at, self._readers, strict=True):
            forward = KERNELS[layer.kind][0]
            read = [sources[r[0]][:, r[1]] if isinstance(r, tuple) else _gather(r, sources)
                    for r in readers]
            ops, extras = read[:len(operands)], read[len(operands):]
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
        for (index, layer), (operands, _, _, _, need), (w, b), cache in zip(
                reversed(self.layers), reversed(self.plans), reversed(self._weights_at),
                reversed(self.caches), strict=True):
            dy = grads.pop(index, None)
            if dy is None:
                continue  # nothing downstream depends on this layer
            self.output_grads[index] = dy
            d_ops, dw, db = KERNELS[layer.kind][1](layer, cache, dy, need)
            for plan, d, wanted in zip(operands, d_ops, need, strict=True):
                if wanted and d is not None:
                    _scatter(plan, d, grads, self.sources, adopt=d is not dy)
            for at, d in ((w, dw), (b, db)):
                if d is None:
                    continue
                if isinstance(at, slice):
                    d_params[at] += d
                else:
                    np.add.at(d_params, at, d)
        self.const_grads = grads.get("const")
        return d_params + grads["param"][0]

    def layer_values(self, index: int) -> np.ndarray:
        return self.sources[index]

    def operand_values(self, position: int) -> list[np.ndarray]:
        """What the ``position``-th layer (in ``self.layers``) read in the last forward pass."""
        operands = self.plans[position][0]
        return [_gather(plan, self.sources) for plan in operands]


def _as_slice(positions: np.ndarray) -> slice | np.ndarray:
    if len(positions) and (positions == np.arange(positions[0],
                                                  positions[0] + len(positions))).all():
        return slice(int(positions[0]), int(positions[0]) + len(positions))
    return positions


def _reader(plan: list[Span]) -> tuple[Source, slice] | list[Span]:
    if len(plan) == 1 and plan[0].contiguous is not None:
        return (plan[0].source, plan[0].contiguous)
    return plan


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
             sources: dict[Source, np.ndarray], adopt: bool = False) -> None:
    """Add ``d`` into the gradients of the columns ``plan`` reads.

    With ``adopt``, a ``d`` that owns its memory and is a whole source's first gradient becomes
    that gradient, instead of being added into zeros (the caller holds no other reference).
    """
    if adopt and len(plan) == 1 and plan[0].source != "param" and d.flags.owndata \
            and plan[0].source not in grads:
        source, columns = plan[0].source, plan[0].contiguous
        if columns is not None and columns.start == 0 and d.shape == sources[source].shape:
            grads[source] = d
            return
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
