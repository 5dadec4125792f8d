"""``backprop-live train``: train a built-in model on the bundled digits, with a progress bar.

The run is recorded in the web app's database (the data dir), as the page's own runs are: it
appears in every page's runs list, live while it trains if a server is running on the same
data dir, and ``backprop-live runs`` shows, exports or deletes it.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from tqdm import tqdm

from . import data_dir


def add_parser(commands) -> None:
    from engine.training import MODELS, OPTIMIZERS, TrainConfig

    defaults = TrainConfig()
    parser = commands.add_parser(
        "train", help="train a network on the bundled digits (the run shows on the page)",
        description="Train a model on the bundled handwritten digits, with a progress bar. "
                    "The run is recorded in the web app's database (--data-dir): it appears in "
                    "the page's runs list, live if a server runs on the same data dir.")
    parser.add_argument("--model", choices=sorted(MODELS), default=defaults.model)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: Adam 0.003, SGD 0.05)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=defaults.optimizer)
    parser.add_argument("--momentum", type=float, default=defaults.momentum,
                        help="SGD's momentum")
    parser.add_argument("--seed", type=int, default=defaults.seed,
                        help="initial weights, the order of samples, augmentation")
    parser.add_argument("--width", type=int, default=defaults.width,
                        help="hidden FC size (the reference design uses 32)")
    parser.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing,
                        help="train against (1-ε)·one-hot + ε/10 (0 turns it off)")
    parser.add_argument("--shift", type=int, default=defaults.shift,
                        help="augment: move training images by up to this many pixels")
    parser.add_argument("--name", default=None, help="the run's name in the runs list")
    data_dir.add_database_arguments(parser)
    parser.add_argument("--no-save", action="store_true", help="do not record the run")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON summary object as the last line")
    parser.set_defaults(main=main)


def main(args) -> int:
    from engine.training import TrainConfig, TrainingError, load_digits

    config = TrainConfig(model=args.model, epochs=args.epochs, batch_size=args.batch_size,
                         lr=args.lr, optimizer=args.optimizer, momentum=args.momentum,
                         seed=args.seed, width=args.width, shift=args.shift,
                         label_smoothing=args.label_smoothing)
    try:
        config.checked()
    except TrainingError as exc:
        print(f"backprop-live train: {exc}", file=sys.stderr)
        return 2
    database = data_dir.database(args) or data_dir.resolve(args.data_dir)
    # `kill` stops it as Ctrl-C does: the run is recorded as stopped, not left running.
    signal.signal(signal.SIGTERM, _stop)
    data = load_digits()
    steps = -(-len(data.train_labels) // config.batch_size) * config.epochs
    with tqdm(total=steps, unit="step", file=sys.stderr, disable=None,
              dynamic_ncols=True) as bar:
        recorder = None if args.no_save else _Recorder(database, config, args.name)
        summary = _train(config, data, bar, recorder)
    if summary is None:
        print(f"backprop-live train: stopped; the run so far is kept as {recorder.run_id}"
              if recorder else "backprop-live train: stopped", file=sys.stderr)
        return 130
    print(f"test accuracy {summary['test_accuracy']:.4f} after {summary['epochs']} epochs, "
          f"{summary['seconds']:.1f} s, {summary['samples_per_second']:.0f} samples/s"
          + (f"; recorded as run {recorder.run_id} in {recorder.store.path}" if recorder
             else ""))
    if args.json:
        print(json.dumps(summary))
    return 0


def _stop(signum, frame):
    raise KeyboardInterrupt


def _train(config, data, bar, recorder) -> dict | None:
    """Train, recording as it goes; the summary, or None if Ctrl-C stopped it."""
    from engine.training import train

    def on_step(m):
        bar.update(1)
        bar.set_postfix(epoch=m.epoch, loss=f"{m.loss:.4f}", acc=f"{m.accuracy:.3f}")
        if recorder:
            recorder.records.add("step", m)

    def on_epoch(m):
        bar.write(f"epoch {m.epoch:3d}  train loss {m.train_loss:.4f}  "
                  f"test loss {m.test_loss:.4f}  test accuracy {m.test_accuracy:.4f}")
        if recorder:
            recorder.records.add("epoch", m)

    try:
        result = train(config, on_step=on_step, on_epoch=on_epoch, data=data)
    except KeyboardInterrupt:
        if recorder:
            recorder.finish("stopped")
        return None
    except BaseException as exc:
        if recorder:
            recorder.finish("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    summary = result.summary()
    if recorder:
        recorder.finish("completed", summary)
        summary["run_id"] = recorder.run_id
    return summary


class _Recorder:
    """The run in the store: created running, its records in batches, finished once."""

    def __init__(self, database, config, name):
        """``database``: a PostgreSQL URL, or the data dir whose SQLite file to use."""
        from ..jobs.records import RecordBatcher, run_name, run_options
        from ..store import DATABASE, TERMINAL, Store, this_process

        if isinstance(database, Path):
            database.mkdir(parents=True, exist_ok=True)
            database = database / DATABASE
        self.store = Store(database)
        self.run_id = self.store.add_run(TERMINAL, (name or run_name(config))[:200],
                                         run_options(config), owner=this_process())
        self.records = RecordBatcher(lambda records: self.store.add_metrics(self.run_id,
                                                                            records))

    def finish(self, status: str, summary: dict | None = None, error: str | None = None):
        from ..wire import jsonable

        self.records.flush()
        self.store.finish_run(self.run_id, status, jsonable(summary), error)
        self.store.close()
