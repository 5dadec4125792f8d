"""A training job's process: reads one JSON config line, prints one JSON message per line.

Messages: ``{"type": "records", "records": [...]}`` with the step and epoch records of the last
~20 ms (a fast run makes hundreds of steps a second: one line, one transaction and one socket
message per batch instead of per step), then ``{"type": "done", "summary": {...}}`` — or
``{"type": "error", "message": ...}``. It exits as soon as its stdin closes: the server that
started it is gone, nobody is reading.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import asdict

BATCH_SECONDS = 0.01  # records wait at most this long (plus one step) before they are sent


def _exit_when_parent_goes(stream) -> None:
    stream.read()  # returns at end of file: the server closed the pipe, or died
    os._exit(0)


def main() -> int:
    config_line = sys.stdin.readline()
    threading.Thread(target=_exit_when_parent_goes, args=(sys.stdin,), daemon=True).start()

    from engine.training import TrainConfig, TrainingError, train

    out = sys.stdout
    pending: list[dict] = []
    flushed = [time.monotonic()]

    def send(message: dict) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    def flush() -> None:
        if pending:
            send({"type": "records", "records": list(pending)})
            pending.clear()
        flushed[0] = time.monotonic()

    def record(kind: str, metrics) -> None:
        # wall clock at the step's end, for latency measurements
        pending.append({"type": kind, **asdict(metrics), "time": time.time()})
        if kind == "epoch" or time.monotonic() - flushed[0] >= BATCH_SECONDS:
            flush()

    try:
        config = TrainConfig(**json.loads(config_line)).checked()
        result = train(config, on_step=lambda m: record("step", m),
                       on_epoch=lambda m: record("epoch", m))
    except (TrainingError, TypeError, ValueError) as exc:
        flush()
        send({"type": "error", "message": str(exc)})
        return 2
    flush()
    send({"type": "done", "summary": result.summary()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
