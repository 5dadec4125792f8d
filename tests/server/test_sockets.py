"""Socket.IO events through Flask-SocketIO's test client: traces, errors, checks, training."""

from __future__ import annotations

import io
import math
import time
from pathlib import Path

import pytest

from tests.server.frames import decode, nodes_of

REF = "example:reference.expr"


def reference(x1=0.3, x2=0.7, x3=1.4):
    """y of examples/reference.expr and its gradient, written out by hand."""
    a = math.sin(x1 + 1) + math.cos(2 * x2)
    b = math.tan(math.log(x3))
    c = math.sin(x2 + 1) + math.cos(2 * x1)
    d = math.exp(1 + math.sin(x3))
    y = a * b + c * d
    dx1 = math.cos(x1 + 1) * b - 2 * math.sin(2 * x1) * d
    dx2 = -2 * math.sin(2 * x2) * b + math.cos(x2 + 1) * d
    dx3 = a * (1 + b * b) / x3 + c * d * math.cos(x3)
    return y, (dx1, dx2, dx3)


def call(sock, event, data):
    return sock.emit(event, data, callback=True)


def received(sock, name=None):
    events = sock.get_received()
    return [e for e in events if name is None or e["name"] == name]


def run_trace(sock, data):
    ack = call(sock, "trace_graph", data)
    events = [(e["name"], decode(e["args"][0]) if e["name"] == "trace" else e["args"][0])
              for e in sock.get_received()]
    return ack, events


def test_load_graph_describes_every_node(sock):
    ack = call(sock, "load_graph", {"graph": REF})
    assert ack["ok"]
    description = ack["graph"]["description"]
    nodes = nodes_of(description)
    assert [n["id"] for n in nodes] == list(range(len(nodes)))
    names = {n["name"]: n for n in nodes if n["name"]}
    assert {"x1", "x2", "x3", "y"} <= set(names)
    assert description["outputs"] == [names["y"]["id"]]
    for n in nodes:  # depth is 1 + the deepest child, leaves 0
        depths = [nodes[c]["depth"] for c in n["children"]]
        assert n["depth"] == (1 + max(depths) if depths else 0)
    assert description["operators"]["sin"]["derivatives"] == ["cos(a)"]


def test_resnet_groups_show_layers_and_the_skip_connection(sock):
    ack = call(sock, "load_graph", {"graph": "model:resnet"})
    groups = {g["name"]: g for g in ack["graph"]["description"]["groups"]}
    assert list(groups)[:3] == ["Conv1", "ReLU1", "Conv2"]
    assert set(groups["Add2"]["inputs"]) == {"image", "Conv2"}  # the skip connection
    assert groups["FC3"]["params"] == 16 * 16 * 32 + 32
    nodes = nodes_of(ack["graph"]["description"])
    assert sum(g["size"] for g in groups.values()) + sum(
        1 for n in nodes if not n["children"]) == len(nodes)


