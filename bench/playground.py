"""The Playground's targets, measured in one run (issue 13).

    pip install micrograd==0.1.0   # the peer of item 1
    python bench/playground.py

1. micrograd's demo in both engines: make_moons-style 100 points, noise 0.1, MLP 2-16-16-1
   (ReLU), max-margin loss mean(relu(1 - yᵢ·scoreᵢ)) + 1e-4·Σp², 100 full-batch SGD steps with
   lr = 1 - 0.9·k/100, both from the same initial weights. Prints each engine's final accuracy
   and time per step; target ≥ 100× micrograd per step, same accuracy.
2. Playground's default exercise (circle, noise 0, 50% training, x₁ x₂, hidden 4 and 2, tanh,
   lr 0.03, batch 10): epochs and wall time to ≥ 95% test accuracy; target ≤ 5 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path; bench/engine.py would shadow `engine`.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import numpy as np  # noqa: E402

from engine.playground import Playground, PlaygroundConfig, demo  # noqa: E402
from engine.playground.data import moons  # noqa: E402

STEPS = 100


def micrograd_demo(xy: np.ndarray, labels: np.ndarray, start: np.ndarray) -> tuple[float, float]:
    """(final accuracy, seconds per step) of micrograd's own demo loop."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    model = MLP(2, [16, 16, 1])
    for p, v in zip(model.parameters(), start, strict=True):
        p.data = float(v)
    rows = [[Value(float(x)), Value(float(y))] for x, y in xy]
    ys = [float(y) for y in labels]
    began = time.perf_counter()
    for k in range(STEPS):
        scores = [model(row) for row in rows]
        hinge = sum((1 + -yi * s).relu() for yi, s in zip(ys, scores, strict=True))
        total = hinge * (1.0 / len(scores)) + 1e-4 * sum(p * p for p in model.parameters())
        model.zero_grad()
        total.backward()
        lr = 1.0 - 0.9 * k / STEPS
        for p in model.parameters():
            p.data -= lr * p.grad
    seconds = (time.perf_counter() - began) / STEPS
    scores = [model(row).data for row in rows]
    accuracy = float(np.mean([(y > 0) == (s > 0) for y, s in zip(ys, scores, strict=True)]))
    return accuracy, seconds


def our_demo(xy: np.ndarray, labels: np.ndarray, start: np.ndarray) -> tuple[float, float]:
    model = demo.build()
    params = start.copy()
    began = time.perf_counter()
    for k in range(STEPS):
        _, grad, _ = model.loss_and_grad(params, xy, labels)
        params -= (1.0 - 0.9 * k / STEPS) * grad
    seconds = (time.perf_counter() - began) / STEPS
    _, _, scores = model.loss_and_grad(params, xy, labels)
    return float(np.mean((labels > 0) == (scores > 0))), seconds


def item_1() -> None:
    points = moons(100, 0.1, np.random.default_rng(1337), scale=1.0)
    start = np.random.default_rng(1337).uniform(-1, 1, len(demo.build().graph.input_nodes))
    ours, ours_step = our_demo(points.xy, points.labels, start)
    theirs, theirs_step = micrograd_demo(points.xy, points.labels, start)
    print("1. micrograd's demo, 100 steps, same start")
    print(f"   micrograd:     accuracy {theirs:.0%}, {theirs_step * 1e3:9.3f} ms/step")
    print(f"   Backprop Live: accuracy {ours:.0%}, {ours_step * 1e3:9.3f} ms/step")
    print(f"   ratio {theirs_step / ours_step:,.0f}× per step (target ≥ 100×)")


def item_2() -> None:
    began = time.perf_counter()
    playground = Playground(PlaygroundConfig())
    metrics = playground.metrics()
    while (metrics.test_accuracy or 0) < 0.95 and playground.epoch < 1000:
        playground.run_epoch()
        metrics = playground.metrics()
    seconds = time.perf_counter() - began
    print("2. Playground default (circle, 4-2 tanh, lr 0.03, batch 10)")
    print(f"   {metrics.test_accuracy:.1%} test accuracy after {metrics.epoch} epochs, "
          f"{seconds:.2f} s (target ≥ 95% in ≤ 5 s)")


if __name__ == "__main__":
    item_1()
    item_2()
