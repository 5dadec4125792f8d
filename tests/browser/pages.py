"""What a person does on the graph page, as functions the tests share (a small page object)."""

from __future__ import annotations

import math
import re

from playwright.sync_api import expect


def open_page(page, query: str = "?graph=example:reference.expr"):
    page.goto(page.base_url + "/" + query)
    page.wait_for_selector("body[data-ready=true]")
    wait_trace(page)


def wait_trace(page):
    """Until a trace is attached: the Play button is enabled."""
    page.wait_for_function("() => !document.querySelector('#play').disabled")


def choose_mode(page, label: str):
    page.get_by_label(label, exact=True).check()


def set_speed(page, value: int):
    page.get_by_label("Speed").fill(str(value))


def play_to_end(page):
    set_speed(page, 100)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "() => { const s = document.querySelector('#scrubber');"
        " return +s.value === +s.max"
        " && !document.querySelector('#play').classList.contains('playing'); }")


def position(page) -> tuple[int, int]:
    """(events done, events in range) from the scrubber, relative to the range start."""
    s = page.evaluate("() => { const s = document.querySelector('#scrubber');"
                      " return [+s.value, +s.min, +s.max]; }")
    return s[0] - s[1], s[2] - s[1]


def node(page, name: str):
    return page.locator(f'[data-node-name="{name}"]')


def number(page, selector_or_locator, attribute: str) -> float:
    locator = (page.locator(selector_or_locator) if isinstance(selector_or_locator, str)
               else selector_or_locator)
    text = locator.get_attribute(attribute)
    assert text is not None, f"{attribute} missing"
    return float(text)


def reference_oracle(x1=0.3, x2=0.7, x3=1.4):
    """y and dy/dx of examples/reference.expr, written out by hand with math."""
    s1, c2 = math.sin(x1 + 1), math.cos(2 * x2)
    s2, c1 = math.sin(x2 + 1), math.cos(2 * x1)
    t = math.tan(math.log(x3))
    e = math.exp(1 + math.sin(x3))
    y = (s1 + c2) * t + (s2 + c1) * e
    dx1 = math.cos(x1 + 1) * t - 2 * math.sin(2 * x1) * e
    dx2 = -2 * math.sin(2 * x2) * t + math.cos(x2 + 1) * e
    dx3 = (s1 + c2) * (1 + t * t) / x3 + (s2 + c1) * e * math.cos(x3)
    return y, {"x1": dx1, "x2": dx2, "x3": dx3}


# -- training mode (issue 7) -----------------------------------------------------------------------
def open_training(page, query: str = ""):
    page.goto(page.base_url + "/" + query + "#training")
    page.wait_for_selector("body[data-training-ready=true]")


def start_run(page, **options) -> str:
    """Fill the training form (field label → value) and press Train; returns the new run's id."""
    labels = {"model": "Model", "epochs": "Epochs", "batch_size": "Batch size",
              "optimizer": "Optimiser", "lr": "Learning rate", "seed": "Seed", "width": "Width",
              "name": "Run name"}
    for key, value in options.items():
        field = page.get_by_label(labels[key], exact=True)
        if key in ("model", "optimizer"):
            field.select_option(str(value))
        else:
            field.fill(str(value))
    before = focused_run(page)
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function(
        "b => { const r = document.querySelector('.run-row[aria-current]');"
        " return r && r.dataset.run !== b; }", arg=before or "")
    return focused_run(page)


def focused_run(page) -> str | None:
    row = page.locator(".run-row[aria-current]")
    return row.get_attribute("data-run") if row.count() else None


def run_row(page, run_id: str):
    return page.locator(f'.run-row[data-run="{run_id}"]')


def wait_run_status(page, run_id: str, status: str, timeout: float = 60_000):
    page.wait_for_selector(f'.run-row[data-run="{run_id}"][data-status="{status}"]',
                           timeout=timeout)


