"""The expression language: every example against closed forms written with ``math`` (values,
and central finite differences of those closed forms for gradients), the language's features,
and each kind of error with its exact line:column."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from engine import DomainError, EngineError
from engine.formats import FormatError, load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def reference(v):
    x1, x2, x3 = v["x1"], v["x2"], v["x3"]
    return {"y": (math.sin(x1 + 1) + math.cos(2 * x2)) * math.tan(math.log(x3))
            + (math.sin(x2 + 1) + math.cos(2 * x1)) * math.exp(1 + math.sin(x3))}


def neuron(v):
    return {"y": sigmoid(v["w1"] * 1.5 + v["w2"] * 2.0 + v["b"])}


def fanout(v):
    x = v["x"]
    return {"y": x * x + math.sin(x) + math.exp(-x) / 2}


def maxmin(v):
    a, b, c = v["a"], v["b"], v["c"]
    return {"y": max(a, b) * min(b, c) + max(c - 1, 0.0) + abs(b)}


def functions(v):
    u, w = v["u"], v["v"]
    p = u ** 2 + w ** 0.5 - w / 2
    q = (1 / w) * math.sqrt(w) + (-u) + math.tan(u) * math.tanh(w)
    r = math.log(w) * math.exp(-u) + math.cos(u) - math.sin(w) + max(u, 0.0) - abs(u - w)
    s = sigmoid(p - q) + max(u, w) * min(u, w)
    return {"total": r + s, "p": p}


# file -> (closed form, starting values of its inputs, as written in the file)
CLOSED_FORMS = {
    "reference.expr": (reference, {"x1": 0.3, "x2": 0.7, "x3": 1.4}),
    "neuron.expr": (neuron, {"w1": 0.8, "w2": -0.4, "b": 0.1}),
    "fanout.expr": (fanout, {"x": 1.5}),
    "maxmin.expr": (maxmin, {"a": 0.5, "b": -1.25, "c": 2.0}),
    "functions.expr": (functions, {"u": 0.6, "v": 1.7}),
}


def central_difference(f, values: dict, name: str) -> float:
    """d f / d values[name], fourth-order central difference in float64 (error ~1e-11)."""
    h = 1e-3 * max(1.0, abs(values[name]))

    def at(t):
        return sum(f({**values, name: t}).values())  # back-prop differentiates the sum

    x = values[name]
    return (8 * (at(x + h) - at(x - h)) - (at(x + 2 * h) - at(x - 2 * h))) / (12 * h)


def load_file(name: str, **kwargs):
    return load((EXAMPLES / name).read_bytes(), filename=name, **kwargs)


def test_every_expr_example_has_a_closed_form():
    assert {p.name for p in EXAMPLES.glob("*.expr")} == set(CLOSED_FORMS)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_example_values_and_gradients_match_closed_form(name):
    f, values = CLOSED_FORMS[name]
    loaded = load_file(name)
    assert loaded.format == "expr"
    assert list(loaded.inputs) == list(values)
    result = loaded.compute()
    expected = f(values)
    assert result.outputs.keys() == expected.keys()
    for key, value in expected.items():
        assert result.outputs[key] == pytest.approx(value, rel=1e-13, abs=1e-13)
    for key in values:
        assert result.gradients[key] == pytest.approx(
            central_difference(f, values, key), rel=1e-8, abs=1e-9), key


def test_reference_expr_is_the_issue_text_verbatim():
    assert (EXAMPLES / "reference.expr").read_text() == (
        "# the reference README's first example\n"
        "x1 = input(0.3)\n"
        "x2 = input(0.7)\n"
        "x3 = input(1.4)\n"
        "y = (sin(x1 + 1) + cos(2*x2)) * tan(log(x3)) + (sin(x2 + 1) + cos(2*x1)) * "
        "exp(1 + sin(x3))\n"
        "output y\n")


def test_reference_y_equals_the_closed_form():
    y = load_file("reference.expr").compute().outputs["y"]
    x1, x2, x3 = 0.3, 0.7, 1.4
    closed = (math.sin(x1 + 1) + math.cos(2 * x2)) * math.tan(math.log(x3)) + \
        (math.sin(x2 + 1) + math.cos(2 * x1)) * math.exp(1 + math.sin(x3))
    assert y == pytest.approx(closed, rel=1e-14)


def test_fanout_gradient_is_the_sum_over_paths():
    x = 1.5
    dy = load_file("fanout.expr").compute().gradients["x"]
    assert dy == pytest.approx(2 * x + math.cos(x) - math.exp(-x) / 2, rel=1e-13)


# -- the language --------------------------------------------------------------------------------
def run(text: str):
    return load(text, "expr").compute()


def test_numbers_in_every_notation():
    result = run("a = input(-1.5e-3)\nb = input(2)\nc = input(.5)\nd = input(+7.25E+1)\n"
                 "y = a + b + c + d + 1_000 + 0x10\noutput y\n")
    assert result.outputs["y"] == pytest.approx(-1.5e-3 + 2 + 0.5 + 72.5 + 1000 + 16)


def test_const_is_not_an_input_and_gets_no_gradient_entry():
    loaded = load("w = input(3)\nx = const(2)\nk = 5\ny = w * x * k\noutput y\n")
    assert list(loaded.inputs) == ["w"]
    assert {n.name for n in loaded.consts} == {"x", "k"}
    assert loaded.compute().gradients == {"w": 10.0}


def test_names_show_on_the_page():
    loaded = load("x = input(1)\nh = sin(x) * 2\ny = h + x\noutput y\n")
    described = loaded.graph.describe()
    names = {n["name"] for n in described["nodes"]}
    assert {"x", "h", "y", "2"} <= names
    assert loaded.names["h"].operator == "*"


def test_precedence_and_unary_minus_follow_python():
    result = run("x = input(3)\ny = -x ** 2 + 2 * x ** 2 ** 1 / 4 - (1 - x)\noutput y\n")
    x = 3.0
    assert result.outputs["y"] == pytest.approx(-(x ** 2) + 2 * x ** 2 / 4 - (1 - x))


@pytest.mark.parametrize(("op", "expected"), [("+=", 5.0), ("-=", 1.0), ("*=", 6.0),
                                              ("/=", 1.5), ("**=", 9.0)])
def test_augmented_assignment_updates_a_name(op, expected):
    result = run(f"x = input(3)\ns = x\ns {op} 2\noutput s\n")
    assert result.outputs["s"] == pytest.approx(expected)


def test_updates_make_new_nodes_named_like_the_variable():
    loaded = load("x = input(2)\ns = x * x\ns += x\ns += 1\noutput s\n")
    assert loaded.compute().outputs["s"] == 7.0
    named_s = [n for n in loaded.graph.nodes() if n.name == "s"]
    assert len(named_s) == 3


def test_several_outputs_and_an_alias():
    result = run("x = input(2)\na = x * 3\nb = a\noutput a, b\noutput a\n")
    assert result.outputs == {"a": 6.0, "b": 6.0}
    assert result.gradients == {"x": 3.0}  # a and b are one node, counted once


def test_literals_are_shared_consts():
    loaded = load("x = input(2)\ny = x * 2 + 2 * x + 2\noutput y\n")
    twos = [n for n in loaded.consts if n.name == "2"]
    assert len(twos) == 1


def test_statements_across_lines_and_separated_by_semicolons():
    text = ("x = input(1); z = input(2)\n"
            "y = (x +\n     sin(z)\n     )  # continued\n"
            "    w = y * 2 \\\n  + 1\n"
            "output w\n")
    assert run(text).outputs["w"] == pytest.approx(2 * (1 + math.sin(2)) + 1)


def test_unicode_names_and_windows_newlines():
    loaded = load("α = input(1)\r\nβ = α * 2\r\noutput β\r\n".encode())
    assert loaded.compute().outputs == {"β": 2.0}


def test_bytes_with_bom_are_read():
    assert load("\ufeffx = input(1)\noutput x\n".encode()).compute().outputs == {"x": 1.0}


# -- errors, each with its exact location ---------------------------------------------------------
def problems(text: str, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(FormatError) as info:
        load(text, "expr", **kwargs)
    assert isinstance(info.value, EngineError)
    return [(p.location, p.message) for p in info.value.problems]


def test_undefined_name_says_where():
    text = "x1 = input(0.3)\ny = x1 + x3\noutput y\n"
    assert problems(text) == [("2:10", "x3 is used on line 2 but never defined")]


def test_name_defined_later_says_so():
    text = "x = input(1)\ny = x + z\nz = x * 2\noutput y\n"
    assert problems(text) == [("2:9", "z is used on line 2 but defined only later, on line 3")]


def test_an_undefined_name_is_reported_once_and_broken_names_do_not_cascade():
    text = "x = input(1)\na = q + 1\nb = a * q\noutput b\n"
    assert problems(text) == [("2:5", "q is used on line 2 but never defined")]


def test_wrong_arity():
    assert problems("x = input(1)\ny = 1 + sin(x, x)\noutput y\n") == [
        ("2:9", "sin takes 1 argument, but 2 were given")]
    assert problems("x = input(1)\ny = max(x)\noutput y\n") == [
        ("2:5", "max takes 2 arguments, but 1 was given")]


def test_unknown_function_suggests_a_close_one():
    [(where, message)] = problems("x = input(1)\ny = sinh(x)\noutput y\n")
    assert where == "2:5"
    assert message.startswith("unknown function sinh; did you mean sin?")


@pytest.mark.parametrize(("text", "where", "start"), [
    ("x = input(1)\ny = (x +\noutput y\n", "2:5", "syntax error: '(' was never closed"),
    ("x = input(1)\ny = 2x\noutput y\n", "2:5", "syntax error: invalid decimal literal"),
    ("x = input(1)\ny = sin x\noutput y\n", "2:9", "syntax error: invalid syntax"),
    ("x = input(1)\n  y = x +\noutput y\n", "2:10", "syntax error: invalid syntax"),
    ("é = input(1)\ny = é + + \noutput y\n", "2:11", "syntax error: invalid syntax"),
])
def test_syntax_errors_have_line_and_column(text, where, start):
    found = problems(text)
    assert found[0][0] == where, found
    assert found[0][1].startswith(start), found
    assert len(found) == 1, found  # and what the line would define raises no other problem


def test_syntax_errors_on_several_lines_are_all_reported():
    found = problems("a = input(1)\nb = a +\nc = 2a\nd = a $ 2\noutput a\n")
    assert [w for w, _ in found] == ["2:8", "3:5", "4:7"]


@pytest.mark.parametrize(("text", "where", "fragment"), [
    ("y = x ^ 2", "2:5", "the operator ^ is not part of the expression language; for powers"),
    ("y = x // 2", "2:5", "the operator //"),
    ("y = x % 2", "2:5", "the operator %"),
    ("y = x.real", "2:5", "a dot (attribute access) is not part of the expression language"),
    ("y = x[0]", "2:5", "square brackets"),
    ("y = x if x else x", "2:5", "if/else"),
    ("y = x < 2", "2:5", "a comparison"),
    ("y = 'x'", "2:5", "text in quotes is not part of the expression language"),
    ("y = 1j", "2:5", "1j is not a number"),
    ("y = True + x", "2:5", "True is not a number"),
    ("import os", "2:1", "a Python Import statement is not part of the expression language"),
    ("def f(): pass", "2:1", "a Python FunctionDef statement"),
    ("sin(x)", "2:1", "this line computes a value but does not name it"),
    ("a, b = x, x", "2:1", "assign to one plain name at a time"),
    ("a = b = x", "2:1", "assign to one plain name at a time"),
    ("y = input(x)", "2:11", "input() takes a number written out"),
    ("y = input()", "2:5", "input() takes one number, the starting value"),
    ("y = 2 * input(1)", "2:9", "input() declares a value on a line of its own"),
    ("y = sin", "2:5", "sin is a function: call it"),
    ("sin = input(1)", "2:1", "sin is the name of a function or keyword"),
    ("x = input(2)", "2:1", "x is already defined on line 1; use a new name, or `x += ...`"),
    ("y = sin(x=1)", "2:5", "sin() takes its arguments by position"),
    ("y = x.__class__(1)", "2:5", "only functions named directly can be called"),
    ("y = 1e400 * x", "2:5", "this number is too large: numbers must be finite"),
    ("y = x\x00", "2:6", "the character U+0000 is not allowed"),
])
def test_each_kind_of_error(text, where, fragment):
    found = problems(f"x = input(1)\n{text}\noutput x\n")
    assert found[0][0] == where, found
    assert fragment in found[0][1], found


def test_output_errors():
    assert problems("x = input(1)\noutput y\n") == [("2:8", "y is used on line 2 but never "
                                                            "defined")]
    [(where, message)] = problems("x = input(1)\noutput\n")
    assert where == "2:1" and "needs a name" in message
    [(where, message)] = problems("x = input(1)\noutput x y\n")
    assert where == "2:10" and "separated by commas" in message
    [(where, message)] = problems("x = input(1)\noutput = x\noutput x\n")
    assert where == "2:1" and "reserved" in message


def test_a_file_without_output_says_what_to_add():
    [(where, message)] = problems("x = input(1)\ny = x * 2\n")
    assert where == "3:1"
    assert "output y" in message


def test_several_problems_come_together_in_file_order():
    found = problems("a = input(1)\nb = a + c\nd = foo(a)\ne = sin(a, a)\noutput b\n")
    assert [w for w, _ in found] == ["2:9", "3:5", "4:5"]


def test_columns_count_characters_not_bytes():
    assert problems("ééé = input(1)\ny = ééé + ü\noutput y\n") == [
        ("2:11", "ü is used on line 2 but never defined")]


def test_uploaded_text_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    text = (f"x = input(1)\ny = __import__('os').system('touch {marker}')\n"
            f"z = exec('open(\"{marker}\", \"w\")')\noutput x\n")
    with pytest.raises(FormatError):
        load(text)
    assert not marker.exists()


def test_domain_errors_point_at_the_line():
    loaded = load("x = input(-1)\ny = 2 * log(x)\noutput y\n")
    with pytest.raises(DomainError) as info:
        loaded.compute()
    assert loaded.locate(info.value.node) == "2:9"
