"""Playground's data sets: deterministic by seed, labels following each set's own rule."""

from __future__ import annotations

import numpy as np
import pytest

from engine.playground import FEATURES, GENERATORS, PlaygroundDataError, generate
from engine.playground.features import FeatureError, compute


def everything(dataset: str, seed: int = 0, noise: float = 0.0):
    split = generate(dataset, seed=seed, noise=noise, ratio=0.5)
    return (np.concatenate((split.train.xy, split.test.xy)),
            np.concatenate((split.train.labels, split.test.labels)))


@pytest.mark.parametrize("dataset", sorted(GENERATORS))
def test_the_same_seed_gives_the_same_points_and_another_seed_others(dataset):
    a, b, c = (generate(dataset, seed=s, noise=0.2) for s in (7, 7, 8))
    assert np.array_equal(a.train.xy, b.train.xy) and np.array_equal(a.test.labels, b.test.labels)
    assert not np.array_equal(a.train.xy, c.train.xy)
    xy, _ = everything(dataset, noise=0.2)
    assert np.abs(xy).max() <= 6 * 1.6  # inside (a noisy margin of) the visible square


@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.9])
def test_the_ratio_splits_the_points(ratio):
    split = generate("xor", ratio=ratio, n=500)
    assert len(split.train) == round(500 * ratio) and len(split.test) == 500 - round(500 * ratio)
    both = np.concatenate((split.train.xy, split.test.xy))
    assert len(np.unique(both, axis=0)) == 500  # a split, not a resampling


def test_circle_labels_by_radius():
    xy, labels = everything("circle")
    r = np.hypot(xy[:, 0], xy[:, 1])
    assert np.array_equal(labels, np.where(r < 2.5, 1.0, -1.0))
    assert ((r <= 2.5) | ((r >= 3.5) & (r <= 5))).all()  # inner disc and outer ring


def test_xor_labels_by_the_sign_of_x1_x2():
    xy, labels = everything("xor")
    assert np.array_equal(labels, np.sign(xy[:, 0] * xy[:, 1]))
    assert (np.abs(xy) >= 0.3).all()  # the gap along the axes


def test_gaussian_labels_by_centre():
    xy, labels = everything("gaussian")
    for sign in (1, -1):
        mine = xy[labels == sign]
        assert np.allclose(mine.mean(axis=0), [2 * sign, 2 * sign], atol=0.1)
        assert np.allclose(mine.std(axis=0), 0.5, atol=0.06)  # noise 0: spread 0.5


def test_spiral_points_lie_on_their_arm():
    xy, labels = everything("spiral")
    r = np.hypot(xy[:, 0], xy[:, 1])
    keep = r > 1e-9
    angle = np.arctan2(xy[keep, 0], xy[keep, 1])  # x = r sin t, y = r cos t
    arm = 1.75 * 2 * np.pi * r[keep] / 5 + np.where(labels[keep] > 0, 0.0, np.pi)
    off = np.angle(np.exp(1j * (angle - arm)))
    assert np.abs(off).max() < 1e-9


def test_moons_points_lie_on_their_half_circle():
    xy, labels = everything("moons")
    u = xy / 3 + [0.5, 0.25]  # back to make_moons' coordinates
    upper, lower = u[labels > 0], u[labels < 0]
    assert np.allclose(np.hypot(*upper.T), 1) and (upper[:, 1] >= -1e-12).all()
    assert np.allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()


def test_plane_is_x1_plus_x2_over_10():
    xy, labels = everything("plane")
    assert np.allclose(labels, (xy[:, 0] + xy[:, 1]) / 10)


def test_multi_gaussian_peaks_at_its_centres():
    from engine.playground.data import multi_gaussian_label
    centres = np.array([[-4, 2.5], [0, 2.5], [4, 2.5], [-4, -2.5], [0, -2.5], [4, -2.5]])
    assert list(multi_gaussian_label(centres)) == [1, -1, 1, -1, 1, -1]
    assert multi_gaussian_label(np.array([[-2.0, 0.0]]))[0] == 0  # 2 or more from every centre
    _, labels = everything("multi-gaussian")
    assert labels.min() >= -1 and labels.max() <= 1 and (labels > 0.5).any()


@pytest.mark.parametrize(("option", "value", "named"), [
    ("noise", 0.7, "noise must be in 0..0.5"), ("ratio", 0.95, "ratio must be in 0.1..0.9"),
    ("dataset", "rings", "dataset must be one of")])
def test_options_out_of_range_are_named(option, value, named):
    kwargs = {"dataset": "circle", option: value}
    with pytest.raises(PlaygroundDataError, match=named):
        generate(**kwargs)


def test_the_seven_features():
    xy = np.array([[0.5, -2.0], [3.0, 1.5]])
    got = compute(list(FEATURES), xy)
    a, b = xy.T
    assert np.allclose(got, np.stack([a, b, a * a, b * b, a * b, np.sin(a), np.sin(b)], axis=1))
    assert compute(["x2", "x1"], xy).tolist() == xy.tolist()  # canonical order, x₁ first
    with pytest.raises(FeatureError, match="unknown feature 'cos"):
        compute(["cos(x1)"], xy)
