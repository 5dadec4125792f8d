"""The HTTP API through Flask's test client: every route, its errors, workspace isolation."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from engine.formats import load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NEURON = "w = input(0.5)\nx = const(2)\nb = input(-0.25)\ny = sigmoid(w * x + b)\noutput y\n"


def upload(client, source=NEURON, fmt="expr", name="neuron"):
    return client.post("/api/graphs", json={"source": source, "format": fmt, "name": name})


def test_examples_and_models_are_listed(client):
    body = client.get("/api/examples").get_json()
    files = {e["file"] for e in body["examples"]}
    assert files == {p.name for p in EXAMPLES.iterdir() if p.suffix in (".expr", ".json")}
    assert {m["ref"] for m in body["models"]} == {"model:resnet", "model:mlp"}
    reference = next(e for e in body["examples"] if e["file"] == "reference.expr")
    assert reference["source"] == (EXAMPLES / "reference.expr").read_text()


def test_upload_text_then_list_get_export_delete(client):
    created = upload(client)
    assert created.status_code == 201
    graph = created.get_json()
    assert graph["format"] == "expr" and graph["inputs"] == ["w", "b"]
    assert graph["outputs"] == ["y"] and graph["nodes"] == len(
        load(NEURON).graph.program().nodes)

    listed = client.get("/api/graphs").get_json()["graphs"]
    assert [g["id"] for g in listed] == [graph["id"]]

    got = client.get(f"/api/graphs/{graph['id']}").get_json()
    assert got["source"] == NEURON and got["normalized"]["format"] == "backprop-live/graph"

    exported = client.get(f"/api/graphs/{graph['id']}/export")
    assert "attachment" in exported.headers["Content-Disposition"]
    # the export is a graph definition in its own right: same value as the source
    again = load(exported.data, filename="x.graph.json").compute()
    original = load(NEURON).compute()
    assert again.outputs["y"] == pytest.approx(original.outputs["y"], rel=1e-15)

    assert client.delete(f"/api/graphs/{graph['id']}").status_code == 204
    assert client.get(f"/api/graphs/{graph['id']}").status_code == 404
    assert client.get("/api/graphs").get_json()["graphs"] == []


def test_upload_multipart_file_picks_the_format_from_the_file_name(client):
    data = {"file": (io.BytesIO((EXAMPLES / "reference.graph.json").read_bytes()),
                     "reference.graph.json")}
    created = client.post("/api/graphs", data=data, content_type="multipart/form-data")
    assert created.status_code == 201
    assert created.get_json()["format"] == "graph"
    assert created.get_json()["name"] == "reference.graph.json"


def test_bad_uploads_get_400_with_located_problems(client):
    bad = upload(client, "x1 = input(1)\ny = x1 * x3\noutput y\n")
    assert bad.status_code == 400
    problems = bad.get_json()["error"]["problems"]
    assert any("x3" in p["message"] and p["location"].startswith("2:") for p in problems)

    bad_json = upload(client, '{"format": "backprop-live/graph", "version": 1, "nodes": 3}',
                      fmt="graph")
    assert bad_json.status_code == 400
    located = {p["location"]: p["message"] for p in bad_json.get_json()["error"]["problems"]}
    assert "/nodes" in located and "outputs" in located[""]  # JSON pointers; "" is the root

    for body in ({}, {"source": 5}, {"source": "x", "format": "pdf"}):
        response = client.post("/api/graphs", json=body)
        assert response.status_code == 400 and "error" in response.get_json()
    assert client.post("/api/graphs", data="not json",
                       content_type="text/plain").status_code == 400


def test_upload_over_the_size_limit_is_refused_before_parsing(tmp_path):
    from server.app import create_app
    app = create_app({"DATA_DIR": str(tmp_path), "MAX_UPLOAD_BYTES": 1000})
    client = app.test_client()
    response = client.post("/api/graphs", data={"file": (io.BytesIO(b"#" * 200_000), "a.expr")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "max_bytes=1000" in response.get_json()["error"]["message"]
    app.extensions["backprop_live"].store.close()


def test_unknown_routes_and_methods_answer_json(client):
    assert client.get("/api/nothing-here").get_json()["error"]
    response = client.put("/api/graphs")
    assert response.status_code == 405 and response.get_json()["error"]


def test_another_workspace_sees_404_for_everything(client, other_client, app):
    graph_id = upload(client).get_json()["id"]
    store = app.extensions["backprop_live"].store
    workspace = None
    with client.session_transaction() as session:
        workspace = session["workspace"]
    run_id = store.add_run(workspace, "mine", {"model": "mlp"})
    store.add_metrics(run_id, [{"type": "step", "step": 1, "epoch": 1, "loss": 2.0,
                                "accuracy": 0.1, "grad_norms": {"FC1": 1.0}, "seconds": 0.1}])

    assert other_client.get("/api/graphs").get_json()["graphs"] == []
    assert other_client.get("/api/runs").get_json()["runs"] == []
    for path in (f"/api/graphs/{graph_id}", f"/api/graphs/{graph_id}/export",
                 f"/api/runs/{run_id}", f"/api/runs/{run_id}/metrics.csv"):
        assert other_client.get(path).status_code == 404, path
    assert other_client.delete(f"/api/graphs/{graph_id}").status_code == 404
    assert other_client.delete(f"/api/runs/{run_id}").status_code == 404
    assert other_client.patch(f"/api/runs/{run_id}", json={"name": "x"}).status_code == 404
    assert other_client.post(f"/api/graphs/{graph_id}/share").status_code == 404
    # the owner still has everything
    assert client.get(f"/api/graphs/{graph_id}").status_code == 200
    assert client.get(f"/api/runs/{run_id}").get_json()["name"] == "mine"


def test_sharing_gives_read_only_access_by_an_unguessable_link(client, other_client):
    graph_id = upload(client).get_json()["id"]
    shared = client.post(f"/api/graphs/{graph_id}/share").get_json()
    assert len(shared["token"]) >= 20
    assert client.post(f"/api/graphs/{graph_id}/share").get_json()["token"] == shared["token"]
    seen = other_client.get(f"/api/shared/{shared['token']}").get_json()
    assert seen["kind"] == "graph" and seen["source"] == NEURON
    assert "workspace" not in seen
    assert other_client.get("/api/shared/not-a-token").status_code == 404
    # read-only: the link does not let the other workspace delete it
    assert other_client.delete(f"/api/graphs/{graph_id}").status_code == 404


def test_runs_rename_metrics_csv_json_delete(client, app):
    store = app.extensions["backprop_live"].store
    with client.session_transaction() as session:
        workspace = session["workspace"]
    run_id = store.add_run(workspace, "first", {"model": "mlp", "epochs": 1})
    steps = [{"type": "step", "step": k, "epoch": 1, "loss": 1.0 / k, "accuracy": 0.5,
              "grad_norms": {"FC1": 0.5 * k, "FC2": 0.25}, "seconds": 0.01 * k}
             for k in (1, 2, 3)]
    store.add_metrics(run_id, steps)
    store.add_metrics(run_id, [{"type": "epoch", "epoch": 1, "step": 3, "train_loss": 0.6,
                                "train_accuracy": 0.5, "test_loss": 0.7, "test_accuracy": 0.4,
                                "confusion": [[1]]}])
    store.finish_run(run_id, "completed", {"test_accuracy": 0.4})

    listed = client.get("/api/runs").get_json()["runs"]
    assert listed[0]["status"] == "completed" and listed[0]["steps"] == 3

    renamed = client.patch(f"/api/runs/{run_id}", json={"name": "  better  "}).get_json()
    assert renamed["name"] == "better"
    assert client.patch(f"/api/runs/{run_id}", json={"name": ""}).status_code == 400

    records = client.get(f"/api/runs/{run_id}/metrics.json").get_json()["records"]
    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/runs/{run_id}/metrics.csv")
                                           .get_data(as_text=True))))
    step_rows = [r for r in rows if r["type"] == "step"]
    assert [float(r["loss"]) for r in step_rows] == [s["loss"] for s in steps]
    assert [float(r["grad_norm:FC1"]) for r in step_rows] == [0.5, 1.0, 1.5]
    assert rows[-1]["type"] == "epoch" and float(rows[-1]["test_accuracy"]) == 0.4

    assert client.delete(f"/api/runs/{run_id}").status_code == 204
    assert client.get(f"/api/runs/{run_id}").status_code == 404
    assert store.metrics(run_id) == []  # metrics go with their run


def test_schema_is_versioned_and_reopening_keeps_data(tmp_path):
    from server.store import MIGRATIONS, Store
    store = Store(tmp_path / "db.sqlite3")
    run_id = store.add_run("ws", "kept", {"model": "mlp"})
    store.close()
    again = Store(tmp_path / "db.sqlite3")
    assert again.migrate() == len(MIGRATIONS)
    assert again.run(run_id, "ws")["name"] == "kept"
    assert again.integrity_check() == "ok"
    assert json.loads(json.dumps(again.runs("ws")))[0]["id"] == run_id
    again.close()


def test_health_reports_job_counts(client):
    assert client.get("/healthz").get_json() == {"ok": True, "training": 0, "traces": 0}


def test_a_shared_run_is_readable_by_link_only(client, other_client, app):
    store = app.extensions["backprop_live"].store
    with client.session_transaction() as session:
        run_id = store.add_run(session["workspace"], "shared run", {"model": "mlp"})
    store.add_metrics(run_id, [{"type": "step", "step": 1, "epoch": 1, "loss": 0.5,
                                "accuracy": 1.0, "grad_norms": {}, "seconds": 0.1}])
    assert other_client.post(f"/api/runs/{run_id}/share").status_code == 404
    token = client.post(f"/api/runs/{run_id}/share").get_json()["token"]
    seen = other_client.get(f"/api/shared/{token}").get_json()
    assert seen["kind"] == "run" and seen["name"] == "shared run"
    assert [m["loss"] for m in seen["metrics"]] == [0.5]
    assert other_client.get(f"/api/runs/{run_id}").status_code == 404


def test_a_limit_hit_while_loading_is_named(tmp_path):
    from server.app import create_app
    app = create_app({"DATA_DIR": str(tmp_path), "MAX_UPLOAD_BYTES": 1000})
    client = app.test_client()
    source = "x = input(1)\n" + "# padding\n" * 200 + "output x\n"  # 2 kB, under the 413 cap
    response = client.post("/api/graphs", json={"source": source, "format": "expr"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["limit"] == "max_bytes"
    assert any(p.get("limit") == "max_bytes" and "1000" in p["message"]
               for p in error["problems"])
    app.extensions["backprop_live"].store.close()
