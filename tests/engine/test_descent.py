"""engine/descent.py: one gradient-descent step, against closed forms worked out by hand.

Each case is a function whose gradient is known in closed form, so the expected new values
(old − lr × gradient) and the outputs after the step are computed here from the formula, not by
the engine.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import DomainError, graph, node, sigmoid
from engine.descent import DescentError, descend, step_values
from engine.examples import reference_expression


def test_step_values_is_old_minus_lr_times_gradient():
    new = step_values(np.array([1.0, -2.0, 0.5]), np.array([0.5, 4.0, -1.0]), 0.1)
    assert new.tolist() == [1.0 - 0.1 * 0.5, -2.0 - 0.1 * 4.0, 0.5 + 0.1 * 1.0]


def test_step_values_applies_one_gradient_to_every_sample_of_a_batch():
    new = step_values(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([10.0, -10.0]), 0.5)
    assert new.tolist() == [[-4.0, -3.0], [8.0, 9.0]]


def test_a_quadratic_steps_towards_its_minimum():
    # f(w) = (w - 3)², f'(w) = 2 (w - 3): from w = 5 with lr 0.25, w' = 5 - 0.25 * 4 = 4.
    w = node("input", None, name="w")
    three = node("const", None, name="3")
    f = (w - three) ** 2
    g = graph([w], [three], [f])
    g.feed([5.0], [3.0])
    step = descend(g, 0.25)
    assert step.old.tolist() == [5.0]
    assert step.gradient.tolist() == [4.0]
    assert step.new.tolist() == [4.0]
    assert w.forward == 4.0 and three.forward == 3.0  # the const is data: it stays
    assert f.forward == pytest.approx(1.0, rel=1e-15)  # (4 - 3)²
    assert w.backward == pytest.approx(2.0, rel=1e-15)  # the new gradient, 2 (4 - 3)
    assert step.outputs_before.tolist() == pytest.approx([4.0])
    assert step.outputs_after.tolist() == pytest.approx([1.0])


def test_repeated_steps_follow_the_closed_form_of_gradient_descent():
    # On (w - 3)², w_k - 3 = (1 - 2 lr)^k (w_0 - 3).
    w = node("input", 5.0, name="w")
    f = (w - 3.0) ** 2
    g = graph([w], [], [f])
    lr = 0.1
    for k in range(1, 11):
        descend(g, lr)
        assert w.forward == pytest.approx(3.0 + (1 - 2 * lr) ** k * 2.0, rel=1e-13)


def test_a_neuron_steps_its_weights_and_bias_and_keeps_its_data():
    # y = σ(w1 x1 + w2 x2 + b); ∂y/∂w_i = σ'(z) x_i, ∂y/∂b = σ'(z), σ' = σ (1 - σ).
    w1, w2, b = (node("input", v, name=n) for v, n in ((0.8, "w1"), (-0.4, "w2"), (0.1, "b")))
    x1, x2 = node("const", 1.5, name="x1"), node("const", 2.0, name="x2")
    y = sigmoid(w1 * x1 + w2 * x2 + b)
    g = graph([w1, w2, b], [x1, x2], [y])
    lr = 0.5
    z = 0.8 * 1.5 - 0.4 * 2.0 + 0.1
    s = 1 / (1 + math.exp(-z))
    ds = s * (1 - s)
    step = descend(g, lr)
    expected = [0.8 - lr * ds * 1.5, -0.4 - lr * ds * 2.0, 0.1 - lr * ds]
    assert [n.name for n in step.inputs] == ["w1", "w2", "b"]
    np.testing.assert_allclose(step.gradient, [ds * 1.5, ds * 2.0, ds], rtol=1e-14)
    np.testing.assert_allclose([w1.forward, w2.forward, b.forward], expected, rtol=1e-14)
    assert (x1.forward, x2.forward) == (1.5, 2.0)
    z_new = expected[0] * 1.5 + expected[1] * 2.0 + expected[2]
    assert y.forward == pytest.approx(1 / (1 + math.exp(-z_new)), rel=1e-14)
    assert y.forward < s  # descending y makes it smaller


def test_several_outputs_descend_their_sum():
    # f = w², h = 3 w: the objective f + h has gradient 2w + 3.
    w = node("input", 1.0, name="w")
    f, h = w * w, 3.0 * w
    g = graph([w], [], [f, h])
    step = descend(g, 0.1)
    assert step.gradient.tolist() == [5.0]
    assert w.forward == pytest.approx(0.5)


def test_the_reference_expression_steps_each_input_by_its_own_gradient():
    x, y, g = reference_expression()
    g.compute_forward()
    g.back_prop()
    before = [float(n.forward) for n in x]
    grads = [float(n.backward) for n in x]
    descend(g, 0.01)
    expected = [v - 0.01 * d for v, d in zip(before, grads, strict=True)]
    assert [float(n.forward) for n in x] == expected


def test_a_batch_steps_by_the_gradient_summed_over_its_samples():
    # f = w x over samples x = (1, 2, 3): ∂(Σf)/∂w = 6 for each sample's copy of w.
    w = node("input", None, name="w")
    xs = node("const", None, name="x")
    f = w * xs
    g = graph([w], [xs], [f])
    g.feed([2.0], [np.array([1.0, 2.0, 3.0])])
    step = descend(g, 0.5)
    assert step.gradient.tolist() == [6.0]
    np.testing.assert_array_equal(np.asarray(w.forward).ravel(), [2.0 - 3.0] * 3)


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf"), "0.1", True, None])
def test_a_bad_learning_rate_is_refused_and_changes_nothing(lr):
    w = node("input", 2.0, name="w")
    g = graph([w], [], [w * w])
    with pytest.raises(DescentError, match="learning rate"):
        descend(g, lr)
    assert w.forward == 2.0


def test_a_step_that_overflows_names_the_input_and_changes_nothing():
    # f = exp(exp(w)) at w = 3: the gradient is ~1e10, and lr 1e300 makes w infinite.
    w = node("input", 3.0, name="w")
    f = node("exp", node("exp", w))
    g = graph([w], [], [f])
    g.compute_forward()
    g.back_prop()
    grad = float(w.backward)
    with pytest.raises(DescentError, match="'w'.*nothing was changed"):
        descend(g, 1e300)
    assert w.forward == 3.0 and float(w.backward) == grad


def test_a_step_that_leaves_the_domain_puts_every_value_back():
    # f = log(w) at w = 1: gradient 1, so lr 2 makes w = -1, outside log's domain.
    w = node("input", 1.0, name="w")
    f = node("log", w)
    g = graph([w], [], [f])
    with pytest.raises(DomainError):
        descend(g, 2.0)
    assert w.forward == 1.0 and f.forward == 0.0 and w.backward == 1.0


def test_carried_gradients_accumulate_as_a_forgotten_zero_grad_does():
    # micrograd without zero_grad: p.grad after k backward passes is the sum of their gradients,
    # and step k uses it. On (w - 3)², each pass's gradient is 2 (w - 3), by hand.
    w = node("input", 5.0, name="w")
    g = graph([w], [], [(w - 3.0) ** 2])
    lr, value, kept = 0.1, 5.0, 0.0
    carried = np.zeros(1)
    for _ in range(5):
        kept += 2 * (value - 3.0)
        step = descend(g, lr, carried)
        assert step.fresh.tolist() == pytest.approx([2 * (value - 3.0)], rel=1e-15)
        assert step.gradient.tolist() == pytest.approx([kept], rel=1e-15)
        value -= lr * kept
        assert w.forward == pytest.approx(value, rel=1e-14)
        carried = step.gradient
    assert value < 3.0  # the kept gradients overshoot the minimum: the lesson


@pytest.mark.parametrize("carried, message", [([1.0, 2.0], "one number per input"),
                                              ([float("nan")], "not a finite number")])
def test_bad_carried_gradients_are_refused_and_change_nothing(carried, message):
    w = node("input", 5.0, name="w")
    g = graph([w], [], [(w - 3.0) ** 2])
    with pytest.raises(DescentError, match=message):
        descend(g, 0.1, carried)
    assert w.forward == 5.0