def test_trace_graph_streams_the_whole_trace_in_engine_order(sock):
    ack, events = run_trace(sock, {"graph": REF, "mode": "both"})
    assert ack["ok"]
    names = [name for name, _ in events]
    assert names[0] == "trace_start" and names[-1] == "trace_done"
    frames = [payload for name, payload in events if name == "trace"]
    assert all(f["trace"] == ack["trace"] for f in frames)
    phases = [f["phase"] for f in frames]
    n_forward = phases.count("forward")
    n_backward = len(phases) - n_forward - 1
    assert phases == ["forward"] * n_forward + ["seed"] + ["backward"] * n_backward

    forward = frames[:n_forward]
    assert [f["level"] for f in forward] == sorted(f["level"] for f in forward)
    values = {}
    for f in forward:
        for i, v in zip(f["ids"], f["values"], strict=True):
            assert i not in values  # each node exactly once
            values[i] = v
    assert sorted(values) == list(range(ack["nodes"]))

    description = call(sock, "load_graph", {"graph": REF})["graph"]["description"]
    by_name = {n["name"]: n["id"] for n in nodes_of(description) if n["name"]}
    y, grads = reference()
    assert values[by_name["y"]] == pytest.approx(y, rel=1e-13)

    backward = frames[n_forward + 1:]
    assert [f["level"] for f in backward] == sorted((f["level"] for f in backward), reverse=True)
    seed = frames[n_forward]
    running = {i: 0.0 for i in values}
    for i, v in zip(seed["ids"], seed["values"], strict=True):
        running[i] += v
    final = {}
    edges = 0
    for f in backward:  # in event order: each node's gradient, then its edges
        e = f["edges"]
        edge_list = list(zip(e["parent"], e["child"], e["local"], e["contribution"],
                             strict=True))
        k = 0
        for i, g in zip(f["ids"], f["grads"], strict=True):
            assert g == pytest.approx(running[i], rel=1e-12, abs=1e-15)  # final when sent
            final[i] = g
            while k < len(edge_list) and edge_list[k][0] == i:
                _, child, local, contribution = edge_list[k]
                assert contribution == pytest.approx(final[i] * local, rel=1e-15)
                running[child] += contribution
                k += 1
        assert k == len(edge_list)  # every edge follows its parent
        edges += k
    assert edges == ack["edges"]
    for name, expected in zip(("x1", "x2", "x3"), grads, strict=True):
        assert final[by_name[name]] == pytest.approx(expected, rel=1e-12)


def test_values_override_recomputes_and_leaves_the_example_unchanged(sock):
    ack, events = run_trace(sock, {"graph": REF, "mode": "forward", "values": {"x1": 1.0}})
    description = call(sock, "load_graph", {"graph": REF})["graph"]["description"]
    y_id = next(n["id"] for n in nodes_of(description) if n["name"] == "y")
    values = {i: v for name, f in events if name == "trace"
              for i, v in zip(f["ids"], f["values"], strict=True)}
    assert values[y_id] == pytest.approx(reference(x1=1.0)[0], rel=1e-13)
    assert not any(f.get("phase") == "backward" for name, f in events if name == "trace")
    # the next run without overrides is back to the file's values
    _, events = run_trace(sock, {"graph": REF, "mode": "forward"})
    values = {i: v for name, f in events if name == "trace"
              for i, v in zip(f["ids"], f["values"], strict=True)}
    assert values[y_id] == pytest.approx(reference()[0], rel=1e-13)


def test_domain_error_names_the_node_and_keeps_the_server_usable(sock):
    ack, events = run_trace(sock, {"graph": REF, "values": {"x3": -1.0}})
    assert not ack["ok"]
    assert "log" in ack["error"]["message"] and "-1.0" in ack["error"]["message"]
    description = call(sock, "load_graph", {"graph": REF})["graph"]["description"]
    assert nodes_of(description)[ack["error"]["node"]]["op"] == "log"
    assert f"#{ack['error']['node']} " in ack["error"]["message"]  # the page's numbering
    assert call(sock, "trace_graph", {"graph": REF})["ok"]


@pytest.mark.parametrize("data, fragment", [
    ({"graph": "example:nope"}, "not found"),
    ({"graph": "g_notmine"}, "not found"),
    ({"graph": REF, "mode": "sideways"}, "mode"),
    ({"graph": REF, "values": {"x1": "one"}}, "number"),
    ({"graph": REF, "values": {"y": 1.0}}, "only inputs and consts"),
    ({"graph": REF, "values": {"nosuch": 1.0}}, "no node"),
    ({"graph": REF, "values": [1, 2]}, "values"),
    ({"graph": "example:../../etc/passwd"}, "not found"),
])
def test_bad_requests_fail_the_ack_with_a_reason(sock, data, fragment):
    ack = call(sock, "trace_graph", data)
    assert ack["ok"] is False and fragment in ack["error"]["message"]


