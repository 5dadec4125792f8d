"""Training runs on an RQ queue in Redis (``JOBS``), served by ``backprop-live worker``
processes on any machine — the job runner's interface (``training.TrainingJobs``) over a queue.

A web process admits a run against the budgets counted in Redis (``shared``), stores it, and
enqueues it; a worker trains it (``queued_run``) and publishes its records on the message queue,
which the web processes deliver to every watcher (``relay``). A stop sets a mark in Redis that
the worker sees within 0.2 s; a run still waiting in the queue is cancelled there and recorded
as stopped at once. Each web process looks for runs whose worker's heartbeat has gone (every
half ``JOB_HEARTBEAT_SECONDS``); the first to find one records it as failed, frees its slot and
tells its watchers: a worker killed outright is noticed within 1.5 × JOB_HEARTBEAT_SECONDS. A
failed run is not tried again — a rerun is one click for its student, and would start from
step 1 anyway.

RQ's jobs are serialised as JSON, not pickle: what it carries (a network spec's text) was
uploaded, and uploaded text is data.
"""

from __future__ import annotations

import contextlib
import logging

from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from .shared import SharedTraining, connect
from .training import check_run_size

log = logging.getLogger(__name__)
QUEUE = "backprop-live-training"
JOB_TIMEOUT_SECONDS = 24 * 3600  # RQ's own limit; MAX_TRAINING_STEPS bounds a run long before
WORKER_DIED = ("its worker stopped (no heartbeat for {s:g} s: JOB_HEARTBEAT_SECONDS); "
               "train it again")
QUEUE_LOST = "the job queue lost it (Redis restarted with every process?); train it again"
ORPHAN_AFTER_SECONDS = 60  # a run is admitted milliseconds after it is stored


def training_queue(url: str) -> Queue:
    return Queue(QUEUE, connection=connect_rq(url), serializer=JSONSerializer)


def connect_rq(url: str):
    """RQ keeps bytes in Redis (its own keys), so its connection does not decode responses."""
    import redis

    return redis.Redis.from_url(url)


def stop_queued(store, shared: SharedTraining, rq_connection, run_id: str) -> str:
    """Stop a run on the queue, from any process that reaches its Redis and database: its
    worker, if one trains it, sees the mark within 0.2 s and records it as stopped
    ("stopping"); one still waiting is cancelled in RQ and recorded as stopped here
    ("cancelled"). "unknown": the queue has no such run."""
    if run_id not in shared.active():
        return "unknown"
    shared.ask_to_stop(run_id)
    if cancel_if_queued(run_id, rq_connection):
        store.finish_run(run_id, "stopped")
        shared.release(run_id)
        return "cancelled"
    return "stopping"


def cancel_if_queued(job_id: str, rq_connection) -> bool:
    """Cancel RQ's job ``job_id`` if it still waits in its queue, so no worker takes it;
    whether it did (a job started, ended or unknown is left as it is)."""
    with contextlib.suppress(NoSuchJobError, InvalidJobOperation):
        job = Job.fetch(job_id, connection=rq_connection, serializer=JSONSerializer)
        if job.get_status() == "queued":
            job.cancel()
            return True
    return False


class ActiveRuns:
    """``jobs.training`` as the rest of the server reads it: ``len``, ``in``."""

    def __init__(self, shared: SharedTraining):
        self.shared = shared

    def __len__(self) -> int:
        return len(self.shared.active())

    def __contains__(self, run_id) -> bool:
        return run_id in self.shared.active()


class QueuedTraining:
    def __init__(self, store, start_task, sleep, settings: dict, relay, *, on_status=None):
        self.store = store
        self.start_task, self.sleep = start_task, sleep
        self.settings = settings
        self.relay = relay
        self.lock = relay.lock  # orders "publish" against "read history and join the room"
        self.shared = SharedTraining(connect(settings["JOBS"]))
        self.queue = training_queue(settings["JOBS"])
        self.training = ActiveRuns(self.shared)
        self.on_status = on_status or (lambda run_id, status, summary: None)
        self.heartbeat = float(settings["JOB_HEARTBEAT_SECONDS"])
        self.stopped = False
        self._interrupt_orphans()
        start_task(self._mark_dead_runs)

    def check_budget(self, steps_per_epoch: int, epochs: int, width: int) -> None:
        check_run_size(self.settings, steps_per_epoch, epochs, width)

    def watched(self, sid: str, run_id: str, seq: int) -> None:
        self.relay.watched(sid, run_id, seq)

    def start_training(self, workspace: str, address: str, name: str, config: dict,
                       worker_config: dict | None = None) -> str:
        run_id = self.store.add_run(workspace, name, config)
        try:
            self.shared.admit(run_id, workspace, address, self.settings)
        except Exception:
            self.store.delete_run(run_id, workspace)  # never started: nothing to keep
            raise
        try:
            self.queue.enqueue("server.jobs.queued_run.train_run", run_id,
                               worker_config or config, job_id=run_id,
                               job_timeout=JOB_TIMEOUT_SECONDS, result_ttl=0,
                               failure_ttl=3600)
        except Exception as exc:
            self.shared.release(run_id)
            self.store.finish_run(run_id, "failed", error=f"the job queue refused it: {exc}")
            raise
        return run_id

    def stop_training(self, run_id: str, workspace: str | None, wait: float = 0) -> bool:
        """Ask the run's worker to stop it (cancel it if it still waits); with ``wait``, until
        it is recorded as ended."""
        info = self.shared.active().get(run_id)
        if info is None or (workspace is not None and info["workspace"] != workspace):
            return False
        if stop_queued(self.store, self.shared, self.queue.connection, run_id) == "cancelled":
            self._publish_status(run_id)
        steps = int(wait / 0.1)
        for _ in range(steps):
            if run_id not in self.training:
                break
            self.sleep(0.1)
        return True

    def _interrupt_orphans(self) -> None:
        """At start: the server's runs still 'running' that the queue does not know (Redis,
        which keeps nothing on disk, restarted with the workers) are interrupted."""
        import time

        active, before = self.shared.active(), time.time() - ORPHAN_AFTER_SECONDS
        for run in self.store.runs(None):
            if (run["status"] == "running" and run["origin"] == "server"
                    and run["created"] < before and run["id"] not in active):
                self.store.finish_run(run["id"], "interrupted", error=QUEUE_LOST)

    def _mark_dead_runs(self) -> None:
        """Runs whose worker died: failed, their slot freed, their watchers told."""
        while not self.stopped:
            self.sleep(self.heartbeat / 2)
            try:
                for run_id in self.shared.dead():
                    if self.shared.claim_dead(run_id):
                        self.store.finish_run(run_id, "failed",
                                              error=WORKER_DIED.format(s=self.heartbeat))
                        self.shared.release(run_id)
                        self._publish_status(run_id)
            except Exception:  # Redis or the database away for a moment: look again later
                log.warning("could not look for runs whose worker died", exc_info=True)

    def _publish_status(self, run_id: str) -> None:
        run = self.store.run(run_id)
        if run is not None:
            self.on_status(run_id, run["status"], run["summary"])

    # -- the local runner's hooks: pages connecting, shutting down ----------------------------
    def client_connected(self, workspace: str) -> None:
        """Runs on workers are not stopped for want of a page (TRAINING_IDLE_SECONDS is the
        local runner's): a watcher may be on another web process."""

    def client_left(self, workspace: str) -> None:
        pass

    def shutdown(self, timeout: float = 10) -> None:
        """The runs go on on their workers; other web processes serve their watchers."""
        self.stopped = True
