"""Random DAGs (hypothesis): shared subexpressions, fan-out, several outputs, nodes reaching no
output. Every node's value is checked against an independent ``math`` evaluation of the same DAG,
and every node's gradient — d(sum of outputs)/d(node) — against float64 central differences of
that evaluation. Plus: operator overloading and engine.sin & co. build what node(...) builds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import graph, node
from tests.oracles import central_diff, gradient_fd

# Python-float semantics of each operator, written independently of engine/ops.py.
MATH = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "neg": lambda a: -a,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "tanh": math.tanh,
    "sigmoid": lambda a: 1.0 / (1.0 + math.exp(-a)),
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "inv": lambda a: 1.0 / a,
}
# Smooth operators only: FD cannot check relu / abs / max / min at a kink (test_ops.py does those).
DRAWN = ("+", "-", "*", "/", "pow", "neg", "sin", "cos", "tan", "tanh", "sigmoid", "exp", "log",
         "sqrt", "inv")
BINARY = {"+", "-", "*", "/", "pow"}


class Dag:
    """A DAG as data: leaves (inputs, then consts) and steps (op, child positions)."""

    def __init__(self, n_inputs: int, const_values: list[float]):
        self.n_inputs = n_inputs
        self.const_values = [1.0, *const_values]  # position n_inputs holds the const 1
        self.n_leaves = n_inputs + len(self.const_values)
        self.steps: list[tuple[str, tuple[int, ...]]] = []
        # Bound on |value| of each position, from the structure alone: it keeps every operand
        # inside its operator's domain and every value moderate, by construction.
        self.bound = [2.0] * n_inputs + [max(1.0, abs(c)) for c in self.const_values]
        self.one = n_inputs

    def add(self, op: str, *kids: int) -> int:
        b = [self.bound[k] for k in kids]
        bound = {
            "+": lambda: b[0] + b[1], "-": lambda: b[0] + b[1], "*": lambda: b[0] * b[1],
            "/": lambda: b[0],  # divisors are guarded into (1, 2)
            "pow": lambda: 2.0 ** b[1],  # bases guarded into (1, 2)
            "neg": lambda: b[0], "exp": lambda: math.exp(b[0]), "tan": lambda: 1.6,
            "log": lambda: 1.0, "sqrt": lambda: 1.5,
        }.get(op, lambda: 1.0)()  # sin, cos, tanh, sigmoid, inv (of a guarded operand)
        self.steps.append((op, kids))
        self.bound.append(bound)
        position = self.n_leaves + len(self.steps) - 1
        if bound > 8.0:  # keep values (and so derivatives of every order) moderate
            return self.add("tanh", position)
        return position

    def positive(self, k: int) -> int:
        """A node with value in (1, 2) computed from k: 1 + sigmoid(k)."""
        return self.add("+", self.add("sigmoid", k), self.one)

    def tame(self, k: int) -> int:
        return self.add("tanh", k) if self.bound[k] > 2.0 else k

    def grow(self, op: str, i: int, j: int) -> int:
        if op in ("log", "sqrt", "inv"):
            return self.add(op, self.positive(i))
        if op == "exp":
            return self.add("exp", self.tame(i))
        if op == "tan":
            return self.add("tan", self.add("tanh", i))  # |tanh| < 1 < π/2: far from a pole
        if op == "/":
            return self.add("/", i, self.positive(j))
        if op == "pow":
            return self.add("pow", self.positive(i), self.tame(j))
        return self.add(op, i, j) if op in BINARY else self.add(op, i)

    @property
    def size(self) -> int:
        return self.n_leaves + len(self.steps)

    def evaluate(self, inputs, bump: tuple[int, float] | None = None) -> list[float]:
        """Every position's value with Python floats; ``bump`` adds a delta to one position."""
        values = [float(v) for v in inputs] + list(self.const_values)
        if bump is not None and bump[0] < self.n_leaves:
            values[bump[0]] += bump[1]
        for op, kids in self.steps:
            values.append(MATH[op](*(values[k] for k in kids)))
            if bump is not None and bump[0] == len(values) - 1:
                values[-1] += bump[1]
        return values

    def ancestors(self, outputs) -> set[int]:
        """Positions some output depends on (outputs included)."""
        seen, stack = set(), list(outputs)
        while stack:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            if k >= self.n_leaves:
                stack.extend(self.steps[k - self.n_leaves][1])
        return seen

    def build(self) -> tuple[list, list, list]:
        inputs = [node("input", None) for _ in range(self.n_inputs)]
        consts = [node("const", None) for _ in self.const_values]
        nodes = inputs + consts
        for op, kids in self.steps:
            nodes.append(node(op, *(nodes[k] for k in kids)))
        return inputs, consts, nodes


