"""Mini-batch training of a built-in model on the bundled digits, fused and batched.

``train(config, on_step=..., on_epoch=...)`` is what the CLI and the server run: after every
step ``on_step`` receives the step's metrics (loss, batch accuracy, each layer's gradient norm),
after every epoch ``on_epoch`` the test loss, accuracy and confusion matrix. The same seed gives
the same curve: it fixes the initial weights and the order of the batches.

Losses are means over the batch, so the learning rate does not depend on the batch size.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import EngineError
from .datasets import Digits, load_digits
from .models import MODELS, Model, from_network
from .optim import DEFAULT_LR, OPTIMIZERS, SGD, Adam, Optimizer


class TrainingError(EngineError, ValueError):
    """A training option is out of range."""


@dataclass(frozen=True)
class TrainConfig:
    model: str = "resnet"
    epochs: int = 20
    batch_size: int = 16
    lr: float | None = None  # None: the optimiser's default (Adam 0.003, SGD 0.05)
    optimizer: str = "adam"
    momentum: float = 0.9
    seed: int = 0
    # The hidden FC layer's size; 32 is the reference README's.
    width: int = 32
    shift: int = 0  # augmentation: each training image moves by up to this many pixels
    # Targets (1 - ε)·one-hot + ε/10 while training: it keeps the small network from betting
    # everything on the 1,437 training images (docs/training.md has the measurements).
    label_smoothing: float = 0.1
    network: str | None = None  # model "network": the network spec's text (docs/formats.md)

    def checked(self) -> TrainConfig:
        """Self, after checking every option; the error names the option and its range."""
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise TrainingError(message)
        need(self.model in MODELS or self.model == "network",
             f"model must be one of {sorted(MODELS) + ['network']}, not {self.model!r}")
        need((self.model == "network") == isinstance(self.network, str),
             "model 'network' takes the spec's text in network (and only it does)")
        need(self.optimizer in OPTIMIZERS,
             f"optimizer must be one of {sorted(OPTIMIZERS)}, not {self.optimizer!r}")
        need(_int(self.epochs) and 1 <= self.epochs <= 1000, "epochs must be 1..1000")
        need(_int(self.batch_size) and 1 <= self.batch_size <= 4096, "batch_size must be 1..4096")
        need(_int(self.width) and 1 <= self.width <= 1024, "width must be 1..1024")
        need(_int(self.seed) and 0 <= self.seed < 2**32, "seed must be 0..2**32-1")
        need(_int(self.shift) and 0 <= self.shift <= 4, "shift must be 0..4")
        need(isinstance(self.label_smoothing, (int, float))
             and not isinstance(self.label_smoothing, bool)
             and 0 <= self.label_smoothing < 1, "label_smoothing must be in [0, 1)")
        need(self.lr is None or (isinstance(self.lr, (int, float)) and 0 < self.lr <= 10),
             "lr must be in (0, 10]")
        need(isinstance(self.momentum, (int, float)) and 0 <= self.momentum < 1,
             "momentum must be in [0, 1)")
        return self

    @property
    def learning_rate(self) -> float:
        return float(self.lr) if self.lr is not None else DEFAULT_LR[self.optimizer]


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


STEP_PARTS = ("forward", "backward", "update")


@dataclass
class StepMetrics:
    step: int  # 1-based, over the whole run
    epoch: int  # 1-based
    loss: float  # mean cross-entropy over the batch
    accuracy: float  # share of the batch classified right
    grad_norms: dict[str, float]  # L2 norm of each layer's parameter gradient
    seconds: float  # since training started
    # Each residual sum ("Add2"): its operands' groups, the RMS of each operand's values (the
    # skip path against the residual branch) and the RMS of the gradient at the sum.
    branches: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class EpochMetrics:
    epoch: int
    step: int
    train_loss: float  # mean of the epoch's step losses
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    confusion: list[list[int]]  # confusion[true][predicted] on the test set


@dataclass
class TrainResult:
    config: TrainConfig
    steps: list[StepMetrics] = field(default_factory=list)
    epochs: list[EpochMetrics] = field(default_factory=list)
    params: np.ndarray | None = None
    seconds: float = 0.0
    stopped: bool = False  # should_stop() ended it early
    # Seconds spent in each part of the run: STEP_PARTS (the steps themselves), "metrics"
    # (norms, accuracy, branch figures), "build" (model and fused program), "evaluate".
    timings: dict[str, float] = field(default_factory=dict)

    samples: int = 0  # training samples processed, over all steps

    @property
    def samples_per_second(self) -> float:
        """Throughput of the training steps themselves (forward + backward + update)."""
        busy = sum(self.timings.get(part, 0.0) for part in STEP_PARTS)
        return self.samples / busy if busy else 0.0

    def summary(self) -> dict[str, Any]:
        last = self.epochs[-1] if self.epochs else None
        return {
            "model": self.config.model,
            "epochs": len(self.epochs),
            "steps": len(self.steps),
            "train_loss": last.train_loss if last else None,
            "test_loss": last.test_loss if last else None,
            "test_accuracy": last.test_accuracy if last else None,
            "seconds": self.seconds,
            "samples_per_second": self.samples_per_second,
            "stopped": self.stopped,
            "config": {k: v for k, v in asdict(self.config).items() if k != "network"},
        }


class Trainer:
    """A model, its fused program, its parameters and an optimiser: one ``step`` per batch."""

    def __init__(self, model: Model, optimizer: Optimizer, params: np.ndarray,
                 label_smoothing: float = 0.0) -> None:
        self.model = model
        # Training targets only; evaluate() always scores against the true one-hot labels.
        self.label_smoothing = label_smoothing
        self.program = model.program(const_grads=False)
        self.optimizer = optimizer
        self.params = params
        self.groups = model.param_groups()
        self._norms = GroupNorms(self.groups)
        # The logits are what the loss reads: its softmax's input.
        self._loss_position = next(position for position, (_, layer)
                                   in enumerate(self.program.layers)
                                   if layer.kind == "cross_entropy" and layer.softmax)
        self.timings = dict.fromkeys((*STEP_PARTS, "metrics"), 0.0)

    def forward(self, images: np.ndarray, labels: np.ndarray,
                smoothing: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample losses (against labels smoothed by ``smoothing``) and logits."""
        consts = self.model.consts(images, labels, smoothing)
        losses = self.program.forward(self.params, consts, consts_by_sample=True)[:, 0]
        return losses, self.program.operand_values(self._loss_position)[0]

    def step(self, images: np.ndarray,
             labels: np.ndarray) -> tuple[float, float, dict[str, float]]:
        """One optimiser step on a batch: (mean loss, accuracy, gradient norm per layer)."""
        t0 = time.perf_counter()
        losses, logits = self.forward(images, labels, self.label_smoothing)
        t1 = time.perf_counter()
        grad = self.program.backward() / len(losses)
        t2 = time.perf_counter()
        self.optimizer.step(self.params, grad)
        t3 = time.perf_counter()
        self.timings["forward"] += t1 - t0
        self.timings["backward"] += t2 - t1
        self.timings["update"] += t3 - t2
        norms = self._norms(grad)
        accuracy = np.count_nonzero(logits.argmax(axis=1) == np.asarray(labels)) / len(labels)
        self.timings["metrics"] += time.perf_counter() - t3
        return float(losses.mean()), accuracy, norms

    def branches(self) -> dict[str, dict[str, Any]]:
        """Skip path against residual branch at each add layer, for the last step."""
        start = time.perf_counter()
        out: dict[str, dict[str, Any]] = {}
        for position, (index, layer) in enumerate(self.program.layers):
            if layer.kind != "add":
                continue
            operands = self.program.operand_values(position)
            grad = self.program.output_grads.get(index)
            out[layer.name] = {
                "operands": list(layer.operand_groups),
                "value_rms": [_rms(v) for v in operands],
                "grad_rms": _rms(grad) if grad is not None else 0.0,
            }
        self.timings["metrics"] += time.perf_counter() - start
        return out

    def evaluate(self, images: np.ndarray,
                 labels: np.ndarray) -> tuple[float, float, np.ndarray]:
        """(mean loss, accuracy, confusion matrix) without changing anything."""
        losses, logits = self.forward(images, labels)
        predicted = logits.argmax(axis=1)
        classes = self.model.n_label
        confusion = np.zeros((classes, classes), np.int64)
        np.add.at(confusion, (np.asarray(labels), predicted), 1)
        return float(losses.mean()), float(np.mean(predicted == labels)), confusion


