"""A big upload never holds the page's main thread long (issue 18), in Chromium against a real
server: a 100,000-node random DAG given to the "Upload a file…" control is built, laid out,
painted and traced, and its text put in the editor, and Chromium's own long-task timing (a
PerformanceObserver for 'longtask', installed before the page's scripts) sees no task longer
than LONGEST_TASK_MS from the file's change event until the trace is on screen, every edge is
drawn and the editor holds the file's text as the graph's source.

LONGEST_TASK_MS is 80 (the issue's test asked 200). On this 2-core machine, with other work on
it (load 1.5-3), the page now has no long task at all (none over 50 ms) in most runs; with two
busy loops beside it (load ~4.5) the longest in 20 runs was 66 ms; with those and the test
suite's other tests running too (load 5+), 81 and 87 ms were seen in 2 of 8 runs. The page
before this change held it 62-173 ms, with 2-4 long tasks each run (the editor taking a
100,000-line text at once, the nodes painted in one task, a 100,000-name Map): over 80 ms in
about half the runs, so this bound catches those coming back only some of the time. Chromium
counts a task as long from 50 ms, the issue's figure: no bound nearer to it held under load.
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
