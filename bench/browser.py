"""Browser performance of the graph page (not a test): headless Chromium, a real server.

    .venv/bin/python bench/browser.py [--repeat 3] [--seconds 4]

Prints:
- time to first paint of the grouped ResNet (model:resnet, ~36,000 scalar nodes): from the
  navigation's start to the first animation frame after the blocks view was built (the page
  marks it with performance.mark('view-painted:blocks')). Target ≤ 1 s.
- frames per second while back-prop animates: the reference expression (SVG view), and
  expanded ResNet blocks — Conv2 as its 16×16 image (issue 14), FC3 as its weight matrix,
  Conv2 node by node (canvas) — counted with requestAnimationFrame in the page. Target
  ≥ 50 fps; the slowest frame is printed too (``--only blocks``: these blocks only).
- upload → first paint (issue 18): an expression file given to the page's "Upload a file…"
  control, from its change event to the first animation frame after the graph's view was built
  (performance.mark('view-painted:all')), for a random DAG and a chain (bench/shapes.py's
  shapes: ``+``, ``*``, ``tanh``) at 5k, 20k and 100k nodes, in a fresh page each. Targets: DAG
  100k ≤ 3 s, chain 100k ≤ 5 s. Where the time goes: the upload's request (server parse and
  store), then until the trace's first message, then the page's own work until the paint; the
  main thread's long tasks (count, longest, total) over the whole, and after the paint until the
  trace is attached, every edge is drawn and the file's text is in the editor (count, longest).
- frames per second animating the canvas with a 100,000-line source in the editor (target 60).

    .venv/bin/python bench/browser.py --only uploads --sizes 5000,20000,100000
Needs static/dist (npm run build) and Debian's chromium.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo root, not bench/

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.shapes import N_INPUTS, input_values, spec  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

MEASURE_FPS = """async (seconds) => {
  const gaps = [];
  let last = performance.now();
  const end = last + seconds * 1000;
  await new Promise((resolve) => {
    const tick = (now) => {
      gaps.push(now - last);
      last = now;
      if (now < end) requestAnimationFrame(tick); else resolve();
    };
    requestAnimationFrame(tick);
  });
  gaps.shift();
  const total = gaps.reduce((a, b) => a + b, 0);
  gaps.sort((a, b) => a - b);
  return {fps: gaps.length / (total / 1000), frames: gaps.length,
          p95: gaps[Math.floor(gaps.length * 0.95)], worst: gaps[gaps.length - 1]};
}"""


def first_paint(page, url) -> float:
    page.goto(url + "/?graph=model:resnet")
    page.wait_for_function("() => performance.getEntriesByName('view-painted:blocks').length")
    return page.evaluate(
        "() => performance.getEntriesByName('view-painted:blocks')[0].startTime") / 1000


def animate(page, seconds, events_per_second=None) -> dict:
    if events_per_second is not None:
        page.evaluate("eps => { const s = document.querySelector('#speed');"
                      " s.value = String(Math.round((Math.log10(eps) - Math.log10(0.5)) /"
                      " (Math.log10(20000) - Math.log10(0.5)) * 100));"
                      " s.dispatchEvent(new Event('input')); }", events_per_second)
    page.evaluate("() => Object.assign(window.__frameStats,"
                  " {frames: 0, totalMs: 0, maxMs: 0, perTask: []})")
    page.get_by_role("button", name="Play").click()
    result = page.evaluate(MEASURE_FPS, seconds)
    result["work"] = page.evaluate("() => window.__frameStats")
    playing = page.evaluate("() => document.querySelector('#play').classList.contains('playing')")
    page.get_by_role("button", name="Pause").click() if playing else None
    result["still_playing_at_end"] = playing
    result["events"] = page.locator("#position").inner_text()
    return result


def show(name, r):
    print(f"{name}: {r['fps']:.1f} fps over {r['frames']} frames; p95 frame {r['p95']:.1f} ms, "
          f"worst {r['worst']:.1f} ms; playhead {r['events']}"
          f"{'' if r['still_playing_at_end'] else ' (finished before the window ended)'}")
    w = r["work"]
    if w["frames"]:
        print(f"    the page's own work per frame: mean {w['totalMs'] / w['frames']:.2f} ms, "
              f"max {w['maxMs']:.1f} ms (playback {w['perTask'][0] / w['frames']:.2f}, "
              f"drawing {sum(w['perTask'][1:]) / w['frames']:.2f})")


LONG_TASKS = """window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
}).observe({ type: 'longtask', buffered: true });
document.addEventListener('DOMContentLoaded', () => {
  // When the graph's description is on the page (the body says its node count): the upload's
  // answer and the trace's graph message have both arrived.
  new MutationObserver(() => { window.__graphShown = performance.now(); })
    .observe(document.body, { attributes: true, attributeFilter: ['data-nodes'] });
});
document.addEventListener('change', (event) => {
  if (event.target.id === 'graph-file') window.__uploadStart = performance.now();
}, true);"""


def expression(shape: str, size: int) -> str:
    """bench/shapes.py's graph of `size` nodes as expression text (short names: the 2 MB limit)."""
    if shape == "chain":  # x = x + tanh(x), as shapes.py builds it: two nodes a line
        return "x = input(0.5)\n" + "x += tanh(x)\n" * ((size - 1) // 2) + "output x\n"
    ops, left, right = spec(shape, size)
    name = lambda i: f"v{i:x}"  # noqa: E731
    lines = [f"{name(k)}=input({v})" for k, v in enumerate(input_values())]
    for i, (op, a, b) in enumerate(zip(ops, left, right, strict=True), start=N_INPUTS):
        lines.append(f"{name(i)}=tanh({name(a)})" if op == "tanh"
                     else f"{name(i)}={name(a)}{op}{name(b)}")
    lines.append(f"output {name(size - 1)}")
    return "\n".join(lines) + "\n"


def upload_paint(browser, url: str, shape: str, size: int, repeat: int = 0) -> dict:
    """One upload through the page's file control → first paint, in a fresh context. Each
    repeat's text differs (a comment): the server keeps parses by content, and would not parse
    the same text again."""
    text = f"# repeat {repeat}\n" + expression(shape, size)
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    try:
        page = context.new_page()
        page.add_init_script(LONG_TASKS)
        page.goto(url + "/?graph=example:reference.expr")
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_function("() => performance.getEntriesByName('view-painted:all').length")
        before = page.evaluate("() => performance.getEntriesByName('view-painted:all').length")
        page.set_input_files("#graph-file", files=[{"name": f"{shape}-{size}.expr",
                                                    "mimeType": "text/plain",
                                                    "buffer": text.encode()}])
        page.wait_for_function(
            "n => performance.getEntriesByName('view-painted:all').length > n", arg=before,
            timeout=600_000)
        # Then until the trace is attached (Play enabled), every edge is drawn and the editor
        # holds the file's text (built a step a task): the page's work while they come.
        page.wait_for_function("() => !document.querySelector('#play').disabled", timeout=600_000)
        page.wait_for_function(
            "() => document.querySelector('#editor').dataset.sourceState === 'source'"
            " && !document.querySelector('.graph-canvas:not([data-edges-drawn])')",
            timeout=600_000)
        return page.evaluate("""() => {
          const start = window.__uploadStart;
          const paint = performance.getEntriesByName('view-painted:all').at(-1).startTime;
          const posts = performance.getEntriesByType('resource')
            .filter((r) => r.initiatorType === 'fetch' && r.startTime >= start);
          const post = posts.find((r) => /\\/api\\/graphs$/.test(new URL(r.name).pathname));
          const tasks = window.__longTasks.filter(([t]) => t >= start && t <= paint);
          const after = window.__longTasks.filter(([t]) => t > paint);
          return { total: (paint - start) / 1000, nodes: +document.body.dataset.nodes,
            shown: (window.__graphShown - start) / 1000,
            request: post ? (post.responseEnd - post.startTime) / 1000 : null,
            fetches: posts.map((r) => [new URL(r.name).pathname,
              (r.startTime - start) / 1000, (r.responseEnd - r.startTime) / 1000]),
            tasks: tasks.length, longest: Math.max(0, ...tasks.map(([, d]) => d)),
            busy: tasks.reduce((s, [, d]) => s + d, 0) / 1000,
            after: after.length, afterLongest: Math.max(0, ...after.map(([, d]) => d)) };
        }""")
    finally:
        context.close()


def uploads(browser, url: str, sizes: list[int], repeat: int) -> None:
    targets = {("dag", 100_000): 3.0, ("chain", 100_000): 5.0}
    for shape in ("dag", "chain"):
        for size in sizes:
            runs = [upload_paint(browser, url, shape, size, k) for k in range(repeat)]
            r = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]
            target = targets.get((shape, size))
            times = ", ".join(f"{x['total']:.2f}" for x in runs)
            print(f"upload → first paint, {shape} {size:,} ({r['nodes']:,} nodes): median "
                  f"{r['total']:.2f} s (runs: {times})"
                  + (f"; target ≤ {target:g} s" if target else ""))
            request = f"{r['request']:.2f} s" if r["request"] is not None else "?"
            print(f"    upload request {request}, graph shown at {r['shown']:.2f} s, painted at "
                  f"{r['total']:.2f} s; main thread: {r['tasks']} long tasks, "
                  f"{r['busy']:.2f} s in all, longest {r['longest']:.0f} ms; then until the "
                  f"trace, the edges and the editor's text are in {r['after']} long tasks, "
                  f"longest "
                  f"{r['afterLongest']:.0f} ms; fetches "
                  + ", ".join(f"{p} at {t:.2f} s took {d:.2f} s" for p, t, d in r["fetches"]))


