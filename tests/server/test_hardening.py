"""A hostile classroom, in process (issue 17): budgets named in their errors, contracts kept for
any input, browser protections. The live-server half is test_hardening_live.py."""

from __future__ import annotations

import json
import os
import stat

import pytest

from server.store import DATABASE, Store

CHAIN = "x = input(0.5)\n" + "x += sin(x)\n" * 2000 + "output x\n"
SPEC_300x330 = json.dumps({"format": "backprop-live/network", "version": 1, "layers": [
    {"name": "image", "type": "image", "size": [300, 330]},
    {"name": "r", "type": "relu", "input": "image"}], "outputs": ["r"]})


def call(sock, event, *args):
    return sock.emit(event, *args, callback=True)


def cookieless_socket(app):
    """A Socket.IO client that never had the page's cookie (a fresh workspace each)."""
    sock = app.extensions["socketio"].test_client(app)
    assert sock.is_connected()
    return sock


# -- 1, 2: uploads are stored as sent; workspaces have storage budgets -----------------------
def test_a_chain_of_updates_exports_with_linear_ids(client):
    graph_id = client.post("/api/graphs", json={"source": CHAIN}).get_json()["id"]
    nodes = client.get(f"/api/graphs/{graph_id}/export").get_json()["nodes"]
    ids = [n["id"] for n in nodes if n["op"] == "+"]
    # The output claims the plain name first, the input comes next (x#2), then the updates
    assert [n["id"] for n in nodes if n["op"] == "input"] == ["x#2"]
    assert sorted(ids, key=lambda i: int(i.partition("#")[2] or 1)) == (
        ["x"] + [f"x#{k}" for k in range(3, 2002)])


def test_a_small_spec_of_a_big_graph_stores_only_its_text(app, client):
    assert client.post("/api/graphs", json={"source": SPEC_300x330}).status_code == 201
    db = app.extensions["backprop_live"].store
    stored = db._read("SELECT SUM(LENGTH(source) + LENGTH(normalized)) AS n FROM graphs")[0]["n"]
    assert stored == len(SPEC_300x330)  # not the 17 MB of its 198,000 nodes


def test_storage_budgets_are_named_when_spent(make_app):
    app = make_app(MAX_WORKSPACE_BYTES=len(CHAIN) * 2 + 100, MAX_GRAPHS_PER_WORKSPACE=3)
    client = app.test_client()
    for _ in range(2):
        assert client.post("/api/graphs", json={"source": CHAIN}).status_code == 201
    refused = client.post("/api/graphs", json={"source": CHAIN})
    assert refused.status_code == 413
    assert refused.get_json()["error"]["limit"] == "MAX_WORKSPACE_BYTES"
    assert f"MAX_WORKSPACE_BYTES={len(CHAIN) * 2 + 100:,}" in refused.get_json()["error"][
        "message"]
    small = client.post("/api/graphs", json={"source": "x = input(1)\noutput x\n"})
    assert small.status_code == 201  # what fits still fits
    fourth = client.post("/api/graphs", json={"source": "y = input(1)\noutput y\n"})
    assert fourth.get_json()["error"]["limit"] == "MAX_GRAPHS_PER_WORKSPACE"
    assert len(client.get("/api/graphs").get_json()["graphs"]) == 3  # nothing lost, nothing more


# -- 3: the cache counts bytes and knows one graph by one name --------------------------------
def test_model_references_that_name_one_graph_share_one_cache_entry(app, sock):
    acks = [call(sock, "load_graph", {"graph": ref}) for ref in
            ("model:resnet:48", "model:resnet:048", "model:resnet:0048")]
    assert all(a["ok"] for a in acks)
    assert len({a["graph"]["description"]["count"] for a in acks}) == 1
    cache = app.extensions["backprop_live"].catalog._cache
    assert [k for k in cache if k.startswith("model:")] == ["model:resnet:48"]
    assert call(sock, "load_graph", {"graph": "model:resnet:32"})["ok"]
    assert "model:resnet" in cache and "model:resnet:32" not in cache


def test_the_cache_stays_within_its_byte_budget(make_app):
    from server.catalog import BYTES_PER_NODE

    app = make_app(GRAPH_CACHE_BYTES=40_000 * BYTES_PER_NODE)  # room for one ResNet (35,960)
    sock = app.extensions["socketio"].test_client(app)
    for ref in ("model:resnet", "model:mlp", "example:reference.expr", "model:resnet:16"):
        assert call(sock, "load_graph", {"graph": ref})["ok"]
    catalog = app.extensions["backprop_live"].catalog
    assert sum(e.size for e in catalog._cache.values()) <= 40_000 * BYTES_PER_NODE
    assert list(catalog._cache)[-1] == "model:resnet:16"  # the last one used is kept


