"""The operator table again, for one sample at a time: Python floats and ``math``.

The per-node interpreter (executor.py) computes the values of narrow stretches of a graph with
these instead of numpy, which costs ~1-2 µs per call however small the array (their local
derivatives need no loop, so it takes those from numpy: ops.py). Each function follows ops.py
operation for operation, so:

- ``+ - * /``, ``neg``, ``inv``, ``abs``, ``relu``, ``max``, ``min``, ``sqrt`` are bit-identical
  to numpy (IEEE arithmetic, correctly rounded ``sqrt``);
- ``sin``, ``cos``, ``tan``, ``exp``, ``log``, ``pow``, ``tanh``, ``sigmoid`` call the C
  library's functions, where numpy may use its own SIMD versions. Measured on 1.1M arguments
  (numpy 2.4, AVX512 machine): sin and cos identical; exp, log, tan, pow, cosh within 1 ulp;
  tanh within 3 ulp (numpy's SIMD tanh is the less exact one). See docs/engine.md.

Where ``math`` raises (``exp`` overflow, ``log(0)``, ``1 / 0``, ``sin(inf)``), the interpreter
computes that node with numpy instead, so NaN and inf come out exactly as the level program makes
them (and are reported, or flagged, the same way).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from .ops import OPCODE

_LN2 = math.log(2.0)  # numpy's logaddexp(x, x) adds NPY_LOGE2, the same double
_exp, _log1p = math.exp, math.log1p


def _max(a: float, b: float) -> float:
    return a if a >= b else b  # np.where(a >= b, a, b): a NaN picks b


def _min(a: float, b: float) -> float:
    return a if a <= b else b


def _relu(a: float) -> float:
    # np.maximum(a, 0.0): NaN stays NaN, and -0.0 becomes +0.0
    return a if a > 0.0 else (0.0 if a == a else a)


def _inv(a: float) -> float:
    return 1.0 / a


def _sigmoid(a: float) -> float:
    # exp(-logaddexp(0, -a)) as numpy computes logaddexp(x, y), with x = 0 and y = -a
    if a > 0.0:
        s = _log1p(_exp(-a))
    elif a < 0.0:
        s = -a + _log1p(_exp(a))
    elif a == 0.0:
        s = _LN2
    else:
        return a  # NaN
    return _exp(-s)


# value functions: f(a) for unary, f(a, b) for binary operators
VALUE: dict[str, Callable[..., float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "pow": math.pow, "max": _max, "min": _min, "neg": operator.neg, "sin": math.sin,
    "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log, "inv": _inv,
    "sqrt": math.sqrt, "relu": _relu, "abs": abs, "tanh": math.tanh, "sigmoid": _sigmoid,
}

# By opcode, for the interpreter's table (None for the leaves).
VALUE_BY_CODE: list[Callable[..., float] | None] = [None] * len(OPCODE)
for _name, _code in OPCODE.items():
    VALUE_BY_CODE[_code] = VALUE.get(_name)
