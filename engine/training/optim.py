"""Optimisers over a flat parameter vector: SGD with momentum, and Adam."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Optimizer(Protocol):
    """What the trainer needs of an optimiser: ``step`` updates ``params`` in place."""

    def step(self, params: np.ndarray, grad: np.ndarray) -> None: ...


class SGD:
    """v ← μ v + g;  θ ← θ - lr v   (PyTorch's formulation of momentum)."""

    def __init__(self, lr: float = 0.05, momentum: float = 0.9) -> None:
        self.lr, self.momentum = lr, momentum
        self.velocity: np.ndarray | None = None

    def step(self, params: np.ndarray, grad: np.ndarray) -> None:
        if self.velocity is None:
            self.velocity = np.zeros_like(params)
        self.velocity *= self.momentum
        self.velocity += grad
        params -= self.lr * self.velocity


class Adam:
    """Kingma & Ba (2015), with bias-corrected first and second moments."""

    def __init__(self, lr: float = 0.003, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m: np.ndarray | None = None
        self.v: np.ndarray | None = None
        self.t = 0

    def step(self, params: np.ndarray, grad: np.ndarray) -> None:
        if self.m is None or self.v is None:  # both are None until the first step
            self.m, self.v = np.zeros_like(params), np.zeros_like(params)
        self.t += 1
        # In place, one scratch array: PyTorch's formulation (bias corrections folded into
        # the step size and the denominator), the same update as m̂ / (√v̂ + ε).
        scratch = np.multiply(grad, 1 - self.beta1)
        self.m *= self.beta1
        self.m += scratch
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - self.beta2
        self.v *= self.beta2
        self.v += scratch
        np.sqrt(self.v, out=scratch)
        scratch /= np.sqrt(1 - self.beta2 ** self.t)
        scratch += self.eps
        np.divide(self.m, scratch, out=scratch)
        scratch *= self.lr / (1 - self.beta1 ** self.t)
        params -= scratch


OPTIMIZERS: dict[str, type[SGD] | type[Adam]] = {"sgd": SGD, "adam": Adam}
DEFAULT_LR = {"sgd": 0.05, "adam": 0.003}
