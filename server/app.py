"""The app factory: ``create_app(config) -> Flask app``, as in Flask's tutorial.

Configuration comes in as a dict (tests pass a temporary DATA_DIR); nothing is global. The
services (storage, the catalog of graphs, the job runner) are built here and kept in
``app.extensions["backprop_live"]``; Flask-SocketIO keeps itself in ``app.extensions["socketio"]``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from flask import Flask, jsonify, render_template
from flask_socketio import SocketIO

from . import api, guard, proxy, sockets, web_files
from .jobs.relay import RunRelay
from .services import build_services
from .wire import check_budget

WEB = web_files.locate()  # the template, static files and examples: packaged or the checkout's

DEFAULTS = {
    "DATA_DIR": None,  # default: the Flask instance folder
    "ASYNC_MODE": "threading",  # the entry point runs eventlet; tests use threads
    "CORS_ALLOWED_ORIGINS": None,  # None: the served origin only
    "ACCESS_TOKEN": None,  # visitors must give it (serve sets one when bound beyond loopback)
    "ALLOWED_HOSTS": None,  # Host names the server answers to; None: any
    "EXAMPLES_DIR": str(WEB.examples),
    "BASE_URL": "/",  # the path the app lives under behind a proxy, e.g. /backprop/
    "TRUSTED_PROXIES": 0,  # proxies in front whose X-Forwarded-* headers are believed
    "DATABASE": None,  # a postgresql:// URL; None: SQLite in DATA_DIR (docs/deploy.md)
    # Signs the session cookies that name a browser's workspace; None: made once in DATA_DIR.
    # Web processes behind one proxy give the same one (docs/deploy.md).
    "SECRET_KEY": None,
    # -- budgets (docs/api.md): each error that one causes names it ---------------------------
    "MAX_UPLOAD_BYTES": 2_000_000,
    "MAX_NODES": 200_000,
    "MAX_GRAPHS_PER_WORKSPACE": 100,
    "MAX_WORKSPACE_BYTES": 20_000_000,  # the sources a workspace keeps
    "MAX_NEW_WORKSPACES_PER_MINUTE": 120,  # from one address
    "MAX_CPU_JOBS": 2,  # computations at once (others wait their turn; Python runs one at a time)
    "MAX_CPU_JOBS_PER_WORKSPACE": 2,
    "MAX_CPU_QUEUE_PER_WORKSPACE": 8,
    "MAX_TRAINING_JOBS": 4,  # training runs at once, in total
    "MAX_TRAINING_PER_WORKSPACE": 2,
    "MAX_TRAINING_PER_ADDRESS": 2,
    "MAX_TRAINING_STEPS": 100_000,  # epochs × steps per epoch, per run
    "MAX_TRAINING_WIDTH": 256,
    "MAX_TRACES": 64,  # traces being computed or streamed at once, in total
    "MAX_TRACES_PER_WORKSPACE": 4,
    "MAX_QUEUED_BYTES": 32_000_000,  # unsent bytes per connection before it is cut off
    "QUEUE_STALL_SECONDS": 10.0,  # a connection that reads nothing of its queue this long too
    # A client that does not read does not answer pings either (they queue behind its data):
    # it is dropped within these two.
    "PING_INTERVAL_SECONDS": 10,
    "PING_TIMEOUT_SECONDS": 10,
    "TRACE_FRAME_BYTES": 65_536,  # a trace frame's arrays and envelope, at most (>= 1,024)
    "TRACE_FRAME_EVENTS": 8_192,  # events in one trace frame, at most (>= 3)
    "GRAPH_CACHE_BYTES": 96_000_000,  # loaded graphs kept in memory (an estimate)
    "GRADIENT_CHECK_MAX_INPUTS": 64,
    "METRICS_PAGE": 5_000,  # records read (and sent) at a time
    "STOP_GRACE_SECONDS": 5.0,  # after SIGTERM, a worker is killed
    "TRAINING_IDLE_SECONDS": 600.0,  # a run whose workspace has no page this long is stopped
    # -- beyond one machine (docs/deploy.md): None is the embedded default ----------------------
    "MESSAGE_QUEUE": None,  # redis://…: events of every process reach every watcher
    "JOBS": None,  # redis://…: training on `backprop-live worker` processes (RQ)
    "JOB_HEARTBEAT_SECONDS": 10.0,  # a worker silent this long (×1.5 at most) failed its run
    # With JOBS: traces and gradient checks of graphs this big or bigger run on the workers
    "QUEUED_GRAPH_MIN_NODES": 20_000,
    "QUEUED_GRAPH_WAIT_SECONDS": 60.0,  # for a worker's next answer, then the work is cancelled
    # -- issue 13: Playground (server/jobs/playground.py) --------------------------------------
    "MAX_PLAYGROUNDS": 64,  # exercises open at once, in total (one per workspace)
    "MAX_PLAYGROUND_EPOCHS": 10_000,  # per exercise, until a reset
    "PLAYGROUND_GRID": 64,  # the boundary and neuron maps: GRID × GRID points over the square
    "PLAYGROUND_TURN_SECONDS": 0.05,  # SGD steps between two frames (so ~15-20 frames a second)
    # With JOBS: how long a web process waits for a worker to take a playing exercise's turn
    "PLAYGROUND_TURN_WAIT_SECONDS": 10.0,
    "MAX_CSV_BYTES": 200_000,  # a Playground CSV upload
    "MAX_CSV_POINTS": 2_000,
    "PLAYGROUND_MAX_WEIGHT": 1_000.0,  # |w| an edited edge may take (issue 13: edit an edge)
    # -- end issue 13 ---------------------------------------------------------------------------
}


def _secret_key(data_dir: Path) -> str:
    """Generated once and kept in the data dir, so sessions survive a restart — and web
    processes sharing the data dir (--jobs) sign alike: the first to start writes it, whole,
    and the others read that one (a hard link is made at once or not at all)."""
    path = data_dir / "secret_key"
    if not path.exists():
        draft = data_dir / f".secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, template_folder=str(WEB.templates),
                static_folder=str(WEB.static))
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    app.config["BASE_URL"] = proxy.base_url(app.config["BASE_URL"])
    check_budget(app.config["TRACE_FRAME_BYTES"], app.config["TRACE_FRAME_EVENTS"])
    data_dir = Path(app.config["DATA_DIR"] or app.instance_path)
    data_dir.mkdir(parents=True, exist_ok=True)
    app.config["DATA_DIR"] = str(data_dir)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _secret_key(data_dir)
    # Uploads larger than this are refused before anything reads them (413).
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_BYTES"] + 64_000

    if app.config["JOBS"] and not app.config["MESSAGE_QUEUE"]:
        app.config["MESSAGE_QUEUE"] = app.config["JOBS"]  # the workers' records must reach pages
    queue = app.config["MESSAGE_QUEUE"]
    socketio = SocketIO(app, async_mode=app.config["ASYNC_MODE"],
                        **({"client_manager": RunRelay(queue)} if queue else {}),
                        cors_allowed_origins=app.config["CORS_ALLOWED_ORIGINS"],
                        max_http_buffer_size=app.config["MAX_CONTENT_LENGTH"],
                        ping_interval=app.config["PING_INTERVAL_SECONDS"],
                        ping_timeout=app.config["PING_TIMEOUT_SECONDS"])
    services = build_services(app.config, socketio)
    app.extensions["backprop_live"] = services
    guard.install(app, services)

    @app.get("/")
    def index():
        # A source checkout whose bundle is missing or stale says what to run, in place of a
        # page that would stay at "connecting…" (or run old code against this server).
        return render_template("index.html", bundle_problem=WEB.bundle_problem())

    @app.get("/healthz")
    def health():
        """Liveness, and how many jobs run (counts only: nothing about whose)."""
        return jsonify(ok=True, training=len(services.jobs.training),
                       traces=len(services.cpu.traces))

    app.register_blueprint(api.bp)
    sockets.register(socketio, services)
    # Outside Socket.IO's own middleware, so that it too sees paths without the prefix.
    app.wsgi_app = proxy.wrap(app.wsgi_app, app.config["BASE_URL"],
                              int(app.config["TRUSTED_PROXIES"]))
    return app
