"""Issue 14 on the Graph tab, in Chromium against a real server: an image-shaped block expands to
its image, a 16×16 grid of its pixel nodes, whose values and gradients are the engine's.

Oracle: the same built-in network (server.catalog.model_view: the reference ResNet with its
seed-0 weights and the first test digit) computed here by the scalar engine.
"""

from __future__ import annotations

import struct
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from playwright.sync_api import expect

from server.catalog import model_view

from .conftest import shot
from .pages import open_page
from .screens import screen


@pytest.fixture(scope="module")
def engine_resnet():
    loaded = model_view("resnet")
    g = loaded.graph
    g.compute_forward()
    g.back_prop()
    # read now: a node's numbers live in its graph's compiled arrays only while bound to them
    return {n.name: (float(np.ravel(n.forward)[0]), float(np.ravel(n.backward)[0]))
            for n in g.nodes() if n.name}


def grid_numbers(page, attribute: str) -> dict[str, float]:
    return dict(page.locator("svg.image-grid .pixel").evaluate_all(
        f"ps => ps.map(p => [p.dataset.nodeName, +p.dataset.{attribute}])"))


def scrub_to(page, position: int) -> int:
    """Move the playhead to `position`; how many pixels of the grid then have their gradient."""
    return page.evaluate("""async (position) => {
        const s = document.querySelector('#scrubber');
        s.value = String(position); s.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
        return document.querySelectorAll('svg.image-grid .pixel[data-grad]').length; }""",
                         position)


def scrub_to_end(page):
    page.evaluate("""() => { const s = document.querySelector('#scrubber');
        s.value = s.max; s.dispatchEvent(new Event('input', { bubbles: true })); }""")


def test_conv2_expands_to_its_image_with_the_engines_values_and_gradients(page,
                                                                          engine_resnet):
    open_page(page, "?graph=model:resnet")
    page.locator('[data-block="Conv2"]').click()
    grid = page.locator("svg.image-grid")
    expect(grid).to_have_attribute("data-rows", "16")
    expect(grid).to_have_attribute("data-cols", "16")
    expect(page.locator("#view")).to_have_attribute("data-layout", "image")
    pixels = grid.locator(".pixel")
    expect(pixels).to_have_count(256)
    # image order: row by row, Conv2[i,j] at row i, column j
    names = pixels.evaluate_all("ps => ps.map(p => p.dataset.nodeName)")
    assert names == [f"Conv2[{i},{j}]" for i in range(16) for j in range(16)]

    scrub_to_end(page)
    page.wait_for_function("() => document.querySelectorAll("
                           "'svg.image-grid .pixel[data-grad]').length === 256")
    values, grads = grid_numbers(page, "value"), grid_numbers(page, "grad")
    for name in names:
        assert values[name] == engine_resnet[name][0]
        assert grads[name] == engine_resnet[name][1]
    by_value = pixels.evaluate_all("ps => ps.map(p => p.style.fill)")
    page.get_by_role("radio", name="gradient").check()
    expect(grid).to_have_attribute("data-colour", "grad")
    by_grad = pixels.evaluate_all("ps => ps.map(p => p.style.fill)")
    assert by_value != by_grad
    # equal gradients, equal colours: the colour is the gradient's
    colour_of = {}
    for name, fill in zip(names, by_grad, strict=True):
        assert colour_of.setdefault(grads[name], fill) == fill
    shot(page, "image-block-conv2-gradients")

    # a click selects that scalar node: the Inspector shows it
    pixels.nth(16 * 5 + 7).click()
    expect(page.locator("#inspector")).to_contain_text("Conv2[5,7]")
    expect(pixels.nth(16 * 5 + 7)).to_have_class("pixel selected")


