"""micrograd code pasted unchanged: read by the whitelist parser (never run), computed by the
engine, and checked against PyTorch float64 doing the same; notes for what is ignored; each
construct that is code refused at its line and column with the form to write instead."""

from __future__ import annotations

import math

import pytest

from engine.formats import FormatError, load
from tests.micrograd_snippets import LECTURE_NEURON, MORE_OPS, REBINDING, SNIPPETS

TOL = 1e-9


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_values_and_gradients_equal_pytorchs(name):
    text, oracle, output = SNIPPETS[name]
    expected_output, expected_gradients = oracle()
    result = load(text).compute()
    assert list(result.outputs) == [output]
    assert close(result.outputs[output], expected_output), (result.outputs, expected_output)
    assert set(result.gradients) == set(expected_gradients)
    for key, value in expected_gradients.items():
        assert close(result.gradients[key], value), (key, result.gradients[key], value)


def test_the_lecture_neuron_shows_its_labels():
    loaded = load(LECTURE_NEURON)
    shown = {n.name for n in loaded.graph.program().nodes if n.operator not in ("const",)}
    assert {"x1", "x2", "w1", "w2", "b", "x1*w1", "x2*w2", "x1*w1 + x2*w2", "n",
            "o"} <= shown
    assert list(loaded.outputs) == ["o"]
    assert list(loaded.inputs) == ["x1", "x2", "w1", "w2", "b"]


def test_a_rebound_name_moves_and_the_page_tells_the_versions_apart():
    loaded = load(REBINDING)
    names = [n.name for n in loaded.graph.program().nodes]
    for version in ("x", "x′", "x″", "x‴", "weight"):
        assert names.count(version) == 1, (version, names)
    assert list(loaded.inputs) == ["x", "weight"]
    # each name shown finds its node; the variable x is the last version
    assert loaded.names["x"].operator == "input" and loaded.names["x‴"] is loaded.outputs["x‴"]
    assert loaded.names["w"] is loaded.inputs["weight"]


def test_many_rebindings_keep_names_short():
    text = "x = Value(1.0)\n" + "x = x * 1.0001\n" * 2000 + "x.backward()\n"
    loaded = load(text)
    assert list(loaded.outputs) == ["x⁽²⁰⁰⁰⁾"]
    assert close(loaded.compute().outputs["x⁽²⁰⁰⁰⁾"], 1.0001 ** 2000)


def test_an_expression_file_keeps_its_one_definition_rule():
    with pytest.raises(FormatError) as info:
        load("x = input(1)\nx = x * 2\noutput x\n")
    assert str(info.value.problems[0]).startswith("2:1: x is already defined on line 1")


def test_imports_and_prints_are_accepted_and_reported_as_notes():
    loaded = load("from micrograd.engine import Value\nimport micrograd\nx = Value(3.0)\n"
                  "y = x * x; print(y)\ny.backward()\n")
    assert [(n.location, n.message.split(" is ignored")[0]) for n in loaded.notes] == [
        ("1:1", "`from micrograd.engine import Value`"),
        ("2:1", "`import micrograd`"),
        ("4:12", "print(...)"),
    ]
    assert loaded.compute().gradients == {"x": 6.0}
    assert load(MORE_OPS).notes == []


def test_notes_are_bounded():
    loaded = load("x = Value(1.0)\n" + "print(x)\n" * 120 + "x.backward()\n")
    assert len(loaded.notes) == 51
    assert loaded.notes[-1].message == "and 70 more notes like these"