class GroupNorms:
    """The L2 norm of each group's slice of a gradient, for every group in one pass.

    One squaring and one segmented sum (``np.add.reduceat``) instead of a gather and a norm per
    layer: the groups' positions are put end to end once, and when they already are (a model's
    layers own consecutive parameters) the gradient is read in place.
    """

    def __init__(self, groups: dict[str, np.ndarray]) -> None:
        self.names = list(groups)
        # A layer with weights has at least one, so no segment is empty (reduceat would read
        # one element for it).
        positions = [np.asarray(p, np.int64) for p in groups.values()]
        assert all(len(p) for p in positions), "every group has parameters"
        self.starts = np.cumsum([0, *(len(p) for p in positions[:-1])], dtype=np.int64)
        order = np.concatenate(positions) if positions else np.zeros(0, np.int64)
        in_place = bool((order == np.arange(len(order))).all())
        self.order = None if in_place else order
        self.length = len(order)

    def __call__(self, grad: np.ndarray) -> dict[str, float]:
        if not self.length:
            return {}
        picked = grad[:self.length] if self.order is None else grad[self.order]
        sums = np.add.reduceat(picked * picked, self.starts)
        return dict(zip(self.names, np.sqrt(sums).tolist(), strict=True))


def _rms(values: np.ndarray) -> float:
    """Root mean square, as one dot product (no squared copy)."""
    flat = values.reshape(-1)
    return math.sqrt(float(np.dot(flat, flat)) / flat.size)


