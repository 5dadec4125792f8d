"""The page from the keyboard alone (issue 11, finding 5), in Chromium against a real server.

No mouse anywhere here: focus moves with Tab as a person's would (`tab_to`), keys are pressed
with `page.keyboard`. Every number checked is the engine's, computed in this process from the
same file; positions are the ones the browser drew.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import NamedTuple

import pytest
from playwright.sync_api import expect

from engine import formats
from tests.live_server import wait_until

from .conftest import shot
from .pages import open_page, open_training, paste, position

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REFERENCE = EXAMPLES / "reference.expr"
FANOUT = EXAMPLES / "fanout.expr"

ACTIVE = """() => { const a = document.activeElement;
  return a ? (a.id || a.dataset.nodeId || a.dataset.block || a.getAttribute('aria-label')
    || a.tagName) : null; }"""


def tab_to(page, selector: str, *, backwards: bool = False, most: int = 80) -> None:
    """Press Tab (Shift+Tab) until the element matching `selector` has the focus."""
    for _ in range(most):
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{most} presses of Tab never reached {selector}; "
                         f"focus is on {page.evaluate(ACTIVE)}")


def focused(page, attribute: str) -> str | None:
    """An attribute of the focused element, or of the graph node or block it is the button of."""
    return page.evaluate("""a => { const el = document.activeElement;
      const node = el.closest('g.node, g.block'); return (node || el).getAttribute(a); }""",
                         attribute)


def engine_program(text: str, filename: str):
    """The engine's values and gradients for `text`, by wire id (the program's order)."""
    loaded = formats.load(text, filename=filename)
    program = loaded.graph.program()
    events = []
    loaded.graph.compute_forward()
    loaded.graph.back_prop(events.append)
    # Read now: an engine node's numbers live in its graph's program, gone with `loaded`.
    return [Scalar(n.name, n.forward, n.backward) for n in program.nodes], events


class Scalar(NamedTuple):
    name: str | None
    forward: float
    backward: float


def numbers_in(text: str) -> list[float]:
    """The numbers of a label as the page writes them (U+2212 minus, 'e' exponent)."""
    found = re.findall(r"[−-]?\d+(?:\.\d+)?(?:e[−+-]?\d+)?", text.replace("−", "-"))
    return [float(x) for x in found]


def wait_position(page, done: int):
    page.wait_for_function(
        "d => { const s = document.querySelector('#scrubber'); return +s.value - +s.min === d; }",
        arg=done)


def inspector(page) -> dict:
    """The Inspector's node, value and final gradient, once it has drawn a final gradient."""
    page.wait_for_selector("[aria-label=Inspector] [data-field=grad][data-grad]")
    return page.evaluate("""() => {
      const root = document.querySelector('[aria-label=Inspector]');
      const v = root.querySelector('[data-field=value]');
      const g = root.querySelector('[data-field=grad]');
      return {node: root.dataset.nodeId, value: v && v.dataset.value, grad: g && g.dataset.grad};
    }""")


# -- finding 5, part by part ---------------------------------------------------------------------
def test_arrow_keys_in_the_mode_radio_group_change_the_mode(page):
    open_page(page, "?graph=example:reference.expr")
    _, events = engine_program(REFERENCE.read_text(), "reference.expr")
    n_forward = sum(1 for e in events if e.kind == "forward")  # the engine's back-prop has none
    assert n_forward == 0
    tab_to(page, "input[name=mode]:checked")
    assert focused(page, "value") == "both"
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_label("Back-prop", exact=True)).to_be_checked()
    expect(page.get_by_label("Back-prop", exact=True)).to_be_focused()
    # The playhead's range is back-prop alone: the engine's back-prop events.
    page.wait_for_function(f"() => +document.querySelector('#scrubber').max"
                           f" - +document.querySelector('#scrubber').min === {len(events)}")
    assert position(page) == (0, len(events))
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_label("Forward", exact=True)).to_be_checked()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("Both", exact=True)).to_be_checked()


