"""The six places where the reference design is wrong, and what the engine does instead (issue 2).

Each fix is checked against an outside oracle: closed forms written with ``math``, float64 central
differences, or mpmath.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import DomainError, EngineError, FeedError, GraphError, graph, nn, node
from tests.oracles import gradient_fd

ENGINE_DIR = Path(engine.__file__).resolve().parent


# -- 1. errors are exceptions under one base class; nothing calls exit() ----------------------
def test_error_hierarchy():
    for cls in (GraphError, FeedError, DomainError):
        assert issubclass(cls, EngineError)
    assert issubclass(EngineError, Exception)


def test_engine_source_never_exits():
    """No call to exit(), quit(), sys.exit() or os._exit() anywhere in the engine package: it is
    a library, and the command line (server/cli/) reports exit statuses."""
    forbidden = {"exit", "quit", "_exit"}
    paths = sorted(ENGINE_DIR.rglob("*.py"))
    assert {"ops.py", "node.py", "compiler.py", "graph.py", "nn.py"} <= {p.name for p in paths}
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            f = call.func
            name = getattr(f, "id", None) or getattr(f, "attr", "")
            assert name not in forbidden, f"{path.name}:{call.lineno} calls {name}()"


def raised_by(action) -> BaseException:
    """The exception ``action`` raises, whatever it is (SystemExit included)."""
    try:
        action()
    except BaseException as exc:  # noqa: BLE001 - SystemExit must be caught to be reported
        return exc
    raise AssertionError("no exception raised")


def _three_input_graph():
    x = [node("input", None) for _ in range(3)]
    c = node("const", None)
    o = node("+", node("*", x[0], x[1]), node("sin", node("*", c, x[2])), is_output=True)
    return x, c, o, graph(x, [c], [o])


def test_unknown_operator_raises_graph_error():
    x = node("input", None)
    error = raised_by(lambda: node("sqr", x))
    assert isinstance(error, GraphError)
    assert "sqr" in str(error) and re.search(r"#\d+", str(error))


@pytest.mark.parametrize("make", [
    lambda x: node("+", x),  # binary operator with one child
    lambda x: node("sin", x, x),  # unary operator with two children
    lambda x: node("sin", 3.0),  # a number where a node belongs
    lambda x: node("*", x, "y"),
])
def test_malformed_nodes_raise_graph_error(make):
    x = node("input", None)
    error = raised_by(lambda: make(x))
    assert isinstance(error, GraphError), repr(error)
    assert re.search(r"#\d+", str(error))


def test_leaf_with_children_is_an_engine_error():
    x = node("input", None)
    error = raised_by(lambda: node("input", x, x))
    assert isinstance(error, (GraphError, FeedError)), repr(error)
    assert re.search(r"#\d+", str(error))


def test_non_number_child_is_named_in_the_message():
    error = raised_by(lambda: node("sin", 3.25))
    assert isinstance(error, GraphError) and "3.25" in str(error) and "sin" in str(error)


@pytest.mark.parametrize("inputs, consts", [
    ([1.0, 2.0], [1.0]),  # one input value short
    ([1.0, 2.0, 3.0, 4.0], [1.0]),  # one too many
    ([1.0, 2.0, 3.0], []),  # const missing
    ([1.0, 2.0, 3.0], [1.0, 2.0]),
    (1.0, [1.0]),  # a number where a list belongs
])
def test_wrong_feed_counts_raise_feed_error(inputs, consts):
    *_, g = _three_input_graph()
    error = raised_by(lambda: g.feed(inputs, consts))
    assert isinstance(error, FeedError), repr(error)


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_feed_names_node_and_value(bad):
    x, c, o, g = _three_input_graph()
    error = raised_by(lambda: g.feed([1.0, bad, 3.0], [2.0]))
    assert isinstance(error, FeedError), repr(error)
    message = str(error)
    assert f"#{x[1].id}" in message and "input" in message
    assert repr(bad) in message  # 'inf', '-inf' or 'nan'
    error = raised_by(lambda: x[1].feed(bad))
    assert isinstance(error, FeedError) and f"#{x[1].id}" in str(error) and repr(bad) in str(error)


def test_unfed_leaf_raises_feed_error_naming_it():
    x = node("input", None)
    c = node("const", None)
    o = node("*", x, c)
    g = graph([x], [], [o])  # c is an extra leaf nobody fed
    g.feed([1.0], [])
    error = raised_by(g.compute_forward)
    assert isinstance(error, FeedError)
    assert f"#{c.id}" in str(error) and "const" in str(error)


def test_feeding_or_listing_a_non_leaf_is_an_error():
    x = node("input", None)
    s = node("sin", x)
    error = raised_by(lambda: s.feed(1.0))
    assert isinstance(error, FeedError) and f"#{s.id}" in str(error) and "sin" in str(error)
    error = raised_by(lambda: graph([x, s], [], [s]).compute_forward())
    assert isinstance(error, GraphError) and f"#{s.id}" in str(error)


def test_every_misuse_is_an_engine_error_never_system_exit():
    x, c, o, g = _three_input_graph()
    actions = [
        lambda: node("nope", None),
        lambda: g.feed([1.0], [1.0]),
        lambda: g.feed([1.0, 2.0, math.nan], [1.0]),
        lambda: graph([], [], [node("log", node("const", -1.0))]).back_prop(),  # DomainError
        lambda: nn().FC(3, 2, [x[0]]),
        lambda: nn().new_input_nodes_list(-1),
    ]
    for action in actions:
        error = raised_by(action)
        assert not isinstance(error, SystemExit)
        assert isinstance(error, EngineError), repr(error)


# -- 2. a node that also feeds unused nodes does not stop the gradient --------------------------
@settings(max_examples=50)
@given(v=st.floats(-3, 3))
def test_unused_consumer_does_not_block_gradient(v):
    x = node("input", None)
    y = node("sin", x)
    unused = node("exp", y)  # reaches no output
    o = node("*", y, y, is_output=True)
    g = graph([x], [], [o])
    g.feed([v], [])
    g.compute_forward()
    g.back_prop()
    expected = 2 * math.sin(v) * math.cos(v)  # d/dx sin²x
    assert x.backward == pytest.approx(expected, rel=1e-14, abs=1e-15)
    assert y.backward == pytest.approx(2 * math.sin(v), rel=1e-14, abs=1e-15)
    fd = gradient_fd(lambda t: math.sin(t[0]) ** 2, [v])
    assert x.backward == pytest.approx(fd[0], rel=1e-8, abs=1e-9)
    assert unused.backward in (0.0, None)  # no output depends on it


def test_unused_node_still_gets_its_value():
    """The README: "You may get the forward or backward value of any node effortlessly". A node
    built on the graph's leaves that reaches no output still has a value (its gradient is 0)."""
    x = node("input", None)
    y = node("sin", x)
    unused = node("exp", y)
    o = node("*", y, y, is_output=True)
    g = graph([x], [], [o])
    g.feed([0.8], [])
    g.compute_forward()
    g.back_prop()
    assert unused.forward == pytest.approx(math.exp(math.sin(0.8)), rel=1e-14)


