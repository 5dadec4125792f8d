"""Training targets, measured in one run: accuracy and time on the digits, whole runs and single
steps against PyTorch eager, and micrograd.

    pip install torch==2.13.0 micrograd==0.1.0   # the bench's peers; never an unpinned torch
    python bench/train.py [--skip-accuracy] [--epochs 20] [--runs 3]

1. Accuracy: the default `backprop-live train` run (the reference ResNet at its width 32, Adam,
   batch 16, label smoothing 0.1, 20 epochs) — test accuracy and wall time. Target ≥ 97% in
   ≤ 60 s.
2. Whole runs, per sample, at batch 16 and 64 (bench/train_loops.py): the engine's run as a
   page's worker makes it (records batched into JSON lines) against a full PyTorch loop that
   evaluates the test set each epoch, with the same data, epochs, batch order, targets and
   initial weights; the median of ``--runs`` interleaved runs, where the time goes, and both
   accuracies. Targets: ≥ 3× PyTorch at batch 16, ≥ 2× at batch 64, the same accuracy. Then
   one epoch with PyTorch in float64 against the engine: the largest difference in weights.
3. Throughput at batch 64 on the reference architecture (hidden width 32): one training step
   (forward + backward + parameter update) of this engine's fused program against the same
   network in PyTorch eager on the CPU, median over many steps, with the per-step breakdown.
   Target ratio ≥ 1.0.
4. Against micrograd one sample at a time (collector paused): target ≥ 1,000×.

Every measurement runs on one thread each (the engine's run limits its BLAS to one,
engine.training.loop.BLAS_THREADS; PyTorch gets torch.set_num_threads(1)): the matrices are small
and a shared machine makes extra threads cost more than they give.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import statistics
import sys
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path; bench/engine.py would shadow `engine`.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from engine.training import (  # noqa: E402
    Adam,  # noqa: E402
    TrainConfig,
    Trainer,
    load_digits,  # noqa: E402
    resnet,  # noqa: E402
    train,
)

sys.path.append(str(Path(__file__).resolve().parent))  # after the project: for train_loops
from train_loops import engine_run, torch_run  # noqa: E402

BATCH, SIZE, CLASSES, WIDTH = 64, 16, 10, 32


class TorchResNet(torch.nn.Module):
    """The same network: two 1-channel 3×3 convs with zero padding and an image skip."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 1, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(1, 1, 3, padding=1)
        self.fc3 = torch.nn.Linear(SIZE * SIZE, WIDTH)
        self.fc4 = torch.nn.Linear(WIDTH, CLASSES)

    def forward(self, image):
        x = torch.relu(self.conv1(image))
        x = torch.relu(image + self.conv2(x))
        return self.fc4(torch.relu(self.fc3(x.flatten(1))))


def median(values) -> float:
    return statistics.median(values)


def time_engine(images, labels, steps: int) -> dict:
    model = resnet(width=WIDTH)
    trainer = Trainer(model, Adam(lr=0.003), model.initial_params(np.random.default_rng(0)))
    per_step = {"forward": [], "backward": [], "update": [], "total": []}
    for k in range(steps + 5):
        before = dict(trainer.timings)
        start = time.perf_counter()
        trainer.step(images[k % len(images)], labels[k % len(labels)])
        total = time.perf_counter() - start
        if k >= 5:  # warm-up steps are not counted
            for part in ("forward", "backward", "update"):
                per_step[part].append(trainer.timings[part] - before[part])
            per_step["total"].append(total)
    return {part: median(t) * 1e3 for part, t in per_step.items()}


def time_torch(images, labels, steps: int) -> dict:
    torch.manual_seed(0)
    net = TorchResNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.003)
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = [(torch.tensor(x.reshape(-1, 1, SIZE, SIZE), dtype=torch.float32),
                torch.tensor(y)) for x, y in zip(images, labels, strict=True)]
    per_step = {"forward": [], "backward": [], "update": [], "total": []}
    for k in range(steps + 5):
        x, y = batches[k % len(batches)]
        t0 = time.perf_counter()
        loss = loss_fn(net(x), y)
        t1 = time.perf_counter()
        optimizer.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        if k >= 5:
            per_step["forward"].append(t1 - t0)
            per_step["backward"].append(t2 - t1)
            per_step["update"].append(t3 - t2)
            per_step["total"].append(t3 - t0)
    return {part: median(t) * 1e3 for part, t in per_step.items()}


def time_micrograd(repeats: int) -> float:
    """Seconds per sample for micrograd, forward + backward, from bench/engine.py's network."""
    spec = importlib.util.spec_from_file_location(
        "bench_engine", Path(__file__).resolve().parent / "engine.py")
    bench_engine = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_engine)
    rng = np.random.default_rng(0)
    n_weights = 9 + 1 + 9 + 1 + SIZE * SIZE * WIDTH + WIDTH + WIDTH * CLASSES + CLASSES
    weights = list(rng.uniform(-0.5, 0.5, n_weights))
    image = rng.random(SIZE * SIZE)
    gc.disable()
    try:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            bench_engine.micrograd_step(weights, image, 3)
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return median(times)


