"""The widget's kernel side (engine/notebook/): the page's protocol answered by the engine.

Oracles: the engine run here on graphs built independently of the ones the kernel holds, and
closed forms for the descent step. The JavaScript half is tested in chromium
(tests/browser/test_notebook.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import engine
from engine import graph, node, sigmoid
from engine.examples import reference_expression
from engine.formats import load
from engine.notebook import GraphWidget
from engine.notebook.kernel import KernelGraph
from engine.notebook.messages import pack
from engine.notebook.target import as_target
from tests.server.frames import decode

ROOT = Path(__file__).resolve().parents[2]


def neuron():
    w = [node("input", 0.8, name="w1"), node("input", -0.4, name="w2"),
         node("input", 0.1, name="b")]
    x = [node("const", 1.5, name="x1"), node("const", 2.0, name="x2")]
    y = sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    y.name = "y"
    return w, x, y, graph(w, x, [y])


def frames_of(events, phase):
    return [data for name, data in events if name == "trace" and data["phase"] == phase]


def decoded(events, n):
    """Each node's value and gradient from a trace's binary frames."""
    values, grads = np.full(n, np.nan), np.full(n, np.nan)
    for frame in frames_of(events, "forward"):
        span = slice(frame["start"], frame["start"] + frame["count"])
        values[span] = np.frombuffer(frame["values"], "<f8")
    for frame in frames_of(events, "backward"):
        ids = decode(frame)["ids"]
        grads[ids] = np.frombuffer(frame["grads"], "<f8")
    return values, grads


def test_a_trace_carries_every_value_and_gradient_the_engine_computes():
    kernel = KernelGraph(as_target(reference_expression()[2]))
    ack, events = kernel.handle("trace_graph", {})
    assert ack["ok"] and [name for name, _ in events][0] == "trace_start"
    assert events[-1] == ("trace_done", {"trace": ack["trace"], "flagged": []})
    _, _, g = reference_expression()  # the oracle: the same expression, built and run here
    g.compute_forward()
    g.back_prop()
    program = g.program()
    values, grads = decoded(events, len(program.nodes))
    assert values.tolist() == program.values.tolist()
    assert grads.tolist() == program.grads.tolist()


def test_what_if_values_hold_for_one_trace_and_python_keeps_its_own():
    (x1, _, _), y, g = reference_expression()
    kernel = KernelGraph(as_target(g))
    g.compute_forward()
    before = float(y.forward)
    ack, events = kernel.handle("trace_graph", {"values": {"x1": 0.5, "2": 1.1}})
    assert ack["ok"]
    oracle = reference_expression(x1=0.5, x2=0.7, x3=1.1)[2]  # node #2 is x3
    oracle.compute_forward()
    values, _ = decoded(events, len(oracle.program().nodes))
    assert values.tolist() == oracle.program().values.tolist()
    assert float(x1.forward) == 0.3 and float(y.forward) == before


@pytest.mark.parametrize(("values", "message"), [
    ({"nope": 1.0}, "no node 'nope'"),
    ({"y": 1.0}, "computed"),
    ({"x1": "big"}, "finite number"),
    ({"x1": float("inf")}, "finite number"),
    ({"²": 1.0}, "no node '²'"),  # a digit to str.isdigit, not to int()
    ({"99": 1.0}, "no node '99'"),
])
def test_bad_what_if_values_are_refused_and_change_nothing(values, message):
    (x1, _, _), y, g = reference_expression()
    kernel = KernelGraph(as_target(g))
    ack, events = kernel.handle("trace_graph", {"values": values})
    assert not ack["ok"] and message in ack["error"]["message"] and events == []
    g.compute_forward()
    assert float(x1.forward) == 0.3


def test_a_domain_error_names_the_node_by_its_wire_id_and_restores_the_values():
    (_, _, x3), _, g = reference_expression()
    kernel = KernelGraph(as_target(g))
    ack, _ = kernel.handle("trace_graph", {"values": {"x3": -1.0}})
    position = ack["error"]["node"]
    assert g.program().nodes[position].operator == "log"
    assert f"#{position}" in ack["error"]["message"]
    assert float(x3.forward) == 1.4


def test_descend_in_the_kernel_is_engine_descend_and_undo_restores_exactly():
    w, x, y, g = neuron()
    kernel = KernelGraph(as_target(g))
    ack, _ = kernel.handle("descend", {"lr": 0.5})
    assert ack["ok"] and ack["steps"] == 1
    ow, _, oy, og = neuron()
    step = engine.descend(og, 0.5)  # the oracle, on a neuron of its own
    assert [float(n.forward) for n in w] == [float(n.forward) for n in ow]
    assert np.frombuffer(ack["step"]["new"], "<f8").tolist() == step.new.tolist()
    assert np.frombuffer(ack["step"]["gradient"], "<f8").tolist() == step.gradient.tolist()
    assert float(y.forward) == float(oy.forward)
    z = 0.8 * 1.5 - 0.4 * 2.0 + 0.1  # closed form: w1 ← w1 − lr σ'(z) x1
    s = 1 / (1 + math.exp(-z))
    assert float(w[0].forward) == pytest.approx(0.8 - 0.5 * s * (1 - s) * 1.5, rel=1e-14)
    ack, _ = kernel.handle("undo_descend", {})
    assert ack == {"ok": True, "steps": 0}
    assert [float(n.forward) for n in w] == [0.8, -0.4, 0.1]
    _, _, fresh_y, fresh = neuron()
    fresh.compute_forward()
    assert float(y.forward) == float(fresh_y.forward)
    ack, _ = kernel.handle("undo_descend", {})
    assert not ack["ok"] and "no descent step" in ack["error"]["message"]


def test_descend_starts_from_the_what_if_values_and_consts_go_back():
    w, x, y, g = neuron()
    kernel = KernelGraph(as_target(g))
    ack, _ = kernel.handle("descend", {"lr": 0.5, "values": {"w1": 0.0, "x1": 3.0}})
    assert ack["ok"]
    ow, ox, _, og = neuron()
    ow[0].feed(0.0)
    ox[0].feed(3.0)
    engine.descend(og, 0.5)
    assert [float(n.forward) for n in w] == [float(n.forward) for n in ow]
    assert float(x[0].forward) == 1.5  # a what-if const is data: it goes back


@pytest.mark.parametrize("lr", [0, -1, "fast", None])
def test_a_bad_learning_rate_is_refused_and_changes_nothing(lr):
    w, _, _, g = neuron()
    ack, _ = KernelGraph(as_target(g)).handle("descend", {"lr": lr})
    assert not ack["ok"] and "learning rate" in ack["error"]["message"]
    assert [float(n.forward) for n in w] == [0.8, -0.4, 0.1]


def test_unknown_requests_are_answered_not_raised():
    ack, _ = KernelGraph(as_target(neuron()[3])).handle("__init__", {})
    assert ack == {"ok": False, "error": {"message": "unknown request '__init__'"}}


def test_show_takes_graphs_nodes_loaded_files_and_to_graph():
    _, _, y, g = neuron()
    assert as_target(g).graph is g and as_target(g).title == "y"
    from_node = as_target(y)
    assert from_node.graph.output_nodes == [y]
    loaded = load("a = input(2)\nb = a * a\noutput b", filename="square.expr")
    target = as_target(loaded)
    assert target.graph is loaded.graph and target.title == "square.expr"
    assert target.names["a"] is loaded.inputs["a"]

    class Micrograd:  # issue 12's engine.Value will have to_graph()
        def to_graph(self):
            return g

    assert as_target(Micrograd()).graph is g
    with pytest.raises(TypeError, match="takes a graph, a node, or a loaded file"):
        as_target(3.0)


def test_a_node_shown_on_its_own_gets_the_graph_of_what_it_depends_on():
    x = node("input", 3.0, name="x")
    y = x * x + 1.0
    kernel = KernelGraph(as_target(y))
    ack, events = kernel.handle("trace_graph", {})
    values, grads = decoded(events, 4)
    position = kernel.graph.program().position
    assert values[position[y]] == 10.0 and grads[position[x]] == 6.0  # y = x² + 1, y' = 2x


@pytest.mark.slow
def test_the_resnet_loads_with_its_blocks():
    loaded = load((ROOT / "examples" / "resnet.network.json").read_text(),
                  filename="resnet.network.json")
    ack, _ = KernelGraph(as_target(loaded)).handle("load_graph", {})
    groups = [g["name"] for g in ack["graph"]["description"]["groups"]]
    assert {"conv1", "skip", "fc3", "loss"} <= set(groups)
    kinds = {g["name"]: g["kind"] for g in ack["graph"]["description"]["groups"]}
    assert kinds["conv1"] == "conv" and kinds["skip"] == "add"


def test_messages_send_bytes_as_buffers_and_non_finite_numbers_as_strings():
    message, buffers = pack({"a": b"\x01\x02", "b": [1.5, float("nan"), {"c": b"\x03"}],
                             "d": float("-inf")})
    assert message == {"a": {"$buffer": 0}, "b": [1.5, "NaN", {"c": {"$buffer": 1}}],
                       "d": "-Infinity"}
    assert buffers == [b"\x01\x02", b"\x03"]


def test_the_widget_carries_the_built_bundle_and_its_options():
    """Needs `npm run build` (static/dist/widget.js), as the browser tests do."""
    w = GraphWidget(neuron()[3], lr=0.25, height=300, title="a neuron")
    assert "render" in w._esm and ".bpl-widget" in w._css and "postMessage" in w._worker
    assert (w.lr, w.height, w.title, w.steps) == (0.25, 300, "a neuron", 0)
    with pytest.raises(ValueError, match="at least 200"):
        GraphWidget(neuron()[3], height=50)


def test_the_gradient_check_agrees_with_central_differences_taken_here():
    (x1, x2, x3), _, g = reference_expression()
    ack, _ = KernelGraph(as_target(g)).handle("gradient_check", {"values": {"x1": 0.4}})
    assert ack["ok"] and [r["name"] for r in ack["inputs"]] == ["x1", "x2", "x3"]
    assert all(r["agree"] for r in ack["inputs"])

    def y(a, b, c):  # the reference expression, in plain math
        return ((math.sin(a + 1) + math.cos(2 * b)) * math.tan(math.log(c))
                + (math.sin(b + 1) + math.cos(2 * a)) * math.exp(1 + math.sin(c)))
    point, h = [0.4, 0.7, 1.4], 1e-6
    for k, row in enumerate(ack["inputs"]):
        up, down = list(point), list(point)
        up[k] += h
        down[k] -= h
        assert row["analytic"] == pytest.approx((y(*up) - y(*down)) / (2 * h), rel=1e-6)
    g.compute_forward()
    assert float(x1.forward) == 0.3  # the what-if value held for the check only


def test_a_missing_bundle_file_says_what_to_run():
    from engine.notebook.bundle import BundleMissingError, read

    with pytest.raises(BundleMissingError, match=r"run `npm run build` in .*static/dist/nope\.js"):
        read("nope.js")
