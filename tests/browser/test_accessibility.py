"""Issue 11: axe-core finds no serious or critical violation on any tab, in any main state, at
1024×768 in the light and the dark theme.

axe-core (node_modules/axe-core, from npm) is the outside oracle: it is injected into the page
as it stands (the context bypasses the page's CSP for that one script) and run over the whole
document. A failure lists each rule with the elements it names.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import shot
from .pages import node, open_page, set_speed, start_run, wait_run_status
from .screens import AXE, SCHEMES, screen

WIDTH, HEIGHT = 1024, 768
SERIOUS = ("serious", "critical")
def serious_violations(page, only: str | None = None) -> list[str]:
    """'rule (impact): target — summary' for every serious or critical violation axe finds
    (of the one rule `only` names, if given)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async (only) => {
        const result = await axe.run(document, { resultTypes: ['violations'] });
        return result.violations.filter((v) => (only ? v.id === only : true)).map((v) => ({
          id: v.id, impact: v.impact,
          nodes: v.nodes.map((n) => ({ target: n.target.join(' '), impact: n.impact,
                                       summary: n.failureSummary })) }));
    }""", only)
    return [f"{v['id']} ({n['impact']}): {n['target']} — {n['summary']}"
            for v in violations for n in v["nodes"] if (n["impact"] or v["impact"]) in SERIOUS]


@pytest.fixture(params=SCHEMES)
def a11y_page(request, browser, server, console):
    with screen(browser, server, console, WIDTH, HEIGHT, request.param, bypass_csp=True) as page:
        page.scheme = request.param
        yield page


def check(page, state: str):
    shot(page, f"a11y-{state}-{page.scheme}")
    found = serious_violations(page)
    assert found == [], f"{state} ({page.scheme}):\n" + "\n".join(found)


def test_graph_tab_loaded_playing_and_a_node_selected(a11y_page):
    page = a11y_page
    open_page(page)
    check(page, "graph-loaded")

    # Mid-animation: half way through, playing slowly (a pulse on its way, partial sums shown).
    set_speed(page, 0)
    page.get_by_label("Timeline").fill("40")
    page.get_by_role("button", name="Play").click()
    expect(page.locator("#play")).to_have_class(re.compile(r"\bplaying\b"))
    page.wait_for_function("() => document.querySelector('#view .term')")
    check(page, "graph-playing")
    page.get_by_role("button", name="Pause").click()

    node(page, "x2").click()
    expect(page.locator("#inspector h3")).to_have_text("x2")
    check(page, "graph-node-selected")


def test_a_block_expanded(a11y_page):
    page = a11y_page
    open_page(page, "?graph=model:resnet")
    check(page, "blocks")
    page.locator('[data-block="Conv2"]').click()
    expect(page.locator("#view")).to_have_attribute("data-view", "block")
    page.wait_for_function("() => document.querySelector('#view').dataset.painted")
    check(page, "block-expanded")


def test_training_tab_with_a_finished_short_run(a11y_page):
    page = a11y_page
    open_page(page)
    page.get_by_role("tab", name="Training").click()
    page.wait_for_selector("body[data-training-ready=true]")
    check(page, "training-empty")
    run_id = start_run(page, model="mlp", epochs=1, batch_size=64, name=f"a11y {page.scheme}")
    wait_run_status(page, run_id, "completed")
    page.wait_for_function("() => document.querySelector('#confusion table td[data-count]')")
    check(page, "training-finished")


def test_playground_tab_trained_and_an_edge_being_edited(a11y_page):
    page = a11y_page
    page.goto(page.base_url + "/#playground")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function("() => document.querySelector('#pg-boundary').dataset.epoch === '0'")
    check(page, "playground")
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function("() => document.querySelector('#pg-boundary').dataset.step === '1'")
    page.locator("#pg-network .pg-edge-hit").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".pg-weight-editor input")).to_be_focused()
    check(page, "playground-editing")


def test_training_tab_pictures_of_a_resnet_run(a11y_page):
    """The digits, a confusion cell's images, the maps, the kernels and the drawing grid."""
    page = a11y_page
    open_page(page)
    page.get_by_role("tab", name="Training").click()
    page.wait_for_selector("body[data-training-ready=true]")
    run_id = start_run(page, model="resnet", epochs=1, batch_size=256, width=4,
                       name=f"a11y pictures {page.scheme}")
    wait_run_status(page, run_id, "completed")
    page.wait_for_selector('#pictures-card[data-state=ready] #digit-maps[data-epoch="1"]',
                           timeout=60_000)  # a run's epoch, then its maps: slow on a busy runner
    page.locator('#confusion td[data-true="1"]').first.click()
    check(page, "training-pictures")


def test_graph_nodes_and_blocks_are_named_with_their_visible_text(a11y_page):
    """Each node's and block's accessible name holds what it shows (label-in-name, WCAG 2.5.3),
    once values and gradients are on screen."""
    page = a11y_page
    open_page(page)
    set_speed(page, 100)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => document.querySelector('#view .node[data-grad]')")
    found = serious_violations(page, only="label-content-name-mismatch")
    open_page(page, "?graph=model:resnet")
    found += serious_violations(page, only="label-content-name-mismatch")
    assert found == [], "\n".join(found)