TARGETS = {16: 3.0, 64: 2.0}  # engine / PyTorch samples per second, whole runs


def whole_runs(epochs: int, runs: int) -> None:
    engine_run(TrainConfig(epochs=1))  # warm-up: first calls, caches, lazy imports
    torch_run(TrainConfig(epochs=1))
    print(f"whole runs, {epochs} epochs, test evaluation every epoch, median of {runs} "
          "interleaved runs, µs per training sample (whole run / samples trained):")
    for batch, target in TARGETS.items():
        config = TrainConfig(epochs=epochs, batch_size=batch)
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(engine_run(config))
            theirs.append(torch_run(config))
        e = sorted(ours, key=lambda r: r.us_per_sample)[len(ours) // 2]
        t = sorted(theirs, key=lambda r: r.us_per_sample)[len(theirs) // 2]
        for name, r in (("engine (worker's path)", e), ("pytorch 2.13 eager", t)):
            parts = "  ".join(f"{k} {v:.3f}" for k, v in r.parts.items())
            print(f"  batch {batch:3d} {name:22s} {r.us_per_sample:7.1f} µs/sample "
                  f"(CPU {r.cpu_us_per_sample:7.1f})  {r.seconds:6.2f} s  test accuracy "
                  f"{r.test_accuracy:.4f}  [s: {parts}]")
        cpu = (statistics.median(r.cpu_us_per_sample for r in theirs)
               / statistics.median(r.cpu_us_per_sample for r in ours))
        print(f"  batch {batch:3d} engine / pytorch per sample: "
              f"{t.us_per_sample / e.us_per_sample:.2f}x wall, {cpu:.2f}x CPU time "
              f"[target ≥ {target:.0f}x]; accuracy {e.test_accuracy:.4f} vs "
              f"{t.test_accuracy:.4f}")
    config = TrainConfig(epochs=1, batch_size=16)
    ours64, theirs64 = engine_run(config), torch_run(config, dtype=torch.float64)
    gap = np.max(np.abs(ours64.params - theirs64.params))
    print(f"  one epoch, batch 16, PyTorch in float64: largest |weight difference| {gap:.2e} "
          f"(weights up to {np.max(np.abs(ours64.params)):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--micrograd-repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20, help="of each whole run")
    parser.add_argument("--runs", type=int, default=3, help="whole runs of each, interleaved")
    args = parser.parse_args()
    torch.set_num_threads(1)

    if not args.skip_accuracy:
        start = time.perf_counter()
        result = train(TrainConfig())
        wall = time.perf_counter() - start
        best = max(e.test_accuracy for e in result.epochs)
        print(f"accuracy: {result.summary()['test_accuracy']:.4f} test accuracy after "
              f"{len(result.epochs)} epochs (best epoch {best:.4f}), {wall:.1f} s wall "
              f"[target ≥ 0.97 in ≤ 60 s]  config {result.summary()['config']}")

    whole_runs(args.epochs, args.runs)

    data = load_digits()
    mean, std = data.train_images.mean(), data.train_images.std()
    x = (data.train_images - mean) / std
    n = len(x) // BATCH
    images = [x[k * BATCH:(k + 1) * BATCH] for k in range(n)]
    labels = [data.train_labels[k * BATCH:(k + 1) * BATCH] for k in range(n)]

    with threadpool_limits(limits=1, user_api="blas"):
        ours = time_engine(images, labels, args.steps)
    theirs = time_torch(images, labels, args.steps)
    print(f"throughput, batch {BATCH}, hidden width {WIDTH}, median ms per training step:")
    for name, t in (("engine (fused numpy)", ours), ("pytorch 2.13 eager", theirs)):
        print(f"  {name:22s} forward {t['forward']:6.3f}  backward {t['backward']:6.3f}  "
              f"update {t['update']:6.3f}  total {t['total']:6.3f}  "
              f"= {BATCH / t['total'] * 1e3:8.0f} samples/s")
    print(f"  engine / pytorch samples per second: {theirs['total'] / ours['total']:.2f}x "
          "[target ≥ 1.0]")

    per_sample = time_micrograd(args.micrograd_repeats)
    ratio = (BATCH / ours["total"] * 1e3) * per_sample
    print(f"micrograd, one sample, forward + backward, no gc: {per_sample * 1e3:.1f} ms "
          f"= {1 / per_sample:.1f} samples/s; engine / micrograd: {ratio:.0f}x "
          "[target ≥ 1000x]")


if __name__ == "__main__":
    main()
