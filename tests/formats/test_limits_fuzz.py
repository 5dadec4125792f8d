"""Limits, and fuzzing: whatever is uploaded, a loader returns a Loaded or raises FormatError
(never RecursionError, MemoryError, a crash or a hang), within a time bound."""

from __future__ import annotations

import contextlib
import json
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import OPS, EngineError
from engine.formats import FormatError, Limits, Loaded, load

TIME_BOUND = 3.0  # seconds for any one load (and run) of a fuzzed input; typically ~1 ms
DEEP = 100_000
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def limit_problem(source, limit: str, **kwargs):
    """Load ``source`` expecting a problem naming ``limit``; return that problem."""
    start = time.perf_counter()
    with pytest.raises(FormatError) as info:
        load(source, **kwargs)
    assert time.perf_counter() - start < TIME_BOUND
    hits = [p for p in info.value.problems if p.limit == limit]
    assert hits, info.value.problems
    assert f"{limit}=" in hits[0].message
    return hits[0]


def outcome(source, **kwargs) -> str:
    """The fuzzing property, checked on one input: 'loaded' or 'error', nothing else."""
    start = time.perf_counter()
    try:
        loaded = load(source, **kwargs)
    except FormatError as exc:
        assert exc.problems
        assert all(isinstance(p.location, str) and p.message for p in exc.problems)
        result = "error"
    else:
        assert isinstance(loaded, Loaded) and loaded.outputs
        with contextlib.suppress(EngineError):  # e.g. log(-1): a DomainError, located
            loaded.compute()
        result = "loaded"
    assert time.perf_counter() - start < TIME_BOUND
    return result


# -- size ---------------------------------------------------------------------------------------
def test_file_size_limit_for_bytes_and_text():
    text = "x = input(1)\noutput x\n" + "#" * 100
    problem = limit_problem(text.encode(), "max_bytes", limits=Limits(max_bytes=100))
    assert problem.location == ""
    assert problem.message == "the file is 122 bytes, over the limit max_bytes=100"
    limit_problem(text, "max_bytes", limits=Limits(max_bytes=100))
    limit_problem("é" * 60, "max_bytes", limits=Limits(max_bytes=100))  # 120 bytes in UTF-8


def test_the_default_size_limit_is_2_mb():
    assert Limits().max_bytes == 2 * 1024 * 1024
    limit_problem(b"#" * (2 * 1024 * 1024 + 1), "max_bytes")


# -- nesting depth: 100,000 levels of every kind give the limit error, promptly ------------------
DEEP_EXPRESSIONS = {
    "brackets": "(" * DEEP + "x" + ")" * DEEP,
    "unclosed brackets": "(" * DEEP,
    "square brackets": "[" * DEEP + "]" * DEEP,
    "unary minus": "-" * DEEP + "x",
    "a sum on one line": "+".join(["x"] * DEEP),
    "a power tower": "**".join(["x"] * DEEP),
    "nested calls": "sin(" * DEEP + "x" + ")" * DEEP,
    "chained calls": "x" + "()" * DEEP,
    "not": "not " * DEEP + "x",
    "attributes": "x" + ".a" * DEEP,
    "lambdas": "lambda: " * DEEP + "x",
    "hex literals": "+".join(["0xE"] * DEEP),
}


@pytest.mark.parametrize("kind", sorted(DEEP_EXPRESSIONS))
def test_deep_expressions_hit_max_depth(kind):
    text = f"x = input(1)\ny = {DEEP_EXPRESSIONS[kind]}\noutput x\n"
    problem = limit_problem(text, "max_depth", format="expr")
    assert problem.location.startswith("2:")


@pytest.mark.parametrize("text", [
    "[" * DEEP + "]" * DEEP,
    '{"a": ' * DEEP + "1" + "}" * DEEP,
    '{"format": "backprop-live/graph", "version": 1, "nodes": ' + "[" * DEEP,
    '{"format": "backprop-live/network", "layers": [{"name": "' + "\\\"[" * 10 + '", "x": '
    + "[" * DEEP,
])
@pytest.mark.parametrize("fmt", [None, "graph", "network"])
def test_deep_json_hits_max_depth(text, fmt):
    problem = limit_problem(text, "max_depth", format=fmt)
    assert problem.location.count(":") == 1  # line:column, as the JSON was not parsed


def test_nesting_within_the_limit_is_fine():
    depth = 150
    text = f"x = input(0.5)\ny = {'sin(' * depth}x{')' * depth}\noutput y\n"
    assert load(text).compute().outputs["y"] > 0
    limit_problem(text, "max_depth", limits=Limits(max_depth=100))


def test_deep_graphs_made_of_statements_are_not_nesting():
    text = "x = input(0.5)\n" + "x += sin(x) * 0.5\n" * 5000 + "output x\n"
    assert load(text).compute().gradients["x"] > 0


@pytest.mark.parametrize("source", [
    "[" * 450 + "]" * 450,
    "x = input(1)\ny = " + "-" * 450 + "x\noutput y\n",
    "x = input(1)\ny = " + "+".join(["x"] * 450) + "\noutput y\n",
])
def test_even_deep_in_the_call_stack_no_recursion_error_escapes(source):
    # Python's parser and json module recurse on the C stack, guarded by the interpreter's
    # recursion limit: started 150 frames short of it, nesting the limits allow can exhaust it.
    def descend(frames):
        return descend(frames - 1) if frames else outcome(source)

    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    assert descend(sys.getrecursionlimit() - depth - 150) in ("loaded", "error")


