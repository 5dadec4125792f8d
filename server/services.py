"""The services the handlers use — storage, the catalog of graphs, the pool for CPU work, the
training runs, the follower of terminal runs, Socket.IO — built once by ``create_app`` and kept in
``app.extensions["backprop_live"]``. HTTP views reach them with ``services()``; Socket.IO
handlers receive them as their first argument."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_socketio import SocketIO

from engine.formats import Limits

from .catalog import Catalog
from .jobs import CpuPool, TrainingJobs
from .jobs.playground import PlaygroundJobs  # issue 13: Playground
from .jobs.relay import RunRelay
from .jobs.terminal import TerminalRuns
from .memory import MemoryRelease
from .store import DATABASE, Store
from .workspaces import NewWorkspaces


@dataclass
class Services:
    config: dict  # the app's configuration (the limits handlers enforce are read here)
    store: Store
    catalog: Catalog
    cpu: CpuPool
    jobs: TrainingJobs
    terminal_runs: TerminalRuns
    workspaces: NewWorkspaces
    socketio: SocketIO
    playgrounds: PlaygroundJobs  # issue 13: Playground (a QueuedPlaygrounds with JOBS)
    relay: RunRelay | None = None  # the message queue's manager, when MESSAGE_QUEUE is set
    # Big traces and gradient checks on the job queue's workers, when JOBS is set
    graphs: object | None = None  # jobs.queued_graphs.QueuedGraphs

    def watching(self):
        """Held while a page reads a run's history and joins its room: no record is published
        (here, or delivered from the message queue) in between."""
        return self.relay.lock if self.relay is not None else contextlib.nullcontext()

    def watched(self, sid: str, run_id: str, seq: int) -> None:
        """``sid`` has the run's records up to ``seq``; call it inside ``watching()``."""
        if self.relay is not None:
            self.relay.watched(sid, run_id, seq)

    def shutdown(self) -> None:
        """Stop every training run (recorded as stopped) and the terminal-run follower."""
        self.terminal_runs.shutdown()
        self.jobs.shutdown()


def services() -> Services:
    """The current app's services (inside a request or a Socket.IO handler)."""
    return current_app.extensions["backprop_live"]


def build_services(config: dict, socketio: SocketIO) -> Services:
    data_dir = Path(config["DATA_DIR"])
    if config["ASYNC_MODE"] == "eventlet":
        # An OS lock: worker threads (eventlet's tpool) take it too, and a green lock would not
        # keep them out.
        from eventlet import patcher, tpool
        os_lock, cpu_call = patcher.original("threading").Lock, tpool.execute
    else:
        os_lock, cpu_call = threading.Lock, None
    store = Store(config.get("DATABASE") or data_dir / DATABASE, os_lock)
    if not config["JOBS"]:  # on a queue, runs outlive web processes: workers end them
        store.interrupt_running()  # any run still 'running' was cut off by a crash or kill
    limits = Limits(max_bytes=config["MAX_UPLOAD_BYTES"], max_nodes=config["MAX_NODES"])
    catalog = Catalog(store, Path(config["EXAMPLES_DIR"]), limits, config["GRAPH_CACHE_BYTES"],
                      os_lock)

    def publish_records(run_id, records):
        socketio.emit("run_metrics", {"run_id": run_id, "records": records}, to=f"run:{run_id}")

    def publish_status(run_id, status, summary):
        socketio.emit("run_status", {"run_id": run_id, "status": status, "summary": summary},
                      to=f"run:{run_id}")

    relay = socketio.server.manager if isinstance(socketio.server.manager, RunRelay) else None
    if config["JOBS"]:
        from .jobs.queued import QueuedTraining  # rq: only installed where it is used

        jobs = QueuedTraining(store, socketio.start_background_task, socketio.sleep, config,
                              relay, on_status=publish_status)
    else:
        jobs = TrainingJobs(store, socketio.start_background_task, socketio.sleep, config,
                            on_records=publish_records, on_status=publish_status)
    terminal_runs = TerminalRuns(store, jobs.lock, socketio.start_background_task,
                                 socketio.sleep, publish_records, publish_status)
    cpu = CpuPool(config, cpu_call)
    slots = None
    if config["JOBS"]:  # several web processes: the budgets are counted for all of them
        from .jobs.shared import SharedSlots, connect

        slots = cpu.shared = SharedSlots(connect(config["JOBS"]))
    release = MemoryRelease(socketio.start_background_task, socketio.sleep,
                            lambda: not cpu.running)
    cpu.on_idle = release.soon
    # issue 13: Playground (server.sockets.playground plugs in an emitter with backpressure)
    def emit(event, data, sid):
        socketio.emit(event, data, to=sid)
    if config["JOBS"]:  # each turn of a playing exercise is a worker's job
        from .jobs.queued_playground import QueuedPlaygrounds

        playgrounds = QueuedPlaygrounds(
            config, cpu, socketio.start_background_task, socketio.sleep, emit,
            lambda sid: socketio.server.manager.is_connected(sid, "/"), os_lock)
    else:
        playgrounds = PlaygroundJobs(config, cpu, socketio.start_background_task, emit, os_lock)
    graphs = None
    if config["JOBS"]:
        from .jobs.queued_graphs import QueuedGraphs

        graphs = QueuedGraphs(config)
    return Services(config, store, catalog, cpu, jobs, terminal_runs,
                    NewWorkspaces(config["MAX_NEW_WORKSPACES_PER_MINUTE"], shared=slots), socketio,
                    playgrounds, relay, graphs)
