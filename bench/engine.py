"""One sample through the reference ResNet: this engine against micrograd, measured in one run.

    python bench/engine.py [--repeats 30]

Both build the same scalar network (16×16 image, two 3×3 convs with a skip, FC 32, FC 10,
softmax, cross-entropy). micrograd's PyPI release has no exp or log; the two small helpers below
add them the way its own operators are written. micrograd runs with the garbage collector
paused (its best case: its closures form reference cycles). The engine's time covers feeding a
new sample, forward, and back-prop, after which every node's value and gradient is available.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its own name would shadow the
# `engine` package it measures.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import numpy as np  # noqa: E402
from micrograd.engine import Value  # noqa: E402

from engine import graph, nn  # noqa: E402

SIZE, CLASSES, HIDDEN = 16, 10, 32


def build_engine_resnet():
    net = nn()
    image = net.new_const_nodes_list(SIZE * SIZE)
    label = net.new_const_nodes_list(CLASSES)
    zero = net.new_const_nodes_list(1)
    conv1, w1, b1, _ = net.Conv(SIZE, SIZE, image, None, None, zero)
    relu1 = net.ReLU(SIZE * SIZE, conv1)
    conv2, w2, b2, _ = net.Conv(SIZE, SIZE, relu1, None, None, zero)
    relu2 = net.ReLU(SIZE * SIZE, net.vector_add(SIZE * SIZE, image, conv2))
    fc3, w3, b3 = net.FC(SIZE * SIZE, HIDDEN, relu2)
    fc4, w4, b4 = net.FC(HIDDEN, CLASSES, net.ReLU(HIDDEN, fc3))
    loss = net.Cross_Entropy_Loss(CLASSES, net.Softmax(CLASSES, fc4), label)
    weights = w1 + b1 + w2 + b2 + w3 + b3 + w4 + b4
    return graph(weights, image + label + zero, [loss]), len(weights)


def mg_exp(v: Value) -> Value:
    out = Value(math.exp(v.data), (v,), "exp")

    def _backward():
        v.grad += out.data * out.grad
    out._backward = _backward
    return out


def mg_log(v: Value) -> Value:
    out = Value(math.log(v.data), (v,), "log")

    def _backward():
        v.grad += out.grad / v.data
    out._backward = _backward
    return out


def mg_tree_sum(items):
    while len(items) > 1:
        paired = [items[k] + items[k + 1] for k in range(0, len(items) - 1, 2)]
        items = paired + ([items[-1]] if len(items) % 2 else [])
    return items[0]


def micrograd_step(weights: list, image, label_index: int) -> Value:
    """Forward (micrograd builds the graph as it computes) and backward for one sample."""
    w = [Value(x) for x in weights]
    k = 0

    def take(n):
        nonlocal k
        k += n
        return w[k - n:k]
    w1, b1, w2, b2 = take(9), take(1), take(9), take(1)
    w3, b3, w4, b4 = take(SIZE * SIZE * HIDDEN), take(HIDDEN), take(HIDDEN * CLASSES), take(CLASSES)
    zero = Value(0.0)
    pixels = [Value(float(p)) for p in image]

    def conv(x, kernel, bias):
        out = []
        for i in range(SIZE):
            for j in range(SIZE):
                taps = []
                for t in range(9):
                    r, c = i + t // 3 - 1, j + t % 3 - 1
                    inside = 0 <= r < SIZE and 0 <= c < SIZE
                    taps.append(kernel[t] * (x[r * SIZE + c] if inside else zero))
                out.append(mg_tree_sum(taps) + bias[0])
        return out

    def fc(x, weight, bias, n_out):
        n_in = len(x)
        return [mg_tree_sum([weight[i * n_in + j] * x[j] for j in range(n_in)]) + bias[i]
                for i in range(n_out)]

    relu1 = [v.relu() for v in conv(pixels, w1, b1)]
    conv2 = conv(relu1, w2, b2)
    relu2 = [(pixels[i] + conv2[i]).relu() for i in range(SIZE * SIZE)]
    hidden = [v.relu() for v in fc(relu2, w3, b3, HIDDEN)]
    logits = fc(hidden, w4, b4, CLASSES)
    peak = max(v.data for v in logits)  # a constant shift: softmax does not depend on it
    exps = [mg_exp(v - peak) for v in logits]
    loss = -mg_log(exps[label_index] / mg_tree_sum(exps))
    loss.backward()
    return loss


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--micrograd-repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    g, n_weights = build_engine_resnet()
    weights = rng.uniform(-0.5, 0.5, n_weights)
    images = rng.random((args.repeats + 1, SIZE * SIZE))
    label = np.eye(CLASSES)[3]
    g.feed(weights, np.concatenate((images[0], label, [0.0])))
    g.compute_forward()  # compiles once
    g.back_prop()
    n_nodes = len(g.nodes())
    samples = iter(images[1:])

    def engine_step():
        g.feed(weights, np.concatenate((next(samples), label, [0.0])))
        g.compute_forward()
        g.back_prop()

    engine_ms = median_ms(engine_step, args.repeats)
    engine_loss = g.output_nodes[0].forward

    gc.disable()
    try:
        loss = micrograd_step(list(weights), images[-1], 3)
        micrograd_ms = median_ms(lambda: micrograd_step(list(weights), images[-1], 3),
                                 args.micrograd_repeats)
    finally:
        gc.enable()
    # Same network, same numbers: the two losses must agree before any time means anything.
    assert abs(loss.data - engine_loss) <= 1e-9 * max(1.0, abs(engine_loss)), \
        (loss.data, engine_loss)

    print(f"scalar nodes (engine graph):           {n_nodes}")
    print(f"engine, feed + forward + back-prop:    {engine_ms:8.2f} ms (median of {args.repeats})")
    print(f"micrograd, forward + backward, no gc:  {micrograd_ms:8.2f} ms "
          f"(median of {args.micrograd_repeats})")
    ratio = micrograd_ms / engine_ms
    print(f"speed-up over micrograd:               {ratio:8.1f}x  (target ≥ 30x)")


if __name__ == "__main__":
    main()