def shifted(images: np.ndarray, size: int, most: int, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by a random whole-pixel offset in [-most, most]², background filling in.

    The digits are small data (1,437 training images): seeing each digit at slightly different
    places is what lifts test accuracy past what memorising them allows.
    """
    if most == 0:
        return images
    batch = len(images)
    padded = np.zeros((batch, size + 2 * most, size + 2 * most))
    padded[:, most:most + size, most:most + size] = images.reshape(batch, size, size)
    rows = rng.integers(0, 2 * most + 1, batch)[:, None] + np.arange(size)
    cols = rng.integers(0, 2 * most + 1, batch)[:, None] + np.arange(size)
    moved = padded[np.arange(batch)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return moved.reshape(batch, size * size)


def build(config: TrainConfig) -> Trainer:
    config.checked()
    if config.model == "network":
        assert config.network is not None, "checked(): model 'network' comes with its spec"
        model = from_network(config.network)
    else:
        model = MODELS[config.model](width=config.width)
    optimizer: Optimizer
    if config.optimizer == "sgd":
        optimizer = SGD(lr=config.learning_rate, momentum=config.momentum)
    else:
        optimizer = Adam(lr=config.learning_rate)
    params = model.initial_params(np.random.default_rng(config.seed))
    return Trainer(model, optimizer, params, config.label_smoothing)


# A step's matrices are small (at most batch × 256 × width): a second BLAS thread's wake-up
# costs more than it saves, and on a busy machine far more (measured with OpenBLAS, 2 cores
# under load: an epoch's test pass 6 ms on one thread, 26-128 ms on two). None leaves the BLAS
# as it is.
BLAS_THREADS: int | None = 1


def train(config: TrainConfig, on_step: Callable[[StepMetrics], object] | None = None,
          on_epoch: Callable[[EpochMetrics], object] | None = None,
          should_stop: Callable[[], bool] | None = None,
          data: Digits | None = None,
          on_weights: Callable[[int, np.ndarray], object] | None = None,
          blas_threads: int | None = BLAS_THREADS) -> TrainResult:
    """Train ``config.model`` on the digits (or ``data``, a datasets.Digits) and report, with
    the BLAS limited to ``blas_threads`` threads for the run (restored after).

    ``on_weights(epoch, params)`` receives a copy of the parameters before training (epoch 0)
    and at each epoch's end, before ``on_epoch``: the pictures of any epoch are drawn from them.
    """
    if blas_threads is None:
        return _train(config, on_step, on_epoch, should_stop, data, on_weights)
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        return _train(config, on_step, on_epoch, should_stop, data, on_weights)


def _train(config: TrainConfig, on_step: Callable[[StepMetrics], object] | None = None,
           on_epoch: Callable[[EpochMetrics], object] | None = None,
           should_stop: Callable[[], bool] | None = None,
           data: Digits | None = None,
           on_weights: Callable[[int, np.ndarray], object] | None = None) -> TrainResult:
    building = time.perf_counter()
    trainer = build(config)
    built = time.perf_counter() - building
    if on_weights is not None:
        on_weights(0, trainer.params.copy())
    side = int(round(trainer.model.n_image ** 0.5))
    data = data or load_digits(size=side)
    mean, std = data.train_images.mean(), data.train_images.std()
    test_x = (data.test_images - mean) / std
    train_y, test_y = data.train_labels, data.test_labels
    order_rng = np.random.default_rng([config.seed, 1])  # batches and shifts, apart from init
    result = TrainResult(config)
    start = time.perf_counter()
    evaluating = 0.0
    step = 0
    for epoch in range(1, config.epochs + 1):
        order = order_rng.permutation(len(train_y))
        losses, correct = [], 0.0
        for first in range(0, len(order), config.batch_size):
            if should_stop is not None and should_stop():
                result.stopped = True
                break
            batch = order[first:first + config.batch_size]
            images = shifted(data.train_images[batch], data.size, config.shift, order_rng)
            loss, accuracy, norms = trainer.step((images - mean) / std, train_y[batch])
            step += 1
            result.samples += len(batch)
            losses.append(loss)
            correct += accuracy * len(batch)
            metrics = StepMetrics(step, epoch, loss, accuracy, norms,
                                  time.perf_counter() - start, trainer.branches())
            result.steps.append(metrics)
            if on_step is not None:
                on_step(metrics)
        if result.stopped:
            break
        t0 = time.perf_counter()
        test_loss, test_accuracy, confusion = trainer.evaluate(test_x, test_y)
        evaluating += time.perf_counter() - t0
        summary = EpochMetrics(epoch, step, float(np.mean(losses)), correct / len(order),
                               test_loss, test_accuracy, confusion.tolist())
        result.epochs.append(summary)
        if on_weights is not None:
            on_weights(epoch, trainer.params.copy())
        if on_epoch is not None:
            on_epoch(summary)
    result.params = trainer.params
    result.seconds = time.perf_counter() - start
    result.timings = {**trainer.timings, "build": built, "evaluate": evaluating}
    return result