def animate_with_big_source(browser, url: str, seconds: float) -> None:
    """The canvas view animating while the editor holds a 100,000-line source."""
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    try:
        page = context.new_page()
        page.goto(url + "/?graph=model:resnet")
        page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        page.wait_for_function("() => !document.querySelector('#play').disabled")
        page.locator('[data-block="Conv2"]').click()
        page.locator(".image-grid-all").click()  # Conv2 opens as its images: node by node
        page.wait_for_selector("#view[data-view=block][data-renderer=canvas]")
        text = "x = input(0.5)\n" + "".join(f"v{i} = sin(x * {i % 97 + 1}) + {i}\n"
                                              for i in range(99_999))
        page.get_by_label("Expression").click()
        page.keyboard.press("ControlOrMeta+A")
        page.evaluate("""text => { const data = new DataTransfer();
          data.setData('text/plain', text);
          document.activeElement.dispatchEvent(new ClipboardEvent('paste',
            { clipboardData: data, bubbles: true, cancelable: true })); }""", text)
        page.wait_for_function("n => document.querySelector('#editor').expressionEditor"
                               ".view.state.doc.lines >= n", arg=100_000)
        page.get_by_label("Back-prop", exact=True).check()
        page.get_by_role("button", name="Jump to its back-prop").click()
        show("ResNet block Conv2, back-prop at 2000 events/s, 100,000-line source in the editor",
             animate(page, seconds, 2000))
    finally:
        context.close()


