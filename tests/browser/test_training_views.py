"""Training tab, issue 11 (finding 9 and the run half of finding 6), in Chromium against a real
server: run share links, CSV names, the by-epoch axis and the legend, the divergence hint, the
time-left estimate, the label-smoothing note and the gradient-health words.

The oracle is the server: what it stored for each run (GET /api/runs/<id>, /api/shared/<token>)
and rules written again here in Python over those records — never the page's own copy.
"""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from .conftest import VIEWPORT, shot
from .pages import (
    focused_run,
    open_training,
    run_row,
    server_run,
    server_steps,
    start_run,
    wait_curve_points,
    wait_run_status,
)

SHARED_LINK = re.compile(r"/\?shared=[\w-]+$")


def finished_run(page, **options) -> tuple[str, dict]:
    run_id = start_run(page, **options)
    wait_run_status(page, run_id, "completed")
    return run_id, server_run(page, run_id)


def stored_run_token(page, run_id: str) -> str | None:
    """The share token the server keeps for this workspace's run (GET /api/runs)."""
    (run,) = [r for r in page.request.get(f"{page.base_url}/api/runs").json()["runs"]
              if r["id"] == run_id]
    return run["share_token"]


# -- finding 6: a run's share link ------------------------------------------------------------------
def test_a_shared_run_opens_read_only_on_the_training_tab_until_its_owner_stops_sharing(page,
                                                                                        browser):
    open_training(page)
    run_id, run = finished_run(page, model="mlp", epochs=2, name="shared mlp")
    row = run_row(page, run_id)
    row.get_by_role("button", name="Share shared mlp").click()
    field = row.get_by_label("Read-only link to shared mlp")
    expect(field).to_have_value(SHARED_LINK)
    link = field.input_value()
    token = parse_qs(urlparse(link).query)["shared"][0]
    assert stored_run_token(page, run_id) == token
    shot(page, "training-run-shared")

    steps = server_steps(run)
    epochs = [r for r in run["metrics"] if r["type"] == "epoch"]
    other = browser.new_context(viewport=VIEWPORT)  # its own cookie: another workspace
    try:
        viewer = other.new_page()
        viewer.goto(link)
        viewer.wait_for_selector("body[data-training-ready=true]")
        expect(viewer.locator("body")).to_have_attribute("data-mode", "training")
        shown = viewer.locator(f'.run-row[data-run="{run_id}"]')
        expect(shown).to_have_attribute("aria-current", "true")
        expect(shown.locator(".run-origin")).to_have_text("shared with you")
        expect(shown.get_by_role("button", name=re.compile("^(Rename|Delete|Share)"))).to_have_count(0)
        wait_curve_points(viewer, len(steps))
        accuracy = run["summary"]["test_accuracy"]
        expect(shown).to_contain_text(f"{100 * accuracy:.1f}%")
        expect(viewer.locator("#confusion")).to_have_attribute("data-epoch",
                                                               str(epochs[-1]["epoch"]))
        assert parse_qs(urlparse(viewer.url).query)["run"] == [token]
        shot(viewer, "training-shared-run-visitor")

        # A reload keeps it; then the owner stops sharing and the link stops working.
        viewer.reload()
        viewer.wait_for_selector("body[data-training-ready=true]")
        wait_curve_points(viewer, len(steps))
        row.get_by_role("button", name="Stop sharing shared mlp").click()
        expect(page.get_by_role("status").filter(has_text="no longer works")).to_be_visible()
        assert page.request.get(f"{page.base_url}/api/shared/{token}").status == 404
        assert stored_run_token(page, run_id) is None
        expect(row.get_by_label("Read-only link to shared mlp")).to_have_count(0)

        viewer.goto(link)
        viewer.wait_for_selector("body[data-training-ready=true]")
        expect(viewer.locator(f'.run-row[data-run="{run_id}"]')).to_have_count(0)
    finally:
        other.close()

    # Sharing again makes a new link.
    row.get_by_role("button", name="Share shared mlp").click()
    expect(row.get_by_label("Read-only link to shared mlp")).to_have_value(SHARED_LINK)
    assert stored_run_token(page, run_id) not in (None, token)


# -- finding 9: the CSV is named after the run --------------------------------------------------------
def test_the_csv_download_is_named_after_the_run(page):
    open_training(page)
    name = "Größe · mlp 1"
    run_id, _ = finished_run(page, model="mlp", epochs=1, name=name)
    with page.expect_download() as info:
        run_row(page, run_id).get_by_label(f"Export CSV of {name}").click()
    assert info.value.suggested_filename == f"{name}.csv"
    assert focused_run(page) == run_id
