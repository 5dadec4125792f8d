"""micrograd code typed into the editor as it is: loaded, played to the end, and every node's
value and gradient on the page equal to PyTorch float64's; the ignored lines listed as notes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine.formats import load
from tests.micrograd_snippets import SNIPPETS

from .conftest import shot
from .pages import fill_editor, node, number, open_page, play_to_end, wait_trace


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_pasted_micrograd_code_plays_to_pytorchs_numbers(page, name):
    text, oracle, output = SNIPPETS[name]
    expected_output, expected_gradients = oracle()
    open_page(page, "?graph=example:neuron.expr")
    fill_editor(page, text)
    page.get_by_role("button", name="Load", exact=True).click()
    # the pasted graph itself (the example's nodes may have the same names), loaded and idle
    nodes = len(load(text, filename="snippet.py").graph.program().nodes)
    page.wait_for_selector(f"body[data-nodes='{nodes}'][data-busy=false]")
    expect(node(page, output)).to_be_visible()
    expect(page.locator(".problems li")).to_have_count(0)
    wait_trace(page)
    play_to_end(page)
    shot(page, f"micrograd-{name}")
    assert number(page, node(page, output), "data-value") == pytest.approx(
        expected_output, rel=1e-9, abs=1e-9)
    for label, gradient in expected_gradients.items():
        assert number(page, node(page, label), "data-grad") == pytest.approx(
            gradient, rel=1e-9, abs=1e-9), label
    notes = page.locator("#load-notes li")
    if name == "lecture_neuron":  # its import and its print(...) line
        expect(notes).to_have_count(2)
        assert [notes.nth(k).get_attribute("data-line") for k in range(2)] == ["1", "17"]
        expect(notes.first).to_contain_text("from micrograd.engine import Value")
    elif name == "rebinding":  # `import micrograd`; the versions of x, each shown once
        expect(notes).to_have_count(1)
        for version in ("x", "x′", "x″", "x‴"):
            expect(node(page, version)).to_have_count(1)
    else:
        expect(page.locator("#load-notes")).to_be_hidden()
