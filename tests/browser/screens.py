"""Pages at a given screen size, colour scheme and motion preference, and what a person can see
of them: the layout and accessibility tests share these (issue 11)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

#: The screens classes use: a laptop, a classroom projector, a tablet upright, a phone.
SIZES = [(1366, 768), (1024, 768), (768, 1024), (390, 844)]
SCHEMES = ["light", "dark"]


@contextlib.contextmanager
def screen(browser, server, console, width: int, height: int, scheme: str = "light",
           motion: str = "no-preference", **context_options):
    """A page in a fresh context (its own workspace) of this size and colour scheme; console
    errors fail the test as with the `page` fixture."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=scheme, reduced_motion=motion,
                                  accept_downloads=True, **context_options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda m: m.type == "error" and console.errors.append(m.text))
    page.on("pageerror", lambda e: console.errors.append(f"uncaught: {e}"))
    page.base_url = server.url
    try:
        yield page
    finally:
        context.close()
    unexpected = console.unexpected()
    assert not unexpected, f"console errors: {unexpected}"


# What must be on screen for each tab (issue 11: "every main control inside the viewport").
GRAPH_CONTROLS = {
    "Graph tab": "#tab-graph", "Training tab": "#tab-training", "Load": ".editor .load",
    "Restart": "#restart", "Step back": "#step-back", "Play": "#play",
    "Step forward": "#step-forward", "Timeline": "#scrubber", "Timeline position": "#position",
    "Forward": "input[name=mode][value=forward]", "Back-prop": "input[name=mode][value=backward]",
    "Both": "input[name=mode][value=both]", "Export PNG": "#export-png",
    "Connection": "#connection", "Inspector": "#inspector .section-title", "Theme": "#theme",
    "Projector": "#projector", "Graph view": "#view",
}
TRAINING_CONTROLS = {
    "Graph tab": "#tab-graph", "Training tab": "#tab-training", "Train": "#train",
    "Stop": "#stop", "Export chart PNG": "#export-chart-png", "Chart": "#chart",
    "Runs": "#runs-title", "Theme": "#theme",
}

# Scrolls each control into view (as a person would), then asks whether all of it is inside the
# viewport and whether it is what the screen shows at its centre (not clipped, not covered).
# Nothing may have been scrolled sideways to get there.
SEEN = """(controls) => { const scrolled = Array.from(document.querySelectorAll('*'))
    .filter((e) => e.scrollTop).map((e) => [e, e.scrollTop]);
  const seen = Object.entries(controls).map(([name, selector]) => {
  const el = document.querySelector(selector);
  if (!el) return [name, 'missing'];
  el.scrollIntoView({ block: 'center', inline: 'nearest' });
  const r = el.getBoundingClientRect();
  const W = document.documentElement.clientWidth, H = window.innerHeight;
  const problems = [];
  if (!(r.width > 0 && r.height > 0)) problems.push('not shown');
  const span = (a, b, of) => `${a.toFixed(0)}..${b.toFixed(0)} of ${of}`;
  if (r.left < -0.5 || r.right > W + 0.5) problems.push(`x ${span(r.left, r.right, W)}`);
  if (r.top < -0.5 || r.bottom > H + 0.5) problems.push(`y ${span(r.top, r.bottom, H)}`);
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  const own = hit && (hit === el || el.contains(hit)
    || (el.labels && Array.from(el.labels).some((l) => l.contains(hit))));
  if (!own) problems.push(`covered by ${hit ? hit.tagName + '.' + hit.className : 'nothing'}`);
  for (let a = el.parentElement; a; a = a.parentElement) {
    if (a.scrollLeft) problems.push(`scrolled sideways inside ${a.tagName}.${a.className}`);
  }
  return [name, problems.join('; ') || 'ok'];
  });
  for (const e of document.querySelectorAll('*')) if (e.scrollTop) e.scrollTop = 0;
  for (const [e, top] of scrolled) e.scrollTop = top; // as it was, for the screenshots
  return seen; }"""


def unseen_controls(page, controls: dict[str, str]) -> dict[str, str]:
    """The controls not fully on screen when scrolled to, each with why."""
    seen = page.evaluate(SEEN, controls)
    page.evaluate("() => window.scrollTo(0, 0)")
    return {name: why for name, why in seen if why != "ok"}


def scroll_width(page) -> int:
    return page.evaluate("() => document.scrollingElement.scrollWidth")


# -- colours, computed in Python from what the browser says is painted (the WCAG 2.1 formulas) --
def parse_rgb(text: str) -> tuple[float, float, float, float]:
    """'rgb(1, 2, 3)' / 'rgba(1, 2, 3, 0.5)' / '#abc' / '#aabbcc' → (r, g, b, alpha)."""
    text = text.strip()
    if text.startswith("#"):
        h = text[1:]
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 1.0
    numbers = [float(x) for x in re.findall(r"[\d.]+", text)]
    if len(numbers) < 3:
        raise ValueError(f"not a colour: {text!r}")
    return numbers[0], numbers[1], numbers[2], numbers[3] if len(numbers) > 3 else 1.0


def luminance(color: str) -> float:
    r, g, b, _ = parse_rgb(color)

    def channel(v: float) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def is_dark(color: str) -> bool:
    return luminance(color) < 0.05

