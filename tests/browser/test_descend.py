"""Descend on the Graph tab (issue 12): the steps the page takes equal the same steps taken by the
engine in this test (engine.descend on the example loaded here from its file), Undo restores the
values bit for bit, the zero_grad toggle keeps gradients as micrograd does when zero_grad is
forgotten, Auto stops on a value that left the reals, and all of it works from the keyboard."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from engine.descent import descend
from engine.formats import load
from tests.browser.conftest import shot
from tests.browser.pages import fill_editor, node, open_page

pytestmark = pytest.mark.browser
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def engine_graph(name: str):
    return load((EXAMPLES / name).read_text(), filename=name).graph


def engine_steps(name: str, lr: float, n: int, keep: bool = False):
    """Values of every input (by wire id) after each of n steps, the objectives and the steps."""
    g = engine_graph(name)
    program = g.program()
    g.compute_forward()
    g.back_prop()
    inputs = [p for p, nd in enumerate(program.nodes) if nd.operator == "input"]
    carried, history = None, []
    for _ in range(n):
        step = descend(g, lr, carried if keep else None)
        carried = step.gradient
        history.append(({p: float(program.values[p]) for p in inputs},
                        float(np.sum(step.outputs_after)), step))
    return history


def page_values(page) -> dict[int, float]:
    raw = json.loads(page.locator("#descent").get_attribute("data-input-values"))
    return {int(k): float(v) for k, v in raw.items()}


def open_fast(page, query: str = "?graph=example:reference.expr"):
    """The page, its animation at the fastest speed: each step's phases play in a moment."""
    open_page(page, query)
    page.get_by_label("Speed").fill("100")


def wait_steps(page, n: int):
    """Until n steps are taken, their last trace is on screen and played to its end."""
    page.wait_for_selector(f"#descent[data-steps='{n}'][data-busy=false]")
    page.wait_for_selector("body[data-busy=false]")
    page.wait_for_function(
        "() => { const s = document.querySelector('#scrubber');"
        " return +s.value === +s.max"
        " && !document.querySelector('#play').classList.contains('playing'); }")


def curve_values(page) -> list[float]:
    raw = page.locator("#descent-curve").get_attribute("data-values")
    return [float(v) for v in json.loads(raw)]


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-12 * max(1.0, abs(b))


@pytest.mark.parametrize("name, lr", [("reference.expr", 0.05), ("neuron.expr", 0.5),
                                      ("mlp.network.json", 0.01)])
def test_steps_on_the_page_equal_the_engines_steps(page, name, lr):
    open_fast(page, f"?graph=example:{name}")
    page.get_by_label("Descent learning rate").fill(str(lr))
    for _ in range(3):
        page.get_by_role("button", name="Descend", exact=True).click()
    wait_steps(page, 3)
    expected = engine_steps(name, lr, 3)
    values = page_values(page)
    assert set(values) == set(expected[-1][0])
    bad = {p: (values[p], v) for p, v in expected[-1][0].items() if not close(values[p], v)}
    assert not bad, f"inputs differ from the engine's: {list(bad.items())[:5]}"
    objectives = curve_values(page)
    assert len(objectives) == 3
    for got, (_, want, _) in zip(objectives, expected, strict=True):
        assert close(got, want)
    assert int(page.locator("#descent-curve").get_attribute("data-points")) == 3
    if name == "reference.expr":
        # The trace after the last step: the output's new value on the node itself.
        expect(node(page, "y")).to_have_attribute("data-value", str(expected[-1][1]))


def test_undo_walks_back_bit_for_bit(page):
    open_fast(page)
    before = page_values_now(page)
    y0 = node(page, "y").get_attribute("data-value")
    for _ in range(3):
        page.get_by_role("button", name="Descend", exact=True).click()
    wait_steps(page, 3)
    expected = engine_steps("reference.expr", 0.05, 3)
    page.get_by_role("button", name="Undo", exact=True).click()
    wait_steps(page, 2)
    assert page_values(page) == expected[1][0]  # exactly: the engine's second step's floats
    page.get_by_role("button", name="Undo", exact=True).click()
    page.get_by_role("button", name="Undo", exact=True).click()
    wait_steps(page, 0)
    assert page_values(page) == before
    expect(page.get_by_role("button", name="Undo", exact=True)).to_be_disabled()
    expect(node(page, "y")).to_have_attribute("data-value", y0)