def test_space_and_enter_press_the_focused_button_and_nothing_else(page):
    open_page(page, "?graph=example:reference.expr")
    tab_to(page, "#step-forward")
    page.keyboard.press("Space")
    wait_position(page, 1)
    page.keyboard.press("Enter")
    wait_position(page, 2)
    expect(page.locator("#play")).not_to_have_class(re.compile(r"\bplaying\b"))
    assert position(page)[0] == 2
    # The Share button: Space presses it (a link appears), playback stays paused.
    tab_to(page, "#share", backwards=True)
    page.keyboard.press("Space")
    expect(page.locator("#share-link")).to_be_visible()
    expect(page.locator("#share-link")).to_have_value(re.compile(r"graph=example%3Areference\.expr"))
    expect(page.locator("#play")).not_to_have_class(re.compile(r"\bplaying\b"))
    assert position(page)[0] == 2
    # Play with Space on the Play button, pause with Space again: one toggle per press.
    tab_to(page, "#play")
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_class(re.compile(r"\bplaying\b"))
    page.keyboard.press("Space")
    expect(page.locator("#play")).not_to_have_class(re.compile(r"\bplaying\b"))
    # No shortcut fires while typing: Space and the arrows in the editor move nothing.
    at = position(page)[0]
    tab_to(page, "#expression", backwards=True)
    page.keyboard.press("End")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Backspace")
    expect(page.locator("#play")).not_to_have_class(re.compile(r"\bplaying\b"))
    assert position(page)[0] == at


def node_boxes(page) -> dict[int, tuple[float, float]]:
    """Each drawn node's centre on screen, as the browser laid it out."""
    return {int(k): tuple(v) for k, v in page.evaluate("""() => Object.fromEntries(
      [...document.querySelectorAll('#view g.node')].map((n) => {
        const r = n.querySelector('.shape').getBoundingClientRect();
        return [n.dataset.nodeId, [r.x + r.width / 2, r.y + r.height / 2]]; }))""").items()}


def test_the_graph_is_one_tab_stop_and_arrows_move_between_nodes_as_drawn(page):
    open_page(page, "?graph=example:reference.expr")
    page.wait_for_selector("#view[data-layout=dagre]")
    boxes = node_boxes(page)
    assert len(boxes) == 23
    # Tab through the whole page once: exactly one stop is a graph node.
    tab_to(page, "#graph-select")
    stops = []
    for _ in range(60):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(
            "() => document.activeElement.closest('#view') ? 'graph' : document.activeElement.id"))
        if stops[-1] == "graph-select":
            break
    assert stops.count("graph") == 1, stops
    tab_to(page, "#view g.node [role=button]")
    expect(page.locator("#view [tabindex='0']")).to_have_count(1)

    # Home: the leftmost column's top node; End: the rightmost column's bottom one (the output).
    def at() -> int:
        return int(focused(page, "data-node-id"))

    page.keyboard.press("Home")
    xs = sorted({round(x) for x, _ in boxes.values()})
    first = min((i for i in boxes if round(boxes[i][0]) == xs[0]), key=lambda i: boxes[i][1])
    assert at() == first
    page.keyboard.press("End")
    last = max((i for i in boxes if round(boxes[i][0]) == xs[-1]), key=lambda i: boxes[i][1])
    assert at() == last
    assert focused(page, "data-node-name") == "y"
    shot(page, "keyboard-focus-ring")

    # Each arrow moves the way it points (or stays at an edge), and every node can be reached.
    seen = {last}
    frontier = [last]
    moves = 0
    while frontier:
        start = frontier.pop()
        for key in ("ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"):
            page.locator(f"#view g.node[data-node-id='{start}'] [role=button]").focus()
            page.keyboard.press(key)
            moves += 1
            to = at()
            (x0, y0), (x1, y1) = boxes[start], boxes[to]
            if to != start:
                assert {"ArrowLeft": x1 < x0 - 1, "ArrowRight": x1 > x0 + 1,
                        "ArrowUp": y1 < y0 - 1 and abs(x1 - x0) < 1,
                        "ArrowDown": y1 > y0 + 1 and abs(x1 - x0) < 1}[key], (key, start, to)
            if to not in seen:
                seen.add(to)
                frontier.append(to)
    assert seen == set(boxes), sorted(set(boxes) - seen)
    # The one tab stop is where the focus last was.
    expect(page.locator("#view [tabindex='0']")).to_have_count(1)
    roving = page.locator("#view g.node:has([tabindex='0'])")
    assert roving.get_attribute("data-node-id") == str(at())
    # Moving the focus does not move the playhead.
    assert position(page)[0] == 0


