"""The notebook widget in a real JupyterLab (and Notebook 7), driven by chromium.

A fixture starts JupyterLab on loopback (tests/notebook/jupyterlab.py) with examples/
backprop.ipynb in a temporary root; chromium opens it and runs every cell. The oracles are the
engine, run here in the test process on graphs built independently of the notebook's kernel,
and closed forms for the descent step.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from engine import descend, graph, node, sigmoid
from engine.examples import reference_expression
from engine.formats import load
from tests.browser.conftest import shot
from tests.notebook.jupyterlab import JupyterLab

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
LAB_VIEWPORT = {"width": 1024, "height": 768}
WIDGETS = ".bpl-widget"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not (ROOT / "static" / "dist" / "widget.js").exists():
        pytest.fail("static/dist/widget.js is missing: run `npm run build`")
    root = tmp_path_factory.mktemp("lab-root")
    for name in ("backprop.ipynb", "resnet.network.json"):
        shutil.copy(EXAMPLES / name, root / name)
    with JupyterLab(root, tmp_path_factory.mktemp("lab-home")) as server:
        yield server


@pytest.fixture(scope="module")
def notebook(browser, lab):
    """The example notebook in JupyterLab with every cell run: (page, console errors)."""
    context = browser.new_context(viewport=LAB_VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    open_notebook(page, lab.link("lab/tree/backprop.ipynb"))
    run_all_cells(page)
    page.wait_for_function(f"document.querySelectorAll('{WIDGETS}[data-ready=true]').length === 3",
                           timeout=120_000)
    yield page, errors
    context.close()


# The toolbar's kernel indicator reads "idle" before the kernel is there, then "connecting" (or
# "starting"), then "idle" again: the notebook can run once it has been through the middle.
WATCH_KERNEL = """
window.__kernelStates = [];
new MutationObserver(() => {
  const el = document.querySelector('.jp-Notebook-ExecutionIndicator');
  const last = window.__kernelStates[window.__kernelStates.length - 1];
  if (el && el.dataset.status !== last) window.__kernelStates.push(el.dataset.status);
}).observe(document, { subtree: true, attributes: true, childList: true });
"""
KERNEL_READY = """() => { const s = window.__kernelStates || [];
  return s.length > 1 && s[s.length - 1] === 'idle'
    && s.slice(0, -1).some((x) => x !== 'idle'); }"""


def open_notebook(page, url: str) -> None:
    page.add_init_script(WATCH_KERNEL)
    page.goto(url)


def run_all_cells(page) -> None:
    """Run ▸ Run All Cells, as a learner would, once the kernel is connected and idle."""
    page.wait_for_function(KERNEL_READY)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def widget(page, k: int):
    return page.locator(WIDGETS).nth(k)


def play_to_end(w) -> None:
    """Fastest speed, Play, and wait for the playhead to stop at the trace's end."""
    w.scroll_into_view_if_needed()
    w.locator(".speed-range").evaluate(
        "el => { el.value = '100'; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    if w.locator(".scrubber").evaluate("el => el.value === el.max"):
        w.locator(".restart").click()
    else:
        w.locator(".play").click()
    w.evaluate("""el => new Promise((resolve) => {
        const done = () => { const s = el.querySelector('.scrubber');
          return s.value === s.max && Number(s.max) > 0
            && el.querySelector('.play').textContent === 'Play'; };
        const check = () => (done() ? resolve(true) : requestAnimationFrame(check));
        check(); })""")


def shown_nodes(w) -> dict[int, tuple[float, float]]:
    """{wire id: (data-value, data-grad)} of every node the SVG view draws."""
    rows = w.locator(".node[data-node-id]").evaluate_all(
        "els => els.map((e) => [e.dataset.nodeId, e.dataset.value, e.dataset.grad])")
    return {int(i): (float(v), float(g)) for i, v, g in rows}


def engine_nodes(g) -> dict[int, tuple[float, float]]:
    g.compute_forward()
    g.back_prop()
    program = g.program()
    return {p: (float(program.values[p]), float(np.sum(program.grads[p])))
            for p in range(len(program.nodes))}


def make_neuron():
    """The notebook's neuron, built here: y = σ(w1·x1 + w2·x2 + b)."""
    weights = [node("input", 0.8, name="w1"), node("input", -0.4, name="w2"),
               node("input", 0.1, name="b")]
    data = [node("const", 1.5, name="x1"), node("const", 2.0, name="x2")]
    return graph(weights, data, [sigmoid(weights[0] * data[0] + weights[1] * data[1]
                                         + weights[2])])


def test_the_reference_expression_plays_to_the_engines_values_and_gradients(notebook):
    page, errors = notebook
    w = widget(page, 0)
    assert "23 nodes" in w.locator(".bpl-title").text_content()
    # dagre laid it out, in the page's layout worker (started from the code the kernel sent)
    expect(w.locator(".view")).to_have_attribute("data-layout", "dagre", timeout=30_000)
    # The keys act on the focused widget (and not on the notebook around it): → steps.
    others = [widget(page, k).locator(".position") for k in (1, 2)]
    before = [o.text_content() for o in others]
    w.scroll_into_view_if_needed()
    w.focus()  # JupyterLab makes the widget's cell the active one
    cells = page.locator(".jp-Notebook .jp-Cell")
    selected_cell = cells.evaluate_all(
        "els => els.findIndex((e) => e.classList.contains('jp-mod-selected'))")
    assert cells.nth(selected_cell).locator(WIDGETS).count() == 1
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(w.locator(".position")).to_have_text("3 / 75")  # 23 + 1 + 23 + 28 events (below)
    # J is also JupyterLab's "select the cell below" in command mode: here it steps back.
    page.keyboard.press("j")
    expect(w.locator(".position")).to_have_text("2 / 75")
    assert page.locator(".jp-Notebook .jp-Cell.jp-mod-selected").count() == 1
    assert cells.evaluate_all(
        "els => els.findIndex((e) => e.classList.contains('jp-mod-selected'))") == selected_cell
    assert [o.text_content() for o in others] == before  # the other widgets did not move
    play_to_end(w)
    _, _, g = reference_expression()
    expected = engine_nodes(g)
    assert shown_nodes(w) == expected  # every node, exactly: the same float64s
    program = g.program()
    assert 2 * len(program.nodes) + len(program.edge_child) + 1 == 75
    # The timeline marks where back-prop begins: after one forward event per node. Each widget
    # has its own mark, and none takes the page's element id (a notebook shows several).
    expect(w.locator(".phase-mark")).to_have_attribute("data-at", str(len(program.nodes)))
    assert page.locator(f"{WIDGETS} .phase-mark").count() == 3
    assert page.locator("#phase-mark").count() == 0
    assert w.locator(".inspector").get_attribute("data-node-id") is not None
    assert not errors


def test_descend_steps_the_neurons_inputs_as_the_engine_does(notebook):
    page, errors = notebook
    w = widget(page, 1)
    assert w.locator(".lr").input_value() == "0.5"  # engine.show(..., lr=0.5)
    play_to_end(w)
    g = make_neuron()
    assert shown_nodes(w) == engine_nodes(g)
    w.locator(".descend-step").click()
    page.wait_for_function("el => el.dataset.steps === '1' && el.dataset.busy === 'false'",
                           arg=w.locator(".descend").element_handle())
    play_to_end(w)  # the new forward and backward pass
    after = shown_nodes(w)
    # The engine, here: one step of engine.descend on a neuron built in this test.
    descend(g, 0.5)
    assert after == engine_nodes(g)
    # Closed form: w ← w − lr σ'(z) x, b ← b − lr σ'(z), with σ' = σ(1 − σ); consts stay.
    z = 0.8 * 1.5 - 0.4 * 2.0 + 0.1
    s = 1 / (1 + math.exp(-z))
    ds = s * (1 - s)
    new = {"w1": 0.8 - 0.5 * ds * 1.5, "w2": -0.4 - 0.5 * ds * 2.0, "b": 0.1 - 0.5 * ds}
    by_name = dict(w.locator(".node[data-node-name]").evaluate_all(
        "els => els.map((e) => [e.dataset.nodeName, Number(e.dataset.value)])"))
    for name, value in new.items():
        assert by_name[name] == pytest.approx(value, rel=1e-13)
    assert (by_name["x1"], by_name["x2"]) == (1.5, 2.0)
    # The what-if fields follow the trace: they hold the stepped inputs, as the graph does.
    for name in new:
        field = w.locator(f'.whatif input[aria-label="{name}"]')
        assert float(field.input_value()) == by_name[name]
    z_new = new["w1"] * 1.5 + new["w2"] * 2.0 + new["b"]
    output = w.locator(".descend-output").first
    assert float(output.get_attribute("data-before")) == pytest.approx(s, rel=1e-14)
    assert float(output.get_attribute("data-after")) == pytest.approx(
        1 / (1 + math.exp(-z_new)), rel=1e-13)
    steps = w.locator(".descend-inputs li").evaluate_all(
        "els => els.map((e) => [Number(e.dataset.old), Number(e.dataset.gradient), "
        "Number(e.dataset.new)])")
    for (old, grad, stepped), name in zip(steps, ("w1", "w2", "b"), strict=True):
        assert stepped == old - 0.5 * grad and stepped == pytest.approx(new[name], rel=1e-13)
    shot(page, "notebook-neuron-descended-1024")
    # Undo: the kernel's inputs go back to the values before the step, exactly.
    w.locator(".descend-undo").click()
    page.wait_for_function("el => el.dataset.steps === '0' && el.dataset.busy === 'false'",
                           arg=w.locator(".descend").element_handle())
    play_to_end(w)
    assert shown_nodes(w) == engine_nodes(make_neuron())
    assert not errors


def test_skipping_zero_grad_adds_the_last_steps_gradients_and_the_curve_follows(notebook):
    """micrograd's forgotten zero_grad(): with "Keep old gradients" checked, each step uses the
    running sum of the passes' gradients, as engine.descend with ``carried`` does here; the
    objective after each step is drawn, and Undo takes the curve back too."""
    page, errors = notebook
    w = widget(page, 1)
    descend_panel = w.locator(".descend").element_handle()
    w.locator(".descend-keep").check()
    g = make_neuron()
    engine_steps = []
    for k in (1, 2):
        w.locator(".descend-step").click()
        page.wait_for_function(f"el => el.dataset.steps === '{k}' && el.dataset.busy === 'false'",
                               arg=descend_panel)
        carried = engine_steps[-1].gradient if engine_steps else None
        engine_steps.append(descend(g, 0.5, carried))
    shown = w.locator(".descend-inputs li").evaluate_all(
        "els => els.map((e) => Number(e.dataset.gradient))")
    assert shown == engine_steps[1].gradient.tolist()  # the kept gradient plus the new pass's
    assert shown != engine_steps[1].fresh.tolist()
    curve = w.locator(".descent-curve")
    expect(curve).to_have_attribute("data-points", "2")
    assert [float(v) for v in json.loads(curve.get_attribute("data-values"))] == [
        float(np.sum(step.outputs_after)) for step in engine_steps]
    shot(page, "notebook-neuron-descended-keeping-gradients")
    w.locator(".descend-undo").click()
    page.wait_for_function("el => el.dataset.steps === '1' && el.dataset.busy === 'false'",
                           arg=descend_panel)
    expect(curve).to_have_attribute("data-points", "1")
    w.locator(".descend-undo").click()
    page.wait_for_function("el => el.dataset.steps === '0' && el.dataset.busy === 'false'",
                           arg=descend_panel)
    w.locator(".descend-keep").uncheck()
    play_to_end(w)
    assert shown_nodes(w) == engine_nodes(make_neuron())  # back where it began, exactly
    assert not errors


def test_the_reference_resnet_opens_on_its_blocks_and_back_props_through_them(notebook):
    page, errors = notebook
    w = widget(page, 2)
    loaded = load((EXAMPLES / "resnet.network.json").read_text(), filename="resnet.network.json")
    program = loaded.graph.program()
    n, edges = len(program.nodes), len(program.edge_child)
    assert w.get_attribute("data-nodes") == str(n)
    assert w.locator(".view").get_attribute("data-view") == "blocks"
    # The whole trace arrived: one forward and one gradient event per node, one per edge, a seed.
    assert w.locator(".scrubber").get_attribute("max") == str(2 * n + edges + 1)
    play_to_end(w)
    loaded.graph.compute_forward()
    loaded.graph.back_prop()
    grads = np.abs(program.grads[:, 0] if program.grads.ndim > 1 else program.grads)
    blocks = dict(w.locator(".block[data-mean-abs-grad]").evaluate_all(
        "els => els.map((e) => [e.dataset.block, Number(e.dataset.meanAbsGrad)])"))
    assert len(blocks) >= 8
    for name, mean in blocks.items():
        members = [p for p, nd in enumerate(program.nodes) if block_name(nd) == name]
        assert mean == pytest.approx(float(np.mean(grads[members])), rel=1e-9), name
    shot(page, "notebook-resnet-1024")
    assert not errors


def block_name(n) -> str:
    """The grouped view's block of a node (static/js/graph/trace-state.js blockName)."""
    if n.group is not None:
        return n.group
    if n.name is not None:
        return n.name.split("[")[0] if n.name.endswith("]") else n.name
    return n.operator


# The phase mark over the scrubber where its event count is, as tests/browser/
# test_graph_consistency.py measures it on the page (the thumb's centre is 8 px in at each end).
MARK_PLACED = """el => { const mark = el.querySelector('.phase-mark');
  const bar = el.querySelector('.scrubber');
  if (!mark || mark.hidden || !bar.offsetWidth) return false;
  const m = mark.getBoundingClientRect(), b = bar.getBoundingClientRect();
  const fraction = Number(mark.dataset.at) / Number(bar.max);
  return Math.abs(m.x - (b.x + 8 + fraction * (b.width - 16))) < 3; }"""


def test_screenshots_of_the_widget_in_jupyterlab(notebook):
    """Look at it: the three widgets beside JupyterLab's file browser (the Inspector goes under
    the graph) and without it (three columns), at 1024×768, and on a phone's width."""
    page, errors = notebook
    names = ("reference", "neuron", "resnet")
    for sidebar in ("files", "wide"):
        if sidebar == "wide":
            page.keyboard.press("Control+b")  # View ▸ Left Sidebar: hide the file browser
            page.wait_for_selector("#jp-left-stack", state="hidden")
        for k, name in enumerate(names):
            w = widget(page, k)
            w.scroll_into_view_if_needed()
            expect(w.locator(".view")).to_be_in_viewport()
            # JupyterLab's sidebar changed the widget's width: the mark follows the scrubber.
            page.wait_for_function(MARK_PLACED, arg=w.element_handle())
            shot(page, f"notebook-{name}-1024-{sidebar}")
            w.locator(".controls").scroll_into_view_if_needed()
            expect(w.locator(".controls")).to_be_in_viewport()
            shot(page, f"notebook-{name}-1024-{sidebar}-controls")
    page.set_viewport_size({"width": 390, "height": 844})
    for k, name in enumerate(names):
        w = widget(page, k)
        w.scroll_into_view_if_needed()
        expect(w.locator(".view")).to_be_in_viewport()
        shot(page, f"notebook-{name}-390")
    page.set_viewport_size(LAB_VIEWPORT)
    # JupyterLab's dark theme: the widget keeps its white ground, the graph's colours need it.
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-itemLabel", has_text="JupyterLab Dark").first.click()
    page.wait_for_selector("body[data-jp-theme-light=false]", state="attached")
    widget(page, 1).scroll_into_view_if_needed()
    page.wait_for_function(MARK_PLACED, arg=widget(page, 1).element_handle())
    shot(page, "notebook-neuron-1024-dark")
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-itemLabel", has_text="JupyterLab Light").first.click()
    page.wait_for_selector("body[data-jp-theme-light=true]", state="attached")
    # The three widgets each keep their own "Animate" choice (radio groups are per widget).
    assert page.locator(f"{WIDGETS} .modes input:checked").count() == 3
    assert not errors


def test_the_widget_works_in_notebook_7(browser, lab):
    """The same notebook in Notebook 7's interface (the notebook package, same server)."""
    context = browser.new_context(viewport=LAB_VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e} {e.stack}"))
    try:
        open_notebook(page, lab.link("notebooks/backprop.ipynb"))
        run_all_cells(page)
        page.wait_for_function(
            f"document.querySelectorAll('{WIDGETS}[data-ready=true]').length === 3",
            timeout=120_000)
        w = widget(page, 0)
        play_to_end(w)
        _, _, g = reference_expression()
        assert shown_nodes(w) == engine_nodes(g)
        shot(page, "notebook7-reference-1024")
    finally:
        context.close()
    # Notebook 7 itself (notebook_core.js) throws these two at start-up, before any cell runs:
    # a settings schema it looks up and a file-browser command its notebook page lacks.
    notebook_own = re.compile(r"reading 'schema'.*notebook_core|'filebrowser:open-path' not "
                              r"registered", re.S)
    assert [e for e in errors if not notebook_own.search(e)] == []