def page_values_now(page) -> dict[int, float]:
    """The inputs' values as the graph defines them, read from the what-if fields."""
    ids = page.evaluate("() => Array.from(document.querySelectorAll('.whatif input[data-node-id]'),"
                        " f => [+f.dataset.nodeId, +f.value])")
    return {i: v for i, v in ids}


def test_skipping_zero_grad_accumulates_gradients_as_micrograd_does(page):
    open_fast(page, "?graph=example:neuron.expr")
    page.get_by_label("Descent learning rate").fill("0.5")
    page.get_by_label("Keep old gradients (skip zero_grad)").check()
    for _ in range(3):
        page.get_by_role("button", name="Descend", exact=True).click()
    wait_steps(page, 3)
    expected = engine_steps("neuron.expr", 0.5, 3, keep=True)
    values = page_values(page)
    assert all(close(values[p], v) for p, v in expected[-1][0].items())
    # The running sum in Python: w1's own gradient at each pass, by the closed form of the
    # neuron (∂y/∂w1 = σ'(z)·x1), over the starting values and the three steps' values.
    def grad_w1(vals):
        w1, w2, b = (vals[p] for p in sorted(vals))
        s = 1 / (1 + np.exp(-(w1 * 1.5 + w2 * 2.0 + b)))
        return s * (1 - s) * 1.5
    start = {0: 0.8, 1: -0.4, 2: 0.1}
    passes = [grad_w1(start)] + [grad_w1(v) for v, _, _ in expected]
    w1 = node(page, "w1")
    w1.dispatch_event("click")
    # the Inspector shows w1 (not the node it followed before the click)
    expect(page.locator("#inspector")).to_have_attribute("data-node-id",
                                                         w1.get_attribute("data-node-id"))
    grad = page.locator("#inspector [data-field=grad]")
    assert close(float(grad.get_attribute("data-grad")), sum(passes))
    kept = page.locator("#inspector [data-field=kept]")
    parts = [float(x) for x in json.loads(kept.get_attribute("data-parts"))]
    assert all(close(a, b) for a, b in zip(parts, passes[:3], strict=True))
    assert close(float(kept.get_attribute("data-kept")), sum(passes[:3]))
    # The sum of contributions starts from what was kept: kept + this pass's = the gradient.
    start = page.locator("#inspector .contributions li[data-parent=kept]")
    assert close(float(start.get_attribute("data-contribution")), sum(passes[:3]))
    assert close(float(page.locator("#inspector .sum").get_attribute("data-sum")), sum(passes))
    shot(page, "descend-kept-gradients")


def test_auto_stops_when_the_output_leaves_the_reals_and_names_it(page):
    open_fast(page)
    fill_editor(page, "x = input(3)\ny = x*x*x*x\noutput y")
    page.get_by_role("button", name="Load", exact=True).click()
    page.wait_for_selector("body[data-nodes='4'][data-busy=false]")  # x, x·x, x·x·x, y
    page.get_by_label("Descent learning rate").fill("1")
    page.get_by_label("Speed").fill("100")  # a new graph starts at its own speed
    page.get_by_role("button", name="Auto", exact=True).click()
    message = page.locator("#descent-message")
    expect(message).to_contain_text("Auto stopped", timeout=60_000)
    # By hand: x = 3 → −105 → 4630395 → …; the step that would make x·x overflow is refused
    # (the engine names the node), so the steps before it are the ones kept.
    x, kept = np.float64(3.0), 0
    with np.errstate(over="ignore"):
        while np.isfinite((x - 4 * x ** 3) ** 2):
            x, kept = x - 4 * x ** 3, kept + 1
    assert kept == 4
    expect(message).to_contain_text(f"Auto stopped after step {kept}: the next step was refused")
    expect(message).to_contain_text("node #1 (*)")
    expect(message).to_contain_text("not finite")
    expect(page.locator("#descent")).to_have_attribute("data-steps", str(kept))
    expect(page.locator("#inspector")).to_have_attribute("data-node-id", "1")  # the node named
    shot(page, "descend-auto-stopped")


