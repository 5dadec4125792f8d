"""A Playground's state as plain data with little-endian binary arrays (docs/protocol.md), as
engine/frames.py does for traces: the page reads them as typed arrays."""

from __future__ import annotations

import numpy as np

from ..frames import number
from .trainer import Playground


def f32(values) -> bytes:
    return np.asarray(values, "<f4").tobytes()


def f64(values) -> bytes:
    return np.asarray(values, "<f8").tobytes()


def points(playground: Playground) -> dict:
    """The data, once per exercise: points (x, y pairs), labels, and which are training."""
    train, test = playground.data.train, playground.data.test
    return {
        "xy": f64(np.concatenate((train.xy, test.xy)).ravel()),
        "labels": f64(np.concatenate((train.labels, test.labels))),
        "train_count": len(train),
        "classification": playground.config.classification,
    }


def shape(playground: Playground) -> dict:
    """The network's layout: features, hidden widths, and where each layer's weights sit."""
    at = {n: i for i, n in enumerate(playground.network.params)}
    return {
        "features": list(playground.network.features),
        "hidden": list(playground.config.hidden),
        # per FC layer, input side first: parameter positions of W (out × in, row-major) and b
        "weights": [[at[w] for w in ws] for ws, _ in playground.network.layers],
        "biases": [[at[b] for b in bs] for _, bs in playground.network.layers],
    }


def frame(playground: Playground, resolution: int) -> dict:
    """Epoch, losses, accuracy, the parameters, and every neuron's map over the square."""
    metrics = playground.metrics()
    maps = playground.maps(resolution)
    neurons = (np.concatenate([m.reshape(-1) for m in maps.neurons])
               if maps.neurons else np.zeros(0))
    accuracy = metrics.test_accuracy
    return {
        "epoch": metrics.epoch,
        "step": metrics.step,
        "train_loss": number(metrics.train_loss),
        "test_loss": number(metrics.test_loss),
        "test_accuracy": None if accuracy is None else number(accuracy),
        "resolution": resolution,
        "output": f32(maps.output.ravel()),  # rows from x₂ = +6 (top) down
        "neurons": f32(neurons),  # hidden layers in order, each (width, res, res)
        "params": f64(playground.params),
    }