def test_each_node_is_named_by_its_label_value_and_gradient_as_the_playhead_moves(page):
    open_page(page, "?graph=example:reference.expr")
    nodes, _ = engine_program(REFERENCE.read_text(), "reference.expr")
    y = page.locator('#view g.node[data-node-name="y"] [role=button]')
    label = y.get_attribute("aria-label")
    assert label.startswith("y") and "not computed" in label
    # To the end of the trace with the End shortcut (focus on the page, not on a control).
    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.press("End")
    page.wait_for_function("() => { const s = document.querySelector('#scrubber');"
                           " return +s.value === +s.max; }")
    for wire_id in range(len(nodes)):
        el = page.locator(f'#view g.node[data-node-id="{wire_id}"] [role=button]')
        label = el.get_attribute("aria-label")
        value, grad = nodes[wire_id].forward, nodes[wire_id].backward
        assert "value" in label and "gradient" in label and "not computed" not in label, label
        shown_value, shown_grad = numbers_in(label.split(": ", 1)[1].split("value", 1)[1])[:2]
        assert shown_value == pytest.approx(value, rel=1e-3, abs=1e-9), label
        assert shown_grad == pytest.approx(grad, rel=1e-3, abs=1e-9), label
        if nodes[wire_id].name:  # a named node is called by its name (the engine's)
            assert label.startswith(f"{nodes[wire_id].name}, "), label
    # Back to the start: the names lose the numbers again.
    page.keyboard.press("Home")
    expect(y).to_have_attribute("aria-label", re.compile("value not computed yet"))


