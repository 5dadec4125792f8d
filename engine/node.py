"""``node``: one scalar operation of the DAG, with the reference design's constructor.

A node only records its operator and children. Values and gradients live in the arrays of the
compiled graph it belongs to (see compiler.py); ``forward`` and ``backward`` read them from there,
so a graph of 36,000 nodes runs without touching 36,000 Python objects.
"""

from __future__ import annotations

import itertools
import numbers
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from .errors import FeedError, GraphError, describe_node
from .ops import LEAVES, OPS

if TYPE_CHECKING:
    from .compiler import Program

# What a leaf can be fed: a number, or a batch of B numbers, shape (B,).
Value: TypeAlias = "float | np.ndarray"
Feedable: TypeAlias = "float | Sequence[float] | np.ndarray"

_ids = itertools.count()
# Bumped by every node.feed(); a graph re-reads individually fed leaves only when it changed.
_feed_clock = itertools.count(1)
feed_version = 0
# Bumped whenever a node becomes an output, so graphs know to look for new outputs.
output_version = 0


class node:
    """A scalar operation: ``node(operator, left_child, right_child=None, is_output=False)``.

    ``operator`` is ``'input'`` (a trainable variable), ``'const'`` (data fed each run) or one of
    the operators in ops.py. ``name`` shows on the page; ``group`` is the layer that made it.
    """

    __slots__ = (
        "id", "operator", "left_child", "right_child", "parents", "is_output", "name", "group",
        "_fed", "_fed_version", "_program", "_slot", "__weakref__",
    )

    def __init__(self, operator: str, left_child: node | Feedable | None = None,
                 right_child: node | None = None, is_output: bool = False, *,
                 name: str | None = None, group: str | None = None) -> None:
        self.id = next(_ids)
        self.name = name
        self.group = group
        self.operator = operator
        self.is_output = bool(is_output)
        if is_output:
            _bump_outputs()
        self.parents: list[node] = []
        self.left_child: node | None = None
        self.right_child: node | None = None
        self._fed: Value | None = None
        self._fed_version = 0
        # The program whose arrays hold this node's value, held weakly: nodes and their program
        # would otherwise form a cycle that only the cyclic collector frees.
        self._program: weakref.ref[Program] | None = None
        self._slot = -1
        op = OPS.get(operator)
        if op is None:
            known = ", ".join(OPS)
            raise GraphError(f"{describe_node(self)}: unknown operator {operator!r}; "
                             f"known operators: {known}")
        if operator in LEAVES:
            # node('input', 0.5) is accepted as a leaf with an initial value.
            if left_child is not None:
                # A node given here is refused by feed (FeedError): leaves take no children.
                self.feed(left_child)  # type: ignore[arg-type]
            if right_child is not None:
                raise GraphError(f"{describe_node(self)}: a leaf takes no children")
            return
        children: list[node] = []
        extra = (left_child, right_child)[op.arity:]
        for position, child in zip(("left", "right"), (left_child, right_child)[: op.arity],
                                   strict=False):
            if not isinstance(child, node):
                raise GraphError(f"{describe_node(self)}: {operator!r} needs {op.arity} node "
                                 f"operand(s); the {position} child is {child!r}")
            children.append(child)
        if any(c is not None for c in extra):
            raise GraphError(f"{describe_node(self)}: {operator!r} takes {op.arity} operand, "
                             f"got a right child {right_child!r}")
        self.left_child = children[0]
        self.right_child = children[1] if op.arity == 2 else None
        for child in children:
            child.parents.append(self)

    # -- reference API -------------------------------------------------------------------------
    @property
    def cnt_parents(self) -> int:
        return len(self.parents)

    def set_as_output(self) -> None:
        self.is_output = True
        _bump_outputs()

    def feed(self, value: Feedable) -> None:
        """Give a leaf its value: a number, or an array of shape (B,) for B samples at once."""
        global feed_version
        if self.operator not in LEAVES:
            raise FeedError(f"{describe_node(self)}: only 'input' and 'const' nodes are fed")
        value = _as_value(value, self)
        self._fed = value
        feed_version = self._fed_version = next(_feed_clock)

    @property
    def forward(self) -> Value | None:
        """This node's value from the last ``compute_forward`` (None before any)."""
        program = self._program() if self._program is not None else None
        if program is None or program.values is None:
            return self._fed if self.operator in LEAVES else None
        return program.value_of(self._slot)

    @forward.setter
    def forward(self, value: Feedable) -> None:
        self.feed(value)

    @property
    def backward(self) -> Value | None:
        """d(sum of outputs)/d(this node) from the last ``back_prop`` (None before any).

        With a batch, 'input' nodes (the trainable variables) hold the gradient summed over the
        batch; every other node holds one gradient per sample.
        """
        program = self._program() if self._program is not None else None
        if program is None or program.grads is None:
            return None
        return program.grad_of(self._slot, self.operator == "input")

    @property
    def children(self) -> tuple[node, ...]:
        if self.left_child is None:
            return ()
        if self.right_child is None:
            return (self.left_child,)
        return (self.left_child, self.right_child)

    def __repr__(self) -> str:
        return f"<{describe_node(self)[5:]}>"

    def show(self, **options: object) -> object:
        """This node's graph (what it depends on), animated in a Jupyter notebook."""
        from .display import show
        return show(self, **options)

    # -- convenience for people typing Python ---------------------------------------------------
    def __add__(self, other: node | float) -> node:
        return node("+", self, lift(other))

    def __radd__(self, other: node | float) -> node:
        return node("+", lift(other), self)

    def __sub__(self, other: node | float) -> node:
        return node("-", self, lift(other))

    def __rsub__(self, other: node | float) -> node:
        return node("-", lift(other), self)

    def __mul__(self, other: node | float) -> node:
        return node("*", self, lift(other))

    def __rmul__(self, other: node | float) -> node:
        return node("*", lift(other), self)

    def __truediv__(self, other: node | float) -> node:
        return node("/", self, lift(other))

    def __rtruediv__(self, other: node | float) -> node:
        return node("/", lift(other), self)

    def __pow__(self, other: node | float) -> node:
        return node("pow", self, lift(other))

    def __rpow__(self, other: node | float) -> node:
        return node("pow", lift(other), self)

    def __neg__(self) -> node:
        return node("neg", self)