def test_unused_consumer_chain_with_fan_out():
    """The reference's failure generalised: y feeds two outputs and three dead-end nodes."""
    x1, x2 = node("input", None), node("input", None)
    y = node("*", x1, x2)
    dead = [node("exp", y), node("log", node("exp", y)), node("neg", y)]
    o1 = node("sin", y, is_output=True)
    o2 = node("*", y, x1, is_output=True)
    g = graph([x1, x2], [], [o1, o2])
    f = lambda v: math.sin(v[0] * v[1]) + v[0] * v[1] * v[0]
    for point in ([0.3, -1.2], [2.0, 0.5]):
        g.feed(point, [])
        g.compute_forward()
        g.back_prop()
        fd = gradient_fd(f, point)
        np.testing.assert_allclose([x1.backward, x2.backward], fd, rtol=1e-8)
    assert len(dead) == 3


# -- 3. clear() is optional; repeated runs equal a fresh graph; nodes added after clear ---------
def build_expression():
    """y1 = x1·x2 + sin(x1)·c; y2 = exp(y1 / 4) − x2²; outputs [y1, y2].

    The consts 1/4 and 2 are created with their values and not listed in the graph.
    """
    x1, x2 = node("input", None), node("input", None)
    c = node("const", None)
    y1 = node("+", node("*", x1, x2), node("*", node("sin", x1), c), is_output=True)
    y2 = node("-", node("exp", node("*", y1, node("const", 0.25))), node("pow", x2,
                                                                          node("const", 2.0)))
    y2.set_as_output()
    return [x1, x2], [c], [y1, y2]


