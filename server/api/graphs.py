"""Graphs over HTTP: built-in examples and models, uploads, their exports and share links."""

from __future__ import annotations

import json

from flask import Response, jsonify, request, url_for

from engine.formats import export_graph

from .. import wire
from ..catalog import NotFoundError
from ..services import services
from . import bp
from .common import MAX_NAME, cpu, json_body, problem, workspace

FORMATS = ("expr", "graph", "network")


@bp.get("/examples")
def examples():
    catalog = services().catalog
    return jsonify(examples=catalog.examples(), models=catalog.models())


@bp.post("/graphs")
def upload_graph():
    """A multipart ``file`` (and optional ``format``, ``name``) or JSON {source, format, name}."""
    if request.files.get("file") is not None:
        upload = request.files["file"]
        source, filename = upload.read(), upload.filename
        fmt, name = request.form.get("format") or None, request.form.get("name") or filename
    else:
        body = json_body()
        if not isinstance(body, dict) or not isinstance(body.get("source"), str):
            return problem(400, "send a multipart 'file', or JSON {\"source\": text, "
                                "\"format\": \"expr\" | \"graph\" | \"network\"}")
        source, filename = body["source"], None
        fmt, name = body.get("format"), body.get("name")
    if fmt is not None and fmt not in FORMATS:
        return problem(400, f"format must be expr, graph or network, not {str(fmt)[:50]!r}")
    name = str(name or "untitled")[:MAX_NAME]
    graph = cpu(_store_upload, services(), workspace(), source, fmt, filename, name)
    return jsonify(graph), 201


def _store_upload(services, workspace: str, source, fmt, filename, name: str) -> dict:
    """Load an upload, compile it and store it (CPU work, in the pool); FormatError, or a
    QuotaError when the workspace's budget is spent. The page loads it next: what was just
    parsed is kept in the cache rather than parsed again (and a text already cached, the same
    upload again say, is not parsed at all)."""
    catalog, config = services.catalog, services.config
    entry = catalog.upload_entry(source, fmt, filename, name)
    loaded = entry.loaded
    nodes = len(loaded.graph.program().nodes)
    text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
    graph_id = services.store.add_graph(
        workspace, name, loaded.format, text, nodes,
        max_graphs=config["MAX_GRAPHS_PER_WORKSPACE"], max_bytes=config["MAX_WORKSPACE_BYTES"])
    catalog.remember(catalog.upload_key(graph_id, workspace), entry)
    return {"id": graph_id, "ref": graph_id, "name": name, "format": loaded.format,
            "nodes": nodes, "inputs": list(loaded.inputs), "outputs": list(loaded.outputs),
            "notes": wire.notes(loaded.notes)}


@bp.get("/graphs")
def list_graphs():
    return jsonify(graphs=services().store.graphs(workspace()))


def _own_graph(graph_id):
    row = services().store.graph(graph_id, workspace())
    if row is None:
        raise NotFoundError(graph_id)
    return row


def _export(ref: str) -> bytes:
    """The JSON graph of a graph the workspace may see, made (in the pool) once per entry."""
    catalog, ws = services().catalog, workspace()

    def make() -> bytes:
        entry = catalog.entry(ref, ws)
        with entry.lock:
            if entry.export is None:
                entry.export = json.dumps(export_graph(entry.loaded.graph)).encode()
            return entry.export
    return cpu(make)


@bp.get("/graphs/<graph_id>")
def get_graph(graph_id):
    row = _own_graph(graph_id)
    row["normalized"] = json.loads(_export(graph_id))
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
    _own_graph(graph_id)
    return Response(_export(graph_id), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{graph_id}.graph.json"'})


@bp.post("/graphs/<graph_id>/share")
def share_graph(graph_id):
    token = services().store.share("graphs", graph_id, workspace())
    if token is None:
        raise NotFoundError(graph_id)
    return jsonify(token=token, ref=f"shared:{token}", url=url_for("index", shared=token))


@bp.delete("/graphs/<graph_id>/share")
def unshare_graph(graph_id):
    row = _own_graph(graph_id)
    services().store.unshare("graphs", graph_id, workspace())
    services().catalog.forget(graph_id, row["share_token"])
    return "", 204


@bp.get("/source")
def graph_source():
    """The text of the graph ``?ref=`` names (an example, an upload of this workspace, a shared
    link): the page's editor always holds the source of the graph on screen. A built-in model
    is made in code and has no text: 404 says so."""
    ref = request.args.get("ref", "")
    if ref.startswith("model:"):
        return problem(404, f"{ref[:60]} is built in code (engine/training): "
                            "it has no text to show")
    name, fmt, text = services().catalog.source(ref, workspace())
    return jsonify(ref=ref, name=name, format=fmt, source=text)


@bp.post("/shared/<token>/copy")
def copy_shared(token):
    """"Edit a copy": a shared graph (read-only for its visitors) stored as a new upload of the
    visitor's workspace, which they may edit and share in turn."""
    found = services().store.shared(token)
    if found is None or found[0] != "graph":
        raise NotFoundError("no graph is shared under that link")
    row = found[1]
    name = f"copy of {row['name']}"[:MAX_NAME]
    graph = cpu(_store_upload, services(), workspace(), row["source"], row["format"], None, name)
    return jsonify(graph), 201


@bp.get("/shared/<token>")
def shared(token):
    found = services().store.shared(token)
    if found is None:
        raise NotFoundError(token)
    kind, row = found
    if kind == "run":
        from .runs import public_run  # a shared run: its records, nothing of the server's

        return public_run(row)
    ref = f"shared:{token}"
    return jsonify(kind=kind, id=row["id"], name=row["name"], format=row["format"],
                   source=row["source"], nodes=row["nodes"], created=row["created"], ref=ref,
                   normalized=json.loads(_export(ref)))
