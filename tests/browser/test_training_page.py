"""Training mode (issue 7), in Chromium against a real server.

The oracle is the server: every number the page shows is compared with what the server stored
for the run (GET /api/runs/<id>, its CSV), never with the page's own copy. The gradient-health
flags are checked against the stated rule, written again here in Python over the server's
metrics.
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from pathlib import Path

from playwright.sync_api import expect

from .conftest import shot
from .pages import (
    curve_points,
    drawn_steps,
    number,
    open_training,
    run_row,
    server_run,
    server_steps,
    start_run,
    wait_curve_points,
    wait_run_status,
    wait_server_status,
)

STEPS_PER_EPOCH_16 = math.ceil(1437 / 16)  # docs/training.md: 1,437 training images
# The live-drawing test needs a run that lasts: one MLP epoch at batch 16 ends in a fraction of
# a second, so it trains on batches of 2 (719 steps, each stored and sent on its own).
LIVE_BATCH = 2
STEPS_PER_EPOCH_LIVE = math.ceil(1437 / LIVE_BATCH)

# Records every change of the curve's data-points with the progress bar's status at that moment.
WATCH_POINTS = """() => {
  window.__seen = [];
  const svg = document.querySelector('svg.chart');
  new MutationObserver(() => window.__seen.push([+svg.dataset.points,
    document.querySelector('#train-progress').dataset.status])).observe(svg,
    {attributes: true, attributeFilter: ['data-points']});
}"""


def stop_everything(page):
    """Leave no run going for the next test (the server is shared)."""
    runs = page.request.get(f"{page.base_url}/api/runs").json()["runs"]
    for run in runs:
        if run["status"] == "running":
            page.request.delete(f"{page.base_url}/api/runs/{run['id']}")


def test_a_one_epoch_mlp_run_draws_live_fills_the_progress_bar_and_lists_its_accuracy(page):
    open_training(page)
    page.evaluate(WATCH_POINTS)
    run_id = start_run(page, model="mlp", epochs=1, batch_size=LIVE_BATCH)
    page.wait_for_function("() => +document.querySelector('svg.chart').dataset.points > 0")
    shot(page, "training-mlp-running")
    wait_run_status(page, run_id, "completed")
    run = server_run(page, run_id)
    steps = server_steps(run)
    wait_curve_points(page, len(steps))  # the frame that draws the last step
    shot(page, "training-mlp-completed")

    # The curve grew while the run was going: several counts below the end, seen as "running".
    seen = page.evaluate("() => window.__seen")
    live = sorted({n for n, status in seen if status == "running" and 0 < n < STEPS_PER_EPOCH_LIVE})
    assert len(live) >= 3, seen
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)  # it only grew

    assert run["status"] == "completed"
    assert len(steps) == STEPS_PER_EPOCH_LIVE
    assert curve_points(page) == len(steps)
    assert drawn_steps(page, run_id) == [r["step"] for r in steps]

    progress = page.get_by_label("Training progress")
    assert progress.evaluate("p => [p.value, p.max]") == [len(steps), len(steps)]
    expect(page.locator("#train-progress-text")).to_contain_text(
        f"{len(steps)} / {len(steps)} steps")

    accuracy = run["summary"]["test_accuracy"]
    row = run_row(page, run_id)
    assert number(page, row, "data-test-accuracy") == accuracy
    expect(row).to_contain_text(f"{100 * accuracy:.1f}%")
    expect(row).to_contain_text("completed")

    # The confusion matrix is the server's, for the last epoch.
    epoch = [r for r in run["metrics"] if r["type"] == "epoch"][-1]
    expect(page.locator("#confusion")).to_have_attribute("data-epoch", str(epoch["epoch"]))
    cells = page.locator("#confusion td[data-count]").evaluate_all(
        "cs => cs.map(c => [+c.dataset.true, +c.dataset.predicted, +c.dataset.count])")
    assert {(t, p): n for t, p, n in cells} == {
        (t, p): n for t, row_ in enumerate(epoch["confusion"]) for p, n in enumerate(row_)}


def test_stop_midway_stops_the_run_and_lists_it_as_stopped(page):
    open_training(page)
    try:
        run_id = start_run(page, model="resnet", epochs=200)
        page.wait_for_function("() => +document.querySelector('svg.chart').dataset.points > 60")
        shot(page, "training-resnet-running")
        page.get_by_role("button", name="Stop", exact=True).click()
        wait_run_status(page, run_id, "stopped")
        # The server records "stopped" once the worker has ended and its last steps are stored.
        wait_server_status(page, run_id, "stopped")
    finally:
        stop_everything(page)

    run = server_run(page, run_id)
    stored = len(server_steps(run))
    assert 60 < stored < 200 * STEPS_PER_EPOCH_16  # stopped midway
    # The page ends where the server did: every stored step drawn and counted, and once it has
    # drawn them the server still has no more (the steps stopped growing).
    wait_curve_points(page, stored)
    row = run_row(page, run_id)
    expect(row).to_have_attribute("data-steps", str(stored))
    assert len(server_steps(server_run(page, run_id))) == stored
    expect(row).to_contain_text(f"{stored:,} steps")
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_disabled()
    progress = page.get_by_label("Training progress")
    assert progress.evaluate("p => p.value < p.max")
    assert drawn_steps(page, run_id) == [r["step"] for r in server_steps(run)]
    shot(page, "training-resnet-stopped")


def test_reload_and_a_lost_connection_during_a_run_leave_the_curve_whole(page):
    open_training(page)
    try:
        # Long enough that it is still training when the page comes back (a 12-epoch run once
        # stored its last step during the reload, leaving nothing live to wait for).
        run_id = start_run(page, model="resnet", epochs=200)
        page.wait_for_function("() => +document.querySelector('svg.chart').dataset.points > 40")
        page.reload()
        page.wait_for_selector("body[data-training-ready=true]")
        assert run_row(page, run_id).get_attribute("aria-current") == "true"
        before = server_run(page, run_id)
        assert before["status"] == "running", "the run ended before the page came back"
        resumed = len(server_steps(before))
        # The stored history, then the live tail: more points than were stored at reload.
        page.wait_for_function("n => +document.querySelector('svg.chart').dataset.points > n",
                               arg=resumed)
        shot(page, "training-reloaded-mid-run")

        # Lose the connection for a while (the transport closes; Socket.IO reconnects).
        page.evaluate("() => window.__training.follower.connection.socket.io.engine.close()")
        expect(page.locator("#connection")).to_have_attribute("data-state", "connected",
                                                              timeout=10_000)
        reconnected = len(server_steps(server_run(page, run_id)))
        page.wait_for_function("n => +document.querySelector('svg.chart').dataset.points > n",
                               arg=reconnected)  # the live tail again, after the reconnect
        page.get_by_role("button", name="Stop", exact=True).click()
        wait_run_status(page, run_id, "stopped")
        wait_server_status(page, run_id, "stopped")
    finally:
        stop_everything(page)
    run = server_run(page, run_id)
    steps = server_steps(run)
    assert reconnected < len(steps) < 200 * STEPS_PER_EPOCH_16
    wait_curve_points(page, len(steps))
    assert drawn_steps(page, run_id) == [r["step"] for r in steps]  # no gap, no duplicate

    # Beside the curve: the blocks at the last step, and the skip path against the residual.
    last = steps[-1]
    expect(page.locator("#health")).to_have_attribute("data-step", str(last["step"]))
    for layer, norm in last["grad_norms"].items():
        assert number(page, f'[data-block="{layer}"]', "data-grad-norm") == norm
    add = last["branches"]["Add2"]
    branch = page.locator('#health .branch[data-branch="Add2"]')
    assert number(page, branch, "data-skip") == add["value_rms"][0]
    assert number(page, branch, "data-residual") == add["value_rms"][1]
    expect(page.locator('[data-block="Add2"] text.mean')).to_contain_text("skip")
    shot(page, "training-reloaded-stopped")


def flags_by_rule(steps: list[dict], k: int) -> dict:
    """The stated rule, over the server's metrics: exploding above 10× the median of the layer's
    norm over the first 10 steps (or not finite); vanishing below 1/1000 of the step's largest."""
    norms = steps[k]["grad_norms"]
    largest = max(v for v in norms.values() if math.isfinite(v))
    flags = {}
    for layer, v in norms.items():
        early = statistics.median(s["grad_norms"][layer] for s in steps[:10])
        flags[layer] = ("exploding" if not math.isfinite(v) or v > 10 * early
                        else "vanishing" if v < 1e-3 * largest else None)
    return flags


