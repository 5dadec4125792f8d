"""The job runner: training in worker processes, CPU-heavy calls off the event loop.

This is the one interface a later change would back with a real queue (RQ or Celery over
Redis): ``start_training`` / ``stop_training`` / ``call_cpu``, plus the limits. Everything else
in the server talks to it, never to processes or threads directly.

A training run is a child process (``python -m server.jobs.worker``) that prints its step
and epoch records in small batches, one JSON line each; a pump task stores each batch (one
transaction) and then hands it to ``on_records`` — in that order, so a page that reads the
history and then follows the live tail sees every record exactly once. The child exits when
its stdin closes, so killing the server never leaves orphans writing nowhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field

from ..wire import jsonable


class BusyError(RuntimeError):
    """Too many jobs: the message names the limit and its value."""

    def __init__(self, message: str, limit: str):
        super().__init__(message)
        self.limit = limit


@dataclass
class TrainingJob:
    run_id: str
    workspace: str
    process: subprocess.Popen
    errors: object  # the file the worker's stderr goes to
    stop_requested: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class Jobs:
    def __init__(self, store, start_task, *, limits: dict, cpu_call=None, on_records=None,
                 on_status=None):
        self.store = store
        self.start_task = start_task  # socketio.start_background_task
        # kind -> (at most in total, at most per workspace); kinds: "training", "trace"
        self.limits = dict(limits)
        self._cpu_call = cpu_call or (lambda fn, *a: fn(*a))
        self.on_records = on_records or (lambda run_id, records: None)
        self.on_status = on_status or (lambda run_id, status, summary: None)
        self.training: dict[str, TrainingJob] = {}
        self.traces: dict[str, str] = {}  # trace token -> workspace
        self.lock = threading.Lock()  # also orders "store + publish" against "read history"

    # -- limits --------------------------------------------------------------------------------
    def _admit(self, kind: str, workspace: str) -> None:
        owners = ([j.workspace for j in self.training.values()] if kind == "training"
                  else list(self.traces.values()))
        most, most_each = self.limits[kind]
        names = {"training": ("MAX_TRAINING_JOBS", "MAX_TRAINING_PER_WORKSPACE"),
                 "trace": ("MAX_TRACES", "MAX_TRACES_PER_WORKSPACE")}[kind]
        what = "training runs" if kind == "training" else "graph traces"
        if len(owners) >= most:
            raise BusyError(f"the server is busy: {len(owners)} {what} are going on "
                            f"({names[0]}={most}); try again when one ends", names[0])
        mine = owners.count(workspace)
        if mine >= most_each:
            raise BusyError(f"this workspace already has {mine} {what} going on "
                            f"({names[1]}={most_each}); stop one or wait", names[1])

    # -- graph traces (short CPU work, streamed by the caller) ---------------------------------
    def begin_trace(self, token: str, workspace: str) -> None:
        with self.lock:
            self._admit("trace", workspace)
            self.traces[token] = workspace

    def end_trace(self, token: str) -> None:
        with self.lock:
            self.traces.pop(token, None)

    def call_cpu(self, fn, *args):
        """Run CPU-heavy ``fn`` where it cannot stall the event loop (a real OS thread)."""
        return self._cpu_call(fn, *args)

    # -- training ------------------------------------------------------------------------------
    def start_training(self, workspace: str, name: str, config: dict,
                       worker_config: dict | None = None) -> str:
        """Store the run (with ``config``) and start its worker (with ``worker_config``, which
        may carry more, e.g. a network spec's text)."""
        with self.lock:
            self._admit("training", workspace)
            run_id = self.store.add_run(workspace, name, config)
            # stderr goes to a file: a pipe nobody reads while stdout streams could fill up
            # and stall the worker.
            errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the run ends (_pump)
            process = subprocess.Popen(
                [sys.executable, "-m", "server.jobs.worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1)
            job = TrainingJob(run_id, workspace, process, errors)
            self.training[run_id] = job
        process.stdin.write(json.dumps(worker_config or config) + "\n")
        process.stdin.flush()
        self.start_task(self._pump, job)
        return run_id

    def stop_training(self, run_id: str, workspace: str, wait: float = 0) -> bool:
        """Stop a run of this workspace; with ``wait``, until it is recorded as stopped."""
        job = self.training.get(run_id)
        if job is None or job.workspace != workspace:
            return False
        job.stop_requested = True
        job.process.terminate()
        if wait:
            job.done.wait(wait)
        return True

    def _pump(self, job: TrainingJob) -> None:
        summary, error = None, None
        try:
            for line in job.process.stdout:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                kind = record.get("type")
                if kind == "records":
                    records = [jsonable(r) for r in record["records"]]
                    with self.lock:
                        seqs = self.store.add_metrics(job.run_id, records)
                        for seq, r in zip(seqs, records, strict=True):
                            r["seq"] = seq
                        self.on_records(job.run_id, records)
                elif kind == "done":
                    summary = jsonable(record.get("summary"))
                elif kind == "error":
                    error = record.get("message")
        finally:
            job.process.wait()
            job.process.stdin.close()
            job.process.stdout.close()
            stderr = _read_and_close(job.errors)
            if summary is not None and not job.stop_requested:
                status = "completed"
            elif job.stop_requested:
                status = "stopped"
            else:
                status, error = "failed", error or stderr.strip()[-2000:] or "the worker died"
            with self.lock:
                self.store.finish_run(job.run_id, status, summary, error)
                self.training.pop(job.run_id, None)
            self.on_status(job.run_id, status, summary)
            job.done.set()

    def shutdown(self, timeout: float = 10) -> None:
        """Stop every training run and wait until each is recorded as stopped."""
        jobs = list(self.training.values())
        for job in jobs:
            job.stop_requested = True
            job.process.terminate()
        for job in jobs:
            job.done.wait(timeout)


def _read_and_close(stream) -> str:
    """What a finished worker wrote to its stderr file."""
    with stream:
        stream.seek(0)
        return stream.read().decode("utf-8", "replace")
