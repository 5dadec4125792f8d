"""Terminal runs, live on the page: ``backprop-live train`` writes its records into the store
from another process, and this follower publishes them to the pages that watch the run.

A poll task starts when a page watches a running terminal run and ends when no watched run is
running. ``published[run_id]`` is the last seq handed on; a page that starts watching reads the
history up to that seq, under the job runner's lock, and the poll hands on everything after it
— so, as for the server's own runs, each record reaches a page exactly once.
"""

from __future__ import annotations

from ..store import owner_alive

POLL_SECONDS = 0.1  # how often a watched terminal run is looked at


class TerminalRuns:
    def __init__(self, store, lock, start_task, sleep, on_records, on_status,
                 poll_seconds: float = POLL_SECONDS):
        self.store = store
        self.lock = lock  # the job runner's: publishing is ordered against reading history
        self.start_task = start_task
        self.sleep = sleep
        self.on_records = on_records
        self.on_status = on_status
        self.poll_seconds = poll_seconds
        self.published: dict[str, int] = {}
        self.polling = False
        self.stopped = False

    def follow(self, run_id: str) -> int:
        """Start following a running terminal run; returns the seq the poll publishes after.
        Call it holding ``self.lock``."""
        if run_id not in self.published:
            self.published[run_id] = self.store.last_seq(run_id)
        if not self.polling:
            self.polling = True
            self.start_task(self._poll)
        return self.published[run_id]

    def _poll(self) -> None:
        while not self.stopped:
            self.sleep(self.poll_seconds)
            with self.lock:
                for run_id in list(self.published):
                    self._publish(run_id)
                if not self.published:
                    self.polling = False
                    return
        self.polling = False

    def _publish(self, run_id: str) -> None:
        # The status before the records: a run read as ended (or whose process is gone) has
        # stored all of its records already.
        run = self.store.run(run_id)
        if run is None:  # deleted from the command line
            del self.published[run_id]
            return
        if run["status"] == "running" and not owner_alive(self.store.owner(run_id)):
            self.store.finish_run(run_id, "interrupted", error="its terminal process ended")
            run = self.store.run(run_id)
        records = self.store.metrics(run_id, self.published[run_id])
        if records:
            self.published[run_id] = records[-1]["seq"]
            self.on_records(run_id, records)
        if run["status"] != "running":
            del self.published[run_id]
            self.on_status(run_id, run["status"], run["summary"])

    def shutdown(self) -> None:
        self.stopped = True
