"""The text behind each graph (the page's editor shows it), "Edit a copy" of a shared graph, and
the leaf values the description carries (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine import formats

from .frames import names_of

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TEXT = "u = input(1.5)\nv = input(-0.5)\nw = exp(u * v) / (1 + u)\noutput w\n"


def upload(client, text=TEXT, fmt="expr", name="mine"):
    response = client.post("/api/graphs", json={"source": text, "format": fmt, "name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_source_of_an_example_is_its_file(client):
    for file in ("fanout.expr", "reference.graph.json", "mlp.network.json"):
        body = client.get(f"/api/source?ref=example:{file}").get_json()
        assert body["source"] == (EXAMPLES / file).read_text("utf-8")
        assert body["format"] == formats.load((EXAMPLES / file).read_text(), filename=file).format


def test_the_source_of_an_upload_is_for_its_workspace_only(client, other_client):
    graph = upload(client)
    assert client.get(f"/api/source?ref={graph['id']}").get_json()["source"] == TEXT
    assert other_client.get(f"/api/source?ref={graph['id']}").status_code == 404


def test_a_model_has_no_source_and_says_why(client):
    response = client.get("/api/source?ref=model:resnet")
    assert response.status_code == 404
    assert "built in code" in response.get_json()["error"]["message"]


def test_edit_a_copy_stores_the_shared_graph_in_the_visitors_workspace(client, other_client):
    graph = upload(client, name="lesson")
    token = client.post(f"/api/graphs/{graph['id']}/share").get_json()["token"]
    copy = other_client.post(f"/api/shared/{token}/copy")
    assert copy.status_code == 201
    body = copy.get_json()
    assert body["id"] != graph["id"] and body["name"] == "copy of lesson"
    # The copy is the visitor's own: its text is the shared text; the owner cannot see it.
    assert other_client.get(f"/api/source?ref={body['id']}").get_json()["source"] == TEXT
    assert client.get(f"/api/source?ref={body['id']}").status_code == 404
    listed = [g["id"] for g in other_client.get("/api/graphs").get_json()["graphs"]]
    assert body["id"] in listed
    # A revoked link copies nothing.
    client.delete(f"/api/graphs/{graph['id']}/share")
    assert other_client.post(f"/api/shared/{token}/copy").status_code == 404


def test_the_description_carries_each_leafs_value(client, sock):
    text = "a = input(-1)\nk = const(2.5)\ny = log(a) * k\noutput y\n"
    graph = upload(client, text)
    ack = sock.emit("load_graph", {"graph": graph["id"]}, callback=True)
    description = ack["graph"]["description"]
    leaves = np.frombuffer(description["leaf_values"], "<f8")
    loaded = formats.load(text, filename="g.expr")
    program = loaded.graph.program()
    expected = {program.position[loaded.names["a"]]: -1.0,
                program.position[loaded.names["k"]]: 2.5}
    assert len(leaves) == program.n_leaves
    for position, value in expected.items():
        assert leaves[position] == value


def test_what_if_values_never_stick_to_the_shared_graph(client, sock):
    """Two what-ifs on the same input, then a trace without one: the graph's own value again
    (the override used to be read back as the value to restore, and stayed)."""
    text = "a = input(0.5)\nb = input(-1.25)\ny = a * b\noutput y\n"
    graph = upload(client, text)
    sock.emit("load_graph", {"graph": graph["id"]}, callback=True)

    def traced_y(values):
        sock.get_received()
        ack = sock.emit("trace_graph", {"graph": graph["id"], "mode": "forward",
                                        "values": values}, callback=True)
        assert ack["ok"], ack
        frames = [m["args"][0] for m in sock.get_received() if m["name"] == "trace"]
        values_by_id = {}
        for f in frames:
            for k, v in enumerate(np.frombuffer(f["values"], "<f8")):
                values_by_id[f["start"] + k] = v
        return values_by_id

    loaded = formats.load(text, filename="g.expr")
    position = loaded.graph.program().position
    b, y = position[loaded.names["b"]], position[loaded.names["y"]]
    assert traced_y({"b": -0.68})[b] == -0.68
    assert traced_y({"b": 2.0})[b] == 2.0
    plain = traced_y({})
    assert plain[b] == -1.25 and plain[y] == 0.5 * -1.25


def test_the_description_carries_names_as_one_string(client, sock):
    """Names as one string with their ends (int32, UTF-16 code units: the page's string
    indexes), not a JSON list (issue 18: 100,000 names were 100,000 strings for the page's
    socket to parse in one task); names that are not ASCII, one outside the BMP, keep every
    character. A description has at most 10 binary parts: socket.io-client's parser
    (socket.io-parser's Decoder, maxAttachments 10) refuses a packet with more."""
    graph_json = json.dumps({"format": "backprop-live/graph", "version": 1, "nodes": [
        {"id": "a", "op": "input", "value": 0.5, "name": "é"},
        {"id": "b", "op": "input", "value": 2, "name": "日本"},
        {"id": "k", "op": "const", "value": 3, "name": "𝑥"},
        {"id": "p", "op": "*", "args": ["a", "b"]},
        {"id": "y", "op": "+", "args": ["p", "k"], "name": "y₁"}], "outputs": ["y"]})
    graph = upload(client, graph_json, fmt="graph")
    ack = sock.emit("load_graph", {"graph": graph["id"]}, callback=True)
    description = ack["graph"]["description"]
    assert isinstance(description["names"], str)
    loaded = formats.load(graph_json, format="graph")
    program = loaded.graph.program()
    named = np.frombuffer(description["named"], "<i4").tolist()
    expected = {p: n.name for p, n in enumerate(program.nodes) if n.name is not None}
    assert dict(zip(named, names_of(description), strict=True)) == expected
    assert {"é", "日本", "𝑥", "y₁"} <= set(expected.values())
    for ref in (graph["id"], "model:resnet"):
        described = sock.emit("load_graph", {"graph": ref}, callback=True)["graph"]["description"]
        assert sum(isinstance(v, bytes) for v in described.values()) <= 10
