"""Your own Playground points as CSV text, ``x,y,label`` a line: uploaded text is data only.

Errors say the line (and column) and every limit is named. Classification labels are 1 / -1
(also A / B, as the page's click / shift-click makes them); regression labels any number in
[-MAX_LABEL, MAX_LABEL]. Points must lie in the visible square. A first line ``x,y,label`` is
a header and skipped; blank lines and lines starting with ``#`` are skipped too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .data import SQUARE, PlaygroundDataError, Points

MAX_CSV_BYTES = 200_000
MAX_CSV_POINTS = 2_000
MAX_LABEL = 10.0
CLASSES = {"1": 1.0, "+1": 1.0, "a": 1.0, "-1": -1.0, "b": -1.0}


class CsvError(PlaygroundDataError):
    """A CSV upload that cannot be read; the message starts with where (``line 3: ...``)."""

    def __init__(self, message: str, line: int | None = None, limit: str | None = None):
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line, self.limit = line, limit


@dataclass(frozen=True)
class CsvLimits:
    max_bytes: int = MAX_CSV_BYTES
    max_points: int = MAX_CSV_POINTS


def read_points(text: str | bytes, classification: bool = True,
                limits: CsvLimits | None = None) -> Points:
    limits = limits or CsvLimits()
    size = len(text.encode() if isinstance(text, str) else text)
    if size > limits.max_bytes:
        raise CsvError(f"the CSV is {size:,} bytes, over MAX_CSV_BYTES={limits.max_bytes:,}",
                       limit="MAX_CSV_BYTES")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CsvError(f"the CSV is not UTF-8 text (byte {exc.start})") from None
    rows: list[tuple[float, float, float]] = []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split(",")]
        if not rows and [c.lower() for c in cells] == ["x", "y", "label"]:
            continue
        if len(cells) != 3:
            raise CsvError(f"expected 3 values x,y,label, found {len(cells)}", number)
        if len(rows) >= limits.max_points:
            raise CsvError(f"more than MAX_CSV_POINTS={limits.max_points:,} points", number,
                           "MAX_CSV_POINTS")
        x, y = (_coordinate(cells[k], number, k + 1) for k in (0, 1))
        rows.append((x, y, _label(cells[2], number, classification)))
    if len(rows) < 2:
        raise CsvError("the CSV needs at least 2 points")
    array = np.array(rows, np.float64)
    return Points(array[:, :2].copy(), array[:, 2].copy())


def _number(cell: str, line: int, column: int) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise CsvError(f"column {column}: {cell[:40]!r} is not a number", line) from None
    if not math.isfinite(value):
        raise CsvError(f"column {column}: {cell[:40]!r} is not a finite number", line)
    return value


def _coordinate(cell: str, line: int, column: int) -> float:
    value = _number(cell, line, column)
    if abs(value) > SQUARE:
        raise CsvError(f"column {column}: {value:g} is outside the square "
                       f"[-{SQUARE:g}, {SQUARE:g}]", line)
    return value


def _label(cell: str, line: int, classification: bool) -> float:
    if classification:
        if cell.lower() not in CLASSES:
            raise CsvError(f"column 3: the label {cell[:40]!r} is not a class "
                           "(1 or A, -1 or B)", line)
        return CLASSES[cell.lower()]
    value = _number(cell, line, 3)
    if abs(value) > MAX_LABEL:
        raise CsvError(f"column 3: {value:g} is outside [-{MAX_LABEL:g}, {MAX_LABEL:g}] "
                       "(MAX_LABEL)", line, "MAX_LABEL")
    return value
