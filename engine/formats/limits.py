"""Limits on what an uploaded file may ask of the server, and the problems they report.

Every limit has a default that comfortably fits the examples and the reference ResNet, can be
changed by constructing ``Limits(...)``, and is named with its value in the message when hit, so
that whoever reads the error knows which knob to turn (or which part of their file to shrink).
"""

from __future__ import annotations

from dataclasses import dataclass

from .problems import Problem


@dataclass(frozen=True)
class Limits:
    # Bytes of the uploaded file (UTF-8). 2 MB holds a 100,000-line expression file.
    max_bytes: int = 2 * 1024 * 1024
    # Engine nodes the loaded graph may have; the reference ResNet has about 27,000.
    max_nodes: int = 200_000
    # How deeply brackets, operators and JSON arrays/objects may nest. Python's own parser (used
    # for expressions) and json module recurse on the C stack, so this must stay well below
    # ~1,000; long *chains* of statements (x = sin(x) on 100,000 lines) are not nesting.
    max_depth: int = 500
    # Largest magnitude a number written in the file may have. Bigger numbers are almost always
    # typos, and overflow float64 after a handful of operations (exp, *, pow).
    max_literal: float = 1e15
    # Statements in an expression file (each is parsed separately, ~10 µs apiece).
    max_statements: int = 200_000
    # Problems collected before giving up: one typo should not produce a thousand messages.
    max_problems: int = 50
    # Characters of a micrograd label (label='x1', n.label = 'n'): a name on the page.
    max_label: int = 200

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_nodes", "max_depth", "max_statements", "max_problems",
                     "max_label"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive integer, got {value!r}")
        if not self.max_literal > 0:
            raise ValueError(f"Limits.max_literal must be > 0, got {self.max_literal!r}")


DEFAULT_LIMITS = Limits()


def exceeded(location: str, limit: str, value: float, what: str) -> Problem:
    """A problem saying ``what`` went over the limit ``limit`` (whose value is ``value``)."""
    shown = f"{value:g}" if isinstance(value, float) else f"{value}"
    return Problem(location, f"{what}, over the limit {limit}={shown}", limit=limit)