@st.composite
def dags(draw):
    n_inputs = draw(st.integers(1, 4), label="inputs")
    consts = draw(st.lists(st.floats(-2, 2), max_size=2), label="const values")
    dag = Dag(n_inputs, consts)
    for _ in range(draw(st.integers(1, 20), label="steps")):
        op = draw(st.sampled_from(DRAWN))
        # Children anywhere below: shared subexpressions and fan-out arise naturally.
        i = draw(st.integers(0, dag.size - 1))
        j = draw(st.integers(0, dag.size - 1))
        dag.grow(op, i, j)
    outputs = draw(st.lists(st.integers(dag.n_leaves, dag.size - 1), min_size=1, max_size=3,
                            unique=True), label="outputs")
    values = draw(st.lists(st.floats(-2, 2), min_size=n_inputs, max_size=n_inputs),
                  label="input values")
    return dag, outputs, values


@settings(max_examples=200)
@given(case=dags())
def test_random_dag_values_and_gradients(case):
    dag, outputs, values = case
    inputs, consts, nodes = dag.build()
    g = graph(inputs, consts, [nodes[k] for k in outputs])
    g.feed(values, dag.const_values)
    g.compute_forward()
    g.back_prop()

    expected = dag.evaluate(values)
    live = dag.ancestors(outputs)
    for k in live:
        # Same operations, libm vs numpy: differences of a few ulp, amplified by at most the
        # moderate condition numbers the bounds allow.
        assert nodes[k].forward == pytest.approx(expected[k], rel=1e-11, abs=1e-12), k

    def total(bump):
        v = dag.evaluate(values, bump)
        return math.fsum(v[k] for k in outputs)

    for k in set(range(dag.size)) - live:
        # Reaching no output, a node still has its value (the README: "the forward or backward
        # value of any node"), and its gradient d(sum of outputs)/d(node) is 0.
        assert nodes[k].forward == pytest.approx(expected[k], rel=1e-11, abs=1e-12), k
        assert nodes[k].backward == 0.0, k

    scale = 1.0 + math.fsum(abs(expected[k]) for k in outputs)
    for k in sorted(live):
        fd = central_diff(lambda t, k=k: total((k, t)), 0.0, 1e-4)
        grad = nodes[k].backward
        # 4th-order stencil, h = 1e-4: truncation h⁴ |f⁽⁵⁾| / 30 ≈ 3e-18 |f⁽⁵⁾|, and |f⁽⁵⁾| stays
        # far below 1e8 because every value is bounded by 8 and every operand sits in a tame
        # region; rounding ≈ 1.5 ε Σ|outputs| / h ≈ 3e-12 scale. So 1e-7 relative + 1e-9 scale
        # absolute is generous, yet a missing, doubled or overwritten path (an error of at least
        # one whole path's contribution) cannot hide in it unless that path is itself that small.
        assert abs(grad - fd) <= 1e-7 * abs(fd) + 1e-9 * scale, (k, grad, fd)

    # Input gradients, directly: central differences of the sum of outputs in each input.
    fd_inputs = gradient_fd(lambda x: math.fsum(dag.evaluate(x)[k] for k in outputs),
                            values, h=1e-4)
    for x, fd in zip(inputs, fd_inputs, strict=True):
        assert abs(x.backward - fd) <= 1e-7 * abs(fd) + 1e-9 * scale


