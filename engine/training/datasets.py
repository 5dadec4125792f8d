"""8x8 handwritten digits: UCI optdigits test set (Alpaydin & Kaynak 1998), CC BY 4.0.

Provenance, attribution and checksums are in engine/data/README.md.

The data ship inside the repository so that training, tests and the demo work
offline and without scikit-learn; this module only needs numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import EngineError

# Located next to this module rather than via the working directory, so the
# loader works whatever directory the server or the tests are started from.
DIGITS_PATH: Path = Path(__file__).resolve().parent / "data" / "digits.npz"

N_IMAGES = 1797
TEST_SIZE = 360  # the default split keeps 1,437 images for training
CLASSES = 10
NATIVE_SIZE = 8
MAX_PIXEL = 16  # each pixel counts "on" bits in a 4x4 block of a 32x32 bitmap


class DatasetError(EngineError, ValueError):
    """Bad arguments or a damaged data file; a ValueError, and an EngineError like the rest."""


def load_digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """Return the bundled data untouched: images uint8 (1797, 8, 8) in 0..16, labels int64 (1797,).

    Labels are widened to int64 because they are used as indices (one-hot,
    gathers), where numpy's default integer avoids silent uint8 wrap-around.
    The shape checks turn a damaged or replaced file into an immediate,
    explicit error instead of a confusing failure deep inside training.
    """
    with np.load(DIGITS_PATH, allow_pickle=False) as data:
        images = np.asarray(data["images"])
        labels = np.asarray(data["labels"]).astype(np.int64)
    if images.shape != (N_IMAGES, NATIVE_SIZE, NATIVE_SIZE) or images.dtype != np.uint8:
        raise DatasetError(f"{DIGITS_PATH}: unexpected images {images.dtype}{images.shape}")
    if labels.shape != (N_IMAGES,):
        raise DatasetError(f"{DIGITS_PATH}: unexpected labels shape {labels.shape}")
    return images, labels


def upscale(images: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour upscale (n, 8, 8) images to (n, size, size), keeping the dtype.

    Pixel repetition adds no information and keeps the data's exact values
    (and mean), so a larger input only makes the network bigger to show,
    never changes what it has to learn.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (NATIVE_SIZE, NATIVE_SIZE):
        raise DatasetError(f"images must have shape (n, 8, 8), got {images.shape}")
    factor = _upscale_factor(size)
    return images.repeat(factor, axis=1).repeat(factor, axis=2)


def stratified_split(
    labels: np.ndarray, test_size: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted (train_indices, test_indices) with every class in proportion in both.

    Stratifying keeps the test accuracy comparable between seeds and sizes:
    no class can end up missing or over-represented by chance. Per-class test
    counts use the largest-remainder rule, so they sum to exactly `test_size`
    and each is within 1 of its exact proportional share.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(f"labels must be a 1-D integer array, got {labels.dtype}{labels.shape}")
    if labels.size and labels.min() < 0:
        raise DatasetError("labels must be non-negative")
    n = labels.size
    _check_int("test_size", test_size)
    _check_int("seed", seed)
    if not 0 < test_size < n:
        raise DatasetError(f"test_size must be between 1 and {n - 1}, got {test_size}")
    if seed < 0:
        raise DatasetError(f"seed must be non-negative, got {seed}")

    counts = np.bincount(labels)
    present = np.flatnonzero(counts)
    quotas = test_size * counts[present] / n
    per_class = np.floor(quotas).astype(np.int64)
    # Ties are broken by class order (stable sort), so the allocation never depends on the seed.
    order = np.argsort(-(quotas - per_class), kind="stable")
    per_class[order[: test_size - per_class.sum()]] += 1
    if np.any(per_class == 0) or np.any(per_class == counts[present]):
        raise DatasetError(
            f"test_size={test_size} leaves some class out of the train or test split"
        )

    rng = np.random.default_rng(seed)
    test_parts = [
        rng.permutation(np.flatnonzero(labels == cls))[:k]
        for cls, k in zip(present.tolist(), per_class.tolist(), strict=True)
    ]
    # Sorting makes the split a pure set choice; shuffling for SGD is the trainer's job.
    test_idx = np.sort(np.concatenate(test_parts))
    train_mask = np.ones(n, dtype=bool)
    train_mask[test_idx] = False
    return np.flatnonzero(train_mask), test_idx


@dataclass(frozen=True, eq=False)
class Digits:
    """A fixed train/test split, ready for a fully connected network.

    Images are flattened row-major (pixel [r, c] at index r * size + c) and
    scaled to [0, 1] by dividing by 16, the data's true maximum, so the scale
    is fixed by the data's definition and not by whatever the split contains.
    The arrays are read-only: `frozen` should mean the split cannot change
    under a running training session. `eq=False` because element-wise array
    equality has no single truth value.
    """

    train_images: np.ndarray  # float64 (n_train, size * size)
    train_labels: np.ndarray  # int64 (n_train,)
    test_images: np.ndarray  # float64 (n_test, size * size)
    test_labels: np.ndarray  # int64 (n_test,)
    size: int
    classes: int = CLASSES


def load_digits(size: int = 16, test_size: int = TEST_SIZE, seed: int = 0) -> Digits:
    """Load the bundled digits as a seeded, stratified split (1,437 train / 360 test by default).

    The same seed always gives the same split, so results and demos are
    reproducible; another seed gives another split for checking that a
    result is not an accident of one partition.
    """
    _upscale_factor(size)  # validate before doing any work
    images, labels = load_digits_raw()
    train_idx, test_idx = stratified_split(labels, test_size, seed)

    def prepare(idx: np.ndarray) -> np.ndarray:
        flat = upscale(images[idx], size).reshape(idx.size, size * size)
        return _read_only(flat.astype(np.float64) / MAX_PIXEL)

    return Digits(
        train_images=prepare(train_idx),
        train_labels=_read_only(labels[train_idx]),
        test_images=prepare(test_idx),
        test_labels=_read_only(labels[test_idx]),
        size=int(size),
    )


def _check_int(name: str, value: object) -> None:
    # bool is an int subclass; True as a size is almost certainly a bug.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise DatasetError(f"{name} must be an integer, got {value!r}")


def _upscale_factor(size: int) -> int:
    _check_int("size", size)
    if size < NATIVE_SIZE or size % NATIVE_SIZE:
        raise DatasetError(f"size must be a positive multiple of {NATIVE_SIZE}, got {size}")
    return int(size) // NATIVE_SIZE


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
