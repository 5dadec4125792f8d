"""Issue 14 in Chromium against a real server: the Training tab's test digits, confusion-cell
images, conv kernels and a digit's feature maps and saliency.

Oracles: the weights the server stored for the run (read from its database file), fed to the
scalar graph here; the test set's labels from the bundled data; the run's own epoch records.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from engine.training import load_digits, resnet
from server.store import DATABASE, Store

from .conftest import shot
from .pages import open_training, server_run, start_run, wait_run_status
from .screens import screen

WIDTH = 8


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def stored_weights(server, run_id: str, epoch: int) -> np.ndarray:
    store = Store(server.data_dir / DATABASE)
    try:
        return np.frombuffer(store.weights(run_id, epoch), "<f8").copy()
    finally:
        store.close()


def trained_run(page, epochs: int = 2) -> str:
    open_training(page)
    run_id = start_run(page, model="resnet", epochs=epochs, batch_size=128, width=WIDTH,
                       seed=3)
    wait_run_status(page, run_id, "completed", timeout=120_000)
    wait_pictures(page, epochs)
    return run_id


def wait_pictures(page, epoch: int):
    page.wait_for_selector(f'#pictures-card[data-state=ready] #digit-maps[data-epoch="{epoch}"]',
                           timeout=30_000)


def scalar_graph(params, image, label):
    """The digit through the scalar graph with the run's weights: the engine's own numbers."""
    model = resnet(width=WIDTH)
    model.graph.feed(params, model.consts(image.reshape(1, -1), np.array([label])).T)
    model.graph.compute_forward()
    model.graph.back_prop()
    return model


def page_maps(page) -> dict:
    """The maps the page received and drew, read back from the drawn canvases."""
    return page.evaluate("""() => Object.fromEntries(
        Array.from(document.querySelectorAll('#digit-maps .map')).map((figure) => [
          figure.dataset.layer, {
            value: Array.from(figure.querySelector('[data-kind=value]').mapValues),
            grad: Array.from(figure.querySelector('[data-kind=grad]').mapValues)}]))""")


def close(a, b) -> bool:
    a, b = np.ravel(np.asarray(a, np.float64)), np.ravel(np.asarray(b, np.float64))
    return float(np.max(np.abs(a - b))) <= 1e-12 * max(float(np.max(np.abs(b))), 1e-300)


def test_the_strip_and_a_digits_maps_equal_the_engine_on_the_stored_weights(page, server,
                                                                             digits):
    run_id = trained_run(page)
    params = stored_weights(server, run_id, 2)
    mean, std = digits.train_images.mean(), digits.train_images.std()
    test_x = (digits.test_images - mean) / std

    strip = page.locator("#digit-strip .digit")
    assert strip.count() == 20
    model = resnet(width=WIDTH)
    for k in range(strip.count()):
        button = strip.nth(k)
        i = int(button.get_attribute("data-digit"))
        assert int(button.get_attribute("data-true")) == digits.test_labels[i]
        model.graph.feed(params, model.consts(test_x[i:i + 1], digits.test_labels[i:i + 1]).T)
        model.graph.compute_forward()
        logits = np.array([n.forward for n in model.logits]).ravel()
        predicted = int(button.get_attribute("data-predicted"))
        assert predicted == int(logits.argmax())
        wrong = "wrong" in button.get_attribute("class")
        assert wrong == (predicted != digits.test_labels[i])
    # the strip's two of each class, in class order
    assert [int(strip.nth(k).get_attribute("data-true")) for k in range(20)] == \
        [c for c in range(10) for _ in range(2)]

    third = strip.nth(6)  # a 3
    digit = int(third.get_attribute("data-digit"))
    third.click()
    page.wait_for_selector(f'#digit-maps[data-digit="{digit}"]')
    expect(third).to_have_attribute("aria-pressed", "true")
    label = int(digits.test_labels[digit])
    model = scalar_graph(params, test_x[digit], label)
    layers = {layer.name: layer for layer in model.net.layers}
    add = layers["Add2"]
    nodes = {"image": model.image, "skip": add.inputs[0], "residual": add.inputs[1],
             **{name: layers[name].outputs for name in ("Conv1", "ReLU1", "Conv2", "Add2",
                                                         "ReLU2")}}
    shown = page_maps(page)
    assert set(shown) == set(nodes)
    for name, layer_nodes in nodes.items():
        assert close(shown[name]["value"], [n.forward for n in layer_nodes]), name
        grad_nodes = add.outputs if name in ("skip", "residual") else layer_nodes
        assert close(shown[name]["grad"], [n.backward for n in grad_nodes]), name
    loss = float(page.locator("#digit-maps").get_attribute("data-loss"))
    assert loss == pytest.approx(float(np.ravel(model.loss.forward)[0]), rel=1e-12)
    probabilities = [float(li.get_attribute("data-probability"))
                     for li in page.locator("#digit-maps .probabilities li").all()]
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-12)

    # the kernels at epoch 2 and their history: the stored weights, epoch by epoch
    position = {n: i for i, n in enumerate(model.params)}
    for layer in ("Conv1", "Conv2"):
        cells = page.locator(f'#kernels .kernel[data-layer="{layer}"] .kernel-table td')
        shown_kernel = [float(c.get_attribute("data-value")) for c in cells.all()]
        assert shown_kernel == [params[position[w]] for w in layers[layer].weights]
        history = page.locator(f'#kernels .kernel[data-layer="{layer}"] .kernel-epoch')
        assert [h.get_attribute("data-epoch") for h in history.all()] == ["0", "1", "2"]
    shot(page, "pictures-training-tab")


def test_a_confusion_cell_lists_the_images_of_that_pair(page, digits):
    run_id = trained_run(page)
    confusion = [r for r in server_run(page, run_id)["metrics"] if r["type"] == "epoch"][-1][
        "confusion"]
    # an off-diagonal cell with images, else the fullest diagonal one
    cells = [(t, p) for t in range(10) for p in range(10) if t != p and confusion[t][p]]
    t, p = cells[0] if cells else (0, 0)
    page.locator(f'#confusion td[data-true="{t}"][data-predicted="{p}"]').click()
    listed = page.locator("#confusion-pairs .digit")
    expect(listed).to_have_count(min(confusion[t][p], 60))
    for k in range(listed.count()):
        item = listed.nth(k)
        assert item.get_attribute("data-true") == str(t)
        assert item.get_attribute("data-predicted") == str(p)
        assert digits.test_labels[int(item.get_attribute("data-digit"))] == t
    # the keyboard reaches the cells too: the diagonal cell with the most images
    d = max(range(10), key=lambda c: confusion[c][c])
    assert confusion[d][d] > 0
    diagonal = page.locator(f'#confusion td[data-true="{d}"][data-predicted="{d}"]')
    diagonal.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#confusion-pairs")).to_have_attribute("data-true", str(d))
    expect(page.locator("#confusion-pairs .digit")).to_have_count(min(confusion[d][d], 60))
    # picking one shows its maps
    first = page.locator("#confusion-pairs .digit").first
    digit = first.get_attribute("data-digit")
    first.click()
    page.wait_for_selector(f'#digit-maps[data-digit="{digit}"]')
    shot(page, "pictures-confusion-cell")


def test_an_mlp_run_says_why_it_has_no_pictures(page):
    open_training(page)
    run_id = start_run(page, model="mlp", epochs=1, batch_size=256, width=4)
    wait_run_status(page, run_id, "completed")
    page.wait_for_selector("#pictures-card[data-state=unavailable]")
    expect(page.locator("#pictures-caption")).to_contain_text("reference ResNet")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["1024x768", "390x844"])
def test_screenshots_of_the_pictures(browser, server, console, scheme, size):
    with screen(browser, server, console, *size, scheme=scheme) as page:
        trained_run(page, epochs=1)
        page.locator("#confusion td[data-true='3'][data-predicted='3']").click()
        card = page.locator("#pictures-card")
        card.scroll_into_view_if_needed()
        name = f"pictures-{size[0]}x{size[1]}-{scheme}"
        card.screenshot(path=str(shot(page, name).with_name(f"{name}-card.png")))
        page.locator(".confusion-card").screenshot(
            path=str(shot(page, name).with_name(f"{name}-confusion.png")))


def cell_centre(box, r: int, c: int) -> tuple[float, float]:
    return box["x"] + (c + 0.5) * box["width"] / 16, box["y"] + (r + 0.5) * box["height"] / 16


def drawn_pixels(page) -> np.ndarray:
    return np.array(page.evaluate("() => Array.from(__pictures.drawing.pixels)")).reshape(16, 16)


def test_a_drawn_stroke_is_scored_as_the_engine_scores_it(page, server, digits):
    run_id = trained_run(page)
    canvas = page.locator("#draw-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(*cell_centre(box, 3, 8))
    page.mouse.down()
    for r in range(4, 13):
        page.mouse.move(*cell_centre(box, r, 8))
    page.mouse.up()
    page.wait_for_selector('#drawn-maps[data-state=ready][data-strokes="1"]')
    ink = drawn_pixels(page)
    assert (ink[3:13, 8] == 1).all()  # every cell the pointer crossed is inked
    assert ink[8, 7] == 0.5 and ink[8, 9] == 0.5 and ink[8, 2] == 0  # the brush's edge
    shown = [float(li.get_attribute("data-probability"))
             for li in page.locator("#drawn-maps .probabilities li").all()]
    assert sum(shown) == pytest.approx(1.0, abs=1e-12)

    params = stored_weights(server, run_id, 2)
    mean, std = digits.train_images.mean(), digits.train_images.std()
    predicted = int(np.argmax(shown))
    model = scalar_graph(params, (ink.ravel() - mean) / std, predicted)
    logits = np.array([n.forward for n in model.logits]).ravel()
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert close(shown, expected)
    loss = float(page.locator("#drawn-maps").get_attribute("data-loss"))
    assert loss == pytest.approx(float(np.ravel(model.loss.forward)[0]), rel=1e-12)

    # saying which digit it is scores the loss against that class
    page.get_by_label("The digit you drew").select_option("1")
    page.wait_for_function("() => __pictures.lastDrawn && __pictures.lastDrawn.target === 1")
    model = scalar_graph(params, (ink.ravel() - mean) / std, 1)
    loss = float(page.locator("#drawn-maps").get_attribute("data-loss"))
    assert loss == pytest.approx(float(np.ravel(model.loss.forward)[0]), rel=1e-12)
    shot(page, "pictures-drawn-digit")

    page.get_by_role("button", name="Clear").click()
    expect(page.locator("#draw-canvas")).to_have_attribute("data-inked", "0")
    expect(page.locator("#drawn-maps")).to_have_attribute("data-state", "empty")


def test_a_finger_draws_too(browser, server, console):
    with screen(browser, server, console, 390, 844, has_touch=True, is_mobile=True) as page:
        trained_run(page, epochs=1)
        canvas = page.locator("#draw-canvas")
        canvas.scroll_into_view_if_needed()
        page.touchscreen.tap(*cell_centre(canvas.bounding_box(), 5, 6))
        page.wait_for_selector('#drawn-maps[data-state=ready][data-strokes="1"]')
        assert drawn_pixels(page)[5, 6] == 1


def test_open_its_back_prop_shows_the_drawn_digits_graph_with_the_runs_weights(page, server,
                                                                                digits):
    run_id = trained_run(page)
    canvas = page.locator("#draw-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(*cell_centre(box, 4, 5))
    page.mouse.down()
    for c in range(6, 12):
        page.mouse.move(*cell_centre(box, 4, c))
    for r in range(5, 13):
        page.mouse.move(*cell_centre(box, r, 11))
    page.mouse.up()
    page.wait_for_selector('#drawn-maps[data-state=ready][data-strokes="1"]')
    shown_loss = float(page.locator("#drawn-maps").get_attribute("data-loss"))
    target = page.evaluate("() => __pictures.lastDrawn.target")
    ink = drawn_pixels(page)

    page.get_by_role("button", name="Open its back-prop").click()
    expect(page.locator("body")).to_have_attribute("data-mode", "graph")
    expect(page.locator("#graph-title")).to_contain_text("a drawn digit",
                                                                           timeout=60_000)
    page.wait_for_function("() => !document.querySelector('#play').disabled", timeout=60_000)
    page.evaluate("""() => { const s = document.querySelector('#scrubber');
        s.value = s.max; s.dispatchEvent(new Event('input', { bubbles: true })); }""")
    page.locator('[data-block="Loss"]').click()
    loss_node = page.locator('[data-node-name="Loss"]')
    expect(loss_node).to_have_attribute("data-value", re.compile(r"\d"))
    graph_loss = float(loss_node.get_attribute("data-value"))
    assert graph_loss == pytest.approx(shown_loss, rel=1e-12)
    # and the engine, fed the stored weights and the drawing, agrees
    mean, std = digits.train_images.mean(), digits.train_images.std()
    model = scalar_graph(stored_weights(server, run_id, 2), (ink.ravel() - mean) / std, target)
    assert graph_loss == pytest.approx(float(np.ravel(model.loss.forward)[0]), rel=1e-12)
    shot(page, "pictures-drawn-digit-backprop")