def blocks_match_the_server_at(page, steps: list[dict], step: int) -> dict:
    """The grouped view's blocks show the server's norms at `step`, flagged by the rule."""
    expect(page.locator("#health")).to_have_attribute("data-step", str(step))
    record = steps[step - 1]
    assert record["step"] == step
    expected = flags_by_rule(steps, step - 1)
    for layer, flag in expected.items():
        block = page.locator(f'[data-block="{layer}"]')
        assert number(page, block, "data-grad-norm") == record["grad_norms"][layer]
        if flag:
            expect(block).to_have_attribute("data-health", flag)
        else:
            expect(block).not_to_have_attribute("data-health", re.compile("."))
    return expected


def test_clicking_the_curve_shows_the_blocks_at_that_step_with_exploding_gradients_flagged(page):
    open_training(page)
    run_id = start_run(page, model="mlp", epochs=1, optimizer="sgd", lr=10)
    wait_run_status(page, run_id, "completed")
    steps = server_steps(server_run(page, run_id))

    # Click the curve near step 30: the blocks show that step.
    box = page.locator("svg.chart .panel.loss rect.mouse").bounding_box()
    before = page.locator("#health").get_attribute("data-step")  # the latest step, or none yet
    page.mouse.click(box["x"] + box["width"] * 30 / len(steps), box["y"] + box["height"] / 2)
    page.wait_for_function("b => { const s = document.querySelector('#health').dataset.step;"
                           " return s && s !== b; }", arg=before or "")
    clicked = int(page.locator("#health").get_attribute("data-step"))
    assert abs(clicked - 30) <= 1
    blocks_match_the_server_at(page, steps, clicked)

    # The first step the rule flags (SGD at lr 10 blows up at once), reached with the keyboard.
    first = next(k + 1 for k in range(len(steps)) if any(flags_by_rule(steps, k).values()))
    assert first <= 5
    chart = page.locator("svg.chart")
    chart.press("Home")
    for _ in range(first - 1):
        chart.press("ArrowRight")
    flags = blocks_match_the_server_at(page, steps, first)
    assert "exploding" in flags.values()
    expect(page.locator("#health .flagged")).to_contain_text("exploding")
    shot(page, f"training-exploding-step-{first}")
    page.get_by_role("button", name="Latest step").click()
    expect(page.locator("#health")).to_have_attribute("data-step", str(len(steps)))


