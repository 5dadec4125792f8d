"""The Playground tab in chromium against a live server, checked against the engine's own
Playground computed here."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine.playground import Playground, PlaygroundConfig
from tests.browser.conftest import shot

pytestmark = pytest.mark.browser
BOUNDARY = "#pg-boundary"


def open_playground(page, query: str = ""):
    page.goto(page.base_url + "/" + query + "#playground")
    page.wait_for_selector("body[data-ready=true]")
    wait_data(page, "d.epoch === '0'")


def wait_data(page, condition: str, timeout: float = 20_000) -> None:
    """Until ``condition`` (JavaScript over ``d``, the boundary canvas's dataset) holds."""
    page.wait_for_function("() => { const d = document.querySelector('#pg-boundary').dataset;"
                           f" return {condition}; }}", timeout=timeout)


def wait_neurons(page, count: int) -> None:
    page.wait_for_function("() => document.querySelectorAll('#pg-network canvas.pg-neuron')"
                           f".length === {count}")


def attribute(page, name: str) -> str:
    return page.locator(BOUNDARY).get_attribute(f"data-{name}")


def neurons(page) -> int:
    return page.locator("#pg-network canvas.pg-neuron").count()


def play_pause_and_step(page) -> int:
    """Play until the test accuracy passes 0.9, pause, one Step; the step count paused at."""
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "() => Number(document.querySelector('#pg-boundary').dataset.testAccuracy) > 0.9",
        timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    page.wait_for_function("() => !document.querySelector('#pg-step').disabled")
    paused = int(attribute(page, "step"))
    page.get_by_role("button", name="Step").click()
    wait_data(page, f"d.step === '{paused + 1}'")
    return paused


def test_circle_learns_and_pause_stops_the_steps(page):
    open_playground(page)
    assert page.get_by_role("tab", name="Playground").get_attribute("aria-selected") == "true"
    play_pause_and_step(page)
    shot(page, "playground-circle-trained")


def test_layers_and_neurons_change_the_diagram_and_the_url_and_survive_a_reload(page):
    open_playground(page)
    assert neurons(page) == 2 + 4 + 2 + 1
    page.get_by_role("button", name="Add layer").click()
    wait_neurons(page, 11)
    page.get_by_role("button", name="Add neuron").first.click()
    wait_neurons(page, 12)
    assert "pg.net=5%2C2%2C2" in page.url or "pg.net=5,2,2" in page.url
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    wait_neurons(page, 12)
    assert re.search(r"pg\.net=5(%2C|,)2(%2C|,)2", page.url)
    assert page.locator(".pg-layer").first.inner_text().startswith("Layer 1: 5 neurons")


def test_a_link_gives_the_same_points_and_loss_in_a_fresh_browser(page, browser, server):
    query = "?pg.data=xor&pg.seed=5&pg.init=2&pg.net=3"
    open_playground(page, query)
    mine = Playground(PlaygroundConfig(dataset="xor", seed=5, init_seed=2, hidden=(3,))).metrics()
    assert float(attribute(page, "train-loss")) == pytest.approx(mine.train_loss, rel=1e-12)
    assert float(attribute(page, "test-loss")) == pytest.approx(mine.test_loss, rel=1e-12)
    other = browser.new_context().new_page()
    other.base_url = server.url
    open_playground(other, query)
    assert attribute(other, "train-loss") == attribute(page, "train-loss")
    other.context.close()


@pytest.mark.parametrize("dataset", ["circle", "xor", "gaussian", "spiral", "moons"])
def test_each_dataset_trains(page, dataset):
    open_playground(page)
    page.get_by_label("Dataset").select_option(dataset)
    if dataset != "circle":
        page.wait_for_function(f"() => location.search.includes('pg.data={dataset}')")
    wait_data(page, "d.epoch === '0'")
    page.get_by_role("button", name="Play").click()
    wait_data(page, "Number(d.epoch) >= 3", timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    shot(page, f"playground-{dataset}")


def test_clicking_a_point_opens_its_backprop_graph_and_returning_keeps_the_exercise(page):
    from tests.browser.pages import node, play_to_end, wait_trace

    open_playground(page)
    page.get_by_role("button", name="Step").click()
    wait_data(page, "d.step === '1'")
    mine = Playground(PlaygroundConfig())
    mine.step()
    x, y = mine.data.train.xy[0]
    box = page.locator(BOUNDARY).bounding_box()
    page.locator(BOUNDARY).click(position={"x": (x + 6) / 12 * box["width"],
                                           "y": (6 - y) / 12 * box["height"]})
    page.wait_for_function("() => document.body.dataset.mode === 'graph'")
    index = int(attribute(page, "sample"))
    train = index < len(mine.data.train)
    g = mine.sample_graph(train, index if train else index - len(mine.data.train))
    g.compute_forward()
    g.back_prop()
    page.wait_for_selector('[data-node-name="Loss"]')  # the sample's graph, not the last one
    wait_trace(page)
    play_to_end(page)
    def inspected(name: str, field: str) -> float:
        clicked = node(page, name)
        clicked.dispatch_event("click")
        # the Inspector shows the clicked node (not the one it showed before: under load it
        # once read the Loss's gradient, 1.0, for the weight's)
        expect(page.locator("#inspector")).to_have_attribute(
            "data-node-id", clicked.get_attribute("data-node-id"))
        cell = page.locator(f"#inspector [data-field={field}][data-{field}]")
        return float(cell.get_attribute(f"data-{field}"))

    assert inspected("Loss", "value") == pytest.approx(mine.network.loss.forward, rel=1e-12)
    weight = mine.network.layers[0][0][0]  # FC1's first weight
    assert inspected(weight.name, "grad") == pytest.approx(weight.backward, rel=1e-12)
    assert page.get_by_role("button", name="Descend", exact=True).is_enabled()
    shot(page, "playground-sample-graph")
    page.get_by_role("tab", name="Playground").click()
    assert attribute(page, "step") == "1"  # the exercise is where it was


def test_a_csv_with_a_bad_line_gives_its_located_error_and_changes_nothing(page, tmp_path):
    open_playground(page)
    before = attribute(page, "train-loss")
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y,label\n1,1,A\n2,two,B\n")
    page.get_by_label("Upload points (CSV)").set_input_files(str(bad))
    page.wait_for_function("() => document.querySelector('#pg-message').textContent !== ''")
    assert page.locator("#pg-message").inner_text() == "line 3: column 2: 'two' is not a number"
    assert attribute(page, "train-loss") == before
    good = tmp_path / "good.csv"
    good.write_text("1,1,A\n-1,-1,B\n2,2,A\n-2,-2,B\n")
    page.get_by_label("Upload points (CSV)").set_input_files(str(good))
    page.wait_for_function("() => document.querySelector('#pg-message').textContent === ''")
    wait_data(page, f"d.trainLoss !== '{before}'")


def test_clicks_add_points_of_class_a_and_shift_clicks_class_b(page):
    open_playground(page)
    before = attribute(page, "train-loss")
    canvas = page.locator(BOUNDARY)
    box = canvas.bounding_box()
    canvas.click(position={"x": box["width"] * 0.9, "y": box["height"] * 0.1})
    wait_data(page, "d.points === '1'")
    canvas.click(position={"x": box["width"] * 0.1, "y": box["height"] * 0.9}, modifiers=["Shift"])
    wait_data(page, f"d.trainLoss !== '{before}'")
    assert attribute(page, "points") == "2" and attribute(page, "epoch") == "0"
    page.get_by_role("button", name="Clear").click()
    wait_data(page, "d.points === '500'")
    assert attribute(page, "train-loss") == before  # the generated exercise again, exactly


def test_clicking_an_edge_edits_its_weight_and_the_boundary_follows(page):
    open_playground(page)
    edge = page.locator("#pg-network .pg-edge-hit").first  # x₁ → h1,1: parameter 0
    edge.click()
    field = page.get_by_label("Edge weight x₁ → h1,1")
    field.fill("1e999")  # Infinity: refused in the page
    field.press("Enter")
    assert page.locator(".pg-weight-error").inner_text() == "a weight must be a finite number"
    field.fill("5000")  # refused by the server, naming its limit
    field.press("Enter")
    page.wait_for_function("() => document.querySelector('.pg-weight-error')"
                           ".textContent.includes('PLAYGROUND_MAX_WEIGHT')")
    field.fill("1.5")
    field.press("Enter")
    page.wait_for_function("() => document.querySelector('#pg-network .pg-edge-hit')"
                           ".dataset.weight === '1.5'")
    assert page.locator(".pg-weight-editor").count() == 0
    mine = Playground(PlaygroundConfig())
    mine.params[0] = 1.5
    metrics = mine.metrics()
    assert float(attribute(page, "train-loss")) == pytest.approx(metrics.train_loss, rel=1e-12)
    assert float(attribute(page, "test-accuracy")) == pytest.approx(metrics.test_accuracy)
    assert "1.5000" in edge.get_attribute("aria-label")
    page.get_by_role("button", name="Step").click()  # training goes on from the edited weight
    wait_data(page, "d.step === '1'")
    mine.step()
    assert float(attribute(page, "train-loss")) == pytest.approx(mine.metrics().train_loss,
                                                                 rel=1e-12)
    shot(page, "playground-edge-edited")


def test_regenerate_draws_new_points_that_a_reload_reproduces(page):
    open_playground(page)
    before = attribute(page, "train-loss")
    page.get_by_role("button", name="Regenerate").click()
    page.wait_for_function("() => new URLSearchParams(location.search).has('pg.seed')")
    seed = int(re.search(r"pg\.seed=(\d+)", page.url).group(1))
    wait_data(page, f"d.trainLoss !== '{before}'")
    mine = Playground(PlaygroundConfig(seed=seed)).metrics()
    assert float(attribute(page, "train-loss")) == pytest.approx(mine.train_loss, rel=1e-12)
    assert attribute(page, "points") == "500"
    regenerated = attribute(page, "train-loss")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    wait_data(page, "d.epoch === '0' && d.trainLoss !== undefined")
    assert attribute(page, "train-loss") == regenerated
    assert page.get_by_label("Playground data seed").input_value() == str(seed)


def test_the_diagram_is_one_tab_stop_for_its_edges_and_one_for_its_neurons(page):
    """Every edge its own Tab stop made a keyboard user press Tab a hundred times past the
    diagram; arrows now move between edges (and between neurons), and the edge focused last
    keeps the stop."""
    open_playground(page)
    network = page.locator("#pg-network")
    assert network.locator('[tabindex="0"]').count() == 2  # one edge, one neuron
    edges = network.locator(".pg-edge-hit")
    assert edges.count() > 10
    edges.first.focus()
    page.keyboard.press("ArrowDown")
    second = page.evaluate("document.activeElement === document.querySelectorAll("
                           "'#pg-network .pg-edge-hit')[1]")
    assert second
    page.keyboard.press("Tab")  # off the edges, to the neurons' stop
    assert page.evaluate("document.activeElement.classList.contains('pg-neuron')")
    page.keyboard.press("Shift+Tab")  # back: the edge focused last
    assert page.evaluate("document.activeElement === document.querySelectorAll("
                         "'#pg-network .pg-edge-hit')[1]")
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement === [...document.querySelectorAll("
                         "'#pg-network .pg-edge-hit')].at(-1)")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Edge weight x₂ → h1,1")).to_be_visible()