def wait_server_status(page, run_id: str, status: str, timeout: float = 60_000):
    """Until the server's own record of the run has `status` (GET /api/runs/<id>, asked from the
    page every 100 ms)."""
    page.wait_for_function(
        """async ([id, status]) => {
          const response = await fetch(`/api/runs/${encodeURIComponent(id)}`);
          return response.ok && (await response.json()).status === status;
        }""", arg=[run_id, status], polling=100, timeout=timeout)


def wait_curve_points(page, n: int):
    """Until the chart has drawn exactly `n` steps of the focused run."""
    page.wait_for_function("n => +document.querySelector('svg.chart').dataset.points === n", arg=n)


def curve_points(page) -> int:
    return int(page.locator("svg.chart").get_attribute("data-points"))


def drawn_steps(page, run_id: str) -> list[int]:
    """The step of every point of a run's raw loss line, read back from its paths' `d` in order
    (each point is written "x,y"; a chunk's join to the one before is "x y", not a point)."""
    d = "".join(page.locator(f'svg.chart .panel.loss .run[data-run="{run_id}"] path.raw')
                .evaluate_all("ps => ps.map(p => p.getAttribute('d') || '')"))
    return [int(float(x)) for x in re.findall(r"[ML](-?[\d.e+-]+),", d)]


def server_run(page, run_id: str) -> dict:
    """The server's own record of the run, with every metric (GET /api/runs/<id>)."""
    response = page.request.get(f"{page.base_url}/api/runs/{run_id}")
    assert response.ok, response.status
    return response.json()


def server_steps(run: dict) -> list[dict]:
    return [r for r in run["metrics"] if r["type"] == "step"]


# -- the Expression editor (CodeMirror 6, graph/editor.js) ----------------------------------------
# Its text is CodeMirror's document (a contenteditable draws only the lines in view), read through
# the hook graph/editor.js leaves on #editor; typing goes through get_by_label("Expression").
EDITOR_TEXT = "() => document.querySelector('#editor').expressionEditor.text"


PASTE = """text => { const data = new DataTransfer(); data.setData('text/plain', text);
  document.activeElement.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data,
    bubbles: true, cancelable: true })); }"""


def paste(page, text: str) -> None:
    """Paste `text` into the focused element, as Ctrl+V does (the page's own paste handling)."""
    page.evaluate(PASTE, text)


def fill_editor(page, text: str) -> None:
    """Replace the editor's text with `text`: click in it, Ctrl+A, paste. (Playwright's fill types
    line breaks through the browser's own contenteditable editing, which CodeMirror redraws —
    and which writes style attributes the page's CSP refuses; a person pastes or presses Enter.)"""
    page.get_by_label("Expression").click()
    page.keyboard.press("ControlOrMeta+A")
    paste(page, text)
    expect_editor_text(page, text)


def editor_text(page) -> str:
    return page.evaluate(EDITOR_TEXT)


def expect_editor_text(page, text: str, *, equal: bool = True, timeout: float = 5_000) -> None:
    """Until the editor holds `text` (equal=False: anything else); fails saying what it holds."""
    try:
        page.wait_for_function(f"([t, eq]) => ({EDITOR_TEXT})() === t ? eq : !eq",
                               arg=[text, equal], timeout=timeout)
    except Exception as error:  # playwright's TimeoutError, with what the editor held instead
        held = editor_text(page)
        raise AssertionError(f"the editor holds {held[:300]!r}, expected "
                             f"{'' if equal else 'anything but '}{text[:300]!r}") from error


def expect_editor_read_only(page, read_only: bool) -> None:
    """The editor refuses (or takes) typing, and says so to assistive technology."""
    editor = page.get_by_label("Expression")
    expect(editor).to_be_editable(editable=not read_only)
    if read_only:
        expect(editor).to_have_attribute("aria-readonly", "true")
    else:
        expect(editor).not_to_have_attribute("aria-readonly", "true")
