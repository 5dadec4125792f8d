"""What the reference ResNet sees: its feature maps, kernels and saliency for a digit, in numpy.

An independent reference, written apart from ``kernels.FusedProgram`` (tests check both against
the scalar graph): the layers as the README defines them, on a batch of images laid out
(B, size, size). ``maps`` returns every image-shaped layer (Conv1, ReLU1, Conv2, Add2 with its
skip and residual operands, ReLU2) and the class probabilities; ``saliency`` the gradient of
the loss with respect to the image and to each of those maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .datasets import Digits
from .models import Model

IMAGE_LAYERS = ("image", "Conv1", "ReLU1", "Conv2", "Add2", "ReLU2")
_LAYOUT = ("conv", "relu", "conv", "add", "relu", "fc", "relu", "fc", "softmax", "cross_entropy")


class PicturesError(ValueError):
    """A model whose layers are not the reference ResNet's; the message says so."""


@dataclass(frozen=True)
class ResNetWeights:
    """The reference ResNet's parameters, unpacked from a model's flat parameter vector."""

    conv1: np.ndarray  # (3, 3) kernel
    bias1: float
    conv2: np.ndarray
    bias2: float
    fc3: np.ndarray  # (width, size²): rows are outputs
    bias3: np.ndarray
    fc4: np.ndarray  # (classes, width)
    bias4: np.ndarray

    @classmethod
    def of(cls, model: Model, params: np.ndarray) -> ResNetWeights:
        if tuple(layer.kind for layer in model.net.layers) != _LAYOUT:
            raise PicturesError("feature maps are drawn for the reference ResNet (conv, relu, "
                                "conv, add, relu, fc, relu, fc); this model's layers differ")
        params = np.asarray(params, np.float64)
        if params.shape != (model.n_params,):
            raise PicturesError(f"expected {model.n_params} parameters, got {params.shape}")
        position = {n: i for i, n in enumerate(model.params)}
        layers = [layer for layer in model.net.layers if layer.weights]

        def take(nodes) -> np.ndarray:
            return params[[position[n] for n in nodes]]

        conv1, conv2, fc3, fc4 = layers
        return cls(take(conv1.weights).reshape(3, 3), float(take(conv1.bias)[0]),
                   take(conv2.weights).reshape(3, 3), float(take(conv2.bias)[0]),
                   take(fc3.weights).reshape(fc3.shape[1], fc3.shape[0]), take(fc3.bias),
                   take(fc4.weights).reshape(fc4.shape[1], fc4.shape[0]), take(fc4.bias))


def correlate(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """3×3 cross-correlation with zero 'same' padding: y[i, j] = Σ k[a, b]·x[i+a-1, j+b-1]."""
    size = images.shape[-1]
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    out = np.zeros_like(images)
    for a in range(3):
        for b in range(3):
            out += kernel[a, b] * padded[:, a:a + size, b:b + size]
    return out


def correlate_transposed(grads: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The input gradient of ``correlate``: each output's gradient spread back over its taps."""
    size = grads.shape[-1]
    spread = np.zeros((grads.shape[0], size + 2, size + 2))
    for a in range(3):
        for b in range(3):
            spread[:, a:a + size, b:b + size] += kernel[a, b] * grads
    return spread[:, 1:-1, 1:-1]


def maps(w: ResNetWeights, images: np.ndarray) -> dict[str, np.ndarray]:
    """Every layer's values for images (B, size, size): the image-shaped ones as (B, size, size),
    "skip" and "residual" (Add2's operands), then FC3, ReLU3, logits and probabilities."""
    x = np.asarray(images, np.float64)
    conv1 = correlate(x, w.conv1) + w.bias1
    relu1 = np.maximum(conv1, 0.0)
    conv2 = correlate(relu1, w.conv2) + w.bias2
    add2 = x + conv2
    relu2 = np.maximum(add2, 0.0)
    fc3 = relu2.reshape(len(x), -1) @ w.fc3.T + w.bias3
    relu3 = np.maximum(fc3, 0.0)
    logits = relu3 @ w.fc4.T + w.bias4
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return {"image": x, "Conv1": conv1, "ReLU1": relu1, "Conv2": conv2, "skip": x,
            "residual": conv2, "Add2": add2, "ReLU2": relu2, "FC3": fc3, "ReLU3": relu3,
            "logits": logits, "log_probabilities": log_p, "probabilities": np.exp(log_p)}


def losses(values: dict[str, np.ndarray], labels: np.ndarray) -> np.ndarray:
    """Each image's cross-entropy against its one-hot label."""
    labels = np.asarray(labels)
    return -values["log_probabilities"][np.arange(len(labels)), labels]


def saliency(w: ResNetWeights, values: dict[str, np.ndarray],
             labels: np.ndarray) -> dict[str, np.ndarray]:
    """d loss / d (each image-shaped layer) for each image, by hand-written back-propagation."""
    labels = np.asarray(labels)
    batch, size = len(labels), values["image"].shape[-1]
    d_logits = values["probabilities"].copy()
    d_logits[np.arange(batch), labels] -= 1.0
    d_fc3 = (d_logits @ w.fc4) * (values["FC3"] > 0)
    d_relu2 = (d_fc3 @ w.fc3).reshape(batch, size, size)
    d_add2 = d_relu2 * (values["Add2"] > 0)
    d_conv2 = d_add2  # both operands of a sum get its gradient
    d_relu1 = correlate_transposed(d_conv2, w.conv2)
    d_conv1 = d_relu1 * (values["Conv1"] > 0)
    d_image = d_add2 + correlate_transposed(d_conv1, w.conv1)
    return {"image": d_image, "Conv1": d_conv1, "ReLU1": d_relu1, "Conv2": d_conv2,
            "skip": d_add2, "residual": d_conv2, "Add2": d_add2, "ReLU2": d_relu2}


def normalisation(data: Digits) -> tuple[float, float]:
    """The (mean, std) training scales pixels by (as ``loop.train`` does)."""
    return float(data.train_images.mean()), float(data.train_images.std())


def evaluation_set(data: Digits) -> tuple[np.ndarray, np.ndarray]:
    """The test images, normalised as training saw them, as (n, size, size), and their labels."""
    mean, std = normalisation(data)
    images = (data.test_images - mean) / std
    return images.reshape(-1, data.size, data.size), np.asarray(data.test_labels)
