"""Browser tests: a real server (subprocess) and Debian's Chromium driven by Playwright.

Session-scoped: one server on a temporary data dir, one browser. Each test gets a fresh browser
context (its own cookie, hence its own workspace) and a page that fails the test on any console
error or uncaught exception, unless the test declared it expected (``console.allow(pattern)``,
e.g. the 400 of an upload that is meant to be refused). Screenshots go to artifacts/.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
VIEWPORT = {"width": 1400, "height": 860}

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    if not (ROOT / "static" / "dist" / "main.js").exists():
        pytest.fail("static/dist/main.js is missing: run `npm ci && npm run build` "
                    "(scripts/setup.sh does)")
    with LiveServer(tmp_path_factory.mktemp("browser-data")) as live:
        yield live


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: `apt-get install -y chromium` "
                    "(scripts/setup.sh --test does)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Console:
    """Console errors and page errors seen by a page; expected ones can be allowed."""

    def __init__(self):
        self.errors: list[str] = []
        self.allowed: list[re.Pattern] = []

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def console():
    return Console()


@pytest.fixture
def page(browser, server, console, request):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda m: m.type == "error" and console.errors.append(m.text))
    page.on("pageerror", lambda e: console.errors.append(f"uncaught: {e}"))
    page.base_url = server.url
    yield page
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        shot(page, f"{request.node.name}-failed")
    context.close()
    unexpected = console.unexpected()
    assert not unexpected, f"console errors: {unexpected}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
