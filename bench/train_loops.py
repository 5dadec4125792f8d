"""Whole training runs, per sample: the engine's loop (as a page's run does it) against a full
PyTorch loop on the same data, epochs, batch order and initial weights. Used by bench/train.py.

Both loops evaluate the test set after every epoch (loss, accuracy, confusion) and report each
step's loss and batch accuracy. The engine's run is the worker's path: ``train`` with its step
and epoch records handed to the server's ``RecordBatcher``, which writes a JSON line per batch
of records and flushes it (to /dev/null here, to the server's pipe in a real run). PyTorch's
loop does what a plain PyTorch training script does: forward, loss, zero_grad, backward, step,
``loss.item()`` and the batch accuracy each step.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from engine.training import TrainConfig, load_digits, train
from engine.training.loop import build
from server.jobs.records import RecordBatcher


@dataclass
class LoopResult:
    seconds: float  # the whole run, building the model included
    cpu_seconds: float  # the process's CPU time over the run: steadier on a shared machine
    samples: int  # training samples processed
    test_accuracy: float  # after the last epoch
    parts: dict[str, float] = field(default_factory=dict)  # where the time went, s
    params: np.ndarray | None = None  # the trained weights, in the engine's layout

    @property
    def us_per_sample(self) -> float:
        return self.seconds / self.samples * 1e6

    @property
    def cpu_us_per_sample(self) -> float:
        return self.cpu_seconds / self.samples * 1e6


def engine_run(config: TrainConfig) -> LoopResult:
    """One run as a page's worker makes it: records batched into JSON lines, flushed."""
    with open(os.devnull, "w") as sink:
        def send(records):
            sink.write(json.dumps({"type": "records", "records": records}) + "\n")
            sink.flush()

        batcher = RecordBatcher(send)
        records = {"records": 0.0}

        def on_record(kind):
            def add(metrics):
                t0 = time.perf_counter()
                batcher.add(kind, metrics)
                records["records"] += time.perf_counter() - t0
            return add

        start, cpu = time.perf_counter(), time.process_time()
        result = train(config, on_step=on_record("step"), on_epoch=on_record("epoch"))
        batcher.flush()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    parts = {**result.timings, **records}
    parts["rest (batches, loop)"] = seconds - sum(parts.values())
    return LoopResult(seconds, cpu, result.samples, result.epochs[-1].test_accuracy, parts,
                      result.params)


class TorchResNet(torch.nn.Module):
    """The reference ResNet: two 1-channel 3×3 convs with zero padding and an image skip."""

    def __init__(self, size: int, width: int, classes: int):
        super().__init__()
        self.size = size
        self.conv1 = torch.nn.Conv2d(1, 1, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(1, 1, 3, padding=1)
        self.fc3 = torch.nn.Linear(size * size, width)
        self.fc4 = torch.nn.Linear(width, classes)

    def forward(self, image):
        image = image.view(-1, 1, self.size, self.size)
        x = torch.relu(self.conv1(image))
        x = torch.relu(image + self.conv2(x))
        return self.fc4(torch.relu(self.fc3(x.flatten(1))))

    def load_engine_params(self, params: np.ndarray, groups: dict[str, np.ndarray]) -> None:
        """The engine's initial weights, layer by layer (its layout: weights, then bias)."""
        modules = {"Conv1": self.conv1, "Conv2": self.conv2, "FC3": self.fc3, "FC4": self.fc4}
        with torch.no_grad():
            for name, module in modules.items():
                positions = groups[name]
                n_bias = module.bias.numel()
                weight, bias = params[positions[:-n_bias]], params[positions[-n_bias:]]
                module.weight.copy_(torch.from_numpy(weight.reshape(module.weight.shape)))
                module.bias.copy_(torch.from_numpy(bias))

    def engine_params(self, groups: dict[str, np.ndarray], n_params: int) -> np.ndarray:
        """The weights back in the engine's layout."""
        out = np.zeros(n_params)
        modules = {"Conv1": self.conv1, "Conv2": self.conv2, "FC3": self.fc3, "FC4": self.fc4}
        for name, module in modules.items():
            out[groups[name]] = np.concatenate([module.weight.detach().double().numpy().ravel(),
                                                module.bias.detach().double().numpy()])
        return out


def torch_run(config: TrainConfig, dtype=torch.float32) -> LoopResult:
    """The same run in PyTorch eager: the engine's initial weights, batch order and targets."""
    assert config.model == "resnet" and config.optimizer == "adam" and config.shift == 0
    trainer = build(config)  # the engine's initial weights and their layout, not timed
    start, cpu = time.perf_counter(), time.process_time()
    parts = dict.fromkeys(("build", "forward", "backward", "update", "metrics", "evaluate"), 0.0)
    data = load_digits()
    net = TorchResNet(data.size, config.width, 10).to(dtype)
    net.load_engine_params(trainer.params, trainer.groups)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    mean, std = data.train_images.mean(), data.train_images.std()
    train_x = torch.tensor((data.train_images - mean) / std, dtype=dtype)
    train_y = torch.tensor(data.train_labels)
    test_x = torch.tensor((data.test_images - mean) / std, dtype=dtype)
    test_y = torch.tensor(data.test_labels)
    order_rng = np.random.default_rng([config.seed, 1])  # the engine's batch order
    parts["build"] = time.perf_counter() - start
    samples, accuracy = 0, 0.0
    for _ in range(config.epochs):
        order = torch.from_numpy(order_rng.permutation(len(train_y)))
        net.train()
        losses, correct = [], 0
        for first in range(0, len(order), config.batch_size):
            batch = order[first:first + config.batch_size]
            x, y = train_x[batch], train_y[batch]
            t0 = time.perf_counter()
            logits = net(x)
            loss = loss_fn(logits, y)
            t1 = time.perf_counter()
            optimizer.zero_grad()
            loss.backward()
            t2 = time.perf_counter()
            optimizer.step()
            t3 = time.perf_counter()
            losses.append(loss.item())
            correct += int((logits.argmax(1) == y).sum())
            t4 = time.perf_counter()
            for part, seconds in (("forward", t1 - t0), ("backward", t2 - t1),
                                  ("update", t3 - t2), ("metrics", t4 - t3)):
                parts[part] += seconds
            samples += len(batch)
        t0 = time.perf_counter()
        net.eval()
        with torch.no_grad():
            test_logits = net(test_x)
            float(torch.nn.functional.cross_entropy(test_logits, test_y))
            predicted = test_logits.argmax(1)
            accuracy = float((predicted == test_y).double().mean())
            np.bincount(test_y.numpy() * 10 + predicted.numpy(), minlength=100).reshape(10, 10)
        parts["evaluate"] += time.perf_counter() - t0
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    parts["rest (batches, loop)"] = seconds - sum(parts.values())
    params = net.engine_params(trainer.groups, len(trainer.params))
    return LoopResult(seconds, cpu, samples, accuracy, parts, params)
