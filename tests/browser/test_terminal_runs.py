"""A run trained in a terminal shows on the page: ``backprop-live train --epochs 1``, then
``backprop-live serve`` on the same data dir, then the Training tab in chromium."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.live_server import LiveServer

from .conftest import VIEWPORT, shot
from .pages import open_training, run_row, start_run, wait_run_status


@pytest.fixture(scope="module")
def trained_then_served(tmp_path_factory):
    """(server, the terminal run's JSON summary): trained first, served after."""
    data_dir = tmp_path_factory.mktemp("terminal-then-serve")
    out = subprocess.run(
        [sys.executable, "-m", "server", "train", "--model", "mlp", "--epochs", "1",
         "--name", "trained in a terminal", "--json", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    with LiveServer(data_dir) as live:
        yield live, summary


def test_a_terminal_run_appears_in_the_runs_list(browser, trained_then_served, console):
    server, summary = trained_then_served
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and console.errors.append(m.text))
    page.on("pageerror", lambda e: console.errors.append(f"uncaught: {e}"))
    page.base_url = server.url
    try:
        open_training(page)
        row = run_row(page, summary["run_id"])
        wait_run_status(page, summary["run_id"], "completed")
        expect(row).to_contain_text("trained in a terminal")
        # It is badged, and read-only on the page: no Rename or Delete, CSV still there.
        expect(row).to_have_attribute("data-origin", "terminal")
        badge = row.locator(".run-origin")
        expect(badge).to_have_text("terminal")
        expect(badge).to_be_visible()
        expect(badge).to_have_attribute(
            "title", "trained from the command line with backprop-live train")
        expect(row.get_by_role("button", name="Rename trained in a terminal")).to_have_count(0)
        expect(row.get_by_role("button", name="Delete trained in a terminal")).to_have_count(0)
        expect(row.get_by_label("Export CSV of trained in a terminal")).to_be_visible()
        # The server's own record of it is what the page lists: a terminal run, completed.
        listed = page.request.get(f"{server.url}/api/runs").json()["runs"]
        assert [(r["id"], r["origin"], r["steps"]) for r in listed] == [
            (summary["run_id"], "terminal", summary["steps"])]
        row.click()
        page.wait_for_function(
            "id => document.querySelector('svg.chart').dataset.points > 0", arg=summary["run_id"])
        points = int(page.locator("svg.chart").get_attribute("data-points"))
        assert points == summary["steps"]  # every step the terminal trained is drawn
        shot(page, "terminal-run-listed")
        # A run the page trains itself beside it is the page's own: renamable, deletable.
        own = start_run(page, model="mlp", epochs=1, batch_size=64, name="page-digits")
        wait_run_status(page, own, "completed")
        mine = run_row(page, own)
        expect(mine).to_have_attribute("data-origin", "server")
        expect(mine.locator(".run-origin")).to_have_count(0)
        expect(mine.get_by_role("button", name="Rename page-digits")).to_be_visible()
        expect(mine.get_by_role("button", name="Delete page-digits")).to_be_visible()
    finally:
        context.close()
    assert not console.unexpected(), console.unexpected()
