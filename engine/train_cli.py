"""``backprop-live train``: train a built-in model on the bundled digits, with a progress bar."""

from __future__ import annotations

import json
import os
import sys

from tqdm import tqdm

from .datasets import load_digits
from .models import MODELS
from .optim import OPTIMIZERS
from .runs import RunWriter
from .training import TrainConfig, TrainingError, train

DEFAULT_DATA_DIR = os.environ.get("BACKPROP_LIVE_DATA", "instance")


def add_arguments(parser) -> None:
    defaults = TrainConfig()
    parser.add_argument("--model", choices=sorted(MODELS), default=defaults.model)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: Adam 0.003, SGD 0.05)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=defaults.optimizer)
    parser.add_argument("--momentum", type=float, default=defaults.momentum)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--width", type=int, default=defaults.width,
                        help="hidden FC size (the reference README uses 32)")
    parser.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing,
                        help="train against (1-ε)·one-hot + ε/10 (0 turns it off)")
    parser.add_argument("--shift", type=int, default=defaults.shift,
                        help="augment: move training images by up to this many pixels")
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                        help="where runs are saved (runs/<id>/, see docs/training.md)")
    parser.add_argument("--no-save", action="store_true", help="do not save the run")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON summary object as the last line")


def main(args) -> int:
    config = TrainConfig(model=args.model, epochs=args.epochs, batch_size=args.batch_size,
                         lr=args.lr, optimizer=args.optimizer, momentum=args.momentum,
                         seed=args.seed, width=args.width, shift=args.shift,
                         label_smoothing=args.label_smoothing)
    try:
        config.checked()
    except TrainingError as exc:
        print(f"backprop-live train: {exc}", file=sys.stderr)
        return 2
    writer = None if args.no_save else RunWriter(args.data_dir, config)
    data = load_digits()
    steps_per_epoch = -(-len(data.train_labels) // config.batch_size)
    bar = tqdm(total=steps_per_epoch * config.epochs, unit="step", file=sys.stderr,
               disable=None, dynamic_ncols=True)

    def on_step(m):
        bar.update(1)
        bar.set_postfix(epoch=m.epoch, loss=f"{m.loss:.4f}", acc=f"{m.accuracy:.3f}")
        if writer:
            writer.step(m)

    def on_epoch(m):
        bar.write(f"epoch {m.epoch:3d}  train loss {m.train_loss:.4f}  "
                  f"test loss {m.test_loss:.4f}  test accuracy {m.test_accuracy:.4f}")
        if writer:
            writer.epoch(m)

    result = train(config, on_step=on_step, on_epoch=on_epoch, data=data)
    bar.close()
    summary = result.summary()
    if writer:
        writer.finish(result)
        summary["run_id"] = writer.run_id
        summary["run_dir"] = str(writer.folder)
    print(f"test accuracy {summary['test_accuracy']:.4f} after {summary['epochs']} epochs, "
          f"{summary['seconds']:.1f} s, {summary['samples_per_second']:.0f} samples/s"
          + (f"; saved to {writer.folder}" if writer else ""))
    if args.json:
        print(json.dumps(summary))
    return 0
