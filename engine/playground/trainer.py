"""Training a Playground exercise: the network through the fused program, plain SGD on batches.

One *epoch* is one pass over the training points in their (seeded, shuffled) order, a *step*
one batch of it, as in Playground. Losses are Playground's: the mean of ½(output - label)² over
the points, without the penalty; the gradient of a batch is the mean of its samples' gradients
of (½ error² + penalty), so the learning rate does not depend on the batch size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import EngineError
from ..graph import graph
from ..training.kernels import FusedProgram
from .data import CLASSIFICATION, GENERATORS, SQUARE, Points, Split, generate
from .features import DEFAULT_FEATURES, compute
from .network import Network, build


class PlaygroundError(EngineError, ValueError):
    """A Playground option out of range; the message names it and its range."""


@dataclass(frozen=True)
class PlaygroundConfig:
    dataset: str = "circle"
    seed: int = 0  # the data's
    noise: float = 0.0  # 0..0.5
    ratio: float = 0.5  # share of points for training
    points: int = 500
    features: tuple[str, ...] = DEFAULT_FEATURES
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    regularization: str = "none"
    reg_rate: float = 0.0
    lr: float = 0.03
    batch_size: int = 10
    init_seed: int = 0  # the initial weights'

    def checked(self) -> PlaygroundConfig:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise PlaygroundError(message)
        need(self.dataset in GENERATORS, f"dataset must be one of {sorted(GENERATORS)}")
        need(isinstance(self.lr, (int, float)) and 0 < self.lr <= 10, "lr must be in (0, 10]")
        need(isinstance(self.reg_rate, (int, float)) and 0 <= self.reg_rate <= 10,
             "reg_rate must be in [0, 10]")
        need(isinstance(self.batch_size, int) and 1 <= self.batch_size <= 1000,
             "batch_size must be 1..1000")
        for name in ("seed", "init_seed"):
            value = getattr(self, name)
            need(isinstance(value, int) and 0 <= value < 2**32, f"{name} must be 0..2**32-1")
        return self

    @property
    def classification(self) -> bool:
        return self.dataset in CLASSIFICATION


@dataclass
class Metrics:
    epoch: int
    step: int
    train_loss: float
    test_loss: float
    test_accuracy: float | None  # None for regression
    train_accuracy: float | None = None


@dataclass
class Maps:
    """The output and every hidden neuron over the visible square, ``resolution``² each."""

    resolution: int
    output: np.ndarray  # (resolution, resolution), row 0 at the top (x₂ = +SQUARE)
    neurons: list[np.ndarray] = field(default_factory=list)  # per layer (width, res, res)


class Playground:
    def __init__(self, config: PlaygroundConfig, data: Split | None = None) -> None:
        self.config = config.checked()
        self.data = data or generate(config.dataset, config.seed, config.noise, config.ratio,
                                     config.points)
        self.network: Network = build(config.features, config.hidden, config.activation,
                                      config.regularization, config.classification)
        self.program = FusedProgram(self.network.graph, self.network.net, const_grads=False)
        self.params = self.network.initial_params(config.init_seed)
        # Playground's L2 penalty is ½·rate·Σw²; nn.L2 is rate·Σw².
        self.rate = config.reg_rate / 2 if config.regularization == "l2" else config.reg_rate
        self._train_features = compute(config.features, self.data.train.xy)
        self._test_features = compute(config.features, self.data.test.xy)
        made_by = {id(layer.nodes.outputs[0]): index for index, layer in self.program.layers
                   if layer.nodes is not None}
        self._hidden_layers = [made_by[id(h[0])] for h in self.network.hidden]
        self._output_layer = made_by[id(self.network.output)]
        self.epoch, self.steps, self._cursor = 0, 0, 0

    # -- training ------------------------------------------------------------------------------
    def step(self) -> float:
        """One SGD step on the next batch; returns the batch's mean loss with the penalty."""
        train = self.data.train
        first, size = self._cursor, self.config.batch_size
        batch = slice(first, min(first + size, len(train)))
        consts = self.network.consts(self._train_features[batch], train.labels[batch], self.rate)
        losses = self.program.forward(self.params, consts, consts_by_sample=True)[:, 0]
        self.params -= self.config.lr * self.program.backward() / len(losses)
        self.steps += 1
        self._cursor = batch.stop
        if self._cursor >= len(train):
            self._cursor = 0
            self.epoch += 1
        return float(losses.mean())

    def run_epoch(self) -> None:
        """Steps to the end of the current epoch."""
        epoch = self.epoch
        while self.epoch == epoch:
            self.step()

    def set_weight(self, position: int, value: float, largest: float) -> None:
        """Sets the weight at ``position`` of the parameter vector (the diagram's edit of an
        edge); a bias is not a weight here, and ``largest`` bounds |value|."""
        weights = self.network.weight_positions()
        if not isinstance(position, int) or isinstance(position, bool) \
                or position not in weights:
            raise PlaygroundError(f"position must be a weight's place in the parameters, one "
                                  f"of {sorted(int(w) for w in weights)}; not {position!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not np.isfinite(value):
            raise PlaygroundError(f"a weight must be a finite number, not {value!r}")
        if abs(value) > largest:
            raise PlaygroundError(f"a weight must be within ±{largest:g} "
                                  f"(PLAYGROUND_MAX_WEIGHT), not {value!r}")
        self.params[position] = float(value)

    # -- another process's copy ----------------------------------------------------------------
    def progress(self) -> dict:
        """What training changes: the parameters and where in the data the next batch starts.
        With the config and the data, all another process needs to go on from here."""
        return {"params": self.params.copy(), "epoch": self.epoch, "steps": self.steps,
                "cursor": self._cursor}

    def resume(self, progress: dict) -> None:
        """Go on from ``progress`` (another copy's, of this same config and data)."""
        params = np.asarray(progress["params"], np.float64)
        if params.shape != self.params.shape:
            raise PlaygroundError(f"{len(params)} parameters given; this network has "
                                  f"{len(self.params)}")
        self.params = params.copy()
        self.epoch, self.steps = int(progress["epoch"]), int(progress["steps"])
        self._cursor = int(progress["cursor"])

    # -- reading -------------------------------------------------------------------------------
    def outputs(self, features: np.ndarray) -> np.ndarray:
        """The output neuron for each row of features (no change to anything)."""
        consts = self.network.consts(features, np.zeros(len(features)), 0.0)
        self.program.forward(self.params, consts, consts_by_sample=True)
        return self.program.layer_values(self._output_layer)[:, 0].copy()

    def evaluate(self, points: Points, features: np.ndarray) -> tuple[float, float | None]:
        out = self.outputs(features)
        loss = float(np.mean(0.5 * (out - points.labels) ** 2))
        if not self.config.classification:
            return loss, None
        return loss, float(np.mean(np.where(out >= 0, 1.0, -1.0) == points.labels))

    def metrics(self) -> Metrics:
        train_loss, train_accuracy = self.evaluate(self.data.train, self._train_features)
        test_loss, test_accuracy = self.evaluate(self.data.test, self._test_features)
        return Metrics(self.epoch, self.steps, train_loss, test_loss, test_accuracy,
                       train_accuracy)

    def maps(self, resolution: int = 64) -> Maps:
        """Every neuron's output over the square, from one batched forward pass."""
        ticks = np.linspace(-SQUARE, SQUARE, resolution)
        x1, x2 = np.meshgrid(ticks, ticks[::-1])
        features = compute(self.config.features, np.stack((x1.ravel(), x2.ravel()), axis=1))
        output = self.outputs(features).reshape(resolution, resolution)
        neurons = [self.program.layer_values(index).T.reshape(-1, resolution, resolution).copy()
                   for index in self._hidden_layers]
        return Maps(resolution, output, neurons)

    def sample_graph(self, train: bool, index: int) -> graph:
        """The scalar graph fed with one sample and the current weights (forward not run)."""
        points = self.data.train if train else self.data.test
        features = self._train_features if train else self._test_features
        consts = self.network.consts(features[index:index + 1], points.labels[index:index + 1],
                                     self.rate)[0]
        g = self.network.graph
        g.feed(self.params, consts)
        return g