def test_a_model_width_must_be_a_small_number(sock):
    for ref in ("model:resnet:0", "model:resnet:257", "model:resnet:" + "9" * 50):
        ack = call(sock, "load_graph", {"graph": ref})
        assert ack["ok"] is False and "width is 1..256" in ack["error"]["message"]


# -- 5: training budgets hold whatever the cookie ---------------------------------------------
def test_a_run_over_the_step_budget_is_refused(sock):
    ack = call(sock, "train", {"model": "mlp", "epochs": 1000, "batch_size": 1})
    assert ack["ok"] is False and ack["error"]["limit"] == "MAX_TRAINING_STEPS"
    assert "1,437,000 steps" in ack["error"]["message"]
    wide = call(sock, "train", {"model": "resnet", "epochs": 1, "width": 1024})
    assert wide["ok"] is False and wide["error"]["limit"] == "MAX_TRAINING_WIDTH"


def test_cookieless_sockets_share_their_address_budget(app):
    socks = [cookieless_socket(app), cookieless_socket(app)]
    acks = [call(s, "train", {"model": "resnet", "epochs": 20}) for s in socks for _ in (1, 2)]
    accepted = [a for a in acks if a["ok"]]
    assert len(accepted) == 2  # MAX_TRAINING_PER_ADDRESS, though each socket is a workspace
    assert {a["error"]["limit"] for a in acks if not a["ok"]} == {"MAX_TRAINING_PER_ADDRESS"}
    jobs = app.extensions["backprop_live"].jobs
    for a in accepted:
        assert jobs.stop_training(a["run_id"], None, wait=30)
    assert jobs.training == {}


def test_new_workspaces_per_address_are_rate_limited(make_app):
    app = make_app(MAX_NEW_WORKSPACES_PER_MINUTE=3)
    answers = [app.test_client().get("/api/examples") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].get_json()["error"]["limit"] == "MAX_NEW_WORKSPACES_PER_MINUTE"



def test_cookieless_sockets_are_rate_limited_too(make_app):
    app = make_app(MAX_NEW_WORKSPACES_PER_MINUTE=3)
    connected = [app.extensions["socketio"].test_client(app).is_connected() for _ in range(4)]
    assert connected == [True, True, True, False]


def test_a_run_nobody_watches_is_stopped_after_the_idle_time(make_app):
    app = make_app(TRAINING_IDLE_SECONDS=0.5)
    sock = app.extensions["socketio"].test_client(app)
    ack = call(sock, "train", {"model": "resnet", "epochs": 50})
    assert ack["ok"]
    jobs = app.extensions["backprop_live"].jobs
    job = jobs.training[ack["run_id"]]
    sock.disconnect()  # the page closes; nobody comes back
    assert job.done.wait(60)
    assert app.extensions["backprop_live"].store.run(ack["run_id"])["status"] == "stopped"


# -- 6: big runs are read in pages --------------------------------------------------------------
def _big_run(app, workspace, records=12_000):
    store = app.extensions["backprop_live"].store
    run_id = store.add_run(workspace, "big", {"model": "mlp"})
    for start in range(0, records, 4000):
        store.add_metrics(run_id, [{"type": "step", "step": k, "epoch": 1, "loss": 1.0 / k,
                                    "accuracy": 0.5, "grad_norms": {"FC1": 1.0},
                                    "seconds": 0.01} for k in range(start + 1, start + 4001)])
    store.finish_run(run_id, "completed", {"test_accuracy": 0.5})
    return run_id


@pytest.fixture
def big_run(make_app):
    """(app, a client, the id of its finished run of 12,000 records), read 5,000 at a time."""
    app = make_app(METRICS_PAGE=5000)
    client = app.test_client()
    client.get("/api/examples")
    with client.session_transaction() as session:
        return app, client, _big_run(app, session["workspace"])


def test_a_big_run_is_watched_in_pages_each_record_once(big_run):
    app, client, run_id = big_run
    sock = app.extensions["socketio"].test_client(app, flask_test_client=client)
    ack = call(sock, "watch_run", {"run_id": run_id, "after": 0})
    assert ack == {"ok": True, "status": "completed", "records": 12_000}
    events = sock.get_received()
    pages = [e["args"][0]["records"] for e in events if e["name"] == "run_metrics"]
    history = [e["args"][0] for e in events if e["name"] == "run_history"]
    assert [len(p) for p in pages] == [5000, 5000] and len(history) == 1
    seqs = [r["seq"] for p in pages for r in p] + [r["seq"] for r in history[0]["records"]]
    assert seqs == list(range(1, 12_001))