def scalar(v) -> float:
    # Scalar feeds should give Python floats; while unlisted const leaves turn them into arrays
    # of shape (1,) (see test_batch_and_events.py::test_scalar_feed_gives_floats), read either.
    return float(np.asarray(v).reshape(()))


def expression_sum(v, c):
    y1 = v[0] * v[1] + math.sin(v[0]) * c
    return y1 + math.exp(y1 / 4) - v[1] ** 2


@settings(max_examples=30)
@given(points=st.lists(st.tuples(st.floats(-2, 2), st.floats(-2, 2), st.floats(-2, 2)),
                       min_size=2, max_size=5),
       clears=st.lists(st.booleans(), min_size=5, max_size=5))
def test_repeated_runs_equal_fresh_graphs(points, clears):
    xs, cs, outs = build_expression()
    g = graph(xs, cs, outs)
    for (a, b, c), clear in zip(points, clears, strict=False):
        g.feed([a, b], [c])
        g.compute_forward()
        g.back_prop()
        got = ([scalar(n.forward) for n in outs], [scalar(n.backward) for n in xs + cs])
        if clear:
            g.clear()
        fxs, fcs, fouts = build_expression()
        fresh = graph(fxs, fcs, fouts)
        fresh.feed([a, b], [c])
        fresh.compute_forward()
        fresh.back_prop()
        assert got == ([scalar(n.forward) for n in fouts], [scalar(n.backward) for n in fxs + fcs])
        # ... and both are right: d(y1 + y2)/d(x1, x2, c) against central differences.
        fd = gradient_fd(lambda v: expression_sum(v[:2], v[2]), [a, b, c])
        np.testing.assert_allclose(got[1], fd, rtol=1e-7, atol=1e-8)


def test_back_prop_twice_does_not_accumulate_across_runs():
    xs, cs, outs = build_expression()
    g = graph(xs, cs, outs)
    g.feed([0.5, -0.7], [1.5])
    g.compute_forward()
    g.back_prop()
    first = [scalar(n.backward) for n in xs + cs]
    g.back_prop()
    g.back_prop()
    assert [scalar(n.backward) for n in xs + cs] == first
    fd = gradient_fd(lambda v: expression_sum(v[:2], v[2]), [0.5, -0.7, 1.5])
    np.testing.assert_allclose(first, fd, rtol=1e-7, atol=1e-8)


def test_nodes_created_after_clear_are_handled():
    xs, cs, outs = build_expression()
    output_list = list(outs)
    g = graph(xs, cs, output_list)
    g.feed([0.4, 1.1], [-0.6])
    g.compute_forward()
    g.back_prop()
    g.clear()
    # A new output built after the clear, on old nodes, with a new const leaf of its own.
    k = node("const", 3.0)
    z = node("*", node("cos", outs[1]), node("*", k, xs[0]))
    output_list.append(z)  # the list the graph was made with
    g.feed([0.4, 1.1], [-0.6])
    g.compute_forward()
    g.back_prop()

    def total(v):
        c = v[2]
        y1 = v[0] * v[1] + math.sin(v[0]) * c
        y2 = math.exp(y1 / 4) - v[1] ** 2
        return y1 + y2 + math.cos(y2) * 3.0 * v[0]

    assert scalar(z.forward) == pytest.approx(math.cos(scalar(outs[1].forward)) * 1.2, rel=1e-14)
    fd = gradient_fd(total, [0.4, 1.1, -0.6])
    np.testing.assert_allclose([scalar(n.backward) for n in xs + cs], fd, rtol=1e-7, atol=1e-8)
    # A graph made from scratch over the same nodes agrees.
    fresh = graph(xs, cs, output_list)
    fresh.feed([0.4, 1.1], [-0.6])
    fresh.compute_forward()
    fresh.back_prop()
    np.testing.assert_allclose([scalar(n.backward) for n in xs + cs], fd, rtol=1e-7, atol=1e-8)


