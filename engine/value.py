"""``Value``: micrograd's scalar API on this engine's ``node`` and ``graph``.

Code written for micrograd's ``Value`` runs unchanged::

    from engine import Value
    x = Value(-4.0, label='x')
    y = (2 * x + 2).relu() * x
    y.backward()
    x.grad                         # d y / d x

Each Value wraps one engine ``node`` (``.node``); numbers on either side of an operator become
const nodes. ``.data`` is computed as each Value is made (with the operator table, ops.py, so it
is the engine's number); ``backward()`` compiles the graph below the Value, runs it forward from
the leaves' current ``.data`` and back-propagates, then adds each gradient to ``.grad``.

Where this differs from micrograd, deliberately: gradients accumulate over ``backward()`` calls
as PyTorch's do (micrograd's also re-sends each inner node's old gradient down the graph);
``backward()`` refreshes the inner nodes' ``.data`` from the leaves' current ``.data``; and
``** Value`` and ``number ** Value`` are allowed, as the engine has them.
``to_graph()`` gives the engine graph, ``export()`` the JSON graph the page opens.
"""

from __future__ import annotations

import json
import numbers
from typing import Any

import numpy as np

from .graph import graph
from .node import node
from .ops import OPS, apply


class Value:
    """A scalar with a gradient: ``Value(data, label='')``, as micrograd's."""

    __slots__ = ("node", "data", "grad", "_prev", "_op", "_operands")

    def __init__(self, data: float, _children: tuple[Value, ...] = (), _op: str = "",
                 label: str = "", *, _node: node | None = None) -> None:
        self.data = _as_float(data)
        self.grad = 0.0
        self._prev = set(_children)  # micrograd's; the graph walks _operands, in order
        self._operands = tuple(dict.fromkeys(_children))
        self._op = _op
        self.node = _node if _node is not None else node("input", self.data, name=label or None)

    # -- micrograd's attributes ----------------------------------------------------------------
    @property
    def label(self) -> str:
        return self.node.name or ""

    @label.setter
    def label(self, text: str) -> None:
        self.node.name = str(text) or None

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # -- operators -----------------------------------------------------------------------------
    def _apply(self, op: str, other: Value | None = None, symbol: str = "") -> Value:
        right = None if other is None else np.asarray(other.data)
        with np.errstate(all="ignore"):  # NaN and inf show in .data; backward() names the node
            data = apply(OPS[op], np.asarray(self.data), right)
        made = node(op, self.node, None if other is None else other.node)
        operands = (self,) if other is None else (self, other)
        return Value(float(data), operands, symbol or op, _node=made)

    def __add__(self, other: Value | float) -> Value:
        return self._apply("+", _lift(other), symbol="+")

    def __radd__(self, other: float) -> Value:
        return _lift(other)._apply("+", self)

    def __sub__(self, other: Value | float) -> Value:
        return self._apply("-", _lift(other))

    def __rsub__(self, other: float) -> Value:
        return _lift(other)._apply("-", self)

    def __mul__(self, other: Value | float) -> Value:
        return self._apply("*", _lift(other))

    def __rmul__(self, other: float) -> Value:
        return _lift(other)._apply("*", self)

    def __truediv__(self, other: Value | float) -> Value:
        return self._apply("/", _lift(other))

    def __rtruediv__(self, other: float) -> Value:
        return _lift(other)._apply("/", self)

    def __pow__(self, other: Value | float) -> Value:
        return self._apply("pow", _lift(other), symbol="**")

    def __rpow__(self, other: float) -> Value:
        return _lift(other)._apply("pow", self, symbol="**")

    def __neg__(self) -> Value:
        return self._apply("neg")

    def relu(self) -> Value:
        return self._apply("relu", symbol="ReLU")

    def tanh(self) -> Value:
        return self._apply("tanh")

    def exp(self) -> Value:
        return self._apply("exp")

    def log(self) -> Value:
        return self._apply("log")

    def sigmoid(self) -> Value:
        return self._apply("sigmoid")

    # -- back-prop -----------------------------------------------------------------------------
    def backward(self) -> None:
        """d(self)/d(v) for every Value v below self, added to v.grad (self.grad becomes 1)."""
        order = self._topological()
        g = self._graph(order)
        g.compute_forward()
        g.back_prop()
        for v in order:
            if v._operands:
                v.data = _scalar(v.node.forward)
            if v is not self:
                v.grad += _scalar(v.node.backward)
        self.grad = 1.0

    def to_graph(self) -> graph:
        """The engine graph computing this Value from its leaves (fed their ``.data``), with
        this Value as its output."""
        return self._graph(self._topological())

    def export(self, path: str | None = None) -> dict[str, Any]:
        """The JSON graph (docs/formats.md) of ``to_graph()``; written to ``path`` if given,
        for the page or ``backprop-live run``."""
        from .formats import export_graph  # the core stands alone: formats only when asked

        document = export_graph(self.to_graph())
        if path is not None:
            with open(path, "w", encoding="utf-8") as file:
                json.dump(document, file, indent=1, ensure_ascii=False)
        return document

    def _topological(self) -> list[Value]:
        """Every Value below self, children before parents, left operands first (so the
        graph lists its inputs in the order the formula reads); an explicit stack: no recursion
        limit on long chains."""
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            v, expanded = stack.pop()
            if expanded:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack += [(c, False) for c in reversed(v._operands) if id(c) not in seen]
        return order

    def _graph(self, order: list[Value]) -> graph:
        leaves = [v for v in order if not v._operands]
        inputs = [v for v in leaves if v.node.operator == "input"]
        consts = [v for v in leaves if v.node.operator == "const"]
        g = graph([v.node for v in inputs], [v.node for v in consts], [self.node])
        g.feed([v.data for v in inputs], [v.data for v in consts])
        return g


def _lift(other: Value | float) -> Value:
    """A Value as is; a number becomes a const (data, not trained), named after itself."""
    if isinstance(other, Value):
        return other
    number = _as_float(other)
    return Value(number, _node=node("const", number, name=f"{number:g}"))


def _as_float(data: object) -> float:
    if isinstance(data, numbers.Real) and not isinstance(data, bool):
        return float(data)
    raise TypeError(f"a Value holds a number, not {data!r} of type {type(data).__name__}")


def _scalar(value: object) -> float:
    return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])