def test_a_big_run_is_read_over_http_in_pages(big_run):
    _, client, run_id = big_run
    seqs, after = [], 0
    while after is not None:
        page = client.get(f"/api/runs/{run_id}?after={after}").get_json()
        assert len(page["metrics"]) <= 5000
        seqs += [r["seq"] for r in page["metrics"]]
        after = page["next_after"]
    assert seqs == list(range(1, 12_001))
    csv_text = client.get(f"/api/runs/{run_id}/metrics.csv").get_data(as_text=True)
    lines = csv_text.strip().splitlines()
    assert len(lines) == 12_001 and lines[0].startswith("type,seq") and lines[-1].startswith(
        "step,12000,12000,")
    assert lines.count(lines[0]) == 1  # one header, though read in three pages


# -- 8, 9: browser protections ------------------------------------------------------------------
def test_the_session_cookie_is_samesite_lax(app):
    cookie = app.test_client().get("/").headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    secure = app.test_client().get("/", base_url="https://localhost").headers["Set-Cookie"]
    assert "Secure" in secure and "Secure" not in cookie


def test_a_cross_site_post_plants_nothing(client):
    planted = client.post("/api/graphs", headers={"Origin": "http://evil.example"},
                          data={"file": (__import__("io").BytesIO(b"x = input(1)\noutput x\n"),
                                         "x.expr")})
    assert planted.status_code == 403
    by_referer = client.delete("/api/graphs/g_x", headers={"Referer": "http://evil.example/a"})
    assert by_referer.status_code == 403
    assert client.get("/api/graphs").get_json()["graphs"] == []
    own = client.post("/api/graphs", headers={"Origin": "http://localhost"},
                      json={"source": "x = input(1)\noutput x\n"})
    assert own.status_code == 201  # the page's own origin is fine


def test_every_answer_carries_the_security_headers(client):
    for path in ("/", "/api/examples", "/static/css/app.css", "/api/nosuch"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_only_allowed_host_names_are_answered(make_app):
    app = make_app(ALLOWED_HOSTS=["localhost", "192.0.2.7"])
    client = app.test_client()
    assert client.get("/api/examples", base_url="http://localhost:5000").status_code == 200
    assert client.get("/api/examples", base_url="http://192.0.2.7:5000").status_code == 200
    rebound = client.get("/api/examples", base_url="http://attacker.example")
    assert rebound.status_code == 400 and "ALLOWED_HOSTS" in rebound.get_json()["error"][
        "message"]


def test_a_token_protected_app_admits_only_with_the_token(make_app):
    app = make_app(ACCESS_TOKEN="s3cret-Token")
    client = app.test_client()
    assert client.get("/api/examples").status_code == 401
    page = client.get("/")
    assert page.status_code == 401 and b"Access token" in page.data
    assert client.get("/?token=wrong").status_code == 401
    assert not app.extensions["socketio"].test_client(app, flask_test_client=client
                                                      ).is_connected()
    admitted = client.get("/?token=s3cret-Token&graph=example:reference.expr")
    assert admitted.status_code == 302
    assert admitted.headers["Location"] == "/?graph=example%3Areference.expr"  # token dropped
    assert client.get("/api/examples").status_code == 200
    assert app.extensions["socketio"].test_client(app, flask_test_client=client).is_connected()
    assert client.get("/healthz").status_code == 200
    assert app.test_client().get("/healthz").status_code == 200  # liveness needs no token


# -- 12: contracts: a 4xx or a failed ack, never a 500 or silence --------------------------------
def test_a_deeply_nested_json_body_is_a_400(client):
    deep = "[" * 100_000 + "]" * 100_000
    for send in (lambda: client.post("/api/graphs", data=deep, content_type="application/json"),
                 lambda: client.patch("/api/runs/r_x", data=deep,
                                      content_type="application/json")):
        answer = send()
        assert answer.status_code == 400, answer.status_code
        assert answer.get_json()["error"]["problems"][0]["limit"] == "max_depth"


def test_a_huge_literal_is_a_located_problem(client):
    answer = client.post("/api/graphs", json={"source": "x = input(0x" + "f" * 4000 + ")\n"
                                                        "output x\n"})
    assert answer.status_code == 400
    problem = answer.get_json()["error"]["problems"][0]
    assert problem["location"] == "1:11" and problem["limit"] == "max_literal"
    assert "4,816 digits" in problem["message"]  # 16**4000 - 1 has 4,816 decimal digits


@pytest.mark.parametrize("run_id", [["r"], {"r": 1}, 10**30, "", "r" * 201, None])
def test_bad_run_ids_get_an_ack(sock, run_id):
    for event in ("watch_run", "stop_run", "unwatch_run"):
        ack = call(sock, event, {"run_id": run_id})
        assert ack["ok"] is False and "run_id" in ack["error"]["message"]


def test_every_event_acks_extra_arguments_and_wrong_types(sock):
    for event in ("load_graph", "trace_graph", "gradient_check", "train", "watch_run",
                  "cancel_trace", "ping_server"):
        two = call(sock, event, {"graph": "example:reference.expr"}, 1)
        assert two["ok"] is False and "one argument" in two["error"]["message"]
        listed = call(sock, event, [1, 2])
        assert listed["ok"] is False and "an object" in listed["error"]["message"]
    for value in (10**30, [1], {"a": 1}, "x" * 300):
        ack = call(sock, "load_graph", {"graph": value})
        assert ack["ok"] is False


# -- 14: files private, links revocable, shares show nothing internal -------------------------
def test_the_database_and_the_secret_are_private(app):
    folder = app.config["DATA_DIR"]
    in_the_data_dir = ("secret_key",) if app.config["DATABASE"] else (DATABASE, "secret_key")
    for name in in_the_data_dir:
        assert stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) == 0o600, name


