"""Batched evaluation equals B separate evaluations; observer events replay to every node's value
and gradient; graph.describe() is plain data with correct depths."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import DomainError, Event, graph, nn, node
from tests.engine.test_random_dags import dags
from tests.engine.test_reference import numpy_resnet_loss
from tests.oracles import gradient_fd


def run_scalar(g, nodes, inputs, consts):
    """Feed one sample; every node's (value, gradient)."""
    g.feed(list(inputs), list(consts))
    g.compute_forward()
    g.back_prop()
    return [(n.forward, n.backward) for n in nodes]


# -- batches -----------------------------------------------------------------------------------
@settings(max_examples=60)
@given(case=dags(), batch=st.integers(1, 6), data=st.data())
def test_batch_equals_separate_evaluations(case, batch, data):
    dag, outputs, _ = case
    inputs, consts, nodes = dag.build()
    g = graph(inputs, consts, [nodes[k] for k in outputs])
    everything = g.nodes()
    xs = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=dag.n_inputs * batch,
                                     max_size=dag.n_inputs * batch))).reshape(dag.n_inputs,
                                                                              batch)
    # The DAG's consts, varied per sample by a factor (keeps them inside the guarded domains,
    # which never depend on const values).
    scale = np.array(data.draw(st.lists(st.floats(0.5, 1.0), min_size=batch, max_size=batch)))
    cs = np.outer(dag.const_values, scale)
    cs[0] = 1.0  # position n_inputs is the const 1 the guards rely on

    separate = [run_scalar(g, everything, xs[:, b], cs[:, b]) for b in range(batch)]
    g.feed(xs, cs)
    g.compute_forward()
    g.back_prop()
    input_set = set(inputs)
    for i, n in enumerate(everything):
        values = np.array([separate[b][i][0] for b in range(batch)], np.float64).ravel()
        grads = np.array([separate[b][i][1] for b in range(batch)], np.float64).ravel()
        assert np.shape(n.forward) == (batch,)
        # Same numpy operations on (nodes,) and (nodes, B) arrays: equal up to a few ulp.
        np.testing.assert_allclose(n.forward, values, rtol=1e-14, atol=1e-300)
        if n in input_set:
            # 'input' nodes are the trainable variables: their gradient is summed over the batch.
            assert isinstance(n.backward, float)
            assert n.backward == pytest.approx(math.fsum(grads), rel=1e-12,
                                               abs=1e-14 * (1 + np.abs(grads).sum()))
        else:
            assert np.shape(n.backward) == (batch,)
            np.testing.assert_allclose(n.backward, grads, rtol=1e-13, atol=1e-14)


def test_batch_with_scalar_consts_broadcasts():
    x = node("input", None)
    c = node("const", None)
    o = node("*", node("sin", x), c)
    g = graph([x], [c], [o])
    xs = np.array([0.1, 0.5, -2.0, 3.0])
    g.feed([xs], [2.5])  # one batched input, one scalar const
    g.compute_forward()
    g.back_prop()
    np.testing.assert_allclose(o.forward, 2.5 * np.sin(xs), rtol=1e-15)
    assert x.backward == pytest.approx(float(np.sum(2.5 * np.cos(xs))), rel=1e-14)
    np.testing.assert_allclose(c.backward, np.sin(xs), rtol=1e-15)


def test_node_feed_batch_with_scalar_broadcasts():
    """The same through node.feed: a (B,) array on one leaf, a number on another."""
    x = node("input", None)
    c = node("const", None)
    o = node("*", node("sin", x), c)
    xs = np.array([0.1, 0.5, -2.0, 3.0])
    x.feed(xs)
    c.feed(2.5)
    g = graph([x], [c], [o])
    g.compute_forward()
    g.back_prop()
    np.testing.assert_allclose(o.forward, 2.5 * np.sin(xs), rtol=1e-15)
    assert x.backward == pytest.approx(float(np.sum(2.5 * np.cos(xs))), rel=1e-14)


def test_batch_domain_error_names_the_sample():
    x = node("input", None)
    o = node("log", x)
    g = graph([x], [], [o])
    g.feed([[1.0, 2.0, -3.5, 4.0]], [])
    with pytest.raises(DomainError) as info:
        g.compute_forward()
    message = str(info.value)
    assert f"#{o.id}" in message and "log" in message and "-3.5" in message
    assert "sample 2" in message


def test_scalar_feed_gives_floats():
    """One sample in, Python floats out — also when the graph holds const leaves created with a
    value and not listed in graph(...), as operator overloading makes them (``2 * x``)."""
    x = node("input", None)
    o = node("+", 2 * x, node("sin", x))  # 2 becomes an unlisted const leaf
    g = graph([x], [], [o])
    g.feed([0.5], [])
    g.compute_forward()
    g.back_prop()
    for n in g.nodes():
        assert isinstance(n.forward, float), (n, n.forward)
        assert isinstance(n.backward, float), (n, n.backward)
    assert o.forward == pytest.approx(1.0 + math.sin(0.5), rel=1e-15)
    assert x.backward == pytest.approx(2.0 + math.cos(0.5), rel=1e-15)


