"""The operator table again, for one sample at a time: Python floats and ``math``.

The per-node interpreter (executor.py) runs narrow stretches of a graph with these instead of
numpy, which costs ~1-2 µs per call however small the array. Each function follows ops.py
operation for operation, so:

- ``+ - * /``, ``neg``, ``inv``, ``abs``, ``relu``, ``max``, ``min``, ``sqrt`` and their
  derivatives are bit-identical to numpy (IEEE arithmetic, correctly rounded ``sqrt``);
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
_exp, _log1p, _cosh = math.exp, math.log1p, math.cosh


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


def _sign(a: float) -> float:
    if a > 0.0:
        return 1.0
    if a < 0.0:
        return -1.0
    return 0.0 if a == 0.0 else a  # np.sign: 0 for ±0, NaN for NaN


# value functions: f(a) for unary, f(a, b) for binary operators
VALUE: dict[str, Callable[..., float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "pow": math.pow, "max": _max, "min": _min, "neg": operator.neg, "sin": math.sin,
    "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log, "inv": _inv,
    "sqrt": math.sqrt, "relu": _relu, "abs": abs, "tanh": math.tanh, "sigmoid": _sigmoid,
}

# local derivatives: d(a, b, y) -> (dy/da, dy/db) for binary, d(a, y) -> dy/da for unary
_ONE_ONE, _ONE_MINUS = (1.0, 1.0), (1.0, -1.0)


def _d_pow(a: float, b: float, y: float) -> tuple[float, float]:
    return b * math.pow(a, b - 1.0), (0.0 if a == 0 else y * math.log(abs(a)))


def _d_tanh(a: float, y: float) -> float:
    if -710.0 < a < 710.0:
        c = _cosh(a)
        return 1.0 / (c * c)  # numpy's ``x ** 2`` on an array is a square
    # cosh(710) ~ 1.1e308 squares to inf (and math.cosh raises beyond): numpy's 1 / inf
    return 0.0 if a == a else a


LOCAL: dict[str, Callable[..., object]] = {
    "+": lambda a, b, y: _ONE_ONE,
    "-": lambda a, b, y: _ONE_MINUS,
    "*": lambda a, b, y: (b, a),
    "/": lambda a, b, y: (1.0 / b, -y / b),
    "pow": _d_pow,
    "max": lambda a, b, y: (1.0 if a >= b else 0.0, 1.0 if a < b else 0.0),
    "min": lambda a, b, y: (1.0 if a <= b else 0.0, 1.0 if a > b else 0.0),
    "neg": lambda a, y: -1.0,
    "sin": lambda a, y: math.cos(a),
    "cos": lambda a, y: -math.sin(a),
    "tan": lambda a, y: 1.0 + y * y,
    "exp": lambda a, y: y,
    "log": lambda a, y: 1.0 / a,
    "inv": lambda a, y: -y * y,
    "sqrt": lambda a, y: 0.5 / y,
    "relu": lambda a, y: 1.0 if a > 0 else 0.0,
    "abs": lambda a, y: _sign(a),
    "tanh": _d_tanh,
    "sigmoid": lambda a, y: y * _sigmoid(-a),
}

# By opcode, for the interpreter's tables (None for the leaves).
VALUE_BY_CODE: list[Callable[..., float] | None] = [None] * len(OPCODE)
LOCAL_BY_CODE: list[Callable[..., object] | None] = [None] * len(OPCODE)
for _name, _code in OPCODE.items():
    VALUE_BY_CODE[_code] = VALUE.get(_name)
    LOCAL_BY_CODE[_code] = LOCAL.get(_name)