def test_hand_built_dag_with_shared_subexpressions():
    """A fixed DAG: s = x·y is used four times, t = sin(s) twice; outputs s, u, v."""
    x, y = node("input", None), node("input", None)
    s = node("*", x, y)
    t = node("sin", s)
    u = node("+", node("*", t, t), s)
    v = node("/", node("exp", node("neg", s)), node("+", t, node("const", 3.0)))
    g = graph([x, y], [], [s, u, v])

    def f(p):
        sv = p[0] * p[1]
        return sv + (math.sin(sv) ** 2 + sv) + math.exp(-sv) / (math.sin(sv) + 3.0)

    for point in ([0.3, -0.8], [1.2, 0.9], [-1.5, 2.0]):
        g.feed(point, [])
        g.compute_forward()
        g.back_prop()
        np.testing.assert_allclose([x.backward, y.backward], gradient_fd(f, point), rtol=1e-8)


# -- operator overloading and the engine.* functions ------------------------------------------
def run(outputs, inputs, values):
    g = graph(inputs, [], outputs)
    g.feed(values, [])
    g.compute_forward()
    g.back_prop()
    return [float(np.squeeze(o.forward)) for o in outputs], [float(i.backward) for i in inputs]


SUGAR = {
    # name: (with overloading / engine functions, with explicit node(...) calls, in math)
    "a + b": (lambda a, b: a + b, lambda a, b, c: node("+", a, b), lambda a, b: a + b),
    "2 * a": (lambda a, b: 2 * a, lambda a, b, c: node("*", c(2.0), a), lambda a, b: 2 * a),
    "a * 2": (lambda a, b: a * 2, lambda a, b, c: node("*", a, c(2.0)), lambda a, b: a * 2),
    "a ** 2": (lambda a, b: a ** 2, lambda a, b, c: node("pow", a, c(2.0)), lambda a, b: a ** 2),
    "2 ** a": (lambda a, b: 2 ** a, lambda a, b, c: node("pow", c(2.0), a), lambda a, b: 2 ** a),
    "-a": (lambda a, b: -a, lambda a, b, c: node("neg", a), lambda a, b: -a),
    "a / b": (lambda a, b: a / b, lambda a, b, c: node("/", a, b), lambda a, b: a / b),
    "1 / a": (lambda a, b: 1 / a, lambda a, b, c: node("/", c(1.0), a), lambda a, b: 1 / a),
    "1 - a": (lambda a, b: 1 - a, lambda a, b, c: node("-", c(1.0), a), lambda a, b: 1 - a),
    "a - b": (lambda a, b: a - b, lambda a, b, c: node("-", a, b), lambda a, b: a - b),
    "a + 0.5": (lambda a, b: a + 0.5, lambda a, b, c: node("+", a, c(0.5)),
                lambda a, b: a + 0.5),
    "engine.sin": (lambda a, b: engine.sin(a), lambda a, b, c: node("sin", a),
                   lambda a, b: math.sin(a)),
    "engine.cos": (lambda a, b: engine.cos(a), lambda a, b, c: node("cos", a),
                   lambda a, b: math.cos(a)),
    "engine.tan": (lambda a, b: engine.tan(a), lambda a, b, c: node("tan", a),
                   lambda a, b: math.tan(a)),
    "engine.exp": (lambda a, b: engine.exp(a), lambda a, b, c: node("exp", a),
                   lambda a, b: math.exp(a)),
    "engine.log": (lambda a, b: engine.log(b), lambda a, b, c: node("log", b),
                   lambda a, b: math.log(b)),
    "engine.sqrt": (lambda a, b: engine.sqrt(b), lambda a, b, c: node("sqrt", b),
                    lambda a, b: math.sqrt(b)),
    "engine.inv": (lambda a, b: engine.inv(b), lambda a, b, c: node("inv", b),
                   lambda a, b: 1 / b),
    "engine.neg": (lambda a, b: engine.neg(a), lambda a, b, c: node("neg", a),
                   lambda a, b: -a),
    "engine.tanh": (lambda a, b: engine.tanh(a), lambda a, b, c: node("tanh", a),
                    lambda a, b: math.tanh(a)),
    "engine.sigmoid": (lambda a, b: engine.sigmoid(a), lambda a, b, c: node("sigmoid", a),
                       lambda a, b: 1 / (1 + math.exp(-a))),
    "engine.relu": (lambda a, b: engine.relu(a), lambda a, b, c: node("relu", a),
                    lambda a, b: max(a, 0.0)),
    "engine.abs": (lambda a, b: engine.abs(a), lambda a, b, c: node("abs", a),
                   lambda a, b: abs(a)),
    "engine.max": (lambda a, b: engine.max(a, b), lambda a, b, c: node("max", a, b),
                   lambda a, b: max(a, b)),
    "engine.min": (lambda a, b: engine.min(a, b), lambda a, b, c: node("min", a, b),
                   lambda a, b: min(a, b)),
    "engine.pow": (lambda a, b: engine.pow(b, a), lambda a, b, c: node("pow", b, a),
                   lambda a, b: b ** a),
    "engine.pow(a, 3)": (lambda a, b: engine.pow(a, 3), lambda a, b, c: node("pow", a, c(3.0)),
                         lambda a, b: a ** 3),
}


