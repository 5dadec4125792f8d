"""deploy/scale/ as it is run (issue 16): Debian's nginx with deploy/scale/nginx.conf (only its
`listen` and upstream `server` lines changed) in front of two web processes started with the
options of deploy/scale/backprop-live-web@.service and deploy/scale/config.toml (only its URLs
changed), a worker with those of backprop-live-worker@.service, redis-server — each in its own
process group. Clients go through nginx only, starting on long-polling as a page behind a
WebSocket-less network does: that works only when ip_hash keeps a client on one process.
The oracles: nginx's access log (which process answered), the SQLite file, the engine.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from engine.training import TrainConfig, train
from server.store import DATABASE
from tests import nginx as nginx_server
from tests.cluster import Cluster, free_port
from tests.live_server import ordered_client, wait_until

pytestmark = pytest.mark.slow  # nginx, redis-server, three Backprop Live processes
SCALE = Path(__file__).resolve().parents[2] / "deploy" / "scale"
TOKEN = "hall-Token_9"
PREFIX = "/backprop"
RUN = {"model": "mlp", "epochs": 8, "batch_size": 8, "width": 16, "seed": 5}  # ~1,400 steps
MAIN_CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
{user}
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$request_uri $status $upstream_addr';
    access_log {folder}/access.log upstream;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/backprop-live.conf;
}}
"""


def rendered_site(port: int, upstreams: list[str]) -> str:
    """deploy/scale/nginx.conf with its listen line and upstream servers changed."""
    text = (SCALE / "nginx.conf").read_text()
    servers = re.findall(r"^    server 127\.0\.0\.1:\d+;\n", text, flags=re.MULTILINE)
    assert len(servers) == len(upstreams), "deploy/scale/nginx.conf's upstream changed"
    for line, upstream in zip(servers, upstreams, strict=True):
        text = text.replace(line, f"    server {upstream};\n", 1)
    assert text.count("    listen 80;\n") == 1
    return text.replace("    listen 80;\n", f"    listen 127.0.0.1:{port};\n")


def rendered_config(folder: Path, redis_url: str) -> Path:
    """deploy/scale/config.toml with its Redis URLs this test's; the database left to the
    data dir's SQLite file (the PostgreSQL store has tests of its own)."""
    lines = []
    for line in (SCALE / "config.toml").read_text().splitlines():
        if line.startswith(("jobs =", "message_queue =")):
            line = f'{line.split("=")[0].strip()} = "{redis_url}"'
        elif line.startswith("database ="):
            continue
        lines.append(line)
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def unit_options(name: str, config: Path) -> list[str]:
    """The unit's ExecStart options but where it listens and keeps its data (the test's)."""
    line = next(x for x in (SCALE / name).read_text().splitlines() if x.startswith("ExecStart="))
    words, options = iter(shlex.split(line.removeprefix("ExecStart="))[2:]), []
    for word in words:
        value = next(words) if word in ("--host", "--port", "--data-dir", "--config") else None
        if word == "--config":
            options += ["--config", str(config)]
        elif value is None:
            options.append(word)
    return options


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scaled")
    cluster = Cluster(folder, webs=0, workers=0, heartbeat=2.0,
                      env={"BACKPROP_LIVE_TOKEN": TOKEN})
    cluster.redis.start()
    config = rendered_config(folder, cluster.redis.url)
    cluster.web_args = tuple(unit_options("backprop-live-web@.service", config))
    cluster.worker_args = tuple(unit_options("backprop-live-worker@.service", config))
    nginx = None
    try:
        cluster.add_web()
        cluster.add_web()
        cluster.add_worker()
        nginx = start_nginx(folder / "nginx", [w.url.removeprefix("http://")
                                               for w in cluster.webs])
        yield cluster, nginx
    finally:
        if nginx is not None:
            nginx_server.stop(nginx["process"])
        cluster.stop()


def start_nginx(folder: Path, upstreams: list[str]) -> dict:
    folder.mkdir()
    port = free_port()
    process = nginx_server.start(folder, port, rendered_site(port, upstreams), MAIN_CONFIG)
    return {"url": f"http://127.0.0.1:{port}", "folder": folder, "process": process}


