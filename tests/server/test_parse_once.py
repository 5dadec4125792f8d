"""Uploads are parsed once (issue 18): the parse is cached by content for ``load_graph``.

Parses are counted at the loader's entry point (``engine.formats.load``, as the catalog calls
it): the real loader runs, and the test counts its calls. A text parsed once serves its
``load_graph``, the same text uploaded again (by this workspace or another), and its share
link; errors are never cached, and each one still says where it is.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import formats
from server import catalog as catalog_module
from tests.server.frames import decode

TEXT = "a = input(0.5)\nb = input(-1.25)\ny = a * tanh(b) + sin(a)\noutput y\n"


@pytest.fixture
def parses(monkeypatch):
    """The texts the loader parses, in order."""
    seen: list[str] = []
    real = catalog_module.load

    def counting(source, *args, **kwargs):
        seen.append(source)
        return real(source, *args, **kwargs)
    monkeypatch.setattr(catalog_module, "load", counting)
    return seen


def upload(client, text, name="g", fmt="expr"):
    response = client.post("/api/graphs", json={"source": text, "format": fmt, "name": name})
    return response.status_code, response.get_json()


def traced(sock, ref):
    """(ack of load_graph, {wire id: value}, {wire id: gradient}) of one trace of ``ref``."""
    loaded = sock.emit("load_graph", {"graph": ref}, callback=True)
    sock.get_received()
    ack = sock.emit("trace_graph", {"graph": ref, "mode": "both"}, callback=True)
    assert ack["ok"], ack
    values, grads = {}, {}
    for frame in (decode(m["args"][0]) for m in sock.get_received() if m["name"] == "trace"):
        if frame["phase"] == "forward":
            values.update(zip(frame["ids"], frame["values"], strict=True))
        elif frame["phase"] == "backward":
            grads.update(zip(frame["ids"], frame["grads"], strict=True))
    return loaded, values, grads


def engine_trace(text):
    loaded = formats.load(text, filename="g.expr")
    loaded.compute()
    program = loaded.graph.program()
    return dict(enumerate(program.values.tolist())), dict(enumerate(program.grads.tolist()))


def test_load_graph_after_an_upload_does_not_parse_again(client, sock, parses):
    status, graph = upload(client, TEXT)
    assert status == 201 and len(parses) == 1
    ack, values, grads = traced(sock, graph["id"])
    assert ack["ok"] and ack["graph"]["name"] == "g"
    assert len(parses) == 1
    assert (values, grads) == engine_trace(TEXT)


def test_the_same_text_again_its_copy_and_its_link_are_not_parsed_again(
        client, other_client, app, sock, parses):
    _, first = upload(client, TEXT, name="first")
    _, second = upload(client, TEXT, name="second")  # the editor's Load, text unchanged
    _, elsewhere = upload(other_client, TEXT, name="theirs")
    token = client.post(f"/api/graphs/{first['id']}/share").get_json()["token"]
    copy = other_client.post(f"/api/shared/{token}/copy")
    assert copy.status_code == 201
    assert len({first["id"], second["id"], elsewhere["id"], copy.get_json()["id"]}) == 4
    want = engine_trace(TEXT)
    for ref, name in ((second["id"], "second"), (first["id"], "first"),
                      (f"shared:{token}", "first")):
        ack, values, grads = traced(sock, ref)
        assert ack["graph"]["name"] == name  # each upload keeps its own name
        assert (values, grads) == want
    assert len(parses) == 1, parses


def test_what_if_values_on_one_upload_do_not_leak_into_another_of_the_same_text(client, sock,
                                                                              parses):
    _, first = upload(client, TEXT, name="first")
    _, second = upload(client, TEXT, name="second")
    oracle = formats.load(TEXT, filename="g.expr")
    a = oracle.graph.program().position[oracle.names["a"]]
    ack = sock.emit("trace_graph", {"graph": first["id"], "values": {"a": 2.0}}, callback=True)
    assert ack["ok"]
    _, values, grads = traced(sock, second["id"])
    assert values[a] == 0.5 and (values, grads) == engine_trace(TEXT)
    assert len(parses) == 1


def test_an_example_text_uploaded_is_found_by_its_content(client, sock, parses):
    assert traced(sock, "example:neuron.expr")[0]["ok"]
    text = client.get("/api/source?ref=example:neuron.expr").get_json()["source"]
    status, graph = upload(client, text, name="my neuron")
    assert status == 201 and len(parses) == 1
    assert traced(sock, graph["id"])[0]["graph"]["name"] == "my neuron"
    assert len(parses) == 1


def test_errors_are_not_cached_and_stay_located(client, parses):
    bad = "a = input(0.5)\ny = a * \noutput y\n"
    for attempt in (1, 2):
        status, body = upload(client, bad)
        assert status == 400
        locations = [p["location"] for p in body["error"]["problems"]]
        assert locations and all(loc.startswith("2:") for loc in locations), body
        assert len(parses) == attempt


def test_a_format_that_differs_is_parsed_as_asked(client, parses):
    """The same text asked for as another format is that format's parse (and its error)."""
    status, _ = upload(client, TEXT)
    assert status == 201
    status, body = upload(client, TEXT, fmt="graph")
    assert status == 400 and len(parses) == 2


