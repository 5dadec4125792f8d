"""Behind nginx under /backprop/ (issue 15), as docs/deploy.md sets it up.

nginx is Debian's, started by a fixture on a free loopback port with deploy/nginx.conf as it is —
only its `listen` and upstream `server` lines changed — in its own process group (stopped by
it). The server behind it runs with the options of deploy/backprop-live.service and an access
token. Chromium goes through the proxy only: the token's address, the page, its scripts, the
API, Socket.IO over a WebSocket. The oracles are the engine (the reference graph loaded and a
training run trained here, in this process) and nginx's own access log.
"""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from engine.formats import load
from engine.training import TrainConfig, train
from tests import nginx as nginx_server
from tests.live_server import LiveServer, wait_until

from .conftest import ROOT, VIEWPORT, Console, shot
from .pages import (
    drawn_steps,
    number,
    open_page,
    open_training,
    play_to_end,
    run_row,
    server_run,
    server_steps,
    start_run,
    wait_curve_points,
    wait_run_status,
)

pytestmark = pytest.mark.slow  # nginx, a server and a training run
DEPLOY = ROOT / "deploy"
TOKEN = "class-Token_7"
PREFIX = "/backprop"
MAIN_CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
{user}
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/backprop-live.conf;
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rendered_site(port: int, upstream: str) -> str:
    """deploy/nginx.conf with its listen line and upstream server changed, nothing else."""
    text = (DEPLOY / "nginx.conf").read_text()
    for line, replacement in (("    listen 80;\n", f"    listen 127.0.0.1:{port};\n"),
                              ("    server 127.0.0.1:5000;\n", f"    server {upstream};\n")):
        assert text.count(line) == 1, f"deploy/nginx.conf no longer has {line.strip()!r}"
        text = text.replace(line, replacement)
    return text


def service_options() -> list[str]:
    """The options deploy/backprop-live.service starts the server with, but where it listens
    and keeps its data (the test picks those)."""
    line = next(x for x in (DEPLOY / "backprop-live.service").read_text().splitlines()
                if x.startswith("ExecStart="))
    words = shlex.split(line.removeprefix("ExecStart="))
    assert words[1] == "serve"
    options, rest = [], iter(words[2:])
    for word in rest:
        if word in ("--host", "--port", "--data-dir"):
            next(rest)
        else:
            options.append(word)
    return options


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    options = service_options()
    assert options[options.index("--base-url") + 1] == PREFIX + "/"
    env = {"BACKPROP_LIVE_TOKEN": TOKEN}  # what the unit's EnvironmentFile gives
    with LiveServer(tmp_path_factory.mktemp("proxied-data"), env=env, args=tuple(options)) as live:
        yield live


@pytest.fixture(scope="module")
def nginx(backend, tmp_path_factory):
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    site = rendered_site(port, backend.url.removeprefix("http://"))
    process = nginx_server.start(folder, port, site, MAIN_CONFIG)
    try:
        yield {"url": f"http://127.0.0.1:{port}", "folder": folder}
    finally:
        nginx_server.stop(process)


@pytest.fixture
def proxied(browser, nginx):
    """A chromium page admitted with the token's address, through the proxy."""
    console = Console()
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("console", lambda m: m.type == "error" and console.errors.append(m.text))
    page.on("pageerror", lambda e: console.errors.append(f"uncaught: {e}"))
    # The address the teacher gives. Asked by the browser context's own requests, which share
    # its cookies: loading the whole page here would start its work in this workspace, and the
    # test's page would then find the workspace's computations taken.
    admitted = page.request.get(f"{nginx['url']}{PREFIX}/?token={TOKEN}", max_redirects=0)
    assert admitted.status == 302
    assert admitted.headers["location"] == f"{PREFIX}/"  # the token dropped, still under it
    page.base_url = nginx["url"] + PREFIX
    yield page
    context.close()
    assert not console.unexpected(), console.errors


