"""A source checkout whose page bundle is missing or stale (issue 15): `serve` says in one line
what to run, and the page shows that line where it would have said "connecting…" for ever.

The checkout is a copy of this one in a temporary folder, without static/dist (or with one older
than a source); the server is its own `python -m server`, run from the copy.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.live_server import LiveServer

from .conftest import ROOT, VIEWPORT, shot

IGNORED = shutil.ignore_patterns(".git", ".venv", "node_modules", "build", "artifacts", "instance",
                                 "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "_web")
PROBLEM = r"The page's bundle \(static/dist/\) .*"


def copy_checkout(target, with_bundle: bool):
    shutil.copytree(ROOT, target, ignore=IGNORED)
    if not with_bundle:
        shutil.rmtree(target / "static" / "dist")
    return target


@pytest.fixture(params=["missing", "stale"])
def checkout_server(request, tmp_path):
    root = copy_checkout(tmp_path / "checkout", with_bundle=request.param == "stale")
    if request.param == "stale":
        built = (root / "static/dist/main.js").stat().st_mtime
        os.utime(root / "static/js/shared/api.js", (built + 60, built + 60))  # edited since
    with LiveServer(tmp_path / "data", cwd=root) as live:
        yield request.param, live


def test_serve_says_what_to_run_and_the_page_shows_the_same(checkout_server, browser):
    kind, live = checkout_server
    said = live.line_matching(PROBLEM).group(0)
    assert "npm run build" in said
    assert ("is missing" in said) if kind == "missing" else (
        "older than static/js/shared/api.js" in said)
    assert sum("The page's bundle" in line for line in live.output) == 1  # one line, once
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(live.url + "/")
        badge = page.locator("#connection")
        assert badge.inner_text().strip() == said.strip()
        assert badge.get_attribute("role") == "alert"
        assert page.locator("script[src]").count() == 0  # no bundle runs: none, or an old one
        for width, height in ((1024, 768), (390, 844)):
            for scheme in ("light", "dark"):
                page.set_viewport_size({"width": width, "height": height})
                page.emulate_media(color_scheme=scheme)
                shot(page, f"bundle-{kind}-{width}-{scheme}")
    finally:
        context.close()


def test_a_built_checkout_says_nothing_of_the_bundle(server, page):
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    assert not any("The page's bundle" in line for line in server.output)
    page.wait_for_function("() => document.querySelector('#connection').dataset.state"
                           " === 'connected'")
