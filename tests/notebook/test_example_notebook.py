"""examples/backprop.ipynb runs headless with nbclient (a real ipykernel), in a folder of its own
with its data file, and prints what the engine computes here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import engine
from engine.examples import reference_expression
from tests.notebook.jupyterlab import isolated_env

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[2]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.slow
def test_the_example_notebook_runs_headless(tmp_path, monkeypatch):
    for name in ("backprop.ipynb", "resnet.network.json"):
        shutil.copy(ROOT / "examples" / name, tmp_path / name)
    for key, value in isolated_env(tmp_path / "home").items():
        monkeypatch.setenv(key, value)  # the kernel: this checkout's engine, no user config
    notebook = nbformat.read(tmp_path / "backprop.ipynb", as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError if any cell fails
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum(WIDGET_VIEW in o.get("data", {}) for o in outputs) == 3  # three widgets shown
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    (x1, x2, x3), y, g = reference_expression()
    g.compute_forward()
    g.back_prop()
    assert f"y = {y.forward:.6f}" in text
    for x in (x1, x2, x3):
        assert f"∂y/∂{x.name} = {x.backward:.6f}" in text
    neuron = engine.graph(*_neuron())
    step = engine.descend(neuron, 0.5)
    for p, old, grad, new in zip(step.inputs, step.old, step.gradient, step.new, strict=True):
        assert f"{p.name}: {old:.4f} − 0.5 × {grad:.4f} = {new:.4f}" in text
    assert f"y: {step.outputs_before[0]:.6f} → {step.outputs_after[0]:.6f}" in text


def _neuron():
    w = [engine.node("input", v, name=n) for v, n in ((0.8, "w1"), (-0.4, "w2"), (0.1, "b"))]
    x = [engine.node("const", 1.5, name="x1"), engine.node("const", 2.0, name="x2")]
    return w, x, [engine.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])]
