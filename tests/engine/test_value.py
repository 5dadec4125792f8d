"""engine.Value beyond micrograd's own test (test_micrograd_engine.py): every method and operator
form against PyTorch float64, gradients accumulating over backward() as PyTorch's do, labels as
node names, and the graph it builds (to_graph, export) computing the same numbers."""

from __future__ import annotations

import math

import pytest
import torch

from engine import FeedError, Value
from engine.formats import load


def t(value: float) -> torch.Tensor:
    return torch.tensor([value], dtype=torch.float64, requires_grad=True)


def build(a, b, lib):
    """One formula with every form: methods, numbers on either side, ** both ways, -x."""
    sig = (lambda v: v.sigmoid()) if lib == "value" else torch.sigmoid
    log = (lambda v: v.log()) if lib == "value" else torch.log
    u = 3 / (a * a + 1) - (2 - b) * 0.5 + 2 ** b
    v = sig(u) + log(a * a + 0.5) / b + (u - 1).exp() ** 0.5 - (-a).relu() * b.tanh()
    return v ** 2 + 1.5 - v / 4


@pytest.mark.parametrize(("a0", "b0"), [(0.7, -1.3), (-2.0, 0.25), (1.5, 3.0)])
def test_every_form_matches_pytorch(a0, b0):
    a, b = Value(a0), Value(b0)
    y = build(a, b, "value")
    y.backward()
    at, bt = t(a0), t(b0)
    yt = build(at, bt, "torch")
    yt.backward()
    assert math.isclose(y.data, yt.item(), rel_tol=1e-12)
    assert math.isclose(a.grad, at.grad.item(), rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(b.grad, bt.grad.item(), rel_tol=1e-9, abs_tol=1e-12)
    assert y.grad == 1.0


def test_gradients_accumulate_over_backward_calls_as_pytorchs_do():
    x = Value(0.3)
    y = (x * x).tanh() * 3
    y.backward()
    once = x.grad
    y.backward()
    xt = t(0.3)
    for _ in range(2):
        (torch.tanh(xt * xt) * 3).backward()
    assert math.isclose(x.grad, xt.grad.item(), rel_tol=1e-12)
    assert math.isclose(x.grad, 2 * once, rel_tol=1e-15)


def test_a_descent_step_on_data_is_seen_by_the_next_backward():
    w = Value(2.0)
    loss = (w - 5) ** 2
    loss.backward()
    w.data += -0.1 * w.grad  # 2 - 0.1 * (2 * (2 - 5)) = 2.6
    w.grad = 0.0
    loss.backward()
    assert w.data == pytest.approx(2.6, rel=1e-15)
    assert loss.data == pytest.approx((2.6 - 5) ** 2, rel=1e-15)
    assert w.grad == pytest.approx(2 * (2.6 - 5), rel=1e-15)


def test_labels_name_the_nodes_and_the_export_loads_back_the_same():
    x = Value(1.25, label="x")
    w = Value(-0.5, label="w")
    n = x * w + 1
    n.label = "n"
    o = n.sigmoid()
    o.label = "o"
    o.backward()
    assert (x.label, n.label, n.node.name) == ("x", "n", "n")
    g = o.to_graph()
    assert [v.name for v in g.input_nodes] == ["x", "w"]
    loaded = load(__import__("json").dumps(o.export()), "graph")
    result = loaded.compute()
    assert result.outputs == {"o": pytest.approx(o.data, rel=1e-15)}
    assert result.gradients == {"x": pytest.approx(x.grad, rel=1e-15),
                                "w": pytest.approx(w.grad, rel=1e-15)}


def test_a_long_chain_needs_no_recursion():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** 5000, rel=1e-9)


def test_bad_data_is_refused_with_its_type():
    with pytest.raises(TypeError, match="a Value holds a number, not 'two'"):
        Value("two")
    with pytest.raises(FeedError, match="values must be finite"):
        Value(float("nan"))