def _const(value):
    n = node("const", None)
    n.feed(value)
    return n


@pytest.mark.parametrize("name", list(SUGAR))
@settings(max_examples=20)
@given(a=st.floats(-1.5, 1.5).filter(lambda v: abs(v) > 1e-3),  # kinks of relu, abs; 1/a
       b=st.floats(0.2, 3.0))
def test_sugar_builds_what_node_builds(name, a, b):
    sugar, explicit, reference = SUGAR[name]
    if name in ("engine.max", "engine.min"):
        b = b - 1.6  # overlap a's range, but never tie with it
        if abs(a - b) < 1e-3:
            b += 0.01
    xa, xb = node("input", None), node("input", None)
    built = sugar(xa, xb)
    ya, yb = node("input", None), node("input", None)
    by_hand = explicit(ya, yb, _const)
    # Same operator, same structure.
    assert built.operator == by_hand.operator
    assert [c.operator for c in built.children] == [c.operator for c in by_hand.children]
    for c in built.children:
        if c.operator == "const":
            assert c.forward is not None  # literals become const nodes holding the number
    values_sugar, grads_sugar = run([built], [xa, xb], [a, b])
    values_hand, grads_hand = run([by_hand], [ya, yb], [a, b])
    assert values_sugar == values_hand and grads_sugar == grads_hand
    # ... and both are right.
    assert values_sugar[0] == pytest.approx(reference(a, b), rel=1e-14, abs=1e-15)
    steps = [1e-4 * min(1.0, abs(a)), 1e-4 * min(1.0, abs(b))]  # 1/a: step relative to a
    fd = gradient_fd(lambda v: reference(v[0], v[1]), [a, b], h=steps)
    np.testing.assert_allclose(grads_sugar, fd, rtol=1e-7, atol=1e-9)


@settings(max_examples=50)
@given(a=st.floats(0.1, 2.0), b=st.floats(0.1, 2.0))
def test_composite_expression_with_overloading(a, b):
    """f = (a + b)·2 − a²/b + (−a) + 1 − a + sin(a)·max(a, b) + pow(b, 3) + exp(−b)."""
    x, y = node("input", None), node("input", None)
    f = ((x + y) * 2 - x ** 2 / y + (-x) + 1 - x + engine.sin(x) * engine.max(x, y)
         + engine.pow(y, 3) + engine.exp(-y))
    reference = lambda v: ((v[0] + v[1]) * 2 - v[0] ** 2 / v[1] + (-v[0]) + 1 - v[0]
                           + math.sin(v[0]) * max(v[0], v[1]) + v[1] ** 3 + math.exp(-v[1]))
    g = graph([x, y], [], [f])
    g.feed([a, b], [])
    g.compute_forward()
    g.back_prop()
    assert float(np.squeeze(f.forward)) == pytest.approx(reference([a, b]), rel=1e-13)
    if abs(a - b) > 1e-3:  # away from max's kink
        fd = gradient_fd(reference, [a, b], h=1e-5)
        np.testing.assert_allclose([x.backward, y.backward], fd, rtol=1e-7, atol=1e-9)