# -- node count, statements, literal magnitude, problems ------------------------------------------
def test_node_count_limit_in_expressions_and_json():
    text = "x = input(1)\n" + "".join(f"y{i} = x * {i}\n" for i in range(20)) + "output x\n"
    problem = limit_problem(text, "max_nodes", limits=Limits(max_nodes=30))
    assert problem.location == "16:7"  # x, then a const and a product per line: y14's product
    nodes = [{"id": f"x{i}", "op": "input", "value": 1} for i in range(31)]
    doc = {"format": "backprop-live/graph", "version": 1, "nodes": nodes, "outputs": ["x0"]}
    problem = limit_problem(json.dumps(doc), "max_nodes", limits=Limits(max_nodes=30))
    assert problem.location == "/nodes"
    assert problem.message == "the graph lists 31 nodes, over the limit max_nodes=30"


def test_statement_limit():
    text = "x = input(1)\n" * 3 + "output x\n"
    problem = limit_problem(text, "max_statements", limits=Limits(max_statements=3))
    assert problem.location == "4:1"


def test_literal_magnitude_limit():
    problem = limit_problem("x = input(2e15)\noutput x\n", "max_literal")
    assert problem.location == "1:11"
    assert problem.message == ("the number 2e+15 is too large in magnitude, over the limit "
                               "max_literal=1e+15")
    limit_problem("x = input(1)\ny = x * 11\noutput y\n", "max_literal",
                  limits=Limits(max_literal=10))
    limit_problem("x = input(1)\ny = x * " + "9" * 5000 + "\noutput y\n", "max_literal")
    doc = {"format": "backprop-live/graph", "version": 1,
           "nodes": [{"id": "x", "op": "input", "value": 11}], "outputs": ["x"]}
    problem = limit_problem(json.dumps(doc), "max_literal", limits=Limits(max_literal=10))
    assert problem.location == "/nodes/0/value"


def test_problems_are_capped():
    text = "".join(f"y{i} = nope{i}\n" for i in range(200))
    with pytest.raises(FormatError) as info:
        load(text, limits=Limits(max_problems=10))
    assert len(info.value.problems) == 11
    assert info.value.problems[-1].limit == "max_problems"


@pytest.mark.parametrize("field", ["max_bytes", "max_nodes", "max_depth", "max_statements",
                                   "max_problems", "max_literal"])
def test_limits_must_be_positive(field):
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})


# -- fuzzing ------------------------------------------------------------------------------------
@FUZZ
@given(st.text(max_size=300))
def test_any_text(text):
    outcome(text)
    outcome(text, format="expr")


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes(data):
    outcome(data)


TOKENS = ["x", "y", "z", "s", "1", "0", "2.5", "-1e-3", "1e400", "9" * 30, " ", " ", "\n", "\n",
          "=", "+=", "*=", "+", "-", "*", "/", "**", "(", ")", ",", "#", ";", "\\\n", "input(",
          "const(", "output ", "sin", "max", "log", "exp", "pow", "sinh", ".", "[", "'", "é",
          "\t", "\x00", "lambda", "not", "if", "import"]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_token_soup_expressions(tokens):
    outcome("".join(tokens), format="expr")


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["x", "y", "z", "s"]),
                          st.sampled_from(["=", "+=", "*=", "/="]),
                          st.lists(st.sampled_from(TOKENS[:36]), max_size=12)), max_size=8),
       st.lists(st.sampled_from(["x", "y", "z", "s"]), max_size=3))
def test_mostly_valid_expressions(statements, outputs):
    lines = ["x = input(0.5)", "y = const(2)"]
    lines += [f"{name} {op} {''.join(rhs)}" for name, op, rhs in statements]
    if outputs:
        lines.append("output " + ", ".join(outputs))
    outcome("\n".join(lines), format="expr")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=30)


@FUZZ
@given(json_values, st.sampled_from([None, "graph", "network"]))
def test_any_json_value(value, fmt):
    outcome(json.dumps(value), format=fmt)


IDS = st.sampled_from(["a", "b", "c", "d", "x", ""])
graph_nodes = st.fixed_dictionaries(
    {"id": IDS, "op": st.sampled_from([*OPS, "sinh", 3])},
    optional={"args": st.lists(IDS, max_size=3), "name": st.text(max_size=4),
              "value": st.floats() | st.integers(-10, 10) | st.just("1"),
              "group": st.sampled_from(["g", None])})


@FUZZ
@given(st.lists(graph_nodes, max_size=8), st.lists(IDS, max_size=3))
def test_mostly_valid_json_graphs(nodes, outputs):
    doc = {"format": "backprop-live/graph", "version": 1, "nodes": nodes, "outputs": outputs}
    outcome(json.dumps(doc))


NAMES = st.sampled_from(["image", "label", "a", "b", "c"])
layers = st.fixed_dictionaries(
    {"name": NAMES, "type": st.sampled_from(["image", "label", "conv", "relu", "add", "fc",
                                             "softmax", "cross_entropy", "pool"])},
    optional={"input": NAMES, "inputs": st.lists(NAMES, max_size=3),
              "size": st.integers(-1, 4) | st.lists(st.integers(0, 4), max_size=3),
              "classes": st.integers(0, 4), "class": st.integers(-1, 4),
              "weights": st.lists(st.floats(-2, 2), max_size=10),
              "bias": st.floats(-1, 1) | st.lists(st.floats(-1, 1), max_size=4),
              "pixels": st.lists(st.floats(0, 1) | st.lists(st.floats(0, 1), max_size=4),
                                 max_size=6)})


@FUZZ
@given(st.lists(layers, min_size=1, max_size=7), st.integers(0, 3),
       st.lists(NAMES, max_size=2))
def test_mostly_valid_network_specs(spec_layers, seed, outputs):
    doc = {"format": "backprop-live/network", "version": 1, "seed": seed, "layers": spec_layers}
    if outputs:
        doc["outputs"] = outputs
    outcome(json.dumps(doc))
