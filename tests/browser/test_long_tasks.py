"""A big upload never holds the page's main thread long (issue 18), in Chromium against a real
server: a 100,000-node random DAG given to the "Upload a file…" control is built, laid out,
painted and traced, and Chromium's own long-task timing (a PerformanceObserver for 'longtask',
installed before the page's scripts) sees no task longer than LONGEST_TASK_MS from the file's
change event until the trace is on screen and every edge is drawn.

LONGEST_TASK_MS is the issue's 200 ms. On an idle 2-core machine the longest task is 50–100 ms
(the socket's decoding of the graph's description, one JSON.parse, is the largest); 200 leaves
room for a CI machine loaded twice over. The page before this change held it 390–470 ms (the
view's first setup, then the raster of every edge as one path), so the bound tells them apart.
"""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import expect

from .pages import expect_editor_text, open_page, wait_trace

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NODES = 100_000
INPUTS = 64
LONGEST_TASK_MS = 80

# Before the page's scripts run: every long task, and when the file control changed.
LONG_TASKS = """window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    window.__longTasks.push({ start: e.startTime, ms: e.duration });
  }
}).observe({ type: 'longtask', buffered: true });
document.addEventListener('change', (event) => {
  if (event.target.id === 'graph-file') window.__uploadStart = performance.now();
}, true);"""


def random_dag(nodes: int, seed: int = 18) -> str:
    """`nodes` scalar nodes: INPUTS inputs, then +, * and tanh of uniformly chosen earlier ones."""
    rng = random.Random(seed)
    name = lambda i: f"v{i:x}"  # noqa: E731  (short names: the upload's size limit)
    lines = [f"{name(i)}=input({rng.uniform(-1, 1):.3f})" for i in range(INPUTS)]
    for i in range(INPUTS, nodes):
        op = rng.choice("+*t")
        a, b = rng.randrange(i), rng.randrange(i)
        lines.append(f"{name(i)}=tanh({name(a)})" if op == "t"
                     else f"{name(i)}={name(a)}{op}{name(b)}")
    lines.append(f"output {name(nodes - 1)}")
    return "\n".join(lines) + "\n"


def test_a_100k_node_upload_has_no_long_task_until_its_trace_is_on_screen(page, tmp_path):
    source = tmp_path / "dag-100k.expr"
    text = random_dag(NODES)
    assert len(text.encode()) < 2_000_000  # under the server's MAX_UPLOAD_BYTES
    source.write_text(text)
    page.add_init_script(LONG_TASKS)
    open_page(page)
    # A file on disk: Chromium reads it itself (a buffer would be decoded by Playwright's own
    # script in the page, a long task of the test's making).
    page.set_input_files("#graph-file", str(source))
    page.wait_for_selector(f"body[data-nodes='{NODES}']", timeout=60_000)
    page.wait_for_selector("#view[data-renderer=canvas][data-painted]", timeout=60_000)
    wait_trace(page)  # the trace has arrived and is attached: Play is enabled
    page.wait_for_selector(".graph-canvas[data-edges-drawn]")  # and its last edges are drawn
    # The file's text is in the editor (built a step a task), said to be the graph's source.
    expect(page.locator("#editor")).to_have_attribute("data-source-state", "source",
                                                      timeout=30_000)
    expect_editor_text(page, text)
    tasks = page.evaluate("() => window.__longTasks.filter((t) => t.start >= window.__uploadStart)")
    longest = max((t["ms"] for t in tasks), default=0)
    assert longest <= LONGEST_TASK_MS, (
        f"a task held the main thread {longest:.0f} ms (bound {LONGEST_TASK_MS} ms); long tasks "
        f"after the upload: {[round(t['ms']) for t in tasks]}")
