"""The one error type the loaders raise, carrying every problem found with where it is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from ..errors import EngineError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file.

    ``location`` is "line:column" (both from 1) for expression text and for JSON that could not
    be parsed, a JSON pointer such as "/nodes/3/args/0" for a problem in a JSON document's
    structure, and "" for the file as a whole. ``limit`` names the ``Limits`` field that was
    exceeded, if that is what went wrong.
    """

    location: str
    message: str
    limit: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class FormatError(EngineError, ValueError):
    """An uploaded graph definition could not be loaded; ``problems`` says what and where."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        if not self.problems:  # never raised empty, but never crash building a message either
            self.problems = [Problem("", "the file could not be loaded")]
        super().__init__("\n".join(str(p) for p in self.problems))


class Collector:
    """Gathers problems up to ``limit`` of them; more than that stops the load at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.problems: list[Problem] = []

    def add(self, location: str, message: str, limit: str | None = None) -> None:
        self.problems.append(Problem(location, message, limit))
        if len(self.problems) >= self.limit:
            self.problems.append(Problem("", f"stopped after {self.limit} problems "
                                             f"(max_problems={self.limit})", "max_problems"))
            raise FormatError(self.problems)

    def fail(self, location: str, message: str, limit: str | None = None) -> NoReturn:
        """Record a problem that makes going on pointless, and raise."""
        self.problems.append(Problem(location, message, limit))
        raise FormatError(self.problems)

    def check(self) -> None:
        if self.problems:
            raise FormatError(self.problems)

    def __bool__(self) -> bool:
        return bool(self.problems)
