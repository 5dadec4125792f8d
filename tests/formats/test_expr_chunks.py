"""Long expression files are parsed PARSE_CHUNK statements per ast.parse call (each call holds
the GIL, so the server's other clients wait at most one chunk), with the same results and the
same located errors as any file."""

from __future__ import annotations

import math

import pytest

from engine.formats import expr, load
from engine.formats.problems import FormatError


def test_a_long_file_is_parsed_in_chunks_and_errors_keep_their_lines():
    """ast.parse holds the GIL: a long file goes PARSE_CHUNK statements at a time (the server's
    other clients wait at most one chunk), and an error past the first chunk is still located."""
    n = 3 * expr.PARSE_CHUNK + 7
    lines = ["x0 = input(0.5)"] + [f"x{i} = sin(x{i - 1}) + 1" for i in range(1, n)]
    good = "\n".join([*lines, f"output x{n - 1}"]) + "\n"
    loaded = load(good, "expr")
    value = 0.5
    for _ in range(1, n):
        value = math.sin(value) + 1
    assert loaded.compute().outputs[f"x{n - 1}"] == pytest.approx(value, rel=1e-12)
    broken = list(lines)
    broken[2 * expr.PARSE_CHUNK + 3] = "x9999 = sin(x1 +"
    with pytest.raises(FormatError) as refused:
        load("\n".join([*broken, f"output x{n - 1}"]) + "\n", "expr")
    assert f"{2 * expr.PARSE_CHUNK + 4}:" in str(refused.value)