def _bump_outputs() -> None:
    global output_version
    output_version += 1


def lift(value: node | float) -> node:
    """A node as is; a number becomes a named const node holding it."""
    if isinstance(value, node):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        const = node("const", None, name=f"{value:g}")
        const.feed(value)
        return const
    raise GraphError(f"cannot use {value!r} of type {type(value).__name__} as a node")


def _as_value(value: object, n: node) -> Value:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)
        if not np.isfinite(value):
            raise FeedError(f"{describe_node(n)}: fed {value}, values must be finite")
        return value
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FeedError(f"{describe_node(n)}: cannot feed {value!r}: {exc}") from None
    if array.ndim == 0:
        return _as_value(float(array), n)
    if array.ndim != 1:
        raise FeedError(f"{describe_node(n)}: fed an array of shape {array.shape}; "
                        "a leaf takes a number or a batch of shape (B,)")
    if not np.isfinite(array).all():
        bad = array[~np.isfinite(array)][0]
        raise FeedError(f"{describe_node(n)}: fed {bad} in a batch; values must be finite")
    return array


def _unary(name: str) -> Callable[[node | float], node]:
    def apply(a: node | float) -> node:
        return node(name, lift(a))
    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"A new '{name}' node: {OPS[name].formula}."
    return apply


def _binary(name: str) -> Callable[[node | float, node | float], node]:
    def apply(a: node | float, b: node | float) -> node:
        return node(name, lift(a), lift(b))
    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"A new '{name}' node: {OPS[name].formula}."
    return apply


neg, sin, cos, tan, exp, log, inv, sqrt, relu, tanh, sigmoid = map(
    _unary, ("neg", "sin", "cos", "tan", "exp", "log", "inv", "sqrt", "relu", "tanh", "sigmoid"))
abs_ = _unary("abs")
maximum, minimum, power = map(_binary, ("max", "min", "pow"))
