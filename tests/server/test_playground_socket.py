"""The Playground's socket events against the engine's own Playground, run in the test."""

from __future__ import annotations

import numpy as np
import pytest

from engine.playground import Playground, PlaygroundConfig
from tests.live_server import wait_until
from tests.server.test_sockets import call

CONFIG = {"dataset": "circle", "seed": 3, "hidden": [4, 2], "lr": 0.03, "batch_size": 10}


def f64(data) -> np.ndarray:
    return np.frombuffer(data, "<f8")


def started(sock, config=CONFIG, **extra) -> dict:
    ack = call(sock, "playground_start", {"config": config, **extra})
    assert ack["ok"], ack
    return ack


def test_start_sends_the_points_the_weights_and_the_maps(sock):
    ack = started(sock)
    mine = Playground(PlaygroundConfig(dataset="circle", seed=3))
    xy = np.concatenate((mine.data.train.xy, mine.data.test.xy)).ravel()
    assert np.array_equal(f64(ack["points"]["xy"]), xy)
    assert ack["points"]["train_count"] == 250
    frame = ack["frame"]
    assert np.array_equal(f64(frame["params"]), mine.params)
    assert frame["epoch"] == 0 and frame["test_loss"] == mine.metrics().test_loss
    grid = frame["resolution"]
    assert grid == 64 and len(np.frombuffer(frame["output"], "<f4")) == 64 * 64
    assert len(np.frombuffer(frame["neurons"], "<f4")) == (4 + 2) * 64 * 64
    assert [len(w) for w in ack["shape"]["weights"]] == [2 * 4, 4 * 2, 2 * 1]


def test_a_step_is_one_batch_of_sgd(sock):
    started(sock)
    ack = call(sock, "playground_step", {})
    mine = Playground(PlaygroundConfig(dataset="circle", seed=3))
    mine.step()
    assert ack["frame"]["step"] == 1
    assert np.array_equal(f64(ack["frame"]["params"]), mine.params)


def test_play_streams_frames_and_pause_stops_the_steps(sock):
    started(sock)
    assert call(sock, "playground_play", {})["ok"]
    frames: list[dict] = []

    def epochs_pass() -> bool:
        frames.extend(e["args"][0] for e in sock.get_received()
                      if e["name"] == "playground_frame")
        return bool(frames) and frames[-1]["epoch"] >= 2

    wait_until(epochs_pass)
    paused = call(sock, "playground_pause", {})["frame"]
    assert paused["step"] >= frames[-1]["step"]
    after = call(sock, "playground_step", {})  # accepted once paused: the loop is over
    assert after["ok"], after
    assert after["frame"]["step"] == paused["step"] + 1


def test_csv_points_train_and_a_bad_line_is_located(sock, app):
    csv = "x,y,label\n1,1,A\n-1,-1,B\n2,2,1\n-2,-2,-1\n"
    ack = started(sock, csv=csv)
    assert f64(ack["points"]["labels"]).tolist().count(1.0) == 2
    bad = call(sock, "playground_start", {"config": CONFIG, "csv": "1,1,A\n2,x2,B\n"})
    assert not bad["ok"]
    assert bad["error"]["message"] == "line 2: column 2: 'x2' is not a number"
    outside = call(sock, "playground_start", {"config": CONFIG, "csv": "1,1,A\n9,0,B\n"})
    assert outside["error"]["message"] == "line 2: column 1: 9 is outside the square [-6, 6]"


def test_csv_limits_are_named(make_app):
    app = make_app(MAX_CSV_POINTS=3)
    client = app.test_client()
    client.get("/api/examples")
    sock = app.extensions["socketio"].test_client(app, flask_test_client=client)
    ack = call(sock, "playground_start",
               {"config": CONFIG, "csv": "".join(f"{k % 5},0,A\n" for k in range(5))})
    assert ack["error"]["limit"] == "MAX_CSV_POINTS"
    assert "line 4: more than MAX_CSV_POINTS=3 points" in ack["error"]["message"]
    sock.disconnect()


def test_one_exercise_per_workspace_closed_with_its_page(app, sock, other_client):
    started(sock)
    started(sock)
    assert len(app.extensions["backprop_live"].playgrounds.exercises) == 1
    other = app.extensions["socketio"].test_client(app, flask_test_client=other_client)
    started(other)
    assert len(app.extensions["backprop_live"].playgrounds.exercises) == 2
    other.disconnect()
    assert len(app.extensions["backprop_live"].playgrounds.exercises) == 1