class Student:
    """A page's cookie and socket, through nginx, starting on long-polling."""

    def __init__(self, url: str, http: requests.Session | None = None):
        self.url, self.http = url, http or requests.Session()
        if http is None:
            admitted = self.http.get(f"{url}{PREFIX}/?token={TOKEN}", timeout=30)
            assert admitted.status_code == 200, admitted.text
        self.events: list[tuple[str, dict]] = []
        self.sio = ordered_client(reconnection=False)
        for name in ("run_history", "run_metrics", "run_status"):
            self.sio.on(name, lambda data, name=name: self.events.append((name, data)))
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        self.sio.connect(url, headers={"Cookie": cookie}, transports=["polling", "websocket"],
                         socketio_path=f"{PREFIX}/socket.io", wait_timeout=30)

    def call(self, event, data):
        return self.sio.call(event, data, timeout=60)

    def records(self) -> list[dict]:
        return [r for name, d in list(self.events) if name in ("run_history", "run_metrics")
                for r in d["records"]]

    def ended(self) -> bool:
        return any(name == "run_status" for name, _ in list(self.events))


def answered_by(nginx: dict) -> set[str]:
    """The web processes that answered Socket.IO requests through nginx (each line's last
    upstream: the one before it, if any, refused)."""
    log = (nginx["folder"] / "access.log").read_text()
    return {re.findall(r"[\d.]+:\d+", m.group(1))[-1]
            for m in re.finditer(rf"^{PREFIX}/socket\.io/\S* \d+ (.+)$", log, flags=re.MULTILINE)}


def stored(cluster, run_id) -> list[dict]:
    with sqlite3.connect(cluster.data_dir / DATABASE) as db:
        rows = db.execute("SELECT seq, data FROM metrics WHERE run_id = ? ORDER BY seq",
                          (run_id,)).fetchall()
    return [{"seq": seq, **json.loads(data)} for seq, data in rows]


def test_through_nginx_a_client_stays_on_one_process_and_resumes_on_the_other(deployment):
    cluster, nginx = deployment
    student = Student(nginx["url"])
    # Long-polling then the upgrade, each request on the process that holds the session.
    assert student.sio.transport() == "websocket"
    (first,) = answered_by(nginx)
    run_id = student.call("train", RUN)["run_id"]
    assert student.call("watch_run", {"run_id": run_id})["ok"]
    wait_until(lambda: len(student.records()) >= 5, timeout=120)

    # Its web process goes (kill -9); the run goes on on its worker, and the page — through
    # the same nginx — reconnects to the other process and resumes after the last seq it has.
    web = next(w for w in cluster.webs if w.url.endswith(first))
    web.kill()
    wait_until(lambda: not student.sio.connected, timeout=60)
    had = student.records()
    again = Student(nginx["url"], http=student.http)
    assert answered_by(nginx) - {first}, "nginx did not move the client to the other process"
    assert again.call("watch_run", {"run_id": run_id, "after": had[-1]["seq"]})["ok"]
    wait_until(again.ended, timeout=300)
    seen = had + again.records()
    assert seen == stored(cluster, run_id)
    assert [r["seq"] for r in seen] == list(range(1, len(seen) + 1))
    oracle = train(TrainConfig(**RUN).checked())
    assert [r["loss"] for r in seen if r["type"] == "step"] == [s.loss for s in oracle.steps]
    again.sio.disconnect()


def test_the_units_are_ones_systemd_accepts(tmp_path):
    systemd_analyze = shutil.which("systemd-analyze")
    if systemd_analyze is None:
        pytest.fail("systemd-analyze is missing (Debian's systemd package)")
    program = shutil.which("backprop-live") or str(Path(sys.executable).parent
                                                   / "backprop-live")
    environment = tmp_path / "env"
    environment.write_text(f"BACKPROP_LIVE_TOKEN={TOKEN}\n")
    for template, instance in (("backprop-live-web@.service", "5001"),
                               ("backprop-live-worker@.service", "1"),
                               ("backprop-live-pages-worker@.service", "1")):
        unit = ((SCALE / template).read_text()
                .replace("/opt/backprop-live/bin/backprop-live", program)
                .replace("/etc/backprop-live/env", str(environment)))
        path = tmp_path / template.replace("@.", f"@{instance}.")
        path.write_text(unit)
        done = subprocess.run([systemd_analyze, "verify", str(path)], capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
