"""Regenerate engine/data/digits.npz from scikit-learn's shipped copy of the UCI digits.

scikit-learn is a tool for this script only, not a dependency of the project:
run it from a throwaway venv, e.g.

    python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn numpy
    /tmp/skl/bin/python scripts/make_digits.py

`sklearn.datasets.load_digits` reads the data from sklearn's own package files,
so this needs no network. The output is byte-for-byte reproducible (checked
below); the sha256 values it prints are the ones recorded in
engine/data/README.md and checked by tests/test_datasets.py.
"""

from __future__ import annotations

import argparse
import hashlib
import zipfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "engine" / "data" / "digits.npz"

# Every zip entry must carry this timestamp, or the file's bytes (and its
# checksum) would change with the time of day it was regenerated.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_arrays() -> tuple[np.ndarray, np.ndarray]:
    bunch = load_digits()
    raw_images = np.asarray(bunch.images)
    raw_labels = np.asarray(bunch.target)
    # sklearn hands back float64; the source data are integer counts 0..16,
    # so narrowing to uint8 must be exact or something upstream changed.
    if raw_images.shape != (1797, 8, 8) or raw_labels.shape != (1797,):
        raise SystemExit(f"unexpected shapes {raw_images.shape}, {raw_labels.shape}")
    if not np.array_equal(raw_images, np.round(raw_images)):
        raise SystemExit("pixel values are not integers")
    if raw_images.min() < 0 or raw_images.max() > 16:
        raise SystemExit("pixel values outside 0..16")
    if raw_labels.min() < 0 or raw_labels.max() > 9:
        raise SystemExit("labels outside 0..9")
    images = np.ascontiguousarray(raw_images, dtype=np.uint8)
    labels = np.ascontiguousarray(raw_labels, dtype=np.uint8)
    return images, labels


def write_npz(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, images=images, labels=labels)
    # numpy's writer currently leaves zip entries at the 1980 default
    # timestamp; fail loudly if a future numpy/Python starts stamping them.
    with zipfile.ZipFile(path) as zf:
        stamps = {info.filename: info.date_time for info in zf.infolist()}
    if any(stamp != FIXED_ZIP_TIME for stamp in stamps.values()):
        raise SystemExit(f"zip entries carry timestamps {stamps}: output not reproducible")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .npz path")
    args = parser.parse_args()

    images, labels = build_arrays()
    write_npz(args.out, images, labels)

    # Read back what was written, so the printed array hashes describe the file.
    with np.load(args.out, allow_pickle=False) as data:
        if not (np.array_equal(data["images"], images) and np.array_equal(data["labels"], labels)):
            raise SystemExit("round trip through the .npz changed the arrays")

    print(f"wrote {args.out}")
    print(f"file sha256:   {sha256_bytes(args.out.read_bytes())}")
    print(f"images sha256: {sha256_bytes(images.tobytes())}  (uint8 {images.shape}, C order)")
    print(f"labels sha256: {sha256_bytes(labels.tobytes())}  (uint8 {labels.shape})")
    print(f"class counts:  {np.bincount(labels, minlength=10).tolist()}")


if __name__ == "__main__":
    main()