def test_output_appended_to_the_callers_list_without_clear():
    x = node("input", None)
    o1 = node("sin", x)
    outputs = [o1]
    g = graph([x], [], outputs)
    g.feed([0.7], [])
    g.compute_forward()
    g.back_prop()
    assert x.backward == pytest.approx(math.cos(0.7), rel=1e-14)
    o2 = node("*", x, x)
    outputs.append(o2)
    g.compute_forward()
    g.back_prop()
    assert o2.forward == pytest.approx(0.49, rel=1e-15)
    assert x.backward == pytest.approx(math.cos(0.7) + 1.4, rel=1e-14)


# -- 4. several outputs, outputs feeding other nodes: d(sum of outputs)/d(node) -----------------
@settings(max_examples=50)
@given(v1=st.floats(-1.5, 1.5), v2=st.floats(-1.5, 1.5))
def test_several_outputs_one_feeding_another(v1, v2):
    x1, x2 = node("input", None), node("input", None)
    a = node("*", x1, x2, is_output=True)  # output, and feeds b and c
    b = node("+", node("sin", a), x2, is_output=True)  # output, and feeds c
    c = node("*", node("exp", a), b, is_output=True)
    g = graph([x1, x2], [], [a, b, c])
    g.feed([v1, v2], [])
    g.compute_forward()
    g.back_prop()

    av = v1 * v2
    bv = math.sin(av) + v2
    # d(a + b + c)/d(node), by hand, for every node:
    d_c = 1.0
    d_b = 1.0 + math.exp(av)  # b itself, and through c = exp(a)·b
    d_a = 1.0 + d_b * math.cos(av) + math.exp(av) * bv
    assert c.backward == pytest.approx(d_c, rel=1e-15)
    assert b.backward == pytest.approx(d_b, rel=1e-14)
    assert a.backward == pytest.approx(d_a, rel=1e-13, abs=1e-14)
    f = lambda v: (v[0] * v[1] + math.sin(v[0] * v[1]) + v[1]
                   + math.exp(v[0] * v[1]) * (math.sin(v[0] * v[1]) + v[1]))
    fd = gradient_fd(f, [v1, v2])
    np.testing.assert_allclose([x1.backward, x2.backward], fd, rtol=1e-7, atol=1e-8)
    assert x1.backward == pytest.approx(d_a * v2, rel=1e-13, abs=1e-14)
    assert x2.backward == pytest.approx(d_a * v1 + d_b, rel=1e-13, abs=1e-14)


def test_same_node_listed_twice_as_output_counts_once():
    x = node("input", None)
    o = node("sin", x)
    g = graph([x], [], [o, o])
    g.feed([0.3], [])
    g.compute_forward()
    g.back_prop()
    assert x.backward == pytest.approx(math.cos(0.3), rel=1e-14)


# -- 5. Softmax + Cross_Entropy_Loss are finite and exact for logits in [-1000, 1000] ------------
def softmax_loss_graph(n):
    net = nn()
    logits = net.new_input_nodes_list(n)
    labels = net.new_const_nodes_list(n)
    loss = net.Cross_Entropy_Loss(n, net.Softmax(n, logits), labels)
    loss.set_as_output()
    return logits, labels, loss, graph(logits, labels, [loss])


def mp_loss_and_gradient(logits, labels):
    """L = Σ y_i (lse - x_i) and dL/dx_i = p_i Σy - y_i, at 50 digits (mpmath)."""
    with mp.workdps(50):
        x = [mp.mpf(v) for v in logits]
        lse = mp.log(mp.fsum(mp.exp(v) for v in x))
        total = mp.fsum(mp.mpf(y) for y in labels)
        loss = mp.fsum(mp.mpf(y) * (lse - v) for y, v in zip(labels, x, strict=True))
        grad = [mp.exp(v - lse) * total - mp.mpf(y) for y, v in zip(labels, x, strict=True)]
        return loss, grad