# Expanded ResNet blocks, back-prop playing: (block, view it expands to, events per second).
# Conv2 and FC3 as issue 14 draws them (its image, its weight matrix), and Conv2 node by node.
BLOCKS = (("Conv2", "image", 2000), ("FC3", "weights", 5000), ("Conv2", "canvas", 2000))


def expanded_blocks(page, url: str, seconds: float) -> None:
    for block, renderer, rate in BLOCKS:
        page.goto(url + "/?graph=model:resnet")
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_function("() => !document.querySelector('#play').disabled")
        page.locator(f'[data-block="{block}"]').click()
        if renderer == "canvas":
            page.locator(".image-grid-all").click()
        page.wait_for_selector(f"#view[data-view=block][data-renderer={renderer}]")
        page.get_by_label("Back-prop", exact=True).check()
        page.get_by_role("button", name="Jump to its back-prop").click()
        nodes = page.locator("#breadcrumb [aria-current]").inner_text()
        show(f"ResNet block {nodes} expanded as {renderer}, back-prop at {rate} events/s",
             animate(page, seconds, rate))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--sizes", default="5000,20000,100000",
                        help="node counts for the upload → first paint figures")
    parser.add_argument("--only", choices=("paint", "uploads", "editor", "blocks"), default=None,
                        help="only these figures (paint: the ResNet's paint and fps; blocks: "
                             "the expanded blocks' fps)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as data, LiveServer(Path(data)) as server, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 860})
        if args.only in (None, "uploads"):
            uploads(browser, server.url, sizes, args.repeat)
        if args.only in (None, "editor"):
            animate_with_big_source(browser, server.url, args.seconds)
        if args.only not in (None, "paint", "blocks"):
            browser.close()
            return 0
        page = context.new_page()
        page.goto(server.url + "/?graph=model:resnet")  # warm the server's graph cache
        page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        if args.only == "blocks":
            expanded_blocks(page, server.url, args.seconds)
            browser.close()
            return 0

        paints = []
        for _ in range(args.repeat):
            fresh = browser.new_context(viewport={"width": 1400, "height": 860})
            p = fresh.new_page()
            paints.append(first_paint(p, server.url))
            fresh.close()
        print(f"grouped ResNet first paint: median {statistics.median(paints):.3f} s "
              f"(runs: {', '.join(f'{t:.3f}' for t in paints)}); target ≤ 1 s")

        page.goto(server.url + "/?graph=example:reference.expr")
        page.wait_for_selector("body[data-ready=true]")
        page.get_by_label("Back-prop", exact=True).check()
        # 52 back-prop events: 12 per second keeps it animating (with edge pulses) for 4 s.
        show("reference expression, back-prop (SVG)", animate(page, args.seconds, 12))

        expanded_blocks(page, server.url, args.seconds)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
