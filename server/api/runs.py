"""Training runs over HTTP: list, read (in pages), rename, delete, share, export.

Runs are started, stopped and watched over Socket.IO (docs/protocol.md). Metrics are read a
page at a time (``METRICS_PAGE`` records), in the CPU pool: a run of 100,000 steps never
stalls the server, and each answer says where the next page starts.
"""

from __future__ import annotations

import json
import re
import unicodedata
from urllib.parse import quote

from flask import Response, jsonify, request, stream_with_context, url_for

from ..catalog import NotFoundError
from ..jobs.records import grad_norm_columns, metrics_csv
from ..services import services
from . import bp
from .common import MAX_NAME, TerminalRunError, cpu, json_body, problem, workspace

# Characters no file name may hold on some system (and the quote that would end the header's
# quoted string), with control characters; each becomes "_".
UNSAFE_IN_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
MAX_FILENAME = 120  # characters of the run's name kept in a download's file name

PUBLIC = ("id", "name", "config", "status", "created", "finished", "summary", "steps")


def _own_run(run_id):
    """A run this workspace may see: its own, or one trained in a terminal."""
    run = services().store.run(run_id, workspace())
    if run is None:
        raise NotFoundError(run_id)
    return run


def _changeable_run(run_id):
    run = _own_run(run_id)
    if run["origin"] == "terminal":
        raise TerminalRunError(run_id)
    return run


def _after() -> int:
    after = request.args.get("after", "0")
    if not (after.isascii() and after.isdigit()) or len(after) > 18:
        raise ValueError("after must be a seq: a whole number ≥ 0")
    return int(after)


def metrics_page(run_id: str, about: dict, records_key: str = "metrics") -> Response:
    """``about`` and one page of the run's records after ``?after=`` (0: from the start), with
    where the next page starts (``next_after``; null when this page ends the records so far) —
    read and encoded as JSON in the pool: a page is thousands of records."""
    store, page, after = services().store, services().config["METRICS_PAGE"], _after()

    def encode() -> str:
        records = store.metrics(run_id, after, None, page + 1)
        more = len(records) > page
        records = records[:page]
        return json.dumps({**about, records_key: records,
                           "next_after": records[-1]["seq"] if more else None})
    return Response(cpu(encode), mimetype="application/json")


def public_run(run: dict) -> Response:
    """What a share link shows of a run: the run and its records, nothing of the server's."""
    return metrics_page(run["id"], {"kind": "run", **{k: run.get(k) for k in PUBLIC}})


@bp.get("/runs")
def list_runs():
    return jsonify(runs=services().store.runs(workspace()))


@bp.get("/runs/<run_id>")
def get_run(run_id):
    return metrics_page(run_id, _own_run(run_id))


@bp.patch("/runs/<run_id>")
def rename_run(run_id):
    body = json_body()
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
    # A running run stops first (killed if it does not), and is deleted only once its last
    # record is stored and its slot is free.
    jobs = services().jobs
    jobs.stop_training(run_id, workspace(), wait=services().config["STOP_GRACE_SECONDS"] + 10)
    if run_id in jobs.training:
        return problem(409, "the run is still stopping; try again in a moment")
    services().store.delete_run(run_id, workspace())
    return "", 204


@bp.post("/runs/<run_id>/share")
def share_run(run_id):
    token = services().store.share("runs", run_id, workspace())
    if token is None:
        raise NotFoundError(run_id)
    return jsonify(token=token, url=url_for("index", shared=token))


@bp.delete("/runs/<run_id>/share")
def unshare_run(run_id):
    if not services().store.unshare("runs", run_id, workspace()):
        raise NotFoundError(run_id)
    return "", 204


@bp.get("/runs/<run_id>/metrics.json")
def run_metrics_json(run_id):
    _own_run(run_id)
    return metrics_page(run_id, {"run_id": run_id}, records_key="records")


@bp.get("/runs/<run_id>/metrics.csv")
def run_metrics_csv(run_id):
    """Every record as CSV, streamed page by page (each page read in the pool), named after
    the run."""
    run = _own_run(run_id)
    store, page = services().store, services().config["METRICS_PAGE"]

    def rows():
        after, norms = 0, None
        while True:
            records = cpu(store.metrics, run_id, after, None, page)
            header = norms is None
            if header:
                norms = grad_norm_columns(records)
            if records or header:
                yield metrics_csv(records, norms, header)
            if len(records) < page:
                return
            after = records[-1]["seq"]
    return Response(stream_with_context(rows()), mimetype="text/csv", headers={
        "Content-Disposition": attachment(run["name"], run_id, ".csv")})


def attachment(name: str, fallback: str, suffix: str) -> str:
    """A Content-Disposition that names the download after ``name`` (else ``fallback``): an
    ASCII ``filename`` for old clients and, when the name is not plain ASCII, the name itself as
    RFC 5987 ``filename*`` (UTF-8, percent-encoded) — what browsers use when it is there."""
    clean = UNSAFE_IN_FILENAME.sub("_", unicodedata.normalize("NFC", name))
    clean = " ".join(clean.split()).strip(". ")[:MAX_FILENAME].strip(". ")
    if not clean:  # the fallback (a run id) as it is: stripped, one ending in "_" would lose it
        return f'attachment; filename="{fallback}{suffix}"'
    ascii_name = unicodedata.normalize("NFKD", clean).encode("ascii", "ignore").decode()
    ascii_name = " ".join(re.sub(r"[^\w.() -]+", "_", ascii_name).split()).strip("_. ") or fallback
    header = f'attachment; filename="{ascii_name}{suffix}"'
    if ascii_name != clean:
        header += f"; filename*=UTF-8''{quote(clean + suffix, safe='')}"
    return header
