"""Share links that can be revoked ("Stop sharing"), in Chromium against a real server.

The server is the oracle: what `GET /api/shared/<token>` answers, and the share token it keeps
for the upload (`GET /api/graphs`) — never the page's own variables.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from .conftest import VIEWPORT, shot
from .pages import expect_editor_text, fill_editor, node, open_page, wait_trace

TEXT = "p = input(2.0)\nq = input(3.0)\nr = p * q + sin(p)\noutput r\n"
SHARED_LINK = re.compile(r"\?shared=[\w-]+$")


def load_expression(page, text: str) -> str:
    """Type `text` in the editor and press Load; returns the new upload's id."""
    fill_editor(page, text)
    page.get_by_role("button", name="Load", exact=True).click()
    expect(node(page, "r")).to_be_visible()
    wait_trace(page)
    return page.locator("body").get_attribute("data-graph")


def share(page) -> str:
    """Press Share; returns the link shown."""
    field = page.get_by_label("Read-only link")
    page.get_by_role("button", name="Share", exact=True).click()
    expect(field).to_have_value(SHARED_LINK)
    return field.input_value()


def token_of(link: str) -> str:
    return parse_qs(urlparse(link).query)["shared"][0]


def shared_answer(page, token: str):
    return page.request.get(f"{page.base_url}/api/shared/{token}")


def stored_token(page, graph_id: str) -> str | None:
    """The share token the server keeps for this workspace's upload."""
    response = page.request.get(f"{page.base_url}/api/graphs")
    assert response.ok, response.status
    (row,) = [g for g in response.json()["graphs"] if g["id"] == graph_id]
    return row["share_token"]


def test_stop_sharing_revokes_the_link_and_sharing_again_makes_a_new_one(page, browser):
    open_page(page, "?graph=example:reference.expr")
    graph_id = load_expression(page, TEXT)
    field = page.get_by_label("Read-only link")
    stop = page.get_by_role("button", name="Stop sharing")

    link = share(page)
    token = token_of(link)
    answer = shared_answer(page, token)
    assert answer.status == 200
    assert answer.json()["source"] == TEXT
    assert stored_token(page, graph_id) == token
    expect(stop).to_be_visible()
    shot(page, "sharing-shared")

    stop.click()
    expect(page.locator("#share-status")).to_have_text("The link no longer works.")
    assert shared_answer(page, token).status == 404
    assert stored_token(page, graph_id) is None
    expect(field).to_be_hidden()
    expect(page.locator("#unshare")).to_be_hidden()
    shot(page, "sharing-stopped")

    # Someone else opening the old link gets the page's "not found", not the graph.
    other = browser.new_context(viewport=VIEWPORT)  # its own cookie: another workspace
    try:
        viewer = other.new_page()
        viewer.goto(link)
        viewer.wait_for_selector("body[data-ready=true]")
        expect(viewer.get_by_role("alert")).to_contain_text(
            "nothing is shared under that link (any more)")
        expect(node(viewer, "r")).to_have_count(0)
        expect_editor_text(viewer, TEXT, equal=False)
        assert viewer.locator("body").get_attribute("data-graph") is None
    finally:
        other.close()

    again = share(page)
    new_token = token_of(again)
    assert new_token != token
    answer = shared_answer(page, new_token)
    assert answer.status == 200
    assert answer.json()["source"] == TEXT
    assert shared_answer(page, token).status == 404  # the old one stays dead
    assert stored_token(page, graph_id) == new_token
    expect(stop).to_be_visible()
    expect(page.locator("#share-status")).to_have_text("")


def test_another_graph_hides_the_button_and_leaves_the_link_working(page):
    open_page(page, "?graph=example:reference.expr")
    graph_id = load_expression(page, TEXT)
    token = token_of(share(page))
    expect(page.get_by_role("button", name="Stop sharing")).to_be_visible()

    page.get_by_label("Example").select_option("example:reference.expr")
    page.wait_for_selector('body[data-graph="example:reference.expr"]')
    wait_trace(page)
    expect(page.locator("#unshare")).to_be_hidden()
    expect(page.get_by_label("Read-only link")).to_be_hidden()
    # Only hidden, not revoked: the server still answers the link.
    assert shared_answer(page, token).status == 200
    assert stored_token(page, graph_id) == token


def test_an_examples_link_has_nothing_to_stop(page):
    open_page(page, "?graph=example:reference.expr")
    field = page.get_by_label("Read-only link")
    page.get_by_role("button", name="Share", exact=True).click()
    expect(field).to_have_value(re.compile(r"\?graph=example%3Areference\.expr$"))
    expect(page.locator("#unshare")).to_be_hidden()
