"""Playground's seven input features of a point (x₁, x₂), computed in numpy as the graph's
consts: the network sees them as its inputs, exactly as Playground's input column."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import EngineError

FEATURES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1^2": lambda a, b: a * a,
    "x2^2": lambda a, b: b * b,
    "x1x2": lambda a, b: a * b,
    "sin(x1)": lambda a, b: np.sin(a),
    "sin(x2)": lambda a, b: np.sin(b),
}
# How the page writes them.
LABELS = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1x2": "x₁x₂",
          "sin(x1)": "sin x₁", "sin(x2)": "sin x₂"}
DEFAULT_FEATURES = ("x1", "x2")


class FeatureError(EngineError, ValueError):
    """An unknown or empty feature selection."""


def checked(features: Sequence[str]) -> tuple[str, ...]:
    """The features in their canonical order, or a FeatureError naming the bad one."""
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise FeatureError(f"unknown feature {unknown[0]!r}; features are {list(FEATURES)}")
    if not features:
        raise FeatureError("choose at least one feature")
    return tuple(f for f in FEATURES if f in features)


def compute(features: Sequence[str], xy: np.ndarray) -> np.ndarray:
    """(n, len(features)) feature values of points (n, 2)."""
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    return np.stack([FEATURES[f](xy[:, 0], xy[:, 1]) for f in checked(features)], axis=1)
