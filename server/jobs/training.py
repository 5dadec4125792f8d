"""Training runs in worker processes, within budgets, always stoppable.

A training run is a child process (``python -m server.jobs.worker``) that prints its step and
epoch records in small batches, one JSON line each; a pump task stores each batch (one
transaction) and then hands it to ``on_records`` — in that order, so a page that reads the
history and then follows the live tail sees every record exactly once. The child exits when
its stdin closes, so killing the server never leaves orphans writing nowhere.

A stop is SIGTERM (the worker sends what it has and says "stopped"), then SIGKILL after
``STOP_GRACE_SECONDS`` for a worker that does not answer; a run whose workspace has had no
page connected for ``TRAINING_IDLE_SECONDS`` is stopped; the slot is freed whatever happens.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from ..limits import BusyError, LimitError
from ..store import StorageError, this_process
from ..wire import jsonable
from .records import weights_from_message

# A run's end that could not be stored (a full disk) is tried again this often, for an hour;
# after that, the next start marks it interrupted.
FINISH_RETRY_SECONDS, FINISH_RETRIES = 1.0, 3600


@dataclass
class TrainingJob:
    run_id: str
    workspace: str
    address: str
    process: subprocess.Popen
    errors: object  # the file the worker's stderr goes to
    stop_requested: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class TrainingJobs:
    def __init__(self, store, start_task, sleep, settings: dict, *, on_records=None,
                 on_status=None):
        self.store = store
        self.start_task = start_task  # socketio.start_background_task
        self.sleep = sleep
        self.settings = settings
        self.on_records = on_records or (lambda run_id, records: None)
        self.on_status = on_status or (lambda run_id, status, summary: None)
        self.training: dict[str, TrainingJob] = {}
        self.lock = threading.Lock()  # also orders "store + publish" against "read history"
        self.clients: Counter[str] = Counter()  # workspace -> pages connected
        self.left_at: dict[str, float] = {}  # workspace -> when its last page went
        self.idle_watch = False

    # -- budgets -------------------------------------------------------------------------------
    def check_budget(self, steps_per_epoch: int, epochs: int, width: int) -> None:
        check_run_size(self.settings, steps_per_epoch, epochs, width)

    def watched(self, sid: str, run_id: str, seq: int) -> None:
        """A page has the run's records up to ``seq`` (the relay's concern, when there is one)."""

    def _admit(self, workspace: str, address: str) -> None:
        jobs = list(self.training.values())
        for count, setting, whose in (
                (len(jobs), "MAX_TRAINING_JOBS", "the server is busy: {n} training runs are "
                 "going on"),
                (sum(j.workspace == workspace for j in jobs), "MAX_TRAINING_PER_WORKSPACE",
                 "this workspace already has {n} training runs going on"),
                (sum(j.address == address for j in jobs), "MAX_TRAINING_PER_ADDRESS",
                 "{n} training runs from this computer are going on")):
            if count >= self.settings[setting]:
                raise BusyError(f"{whose.format(n=count)} ({setting}="
                                f"{self.settings[setting]}); stop one or wait", setting)

    # -- training ------------------------------------------------------------------------------
    def start_training(self, workspace: str, address: str, name: str, config: dict,
                       worker_config: dict | None = None) -> str:
        """Store the run (with ``config``) and start its worker (with ``worker_config``, which
        may carry more, e.g. a network spec's text)."""
        with self.lock:
            self._admit(workspace, address)
            run_id = self.store.add_run(workspace, name, config)
            # stderr goes to a file: a pipe nobody reads while stdout streams could fill up
            # and stall the worker.
            errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the run ends (_pump)
            process = subprocess.Popen(
                [sys.executable, "-m", "server.jobs.worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1)
            job = TrainingJob(run_id, workspace, address, process, errors)
            self.training[run_id] = job
        # The worker's "host:pid": `backprop-live runs stop` signals it.
        self.store.set_owner(run_id, this_process(process.pid))
        process.stdin.write(json.dumps(worker_config or config) + "\n")
        process.stdin.flush()
        self.start_task(self._pump, job)
        self._watch_idle()
        return run_id

    def stop_training(self, run_id: str, workspace: str | None, wait: float = 0) -> bool:
        """Stop a run of this workspace (any, for None); with ``wait``, until it is recorded
        as ended. A worker that does not end within STOP_GRACE_SECONDS is killed."""
        job = self.training.get(run_id)
        if job is None or (workspace is not None and job.workspace != workspace):
            return False
        if not job.stop_requested:
            job.stop_requested = True
            _signal(job.process, signal.SIGTERM)
            self.start_task(self._kill_if_still_running, job)
        if wait:
            job.done.wait(wait)
        return True

    def _kill_if_still_running(self, job: TrainingJob) -> None:
        if not job.done.wait(self.settings["STOP_GRACE_SECONDS"]):
            _signal(job.process, signal.SIGKILL)  # stopped (SIGSTOP), or deaf to SIGTERM

    def _pump(self, job: TrainingJob) -> None:
        summary, error, stopped = None, None, False
        try:
            for line in job.process.stdout:
                try:
                    message = json.loads(line)
                except json.JSONDecodeError:
                    continue
                kind = message.get("type")
                if kind == "records":
                    self._store_and_publish(job, [jsonable(r) for r in message["records"]])
                elif kind == "weights":  # stored before the epoch's record is published
                    self.store.add_weights(job.run_id, *weights_from_message(message))
                elif kind == "done":
                    summary = jsonable(message.get("summary"))
                elif kind == "stopped":
                    stopped = True
                elif kind == "error":
                    error = message.get("message")
        except StorageError as exc:  # the disk is full: the run cannot go on being recorded
            error = str(exc)
            _signal(job.process, signal.SIGKILL)
        finally:
            self._finish(job, summary, error, stopped)

    def _store_and_publish(self, job: TrainingJob, records: list[dict]) -> None:
        with self.lock:
            seqs = self.store.add_metrics(job.run_id, records)
            for seq, r in zip(seqs, records, strict=True):
                r["seq"] = seq
            self.on_records(job.run_id, records)

    def _finish(self, job: TrainingJob, summary, error, stopped: bool) -> None:
        """Record how the run ended and free its slot, whatever went wrong before."""
        status = "failed"
        try:
            job.process.wait()
            job.process.stdin.close()
            job.process.stdout.close()
            stderr = _read_and_close(job.errors)
            if error is None and summary is not None and not job.stop_requested:
                status = "completed"
            elif error is None and (job.stop_requested or stopped):
                status = "stopped"
            else:
                status, error = "failed", error or stderr.strip()[-2000:] or "the worker died"
            try:
                self.store.finish_run(job.run_id, status, summary, error)
            except StorageError:  # a full disk: record the end once there is room again
                self.start_task(self._finish_later, job.run_id, status, summary, error)
        finally:
            with self.lock:
                self.training.pop(job.run_id, None)
            job.done.set()
        self.on_status(job.run_id, status, summary)

    def _finish_later(self, run_id: str, status: str, summary, error) -> None:
        for _ in range(FINISH_RETRIES):
            self.sleep(FINISH_RETRY_SECONDS)
            with contextlib.suppress(StorageError):
                self.store.finish_run(run_id, status, summary, error)
                return

    # -- stopping runs nobody watches ------------------------------------------------------
    def client_connected(self, workspace: str) -> None:
        self.clients[workspace] += 1
        self.left_at.pop(workspace, None)

    def client_left(self, workspace: str) -> None:
        self.clients[workspace] -= 1
        if self.clients[workspace] <= 0:
            del self.clients[workspace]
            self.left_at[workspace] = time.monotonic()

    def _watch_idle(self) -> None:
        if not self.idle_watch:
            self.idle_watch = True
            self.start_task(self._stop_idle_runs)

    def _stop_idle_runs(self) -> None:
        """While runs train: stop those whose workspace has had no page for the idle time."""
        idle = self.settings["TRAINING_IDLE_SECONDS"]
        while self.training:
            self.sleep(min(idle / 4, 15))
            now = time.monotonic()
            for job in list(self.training.values()):
                gone = self.left_at.get(job.workspace)
                if job.workspace not in self.clients and gone is not None and now - gone > idle:
                    self.stop_training(job.run_id, None)
        self.idle_watch = False

    def shutdown(self, timeout: float = 10) -> None:
        """Stop every training run and wait until each is recorded as stopped."""
        jobs = list(self.training.values())
        for job in jobs:
            job.stop_requested = True
            _signal(job.process, signal.SIGTERM)
        for job in jobs:
            if not job.done.wait(min(timeout, self.settings["STOP_GRACE_SECONDS"])):
                _signal(job.process, signal.SIGKILL)
                job.done.wait(timeout)


def check_run_size(settings: dict, steps_per_epoch: int, epochs: int, width: int) -> None:
    """A run's size against MAX_TRAINING_STEPS and MAX_TRAINING_WIDTH."""
    most, widest = settings["MAX_TRAINING_STEPS"], settings["MAX_TRAINING_WIDTH"]
    if epochs * steps_per_epoch > most:
        raise LimitError(f"{epochs} epochs of {steps_per_epoch} steps is "
                         f"{epochs * steps_per_epoch:,} steps, over MAX_TRAINING_STEPS="
                         f"{most:,}: fewer epochs or a bigger batch", "MAX_TRAINING_STEPS")
    if width > widest:
        raise LimitError(f"width {width} is over MAX_TRAINING_WIDTH={widest}",
                         "MAX_TRAINING_WIDTH")


def _signal(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)


def _read_and_close(stream) -> str:
    """What a finished worker wrote to its stderr file."""
    with stream:
        stream.seek(0)
        return stream.read().decode("utf-8", "replace")