def test_non_dict_payloads_are_answered_not_raised(sock):
    for event in ("trace_graph", "load_graph", "train", "watch_run", "gradient_check"):
        assert call(sock, event, "garbage")["ok"] is False


def test_gradient_check_agrees_with_back_prop(sock):
    ack = call(sock, "gradient_check", {"graph": REF})
    assert ack["ok"] and len(ack["inputs"]) == 3
    _, grads = reference()
    for item, expected in zip(sorted(ack["inputs"], key=lambda i: i["name"]), grads,
                              strict=True):
        assert item["agree"]
        assert item["analytic"] == pytest.approx(expected, rel=1e-12)
        assert item["numeric"] == pytest.approx(expected, rel=1e-6)


def wait_for_status(app, run_id, statuses=("completed", "stopped", "failed"), timeout=120):
    store = app.extensions["backprop_live"].store
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = store.run(run_id)
        if run["status"] in statuses:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still {store.run(run_id)['status']}")


def receive_until(sock, name, timeout=120, ended_history=False) -> list[dict]:
    """Everything the socket receives up to and including the first ``name`` message (or, with
    ``ended_history``, a run_history of a run that has ended).

    The test client has no blocking receive: its queue is looked at until that message is in.
    """
    def arrived(e):
        return e["name"] == name or (ended_history and e["name"] == "run_history"
                                     and e["args"][0]["status"] != "running")

    events: list[dict] = []
    deadline = time.monotonic() + timeout
    while not any(arrived(e) for e in events):
        assert time.monotonic() < deadline, f"no {name} message; got {events[-5:]}"
        events += sock.get_received()
        time.sleep(0.01)
    return events


def records_in(events) -> list[dict]:
    return [r for e in events if e["name"] in ("run_history", "run_metrics")
            for r in e["args"][0]["records"]]


