"""descend_graph: one descent step from the page's values, against the closed-form gradient of
the reference expression (tests/server/test_sockets.py's oracle); the shared graph keeps nothing."""

from __future__ import annotations

import numpy as np
import pytest

from tests.server.test_sockets import REF, call, reference

X = (0.3, 0.7, 1.4)


def f64(data) -> list[float]:
    return np.frombuffer(data, "<f8").tolist()


def step_of(ack) -> dict:
    assert ack["ok"], ack
    s = ack["step"]
    return {**{k: f64(s[k]) for k in ("old", "gradient", "fresh", "new", "outputs_before",
                                      "outputs_after")},
            "ids": np.frombuffer(s["ids"], "<i4").tolist(), "lr": s["lr"]}


def test_a_step_is_old_minus_lr_times_the_closed_form_gradient(sock):
    step = step_of(call(sock, "descend_graph", {"graph": REF, "lr": 0.05}))
    y, grads = reference(*X)
    assert step["old"] == list(X)
    assert step["gradient"] == pytest.approx(grads, rel=1e-12)
    new = [x - 0.05 * g for x, g in zip(X, grads, strict=True)]
    assert step["new"] == pytest.approx(new, rel=1e-12)
    assert step["outputs_before"] == pytest.approx([y], rel=1e-12)
    assert step["outputs_after"] == pytest.approx([reference(*new)[0]], rel=1e-12)


def test_steps_chain_from_the_values_sent_and_the_shared_graph_keeps_none(sock, other_client,
                                                                          app):
    first = step_of(call(sock, "descend_graph", {"graph": REF, "lr": 0.05}))
    values = dict(zip(("x1", "x2", "x3"), first["new"], strict=True))
    second = step_of(call(sock, "descend_graph", {"graph": REF, "lr": 0.05, "values": values}))
    assert second["old"] == first["new"]  # bit for bit: the binary floats round-trip
    _, grads = reference(*first["new"])
    assert second["gradient"] == pytest.approx(grads, rel=1e-12)
    other = app.extensions["socketio"].test_client(app, flask_test_client=other_client)
    again = step_of(call(other, "descend_graph", {"graph": REF, "lr": 0.05}))
    assert again["old"] == list(X)  # nobody else sees the steps
    other.disconnect()


def test_carried_gradients_are_added_as_a_skipped_zero_grad_adds_them(sock):
    ids = step_of(call(sock, "descend_graph", {"graph": REF, "lr": 0.05}))["ids"]
    kept = [0.5, -1.0, 2.0]
    carried = dict(zip(map(str, ids), kept, strict=True))
    step = step_of(call(sock, "descend_graph", {"graph": REF, "lr": 0.05, "carried": carried}))
    _, grads = reference(*X)
    assert step["fresh"] == pytest.approx(grads, rel=1e-12)
    summed = [k + g for k, g in zip(kept, grads, strict=True)]
    assert step["gradient"] == pytest.approx(summed, rel=1e-12)


@pytest.mark.parametrize("data, fragment", [
    ({"lr": 0}, "learning rate"),
    ({"lr": "fast"}, "learning rate"),
    ({"lr": 0.1, "carried": {"99": 1.0}}, "not the wire id of an input"),
    ({"lr": 0.1, "carried": [1.0]}, "carried must be an object"),
    ({"lr": 0.1, "carried": {"0": "x"}}, "must be a number"),
])
def test_bad_descend_requests_are_refused_with_the_reason(sock, data, fragment):
    ack = call(sock, "descend_graph", {"graph": REF, **data})
    assert not ack["ok"] and fragment in ack["error"]["message"]


def test_a_step_out_of_the_domain_names_the_node_and_changes_nothing(sock):
    # log(x3) with x3 = 0.01 and a huge step: x3 goes negative, log refuses it.
    ack = call(sock, "descend_graph", {"graph": REF, "lr": 10.0, "values": {"x3": 0.01}})
    assert not ack["ok"] and "log" in ack["error"]["message"]
    step = step_of(call(sock, "descend_graph", {"graph": REF, "lr": 0.05}))
    assert step["old"] == list(X)
