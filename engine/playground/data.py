"""Playground's 2-D data sets, generated in numpy from a seed.

Points live in the square [-6, 6]² as in TensorFlow Playground. Classification labels are ±1
(the output neuron is a tanh); regression labels lie in about [-1, 1]. Each generator follows
Playground's own recipe, so a teacher's exercise looks the same here: with noise, the circle and
XOR sets label a point by where its *noisy* copy fell while drawing the point itself, which is how
Playground mixes classes near the border. Moons is sklearn's ``make_moons`` (micrograd's demo),
scaled by 3 into the square.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import EngineError

SQUARE = 6.0  # the visible square is [-SQUARE, SQUARE]²
CLASSIFICATION = ("circle", "xor", "gaussian", "spiral", "moons")
REGRESSION = ("plane", "multi-gaussian")
DEFAULT_POINTS = 500


class PlaygroundDataError(EngineError, ValueError):
    """A data option out of range; the message names it and its range."""


@dataclass(frozen=True)
class Points:
    xy: np.ndarray  # (n, 2)
    labels: np.ndarray  # (n,): ±1 for classification, [-1, 1] for regression

    def __len__(self) -> int:
        return len(self.labels)


def circle(n: int, noise: float, rng: np.random.Generator) -> Points:
    radius = 5.0
    half = n // 2
    r = np.concatenate((rng.uniform(0, radius * 0.5, half),
                        rng.uniform(radius * 0.7, radius, n - half)))
    angle = rng.uniform(0, 2 * np.pi, n)
    xy = np.stack((r * np.sin(angle), r * np.cos(angle)), axis=1)
    noisy = xy + rng.uniform(-radius, radius, (n, 2)) * noise
    labels = np.where(np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5, 1.0, -1.0)
    return Points(xy, labels)


def xor(n: int, noise: float, rng: np.random.Generator) -> Points:
    padding = 0.3
    xy = rng.uniform(-5, 5, (n, 2))
    xy += np.where(xy > 0, padding, -padding)  # a gap along both axes
    noisy = xy + rng.uniform(-5, 5, (n, 2)) * noise
    labels = np.where(noisy[:, 0] * noisy[:, 1] >= 0, 1.0, -1.0)
    return Points(xy, labels)


def gaussian(n: int, noise: float, rng: np.random.Generator) -> Points:
    spread = 0.5 + noise / 0.5 * 3.5  # Playground: noise 0..0.5 → standard deviation 0.5..4
    half = n // 2
    labels = np.concatenate((np.ones(half), -np.ones(n - half)))
    centres = np.where(labels[:, None] > 0, 2.0, -2.0)
    return Points(centres + rng.normal(0, spread, (n, 2)), labels)


def spiral(n: int, noise: float, rng: np.random.Generator) -> Points:
    half = n // 2
    arms = []
    for count, delta in ((half, 0.0), (n - half, np.pi)):
        i = np.arange(count) / count
        r, t = i * 5, 1.75 * i * 2 * np.pi + delta
        arms.append(np.stack((r * np.sin(t), r * np.cos(t)), axis=1)
                    + rng.uniform(-1, 1, (count, 2)) * noise)
    labels = np.concatenate((np.ones(half), -np.ones(n - half)))
    return Points(np.concatenate(arms), labels)


def moons(n: int, noise: float, rng: np.random.Generator, scale: float = 3.0) -> Points:
    """sklearn's make_moons: the upper moon labelled +1 here (make_moons' class 0 is it)."""
    upper = n // 2
    t_up, t_down = np.linspace(0, np.pi, upper), np.linspace(0, np.pi, n - upper)
    xy = np.concatenate((np.stack((np.cos(t_up), np.sin(t_up)), axis=1),
                         np.stack((1 - np.cos(t_down), 0.5 - np.sin(t_down)), axis=1)))
    xy += rng.normal(0, noise, xy.shape)
    labels = np.concatenate((np.ones(upper), -np.ones(n - upper)))
    return Points((xy - [0.5, 0.25]) * scale, labels)


def plane(n: int, noise: float, rng: np.random.Generator) -> Points:
    xy = rng.uniform(-SQUARE, SQUARE, (n, 2))
    noisy = xy + rng.uniform(-SQUARE, SQUARE, (n, 2)) * noise
    return Points(xy, noisy.sum(axis=1) / 10.0)  # Playground does not clamp: up to ±1.2


GAUSSIANS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def multi_gaussian_label(xy: np.ndarray) -> np.ndarray:
    """Each bump is ±(1 - distance/2) clipped at 0; a point takes the strongest bump."""
    best = np.zeros(len(xy))
    for cx, cy, sign in GAUSSIANS:
        value = sign * np.clip(1 - np.hypot(xy[:, 0] - cx, xy[:, 1] - cy) / 2, 0, 1)
        best = np.where(np.abs(value) > np.abs(best), value, best)
    return best


def multi_gaussian(n: int, noise: float, rng: np.random.Generator) -> Points:
    xy = rng.uniform(-SQUARE, SQUARE, (n, 2))
    noisy = xy + rng.uniform(-SQUARE, SQUARE, (n, 2)) * noise
    return Points(xy, multi_gaussian_label(noisy))


GENERATORS: dict[str, Callable[[int, float, np.random.Generator], Points]] = {
    "circle": circle, "xor": xor, "gaussian": gaussian, "spiral": spiral, "moons": moons,
    "plane": plane, "multi-gaussian": multi_gaussian,
}


@dataclass(frozen=True)
class Split:
    train: Points
    test: Points


def generate(dataset: str, seed: int = 0, noise: float = 0.0, ratio: float = 0.5,
             n: int = DEFAULT_POINTS) -> Split:
    """``n`` points of ``dataset``, shuffled by the seed, the first ``ratio`` of them training.

    Noise is Playground's 0..0.5 (its "0–50%"); ratio 0.1..0.9.
    """
    if dataset not in GENERATORS:
        raise PlaygroundDataError(f"dataset must be one of {sorted(GENERATORS)}, "
                                  f"not {dataset!r}")
    if not 0 <= noise <= 0.5:
        raise PlaygroundDataError(f"noise must be in 0..0.5 (0–50%), not {noise!r}")
    if not 0.1 <= ratio <= 0.9:
        raise PlaygroundDataError(f"ratio must be in 0.1..0.9 (10–90% training), not {ratio!r}")
    if not 2 <= n <= 10_000:
        raise PlaygroundDataError(f"points must be 2..10000, not {n!r}")
    rng = np.random.default_rng(seed)
    points = GENERATORS[dataset](n, noise, rng)
    return split(points, ratio, rng)


def split(points: Points, ratio: float, rng: np.random.Generator) -> Split:
    order = rng.permutation(len(points))
    cut = min(max(int(round(len(points) * ratio)), 1), len(points) - 1)
    train, test = order[:cut], order[cut:]
    return Split(Points(points.xy[train], points.labels[train]),
                 Points(points.xy[test], points.labels[test]))