REFUSALS = [
    ("class Neuron:\n    pass", "2:1",
     "class definitions are code: build the network in the Playground or as a network spec"),
    ("def f(v):\n    return v.relu()", "2:1", "function definitions are code; write each step"),
    ("for i in range(3):\n    x = x * 2", "2:1", "loops are code: write each step as a line"),
    ("while x:\n    x = x * 2", "2:1", "loops are code"),
    ("if x:\n    y = x", "2:1", "if statements are code"),
    ("y = x.foo()", "2:5", "the methods .relu() .tanh() .exp() .log() .sigmoid(), like "
                           "x.relu(); .foo() is not one of them"),
    ("y = x.relu(2)", "2:5", ".relu() takes no arguments: write x.relu() or relu(x)"),
    ("y = x.data * 2", "2:5", "x.data reads a number out of a Value, which the graph cannot "
                              "follow: compute with x itself"),
    ("y = x + x.grad", "2:9", "x.grad reads a number out of a Value"),
    ("y = x.relu", "2:5", "x.relu is a method: call it, like x.relu() or relu(x)"),
    ("x.data += -0.01 * x.grad", "2:1", "is a descent step, which is code"),
    ("x.data = 1.0", "2:1", "setting x.data is code: give the starting value in Value(...)"),
    ("x.grad = 0.0", "2:1", "x.grad is computed by back-prop, not set"),
    ("x.label = y", "2:11", "a label is text in quotes, like `n.label = 'n'`"),
    ("x.name = 'n'", "2:1", "only a label can be set"),
    ("y = x * Value(2.0)", "2:9", "Value(...) makes an input on a line of its own"),
    ("y = Value(2.0, grad=1)", "2:5", "Value() takes one number and an optional label"),
    ("y = Value(x)", "2:11", "Value() takes a number written out"),
    ("y = Value(1.0, label=f'{x}')", "2:23", "text in quotes is not part of the expression "
                                            "language"),
    ("y = Value(1.0, label='''x''')", "2:22", "no backslash, prefix or triple quotes"),
    ("y = Value(1.0, label='x' + 'y')", "2:22", "a label is text in quotes"),
    ("y = Value(1.0, label='" + "a" * 201 + "')", "2:22", "over the limit max_label=200"),
    ("y = 'x'", "2:5", "text in quotes is not part of the expression language"),
    ("(x * 2).backward()", "2:1", "call backward() on a name, like `y.backward()`"),
    ("x.backward(1)", "2:1", "backward() takes no arguments"),
    ("y = x.backward()", "2:5", "backward() marks an output on a line of its own"),
    ("z.backward()", "2:1", "z is used on line 2 but never defined"),
    ("import os", "2:1", "a Python Import statement is not part of the expression language: "
                         "nothing is imported (only `from micrograd.engine import Value`"),
    ("from micrograd.nn import MLP", "2:1", "micrograd's Neuron, Layer and MLP are classes, "
                                            "which are code"),
    ("from micrograd.engine import Value as V", "2:1", "a Python ImportFrom statement"),
    ("x.zero_grad()", "2:1", "this line computes a value but does not name it"),
]


@pytest.mark.parametrize(("text", "where", "fragment"), REFUSALS,
                         ids=[r[0].split("\n")[0][:30] for r in REFUSALS])
def test_each_construct_that_is_code_is_refused_where_it_is(text, where, fragment):
    with pytest.raises(FormatError) as info:
        load(f"x = Value(1.0)\n{text}\nx.backward()\n")
    problem = info.value.problems[0]
    assert problem.location == where, info.value.problems
    assert fragment in problem.message, problem.message


def test_pasted_code_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    text = (f"x = Value(1.0)\nprint(open('{marker}', 'w').write('x'))\n"
            f"import os; os.system('touch {marker}')\n"
            f"y = x.__class__.__init__(open('{marker}', 'w'))\n"
            f"class A:\n    z = open('{marker}', 'w')\n"
            "x.backward()\n")
    with pytest.raises(FormatError) as info:
        load(text)
    assert [p.location for p in info.value.problems] == ["3:1", "3:12", "4:5", "5:1"]
    assert not marker.exists()
    # print(...) alone is accepted, its argument never run
    loaded = load(f"x = Value(1.0)\nprint(open('{marker}', 'w'))\nx.backward()\n")
    assert [n.location for n in loaded.notes] == ["2:1"]
    assert not marker.exists()


def test_labels_may_hold_any_plain_text():
    loaded = load("a = Value(1.0, label='#1 (first)')\nb = Value(2.0, label=\"it's\")\n"
                  "c = a * b; c.label = 'a·b — ünïcode'\nc.backward()\n")
    assert list(loaded.inputs) == ["#1 (first)", "it's"]
    assert list(loaded.outputs) == ["a·b — ünïcode"]
    assert loaded.compute().gradients == {"#1 (first)": 2.0, "it's": 1.0}


def test_text_the_scanner_cannot_read_as_python_does_is_never_parsed():
    # A backslash could end a string where Python does not: the brackets after it would escape
    # the depth bound. Such text is refused before parsing, whatever follows it.
    deep = "(" * 400 + "x" + ")" * 400
    with pytest.raises(FormatError) as info:
        load(f"x = Value(1.0)\ny = x + 'a\\'' + {deep}\ny.backward()\n")
    assert [(p.location, p.message.split(":")[0]) for p in info.value.problems] == [
        ("2:9", "text in quotes is not part of the expression language")]
    with pytest.raises(FormatError) as info:
        load("x = Value(1.0)\noutput 'x'\n")
    assert str(info.value.problems[0]).startswith("2:8: text in quotes is not part of")
