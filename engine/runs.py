"""Training runs on disk, so the server (and people) find them after the process ends.

A run is a folder ``<data-dir>/runs/<run id>/`` holding:
- ``config.json``   the TrainConfig, as given;
- ``metrics.jsonl`` one JSON object per line, in order: ``{"type": "step", ...StepMetrics}`` after
                    every step and ``{"type": "epoch", ...EpochMetrics}`` after every epoch;
- ``summary.json``  written last, so a run without it was cut off;
- ``params.npz``    the final parameters (``params``, float64, in the graph's input order),
                    saved without pickling.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(4)


class RunWriter:
    """Appends metrics as they happen; ``finish`` writes the parameters and the summary."""

    def __init__(self, data_dir: str | Path, config, run_id: str | None = None):
        self.run_id = run_id or new_run_id()
        self.folder = Path(data_dir) / "runs" / self.run_id
        self.folder.mkdir(parents=True, exist_ok=False)
        (self.folder / "config.json").write_text(json.dumps(asdict(config), indent=2))
        self._metrics = (self.folder / "metrics.jsonl").open("a", encoding="utf-8")

    def step(self, metrics) -> None:
        self._write({"type": "step", **asdict(metrics)})

    def epoch(self, metrics) -> None:
        self._write({"type": "epoch", **asdict(metrics)})

    def _write(self, record: dict) -> None:
        self._metrics.write(json.dumps(record) + "\n")
        self._metrics.flush()

    def finish(self, result) -> None:
        self._metrics.close()
        np.savez(self.folder / "params.npz", params=result.params)
        (self.folder / "summary.json").write_text(json.dumps(result.summary(), indent=2))


def read_metrics(folder: str | Path) -> list[dict]:
    """Every complete line of a run's metrics (a line cut off by a crash is left out)."""
    records = []
    with (Path(folder) / "metrics.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return records