def test_share_links_can_be_revoked(client, other_client):
    graph_id = client.post("/api/graphs", json={"source": "x = input(2)\noutput x\n"}
                           ).get_json()["id"]
    token = client.post(f"/api/graphs/{graph_id}/share").get_json()["token"]
    assert other_client.get(f"/api/shared/{token}").status_code == 200
    assert other_client.delete(f"/api/graphs/{graph_id}/share").status_code == 404  # not theirs
    assert client.delete(f"/api/graphs/{graph_id}/share").status_code == 204
    assert other_client.get(f"/api/shared/{token}").status_code == 404
    again = client.post(f"/api/graphs/{graph_id}/share").get_json()["token"]
    assert again != token and other_client.get(f"/api/shared/{again}").status_code == 200


def test_a_shared_run_shows_no_server_internals(app, client, other_client):
    store: Store = app.extensions["backprop_live"].store
    with client.session_transaction() as session:
        run_id = store.add_run(session["workspace"], "failing", {"model": "mlp"})
    store.finish_run(run_id, "failed", None, "Traceback (most recent call last): /srv/secret.py")
    token = client.post(f"/api/runs/{run_id}/share").get_json()["token"]
    seen = other_client.get(f"/api/shared/{token}").get_json()
    assert seen["status"] == "failed" and "Traceback" not in json.dumps(seen)
    assert not {"error", "owner", "workspace", "share_token", "origin"} & set(seen)
    assert client.delete(f"/api/runs/{run_id}/share").status_code == 204
    assert other_client.get(f"/api/shared/{token}").status_code == 404


# -- issue 18: an upload is parsed once, not again by load_graph and each trace ---------------
def test_an_upload_is_parsed_once_for_load_graph_and_traces(make_app, monkeypatch):
    from engine.formats import expr

    reads = []
    real_read = expr.Expression.read

    def counted(self):
        reads.append(len(self.text))
        return real_read(self)
    monkeypatch.setattr(expr.Expression, "read", counted)  # counts, and still parses
    app = make_app()
    client = app.test_client()
    client.get("/api/examples")
    sock = app.extensions["socketio"].test_client(app, flask_test_client=client)
    made = client.post("/api/graphs", json={"source": CHAIN, "format": "expr", "name": "big"})
    assert made.status_code == 201 and made.get_json()["nodes"] == 4001
    ref = made.get_json()["ref"]
    loaded = call(sock, "load_graph", {"graph": ref})
    assert loaded["ok"] and loaded["graph"]["name"] == "big"
    assert call(sock, "trace_graph", {"graph": ref, "mode": "both"})["ok"]
    assert call(sock, "trace_graph", {"graph": ref, "mode": "both"})["ok"]
    assert reads == [len(CHAIN)]  # the upload's parse served load_graph and both traces
    # Errors in an upload are still located (parsed on the way in).
    bad = client.post("/api/graphs", json={"source": "x = input(1)\ny = x +\noutput y\n",
                                           "format": "expr"})
    assert bad.status_code == 400 and "2:" in json.dumps(bad.get_json())