def test_two_runs_overlaid_then_renamed_exported_and_deleted(page):
    open_training(page)
    first = start_run(page, model="mlp", epochs=1, seed=1)
    wait_run_status(page, first, "completed")
    second = start_run(page, model="mlp", epochs=1, optimizer="sgd", seed=2)
    wait_run_status(page, second, "completed")
    page.get_by_label(f"Overlay {server_run(page, first)['name']}").check()
    runs = page.locator("svg.chart .panel.loss .run")
    expect(runs).to_have_count(2)
    for run_id in (first, second):
        steps = [r["step"] for r in server_steps(server_run(page, run_id))]
        page.wait_for_function(
            "([id, n]) => +document.querySelector(`svg.chart .panel.loss .run[data-run=\"${id}\"]`)"
            ".dataset.points === n", arg=[run_id, len(steps)])
        assert drawn_steps(page, run_id) == steps
    shot(page, "training-two-runs-overlaid")

    # The comparison lives in the URL: a reload shows the same two curves and the same focus.
    focus = page.evaluate("() => window.__training.focus")
    page.reload()
    page.wait_for_selector("body[data-training-ready=true]", timeout=60_000)
    expect(runs).to_have_count(2)
    assert page.evaluate("() => window.__training.focus") == focus
    expect(page.get_by_label(f"Overlay {server_run(page, first)['name']}")).to_be_checked()

    # CSV export: every record, every step, as the server stored them.
    name = server_run(page, first)["name"]
    with page.expect_download() as info:
        page.get_by_label(f"Export CSV of {name}").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    metrics = server_run(page, first)["metrics"]
    assert len(rows) == len(metrics)
    assert [int(r["seq"]) for r in rows] == [m["seq"] for m in metrics]
    assert [int(r["step"]) for r in rows if r["type"] == "step"] == \
        [m["step"] for m in metrics if m["type"] == "step"]

    # The chart as SVG and PNG.
    with page.expect_download() as info:
        page.get_by_role("button", name="Export chart SVG").click()
    svg = Path(info.value.path()).read_text()
    assert svg.startswith("<svg") and f'data-run="{first}"' in svg and "path" in svg
    with page.expect_download() as info:
        page.get_by_role("button", name="Export chart PNG").click()
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Rename the second, delete the first: the server agrees.
    row = run_row(page, second)
    old = server_run(page, second)["name"]
    row.get_by_role("button", name=f"Rename {old}").click()
    field = page.get_by_label(f"New name for {old}")
    field.fill("sgd, seed 2")
    field.press("Enter")
    expect(row.locator(".run-name")).to_have_text("sgd, seed 2")
    assert server_run(page, second)["name"] == "sgd, seed 2"
    run_row(page, first).get_by_role("button", name=f"Delete {name}").click()
    run_row(page, first).get_by_role("button", name=f"Confirm delete {name}").click()
    expect(run_row(page, first)).to_have_count(0)
    assert page.request.get(f"{page.base_url}/api/runs/{first}").status == 404
    expect(runs).to_have_count(1)
    shot(page, "training-after-rename-delete")


def test_the_network_spec_the_page_has_loaded_trains_from_its_own_weights(page):
    open_training(page, "?graph=example:mlp.network.json")
    model = page.get_by_label("Model", exact=True)
    expect(model).to_have_value("network")  # the spec just loaded is what Train trains
    expect(model.locator("option[value=network]")).to_contain_text("mlp")
    run_id = start_run(page, epochs=1)
    wait_run_status(page, run_id, "completed")
    run = server_run(page, run_id)
    assert run["config"]["model"] == "network"
    assert run["config"]["graph"] == "example:mlp.network.json"
    steps = server_steps(run)
    assert len(steps) == STEPS_PER_EPOCH_16
    page.wait_for_function("n => +document.querySelector('svg.chart').dataset.points === n",
                           arg=len(steps))
    assert drawn_steps(page, run_id) == [r["step"] for r in steps]
    # The spec's own layer names, with the server's norms at the last step.
    expect(page.locator("#health")).to_have_attribute("data-step", str(len(steps)))
    assert set(steps[-1]["grad_norms"]) == {"hidden", "logits"}
    assert page.locator("body").get_attribute("data-graph") == "example:mlp.network.json"
    shot(page, "training-network-spec")