def test_the_server_wide_budget_is_named(make_app):
    app = make_app(MAX_PLAYGROUNDS=1)
    socks = []
    for _ in range(2):
        client = app.test_client()
        client.get("/api/examples")
        socks.append(app.extensions["socketio"].test_client(app, flask_test_client=client))
    assert call(socks[0], "playground_start", {"config": CONFIG})["ok"]
    refused = call(socks[1], "playground_start", {"config": CONFIG})
    assert refused["error"]["limit"] == "MAX_PLAYGROUNDS"
    for s in socks:
        s.disconnect()


def test_bad_options_are_refused_by_name(sock):
    ack = call(sock, "playground_start", {"config": {"datasett": "circle"}})
    assert "unknown Playground option 'datasett'" in ack["error"]["message"]
    ack = call(sock, "playground_start", {"config": {"hidden": [9]}})
    assert "hidden layers: 0..6 of 1..8" in ack["error"]["message"]


def test_a_points_graph_is_stored_with_the_samples_loss_and_gradients(sock, client):
    started(sock)
    call(sock, "playground_step", {})
    ack = call(sock, "playground_sample", {"index": 3})
    assert ack["ok"], ack
    mine = Playground(PlaygroundConfig(dataset="circle", seed=3))
    mine.step()
    g = mine.sample_graph(True, 3)
    g.compute_forward()
    g.back_prop()
    loaded = call(sock, "load_graph", {"graph": ack["ref"]})
    assert loaded["ok"], loaded
    exported = client.get(f"/api/graphs/{ack['ref']}/export")
    assert exported.status_code == 200
    from engine.formats import load
    theirs = load(exported.get_data(as_text=True), "graph")
    theirs.graph.compute_forward()
    theirs.graph.back_prop()
    [loss] = list(theirs.outputs.values())
    assert loss.forward == pytest.approx(mine.network.loss.forward, rel=1e-12)
    grads = [w.backward for w in theirs.graph.input_nodes]
    assert grads == pytest.approx([w.backward for w in g.input_nodes], rel=1e-12, abs=1e-15)
    assert call(sock, "playground_sample", {"index": 10_000})["ok"] is False


def scalar_output(mine: Playground, params: np.ndarray, x1: float, x2: float) -> float:
    """The output neuron at (x₁, x₂) by the scalar engine's own forward (not the fused one)."""
    from engine.playground.features import compute

    net = mine.network
    features = compute(mine.config.features, np.array([[x1, x2]]))
    net.graph.feed(params, net.consts(features, np.zeros(1), 0.0)[0])
    net.graph.compute_forward()
    return net.output.forward


def test_editing_a_weight_sets_it_and_the_boundary_follows(sock):
    ack = started(sock)
    position = ack["shape"]["weights"][0][1]  # FC1: neuron 1's weight on x₂
    edited = call(sock, "playground_weight", {"position": position, "value": 2.5})
    assert edited["ok"], edited
    mine = Playground(PlaygroundConfig(dataset="circle", seed=3))
    params = mine.params.copy()
    params[position] = 2.5
    assert np.array_equal(f64(edited["frame"]["params"]), params)
    grid = edited["frame"]["resolution"]
    output = np.frombuffer(edited["frame"]["output"], "<f4").reshape(grid, grid)
    ticks = np.linspace(-6, 6, grid)
    for row, col in [(0, 0), (10, 50), (32, 31), (63, 63)]:
        expected = scalar_output(mine, params, ticks[col], ticks[::-1][row])
        assert output[row, col] == pytest.approx(expected, rel=1e-6, abs=1e-6)
    before = np.frombuffer(ack["frame"]["output"], "<f4")
    assert not np.array_equal(before, output.ravel())  # the edit moved the boundary
    # the next step starts from the edited weight
    stepped = call(sock, "playground_step", {})
    mine.params[position] = 2.5
    mine.step()
    assert np.array_equal(f64(stepped["frame"]["params"]), mine.params)


@pytest.mark.parametrize(("message", "data"), [
    ("a weight must be a finite number, not nan", {"value": float("nan")}),
    ("a weight must be a finite number, not '1'", {"value": "1"}),
    ("a weight must be a finite number, not None", {"value": None}),
    ("within ±1000 (PLAYGROUND_MAX_WEIGHT)", {"value": 1e9}),
    ("position must be a weight's place in the parameters", {"position": 8, "value": 1.0}),
    ("position must be a weight's place in the parameters", {"position": "0", "value": 1.0}),
])
def test_a_bad_weight_is_refused_by_name_and_changes_nothing(sock, message, data):
    ack = started(sock)
    position = ack["shape"]["weights"][0][0]
    refused = call(sock, "playground_weight", {"position": position, **data})
    assert refused["ok"] is False
    assert message in refused["error"]["message"]
    paused = call(sock, "playground_pause", {})["frame"]
    assert np.array_equal(f64(paused["params"]), f64(ack["frame"]["params"]))
