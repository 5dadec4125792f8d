"""A hostile classroom against a real server subprocess (issue 17): the loop keeps answering
while a big upload parses, a client that does not read is cut off, a stopped worker is killed,
a token guards a server bound beyond loopback, one server per data dir, a full disk is a
message and not a lost slot."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import websocket

from server.store import DATABASE, Store
from tests.live_server import LiveServer, Page, ordered_client, wait_until

pytestmark = pytest.mark.slow


def test_a_50000_line_upload_leaves_the_loop_answering(tmp_path):
    source = "x = input(0.5)\n" + "x += sin(x)\n" * 50_000 + "output x\n"
    with LiveServer(tmp_path) as server:
        page = Page(server.url).connect()
        answer = {}
        upload = threading.Thread(target=lambda: answer.setdefault("r", requests.post(
            server.url + "/api/graphs", json={"source": source}, timeout=300)))
        upload.start()
        pings = 0
        while upload.is_alive():  # every ping is answered while the upload parses
            assert page.call("ping_server", {}, timeout=5)["ok"]
            pings += 1
        upload.join()
        page.close()
    assert answer["r"].status_code == 201, answer["r"].text
    assert answer["r"].json()["nodes"] == 100_001  # the input and 50,000 × (sin, +)
    assert pings >= 2


def test_a_client_that_does_not_read_is_cut_off(tmp_path):
    with LiveServer(tmp_path, args=("--set", "MAX_QUEUED_BYTES=4000000")) as server:
        port = int(server.url.rsplit(":", 1)[1])
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
            sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),), timeout=30)
        assert ws.recv().startswith("0")  # Engine.IO open
        ws.send("40")  # Socket.IO connect
        assert ws.recv().startswith("40")
        for k in range(40):  # ~2 MB of frames each, and nothing read
            ws.send(f'42{k}["trace_graph",{{"graph":"model:resnet","mode":"both"}}]')
        # The server cuts the connection: reading what it sent before ends in a close.
        closed = False
        received = 0
        try:
            while received < 200_000_000:
                data = ws.recv()
                if not data:
                    closed = True
                    break
                received += len(data)
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            closed = True
        assert closed and received < 40 * 1_000_000  # far less than the 40 traces it asked
        health = wait_until(lambda: (lambda h: h if h["traces"] == 0 else None)(
            requests.get(server.url + "/healthz", timeout=5).json()))
        assert health["traces"] == 0


def training_page(server) -> tuple[Page, dict]:
    """A page that started a long ResNet run and watches it train: (page, train's ack)."""
    page = Page(server.url).connect()
    ack = page.call("train", {"model": "resnet", "epochs": 50})
    assert page.call("watch_run", {"run_id": ack["run_id"], "after": 0})["ok"]
    page.wait_for(lambda events: any(n == "run_metrics" for n, _ in events))
    return page, ack


def _worker_pid(tmp_path, run_id) -> int:
    owner = Store(tmp_path / DATABASE).owner(run_id)
    return int(owner.rpartition(":")[2])


def test_a_stopped_worker_is_killed_and_its_slot_freed(tmp_path):
    with LiveServer(tmp_path, args=("--set", "STOP_GRACE_SECONDS=1")) as server:
        page, ack = training_page(server)
        worker = _worker_pid(tmp_path, ack["run_id"])
        os.kill(worker, signal.SIGSTOP)  # deaf to SIGTERM from now on
        assert page.call("stop_run", {"run_id": ack["run_id"]})["status"] == "stopping"
        page.wait_for(lambda events: any(n == "run_status" for n, _ in events))
        status = next(d for n, d in page.events if n == "run_status")
        assert status["status"] == "stopped"
        assert requests.get(server.url + "/healthz", timeout=5).json()["training"] == 0
        assert not Path(f"/proc/{worker}").exists() or _zombie(worker)
        page.close()


def _zombie(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z"


def test_an_operator_stops_a_server_run_from_the_command_line(tmp_path):
    with LiveServer(tmp_path) as server:
        page, ack = training_page(server)
        out = subprocess.run([sys.executable, "-m", "server", "runs", "--data-dir",
                              str(tmp_path), "stop", ack["run_id"]],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and f"stopped run {ack['run_id']}" in out.stdout
        page.wait_for(lambda events: any(n == "run_status" for n, _ in events))
        assert next(d for n, d in page.events if n == "run_status")["status"] == "stopped"
        stored = Store(tmp_path / DATABASE)
        assert [r["seq"] for r in page.records()] == [
            r["seq"] for r in stored.metrics(ack["run_id"])]  # what it sent was kept
        page.close()


def test_bound_beyond_loopback_it_asks_for_the_token(tmp_path):
    with LiveServer(tmp_path, host="0.0.0.0") as server:
        token = server.line_matching(r"\?token=([\w-]+)").group(1)
        assert requests.get(server.url + "/api/examples", timeout=5).status_code == 401
        gate = requests.get(server.url + "/", timeout=5)
        assert gate.status_code == 401 and "Access token" in gate.text
        stranger = ordered_client(reconnection=False)
        with pytest.raises(Exception, match="(?i)connect"):
            stranger.connect(server.url, transports=["websocket"], wait_timeout=10)
        http = requests.Session()
        assert http.get(f"{server.url}/?token={token}", timeout=5).status_code == 200
        assert http.get(server.url + "/api/examples", timeout=5).status_code == 200
        page = Page(server.url, http=http).connect()  # the admitted cookie admits the socket
        assert page.call("ping_server", {})["ok"]
        page.close()
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o700


def test_no_token_warns(tmp_path):
    with LiveServer(tmp_path, host="0.0.0.0", args=("--no-token",)) as server:
        assert server.line_matching("WARNING: --no-token")
        assert requests.get(server.url + "/api/examples", timeout=5).status_code == 200


def test_one_server_per_data_dir(tmp_path):
    with LiveServer(tmp_path) as first:
        second = subprocess.run([sys.executable, "-m", "server", "serve", "--port", "0",
                                 "--data-dir", str(tmp_path)],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert f"process {first.process.pid}" in second.stderr
        assert "Traceback" not in second.stderr and second.stdout == ""
        assert requests.get(first.url + "/healthz", timeout=5).json()["ok"]


def test_first_starts_at_once_migrate_once(tmp_path):
    start = [sys.executable, "-c", "import sys; from server.store import Store; "
             "print(Store(sys.argv[1]).migrate())"]
    for k in range(5):
        path = tmp_path / f"{k}.sqlite3"
        both = [subprocess.Popen([*start, str(path)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [p.communicate(timeout=60) for p in both]
        assert [p.returncode for p in both] == [0, 0], results
        version = Store(path)._read("PRAGMA user_version")[0][0]
        assert version == int(results[0][0]) == int(results[1][0])


def test_a_data_dir_it_cannot_write_is_one_line_and_status_2(tmp_path):
    folder = tmp_path / "readonly"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], check=True)
    try:
        out = subprocess.run([sys.executable, "-m", "server", "serve", "--port", "0",
                              "--data-dir", str(folder)],
                             capture_output=True, text=True, timeout=60)
    finally:
        subprocess.run(["umount", str(folder)], check=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and "cannot be used" in out.stderr


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MB file system of its own, unmounted afterwards (runs keep their weights per epoch
    now: 4 MB could fill before the test filled it itself)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)], check=True)
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=True)


def _fill(folder: Path) -> Path:
    """Fill the file system but for a few kB (into a file made before the server started, so
    opening it needs no room even if the server's own writes got there first)."""
    filler = folder / "filler"
    with open(filler, "ab", buffering=0) as out:  # unbuffered: closing has nothing to flush
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


def test_a_full_disk_is_said_and_loses_no_slot(small_disk):
    (small_disk / "filler").touch()
    with LiveServer(small_disk) as server:
        page, ack = training_page(server)
        filler = _fill(small_disk)
        page.wait_for(lambda events: any(n == "run_status" for n, _ in events))
        status = next(d for n, d in page.events if n == "run_status")
        assert status["status"] == "failed"
        upload = page.http.post(server.url + "/api/graphs",
                                json={"source": "x = input(1)\noutput x\n" * 1}, timeout=30)
        assert upload.status_code == 507 and "disk is full" in upload.json()["error"]["message"]
        assert requests.get(server.url + "/healthz", timeout=5).json()["training"] == 0
        filler.unlink()  # room again: the run's end is recorded, with why
        stored = Store(small_disk / DATABASE)
        run = wait_until(lambda: (lambda r: r if r["status"] != "running" else None)(
            stored.run(ack["run_id"])), timeout=30)
        assert run["status"] == "failed"
        assert "disk is full" in stored._read("SELECT error FROM runs WHERE id = ?",
                                              (ack["run_id"],))[0][0]
        again = page.call("train", {"model": "mlp", "epochs": 1})
        assert again["ok"], again  # the slot came back
        page.close()


def test_a_flood_of_gradient_checks_is_bounded(tmp_path):
    with LiveServer(tmp_path) as server:
        page = Page(server.url).connect()
        assert page.call("load_graph", {"graph": "model:resnet"})["ok"]
        answers = [page.emit("gradient_check", {"graph": "model:resnet"}) for _ in range(18)]
        page.wait_for(lambda events: all(answers), timeout=300)
        acks = [a[0] for a in answers]
        refused = [a for a in acks if not a["ok"]]
        assert len(refused) >= 14  # at most the workspace's budget ran at once
        assert {a["error"]["limit"] for a in refused} <= {"MAX_TRACES_PER_WORKSPACE",
                                                           "MAX_CPU_QUEUE_PER_WORKSPACE"}
        assert all(a["inputs"] for a in acks if a["ok"])
        page.close()
