"""What a training run is to the server: its options, its default name, and its records.

A run produces a step record after every step and an epoch record after every epoch. Both the
worker process (for runs started from the page) and ``backprop-live train`` (for runs started
in a terminal) hand them on in small batches: a fast run makes hundreds of steps a second, and
one batch is one line, one transaction and one socket message instead of hundreds.
"""

from __future__ import annotations

import base64
import csv
import io
import time

import numpy as np

from ..wire import jsonable

# The TrainConfig fields a run is started with, and stored with (besides a network spec's ref).
TRAIN_FIELDS = ("model", "epochs", "batch_size", "lr", "optimizer", "momentum", "seed", "width",
                "shift", "label_smoothing")
BATCH_SECONDS = 0.01  # records wait at most this long (plus one step) before they are sent


def steps_per_epoch(batch_size: int) -> int:
    """Steps in one epoch over the bundled digits' training set."""
    from engine.training.datasets import N_IMAGES, TEST_SIZE

    return -(-(N_IMAGES - TEST_SIZE) // batch_size)


def run_options(config) -> dict:
    """The checked TrainConfig's fields, as stored with the run."""
    return {k: getattr(config, k) for k in TRAIN_FIELDS}


def run_name(config, title: str | None = None) -> str:
    """The name a run gets unless its owner gives one."""
    return (f"{title or config.model} · {config.optimizer} · lr {config.learning_rate:g} · "
            f"seed {config.seed}")


class RecordBatcher:
    """Collects step and epoch records; calls ``send(records)`` with those of the last
    ``seconds`` (and always at an epoch's end, so the confusion matrix is never held back)."""

    def __init__(self, send, seconds: float = BATCH_SECONDS):
        self.send = send
        self.seconds = seconds
        self.pending: list[dict] = []
        self.sent_at = time.monotonic()

    def add(self, kind: str, metrics) -> None:
        # the wall clock at the step's end, for latency measurements; never a bare NaN.
        # jsonable copies every dict and list it meets, so a shallow vars() is enough (asdict's
        # deep copy cost more than the rest of the record).
        self.pending.append(jsonable({"type": kind, **vars(metrics), "time": time.time()}))
        if kind == "epoch" or time.monotonic() - self.sent_at >= self.seconds:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.send(list(self.pending))
            self.pending.clear()
        self.sent_at = time.monotonic()


def weights_bytes(params) -> bytes:
    """A parameter vector as stored: little-endian float64, bit for bit."""
    return np.ascontiguousarray(params, dtype="<f8").tobytes()


def weights_message(epoch: int, params) -> dict:
    """The worker's line for an epoch's weights (base64: JSON lines carry no bytes)."""
    return {"type": "weights", "epoch": epoch,
            "params": base64.b64encode(weights_bytes(params)).decode("ascii")}


def weights_from_message(message: dict) -> tuple[int, bytes]:
    epoch, params = message.get("epoch"), message.get("params")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0 \
            or not isinstance(params, str):
        raise ValueError("a weights message has an epoch (an integer ≥ 0) and base64 params")
    raw = base64.b64decode(params, validate=True)
    if len(raw) % 8:
        raise ValueError("a weights message's params are not float64s")
    return epoch, raw


STEP_COLUMNS = ["seq", "step", "epoch", "loss", "accuracy", "seconds"]
EPOCH_COLUMNS = ["train_loss", "train_accuracy", "test_loss", "test_accuracy"]


def metrics_csv(records: list[dict], norms: list[str] | None = None,
                header: bool = True) -> str:
    """A run's records as CSV: one row per record, a column per gradient-norm group (``norms``:
    those of ``records`` unless given — every step of a run has the same groups, so a run read
    in pages passes its first page's, and a header only with the first page)."""
    if norms is None:
        norms = grad_norm_columns(records)
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(["type", *STEP_COLUMNS, *EPOCH_COLUMNS,
                         *(f"grad_norm:{n}" for n in norms)])
    for r in records:
        writer.writerow([r["type"], *(r.get(c, "") for c in STEP_COLUMNS),
                         *(r.get(c, "") for c in EPOCH_COLUMNS),
                         *(r.get("grad_norms", {}).get(n, "") for n in norms)])
    return out.getvalue()


def grad_norm_columns(records: list[dict]) -> list[str]:
    return sorted({k for r in records if r["type"] == "step" for k in r["grad_norms"]})
