"""A training job's process: reads one JSON config line, prints one JSON record per line.

Records: ``{"type": "step", ...}`` after each step, ``{"type": "epoch", ...}`` after each epoch,
then ``{"type": "done", "summary": {...}}`` — or ``{"type": "error", "message": ...}``. It exits
as soon as its stdin closes: the server that started it is gone, nobody is reading.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import asdict


def _exit_when_parent_goes(stream) -> None:
    stream.read()  # returns at end of file: the server closed the pipe, or died
    os._exit(0)


def main() -> int:
    config_line = sys.stdin.readline()
    threading.Thread(target=_exit_when_parent_goes, args=(sys.stdin,), daemon=True).start()

    from engine.training import TrainConfig, TrainingError, train

    out = sys.stdout

    def emit(record: dict) -> None:
        record["time"] = time.time()  # wall clock at the step's end, for latency measurements
        out.write(json.dumps(record) + "\n")
        out.flush()

    try:
        config = TrainConfig(**json.loads(config_line)).checked()
        result = train(config, on_step=lambda m: emit({"type": "step", **asdict(m)}),
                       on_epoch=lambda m: emit({"type": "epoch", **asdict(m)}))
    except (TrainingError, TypeError, ValueError) as exc:
        emit({"type": "error", "message": str(exc)})
        return 2
    emit({"type": "done", "summary": result.summary()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