def test_train_and_watch_get_every_record_once(app, sock):
    ack = call(sock, "train", {"model": "mlp", "epochs": 1, "batch_size": 64, "width": 8})
    assert ack["ok"], ack
    watch = call(sock, "watch_run", {"run_id": ack["run_id"], "after": 0})
    assert watch["ok"]
    # run_status is sent after the last record; a run this small may have ended before the
    # watch began, and then its history says so instead
    events = receive_until(sock, "run_status", ended_history=True)
    run = app.extensions["backprop_live"].store.run(ack["run_id"])
    assert run["status"] == "completed" and run["steps"] == -(-1437 // 64)
    records = records_in(events)
    seqs = [r["seq"] for r in records]
    assert seqs == list(range(1, run["steps"] + 2))  # every step, then the epoch, once each
    assert records[-1]["type"] == "epoch"
    assert 0 < records[-1]["test_accuracy"] <= 1


def test_watch_after_a_seq_gets_only_what_follows(app, sock):
    ack = call(sock, "train", {"model": "mlp", "epochs": 1, "batch_size": 256, "width": 4})
    wait_for_status(app, ack["run_id"])
    sock.get_received()
    call(sock, "watch_run", {"run_id": ack["run_id"], "after": 3})
    history = received(sock, "run_history")[0]["args"][0]
    assert history["status"] == "completed"
    assert [r["seq"] for r in history["records"]] == list(range(4, 4 + len(history["records"])))


def test_stop_ends_a_run_and_keeps_its_metrics(app, sock):
    ack = call(sock, "train", {"model": "resnet", "epochs": 20, "batch_size": 16, "width": 32})
    store = app.extensions["backprop_live"].store
    assert call(sock, "watch_run", {"run_id": ack["run_id"], "after": 0})["ok"]
    seen = receive_until(sock, "run_metrics")  # it is training
    assert call(sock, "stop_run", {"run_id": ack["run_id"]}) == {"ok": True, "status": "stopping"}
    seen += receive_until(sock, "run_status")
    status = [e["args"][0] for e in seen if e["name"] == "run_status"][0]
    assert status["status"] == "stopped" and store.run(ack["run_id"])["status"] == "stopped"
    steps = [r for r in store.metrics(ack["run_id"]) if r["type"] == "step"]
    assert len(steps) >= 1 and [r["step"] for r in steps] == list(range(1, len(steps) + 1))
    assert records_in(seen) == store.metrics(ack["run_id"])  # kept, and all of it was sent
    assert len(steps) < 20 * -(-1437 // 16)  # it did not run to the end


@pytest.mark.parametrize("config, fragment", [
    ({"model": "vgg"}, "model"), ({"epochs": 0}, "epochs"), ({"lr": -1}, "lr"),
    ({"batch_size": "many"}, "batch_size"), ({"optimizer": "rmsprop"}, "optimizer"),
])
def test_bad_training_options_are_refused(sock, config, fragment):
    ack = call(sock, "train", config)
    assert ack["ok"] is False and fragment in ack["error"]["message"]


def test_busy_beyond_the_per_workspace_limit(app, sock):
    app.config["MAX_TRAINING_PER_WORKSPACE"] = 1  # read at each admission
    first = call(sock, "train", {"model": "resnet", "epochs": 20})
    second = call(sock, "train", {"model": "mlp", "epochs": 1})
    assert first["ok"] and second["ok"] is False
    assert second["error"]["limit"] == "MAX_TRAINING_PER_WORKSPACE"
    assert "MAX_TRAINING_PER_WORKSPACE=1" in second["error"]["message"]
    call(sock, "stop_run", {"run_id": first["run_id"]})
    wait_for_status(app, first["run_id"])


def test_other_workspace_cannot_watch_or_stop(app, sock, other_client):
    ack = call(sock, "train", {"model": "mlp", "epochs": 1, "width": 4, "batch_size": 512})
    other = app.extensions["socketio"].test_client(app, flask_test_client=other_client)
    assert call(other, "watch_run", {"run_id": ack["run_id"]})["ok"] is False
    assert call(other, "stop_run", {"run_id": ack["run_id"]})["ok"] is False
    other.disconnect()
    assert wait_for_status(app, ack["run_id"])["status"] == "completed"


def test_ping_cancel_and_unwatch_answer(sock):
    assert call(sock, "ping_server", {})["ok"]
    assert call(sock, "cancel_trace", {"trace": "t_nothing"})["ok"]
    assert call(sock, "unwatch_run", {"run_id": "r_nothing"})["ok"]


def test_cancelled_before_computing_sends_no_frames(app, sock, monkeypatch):
    """A trace cancelled while it waits for the worker thread stops before any frame."""
    from server.sockets import traces as sockets

    real_trace = sockets._trace

    def cancelled_first(catalog, ref, workspace, mode, values, cancelled):
        assert not cancelled()
        return real_trace(catalog, ref, workspace, mode, values, lambda: True)  # as if cancelled

    monkeypatch.setattr(sockets, "_trace", cancelled_first)
    ack = call(sock, "trace_graph", {"graph": REF})
    assert ack["ok"] is False and ack["error"]["message"] == "cancelled"
    assert received(sock, "trace") == []


def test_train_an_uploaded_network_spec(app, client, sock):
    mlp = (Path(__file__).resolve().parents[2] / "examples" / "mlp.network.json").read_text()
    graph_id = client.post("/api/graphs", json={"source": mlp, "format": "network"}
                           ).get_json()["id"]
    ack = call(sock, "train", {"graph": graph_id, "epochs": 1, "batch_size": 128})
    assert ack["ok"], ack
    run = wait_for_status(app, ack["run_id"])
    assert run["status"] == "completed", run
    assert run["config"]["graph"] == graph_id and run["config"]["model"] == "network"
    # the spec's hidden layer is "hidden": its gradient norms were recorded by that name
    steps = [r for r in app.extensions["backprop_live"].store.metrics(ack["run_id"])
             if r["type"] == "step"]
    assert set(steps[0]["grad_norms"]) == {"hidden", "logits"}
    assert len(steps) == -(-1437 // 128)


def test_training_refuses_graphs_that_are_not_trainable_networks(client, sock):
    expr = call(sock, "train", {"graph": "example:reference.expr"})
    assert expr["ok"] is False and "network spec" in expr["error"]["message"]
    no_label = ('{"format": "backprop-live/network", "version": 1, "layers": ['
                '{"name": "image", "type": "image", "size": [8, 8]},'
                '{"name": "fc", "type": "fc", "input": "image", "size": 3}]}')
    graph_id = client.post("/api/graphs", json={"source": no_label}).get_json()["id"]
    ack = call(sock, "train", {"graph": graph_id})
    assert ack["ok"] is False and "label" in ack["error"]["message"]


def test_a_diverging_run_sends_valid_json(app, sock):
    """Records with NaN or inf (a run that blew up) reach pages as strings, never bare NaN."""
    import json

    from server.wire import jsonable

    record = {"type": "step", "loss": float("nan"), "grad_norms": {"FC1": float("inf")},
              "branches": {"Add2": {"value_rms": [1.0, float("-inf")]}}}
    safe = jsonable(record)
    assert json.loads(json.dumps(safe, allow_nan=False)) == {
        "type": "step", "loss": "NaN", "grad_norms": {"FC1": "Infinity"},
        "branches": {"Add2": {"value_rms": [1.0, "-Infinity"]}}}
    ack = call(sock, "train", {"model": "mlp", "epochs": 1, "batch_size": 512, "width": 4,
                               "optimizer": "sgd", "lr": 10.0})
    wait_for_status(app, ack["run_id"])
    for record in app.extensions["backprop_live"].store.metrics(ack["run_id"]):
        json.dumps(record, allow_nan=False)  # raises on a bare NaN or inf
        assert record["time"] > 1.7e9  # wall clock of the step's end


def test_a_model_can_be_drawn_at_the_width_a_run_trains(sock):
    wide = nodes_of(call(sock, "load_graph", {"graph": "model:mlp:64"})["graph"]["description"])
    fc1 = sum(1 for n in wide if n["group"] == "FC1" and n["op"] == "input")
    assert fc1 == 16 * 16 * 64 + 64  # the weights and biases of a 64-wide hidden layer
    for bad in ("model:mlp:0", "model:mlp:999", "model:mlp:x", "model:vgg:32"):
        assert call(sock, "load_graph", {"graph": bad})["ok"] is False


def test_a_refused_override_changes_nothing_for_anyone(app, sock, other_client):
    """x1 would be fed before 'nosuch' fails: the shared example must come out untouched."""
    ack = call(sock, "trace_graph", {"graph": REF, "values": {"x1": 5.0, "nosuch": 1.0}})
    assert ack["ok"] is False
    other = app.extensions["socketio"].test_client(app, flask_test_client=other_client)
    check = call(other, "gradient_check", {"graph": REF})
    other.disconnect()
    _, grads = reference()
    assert [i["analytic"] for i in sorted(check["inputs"], key=lambda i: i["name"])] == \
        pytest.approx(list(grads), rel=1e-12)


def test_a_gradient_check_that_leaves_the_domain_puts_the_value_back(client, sock):
    graph_id = client.post("/api/graphs", json={
        "source": "x = input(1e-7)\ny = log(x)\noutput y\n"}).get_json()["id"]
    check = call(sock, "gradient_check", {"graph": graph_id})
    assert check["ok"] is False and "log" in check["error"]["message"]  # x - h < 0
    ack, events = run_trace(sock, {"graph": graph_id, "mode": "forward"})
    assert ack["ok"], ack
    values = [v for name, f in events if name == "trace" for v in f["values"]]
    assert math.log(1e-7) in values  # x is back at 1e-7


def test_deleting_a_running_run_stops_it_first(app, client, sock):
    ack = call(sock, "train", {"model": "resnet", "epochs": 50})
    store = app.extensions["backprop_live"].store
    assert call(sock, "watch_run", {"run_id": ack["run_id"], "after": 0})["ok"]
    receive_until(sock, "run_metrics")  # it is training
    assert client.delete(f"/api/runs/{ack['run_id']}").status_code == 204
    assert store.run(ack["run_id"]) is None and store.metrics(ack["run_id"]) == []
    assert app.extensions["backprop_live"].jobs.training == {}


def test_a_deleted_graph_no_longer_loads_through_its_link(client, sock):
    graph_id = client.post("/api/graphs", json={"source": "x = input(2)\noutput x\n"}
                           ).get_json()["id"]
    token = client.post(f"/api/graphs/{graph_id}/share").get_json()["token"]
    assert call(sock, "load_graph", {"graph": f"shared:{token}"})["ok"]  # now cached
    assert client.delete(f"/api/graphs/{graph_id}").status_code == 204
    assert call(sock, "load_graph", {"graph": f"shared:{token}"})["ok"] is False


def test_a_micrograd_upload_carries_its_notes_to_load_graph_and_what_if_finds_labels(
        client, sock):
    from tests.micrograd_snippets import REBINDING

    data = {"file": (io.BytesIO(REBINDING.encode()), "rebinding.py")}
    created = client.post("/api/graphs", data=data, content_type="multipart/form-data")
    assert created.status_code == 201
    body = created.get_json()
    assert body["format"] == "expr" and body["inputs"] == ["x", "weight"]
    assert body["outputs"] == ["x‴"]
    assert [n["location"] for n in body["notes"]] == ["1:1"]
    ack = call(sock, "load_graph", {"graph": body["ref"]})
    assert ack["graph"]["notes"] == body["notes"]
    assert "`import micrograd` is ignored" in ack["graph"]["notes"][0]["message"]
    # the page sends what-if values by the names it shows: a label finds its input, and so
    # does the variable's name; a name nobody gave is refused
    for key in ("weight", "w", "x"):
        assert call(sock, "trace_graph", {"graph": body["ref"], "values": {key: 0.5}})["ok"]
    assert not call(sock, "trace_graph", {"graph": body["ref"], "values": {"W": 0.5}})["ok"]


def test_trace_frames_keep_the_servers_frame_budget(make_app):
    """TRACE_FRAME_BYTES / TRACE_FRAME_EVENTS (docs/api.md) bound every frame a trace sends."""
    from tests.engine.test_frames import events_in, wire_size

    app = make_app(TRACE_FRAME_BYTES=1_024, TRACE_FRAME_EVENTS=5)
    http = app.test_client()
    http.get("/api/examples")
    sock = app.extensions["socketio"].test_client(app, flask_test_client=http)
    ack = call(sock, "trace_graph", {"graph": REF, "mode": "both"})
    assert ack["ok"]
    frames = [e["args"][0] for e in sock.get_received() if e["name"] == "trace"]
    assert max(wire_size(f) for f in frames) <= 1_024
    assert max(events_in(f) for f in frames if f["phase"] != "seed") <= 5
    # every event once: forward and gradient per node, one per edge, the seed
    events = sum(events_in(f) for f in frames)
    assert events == 2 * ack["nodes"] + ack["edges"] + 1
    assert len(frames) >= events / 5
    sock.disconnect()


def test_a_frame_budget_that_cannot_hold_one_node_stops_the_server_by_name(make_app):
    with pytest.raises(ValueError, match="TRACE_FRAME_BYTES must be at least 1,024, not 512"):
        make_app(TRACE_FRAME_BYTES=512)
    with pytest.raises(ValueError, match="TRACE_FRAME_EVENTS must be at least 3, not 0"):
        make_app(TRACE_FRAME_EVENTS=0)
