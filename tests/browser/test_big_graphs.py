"""Big graphs through the page (issue 18), in Chromium against a real server: the layout of a
graph the canvas draws is computed in the layout worker, not on the page's main thread."""

from __future__ import annotations

from engine import formats

from .pages import open_page

CHAIN = "x = input(0.5)\n" + "x += tanh(x)\n" * 15_000 + "output x\n"


def upload(page, name: str, text: str) -> None:
    """Give `text` to the page's "Upload a file…" control, as a person choosing a file does."""
    page.set_input_files("#graph-file", files=[{"name": name, "mimeType": "text/plain",
                                                "buffer": text.encode()}])


def test_a_big_graphs_layered_layout_is_computed_in_the_worker(page):
    open_page(page, "?graph=example:reference.expr")
    # The reference is small: dagre lays it out, in the worker too.
    page.wait_for_selector("#view[data-layout=dagre][data-layout-where=worker]")
    nodes = len(formats.load(CHAIN, filename="chain.expr").graph.program().nodes)
    assert nodes == 30_001
    upload(page, "chain.expr", CHAIN)
    page.wait_for_selector(f"body[data-nodes='{nodes}']", timeout=120_000)
    view = page.locator("#view")
    page.wait_for_selector("#view[data-renderer=canvas][data-layout=layered]", timeout=60_000)
    assert view.get_attribute("data-layout-where") == "worker"
