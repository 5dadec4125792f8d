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


def test_errors_in_two_chunks_are_each_located():
    """A chunk that does not parse is read statement by statement; the chunks around it still
    go whole, and an error in each broken chunk keeps its own line."""
    n = 4 * expr.PARSE_CHUNK
    lines = ["x0 = input(0.5)"] + [f"x{i} = x{i - 1} * 2" for i in range(1, n)]
    lines[5] = "x5 = x4 *"
    lines[3 * expr.PARSE_CHUNK + 1] = "x9999 = (x1"
    with pytest.raises(FormatError) as refused:
        load("\n".join([*lines, f"output x{n - 1}"]) + "\n", "expr")
    assert "6:" in str(refused.value)
    assert f"{3 * expr.PARSE_CHUNK + 2}:" in str(refused.value)


def test_the_trees_of_one_chunk_at_a_time_are_held_while_a_long_file_is_read():
    """Python's trees of the whole file, alive at once and interleaved with the nodes, took ~6×
    the parsed graph's memory at the peak (and left ~2 kB a node resident); a chunk at a time,
    the peak stays under 3× what the graph holds."""
    import tracemalloc

    n = 6_000
    lines = [f"v{i} = input({i % 7})" for i in range(16)]
    lines += [f"v{i} = v{(i * 7) % i} * v{(i * 13) % i} + v{i - 1}" for i in range(16, n)]
    text = "\n".join([*lines, f"output v{n - 1}"]) + "\n"
    tracemalloc.start()
    try:
        loaded = load(text, "expr")
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(loaded.graph.program().nodes) > n
    assert peak < 3 * held, f"peak {peak:,} B for {held:,} B held"