def test_keyboard_only_descent(page):
    open_fast(page)
    page.get_by_role("button", name="Descend", exact=True).focus()
    for _ in range(3):
        page.keyboard.press("Enter")
    wait_steps(page, 3)
    assert page.locator("#descent-curve").get_attribute("data-points") == "3"
    expected = engine_steps("reference.expr", 0.05, 3)
    assert all(close(a, b) for a, (_, b, _) in zip(curve_values(page), expected, strict=True))
    assert page_values(page) == expected[-1][0]
    # D takes a fourth step, U undoes it (the Keyboard help lists both).
    page.locator("#scrubber").focus()
    page.keyboard.press("d")
    wait_steps(page, 4)
    page.keyboard.press("u")
    wait_steps(page, 3)
    assert page_values(page) == expected[-1][0]


def test_descend_ten_and_auto_stop_where_the_engine_says(page):
    open_fast(page, "?graph=example:neuron.expr")
    page.get_by_label("Descent learning rate").fill("0.5")
    page.get_by_role("button", name="Descend ×10: ten steps").click()
    wait_steps(page, 10)
    expected = engine_steps("neuron.expr", 0.5, 60)
    values = page_values(page)
    assert all(close(values[p], v) for p, v in expected[9][0].items())
    # Auto from there, stopping when the objective moves by less than 1e-3 in a step: the
    # engine's own steps say which step that is.
    objectives = [float(np.sum(engine_steps("neuron.expr", 0.5, 1)[0][2].outputs_before))]
    objectives += [o for _, o, _ in expected]
    last = next(k for k in range(11, 61) if abs(objectives[k] - objectives[k - 1]) < 1e-3)
    page.locator(".descent-limits summary").click()
    page.get_by_label("when the objective changes by less than").fill("1e-3")
    page.get_by_role("button", name="Auto", exact=True).click()
    message = page.locator("#descent-message")
    expect(message).to_contain_text(f"Auto stopped at step {last}: the objective changed by")
    expect(message).to_contain_text("less than the minimum change 0.001")
    assert all(close(page_values(page)[p], v) for p, v in expected[last - 1][0].items())
    # The step limit: 3 more steps at most, with a minimum change nothing reaches.
    page.get_by_label("when the objective changes by less than").fill("0")
    page.get_by_label("after at most").fill("3")
    page.get_by_role("button", name="Auto", exact=True).click()
    expect(message).to_contain_text("Auto stopped at the step limit: 3 steps")
    expect(page.locator("#descent")).to_have_attribute("data-steps", str(last + 3))
    # The Inspector shows an input's own step, with its numbers.
    node(page, "b").dispatch_event("click")
    row = page.locator("#inspector [data-field=step]")
    b = int(node(page, "b").get_attribute("data-node-id"))
    assert close(float(row.get_attribute("data-new")), expected[last + 2][0][b])
    expect(row).to_contain_text("b: ")


def test_the_keyboard_help_lists_the_descent_keys(page):
    open_page(page)
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard")
    expect(dialog).to_contain_text("Descend one step")
    expect(dialog).to_contain_text("Undo the last descent step")


def test_each_input_shows_its_update_on_the_graph(page):
    """Scrubbing to a descent step's first event writes `old − lr × gradient = new` on that input
    node itself, with the numbers the engine's step used."""
    open_fast(page)
    page.get_by_label("Descent learning rate").fill("0.05")
    page.get_by_role("button", name="Descend", exact=True).click()
    wait_steps(page, 1)
    (_, _, step), = engine_steps("reference.expr", 0.05, 1)
    page.locator("#scrubber").fill("1")  # the first event: the first input's update
    term = page.locator("#view g.term[data-node]")
    expect(term).to_have_count(1)
    wire_id = int(term.get_attribute("data-node"))
    program = engine_graph("reference.expr").program()
    inputs = [p for p, nd in enumerate(program.nodes) if nd.operator == "input"]
    k = inputs.index(wire_id)
    numbers = [float(x.replace("−", "-")) for x in
               re.findall(r"−?\d+(?:\.\d+)?(?:e[+−-]?\d+)?", term.text_content().replace("(", " "))]
    old, lr, gradient, new = numbers
    assert old == pytest.approx(float(step.old[k]), rel=1e-3)
    assert lr == 0.05
    assert gradient == pytest.approx(float(step.gradient[k]), rel=1e-3)
    assert new == pytest.approx(float(step.new[k]), rel=1e-3)
    shot(page, "descend-update-on-node")