def assert_loss_exact(got, exact):
    # float64's spacing at the normaliser Σ exp(x_i - max) ≥ 1 is 2.2e-16: a loss below 1e-6
    # (log of 1 + something tiny) can only be exact in absolute terms, to ~1e-16. Above 1e-6
    # that same absolute error is at most 2.2e-10 relative, inside the 1e-9.
    assert math.isfinite(got)
    with mp.workdps(50):
        error = abs(mp.mpf(got) - exact)
        if exact > 1e-6:
            assert error <= 1e-9 * exact, (got, exact)
        else:
            assert error <= 1e-15, (got, exact)


def assert_gradient_exact(got, exact):
    # dL/dx_i = p_i - y_i: p_i is relatively exact (even 1e-300), but p_i - 1 for the label, and
    # the gradient through the max-shift (0 up to rounding of O(1) terms), are exact only to a few
    # ulp of 1; hence 1e-9 relative plus 1e-14 absolute.
    assert all(math.isfinite(v) for v in got)
    with mp.workdps(50):
        for g, e in zip(got, exact, strict=True):
            assert abs(mp.mpf(g) - e) <= 1e-9 * abs(e) + 1e-14, (got, exact)


logit_lists = st.integers(2, 12).flatmap(
    lambda n: st.lists(st.floats(-1000, 1000), min_size=n, max_size=n))


@settings(max_examples=150)
@given(logits=logit_lists, data=st.data())
def test_softmax_cross_entropy_one_hot(logits, data):
    n = len(logits)
    k = data.draw(st.integers(0, n - 1), label="label")
    labels = [0.0] * n
    labels[k] = 1.0
    check_softmax_loss(logits, labels)


@settings(max_examples=100)
@given(logits=logit_lists, data=st.data())
def test_softmax_cross_entropy_soft_labels_with_zero_weights(logits, data):
    """Label weights ≥ 0, zero on some classes (often those whose probability underflows)."""
    n = len(logits)
    labels = data.draw(st.lists(st.sampled_from([0.0, 0.0, 0.25, 0.5, 1.0]), min_size=n,
                                max_size=n), label="labels")
    check_softmax_loss(logits, labels)


def test_softmax_cross_entropy_extremes():
    """Hand-picked: probabilities that underflow (e^-2000) with label 0, and labels on them."""
    cases = [
        ([1000.0, -1000.0], [1.0, 0.0]),
        ([1000.0, -1000.0], [0.0, 1.0]),  # loss 2000, p = e^-2000 underflows
        ([-1000.0] * 5 + [1000.0], [0.0] * 5 + [1.0]),
        ([0.0, 0.0, 0.0], [0.0, 1.0, 0.0]),  # ties of the max
        ([700.0, 700.0 - 1e-9, -700.0], [1.0, 0.0, 0.0]),
    ]
    for logits, labels in cases:
        check_softmax_loss(logits, labels)


def check_softmax_loss(logits, labels):
    """The engine's loss and logit gradients against mpmath's, for one example."""
    xs, ys, loss, g = softmax_loss_graph(len(logits))
    g.feed(logits, labels)
    g.compute_forward()
    g.back_prop()
    exact_loss, exact_grad = mp_loss_and_gradient(logits, labels)
    assert_loss_exact(loss.forward, exact_loss)
    assert_gradient_exact([x.backward for x in xs], exact_grad)


# -- 6. domain errors: strict raises, lenient flags ---------------------------------------------
def _deep_graph(lenient):
    """o1 = sin(x) + log(x·c), o2 = cos(z): the log fails when x·c ≤ 0; o2 never does."""
    x, z, c = node("input", None), node("input", None), node("const", None)
    bad = node("log", node("*", x, c), name="the log")
    o1 = node("+", node("sin", x), bad)
    o2 = node("cos", z)
    return (x, z, c, bad, o1, o2), graph([x, z], [c], [o1, o2], lenient=lenient)


@settings(max_examples=30)
@given(v=st.floats(0.1, 10), c=st.floats(-10, 0))
def test_domain_error_strict_in_a_graph(v, c):
    (x, z, cn, bad, o1, o2), g = _deep_graph(lenient=False)
    g.feed([v, 0.5], [c])
    with pytest.raises(DomainError) as info:
        g.compute_forward()
    message = str(info.value)
    assert f"#{bad.id}" in message and "'the log'" in message and "(log)" in message
    assert repr(v * c) in message
    assert info.value.node is bad


