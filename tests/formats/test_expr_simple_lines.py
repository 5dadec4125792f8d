"""`a op b` and `f(a)` lines are read without the general walk (issue 18, a third of a big
parse): the same nodes, names, locations, values and gradients as the walk, and every error
still located. Oracles: the walk itself (the shortcut switched off), locations found in the text
with str.find, and values computed here in floats with math."""

from __future__ import annotations

import math
import random
import re

import pytest

from engine.formats import FormatError, expr, expr_lines, load


def generated(n: int, seed: int = 0) -> tuple[str, dict[str, float]]:
    """A random file of simple lines (and a few that are not), with every value in math."""
    rng = random.Random(seed)
    lines, values = [], {}
    for k in range(4):
        values[f"x{k}"] = rng.uniform(-1, 1)
        lines.append(f"x{k} = input({values[f'x{k}']!r})")
    for k in range(n):
        names = list(values)
        a, b = rng.choice(names[-20:]), rng.choice(names[-20:])
        shape = rng.randrange(5)
        if shape == 0:
            lines.append(f"v{k} = {a} + {b}")
            values[f"v{k}"] = values[a] + values[b]
        elif shape == 1:
            lines.append(f"v{k} =  {a}*{b}")
            values[f"v{k}"] = values[a] * values[b]
        elif shape == 2:
            lines.append(f"v{k} = tanh({a})")
            values[f"v{k}"] = math.tanh(values[a])
        elif shape == 3:
            lines.append(f"v{k} = {a} - sin({b}) * 2")  # not simple: the walk reads it
            values[f"v{k}"] = values[a] - math.sin(values[b]) * 2
        else:
            lines.append(f"v{k} = {a}\nv{k} += tanh({b})")
            values[f"v{k}"] = values[a] + math.tanh(values[b])
    lines.append(f"output v{n - 1}")
    return "\n".join(lines) + "\n", values


def loaded_with_and_without_the_shortcut(text, monkeypatch):
    fast = load(text, "expr")
    with monkeypatch.context() as m:
        m.setattr(expr.Expression, "_simple", lambda self, tree: None)
        m.setattr(expr_lines, "SIMPLE_LINE", re.compile(r"(?!)"))  # nor read from the text
        walked = load(text, "expr")
    return fast, walked


def test_simple_lines_make_what_the_walk_makes(monkeypatch):
    text, values = generated(400)
    fast, walked = loaded_with_and_without_the_shortcut(text, monkeypatch)
    fp, wp = fast.graph.program(), walked.graph.program()
    assert [(n.operator, n.name) for n in fp.nodes] == [(n.operator, n.name) for n in wp.nodes]
    assert [fast.locations.get(n) for n in fp.nodes] == [walked.locations.get(n) for n in wp.nodes]
    fast.compute()
    walked.compute()
    assert fp.values.tolist() == wp.values.tolist() and fp.grads.tolist() == wp.grads.tolist()
    for name, want in values.items():
        assert fast.names[name].forward == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_a_simple_line_s_node_is_located_at_its_operator_expression():
    text = "a = input(0.5)\nb = input(2)\nc =   a * b\nd = sin(c)\nd += tanh(a)\noutput d\n"
    loaded = load(text, "expr")
    lines = text.split("\n")
    where = {n.name: loaded.locations[n] for n in loaded.graph.program().nodes if n.name}
    assert where["c"] == f"3:{lines[2].find('a * b') + 1}"
    assert where["d"] == f"5:{lines[4].find('d') + 1}"  # the update's node: the statement
    sin = next(n for n in loaded.graph.program().nodes if n.operator == "sin")
    assert loaded.locations[sin] == f"4:{lines[3].find('sin') + 1}"
    loaded.compute()
    assert loaded.outputs["d"].forward == pytest.approx(math.sin(1.0) + math.tanh(0.5))


def test_undefined_names_in_simple_lines_are_still_located():
    text = "a = input(0.5)\nc = a * nope\nd = tanh(later)\nlater = a + a\noutput c, d\n"
    with pytest.raises(FormatError) as caught:
        load(text, "expr")
    found = {p.location: p.message for p in caught.value.problems}
    assert "nope is used on line 2 but never defined" in found["2:9"]
    assert "later is used on line 3 but defined only later, on line 4" in found["3:10"]


@pytest.mark.parametrize("line", [
    "if = a + b",  # a keyword
    "sin = a + b",  # a function's name
    "a = b * b",  # already defined
    "c = a + None",  # a keyword as an operand
    "c = a + nope",  # undefined
    "c = nope(a)",  # no such function
    "c = input(a)",  # a leaf takes a number
    "c = pow(a)",  # an operator of two operands, given one
    "c = a // b",  # not an operator of the language
    "c = a + b  # with a comment",
    "c\t=\ta\t*\tb",
    "c = sin( a )",
    "a += tanh(b)",
    "nope += b",
])
def test_lines_read_from_the_text_say_what_the_parser_says(line, monkeypatch):
    """Lines of the simple shape are read from the text unless something is wrong or unusual;
    each of these gives the nodes, or the problems at the locations, of the parser's reading."""
    text = f"a = input(0.5)\nb = input(2)\n{line}\noutput a\n"

    def outcome(loading):
        try:
            loaded = loading()
        except FormatError as refused:
            return sorted((p.location, p.message) for p in refused.problems)
        program = loaded.graph.program()
        return [(n.operator, n.name, loaded.locations.get(n)) for n in program.nodes]
    fast = outcome(lambda: load(text, "expr"))
    with monkeypatch.context() as m:
        m.setattr(expr_lines, "SIMPLE_LINE", re.compile(r"(?!)"))
        parsed = outcome(lambda: load(text, "expr"))
    assert fast == parsed


def test_a_generated_files_simple_lines_skip_the_parser(monkeypatch):
    """Of a chain's `x += tanh(x)` lines none goes to Python's parser: only the input line."""
    parsed: list[str] = []
    real = expr.ast.parse

    def counting(source, *args, **kwargs):
        parsed.extend(source.splitlines())
        return real(source, *args, **kwargs)
    monkeypatch.setattr(expr.ast, "parse", counting)
    loaded = load("x = input(0.5)\n" + "x += tanh(x)\n" * 1000 + "output x\n", "expr")
    assert parsed == ["x = input(0.5)"]
    value = 0.5
    for _ in range(1000):
        value += math.tanh(value)
    assert loaded.compute().outputs["x"] == pytest.approx(value, rel=1e-12)
