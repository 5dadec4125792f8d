"""The operator table: each operator's value and its local derivatives, side by side.

Every function works on numpy arrays (one element per node, or per node and sample), so the
compiled graph evaluates a whole level of same-operator nodes in one call. ``a`` and ``b`` are the
left and right children's values, ``y`` the node's own value. A derivative function returns one
entry per child: dy/da, and dy/db for binary operators.

Conventions at kinks (documented in docs/engine.md): relu'(0) = 0 as in the reference design,
abs'(0) = 0, and ties of max/min send the whole gradient to the left child.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    # None for the leaves ('input', 'const'), which compute nothing.
    value: Callable[..., Any] | None  # (a, b) -> y          (b is None for unary operators)
    local: Callable[..., Any] | None  # (a, b, y) -> (dy/da,) or (dy/da, dy/db)
    formula: str  # the value, as the page writes it
    derivatives: tuple[str, ...]  # each local derivative, as the page writes it
    domain: str = ""  # what the operator needs of its operands, for error messages


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # exp(-log(1 + e^-a)) never overflows and keeps full relative precision in both tails.
    return np.exp(-np.logaddexp(0.0, -a))


def _pow_db(a: np.ndarray, b: np.ndarray, y: np.ndarray) -> np.ndarray:
    # d/db a^b = a^b ln|a|; at a = 0 (b > 0) the limit is 0. For a < 0 (integer b only) this is
    # the real part of the complex derivative, which keeps a const exponent's gradient finite.
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a == 0, 0.0, y * np.log(np.abs(a)))


OPERATORS: tuple[Op, ...] = (
    Op("input", 0, None, None, "input", ()),
    Op("const", 0, None, None, "const", ()),
    # binary
    Op("+", 2, lambda a, b: a + b, lambda a, b, y: (1.0, 1.0), "a + b", ("1", "1")),
    Op("-", 2, lambda a, b: a - b, lambda a, b, y: (1.0, -1.0), "a - b", ("1", "-1")),
    Op("*", 2, lambda a, b: a * b, lambda a, b, y: (b, a), "a * b", ("b", "a")),
    Op("/", 2, lambda a, b: a / b, lambda a, b, y: (1.0 / b, -y / b), "a / b",
       ("1 / b", "-a / b²"), "the divisor must not be 0"),
    Op("pow", 2, np.power, lambda a, b, y: (b * np.power(a, b - 1.0), _pow_db(a, b, y)),
       "a ^ b", ("b · a^(b-1)", "a^b · ln|a|"),
       "needs a > 0, or a = 0 with b > 0, or an integer b when a < 0"),
    Op("max", 2, lambda a, b: np.where(a >= b, a, b),
       lambda a, b, y: ((a >= b) * 1.0, (a < b) * 1.0), "max(a, b)",
       ("1 if a ≥ b else 0", "1 if a < b else 0")),
    Op("min", 2, lambda a, b: np.where(a <= b, a, b),
       lambda a, b, y: ((a <= b) * 1.0, (a > b) * 1.0), "min(a, b)",
       ("1 if a ≤ b else 0", "1 if a > b else 0")),
    # unary
    Op("neg", 1, np.negative, lambda a, b, y: (-1.0,), "-a", ("-1",)),
    Op("sin", 1, np.sin, lambda a, b, y: (np.cos(a),), "sin(a)", ("cos(a)",)),
    Op("cos", 1, np.cos, lambda a, b, y: (-np.sin(a),), "cos(a)", ("-sin(a)",)),
    Op("tan", 1, np.tan, lambda a, b, y: (1.0 + y * y,), "tan(a)", ("1 + tan²(a)",)),
    Op("exp", 1, np.exp, lambda a, b, y: (y,), "exp(a)", ("exp(a)",),
       "overflows float64 above a ≈ 709.78"),
    Op("log", 1, np.log, lambda a, b, y: (1.0 / a,), "ln(a)", ("1 / a",),
       "the argument must be > 0"),
    Op("inv", 1, lambda a: 1.0 / a, lambda a, b, y: (-y * y,), "1 / a", ("-1 / a²",),
       "the argument must not be 0"),
    Op("sqrt", 1, np.sqrt, lambda a, b, y: (0.5 / y,), "√a", ("1 / (2√a)",),
       "the argument must be ≥ 0, and > 0 for its derivative"),
    Op("relu", 1, lambda a: np.maximum(a, 0.0), lambda a, b, y: ((a > 0) * 1.0,),
       "max(a, 0)", ("1 if a > 0 else 0",)),
    Op("abs", 1, np.abs, lambda a, b, y: (np.sign(a),), "|a|", ("sign(a)",)),
    # 1 / cosh² a rather than 1 - tanh² a: the same number, without losing every digit in the
    # tails where tanh a rounds to ±1.
    Op("tanh", 1, np.tanh, lambda a, b, y: (1.0 / np.cosh(a) ** 2,), "tanh(a)",
       ("1 - tanh²(a)",)),
    Op("sigmoid", 1, _sigmoid,
       lambda a, b, y: (y * _sigmoid(-a),), "σ(a)", ("σ(a) · σ(-a)",)),
)

OPS: dict[str, Op] = {op.name: op for op in OPERATORS}
OPCODE: dict[str, int] = {op.name: code for code, op in enumerate(OPERATORS)}
LEAVES = frozenset({"input", "const"})


def apply(op: Op, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """The operator's value. Callers silence numpy's warnings and check finiteness themselves."""
    value = op.value
    if value is None:  # calling None would raise this TypeError too, less clearly
        raise TypeError(f"{op.name!r} is a leaf: it has no value to compute")
    return value(a, b) if op.arity == 2 else value(a)


def local_derivatives(op: Op, a: np.ndarray, b: np.ndarray | None,
                      y: np.ndarray) -> tuple[np.ndarray | float, ...]:
    """dy/da (and dy/db for a binary operator), each an array or a constant."""
    local = op.local
    if local is None:
        raise TypeError(f"{op.name!r} is a leaf: it has no local derivatives")
    return local(a, b, y)
