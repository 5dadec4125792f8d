"""The HTTP API (docs/api.md): graphs, examples and models, runs and their metrics.

Every answer is JSON. A workspace sees only its own uploads and runs (and the runs trained in a
terminal, read-only); another workspace's ids answer 404, exactly like ids that do not exist, so
ids do not leak.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request, session
from werkzeug.exceptions import HTTPException

from engine.formats import FormatError, export_graph

from . import wire
from .catalog import NotFoundError
from .jobs.records import metrics_csv
from .services import services

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_NAME = 200


def problem(status: int, message: str, **extra):
    return jsonify({"error": {"message": message, **extra}}), status


def workspace() -> str:
    return session["workspace"]


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """JSON errors under /api (an unknown route, a wrong method, an upload over the limit)."""
    if not request.path.startswith("/api/"):
        return exc
    if exc.code == 413:
        max_bytes = services().catalog.limits.max_bytes
        return problem(413, f"the upload is larger than the limit max_bytes={max_bytes}",
                       limit="max_bytes")
    return problem(exc.code or 500, exc.description)


# -- built-ins ---------------------------------------------------------------------------------
@bp.get("/examples")
def examples():
    catalog = services().catalog
    return jsonify(examples=catalog.examples(), models=catalog.models())


# -- graphs ------------------------------------------------------------------------------------
@bp.post("/graphs")
def upload_graph():
    """A multipart ``file`` (and optional ``format``, ``name``) or JSON {source, format, name}."""
    if request.files.get("file") is not None:
        upload = request.files["file"]
        source, filename = upload.read(), upload.filename
        fmt, name = request.form.get("format") or None, request.form.get("name") or filename
    else:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("source"), str):
            return problem(400, "send a multipart 'file', or JSON {\"source\": text, "
                                "\"format\": \"expr\" | \"graph\" | \"network\"}")
        source, filename = body["source"], None
        fmt, name = body.get("format"), body.get("name")
    if fmt is not None and fmt not in ("expr", "graph", "network"):
        return problem(400, f"format must be expr, graph or network, not {fmt!r}")
    try:
        loaded = services().catalog.check_upload(source, fmt, filename)
    except FormatError as exc:
        return jsonify({"error": wire.format_error(exc)}), 400
    text = source.decode("utf-8") if isinstance(source, bytes) else source
    name = str(name or "untitled")[:MAX_NAME]
    program = loaded.graph.program()
    graph_id = services().store.add_graph(workspace(), name, loaded.format, text,
                                          export_graph(loaded.graph), len(program.nodes))
    return jsonify(id=graph_id, ref=graph_id, name=name, format=loaded.format,
                   nodes=len(program.nodes), inputs=list(loaded.inputs),
                   outputs=list(loaded.outputs)), 201


@bp.get("/graphs")
def list_graphs():
    return jsonify(graphs=services().store.graphs(workspace()))


def _own_graph(graph_id):
    row = services().store.graph(graph_id, workspace())
    if row is None:
        raise NotFoundError(graph_id)
    return row


@bp.get("/graphs/<graph_id>")
def get_graph(graph_id):
    row = _own_graph(graph_id)
    row["normalized"] = json.loads(row["normalized"])
    row.pop("workspace")
    return jsonify(row)


@bp.delete("/graphs/<graph_id>")
def delete_graph(graph_id):
    row = _own_graph(graph_id)
    services().store.delete_graph(graph_id, workspace())
    services().catalog.forget(graph_id, row["share_token"])
    return "", 204


@bp.get("/graphs/<graph_id>/export")
def export(graph_id):
    row = _own_graph(graph_id)
    return Response(row["normalized"], mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{graph_id}.graph.json"'})


@bp.post("/graphs/<graph_id>/share")
def share_graph(graph_id):
    token = services().store.share("graphs", graph_id, workspace())
    if token is None:
        raise NotFoundError(graph_id)
    return jsonify(token=token, ref=f"shared:{token}", url=f"/?shared={token}")


@bp.get("/shared/<token>")
def shared(token):
    found = services().store.shared(token)
    if found is None:
        raise NotFoundError(token)
    kind, row = found
    row.pop("workspace", None)
    if kind == "graph":
        row["normalized"] = json.loads(row["normalized"])
        row["ref"] = f"shared:{token}"
    else:
        row["metrics"] = services().store.metrics(row["id"])
    return jsonify(kind=kind, **row)


# -- runs --------------------------------------------------------------------------------------
def _own_run(run_id):
    """A run this workspace may see: its own, or one trained in a terminal."""
    run = services().store.run(run_id, workspace())
    if run is None:
        raise NotFoundError(run_id)
    return run


class TerminalRunError(Exception):
    """A page tried to change a run trained in a terminal."""


def _changeable_run(run_id):
    run = _own_run(run_id)
    if run["origin"] == "terminal":
        raise TerminalRunError(run_id)
    return run


@bp.get("/runs")
def list_runs():
    return jsonify(runs=services().store.runs(workspace()))


@bp.get("/runs/<run_id>")
def get_run(run_id):
    run = _own_run(run_id)
    run["metrics"] = services().store.metrics(run_id)
    return jsonify(run)


@bp.patch("/runs/<run_id>")
def rename_run(run_id):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) \
            or not body["name"].strip():
        return problem(400, "send JSON {\"name\": \"a new name\"}")
    _changeable_run(run_id)
    if not services().store.rename_run(run_id, workspace(), body["name"].strip()[:MAX_NAME]):
        raise NotFoundError(run_id)
    return jsonify(_own_run(run_id))


@bp.delete("/runs/<run_id>")
def delete_run(run_id):
    _changeable_run(run_id)
    # A running run stops first, and is deleted only once its last record is stored.
    services().jobs.stop_training(run_id, workspace(), wait=10)
    services().store.delete_run(run_id, workspace())
    return "", 204


@bp.post("/runs/<run_id>/share")
def share_run(run_id):
    token = services().store.share("runs", run_id, workspace())
    if token is None:
        raise NotFoundError(run_id)
    return jsonify(token=token, url=f"/?shared={token}")


@bp.get("/runs/<run_id>/metrics.<fmt>")
def run_metrics(run_id, fmt):
    _own_run(run_id)
    records = services().store.metrics(run_id)
    if fmt == "json":
        return jsonify(run_id=run_id, records=records)
    if fmt != "csv":
        raise NotFoundError(fmt)
    return Response(metrics_csv(records), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{run_id}.csv"'})


@bp.errorhandler(NotFoundError)
def not_found(exc):
    return problem(404, "not found")


@bp.errorhandler(TerminalRunError)
def terminal_run(exc):
    return problem(403, "this run was trained in a terminal: only the command line changes it "
                        "(backprop-live runs --help)")