@settings(max_examples=30)
@given(v=st.floats(0.1, 10), c=st.floats(-10, 0), w=st.floats(-3, 3))
def test_domain_error_lenient_in_a_graph(v, c, w):
    (x, z, cn, bad, o1, o2), g = _deep_graph(lenient=True)
    g.feed([v, w], [c])
    g.compute_forward()
    g.back_prop()
    expected = -math.inf if v * c == 0 else math.nan
    assert (math.isnan(bad.forward) and math.isnan(expected)) or bad.forward == expected
    assert not math.isfinite(o1.forward)
    flagged = g.flagged()
    assert bad in flagged and o1 in flagged
    assert o2 not in flagged and z not in flagged
    assert o2.forward == pytest.approx(math.cos(w), rel=1e-14, abs=1e-300)
    assert z.backward == pytest.approx(-math.sin(w), rel=1e-14, abs=1e-300)
    # After a good feed the same graph recovers, and nothing is flagged.
    g.feed([v, w], [abs(c) + 0.5])
    g.compute_forward()
    g.back_prop()
    assert g.flagged() == []
    assert bad.forward == pytest.approx(math.log(v * (abs(c) + 0.5)), rel=1e-14, abs=1e-15)


def test_another_graphs_flagged_output_built_on_this_one_is_not_an_output():
    """A loss flagged is_output for another graph must not change this graph's gradients."""
    x = node("input", None)
    y = node("sin", x)
    other_loss = node("*", y, y, is_output=True)  # built on y, for some other graph
    g = graph([x], [], [y])
    g.feed([0.4], [])
    g.compute_forward()
    g.back_prop()
    assert x.backward == pytest.approx(math.cos(0.4), rel=1e-15)  # d sin(x)/dx only
    assert other_loss.forward == pytest.approx(math.sin(0.4) ** 2, rel=1e-15)  # still computed
    assert other_loss.backward == 0.0


def test_a_graph_nobody_holds_is_freed():
    """The engine keeps no graph alive by itself: once the caller lets go, the nodes and the
    compiled program go too (they used to stay until another graph was computed)."""
    import gc
    import weakref

    x = node("input", 0.5)
    y = x * x + engine.sin(x)
    g = graph([x], [], [y])
    g.compute_forward()
    g.back_prop()
    assert y.forward == pytest.approx(0.25 + np.sin(0.5)) and x.backward == pytest.approx(
        1.0 + np.cos(0.5))
    program, output = weakref.ref(g.program()), weakref.ref(y)
    del x, y, g
    gc.collect()
    assert program() is None and output() is None


# -- A compiled graph is compiled again only when a flag of its own changes -------------------
def test_a_node_flagged_after_a_compile_is_back_propagated_from():
    """d/dx of y = 2·sin(x) is 2cos(x); once sin(x) is flagged as an output too, back-prop
    starts from it as well (the reference's rule): 3cos(x)."""
    x = node("input", None)
    a = node("sin", x)
    y = node("*", a, node("const", 2.0))
    g = graph([x], [], [y])
    g.feed([0.4], [])
    g.compute_forward()
    g.back_prop()
    assert x.backward == pytest.approx(2 * math.cos(0.4), rel=1e-14)
    a.set_as_output()
    g.compute_forward()
    g.back_prop()
    assert x.backward == pytest.approx(3 * math.cos(0.4), rel=1e-14)


def test_another_graphs_outputs_leave_a_compiled_graph_compiled():
    """Flagging any node moves one global counter; a graph whose own nodes' flags are as they
    were keeps its program (a server's cached graphs were compiled again after every upload)."""
    inputs, consts, outputs = build_expression()
    g = graph(inputs, consts, outputs)
    program = g.program()
    other_inputs, _, other_outputs = build_expression()  # flags its y1 and y2
    other = node("+", other_outputs[0], other_inputs[0])
    other.set_as_output()
    assert g.program() is program
