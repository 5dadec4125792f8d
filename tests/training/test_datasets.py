"""Tests of the bundled digits data and its loader against facts from outside the code."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from engine.errors import EngineError
from engine.training.datasets import (
    DIGITS_PATH,
    DatasetError,
    Digits,
    load_digits,
    load_digits_raw,
    stratified_split,
    upscale,
)

README = Path(__file__).resolve().parents[2] / "engine" / "training" / "data" / "README.md"

# Class distribution of optdigits.tes as published in the UCI data set description.
PUBLISHED_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
N = 1797


def readme_sha256(label: str) -> str:
    """The checksum recorded in engine/data/README.md's table row starting with `label`."""
    text = README.read_text(encoding="utf-8")
    match = re.search(
        rf"^\|\s*{re.escape(label)}[^|]*\|\s*`([0-9a-f]{{64}})`\s*\|",
        text,
        re.MULTILINE,
    )
    assert match, f"no sha256 row for {label!r} in {README}"
    return match.group(1)


def test_file_sha256_matches_readme() -> None:
    assert hashlib.sha256(DIGITS_PATH.read_bytes()).hexdigest() == readme_sha256(
        "file `digits.npz`"
    )


def test_array_sha256_matches_readme() -> None:
    images, labels = load_digits_raw()
    assert hashlib.sha256(images.tobytes()).hexdigest() == readme_sha256("`images` bytes")
    assert hashlib.sha256(labels.astype(np.uint8).tobytes()).hexdigest() == readme_sha256(
        "`labels` bytes"
    )


def test_raw_shapes_dtypes_and_range() -> None:
    images, labels = load_digits_raw()
    assert images.shape == (N, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (N,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 16
    assert set(np.unique(labels).tolist()) == set(range(10))


def test_class_counts_match_published_distribution() -> None:
    _, labels = load_digits_raw()
    assert np.bincount(labels, minlength=10).tolist() == PUBLISHED_COUNTS


def test_default_split_sizes_and_proportions() -> None:
    d = load_digits()
    assert isinstance(d, Digits)
    assert (d.size, d.classes) == (16, 10)
    assert d.train_images.shape == (1437, 256) and d.test_images.shape == (360, 256)
    assert d.train_images.dtype == np.float64 and d.test_images.dtype == np.float64
    assert d.train_labels.dtype == np.int64 and d.test_labels.dtype == np.int64
    assert d.train_labels.shape == (1437,) and d.test_labels.shape == (360,)
    assert d.train_images.min() >= 0.0 and d.train_images.max() <= 1.0
    train_counts = np.bincount(d.train_labels, minlength=10)
    test_counts = np.bincount(d.test_labels, minlength=10)
    assert (train_counts > 0).all() and (test_counts > 0).all()
    assert (train_counts + test_counts).tolist() == PUBLISHED_COUNTS
    for count, got in zip(PUBLISHED_COUNTS, test_counts.tolist(), strict=True):
        assert abs(got - 360 * count / N) <= 1


@pytest.mark.parametrize("test_size", [10, 100, 360, 899, 1500])
def test_split_partitions_indices(test_size: int) -> None:
    _, labels = load_digits_raw()
    train_idx, test_idx = stratified_split(labels, test_size, seed=3)
    assert test_idx.size == test_size and train_idx.size == N - test_size
    assert np.intersect1d(train_idx, test_idx).size == 0
    assert np.array_equal(np.sort(np.concatenate([train_idx, test_idx])), np.arange(N))
    test_counts = np.bincount(labels[test_idx], minlength=10)
    assert np.all(np.abs(test_counts - test_size * np.array(PUBLISHED_COUNTS) / N) <= 1)


def test_split_content_matches_raw_images() -> None:
    """Each example is an original image with its own label, flattened row-major."""
    images, labels = load_digits_raw()
    train_idx, test_idx = stratified_split(labels, 360, seed=0)
    d = load_digits(size=8)
    assert np.array_equal(d.test_images * 16, images[test_idx].reshape(360, 64))
    assert np.array_equal(d.train_labels, labels[train_idx])
    assert np.array_equal(d.test_labels, labels[test_idx])
    image = images[test_idx[0]]
    assert d.test_images[0, 2 * 8 + 5] * 16 == image[2, 5]


def test_same_seed_same_split_other_seed_different() -> None:
    a, b, c = load_digits(seed=7), load_digits(seed=7), load_digits(seed=8)
    for name in ("train_images", "train_labels", "test_images", "test_labels"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.test_images, c.test_images)
    _, labels = load_digits_raw()
    assert not np.array_equal(
        stratified_split(labels, 360, 7)[1], stratified_split(labels, 360, 8)[1]
    )


def test_arrays_are_read_only() -> None:
    d = load_digits(size=8)
    with pytest.raises(ValueError):
        d.train_images[0, 0] = 1.0


def test_upscale_known_array() -> None:
    images = np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8)
    up = upscale(images, 16)
    assert up.shape == (2, 16, 16) and up.dtype == np.uint8
    expected = np.empty((2, 16, 16), dtype=np.uint8)
    for n in range(2):
        for r in range(16):
            for c in range(16):
                expected[n, r, c] = images[n, r // 2, c // 2]
    assert np.array_equal(up, expected)
    assert np.array_equal(upscale(images, 8), images)
    assert upscale(images, 24)[1, 23, 0] == images[1, 7, 0]


def test_upscale_preserves_mean() -> None:
    images, _ = load_digits_raw()
    for size in (8, 16, 32):
        assert upscale(images, size).mean() == pytest.approx(images.mean(), rel=1e-12)
    d = load_digits(size=32)
    all_pixels = np.concatenate([d.train_images, d.test_images])
    assert all_pixels.mean() == pytest.approx(images.mean() / 16, rel=1e-12)


@pytest.mark.parametrize("size", [0, -8, 4, 12, 17, 16.0, "16", True])
def test_bad_size_raises(size: object) -> None:
    with pytest.raises(ValueError, match="size"):
        upscale(np.zeros((1, 8, 8)), size)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="size"):
        load_digits(size=size)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(8, 8), (1, 8, 9), (1, 16, 16), (1, 8, 8, 1)])
def test_upscale_bad_shape_raises(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="shape"):
        upscale(np.zeros(shape), 16)


@pytest.mark.parametrize("test_size", [0, -1, N, N + 1, 5, 1795, 360.0, None])
def test_bad_test_size_raises(test_size: object) -> None:
    with pytest.raises(ValueError, match="test_size"):
        load_digits(test_size=test_size)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [-1, 0.5, "0", None])
def test_bad_seed_raises(seed: object) -> None:
    with pytest.raises(ValueError, match="seed"):
        load_digits(seed=seed)  # type: ignore[arg-type]


def test_errors_are_engine_errors() -> None:
    """Callers that catch the engine's base error also catch bad dataset arguments."""
    with pytest.raises(EngineError):
        load_digits(size=12)
    assert issubclass(DatasetError, ValueError)
