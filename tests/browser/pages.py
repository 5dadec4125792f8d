"""What a person does on the graph page, as functions the tests share (a small page object)."""

from __future__ import annotations

import math


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
