"""The JSON graph format and export: the example against math, finite differences for every
example file, round trips through export, the schema as the contract, and each kind of error at
its JSON pointer."""

from __future__ import annotations

import copy
import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine import OPS, graph, node
from engine.examples import reference_expression
from engine.formats import FormatError, Limits, export_graph, load
from engine.formats.json_graph import node_matches_schema

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((ROOT / "engine" / "formats" / "graph.schema.json").read_text())
# The exported ResNet (36,000 nodes) is 2.9 MB of JSON, over the default 2 MB upload limit.
BIG = Limits(max_bytes=8 * 1024 * 1024)
ALL_EXAMPLES = sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in (".expr", ".json"))


def doc(nodes, outputs, **extra) -> str:
    return json.dumps({"format": "backprop-live/graph", "version": 1, "nodes": nodes,
                       "outputs": outputs, **extra})


def problems(text, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(FormatError) as info:
        load(text, **kwargs)
    return [(p.location, p.message) for p in info.value.problems]


def engine_fd_gradients(loaded, names, h=1e-5) -> dict:
    """Central differences of the sum of the outputs, moving one input at a time.

    Independent of back-prop: only forward passes are used. Values go in through graph.feed
    (node.feed makes the engine return batches of one; see Loaded.run).
    """
    g = loaded.graph
    order = list(loaded.inputs)
    start = [float(np.asarray(loaded.inputs[k].forward).reshape(-1)[0]) for k in order]
    consts = [float(np.asarray(c.forward).reshape(-1)[0]) for c in loaded.consts]

    def total(values):
        g.feed(values, consts)
        g.compute_forward()
        return sum(float(np.asarray(n.forward).reshape(-1)[0])
                   for n in dict.fromkeys(loaded.outputs.values()))

    found = {}
    for name in names:
        i = order.index(name)
        step = h * max(1.0, abs(start[i]))
        up, down = list(start), list(start)
        up[i] += step
        down[i] -= step
        found[name] = (total(up) - total(down)) / (2 * step)
    g.feed(start, consts)
    return found


# -- the example --------------------------------------------------------------------------------
def test_reference_graph_matches_the_closed_form_and_the_expression():
    loaded = load((EXAMPLES / "reference.graph.json").read_bytes(),
                  filename="reference.graph.json")
    assert loaded.format == "graph"
    result = loaded.compute()
    x1, x2, x3 = 0.3, 0.7, 1.4
    closed = (math.sin(x1 + 1) + math.cos(2 * x2)) * math.tan(math.log(x3)) + \
        (math.sin(x2 + 1) + math.cos(2 * x1)) * math.exp(1 + math.sin(x3))
    assert result.outputs["y"] == pytest.approx(closed, rel=1e-14)
    expr = load((EXAMPLES / "reference.expr").read_text()).compute()
    assert result.gradients == pytest.approx(expr.gradients, rel=1e-13)
    assert loaded.names["one"].name == "1"
    assert loaded.names["first"].group == "first term"


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_every_example_loads_and_its_gradients_match_finite_differences(name):
    loaded = load((EXAMPLES / name).read_bytes(), filename=name)
    result = loaded.compute()
    assert result.outputs and all(math.isfinite(v) for v in result.outputs.values())
    names = list(loaded.inputs)
    if len(names) > 40:  # networks: a spread of weights here; all of them in the network tests
        names = names[:: len(names) // 40]
    expected = engine_fd_gradients(loaded, names)
    for key in names:
        assert result.gradients[key] == pytest.approx(expected[key], rel=1e-5, abs=1e-7), key


def test_format_is_detected_by_extension_and_content():
    text = (EXAMPLES / "reference.graph.json").read_text()
    assert load(text).format == "graph"
    assert load(text, filename="anything.json").format == "graph"
    assert load(text, filename="upload.graph.json").format == "graph"
    assert load((EXAMPLES / "mlp.network.json").read_text()).format == "network"
    assert load("x = input(1)\noutput x\n", filename="a.expr").format == "expr"
    assert load("x = input(1)\noutput x\n").format == "expr"


# -- export -------------------------------------------------------------------------------------
def assert_same_results(a, b) -> None:
    ra, rb = a.compute(), b.compute()
    assert list(ra.outputs.values()) == pytest.approx(list(rb.outputs.values()), rel=1e-12)
    assert list(ra.gradients.values()) == pytest.approx(list(rb.gradients.values()), rel=1e-12,
                                                        abs=1e-15)


@functools.cache
def round_trip(name: str):
    """(loaded example, its export, the export loaded again), shared by the tests below."""
    original = load((EXAMPLES / name).read_bytes(), filename=name)
    exported = export_graph(original)
    return original, exported, load(json.dumps(exported), limits=BIG)


def assert_valid(exported: dict) -> None:
    """The schema is the contract. jsonschema takes ~90 µs a node, so a big export has its
    nodes checked by node_matches_schema, which a property test below proves equivalent."""
    validator = Draft202012Validator(SCHEMA)
    if len(exported["nodes"]) < 2000:
        validator.validate(exported)
        return
    validator.validate({**exported, "nodes": []})
    assert all(node_matches_schema(item) for item in exported["nodes"])


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_export_round_trips_every_example(name):
    original, exported, again = round_trip(name)
    assert_valid(exported)
    assert again.format == "graph"
    assert_same_results(original, again)
    assert export_graph(again) == exported  # and exporting is stable


def test_export_keeps_names_as_ids_and_groups():
    loaded, exported, again = round_trip("resnet.network.json")
    by_id = {item["id"]: item for item in exported["nodes"]}
    assert exported["outputs"] == ["loss"]
    assert by_id["conv1.W[0]"]["op"] == "input" and by_id["conv1.W[0]"]["group"] == "conv1"
    assert list(again.inputs) == list(loaded.inputs)  # weights keep their names
    assert again.compute().gradients == pytest.approx(loaded.compute().gradients, rel=1e-12,
                                                  abs=1e-15)


def test_export_of_a_graph_built_with_the_engine_api():
    _, _, g = reference_expression()
    exported = export_graph(g)
    again = load(json.dumps(exported))
    assert list(again.inputs) == ["x1", "x2", "x3"]
    g.compute_forward()
    g.back_prop()
    result = again.compute()
    assert result.outputs["y"] == pytest.approx(g.output_nodes[0].forward, rel=1e-14)
    assert [result.gradients[k] for k in ("x1", "x2", "x3")] == pytest.approx(
        [x.backward for x in g.input_nodes], rel=1e-13)


def test_export_gives_repeated_names_distinct_ids():
    loaded = load("x = input(2)\ns = x * x\ns += x\ns += 1\noutput s\n")
    exported = export_graph(loaded)
    ids = [item["id"] for item in exported["nodes"]]
    assert len(set(ids)) == len(ids)
    assert exported["outputs"] == ["s"]  # outputs keep their plain name
    assert {"s#2", "s#3"} <= set(ids)
    assert_same_results(loaded, load(json.dumps(exported)))


def test_export_refuses_a_batch():
    x = node("input", None, name="x")
    y = node("sin", x)
    g = graph([x], [], [y])
    g.feed([[0.1, 0.2]], [])
    with pytest.raises(FormatError, match="batch"):
        export_graph(g)


# -- the schema ---------------------------------------------------------------------------------
def test_schema_is_valid_and_lists_exactly_the_engine_operators():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$defs"]["node"]["properties"]["op"]["enum"] == list(OPS)


json_scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=True) | \
    st.sampled_from(["", "x", "y" * 201, "sin", "input"])
node_like = st.dictionaries(
    st.sampled_from(["id", "op", "args", "value", "name", "group", "extra"]),
    json_scalars | st.sampled_from(list(OPS)) | st.lists(json_scalars, max_size=3),
    max_size=6)


@settings(max_examples=400)
@given(node_like | json_scalars)
def test_fast_node_check_agrees_with_the_schema(item):
    node_validator = Draft202012Validator({"$ref": "#/$defs/node", "$defs": SCHEMA["$defs"]})
    assert node_matches_schema(item) == node_validator.is_valid(item)


# -- errors at JSON pointers --------------------------------------------------------------------
X = {"id": "x", "op": "input", "value": 0.5}


def test_duplicate_ids():
    nodes = [X, {"id": "s", "op": "sin", "args": ["x"]}, {"id": "x", "op": "const", "value": 1}]
    assert problems(doc(nodes, ["s"])) == [
        ("/nodes/2/id", "the id 'x' is already used by /nodes/0; ids must be unique")]


def test_unknown_ids_in_args_and_outputs():
    nodes = [X, {"id": "s", "op": "+", "args": ["x", "xx"]}]
    assert problems(doc(nodes, ["s", "t"])) == [
        ("/nodes/1/args/1", "the text \"xx\" is not the id of any node; did you mean 'x'?"),
        ("/outputs/1", "the text \"t\" is not the id of any node")]


def test_cycles_are_reported_with_their_path():
    nodes = [X, {"id": "a", "op": "+", "args": ["x", "c"]}, {"id": "b", "op": "sin",
                                                              "args": ["a"]},
             {"id": "c", "op": "cos", "args": ["b"]}]
    [(where, message)] = problems(doc(nodes, ["c"]))
    assert where == "/nodes/1/args/1"
    assert "'a' → 'c' → 'b' → 'a'" in message


def test_a_node_using_itself_is_a_cycle():
    [(where, message)] = problems(doc([X, {"id": "a", "op": "*", "args": ["x", "a"]}], ["a"]))
    assert where == "/nodes/1/args/1" and "'a' → 'a'" in message


def test_wrong_arity_and_misplaced_values():
    nodes = [X, {"id": "a", "op": "sin", "args": ["x", "x"]}, {"id": "b", "op": "max",
                                                                "args": ["x"]},
             {"id": "c", "op": "exp"}, {"id": "d", "op": "const", "args": ["x"], "value": 1},
             {"id": "e", "op": "input"}, {"id": "f", "op": "neg", "args": ["x"], "value": 2}]
    assert problems(doc(nodes, ["a"])) == [
        ("/nodes/1/args", "'sin' takes 1 argument, but args lists 2"),
        ("/nodes/2/args", "'max' takes 2 arguments, but args lists 1"),
        ("/nodes/3", "'exp' needs 1 id in \"args\""),
        ("/nodes/4/args", "an const node takes no args; give it a \"value\""),
        ("/nodes/5", "an input node needs a \"value\" (a number)"),
        ("/nodes/6/value", "only input and const nodes have a value; 'neg' computes its own "
                           "from its args")]


def test_unknown_operator_suggests_one():
    [(where, message)] = problems(doc([X, {"id": "a", "op": "sinh", "args": ["x"]}], ["a"]))
    assert where == "/nodes/1/op"
    assert message.startswith('the text "sinh" is not one of: input, const, +')
    assert message.endswith("did you mean 'sin'?")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_values(value):
    text = doc([X, {"id": "c", "op": "const", "value": 0}], ["x"]).replace('"value": 0}',
                                                                           f'"value": {value}}}')
    [(where, message)] = problems(text)
    assert where == "/nodes/1/value"
    assert "not a finite number" in message


@pytest.mark.parametrize(("text", "where", "message"), [
    ('{"format": "backprop-live/graph",\n "nodes": [1, ]}', "2:15",
     "JSON syntax error: expected a value here"),
    ('{"format": "backprop-live/graph" "nodes": []}', "1:34",
     "JSON syntax error: expected a comma or a closing bracket here"),
    ('{"format": "backprop-live/graph", }', "1:35",
     "JSON syntax error: expected a field name in double quotes"),
    ('{"nodes": []} x', "1:15", "JSON syntax error: unexpected text after the end"),
    ('{"a": "\x01"}', "1:8", "JSON syntax error: invalid control character"),
])
def test_json_syntax_errors_have_line_and_column(text, where, message):
    [(found_where, found)] = problems(text, format="graph")
    assert found_where == where
    assert found.startswith(message)


def test_schema_violations_at_json_pointers():
    data = {"format": "backprop-live/graph", "version": 2, "nodes": [
        {"id": "x", "op": "input", "valeu": 1},
        {"id": "", "op": "sin", "args": "x"},
        {"id": "z", "op": "const", "value": "3"},
        "a node",
    ]}
    assert problems(json.dumps(data)) == [
        ("", "missing the field 'outputs'"),
        ("/nodes/0/valeu", "unknown field 'valeu'; did you mean 'value'? the fields here are: "
                           "args, group, id, name, op, value"),
        ("/nodes/1/args", "expected a list [...], got the text \"x\""),
        ("/nodes/1/id", "must not be empty"),
        ("/nodes/2/value", "expected a number, got the text \"3\""),
        ("/nodes/3", "expected an object {...}, got the text \"a node\""),
        ("/version", "must be 1, got 2"),
    ]


def test_duplicate_fields_in_an_object():
    text = doc([X], ["x"]).replace('"op": "input"', '"op": "input", "op": "const"')
    assert problems(text) == [("/nodes/0/op", "the field 'op' appears more than once in this "
                                              "object; write it once")]


@pytest.mark.parametrize(("text", "where", "fragment"), [
    ("[1, 2]", "", "must be a JSON object"),
    ('{"nodes": []}', "", "missing the field 'format'"),
    ('{"format": "backprop-live/graf"}', "/format", "unknown \"format\""),
])
def test_documents_that_are_not_a_known_format(text, where, fragment):
    [(found_where, message)] = problems(text)
    assert found_where == where and fragment in message


def test_a_wrong_format_field_when_the_format_is_given():
    data = json.loads(doc([X], ["x"]))
    data["format"] = "backprop-live/network"
    assert ("/format", 'must be "backprop-live/graph", got the text '
                       '"backprop-live/network"') in problems(json.dumps(data), format="graph")


def test_long_chains_load_and_run_without_recursion():
    n = 20_000
    nodes = [X] + [{"id": f"s{i}", "op": "sin", "args": [f"s{i - 1}" if i else "x"]}
                   for i in range(n)]
    loaded = load(doc(nodes[::-1], [f"s{n - 1}"]))  # listed parents first: order is free
    result = loaded.compute()
    value, grad = 0.5, 1.0
    for _ in range(n):
        grad *= math.cos(value)
        value = math.sin(value)
    assert result.outputs[f"s{n - 1}"] == pytest.approx(value, rel=1e-12)
    assert result.gradients["x"] == pytest.approx(grad, rel=1e-9)


def test_loading_does_not_modify_the_document():
    data = json.loads((EXAMPLES / "reference.graph.json").read_text())
    before = copy.deepcopy(data)
    load(json.dumps(data))
    assert data == before


def test_validating_does_not_build_jsonschemas_iri_grammar():
    """jsonschema builds an IRI checker's grammar at import when rfc3987-syntax is installed
    (JupyterLab, in the test extras, brings it): ~1.4 s and ~20 MB resident in the server, for
    a format our schemas never use. A fresh interpreter validates a graph without it."""
    import importlib.util
    import subprocess
    import sys

    assert importlib.util.find_spec("rfc3987_syntax") is not None, \
        "rfc3987-syntax is expected here (JupyterLab's jsonschema[format-nongpl])"
    code = ("import sys, json\n"
            "from engine.formats import load, FormatError\n"
            "try:\n"
            "    load(json.dumps({'format': 'backprop-live/graph', 'version': 1,"
            " 'nodes': 'x', 'outputs': []}), 'graph')\n"
            "except FormatError as exc:\n"
            "    print(exc.problems[0].message)\n"
            "print('rfc3987_syntax' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    refused, imported = done.stdout.strip().splitlines()
    assert refused == 'expected a list [...], got the text "x"'  # still validated by the schema
    assert imported == "False"