def test_resnet_batch(resnet):
    ns = resnet
    batch = 3
    rng = np.random.default_rng(11)
    images = rng.random((256, batch))
    labels = np.zeros((10, batch))
    labels[[1, 7, 4], range(batch)] = 1.0
    weights = np.asarray(ns["init_weights"], np.float64)
    consts = np.vstack([images, labels, np.zeros((1, batch))])
    G, Loss, W = ns["Graph"], ns["Loss"], ns["Weights"]

    separate_loss, separate_grad = [], []
    for b in range(batch):
        G.feed(list(weights), list(consts[:, b]))
        G.compute_forward()
        G.back_prop()
        separate_loss.append(Loss.forward)
        separate_grad.append([w.backward for w in W])
    G.feed(weights, consts)
    G.compute_forward()
    G.back_prop()
    np.testing.assert_allclose(Loss.forward, separate_loss, rtol=1e-14)
    expected = [numpy_resnet_loss(weights, images[:, b], labels[:, b]) for b in range(batch)]
    np.testing.assert_allclose(Loss.forward, expected, rtol=1e-12)
    summed = np.sum(separate_grad, axis=0)
    np.testing.assert_allclose([w.backward for w in W], summed, rtol=1e-12,
                               atol=1e-14 * np.abs(separate_grad).sum(axis=0).max())


# -- events ------------------------------------------------------------------------------------
def event_graph():
    """s = x1·x2 fans out; outputs a = sin(s) + c, b = exp(-s)·sin(s), o = a·x1 (a feeds o)."""
    x1, x2, c = node("input", None), node("input", None), node("const", None)
    s = node("*", x1, x2)
    t = node("sin", s)
    a = node("+", t, c, is_output=True)
    b = node("*", node("exp", node("neg", s)), t, is_output=True)
    o = node("*", a, x1, is_output=True)
    return [x1, x2], [c], [a, b, o], graph([x1, x2], [c], [a, b, o])


def event_sum(v, c):
    s = v[0] * v[1]
    a = math.sin(s) + c
    return a + math.exp(-s) * math.sin(s) + a * v[0]


# Local derivatives d node / d child, by hand, from the children's values.
LOCAL = {
    "+": lambda a, b: (1.0, 1.0), "-": lambda a, b: (1.0, -1.0), "*": lambda a, b: (b, a),
    "/": lambda a, b: (1 / b, -a / b ** 2), "pow": lambda a, b: (b * a ** (b - 1),
                                                                a ** b * math.log(a)),
    "neg": lambda a: (-1.0,), "sin": lambda a: (math.cos(a),), "cos": lambda a: (-math.sin(a),),
    "tan": lambda a: (1 / math.cos(a) ** 2,), "exp": lambda a: (math.exp(a),),
    "log": lambda a: (1 / a,), "inv": lambda a: (-1 / a ** 2,),
    "sqrt": lambda a: (0.5 / math.sqrt(a),), "tanh": lambda a: (1 / math.cosh(a) ** 2,),
    "sigmoid": lambda a: (math.exp(-a) / (1 + math.exp(-a)) ** 2,),
}


def collect_events(g):
    forward, backward = [], []
    g.compute_forward(observer=forward.append)
    g.back_prop(observer=backward.append)
    return forward, backward


def check_events(g, forward, backward):
    """The properties every run's events must have; returns the replayed gradients."""
    nodes = g.nodes()
    assert all(isinstance(e, Event) for e in forward + backward)
    # forward: one event per node, children first, carrying the node's value.
    assert [e.kind for e in forward] == ["forward"] * len(nodes)
    assert sorted(id(e.node) for e in forward) == sorted(id(n) for n in nodes)
    seen = set()
    for e in forward:
        assert all(id(c) in seen for c in e.node.children)
        seen.add(id(e.node))
        assert e.value == e.node.forward

    # backward: replay, checking each edge and the order of gradient events.
    grads = {id(n): 0.0 for n in nodes}
    final: dict[int, float] = {}
    assert {e.kind for e in backward} <= {"seed", "gradient", "edge"}
    for e in backward:
        if e.kind == "seed":
            assert id(e.node) not in final
            grads[id(e.node)] += e.value
        elif e.kind == "gradient":
            assert id(e.node) not in final  # one gradient event per node
            final[id(e.node)] = e.value
            # All contributions into this node have arrived: the replayed sum is its gradient.
            assert e.value == pytest.approx(grads[id(e.node)], rel=1e-15, abs=0.0)
        else:
            assert id(e.node) in final  # the parent's gradient was final before its edges
            assert id(e.child) not in final  # ... and the child's is not yet
            assert e.upstream == final[id(e.node)]
            assert e.value == e.upstream * e.local  # contribution = upstream × local
            assert e.child in e.node.children
            grads[id(e.child)] += e.value
    assert set(final) == {id(n) for n in nodes}
    for n in nodes:
        assert grads[id(n)] == pytest.approx(n.backward, rel=1e-15, abs=0.0)
        assert final[id(n)] == n.backward
    # Every edge of the graph appears once.
    edges = [(id(e.node), id(e.child)) for e in backward if e.kind == "edge"]
    assert len(edges) == sum(len(n.children) for n in nodes)
    return backward