def test_the_image_and_relu_blocks_are_images_too_and_the_backprop_fills_them(page,
                                                                             engine_resnet):
    open_page(page, "?graph=model:resnet")
    page.locator('[data-block="ReLU1"]').click()
    grid = page.locator("svg.image-grid")
    expect(grid).to_have_attribute("data-rows", "16")
    # back-prop fills the image pixel by pixel: a place where some gradients are in and some
    # are not, found by halving the timeline; one event further, one pixel more at most
    low, high = 0, int(page.locator("#scrubber").get_attribute("max"))
    while high - low > 1:
        middle = (low + high) // 2
        if 0 < scrub_to(page, middle) < 256:
            break
        low, high = (middle, high) if scrub_to(page, middle) == 0 else (low, middle)
    else:
        raise AssertionError("no place in the trace with part of ReLU1's gradients")
    done = scrub_to(page, middle)
    assert done - 1 <= scrub_to(page, middle - 1) <= done
    scrub_to_end(page)
    expect(grid.locator(".pixel[data-grad]")).to_have_count(256)
    grads = grid_numbers(page, "grad")
    for name, grad in grads.items():
        assert grad == engine_resnet[name][1]

    page.get_by_role("button", name="Blocks").click()
    page.locator('[data-block="image"]').click()
    expect(grid).to_have_attribute("data-cols", "16")
    values = grid_numbers(page, "value")
    assert values == {f"image[{k}]": engine_resnet[f"image[{k}]"][0]
                      for k in range(256)}
    # every node of the block is still one click away
    page.get_by_role("button", name="Blocks").click()
    page.locator('[data-block="Conv1"]').click()
    page.get_by_role("button", name="All 4,618 nodes").click()
    expect(page.locator("#view")).not_to_have_attribute("data-layout", "image")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["1024x768", "390x844"])
def test_screenshots_of_an_image_block(browser, server, console, scheme, size):
    with screen(browser, server, console, *size, scheme=scheme) as page:
        open_page(page, "?graph=model:resnet")
        page.locator('[data-block="Add2"]').click()
        expect(page.locator("svg.image-grid")).to_have_attribute("data-rows", "16")
        scrub_to_end(page)
        name = f"image-block-{size[0]}x{size[1]}-{scheme}"
        shot(page, f"{name}-values")
        page.get_by_role("radio", name="gradient").check()
        shot(page, f"{name}-gradients")


def test_an_fc_block_expands_to_its_weight_matrix(page, engine_resnet):
    open_page(page, "?graph=model:resnet")
    page.locator('[data-block="FC4"]').click()
    canvas = page.locator("canvas.weight-canvas")
    expect(canvas).to_have_attribute("data-rows", "10")  # rows: the outputs
    expect(canvas).to_have_attribute("data-cols", "32")  # columns: the inputs (FC3's width)
    expect(page.locator("#view")).to_have_attribute("data-layout", "weights")
    shown = canvas.evaluate("c => Array.from(c.mapValues)")
    assert shown == [engine_resnet[f"FC4.W[{k}]"][0] for k in range(320)]
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + (7 + 0.5) * box["width"] / 32,
                     box["y"] + (3 + 0.5) * box["height"] / 10)
    expect(page.locator("#inspector")).to_contain_text(f"FC4.W[{3 * 32 + 7}]")
    expect(canvas).to_have_attribute("data-row", "3")
    expect(canvas).to_have_attribute("data-col", "7")
    shot(page, "weight-matrix-fc4")
    page.locator('#breadcrumb button', has_text="Blocks").click()
    page.locator('[data-block="FC3"]').click()
    expect(canvas).to_have_attribute("data-cols", "256")
    expect(canvas).to_have_attribute("data-rows", "32")
    shot(page, "weight-matrix-fc3")


# The reference ResNet's image-shaped blocks (the list; the image's nodes have no group)
IMAGE_BLOCKS = {"image", "Conv1", "ReLU1", "Conv2", "Add2", "ReLU2"}


def engine_field_pixels(name: str) -> dict[str, set[str]]:
    """Oracle: walk the engine graph's ancestors of node `name`; per image block, the pixel
    nodes (named Block[...]) among them, the node itself included."""
    by_name = {n.name: n for n in model_view("resnet").graph.nodes() if n.name}
    seen, stack = set(), [by_name[name]]
    while stack:
        n = stack.pop()
        if n.id in seen:
            continue
        seen.add(n.id)
        stack.extend(n.children)
    found: dict[str, set[str]] = {}
    for n in by_name.values():
        block = n.name.split("[")[0]
        if n.id in seen and block in IMAGE_BLOCKS and n.group in (block, None):
            found.setdefault(block, set()).add(n.name)
    return found


