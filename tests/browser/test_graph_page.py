"""The graph page (issue 6), in Chromium against a real server.

Every number checked comes from an outside oracle — math with hand-written derivatives, or the
engine loading the same file in this process — never from the page itself.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from pathlib import Path

import pytest
from playwright.sync_api import expect

from engine import DomainError, formats
from engine.training import resnet

from .conftest import shot
from .pages import (
    choose_mode,
    expect_editor_read_only,
    expect_editor_text,
    fill_editor,
    node,
    number,
    open_page,
    play_to_end,
    position,
    reference_oracle,
    set_speed,
    wait_trace,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REFERENCE = EXAMPLES / "reference.expr"


def engine_run(text: str, filename: str = "graph.expr", **values):
    loaded = formats.load(text, filename=filename)
    for name, value in values.items():
        loaded.inputs[name].feed(value)
    return loaded.compute()


def test_reference_expression_plays_to_the_engines_values(page):
    open_page(page, "?graph=example:fanout.expr")
    # Load the file as a user would: through the upload control.
    page.get_by_label("Upload a graph file").set_input_files(str(REFERENCE))
    page.wait_for_function("() => !document.body.dataset.graph.startsWith('example:')")
    wait_trace(page)
    expect(node(page, "x1")).to_be_visible()
    expect(page.locator("#view")).to_have_attribute("data-layout", "dagre")  # from the worker
    shot(page, "reference-loaded")
    play_to_end(page)
    shot(page, "reference-played")

    y, grads = reference_oracle()
    engine = engine_run(REFERENCE.read_text(), "reference.expr")
    shown_y = number(page, node(page, "y"), "data-value")
    assert shown_y == engine.outputs["y"]
    assert shown_y == pytest.approx(y, rel=1e-12)
    for name in ("x1", "x2", "x3"):
        shown = number(page, node(page, name), "data-grad")
        assert shown == engine.gradients[name]
        assert shown == pytest.approx(grads[name], rel=1e-12)


def inspector_state(page) -> dict:
    return page.evaluate("""() => {
        const root = document.querySelector('[aria-label=Inspector]');
        const arrived = [...root.querySelectorAll('.contributions li.arrived')];
        const sum = root.querySelector('.sum');
        const grad = root.querySelector('[data-field=grad]');
        return {
          node: root.dataset.nodeId,
          contributions: arrived.map((li) => ({parent: li.dataset.parent,
            value: +li.dataset.contribution, local: li.dataset.local && +li.dataset.local,
            upstream: li.dataset.upstream && +li.dataset.upstream})),
          sum: sum ? sum.dataset.sum : null,
          count: sum ? +sum.dataset.count : 0,
          grad: grad && grad.dataset.grad ? +grad.dataset.grad : null,
        };
    }""")


def wait_event(page, index: int):
    """Until the page has drawn the playhead at event `index` (absolute)."""
    page.wait_for_function("i => document.querySelector('#caption').dataset.index === String(i)",
                           arg=index)


def test_stepping_through_backprop_shows_each_contribution_and_step_back_undoes(page):
    open_page(page, "?graph=example:reference.expr")
    choose_mode(page, "Back-prop")

    # The oracle: the engine's own back-prop events for the same file, in its order.
    loaded = formats.load(REFERENCE.read_text(), filename="reference.expr")
    wire = loaded.graph.program().position  # engine node -> wire id (its program position)
    loaded.graph.compute_forward()
    events = []
    loaded.graph.back_prop(events.append)
    done, total = position(page)
    assert (done, total) == (0, len(events))
    start = int(page.locator("#scrubber").get_attribute("min"))

    received = defaultdict(list)
    snapshots = []
    for k, event in enumerate(events):
        page.get_by_role("button", name="Step forward").click()
        wait_event(page, start + k)
        state = inspector_state(page)
        assert page.locator("#caption").get_attribute("data-kind") == event.kind
        if event.kind == "gradient":
            assert state["node"] == str(wire[event.node])
            assert state["grad"] == event.value
        else:
            target = wire[event.node] if event.kind == "seed" else wire[event.child]
            received[target].append(event.value)
            assert state["node"] == str(target)
            shown = sorted(c["value"] for c in state["contributions"])
            assert shown == sorted(received[target])
            running = 0.0
            for c in received[target]:
                running += c
            assert float(state["sum"]) == running
            assert state["count"] == len(received[target])
            if event.kind == "edge":
                mine = [c for c in state["contributions"] if c["parent"] == str(wire[event.node])]
                assert any(c["local"] == event.local and c["upstream"] == event.upstream
                           and c["value"] == event.value for c in mine)
        snapshots.append(state)
        if k == 6:
            shot(page, "backprop-step-7")
    shot(page, "backprop-stepped-to-end")

    # Step back (button and ←): each state is exactly the one before.
    for k in range(len(events) - 1, 0, -1):
        if k % 2:
            page.get_by_role("button", name="Step back").click()
        else:
            page.keyboard.press("ArrowLeft")
        wait_event(page, start + k - 1)
        assert inspector_state(page) == snapshots[k - 1]
        if k == len(events) - 10:
            shot(page, "backprop-stepped-back")
    assert position(page)[0] == 1
    page.keyboard.press("ArrowLeft")
    assert position(page)[0] == 0
    for name in ("x1", "x2", "x3", "y"):
        assert node(page, name).get_attribute("data-grad") is None  # undone: no gradient


def test_invalid_expression_shows_its_line_keeps_the_graph_then_a_valid_one_loads(page, console):
    console.allow(r"status of 400")  # the upload is refused, as it should be
    open_page(page, "?graph=example:reference.expr")
    fill_editor(page, "a = input(1)\nb = sin(a +\noutput b\n")
    page.get_by_role("button", name="Load", exact=True).click()
    problem = page.locator(".problems li").first
    expect(problem).to_contain_text("Line 2")
    assert problem.get_attribute("data-line") == "2"
    # Line 2's number marked in the gutter, and its text from column 12 underlined, there only.
    expect(page.locator("#editor .cm-lineNumbers .problem-line")).to_have_text("2")
    expect(page.locator("#editor .cm-lintRange-error")).to_have_count(1)
    expect(page.locator("#editor .cm-line").nth(1).locator(".cm-lintRange-error")).to_have_count(1)
    shot(page, "expression-error")

    # The previous graph is still there, and still plays.
    assert page.locator("body").get_attribute("data-graph") == "example:reference.expr"
    play_to_end(page)
    y, _ = reference_oracle()
    assert number(page, node(page, "y"), "data-value") == pytest.approx(y, rel=1e-12)

    text = "a = input(0.5)\nb = input(2)\nz = a * b + sin(a)\noutput z\n"
    fill_editor(page, text)
    page.get_by_role("button", name="Load", exact=True).click()
    expect(node(page, "z")).to_be_visible()
    expect(page.locator(".problems li")).to_have_count(0)
    wait_trace(page)
    play_to_end(page)
    shot(page, "expression-valid")
    assert number(page, node(page, "z"), "data-value") == pytest.approx(0.5 * 2 + math.sin(0.5),
                                                                         rel=1e-12)
    assert number(page, node(page, "a"), "data-grad") == pytest.approx(2 + math.cos(0.5), rel=1e-12)
    assert number(page, node(page, "b"), "data-grad") == pytest.approx(0.5, rel=1e-12)


def test_what_if_changing_x1_updates_y_and_gradients_to_the_engines(page):
    open_page(page, "?graph=example:reference.expr")
    play_to_end(page)
    before = number(page, node(page, "y"), "data-value")
    field = page.get_by_label("x1", exact=True)
    field.fill("0.9")
    field.press("Tab")
    page.wait_for_function(
        "v => document.querySelector('[data-node-name=y]').dataset.value !== v", arg=str(before))
    shot(page, "what-if-x1")
    engine = engine_run(REFERENCE.read_text(), "reference.expr", x1=0.9)
    y, grads = reference_oracle(x1=0.9)
    assert number(page, node(page, "y"), "data-value") == engine.outputs["y"]
    assert engine.outputs["y"] == pytest.approx(y, rel=1e-12)
    for name in ("x1", "x2", "x3"):
        assert number(page, node(page, name), "data-grad") == engine.gradients[name]
        assert engine.gradients[name] == pytest.approx(grads[name], rel=1e-12)


def test_gradient_check_marks_every_input(page):
    open_page(page, "?graph=example:reference.expr")
    page.get_by_label("Gradient check (finite differences on the server)").check()
    rows = page.locator(".gradcheck-result tbody tr")
    expect(rows).to_have_count(3)
    for name in ("x1", "x2", "x3"):
        expect(node(page, name)).to_have_attribute("data-check", "agree")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.agree)") == ["true"] * 3
    shot(page, "gradient-check")


def test_resnet_grouped_view_renders_and_a_block_expands(page):
    open_page(page, "?graph=model:resnet")
    model = resnet(width=32)
    described = model.graph.describe()["nodes"]
    expected = defaultdict(int)
    for n in described:
        if n["group"]:
            expected[n["group"]] += 1
    blocks = page.locator("[data-block]")
    shown = dict(blocks.evaluate_all("bs => bs.map(b => [b.dataset.block, +b.dataset.count])"))
    for group, count in expected.items():
        assert shown[group] == count
    assert sum(shown.values()) == len(described)
    skip = page.locator('.link[data-source="image"][data-target^="Add"]')
    expect(skip).to_have_count(1)
    expect(skip).to_have_class(re.compile(r"\bskip\b"))
    shot(page, "resnet-blocks")

    set_speed(page, 100)
    page.get_by_role("button", name="Play").click()
    expect(page.locator('[data-block="Loss"][data-mean-abs-grad]')).to_have_count(1, timeout=30_000)
    page.get_by_role("button", name="Pause").click()
    shot(page, "resnet-blocks-backprop")

    page.locator('[data-block="Conv2"]').click()
    expect(page.locator("#view")).to_have_attribute("data-view", "block")
    expect(page.locator("#breadcrumb [aria-current]")).to_have_text("Conv2")
    page.wait_for_timeout(300)
    shot(page, "resnet-conv2-expanded")
    page.get_by_role("button", name="Blocks").click()
    expect(page.locator("#view")).to_have_attribute("data-view", "blocks")


def test_export_svg_holds_the_graph(page):
    open_page(page, "?graph=example:reference.expr")
    play_to_end(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Export SVG").click()
    svg = Path(info.value.path()).read_text()
    assert svg.startswith("<svg") and 'data-node-name="y"' in svg
    y = engine_run(REFERENCE.read_text(), "reference.expr").outputs["y"]
    assert f'data-value="{y!r}"' in svg


def test_a_what_if_outside_the_domain_says_where_and_keeps_the_previous_trace(page):
    open_page(page, "?graph=example:reference.expr")
    play_to_end(page)
    before = number(page, node(page, "y"), "data-value")
    field = page.get_by_label("x3", exact=True)
    field.fill("-1")
    field.press("Tab")
    message = page.get_by_role("alert").filter(has_text="log")
    expect(message).to_be_visible()
    # The engine, asked the same, names the same node.
    loaded = formats.load(REFERENCE.read_text(), filename="reference.expr")
    loaded.inputs["x3"].feed(-1.0)
    with pytest.raises(DomainError) as failure:
        loaded.graph.compute_forward()
    failing = loaded.graph.program().position[failure.value.node]
    expect(page.get_by_role("region", name="Inspector")).to_have_attribute(
        "data-node-id", str(failing))
    assert number(page, node(page, "y"), "data-value") == before
    expect(field).to_have_value("1.4")  # the value that worked is back
    shot(page, "what-if-domain-error")
    # and the next what-if runs from there
    x1 = page.get_by_label("x1", exact=True)
    x1.fill("0.9")
    x1.press("Tab")
    page.wait_for_function(
        "v => document.querySelector('[data-node-name=y]').dataset.value !== v", arg=str(before))
    expect(message).to_be_hidden()
    assert number(page, node(page, "y"), "data-value") == engine_run(
        REFERENCE.read_text(), "reference.expr", x1=0.9).outputs["y"]


def test_a_shared_link_opens_the_same_graph_read_only(page, browser):
    open_page(page, "?graph=example:reference.expr")
    text = "u = input(1.5)\nv = input(-0.5)\nw = exp(u * v) / (1 + u)\noutput w\n"
    fill_editor(page, text)
    page.get_by_role("button", name="Load", exact=True).click()
    expect(node(page, "w")).to_be_visible()
    wait_trace(page)
    page.get_by_role("button", name="Share").click()
    # A URL-safe token: "-" and "_" are among its letters (one started with "-" and failed \w).
    expect(page.get_by_label("Read-only link")).to_have_value(re.compile(r"\?shared=[\w-]{8}"))
    link = page.get_by_label("Read-only link").input_value()

    other = browser.new_context(viewport={"width": 1400, "height": 860})  # another workspace
    try:
        viewer = other.new_page()
        viewer.base_url = page.base_url
        viewer.goto(link)
        viewer.wait_for_selector("body[data-ready=true]")
        wait_trace(viewer)
        expect_editor_read_only(viewer, True)
        expect_editor_text(viewer, text)
        play_to_end(viewer)
        u, v = 1.5, -0.5
        assert number(viewer, node(viewer, "w"), "data-value") == pytest.approx(
            math.exp(u * v) / (1 + u), rel=1e-12)
        assert number(viewer, node(viewer, "u"), "data-grad") == pytest.approx(
            v * math.exp(u * v) / (1 + u) - math.exp(u * v) / (1 + u) ** 2, rel=1e-12)
        shot(viewer, "shared-read-only")
    finally:
        other.close()