def test_events_replay_to_values_and_gradients():
    xs, cs, outs, g = event_graph()
    for point, c in (([0.4, -1.3], 0.7), ([1.1, 0.6], -2.0)):
        g.feed(point, [c])
        forward, backward = collect_events(g)
        check_events(g, forward, backward)
        seeds = [e.node for e in backward if e.kind == "seed"]
        assert sorted(id(n) for n in seeds) == sorted(id(n) for n in outs)
        assert all(e.value == 1.0 for e in backward if e.kind == "seed")
        # Outside oracles: each edge's local derivative by hand, and input gradients by FD.
        for e in backward:
            if e.kind == "edge":
                kids = [k.forward for k in e.node.children]
                which = e.node.children.index(e.child)
                expected = LOCAL[e.node.operator](*kids)[which]
                assert e.local == pytest.approx(expected, rel=1e-14, abs=1e-15)
        fd = gradient_fd(lambda v: event_sum(v[:2], v[2]), [*point, c])
        np.testing.assert_allclose([n.backward for n in xs + cs], fd, rtol=1e-8, atol=1e-10)
        s = point[0] * point[1]
        assert outs[0].forward == pytest.approx(math.sin(s) + c, rel=1e-15)


@settings(max_examples=60)
@given(case=dags())
def test_events_replay_on_random_dags(case):
    dag, outputs, values = case
    inputs, consts, nodes = dag.build()
    g = graph(inputs, consts, [nodes[k] for k in outputs])
    g.feed(values, dag.const_values)
    forward, backward = collect_events(g)
    check_events(g, forward, backward)
    expected = dag.evaluate(values)
    by_node = {id(n): k for k, n in enumerate(nodes)}
    for e in forward:
        assert e.value == pytest.approx(expected[by_node[id(e.node)]], rel=1e-11, abs=1e-12)


def test_no_events_without_observer_and_same_results():
    xs, cs, outs, g = event_graph()
    g.feed([0.4, -1.3], [0.7])
    g.compute_forward()
    g.back_prop()
    quiet = [n.backward for n in g.nodes()]
    forward, backward = collect_events(g)
    assert [n.backward for n in g.nodes()] == quiet


# -- describe ----------------------------------------------------------------------------------
def _plain(value) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return type(value) in (type(None), bool, int, float, str)
    if isinstance(value, list):
        return type(value) is list and all(_plain(v) for v in value)
    if isinstance(value, dict):
        return type(value) is dict and all(type(k) is str and _plain(v) for k, v in value.items())
    return False


def test_describe_is_plain_data_with_depths():
    net = nn()
    image = net.new_const_nodes_list(12, name="pixel")
    zero = net.new_const_nodes_list(1)
    conv, Wc, bc, _ = net.Conv(3, 4, image, padding_zero=zero)
    y, W, b = net.FC(12, 3, net.ReLU(12, conv))
    labels = net.new_const_nodes_list(3)
    loss = net.Cross_Entropy_Loss(3, net.Softmax(3, y), labels)
    named = node("sin", loss, name="sin of loss", is_output=True)
    inputs = W + b + Wc + bc
    g = graph(inputs, image + zero + labels, [loss, named])
    g.feed(list(np.linspace(-1, 1, len(inputs))), list(np.linspace(0, 1, 12)) + [0, 0, 1, 0])
    g.compute_forward()
    g.back_prop()

    described = g.describe()
    assert _plain(described)
    assert json.loads(json.dumps(described)) == described
    records = described["nodes"]
    nodes = g.nodes()
    assert sorted(r["id"] for r in records) == sorted(n.id for n in nodes)
    assert len({r["id"] for r in records}) == len(records)
    by_id = {n.id: n for n in nodes}
    for r in records:
        assert {"id", "op", "name", "group", "children", "depth"} <= set(r)
        n = by_id[r["id"]]
        assert r["op"] == n.operator and r["name"] == n.name and r["group"] == n.group
        assert r["children"] == [c.id for c in n.children]

    depth: dict[int, int] = {}

    def depth_of(n):  # leaves 0, otherwise 1 + the deepest child, computed here independently
        if n.id not in depth:
            depth[n.id] = 0 if not n.children else 1 + max(depth_of(c) for c in n.children)
        return depth[n.id]

    for r in records:
        assert r["depth"] == depth_of(by_id[r["id"]])
    assert set(described["outputs"]) == {loss.id, named.id}
    assert by_id[named.id].name == "sin of loss"
    assert {r["name"] for r in records if r["id"] in {n.id for n in image}} == {
        f"pixel[{i}]" for i in range(12)}
    groups = {r["group"] for r in records if r["op"] not in ("input", "const")}
    assert {"Conv1", "ReLU1", "FC2", "Softmax2"} <= groups
    # Ids are stable: describing again (after another run) gives the same data.
    g.compute_forward()
    assert g.describe() == described
