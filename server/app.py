"""The app factory: ``create_app(config) -> (app, socketio)``.

Configuration comes in as a dict (tests pass a temporary DATA_DIR); nothing is global. Services
(storage, the catalog of graphs, the job runner) hang off ``app.extensions["backprop_live"]``.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, jsonify, render_template, session
from flask_socketio import SocketIO

from engine.formats import Limits

from .catalog import Catalog
from .jobs import Jobs
from .store import Store

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    "DATA_DIR": None,  # default: the Flask instance folder
    "ASYNC_MODE": "threading",  # the entry point runs eventlet; tests use threads
    "MAX_UPLOAD_BYTES": 2_000_000,
    "MAX_NODES": 200_000,
    "MAX_TRAINING_JOBS": 4,  # training runs at once, in total
    "MAX_TRAINING_PER_WORKSPACE": 2,
    "MAX_TRACES": 64,  # traces being computed or streamed at once, in total
    "MAX_TRACES_PER_WORKSPACE": 4,
    "CORS_ALLOWED_ORIGINS": None,  # None: the served origin only
    "EXAMPLES_DIR": str(ROOT / "examples"),
    "GRAPH_CACHE_SIZE": 16,
    "GRADIENT_CHECK_MAX_INPUTS": 64,
}


@dataclass
class Services:
    store: Store
    catalog: Catalog
    jobs: Jobs
    socketio: SocketIO


def services(app=None) -> Services:
    from flask import current_app
    return (app or current_app).extensions["backprop_live"]


def _secret_key(data_dir: Path) -> str:
    """Generated once and kept in the data dir, so sessions survive a restart."""
    path = data_dir / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(config: dict | None = None):
    app = Flask(__name__, instance_relative_config=True, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"))
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    data_dir = Path(app.config["DATA_DIR"] or app.instance_path)
    data_dir.mkdir(parents=True, exist_ok=True)
    app.config["DATA_DIR"] = str(data_dir)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _secret_key(data_dir)
    # Uploads larger than this are refused before anything reads them (413).
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_BYTES"] + 64_000
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")

    eventlet_mode = app.config["ASYNC_MODE"] == "eventlet"
    if eventlet_mode:
        from eventlet import patcher, tpool
        os_lock, cpu_call = patcher.original("threading").Lock, tpool.execute
    else:
        os_lock, cpu_call = threading.Lock, None
    socketio = SocketIO(app, async_mode=app.config["ASYNC_MODE"],
                        cors_allowed_origins=app.config["CORS_ALLOWED_ORIGINS"],
                        max_http_buffer_size=app.config["MAX_CONTENT_LENGTH"])
    store = Store(data_dir / "backprop-live.sqlite3", os_lock)
    store.interrupt_running()  # any run still 'running' was cut off by a crash or kill
    limits = Limits(max_bytes=app.config["MAX_UPLOAD_BYTES"], max_nodes=app.config["MAX_NODES"])
    catalog = Catalog(store, Path(app.config["EXAMPLES_DIR"]), limits,
                      app.config["GRAPH_CACHE_SIZE"], os_lock)

    def publish_records(run_id, records):
        socketio.emit("run_metrics", {"run_id": run_id, "records": records}, to=f"run:{run_id}")

    def publish_status(run_id, status, summary):
        socketio.emit("run_status", {"run_id": run_id, "status": status, "summary": summary},
                      to=f"run:{run_id}")

    jobs = Jobs(store, socketio.start_background_task, limits={
        "training": (app.config["MAX_TRAINING_JOBS"], app.config["MAX_TRAINING_PER_WORKSPACE"]),
        "trace": (app.config["MAX_TRACES"], app.config["MAX_TRACES_PER_WORKSPACE"]),
    }, cpu_call=cpu_call, on_records=publish_records, on_status=publish_status)
    app.extensions["backprop_live"] = Services(store, catalog, jobs, socketio)

    @app.before_request
    def ensure_workspace():
        if "workspace" not in session:
            session["workspace"] = uuid.uuid4().hex
            session.permanent = True

    @app.get("/")
    def index():
        return render_template("index.html")

    @app.get("/healthz")
    def health():
        """Liveness, and how many jobs run (counts only: nothing about whose)."""
        return jsonify(ok=True, training=len(jobs.training), traces=len(jobs.traces))

    from . import api, sockets
    app.register_blueprint(api.bp)
    sockets.register(socketio)
    return app, socketio