def show_receptive_field(page, block: str, pixel: int) -> str:
    """The ResNet's `block` drawn as its image, its pixel number `pixel` clicked, and "Show its
    receptive field" pressed; returns that pixel's node name."""
    open_page(page, "?graph=model:resnet")
    page.locator(f'[data-block="{block}"]').click()
    chosen = page.locator("svg.image-grid .pixel").nth(pixel)
    name = chosen.get_attribute("data-node-name")
    chosen.click()
    page.locator("#inspector").get_by_role("button", name="Show its receptive field").click()
    return name


@pytest.mark.parametrize(("block", "pixel"), [("Conv2", 16 * 5 + 7), ("Add2", 0)])
def test_a_pixels_receptive_field_is_drawn_on_the_image_grids_it_spans(page, block, pixel):
    name = show_receptive_field(page, block, pixel)
    expect(page.locator("#view")).to_have_attribute("data-layout", "field-images")
    expected = engine_field_pixels(name)
    grids = page.locator("svg.field-grid")
    expect(grids).to_have_count(len(expected))
    shown = grids.evaluate_all("""gs => gs.map(g => [
        g.dataset.block, g.dataset.rows, g.dataset.cols,
        Array.from(g.querySelectorAll('.pixel.in-field'), p => p.dataset.nodeName)])""")
    assert {b: set(names) for b, _, _, names in shown} == expected
    assert all((rows, cols) == ("16", "16") for _, rows, cols, _ in shown)
    # the field narrows going back through the net: a 3×3 kernel per conv
    assert len(expected[block]) == 1 and len(expected["image"]) > len(expected["ReLU1"])
    scrub_to_end(page)
    shot(page, f"receptive-field-{block.lower()}")
    # the keyboard: a grid's tab stop is its first pixel in the field; arrows move, Enter selects
    image = grids.first
    image.locator('.pixel[tabindex="0"]').focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    first = sorted(expected["image"], key=lambda n: int(n[len("image["):-1]))[0]
    right = f"image[{int(first[len('image['):-1]) + 1}]"
    expect(page.locator("#inspector h3")).to_have_text(right)
    # a faded pixel is still a node: a click selects it
    grids.first.locator(".pixel:not(.in-field)").first.click()
    expect(page.locator("#inspector")).to_contain_text("image[")
    page.get_by_role("button", name="As scalar nodes").click()
    expect(page.locator("#view")).not_to_have_attribute("data-layout", "field-images")


def test_a_pixel_selected_in_a_later_block_outlines_what_feeds_it_on_an_earlier_one(page):
    open_page(page, "?graph=model:resnet")
    page.locator('[data-block="Conv2"]').click()
    chosen = page.locator("svg.image-grid .pixel").nth(16 * 5 + 7)
    chosen.click()
    chosen_id = chosen.get_attribute("data-node-id")
    expected = engine_field_pixels("Conv2[5,7]")
    grid = page.locator("svg.image-grid")
    for block in ("ReLU1", "image"):
        page.locator('#breadcrumb button', has_text="Blocks").click()
        page.locator(f'[data-block="{block}"]').click()
        expect(grid).to_have_attribute("data-field-of", chosen_id)
        names = grid.locator(".pixel.in-field").evaluate_all(
            "ps => ps.map(p => p.dataset.nodeName)")
        assert set(names) == expected[block]
        expect(grid.locator("path.field-outline")).to_have_count(1)
        expect(page.locator(".image-grid-readout")).to_contain_text(
            f"the {len(expected[block])} pixels that feed Conv2[5,7]")
    scrub_to_end(page)
    shot(page, "image-block-image-field-of-conv2")
    page.emulate_media(color_scheme="dark")
    shot(page, "image-block-image-field-of-conv2-dark")
    page.emulate_media(color_scheme="light")
    # selecting one of its own pixels: nothing outlined
    grid.locator(".pixel").first.click()
    expect(grid.locator("path.field-outline")).to_have_count(0)
    expect(grid.locator(".pixel.in-field")).to_have_count(0)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["1024x768", "390x844"])
