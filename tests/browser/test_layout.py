"""Issue 11, finding 7: the page fits a laptop, a projector, a tablet and a phone; projector
mode, the dark theme, reduced motion, contrast and exports.

The oracles are the browser's own layout (scroll widths, bounding boxes, what is painted at a
point, computed styles and screen transforms) and the WCAG 2.1 contrast formula, computed here in
Python from the colours the browser reports. Screenshots of every tab at every size, light and
dark (and in projector mode) go to artifacts/layout-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.live_server import LiveServer

from .conftest import shot
from .pages import open_page, play_to_end, set_speed, wait_trace
from .screens import (
    GRAPH_CONTROLS,
    SCHEMES,
    SIZES,
    TRAINING_CONTROLS,
    contrast,
    is_dark,
    screen,
    scroll_width,
    unseen_controls,
)
from .test_sharing import load_expression, share

NARROW = 900  # app.css: at this width and below the page is one column


def step_once(page):
    """Press Step forward and wait for the frame that draws the new playhead."""
    before = page.locator("#caption").get_attribute("data-index")
    page.get_by_role("button", name="Step forward").click()
    page.wait_for_function("b => document.querySelector('#caption').dataset.index !== b",
                           arg=before)


def open_training_tab(page):
    page.get_by_role("tab", name="Training").click()
    page.wait_for_selector("body[data-training-ready=true]")
    # The view beside the curves shows the model the form would train.
    page.wait_for_selector('body[data-graph="model:resnet"]')
    page.wait_for_selector("#view[data-painted]")


def test_the_wcag_formula_agrees_with_known_ratios():
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # WCAG's own example
    assert contrast("rgb(255, 255, 255)", "#fff") == pytest.approx(1.0)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_tab_fits_the_screen_with_its_controls_in_view(browser, server, console, width,
                                                             height, scheme):
    with screen(browser, server, console, width, height, scheme) as page:
        open_page(page)
        assert scroll_width(page) <= width
        assert unseen_controls(page, GRAPH_CONTROLS) == {}
        if width <= NARROW:  # the graph keeps the full width; the panels stack under it
            view = page.locator("#view").bounding_box()
            assert view["width"] >= width - 2
        shot(page, f"layout-graph-{width}x{height}-{scheme}")

        open_training_tab(page)
        assert scroll_width(page) <= width
        assert unseen_controls(page, TRAINING_CONTROLS) == {}
        shot(page, f"layout-training-{width}x{height}-{scheme}")


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_a_shared_graph_page_fits_every_screen(page, browser, server, console, width, height):
    open_page(page)
    load_expression(page, "p = input(2.0)\nq = input(3.0)\nr = p * q + sin(p)\noutput r\n")
    link = share(page)
    for scheme in SCHEMES:
        with screen(browser, server, console, width, height, scheme) as viewer:
            viewer.goto(link)
            viewer.wait_for_selector("body[data-ready=true]")
            wait_trace(viewer)
            assert scroll_width(viewer) <= width
            controls = {k: v for k, v in GRAPH_CONTROLS.items() if k != "Load"}  # read-only
            assert unseen_controls(viewer, controls) == {}
            shot(viewer, f"layout-shared-{width}x{height}-{scheme}")


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    """A server that asks visitors for an access token (its token page is what they see)."""
    data = tmp_path_factory.mktemp("token-data")
    with LiveServer(data, args=("--token", "layout-token")) as live:
        yield live


@pytest.mark.slow
@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_token_page_fits_every_screen(browser, token_server, console, width, height):
    for scheme in SCHEMES:
        with screen(browser, token_server, console, width, height, scheme) as page:
            console.allow(r"401")  # the page itself answers 401 until the token is given
            page.goto(token_server.url + "/")
            expect(page.get_by_label("Access token")).to_be_visible()
            assert scroll_width(page) <= width
            controls = {"Access token": "#token", "Open": "button[type=submit]"}
            assert unseen_controls(page, controls) == {}
            shot(page, f"layout-token-{width}x{height}-{scheme}")


def test_panels_fold_behind_buttons_and_the_graph_takes_their_room(browser, server, console):
    with screen(browser, server, console, 1024, 768) as page:
        open_page(page)
        view = page.locator("#view")
        before = view.bounding_box()["width"]
        editor = page.get_by_role("button", name="Editor")
        expect(editor).to_have_attribute("aria-expanded", "true")
        expect(editor).to_have_attribute("aria-controls", "define")
        editor.click()
        expect(editor).to_have_attribute("aria-expanded", "false")
        expect(page.locator("#define")).to_be_hidden()
        inspector = page.get_by_role("button", name="Inspector", exact=True)
        inspector.click()
        expect(inspector).to_have_attribute("aria-expanded", "false")
        expect(page.locator("#inspector")).to_be_hidden()
        expect(view).to_have_js_property("clientWidth", 1024)
        assert view.bounding_box()["width"] > before
        shot(page, "layout-panels-folded-1024x768")
        editor.click()
        expect(page.get_by_role("button", name="Load", exact=True)).to_be_visible()


# -- projector mode ----------------------------------------------------------------------------
LABEL_SIZES = """() => Array.from(document.querySelectorAll(
    '#view .node text.op, #view .node text.name, #view .node text.value, #view .node text.grad,'
    + ' #view .edge text.edge-value'))
  .filter((t) => t.textContent.trim() !== '')
  .map((t) => {
    const css = parseFloat(getComputedStyle(t).fontSize);
    return [t.getAttribute('class'), css, css * t.getScreenCTM().a];
  })"""


def label_sizes(page) -> list[tuple[str, float, float]]:
    """(class, computed font size, size on screen) of every label drawn in the graph."""
    return page.evaluate(LABEL_SIZES)


def toggle_projector(page):
    """Press Projector and wait for the graph drawn anew in its new layout."""
    before = page.locator("#view").get_attribute("data-painted")
    page.get_by_role("button", name="Projector").click()
    page.wait_for_function("b => document.querySelector('#view').dataset.painted !== b", arg=before)
    page.wait_for_function("() => document.querySelector('#view .node[data-value]')")


def test_projector_mode_writes_every_label_at_16_px_or_more(browser, server, console):
    with screen(browser, server, console, 1024, 768) as page:
        open_page(page, "?graph=example:reference.expr&projector=1")
        projector = page.get_by_role("button", name="Projector")
        expect(projector).to_have_attribute("aria-pressed", "true")
        play_to_end(page)
        sizes = label_sizes(page)
        kinds = {kind for kind, _, _ in sizes}
        assert {"op", "name", "value", "grad", "edge-value"} <= kinds
        small = [s for s in sizes if s[1] < 16 or s[2] < 16 - 1e-9]
        assert small == []
        texts = page.evaluate("""() => Array.from(document.querySelectorAll(
            'label, button, .section-title, .caption, #position, .facts dt, .facts dd'))
          .filter((e) => e.offsetParent && e.textContent.trim())
          .map((e) => [e.textContent.trim().slice(0, 30),
                       parseFloat(getComputedStyle(e).fontSize)])""")
        assert [t for t in texts if t[1] < 16] == []
        assert scroll_width(page) <= 1024
        assert unseen_controls(page, GRAPH_CONTROLS) == {}
        shot(page, "layout-projector-graph-1024x768-light")

        # Off again: the address forgets it, the labels go back to their ordinary sizes (the
        # graph is laid out again, tighter).
        toggle_projector(page)
        expect(projector).to_have_attribute("aria-pressed", "false")
        assert "projector" not in page.url
        assert max(s[1] for s in label_sizes(page)) < 16
        toggle_projector(page)
        assert "projector=1" in page.url
        open_training_tab(page)
        shot(page, "layout-projector-training-1024x768-light")


@pytest.mark.parametrize("width,height", [(1024, 768), (390, 844)], ids=["1024x768", "390x844"])
def test_fitted_graph_labels_stay_readable(browser, server, console, width, height):
    """Edge labels were 9.5 px and shrank with the fit (to about 4.5 px at 1024×768)."""
    with screen(browser, server, console, width, height) as page:
        open_page(page)
        play_to_end(page)
        sizes = label_sizes(page)
        assert sizes
        assert [s for s in sizes if s[2] < 11] == []


# -- the dark theme ------------------------------------------------------------------------------
# The colour behind an element: its own background or, where that is transparent, the nearest
# ancestor's (the canvas of the page is white when nothing paints it).
EFFECTIVE_BACKGROUND = """(el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    const alpha = c.startsWith('rgba') ? parseFloat(c.split(',')[3]) : 1;
    if (alpha > 0) return c;
  }
  return 'rgb(255, 255, 255)'; }"""


def background(page, selector: str = "body") -> str:
    return page.locator(selector).evaluate(EFFECTIVE_BACKGROUND)


def test_dark_theme_follows_the_system_and_a_remembered_choice(browser, server, console):
    with screen(browser, server, console, 1024, 768, "dark") as page:
        open_page(page)
        theme = page.get_by_label("Theme")
        expect(theme).to_have_value("system")
        assert is_dark(background(page))
        assert is_dark(background(page, "#graph-panel"))
        # The SVG view: a node not reached yet is painted dark, its name light.
        shape = page.locator('#view .node[data-node-name="x1"] .shape')
        assert is_dark(shape.evaluate("e => getComputedStyle(e).fill"))
        legend = page.locator("#legend .legend-title").evaluate("e => getComputedStyle(e).fill")
        assert contrast(legend, background(page, "#graph-panel")) >= 4.5

        theme.select_option("light")
        assert not is_dark(background(page))
        # Drawn fills follow at once (the view draws itself anew in the theme's colours).
        page.wait_for_function("""() => {
            const s = document.querySelector('#view .node[data-node-name="x1"] .shape');
            return s && getComputedStyle(s).fill !== 'rgb(42, 49, 59)'; }""")  # dark's #2a313b
        assert not is_dark(shape.evaluate("e => getComputedStyle(e).fill"))
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        expect(page.get_by_label("Theme")).to_have_value("light")  # remembered
        assert not is_dark(background(page))
        page.get_by_label("Theme").select_option("dark")
        assert is_dark(background(page))
        shot(page, "layout-theme-dark-chosen")


def test_dark_theme_covers_the_canvas_view_and_the_charts(browser, server, console):
    with screen(browser, server, console, 1366, 768, "dark") as page:
        open_page(page, "?graph=model:resnet")
        page.locator('[data-block="Conv2"]').click()
        page.get_by_role("button", name="All 4,618 nodes").click()  # not its image: every node
        expect(page.locator("#view")).to_have_attribute("data-renderer", "canvas")
        page.wait_for_function("() => document.querySelector('#view').dataset.painted")
        # Every node is not reached yet: the canvas paints them all in the dark theme's colour.
        unreached = page.evaluate("""() => { const p = document.createElement('span');
            p.style.color = 'var(--node-unreached)'; document.body.append(p);
            const c = getComputedStyle(p).color; p.remove(); return c; }""")
        assert is_dark(unreached)
        painted = page.evaluate("""() => {
            const c = document.querySelector('.graph-canvas canvas.nodes');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const seen = new Map();
            for (let i = 0; i < d.length; i += 4) if (d[i + 3] === 255) {
              const k = `rgb(${d[i]}, ${d[i + 1]}, ${d[i + 2]})`;
              seen.set(k, (seen.get(k) || 0) + 1); }
            return Array.from(seen.entries()).sort((a, b) => b[1] - a[1]).slice(0, 3); }""")
        assert painted, "the canvas painted no node"
        assert contrast(painted[0][0], unreached) < 1.05  # the commonest colour is the theme's
        shot(page, "layout-canvas-dark-1366x768")

        open_training_tab(page)
        axis = page.locator("svg.chart .axis text").first.evaluate("e => getComputedStyle(e).fill")
        assert contrast(axis, background(page, "#chart")) >= 4.5
        # Its export carries the colours on screen, written out (a file knows no variables).
        with page.expect_download() as info:
            page.get_by_role("button", name="Export chart SVG").click()
        chart = Path(info.value.path()).read_text()
        assert "var(" not in chart and "light-dark(" not in chart
        assert axis.replace(" ", "") in chart.replace(" ", "")  # the axis text's colour


# -- reduced motion ----------------------------------------------------------------------------
COUNT_PULSES = """() => { window.__pulses = 0;
  new MutationObserver((records) => { for (const r of records) for (const n of r.addedNodes)
    if (n.classList && n.classList.contains('pulse')) window.__pulses++; })
    .observe(document.querySelector('#view'), { childList: true, subtree: true }); }"""


@pytest.mark.parametrize("motion,moves", [("reduce", False), ("no-preference", True)])
def test_reduced_motion_steps_without_moving_pulses(browser, server, console, motion, moves):
    with screen(browser, server, console, 1024, 768, motion=motion) as page:
        open_page(page)
        page.evaluate(COUNT_PULSES)
        page.get_by_label("Back-prop", exact=True).check()
        set_speed(page, 0)  # the slowest: a pulse has time to travel along each edge
        while not page.locator("#view .term").count():  # the seed, then the first edge crossed
            step_once(page)
        assert (page.evaluate("() => window.__pulses") > 0) is moves


# -- contrast of the graph's labels (axe does not measure SVG text) ------------------------------
PAIRS = """(bg) => {
  const out = [];
  for (const t of document.querySelectorAll('#view .node text, #view .edge text')) {
    if (!t.textContent.trim()) continue;
    const inside = t.classList.contains('op');
    const under = inside ? getComputedStyle(t.parentNode.querySelector('.shape')).fill : bg;
    out.push([t.getAttribute('class'), t.textContent, getComputedStyle(t).fill, under]);
  }
  return out; }"""


def low_contrast_labels(page) -> list[tuple[str, str, float]]:
    """(class, text, ratio) of each graph label below WCAG AA's 4.5:1 against what is under it."""
    pairs = page.evaluate(PAIRS, background(page, "#view"))
    return [(c, t, round(contrast(f, u), 2)) for c, t, f, u in pairs if contrast(f, u) < 4.5]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_graph_labels_reach_aa_contrast_mid_backprop_and_after_a_gradient_check(
        browser, server, console, scheme):
    with screen(browser, server, console, 1024, 768, scheme) as page:
        open_page(page)
        # Mid back-prop: partial sums (the orange "∇ … (1/2)" text) are on screen. Fast, so
        # that no fill is caught halfway through its fade.
        set_speed(page, 100)
        page.get_by_label("Back-prop", exact=True).check()
        while not page.locator("#view .node.grad-partial").count():
            step_once(page)
        assert low_contrast_labels(page) == []
        shot(page, f"layout-contrast-partial-{scheme}")

        play_to_end(page)
        page.get_by_label("Gradient check (finite differences on the server)").check()
        expect(page.locator('#view .node[data-check="agree"]')).to_have_count(3)
        assert low_contrast_labels(page) == []
        shot(page, f"layout-contrast-checked-{scheme}")


# -- exports -------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", SCHEMES)
def test_exported_svg_names_its_fonts_and_colours(browser, server, console, scheme):
    """A file knows no CSS variables: `var(--font)` fell back to the viewer's serif."""
    with screen(browser, server, console, 1024, 768, scheme) as page:
        open_page(page)
        play_to_end(page)
        with page.expect_download() as info:
            page.get_by_role("button", name="Export SVG").click()
        path = Path(info.value.path())
        svg = path.read_text()
        assert "var(" not in svg and "light-dark(" not in svg
        head = svg[:svg.index(">")]
        assert 'font-family="' in head and "sans-serif" in head
        # The file opened on its own, as a viewer would (no page CSS): sans-serif text.
        file = path.with_suffix(".svg")
        path.rename(file)
        viewer = page.context.new_page()
        viewer.goto(file.as_uri())
        families = viewer.evaluate("""() => Array.from(document.querySelectorAll('text'))
            .map((t) => getComputedStyle(t).fontFamily)""")
        assert families and all("sans-serif" in f or "monospace" in f for f in families)
        back = viewer.evaluate("() => document.querySelector('svg > rect').getAttribute('fill')")
        assert is_dark(back) is (scheme == "dark")
