"""A training job's process: reads one JSON config line, prints one JSON message per line.

Messages: ``{"type": "records", "records": [...]}`` with the step and epoch records of the last
~10 ms (``records.BATCH_SECONDS``), ``{"type": "weights", "epoch": k, "params": base64}`` before
training (k = 0) and before each epoch's record, then ``{"type": "done", "summary": {...}}`` — or
``{"type": "error", "message": ...}``, or, on SIGTERM (a stop), what it has and
``{"type": "stopped"}``. It exits as soon as its stdin closes: the server that
started it is gone, nobody is reading.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading


def _exit_when_parent_goes(stream) -> None:
    stream.read()  # returns at end of file: the server closed the pipe, or died
    os._exit(0)


def _stop(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    config_line = sys.stdin.readline()
    threading.Thread(target=_exit_when_parent_goes, args=(sys.stdin,), daemon=True).start()

    from engine.training import TrainConfig, TrainingError, train
    from server.jobs.records import RecordBatcher, weights_message

    def send(message: dict) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    batcher = RecordBatcher(lambda records: send({"type": "records", "records": records}))
    try:
        config = TrainConfig(**json.loads(config_line)).checked()
        result = train(config, on_step=lambda m: batcher.add("step", m),
                       on_epoch=lambda m: batcher.add("epoch", m),
                       on_weights=lambda epoch, params: send(weights_message(epoch, params)))
    except KeyboardInterrupt:  # asked to stop
        batcher.flush()
        send({"type": "stopped"})
        return 0
    except (TrainingError, TypeError, ValueError) as exc:
        batcher.flush()
        send({"type": "error", "message": str(exc)})
        return 2
    batcher.flush()
    send({"type": "done", "summary": result.summary()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