def test_screenshots_of_a_receptive_field_on_the_grids(browser, server, console, scheme, size):
    with screen(browser, server, console, *size, scheme=scheme) as page:
        show_receptive_field(page, "Add2", 16 * 8 + 3)
        expect(page.locator("svg.field-grid")).to_have_count(5)
        scrub_to_end(page)
        page.locator("svg.field-grid").first.scroll_into_view_if_needed()
        shot(page, f"receptive-field-{size[0]}x{size[1]}-{scheme}")


def test_image_views_export_as_svg_and_png(page, engine_resnet):
    """Export SVG / PNG work on a block drawn as its image and on a weight matrix (they have no
    graph layer to frame: the export threw before)."""
    open_page(page, "?graph=model:resnet")
    page.locator('[data-block="Conv2"]').click()
    expect(page.locator("svg.image-grid")).to_have_attribute("data-rows", "16")
    scrub_to_end(page)
    expect(page.locator("svg.image-grid .pixel[data-value]")).to_have_count(256)
    with page.expect_download() as info:
        page.get_by_role("button", name="Export SVG").click()
    root = ElementTree.fromstring(Path(info.value.path()).read_text())
    pixels = [e for e in root.iter() if e.get("class", "").split()[:1] == ["pixel"]]
    assert len(pixels) == 256
    values = {p.get("data-node-name"): float(p.get("data-value")) for p in pixels}
    assert values == {name: engine_resnet[name][0] for name in values}
    with page.expect_download() as info:
        page.get_by_role("button", name="Export PNG").click()
    png = Path(info.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1_000
    page.locator('#breadcrumb button', has_text="Blocks").click()
    page.locator('[data-block="FC4"]').click()
    canvas = page.locator("canvas.weight-canvas")
    expect(canvas).to_have_attribute("data-rows", "10")
    size = canvas.evaluate("c => [c.width, c.height]")
    with page.expect_download() as info:
        page.get_by_role("button", name="Export PNG").click()
    png = Path(info.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(struct.unpack(">II", png[16:24])) == size  # the IHDR's width and height
    with page.expect_download() as info:
        page.get_by_role("button", name="Export SVG").click()
    svg = ElementTree.fromstring(Path(info.value.path()).read_text())
    image = next(e for e in svg.iter() if e.tag.endswith("image"))
    assert image.get("href").startswith("data:image/png;base64,")


def test_a_receptive_field_exports_every_grid_it_spans(page):
    """Export SVG / PNG of a receptive field hold all its grids (the export took the first)."""
    show_receptive_field(page, "Add2", 16 * 8 + 3)
    grids = page.locator("svg.field-grid")
    expect(grids).to_have_count(5)
    scrub_to_end(page)
    shown = grids.evaluate_all("gs => gs.map(g => [g.dataset.block, +g.dataset.inField, "
                               "+g.getAttribute('width')])")
    with page.expect_download() as info:
        page.get_by_role("button", name="Export SVG").click()
    root = ElementTree.fromstring(Path(info.value.path()).read_text())
    pixels = [e for e in root.iter() if e.get("class", "").split()[:1] == ["pixel"]]
    assert len(pixels) == 5 * 256
    in_field = [e for e in pixels if "in-field" in e.get("class", "").split()]
    assert len(in_field) == sum(count for _, count, _ in shown)
    captions = [e.text for e in root.iter() if e.get("class") == "field-grid-caption"]
    assert captions == [line for block, count, _ in shown
                        for line in (f"{block}:", f"{count} of 256 pixels")]
    with page.expect_download() as info:
        page.get_by_role("button", name="Export PNG").click()
    png = Path(info.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, _ = struct.unpack(">II", png[16:24])
    assert width >= sum(w for _, _, w in shown)  # every grid side by side, not the first alone
