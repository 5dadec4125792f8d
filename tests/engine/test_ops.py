"""Every operator of engine.ops: value and local derivatives against outside oracles.

Oracles: mpmath at 50 digits for values and derivatives (``mpmath.diff``, numerical
differentiation at 50-digit precision, far beyond float64), and float64 central finite differences
of the engine's own forward pass (so forward and backward agree with each other as well). Points
are drawn by hypothesis inside each operator's domain, a margin away from kinks and poles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import mpmath as mp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine import DomainError, EngineError, graph, node
from engine.ops import OPERATORS
from tests.oracles import central_diff

EPS = float(np.finfo(np.float64).eps)
# Absolute slack for results in the subnormal range (products of tiny numbers underflow): 16
# subnormal spacings, i.e. zero for any normal number.
TINY = 16 * 2.0**-1074
DPS = 50


def floats(lo: float, hi: float) -> st.SearchStrategy:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def magnitudes(lo: float, hi: float) -> st.SearchStrategy:
    """Numbers with lo <= |x| <= hi, either sign."""
    return st.builds(lambda m, s: m * s, floats(lo, hi), st.sampled_from((1.0, -1.0)))


@dataclass(frozen=True)
class Case:
    op: str
    args: st.SearchStrategy  # tuple of floats, one per operand
    oracle: Callable  # mp values -> mp value
    # Per operand: the length over which the function stays tame near the point (1 for entire
    # functions, the distance to the pole / kink otherwise). Finite-difference steps are 1e-3 of it.
    scale: Callable
    value_rtol: Callable = lambda *args: 1e-14  # ~45 ulp: libm-quality, far below any mistake
    fd_args: tuple | None = None  # operands finite differences can check (default: all)
    # d/d(operand) oracle override: (mp args, index) -> mp value; default mpmath.diff of oracle.
    derivative: Callable | None = None


def pair(a, b):
    return st.tuples(a, b)


def one(a):
    return st.tuples(a)


def _pow_negative_base_db(args, k):
    # For a < 0 and integer b the engine's d/db is documented as a^b ln|a|: the real part of the
    # complex derivative of the principal branch a^b = exp(b (ln|a| + iπ)). Check exactly that.
    a, b = args
    if k == 0:
        return mp.diff(lambda t: mp.power(t, b), a, h=_mp_step(a), **MP_EXTRA)
    return mp.re(mp.diff(lambda t: mp.power(mp.mpc(a), t), b, h=_mp_step(b), **MP_EXTRA))


def _mp_step(x) -> mp.mpf:
    # mpmath.diff's default step is absolute (~1e-57): too large next to a pole at 1e-300, too
    # small to move an operand of 1e46. A step of 2^-100 relative to the operand stays far inside
    # every domain margin below; MP_EXTRA bits of working precision let it move a sum like
    # 1 + 1e-300 (float64 operands span 2^±1074) and still leave ~80 exact digits.
    return mp.ldexp(abs(x) if x != 0 else mp.mpf(1), -100)


MP_EXTRA = {"addprec": 1200}


def _tan_args():
    # |cos a| >= 0.05 keeps a at least ~0.05 away from every pole of tan.
    return one(floats(-10.0, 10.0).filter(lambda a: abs(math.cos(a)) >= 0.05))


CASES: dict[str, Case] = {
    "+": Case("+", pair(floats(-100, 100), floats(-100, 100)), lambda a, b: a + b,
              lambda a, b: (1.0, 1.0)),
    "-": Case("-", pair(floats(-100, 100), floats(-100, 100)), lambda a, b: a - b,
              lambda a, b: (1.0, 1.0)),
    "*": Case("*", pair(floats(-100, 100), floats(-100, 100)), lambda a, b: a * b,
              lambda a, b: (1.0, 1.0)),
    "/": Case("/", pair(floats(-100, 100), magnitudes(1e-2, 100)), lambda a, b: a / b,
              lambda a, b: (1.0, abs(b))),
    "pow": Case("pow", pair(floats(1e-2, 10), floats(-5, 5)), mp.power,
                lambda a, b: (abs(a), min(1.0, 1.0 / max(abs(math.log(a)), 1e-300)))),
    "pow (negative base, integer exponent)": Case(
        "pow", pair(floats(-10, -1e-2), st.integers(-5, 5).map(float)), mp.power,
        lambda a, b: (abs(a), 1.0), fd_args=(0,), derivative=_pow_negative_base_db),
    "max": Case("max", pair(floats(-100, 100), floats(-100, 100)), lambda a, b: max(a, b),
                lambda a, b: (abs(a - b), abs(a - b))),
    "min": Case("min", pair(floats(-100, 100), floats(-100, 100)), lambda a, b: min(a, b),
                lambda a, b: (abs(a - b), abs(a - b))),
    "neg": Case("neg", one(floats(-1e6, 1e6)), lambda a: -a, lambda a: (1.0,)),
    "sin": Case("sin", one(floats(-100, 100)), mp.sin, lambda a: (1.0,)),
    "cos": Case("cos", one(floats(-100, 100)), mp.cos, lambda a: (1.0,)),
    "tan": Case("tan", _tan_args(), mp.tan, lambda a: (min(1.0, abs(math.cos(a))),)),
    # exp(709 + 2h) still fits in float64 (overflow is above 709.78).
    "exp": Case("exp", one(floats(-700, 709)), mp.exp, lambda a: (1.0,)),
    "log": Case("log", one(floats(1e-300, 1e300)), mp.log, lambda a: (a,)),
    # |a| <= 1e100 keeps the derivative -1/a² inside float64.
    "inv": Case("inv", one(magnitudes(1e-100, 1e100)), lambda a: 1 / a, lambda a: (abs(a),)),
    "sqrt": Case("sqrt", one(floats(1e-300, 1e300)), mp.sqrt, lambda a: (a,)),
    "relu": Case("relu", one(magnitudes(1e-6, 1e6)), lambda a: max(a, 0), lambda a: (abs(a),)),
    "abs": Case("abs", one(magnitudes(1e-6, 1e6)), abs, lambda a: (abs(a),)),
    "tanh": Case("tanh", one(floats(-20, 20)), mp.tanh, lambda a: (1.0,)),
    # exp(-logaddexp(0, -a)) carries the rounding of a log of size |a|: about |a| ulp.
    "sigmoid": Case("sigmoid", one(floats(-700, 700)), lambda a: 1 / (1 + mp.exp(-a)),
                    lambda a: (1.0,), value_rtol=lambda a: 1e-14 + 4 * EPS * abs(a)),
}


class Probe:
    """One operator node over fresh 'input' leaves, in its own graph."""

    def __init__(self, op: str, arity: int, *, lenient: bool = False):
        self.leaves = [node("input", None) for _ in range(arity)]
        self.out = node(op, *self.leaves)
        self.graph = graph(self.leaves, [], [self.out], lenient=lenient)

    def value(self, args) -> float:
        self.graph.feed(list(args), [])
        self.graph.compute_forward()
        return self.out.forward

    def gradient(self, args) -> list[float]:
        self.value(args)
        self.graph.back_prop()
        return [leaf.backward for leaf in self.leaves]


def test_every_operator_has_a_case():
    names = {op.name for op in OPERATORS} - {"input", "const"}
    assert names == {case.op for case in CASES.values()}
    # The list: the reference's operators plus exactly these additions.
    assert names == {"+", "*", "sin", "cos", "tan", "exp", "log", "neg", "inv", "relu",
                     "-", "/", "pow", "tanh", "sigmoid", "sqrt", "abs", "max", "min"}
    arity = {op.name: op.arity for op in OPERATORS}
    assert {n for n in names if arity[n] == 2} == {"+", "*", "-", "/", "pow", "max", "min"}


def _mp_derivative(case: Case, margs: list, k: int):
    if case.derivative is not None:
        return case.derivative(margs, k)
    def partial(t):
        return case.oracle(*margs[:k], t, *margs[k + 1:])

    return mp.diff(partial, margs[k], h=_mp_step(margs[k]), **MP_EXTRA)


@pytest.mark.parametrize("name", list(CASES))
@settings(max_examples=60)
@given(data=st.data())
def test_value_and_derivatives(name, data):
    case = CASES[name]
    args = data.draw(case.args, label="operands")
    if case.op in ("max", "min"):
        assume(abs(args[0] - args[1]) >= 1e-6)  # ties are the kink convention, tested below
    probe = Probe(case.op, len(args))
    value = probe.value(args)
    grads = probe.gradient(args)
    assert probe.out.forward == value  # back_prop leaves the forward values alone

    with mp.workdps(DPS):
        margs = [mp.mpf(a) for a in args]
        exact = case.oracle(*margs)
        # Value: relative error against the 50-digit value of the operator at the float operands.
        assert abs(mp.mpf(value) - exact) <= case.value_rtol(*args) * abs(exact) + TINY, (
            value, exact)
        magnitude = abs(float(exact))
        scales = case.scale(*args)
        for k in range(len(args)):
            expected = _mp_derivative(case, margs, k)
            # Relative 1e-12, plus a few ulp of the derivative's natural size |f| / scale: a
            # derivative formed as a difference of O(|f|) terms (tanh' = 1 - tanh²) is only that
            # exact in absolute terms (see test_tanh_derivative_relative_precision_in_tails).
            tol = 1e-12 * abs(expected) + 8 * EPS * magnitude / scales[k] + TINY
            assert abs(mp.mpf(grads[k]) - expected) <= tol, (k, grads[k], expected)

    # Float64 central differences of the engine's own forward pass, per operand. With step
    # h = 1e-3·scale the 4th-order stencil's truncation error is ~1e-12 relative and its rounding
    # error ~1.5 ε max|f| / h; 1e-8 of (|f'| + |f| / scale) bounds both with a wide margin while
    # any wrong formula is off by O(1).
    for k in case.fd_args if case.fd_args is not None else range(len(args)):
        h = 1e-3 * scales[k]

        def along(t, k=k):
            shifted = list(args)
            shifted[k] = t
            return probe.value(shifted)

        fd = central_diff(along, args[k], h)
        size = max(abs(along(args[k] + j * h)) for j in (-2, -1, 0, 1, 2))
        tol = 1e-8 * (abs(grads[k]) + size / scales[k]) + 1e-300  # FD cannot resolve subnormals
        assert abs(fd - grads[k]) <= tol, (k, fd, grads[k])


@settings(max_examples=40)
@given(a=floats(5.0, 30.0), sign=st.sampled_from((1.0, -1.0)))
def test_tanh_derivative_relative_precision_in_tails(a, sign):
    """tanh'(a) = 1/cosh²(a) is a normal float64 (≥ 3.5e-26 here) and should be relatively exact;
    the reference's other saturating operator, sigmoid, is (σ' = σ(a) σ(-a))."""
    a *= sign
    (grad,) = Probe("tanh", 1).gradient([a])
    with mp.workdps(DPS):
        expected = 1 / mp.cosh(mp.mpf(a)) ** 2
        assert abs(mp.mpf(grad) - expected) <= 1e-12 * expected, (a, grad, float(expected))


@settings(max_examples=40)
@given(a=floats(-700.0, 700.0))
def test_sigmoid_derivative_relative_precision(a):
    (grad,) = Probe("sigmoid", 1).gradient([a])
    with mp.workdps(DPS):
        x = mp.mpf(a)
        expected = mp.exp(-x) / (1 + mp.exp(-x)) ** 2
        assert abs(mp.mpf(grad) - expected) <= (1e-13 + 8 * EPS * abs(a)) * expected


# -- conventions at kinks ----------------------------------------------------------------------
@pytest.mark.parametrize("zero", [0.0, -0.0])
@pytest.mark.parametrize("op", ["relu", "abs"])
def test_kink_at_zero_has_derivative_zero(op, zero):
    probe = Probe(op, 1)
    assert probe.gradient([zero]) == [0.0]
    assert probe.out.forward == 0.0


@settings(max_examples=40)
@given(a=floats(-1e6, 1e6))
def test_max_min_ties_send_gradient_left(a):
    for op in ("max", "min"):
        probe = Probe(op, 2)
        assert probe.gradient([a, a]) == [1.0, 0.0]
        assert probe.out.forward == a


@settings(max_examples=40)
@given(a=magnitudes(1e-300, 1e300))
def test_relu_and_abs_away_from_zero(a):
    # relu' = [a > 0], abs' = sign(a): the exact one-sided values, even next to the kink.
    assert Probe("relu", 1).gradient([a]) == [1.0 if a > 0 else 0.0]
    assert Probe("abs", 1).gradient([a]) == [math.copysign(1.0, a)]


# -- domain errors -----------------------------------------------------------------------------
non_integer = st.builds(lambda k, f: k + f, st.integers(-5, 5).map(float), floats(0.01, 0.99))

DOMAIN_CASES = {
    "log of 0": ("log", one(st.sampled_from((0.0, -0.0)))),
    "log of negative": ("log", one(floats(-1e6, -1e-300))),
    "inv of 0": ("inv", one(st.sampled_from((0.0, -0.0)))),
    "/ by 0": ("/", pair(floats(-100, 100), st.sampled_from((0.0, -0.0)))),
    "sqrt of negative": ("sqrt", one(floats(-1e6, -1e-300))),
    "pow of negative base": ("pow", pair(floats(-100, -1e-3), non_integer)),
    "exp overflow": ("exp", one(floats(709.79, 1e5))),
}


@pytest.mark.parametrize("name", list(DOMAIN_CASES))
@settings(max_examples=25)
@given(data=st.data())
def test_domain_error_strict(name, data):
    op, strategy = DOMAIN_CASES[name]
    args = data.draw(strategy, label="operands")
    probe = Probe(op, len(args))
    probe.graph.feed(list(args), [])
    with pytest.raises(DomainError) as info:
        probe.graph.compute_forward()
    error = info.value
    assert isinstance(error, EngineError)
    message = str(error)
    assert f"#{probe.out.id}" in message  # the node
    assert f"({op})" in message  # its operator
    for a in args:  # the offending operand values
        assert repr(float(a)) in message
    assert error.node is probe.out
    assert tuple(error.operands) == tuple(args)


@pytest.mark.parametrize("name", list(DOMAIN_CASES))
@settings(max_examples=25)
@given(data=st.data(), other=floats(-10, 10))
def test_domain_error_lenient(name, data, other):
    op, strategy = DOMAIN_CASES[name]
    args = data.draw(strategy, label="operands")
    leaves = [node("input", None) for _ in args]
    bad = node(op, *leaves)
    z = node("input", None)
    fine = node("sin", z)
    g = graph([*leaves, z], [], [bad, fine], lenient=True)
    g.feed([*args, other], [])
    g.compute_forward()
    g.back_prop()
    # IEEE semantics of the operator at the offending operands, computed outside the engine.
    with np.errstate(all="ignore"):
        a = np.float64(args[0])
        expected = {
            "log": lambda: np.log(a), "inv": lambda: 1.0 / a, "sqrt": lambda: np.sqrt(a),
            "exp": lambda: np.exp(a), "/": lambda: a / np.float64(args[1]),
            "pow": lambda: np.power(a, np.float64(args[1])),
        }[op]()
    assert not math.isfinite(bad.forward)
    assert (math.isnan(bad.forward) and math.isnan(expected)) or bad.forward == expected
    flagged = g.flagged()
    assert bad in flagged
    assert fine not in flagged and z not in flagged
    assert fine.forward == pytest.approx(math.sin(other), rel=1e-14, abs=1e-300)
    assert z.backward == pytest.approx(math.cos(other), rel=1e-14, abs=1e-300)


def test_lenient_off_by_default_and_strict_error_is_catchable_as_arithmetic_error():
    probe = Probe("log", 1)
    probe.graph.feed([-1.0], [])
    with pytest.raises(ArithmeticError):
        probe.graph.compute_forward()
