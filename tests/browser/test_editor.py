"""The Expression editor (CodeMirror 6, static/js/graph/editor.js) with big sources, in Chromium
against a real server: a 100,000-line paste leaves the page responsive, a problem deep in a long
source is marked at its own line, and the error view is readable in every theme and size.

Long tasks are the browser's own (a PerformanceObserver of "longtask" entries, installed before
the page's scripts run); line numbers and columns are the server's, checked against the text.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import shot
from .pages import (
    editor_text,
    expect_editor_text,
    fill_editor,
    open_page,
    paste,
    set_speed,
)

LONG_TASKS = """window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
}).observe({ type: 'longtask', buffered: true });"""

FRAMES = """n => new Promise((resolve) => {
  let left = n;
  const tick = () => (--left <= 0 ? resolve() : requestAnimationFrame(tick));
  requestAnimationFrame(tick);
})"""


def long_tasks_since(page, since: float) -> list[tuple[float, float]]:
    return [tuple(t) for t in page.evaluate("() => window.__longTasks") if t[0] >= since]


def hundred_thousand_lines() -> str:
    lines = ["x = input(0.5)"] + [f"v{i} = sin(x * {i % 97 + 1}) + {i}" for i in range(99_998)]
    return "\n".join([*lines, "output x"]) + "\n"


def test_a_100k_line_paste_does_not_block_the_page(page):
    page.add_init_script(LONG_TASKS)
    open_page(page, "?graph=example:reference.expr")
    text = hundred_thousand_lines()
    assert text.count("\n") == 100_000
    page.get_by_label("Expression").click()
    page.keyboard.press("ControlOrMeta+A")
    paste(page, text)
    expect_editor_text(page, text, timeout=30_000)
    done = page.evaluate("() => performance.now()")

    # Only the lines in view are drawn: a few dozen elements, not 100,000.
    drawn = page.locator("#editor .cm-line").count()
    assert 0 < drawn < 300, drawn
    expect(page.locator("#editor")).to_have_attribute("data-source-state", "edited")
    # To the end and type there: the last line's number is drawn, the text grows by what was typed.
    page.keyboard.press("ControlOrMeta+End")
    expect(page.locator("#editor .cm-lineNumbers .cm-gutterElement",
                        has_text="100001")).to_have_count(1)
    page.keyboard.type("# the end")
    expect_editor_text(page, text + "# the end")
    # The graph animates meanwhile; a few hundred frames later no task has held the page.
    set_speed(page, 60)
    page.get_by_role("button", name="Play").click()
    page.evaluate(FRAMES, 240)
    tasks = long_tasks_since(page, done)
    assert all(duration <= 200 for _, duration in tasks), tasks


def long_source_with_a_problem(lines: int, bad: int) -> str:
    body = [f"s{i} = sin(x) * {i}" for i in range(lines)]
    body[bad - 2] = "b = cos(x +"  # line `bad` of the file: the header is line 1
    return "\n".join(["x = input(0.5)", *body, "output x"]) + "\n"


def test_a_problem_deep_in_a_long_source_is_marked_at_its_line(page, console):
    console.allow(r"status of 400")  # the upload is refused, as it should be
    open_page(page, "?graph=example:reference.expr")
    bad = 24_681
    text = long_source_with_a_problem(30_000, bad)
    assert text.split("\n")[bad - 1] == "b = cos(x +"
    fill_editor(page, text)
    page.keyboard.press("ControlOrMeta+Enter")
    problem = page.locator("#editor .problems li").first
    expect(problem).to_contain_text(f"Line {bad},", timeout=60_000)
    assert problem.get_attribute("data-line") == str(bad)
    column = int(problem.get_attribute("data-column"))
    # Clicking the problem brings its line into view, the cursor on it.
    problem.click()
    expect(page.locator("#editor .cm-lineNumbers .problem-line")).to_have_text(str(bad))
    expect(page.locator("#editor .cm-lintRange-error")).to_have_text(
        text.split("\n")[bad - 1][column - 1:])
    at = page.evaluate("""() => { const v = document.querySelector('#editor').expressionEditor.view;
      return v.state.doc.lineAt(v.state.selection.main.head).number; }""")
    assert at == bad
    # The text is untouched, and the graph on screen is still the reference.
    assert editor_text(page) == text
    assert page.locator("body").get_attribute("data-graph") == "example:reference.expr"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [(1024, 768), (390, 844)])
def test_an_error_in_the_editor_reads_in_every_theme_and_size(browser, server, console, scheme,
                                                              size):
    console.allow(r"status of 400")
    context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                  color_scheme=scheme)
    try:
        page = context.new_page()
        page.base_url = server.url
        open_page(page, "?graph=example:reference.expr")
        fill_editor(page, "a = input(1)\n# a comment\nb = sin(a +\noutput b\n")
        page.get_by_role("button", name="Load", exact=True).click()
        expect(page.locator("#editor .problems li")).to_contain_text("Line 3")
        expect(page.locator("#editor .cm-lineNumbers .problem-line")).to_have_text("3")
        note = page.locator("#editor .inline-problem")
        expect(note).to_contain_text("never closed")
        # The editor fits its column: nothing of it beyond the screen's right edge.
        box = page.locator("#editor .code").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size[0] + 0.5
        page.locator("#editor").scroll_into_view_if_needed()
        shot(page, f"editor-error-{scheme}-{size[0]}x{size[1]}")
    finally:
        context.close()


CURSOR_LINE = """() => { const v = document.querySelector('#editor').expressionEditor.view;
  return v.state.doc.lineAt(v.state.selection.main.head).number; }"""


def test_load_keeps_the_cursor_where_it_was_and_says_the_text_is_the_source(page):
    open_page(page, "?graph=example:reference.expr")
    text = "a = input(0.5)\nb = input(2)\nc = a * b\nd = sin(c)\noutput d\n"
    fill_editor(page, text)
    page.keyboard.press("ControlOrMeta+Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate(CURSOR_LINE) == 3
    page.keyboard.press("ControlOrMeta+Enter")
    expect(page.locator("#editor")).to_have_attribute("data-source-state", "source")
    expect(page.locator('[data-node-name="d"]')).to_be_visible()
    assert page.evaluate(CURSOR_LINE) == 3
    assert editor_text(page) == text
    # Typing goes on at the cursor, and the text is an edit again.
    page.keyboard.type("#")
    expect(page.locator("#editor")).to_have_attribute("data-source-state", "edited")
    assert editor_text(page).split("\n")[2] == "#c = a * b"


# Every change of the editor's source state, as it happens (a MutationObserver's records come
# before the next task): what it said, whether its text was read-only, how long the text was.
SOURCE_STATES = """() => { window.__sourceStates = [];
  const editor = document.querySelector('#editor');
  const note = () => window.__sourceStates.push({ state: editor.dataset.sourceState,
    status: editor.querySelector('.editor-status').textContent,
    readOnly: editor.expressionEditor.view.state.readOnly,
    length: editor.expressionEditor.view.state.doc.length });
  new MutationObserver(note).observe(editor, { attributes: true, subtree: true,
    childList: true, characterData: true, attributeFilter: ['data-source-state'] });
  note(); }"""


def test_a_long_upload_never_shows_the_last_graphs_text_as_its_own(page, tmp_path):
    """A long source is put in the editor a step a task (issue 18): until it is all there, the
    editor is empty, read-only and says the text is loading; never the last graph's text
    said to be the graph's source while the new graph is on screen."""
    open_page(page, "?graph=example:reference.expr")
    expect(page.locator("#editor")).to_have_attribute("data-source-state", "source")
    reference_length = len(editor_text(page))
    text = "x = input(0.5)\n" + "".join(f"s{i} = sin(x) * {i}\n" for i in range(30_000))
    text += "output x\n"
    assert len(text) > 2 ** 18  # over the editor's step (static/js/graph/editor.js STEP_CHARS)
    source = tmp_path / "long.expr"
    source.write_text(text)
    page.evaluate(SOURCE_STATES)
    page.set_input_files("#graph-file", str(source))
    expect(page.locator("#editor")).to_have_attribute("data-source-state", "source",
                                                      timeout=60_000)
    expect_editor_text(page, text)
    states = page.evaluate("() => window.__sourceStates")
    loading = [s for s in states if s["status"] == "Loading the text of long.expr…"]
    assert loading, states  # it was said while the text was being built
    assert all(s["state"] == "none" and s["length"] == 0 and s["readOnly"]
               for s in loading), loading
    sources = [s for s in states if s["state"] == "source"]
    # The reference's text was the source until the upload's, and the upload's came whole.
    assert all(s["length"] in (reference_length, len(text)) for s in sources), sources
    assert sources[-1]["status"] == "The source of the graph on screen: long.expr."
    assert not sources[-1]["readOnly"]
    last_reference = max(k for k, s in enumerate(states) if s["length"] == reference_length)
    assert last_reference < states.index(loading[0])  # gone before the loading began