def big_expression(terms: int = 200, per_line: int = 10) -> str:
    lines = ["x = input(0.5)"]
    parts = []
    for s in range(terms // per_line):
        lines.append(f"s{s} = " + " + ".join(f"sin(x * {s * per_line + k + 1})"
                                             for k in range(per_line)))
        parts.append(f"s{s}")
    lines += ["y = " + " + ".join(parts), "output y"]
    return "\n".join(lines) + "\n"


def test_a_canvas_view_is_reached_moved_through_and_inspected_by_keyboard(page):
    open_page(page, "?graph=example:fanout.expr")
    text = big_expression()
    nodes, _ = engine_program(text, "big.expr")
    assert len(nodes) > 600  # views.js SVG_CAP: drawn on a canvas
    tab_to(page, "#expression")
    page.keyboard.press("Control+A")
    paste(page, text)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(f"body[data-nodes='{len(nodes)}']")
    page.wait_for_selector("#view[data-renderer=canvas]")
    tab_to(page, "#view .graph-canvas")
    canvas = page.locator("#view .graph-canvas")
    live = canvas.locator("[aria-live]")
    first = canvas.get_attribute("data-focus-node")
    assert first is not None
    page.keyboard.press("End")
    expect(canvas).not_to_have_attribute("data-focus-node", first)
    last = int(canvas.get_attribute("data-focus-node"))
    expect(live).to_contain_text("y, operator +, output")
    assert nodes[last].name == "y"
    page.keyboard.press("ArrowLeft")
    expect(canvas).not_to_have_attribute("data-focus-node", str(last))
    target = int(canvas.get_attribute("data-focus-node"))
    # Enter shows it in the Inspector; the playhead to the end with the timeline's End key.
    page.keyboard.press("Enter")
    expect(page.locator("[aria-label=Inspector]")).to_have_attribute("data-node-id", str(target))
    tab_to(page, "#scrubber")
    page.keyboard.press("End")
    page.wait_for_function("() => { const s = document.querySelector('#scrubber');"
                           " return +s.value === +s.max; }")
    shown = inspector(page)
    assert shown["node"] == str(target)
    assert float(shown["value"]) == nodes[target].forward
    assert float(shown["grad"]) == nodes[target].backward
    # The live description has the numbers too, to the four digits it shows.
    tab_to(page, "#view .graph-canvas", backwards=True)
    words = live.text_content()
    assert "not computed" not in words, words
    value, grad = numbers_in(words.split("value", 1)[1])[:2]
    assert value == pytest.approx(nodes[target].forward, rel=1e-3, abs=1e-9)
    assert grad == pytest.approx(nodes[target].backward, rel=1e-3, abs=1e-9)
    shot(page, "keyboard-canvas-focus")


def test_network_blocks_are_one_tab_stop_enter_expands_and_escape_comes_back(page):
    open_page(page, "?graph=model:resnet")
    page.wait_for_selector("#view[data-view=blocks]")
    tab_to(page, "#view g.block [role=button]")
    expect(page.locator("#view [tabindex='0']")).to_have_count(1)
    # Find Conv2 with the arrows alone: down the main column.
    for _ in range(40):
        if focused(page, "data-block") == "Conv2":
            break
        page.keyboard.press("ArrowDown")
    assert focused(page, "data-block") == "Conv2"
    page.keyboard.press("Enter")
    expect(page.locator("#view")).to_have_attribute("data-view", "block")
    expect(page.locator("#breadcrumb [aria-current]")).to_have_text("Conv2")
    page.wait_for_function("() => document.activeElement.closest('#view') !== null")
    page.keyboard.press("Escape")
    expect(page.locator("#view")).to_have_attribute("data-view", "blocks")
    page.wait_for_function(
        "() => document.activeElement.closest('g.block').dataset.block === 'Conv2'")
    expect(page.locator("#view [tabindex='0']")).to_have_count(1)


def test_the_keyboard_help_opens_with_question_mark_or_its_button_and_escape_returns(page):
    open_page(page, "?graph=example:reference.expr")
    tab_to(page, "#step-forward")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard")
    expect(dialog).to_be_visible()
    for words in ("Play / pause", "Step forward one event", "Move between nodes",
                  "Show or hide this help"):
        expect(dialog).to_contain_text(words)
    shot(page, "keyboard-help-1400")
    # It fits a projector and a phone: inside the viewport, whatever its size.
    for width, height in ((1024, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        box = dialog.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
        shot(page, f"keyboard-help-{width}")
    # The keys it lists do what it says: K plays, K again pauses (from outside the dialog).
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#step-forward")).to_be_focused()
    page.keyboard.press("k")
    expect(page.locator("#play")).to_have_class(re.compile(r"\bplaying\b"))
    page.keyboard.press("k")
    expect(page.locator("#play")).not_to_have_class(re.compile(r"\bplaying\b"))
    # The button opens it too; `?` closes it; the focus goes back to the button.
    tab_to(page, "#keyboard-help", backwards=True)
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("?")
    expect(dialog).to_be_hidden()
    expect(page.locator("#keyboard-help")).to_be_focused()


def stopped_run(page, run_id: str) -> dict | None:
    """The server's record of the run once it says "stopped" (None before; a 429 while the page's
    own requests use the workspace's share of the server is "not yet" too)."""
    response = page.request.get(f"{page.base_url}/api/runs/{run_id}")
    if not response.ok:
        assert response.status == 429, response.status
        return None
    run = response.json()
    return run if run["status"] == "stopped" else None


# -- the journey of the Tests section ------------------------------------------------------
def test_keyboard_only_load_play_mode_step_inspect_train_and_stop(page):
    open_page(page, "?graph=example:reference.expr")
    nodes, events = engine_program(FANOUT.read_text(), "fanout.expr")

    # Load an example: the menu, by typing its first letter.
    tab_to(page, "#graph-select")
    page.keyboard.type("fan")
    page.wait_for_selector("body[data-graph='example:fanout.expr']")
    page.wait_for_function("() => !document.querySelector('#play').disabled")
    expect(page.locator("#graph-select")).to_be_focused()

    # Play, then pause.
    tab_to(page, "#play")
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_class(re.compile(r"\bplaying\b"))
    page.keyboard.press("Enter")
    expect(page.locator("#play")).not_to_have_class(re.compile(r"\bplaying\b"))

    # Change the mode to Back-prop: the range is the engine's back-prop events.
    tab_to(page, "input[name=mode]:checked")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_label("Back-prop", exact=True)).to_be_checked()
    page.wait_for_function(f"() => +document.querySelector('#scrubber').max"
                           f" - +document.querySelector('#scrubber').min === {len(events)}")

    # Step twice.
    tab_to(page, "#step-forward", backwards=True)
    done = position(page)[0]
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    wait_position(page, done + 2)

    # Inspect a node: into the graph, to its first node, Enter.
    tab_to(page, "#view g.node [role=button]", backwards=True)
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    target = int(focused(page, "data-node-id"))
    page.keyboard.press("Enter")
    expect(page.locator("[aria-label=Inspector]")).to_have_attribute("data-node-id", str(target))
    tab_to(page, "#scrubber")
    page.keyboard.press("End")
    page.wait_for_function("() => { const s = document.querySelector('#scrubber');"
                           " return +s.value === +s.max; }")
    shown = inspector(page)
    assert shown["node"] == str(target), shown  # pinned: it did not follow the playhead
    assert float(shown["value"]) == nodes[target].forward
    assert float(shown["grad"]) == nodes[target].backward
    shot(page, "keyboard-journey-inspected")

    # Train: the Training tab, the MLP, a run long enough to stop, Train, Stop.
    tab_to(page, "[role=tab][aria-selected=true]", backwards=True)
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Training")).to_have_attribute("aria-selected", "true")
    page.wait_for_selector("body[data-training-ready=true]")
    tab_to(page, "select[name=model]")
    page.keyboard.press("ArrowDown")  # the next model: the MLP
    expect(page.locator("select[name=model]")).to_have_value("mlp")
    for name, value in (("epochs", "1000"), ("batch_size", "64")):
        tab_to(page, f"input[name={name}]")
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
    try:
        tab_to(page, "#train")
        page.keyboard.press("Enter")
        row = page.locator(".run-row[aria-current][data-status=running]")
        expect(row).to_have_count(1)
        run_id = row.get_attribute("data-run")
        page.wait_for_function("id => +document.querySelector(`.run-row[data-run='${id}']`)"
                               ".dataset.steps > 0", arg=run_id)  # it has trained a little
        tab_to(page, "#stop")
        page.keyboard.press("Space")
        run = wait_until(lambda: stopped_run(page, run_id))
        assert run["config"]["model"] == "mlp"
        assert run["config"]["epochs"] == 1000 and run["config"]["batch_size"] == 64
        steps = [r for r in run["metrics"] if r["type"] == "step"]
        assert 0 < len(steps) < 1000 * math.ceil(1437 / 64)  # stopped before the end
        page.wait_for_selector(f'.run-row[data-run="{run_id}"][data-status=stopped]')
        shot(page, "keyboard-journey-stopped")
    finally:
        for run in page.request.get(f"{page.base_url}/api/runs").json()["runs"]:
            if run["status"] == "running":
                page.request.delete(f"{page.base_url}/api/runs/{run['id']}")


def test_training_tab_keys_stay_with_the_tab_and_tabs_follow_the_aria_pattern(page):
    open_training(page)
    tab_to(page, "[role=tab][aria-selected=true]")
    assert focused(page, "data-mode") == "training"
    page.keyboard.press("Home")
    expect(page.get_by_role("tab", name="Graph")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Graph")).to_be_focused()
    page.keyboard.press("End")  # the last of the three tabs
    expect(page.get_by_role("tab", name="Playground")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="Training")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="Graph")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")  # wraps
    expect(page.get_by_role("tab", name="Playground")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowRight")  # and back round
    expect(page.get_by_role("tab", name="Graph")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Graph")).to_be_focused()


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_serious(page, selector: str) -> list:
    """axe-core's serious and critical violations inside `selector` (evaluated, not injected as a
    script tag: the page's CSP allows no inline scripts)."""
    page.evaluate(AXE.read_text() + "; 0")
    return page.evaluate("""async (s) => (await axe.run(s, {resultTypes: ['violations']}))
      .violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => [v.id, v.nodes.slice(0, 3).map((n) => n.target.join(' '))])""", selector)


def test_the_keyboard_parts_pass_axe_at_the_start_and_the_end_of_a_trace(page):
    open_page(page, "?graph=example:reference.expr")
    assert axe_serious(page, "#view") == []
    page.keyboard.press("End")  # every node now shows a value and a gradient
    page.wait_for_function("() => { const s = document.querySelector('#scrubber');"
                           " return +s.value === +s.max; }")
    page.wait_for_selector('#view g.node[data-node-name="y"][data-grad]')
    assert axe_serious(page, "#view") == []
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard")).to_be_visible()
    assert axe_serious(page, "dialog") == []
    page.keyboard.press("Escape")
    open_page(page, "?graph=model:resnet")
    page.wait_for_selector("#view[data-view=blocks]")
    assert axe_serious(page, "#view") == []