def test_entries_sharing_a_parse_count_once_in_the_budget_and_outlive_each_other(make_app):
    from server.catalog import BYTES_PER_NODE

    nodes = len(formats.load(TEXT, filename="g.expr").graph.program().nodes)
    app = make_app(GRAPH_CACHE_BYTES=int(1.5 * nodes * BYTES_PER_NODE))  # room for one graph
    client = app.test_client()
    client.get("/api/examples")
    sock = app.extensions["socketio"].test_client(app, flask_test_client=client)
    ids = [upload(client, TEXT, name=f"g{k}")[1]["id"] for k in range(3)]
    catalog = app.extensions["backprop_live"].catalog
    assert [k.rsplit(":", 1)[1] for k in catalog._cache] == ids  # one graph, three names
    assert client.delete(f"/api/graphs/{ids[0]}").status_code == 204
    _, values, grads = traced(sock, ids[1])  # the shared graph was not taken apart
    assert (values, grads) == engine_trace(TEXT)
    assert catalog.parses == 1
    assert np.isfinite(list(grads.values())).all()


@pytest.mark.parametrize("database_kind", ["sqlite"])  # parsing does not touch the store
def test_a_100k_node_upload_is_parsed_once_for_its_load_and_its_trace(client, parses):
    """At the default GRAPH_CACHE_BYTES a 100,000-node upload fits the cache, so the page's
    upload → load_graph → trace parses it once (it was three times: estimated at 1,500 bytes a
    node, it was bigger than the whole budget and kept by nobody)."""
    n, inputs = 100_000, 8
    ops = ["tanh(v{b:x})", "v{a:x}*v{b:x}", "v{a:x}+v{b:x}"]
    lines = [f"v{i:x}=input({i % 5 - 2})" for i in range(inputs)]
    lines += [f"v{i:x}=" + ops[i % 3].format(a=i % inputs, b=i - 1) for i in range(inputs, n)]
    text = "\n".join([*lines, f"output v{n - 1:x}"]) + "\n"
    status, graph = upload(client, text, name="big")
    assert status == 201, graph
    sock = client.application.extensions["socketio"].test_client(client.application,
                                                                  flask_test_client=client)
    assert sock.emit("load_graph", {"graph": graph["id"]}, callback=True)["ok"]
    ack = sock.emit("trace_graph", {"graph": graph["id"], "mode": "forward"}, callback=True)
    assert ack["ok"], ack
    assert len(parses) == 1
    values = [float(i % 5 - 2) for i in range(inputs)]  # the oracle: the lines in Python floats
    for i in range(inputs, n):
        a, b = values[i % inputs], values[i - 1]
        values.append([math.tanh(b), a * b, a + b][i % 3])
    shown = {}
    for frame in (decode(m["args"][0]) for m in sock.get_received() if m["name"] == "trace"):
        shown.update(zip(frame["ids"], frame["values"], strict=True))
    output = max(shown)  # the output is the last node made
    assert shown[output] == pytest.approx(values[-1], rel=1e-12)
