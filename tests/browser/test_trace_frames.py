"""The page plays a trace sent in bounded frames (issue 18): a chain whose levels share frames,
its back-prop frames naming their nodes as spans, plays to the end with every value and gradient
the engine's (the engine run in this process on the same text is the oracle).

The server here keeps frames to 1 kB (TRACE_FRAME_BYTES) so that a chain small enough to be
drawn node by node (SVG, every number in the DOM) still takes many frames of several levels.
"""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import shot
from tests.browser.graph_oracle import check_screen, edge_ends, expected, read_screen, settle
from tests.browser.pages import open_page, play_to_end
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser
STEPS = 60
CHAIN = "s0 = input(0.3)\n" + "".join(f"s{k} = s{k - 1} + tanh(s{k - 1})\n"
                                      for k in range(1, STEPS + 1)) + f"output s{STEPS}\n"


@pytest.fixture(scope="module")
def small_frames(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("small-frames"),
                    args=("--set", "TRACE_FRAME_BYTES=1024")) as live:
        yield live


def trace_frames(page) -> list[list[dict]]:
    """The `trace` messages the page receives (Socket.IO text packets, binary parts aside), one
    list per connection (one per page load)."""
    seen: list[list[dict]] = []

    def on_socket(ws):
        mine: list[dict] = []
        seen.append(mine)

        def on_frame(payload):
            if isinstance(payload, str) and payload.startswith("4") and '"trace",' in payload:
                name, body = json.loads(payload[payload.index("["):])[:2]
                if name == "trace":
                    mine.append(body)
        ws.on("framereceived", on_frame)
    page.on("websocket", on_socket)
    return seen


def test_a_chain_in_bounded_frames_plays_to_the_end_with_the_engines_numbers(page, small_frames):
    page.base_url = small_frames.url
    connections = trace_frames(page)
    page.goto(small_frames.url + "/")
    upload = page.request.post(small_frames.url + "/api/graphs",
                               data={"source": CHAIN, "format": "expr", "name": "chain"})
    assert upload.ok, upload.text()
    open_page(page, f"?graph={upload.json()['id']}")
    play_to_end(page)
    settle(page)
    screen = read_screen(page)
    want = expected(CHAIN, "chain.expr")
    assert screen["pos"] == want.n + len(want.backward)  # every event played
    assert len(screen["nodes"]) == want.n
    check_screen(screen, want, edge_ends(CHAIN, "chain.expr"))
    final = want.at(screen["pos"])
    assert {n["id"]: n["grad"] for n in screen["nodes"]} == final["grads"]
    assert {n["id"]: n["value"] for n in screen["nodes"]} == final["values"]

    frames = connections[-1]  # the chain's page load
    backward = [f for f in frames if f["phase"] == "backward"]
    forward = [f for f in frames if f["phase"] == "forward"]
    levels = STEPS * 2 + 1
    # several frames per phase, several levels in most back-prop frames
    assert 1 < len(forward) < levels and 1 < len(backward) < levels / 3, (forward, backward)
    shot(page, "chain-bounded-frames-played")