def test_the_page_plays_the_reference_through_nginx_to_the_engines_values(proxied, nginx):
    open_page(proxied)
    play_to_end(proxied)
    shot(proxied, "proxy-reference-played")
    loaded = load((ROOT / "examples" / "reference.expr").read_bytes(), filename="reference.expr")
    loaded.compute()
    program = loaded.graph.program()
    shown = proxied.locator("#view g.node[data-node-id]").evaluate_all(
        "ns => ns.map(n => [+n.dataset.nodeId, n.dataset.value, n.dataset.grad])")
    assert {i for i, _, _ in shown} == set(range(len(program.nodes)))  # every node drawn
    for node_id, value, grad in shown:
        assert float(value) == program.values[node_id], node_id
        assert float(grad) == program.grads[node_id], node_id
    # The page's socket went through nginx as a WebSocket (101), under the prefix: nginx logs
    # it once it closes, when the page is left.
    proxied.goto("about:blank")
    upgraded = re.compile(rf'"GET {PREFIX}/socket\.io/\?EIO=4&transport=websocket[^"]*" 101 ')
    wait_until(lambda: upgraded.search((nginx["folder"] / "access.log").read_text()), timeout=30)


def test_a_training_run_streams_through_nginx_as_the_engine_trains_it(proxied):
    options = {"model": "mlp", "epochs": 1, "batch_size": 64, "width": 16, "seed": 3,
               "optimizer": "adam", "lr": 0.003}
    open_training(proxied)
    run_id = start_run(proxied, **options)
    wait_run_status(proxied, run_id, "completed")
    run = server_run(proxied, run_id)  # GET …/backprop/api/runs/<id>, through the proxy
    steps = server_steps(run)
    wait_curve_points(proxied, len(steps))
    shot(proxied, "proxy-training-completed")

    oracle = train(TrainConfig(**options))
    assert [r["step"] for r in steps] == [s.step for s in oracle.steps]
    assert [r["loss"] for r in steps] == pytest.approx([s.loss for s in oracle.steps], rel=1e-9)
    assert drawn_steps(proxied, run_id) == [s.step for s in oracle.steps]
    accuracy = number(proxied, run_row(proxied, run_id), "data-test-accuracy")
    assert accuracy == pytest.approx(oracle.epochs[-1].test_accuracy, rel=1e-12)


def test_an_upload_over_the_servers_limit_gets_the_servers_answer_through_nginx(nginx):
    http = requests.Session()
    assert http.get(f"{nginx['url']}{PREFIX}/?token={TOKEN}", timeout=10).status_code == 200
    small = http.post(f"{nginx['url']}{PREFIX}/api/graphs", timeout=30,
                      files={"file": ("x.expr", b"x = input(2)\noutput x\n")})
    assert small.status_code == 201, small.text
    # Between the server's limit (MAX_UPLOAD_BYTES) and nginx's client_max_body_size. The
    # server refuses it before reading it; were the connection then closed, nginx — still
    # sending — would be reset and answer 502 instead, now and then (1 in 7 when measured):
    # many uploads, every one the server's 413.
    answers = [http.post(f"{nginx['url']}{PREFIX}/api/graphs", timeout=30,
                         files={"file": ("big.expr", b"# " + b"x" * 2_100_000)})
               for _ in range(30)]
    assert [a.status_code for a in answers] == [413] * 30
    assert {a.json()["error"]["limit"] for a in answers} == {"max_bytes"}  # the server's limit


def test_the_service_unit_is_one_systemd_accepts(tmp_path):
    systemd_analyze = shutil.which("systemd-analyze")
    if systemd_analyze is None:
        pytest.fail("systemd-analyze is missing (Debian's systemd package)")
    # Its programs and files where this machine has them: the rest exactly as shipped.
    unit = (DEPLOY / "backprop-live.service").read_text()
    program = shutil.which("backprop-live") or str(Path(sys.executable).parent
                                                   / "backprop-live")
    environment = tmp_path / "env"
    environment.write_text(f"BACKPROP_LIVE_TOKEN={TOKEN}\n")
    unit = (unit.replace("/opt/backprop-live/bin/backprop-live", program)
            .replace("/etc/backprop-live/env", str(environment)))
    (tmp_path / "backprop-live.service").write_text(unit)
    done = subprocess.run([systemd_analyze, "verify", str(tmp_path / "backprop-live.service")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
