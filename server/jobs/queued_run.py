"""A training run on a worker of the queue: what ``backprop-live worker`` runs for each job.

RQ calls ``train_run(run_id, config)`` in the worker's own process (a ``SimpleWorker``: one run
at a time, the process that trains is the one a supervisor sees). Records go as the local
workers' do — batched every ~10 ms, stored in one transaction, then published — but on the
message queue, so the watchers' web processes, wherever they are, deliver them. A heartbeat
thread renews the run's ``alive`` key and watches for a stop asked from any web process; the run
ends at the next step. The end is stored, the slot freed and ``run_status`` published whatever
happened; a worker killed outright does none of that, and a web process notices its heartbeat
gone (``queued.QueuedTraining``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from ..store import StorageError
from ..wire import jsonable
from .records import RecordBatcher

log = logging.getLogger(__name__)


@dataclass
class WorkerContext:
    store: object  # server.store.Store
    shared: object  # shared.SharedTraining
    events: object  # relay.RunRelay, write-only: emits onto the message queue
    heartbeat: float  # JOB_HEARTBEAT_SECONDS
    shutting_down: threading.Event = field(default_factory=threading.Event)


CONTEXT: WorkerContext | None = None  # set by `backprop-live worker` before it takes jobs


def train_run(run_id: str, config: dict) -> str:
    """Train one run to its end; returns how it ended (RQ keeps nothing of it)."""
    from engine.training import TrainConfig, TrainingError, train

    context = CONTEXT
    assert context is not None, "train_run runs in `backprop-live worker`"
    run = context.store.run(run_id)
    if run is None or run["status"] != "running":
        context.shared.release(run_id)  # deleted, or stopped (and recorded) while it waited
        if run is not None:
            _publish_status(context, run_id, "stopped", None)
        return "stopped"
    if context.shared.stop_asked(run_id):
        # Stopped just as this worker took it, too late to be cancelled in the queue: the stop
        # found it started, so it is recorded here.
        _record_end(context, run_id, "stopped", None, None)
        return "stopped"
    context.shared.started(run_id, context.heartbeat)
    stop, done = threading.Event(), threading.Event()
    threading.Thread(target=_beat, args=(context, run_id, stop, done), daemon=True).start()
    batcher = RecordBatcher(lambda records: _store_and_publish(context, run_id, records))
    status, summary, error = "failed", None, None
    try:
        result = train(TrainConfig(**config).checked(),
                       on_step=lambda m: batcher.add("step", m),
                       on_epoch=lambda m: batcher.add("epoch", m),
                       should_stop=lambda: stop.is_set() or context.shutting_down.is_set())
        batcher.flush()
        if result.stopped:
            status = "stopped"
            if not stop.is_set():
                error = "its worker was shut down"
        else:
            status, summary = "completed", jsonable(result.summary())
    except (TrainingError, TypeError, ValueError) as exc:
        batcher.flush()
        error = str(exc)
    except StorageError as exc:
        error = str(exc)
    except Exception as exc:  # recorded as the run's failure, whatever it was
        log.exception("run %s failed", run_id)
        error = f"the worker failed: {type(exc).__name__}: {exc}"[:2000]
    finally:
        done.set()
        if not context.shared.reaped(run_id):  # if taken for dead: recorded and told already
            _record_end(context, run_id, status, summary, error)
    return status


def _record_end(context: WorkerContext, run_id: str, status: str, summary, error) -> None:
    try:
        context.store.finish_run(run_id, status, summary, error)
    finally:
        context.shared.release(run_id)
        _publish_status(context, run_id, status, summary)


def _beat(context: WorkerContext, run_id: str, stop: threading.Event,
          done: threading.Event) -> None:
    """Renew the heartbeat every third of its time; look for a stop five times a second."""
    beat_every, since_beat = context.heartbeat / 3, 0.0
    look_every = min(0.2, beat_every)
    while not done.wait(look_every):
        since_beat += look_every
        try:
            if since_beat >= beat_every:
                context.shared.beat(run_id, context.heartbeat)
                since_beat = 0.0
            if context.shared.stop_asked(run_id) or context.shared.reaped(run_id):
                stop.set()
        except Exception:  # Redis away for a moment: the heartbeat's expiry says so if it stays
            log.warning("run %s: could not reach Redis", run_id, exc_info=True)


def _store_and_publish(context: WorkerContext, run_id: str, records: list[dict]) -> None:
    seqs = context.store.add_metrics(run_id, records)
    for seq, record in zip(seqs, records, strict=True):
        record["seq"] = seq
    context.events.emit("run_metrics", {"run_id": run_id, "records": records},
                        room=f"run:{run_id}")


def _publish_status(context: WorkerContext, run_id: str, status: str, summary) -> None:
    context.events.emit("run_status", {"run_id": run_id, "status": status, "summary": summary},
                        room=f"run:{run_id}")
