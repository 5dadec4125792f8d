"""A run's pictures, computed on demand from its stored weights (run in the CPU pool).

``test_strip`` answers for the whole test set at one epoch (each digit's label, predicted class
and its probability, and the pixels once); ``kernel_history`` gives both conv kernels at every
stored epoch; ``digit_maps`` one digit's feature maps and saliency. Arrays travel as
little-endian bytes (Float64Array / Float32Array / Uint8Array on the page), as engine.frames.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from engine.formats import Loaded
from engine.frames import f64
from engine.training import load_digits, resnet
from engine.training.datasets import MAX_PIXEL
from engine.training.pictures import (
    IMAGE_LAYERS,
    ResNetWeights,
    evaluation_set,
    losses,
    maps,
    normalisation,
    saliency,
)

# The maps a digit's answer carries, in this order, each size×size.
DIGIT_MAPS = (*IMAGE_LAYERS, "skip", "residual")
SIZE = 16
KEPT_WEIGHTS = 32  # unpacked (run, epoch) weights kept: stored weights never change
_kept: OrderedDict[tuple, ResNetWeights] = OrderedDict()
_kept_lock = threading.Lock()


class PicturesUnavailableError(ValueError):
    """A run without pictures (not the reference ResNet, no stored weights): says which."""


@lru_cache(maxsize=4)
def _model(width: int):
    return resnet(size=SIZE, width=width)


@lru_cache(maxsize=1)
def _digits():
    return load_digits(size=SIZE)


def _weights(store, run: dict, epoch: int | None) -> tuple[int, ResNetWeights]:
    config = run["config"]
    if config.get("model") != "resnet":
        raise PicturesUnavailableError("feature maps, kernels and saliency are drawn for the "
                                  f"resnet model; this run trains {config.get('model')!r}")
    epochs = store.weight_epochs(run["id"])
    if not epochs:
        raise PicturesUnavailableError("this run kept no weights (it was trained before weights "
                                  "were stored, or has not started)")
    if epoch is None:
        epoch = epochs[-1]
    if epoch not in epochs:
        raise PicturesUnavailableError(f"no weights stored for epoch {epoch}; this run has epochs "
                                  f"{epochs[0]}..{epochs[-1]}")
    key = (store.path, run["id"], epoch)
    with _kept_lock:
        if key in _kept:
            _kept.move_to_end(key)
            return epoch, _kept[key]
    params = np.frombuffer(store.weights(run["id"], epoch), "<f8")
    weights = ResNetWeights.of(_model(int(config.get("width", 32))), params)
    with _kept_lock:
        _kept[key] = weights
        while len(_kept) > KEPT_WEIGHTS:
            _kept.popitem(last=False)
    return epoch, weights


def test_strip(store, run: dict, epoch: int | None) -> dict:
    """Every test digit's label, prediction and its probability at ``epoch`` (latest: None)."""
    epoch, w = _weights(store, run, epoch)
    data = _digits()
    images, labels = evaluation_set(data)
    values = maps(w, images)
    probabilities = values["probabilities"]
    predicted = probabilities.argmax(axis=1)
    return {"epoch": epoch, "epochs": store.weight_epochs(run["id"]), "size": SIZE,
            "count": len(labels),
            "labels": labels.astype("<u1").tobytes(),
            "predicted": predicted.astype("<u1").tobytes(),
            "probability": np.ascontiguousarray(
                probabilities[np.arange(len(labels)), predicted], "<f4").tobytes(),
            # the raw pixels, 0..16 each (the data's own scale): a quarter of float32's bytes
            "pixels": np.rint(data.test_images * MAX_PIXEL).astype("<u1").tobytes()}


def kernel_history(store, run: dict) -> dict:
    """Conv1's and Conv2's 3×3 kernels and biases at every stored epoch."""
    epochs = store.weight_epochs(run["id"])
    kernels = []
    for epoch in epochs:
        _, w = _weights(store, run, epoch)
        kernels.append(np.concatenate([w.conv1.ravel(), [w.bias1], w.conv2.ravel(), [w.bias2]]))
    return {"epochs": epochs, "layers": ["Conv1", "Conv2"],
            "kernels": f64(np.array(kernels).reshape(-1))}  # (epochs, 2 layers, 9 + bias)


def digit_maps(store, run: dict, epoch: int | None, digit: int | None = None,
               pixels: list | None = None, label: int | None = None) -> dict:
    """A test digit's (``digit``, its index) or a drawn one's (``pixels``: size² ink values in
    [0, 1], ``label`` the class it is meant to be, else the predicted one) feature maps and the
    loss's gradient with respect to each, with the class probabilities and the loss."""
    epoch, w = _weights(store, run, epoch)
    data = _digits()
    if digit is not None:
        images, labels = evaluation_set(data)
        image = images[digit:digit + 1]
        true = int(labels[digit])
    else:
        mean, std = normalisation(data)
        image = (np.asarray(pixels, np.float64).reshape(1, SIZE, SIZE) - mean) / std
        true = -1
    values = maps(w, image)
    predicted = int(values["probabilities"][0].argmax())
    target = true if true >= 0 else (predicted if label is None else label)
    grads = saliency(w, values, np.array([target]))
    return {"epoch": epoch, "size": SIZE, "layers": list(DIGIT_MAPS), "label": true,
            "target": target, "predicted": predicted,
            "probabilities": f64(values["probabilities"][0]),
            "loss": float(losses(values, np.array([target]))[0]),
            "values": f64(np.stack([values[k][0] for k in DIGIT_MAPS]).reshape(-1)),
            "grads": f64(np.stack([grads[k][0] for k in DIGIT_MAPS]).reshape(-1))}


def digit_graph(store, run: dict, epoch: int | None, digit: int | None = None,
                pixels: list | None = None, label: int | None = None) -> tuple[Loaded, str, float]:
    """The digit's whole scalar graph (as ``digit_maps`` takes it), fed with the run's weights at
    ``epoch`` and scored against the same class: (the graph, its name, the loss digit_maps
    reports for it). A fresh graph: the cached model view is shared by every workspace."""
    answer = digit_maps(store, run, epoch, digit, pixels, label)
    data = _digits()
    model = resnet(size=SIZE, width=int(run["config"].get("width", 32)))
    params = np.frombuffer(store.weights(run["id"], answer["epoch"]), "<f8")
    if digit is not None:
        image = evaluation_set(data)[0][digit].reshape(-1)
    else:
        mean, std = normalisation(data)
        image = (np.asarray(pixels, np.float64) - mean) / std
    consts = model.consts(image[None, :], np.array([answer["target"]]))[0]
    model.graph.feed(params, consts)
    names = {n.name: n for n in model.graph.input_nodes + model.graph.const_nodes if n.name}
    loaded = Loaded(format="network", graph=model.graph,
                    inputs={n.name: n for n in model.graph.input_nodes},
                    outputs={"Loss": model.loss}, names=names, consts=model.graph.const_nodes,
                    network=model.net, layers=model.net.layers)
    which = f"test digit {digit}" if digit is not None else "a drawn digit"
    name = f"{which} as a {answer['target']}, {run['name']} at epoch {answer['epoch']}"
    return loaded, name[:200], answer["loss"]
