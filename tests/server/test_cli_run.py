"""``backprop-live run FILE [--json]``: good files print values and gradients by name (exit 0);
bad ones print "location: message" problems on stderr (exit 2), never a traceback."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.formats import load
from server.cli import main
from tests.micrograd_snippets import LECTURE_NEURON, SNIPPETS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GOOD = sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in (".expr", ".json"))


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    status = main(["run", *(str(a) for a in argv)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


@pytest.mark.parametrize("name", GOOD)
def test_json_output_is_one_object_with_the_results(capsys, name):
    status, out, err = run_cli(capsys, EXAMPLES / name, "--json")
    assert status == 0 and err == ""
    printed = json.loads(out)
    assert set(printed) == {"outputs", "gradients"}
    expected = load((EXAMPLES / name).read_bytes(), filename=name).compute()
    assert printed["outputs"] == expected.outputs
    assert printed["gradients"] == expected.gradients


def test_text_output_names_outputs_and_gradients(capsys):
    status, out, err = run_cli(capsys, EXAMPLES / "reference.expr")
    assert status == 0 and err == ""
    expected = load((EXAMPLES / "reference.expr").read_text()).compute()
    assert out.splitlines() == [
        "outputs:",
        f"  y = {expected.outputs['y']!r}",
        "gradients of y with respect to each input:",
        *(f"  {name}: {value!r}" for name, value in expected.gradients.items()),
    ]


def test_several_outputs_say_the_gradient_is_of_their_sum(capsys):
    status, out, _ = run_cli(capsys, EXAMPLES / "functions.expr")
    assert status == 0
    assert "gradients of the sum of the outputs with respect to each input:" in out


def test_format_option_overrides_detection(tmp_path, capsys):
    path = tmp_path / "graph.txt"
    path.write_text((EXAMPLES / "reference.graph.json").read_text())
    status, out, _ = run_cli(capsys, path, "--format", "graph", "--json")
    assert status == 0 and "y" in json.loads(out)["outputs"]


BAD_FILES = {
    "undefined.expr": ("x1 = input(0.3)\ny = x1 + x3\noutput y\n",
                       "  2:10: x3 is used on line 2 but never defined"),
    "syntax.expr": ("x = input(1)\ny = (x +\n", "  2:5: syntax error: '(' was never closed"),
    "cycle.graph.json": (json.dumps({"format": "backprop-live/graph", "version": 1, "nodes": [
        {"id": "a", "op": "sin", "args": ["a"]}], "outputs": ["a"]}),
        "  /nodes/0/args/0: these nodes form a cycle: 'a' → 'a'"),
    "broken.json": ('{"format": "backprop-live/graph",', "  1:34: JSON syntax error"),
    "domain.expr": ("x = input(-1)\ny = 2 * log(x)\noutput y\n", "  2:9: node #"),
    # 16**4000 - 1: too long for str() (Python refuses over 4,300 digits), said by its size
    "huge.expr": ("x = input(0x" + "f" * 4000 + ")\noutput x\n",
                  "  1:11: the number of about 4,816 digits is too large"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
@pytest.mark.parametrize("as_json", [False, True])
def test_bad_files_exit_2_with_located_problems(tmp_path, capsys, name, as_json):
    text, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    status, out, err = run_cli(capsys, path, *(["--json"] if as_json else []))
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith(f"backprop-live run: {path} ")
    assert any(line.startswith(expected) for line in lines[1:]), err


def test_missing_file_and_directory(tmp_path, capsys):
    status, out, err = run_cli(capsys, tmp_path / "nope.expr")
    assert status == 2 and out == "" and "there is no file" in err
    status, out, err = run_cli(capsys, tmp_path)
    assert status == 2 and "is a directory" in err


def test_file_too_big(tmp_path, capsys):
    path = tmp_path / "big.expr"
    path.write_bytes(b"#" * (2 * 1024 * 1024 + 10))
    status, _, err = run_cli(capsys, path)
    assert status == 2
    assert "more than 2,097,152 bytes, over the limit max_bytes=2097152" in err


def test_file_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin1.expr"
    path.write_bytes("x = input(1)\ny = x # café\noutput y\n".encode("latin-1"))
    status, _, err = run_cli(capsys, path)
    assert status == 2
    assert "  2:12: the file is not UTF-8 text: byte 0xe9 at line 2, column 12" in err


def test_stdin(monkeypatch, capsys):
    class Stdin:
        buffer = __import__("io").BytesIO(b"x = input(3)\ny = x * x\noutput y\n")

    monkeypatch.setattr(sys, "stdin", Stdin)
    status, out, _ = run_cli(capsys, "-", "--json")
    assert status == 0
    assert json.loads(out) == {"outputs": {"y": 9.0}, "gradients": {"x": 6.0}}


def test_as_a_module_in_a_subprocess(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    good = subprocess.run([sys.executable, "-m", "server", "run",
                           str(EXAMPLES / "reference.expr"), "--json"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert good.returncode == 0, good.stderr
    assert set(json.loads(good.stdout)) == {"outputs", "gradients"}
    bad_path = tmp_path / "bad.expr"
    bad_path.write_text("y = sin(\n")
    bad = subprocess.run([sys.executable, "-m", "server", "run", str(bad_path)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert bad.returncode == 2
    assert bad.stdout == "" and "Traceback" not in bad.stderr
    assert "1:8: syntax error: '(' was never closed" in bad.stderr


# -- micrograd code, and graphs built with engine.Value ---------------------------------------
@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_micrograd_code_runs_with_gradients_keyed_by_label_or_name(tmp_path, capsys, name):
    text, oracle, output = SNIPPETS[name]
    path = tmp_path / f"{name}.expr"
    path.write_text(text)
    status, out, err = run_cli(capsys, path, "--json")
    assert status == 0, err
    printed = json.loads(out)
    expected_output, expected_gradients = oracle()
    assert list(printed["outputs"]) == [output]
    assert math.isclose(printed["outputs"][output], expected_output, rel_tol=1e-9, abs_tol=1e-9)
    assert set(printed["gradients"]) == set(expected_gradients)
    for key, value in expected_gradients.items():
        assert math.isclose(printed["gradients"][key], value, rel_tol=1e-9, abs_tol=1e-9), key


def test_notes_go_to_stderr_and_json_stays_alone_on_stdout(tmp_path, capsys):
    path = tmp_path / "neuron.expr"
    path.write_text(LECTURE_NEURON)
    status, out, err = run_cli(capsys, path, "--json")
    assert status == 0
    assert set(json.loads(out)["gradients"]) == {"x1", "x2", "w1", "w2", "b"}
    assert err.splitlines() == [
        "backprop-live run: note: 1:1: `from micrograd.engine import Value` is ignored: Value "
        "is built in, and nothing is imported",
        "backprop-live run: note: 17:1: print(...) is ignored: the page shows every node's "
        "value and gradient"]


def test_a_graph_built_with_value_runs_from_its_export(tmp_path, capsys):
    from engine import Value

    w = Value(-3.0, label="w")
    b = Value(0.5, label="b")
    loss = ((w * 2.0 + b).tanh() - 1) ** 2
    loss.label = "loss"
    path = tmp_path / "loss.graph.json"
    loss.export(str(path))
    status, out, err = run_cli(capsys, path, "--json")
    assert status == 0, err
    printed = json.loads(out)
    wt = torch.tensor([-3.0], dtype=torch.float64, requires_grad=True)
    bt = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    lt = (torch.tanh(wt * 2.0 + bt) - 1) ** 2
    lt.backward()
    assert math.isclose(printed["outputs"]["loss"], lt.item(), rel_tol=1e-12)
    assert math.isclose(printed["gradients"]["w"], wt.grad.item(), rel_tol=1e-9)
    assert math.isclose(printed["gradients"]["b"], bt.grad.item(), rel_tol=1e-9)
