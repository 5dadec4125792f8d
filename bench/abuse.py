"""Abuse on a real server, loopback only, bounded in count and in time (a measurement, not a test).

    python bench/abuse.py [--only NAME[,NAME]] [--seconds 30]

Seeds a fresh data dir with one finished run of 143,800 step records, starts the server on it
(127.0.0.1, port 0), starts a victim client — one HTTP ``GET /api/examples`` and one Socket.IO
``ping_server`` every 0.25 s, over its own cookie — and replays each attack in turn (``ATTACKS``
below names them, one function each; ``--only`` picks some), each bounded in count and in time
(``--seconds``, 30 by default). Before and after each attack it reads the server's resident
memory (VmRSS of the server process alone, not its training workers) and the database's size
(the SQLite file and its -wal); "after" is read once the server is idle again (``/healthz``
counts nothing and its CPU is quiet; a bounded wait).

Prints one table, a row per attack: what the server answered, the victim's latencies during that
attack, RSS before → after, database growth, and whether the attack achieved what it should not
(a breach, with why). Then a summary against the targets: victim p99 ≤ 100 ms during every
attack (≤ 250 ms during the two heaviest, marked *), RSS back within 100 MB of the server's
start after each, no breach, no committed record lost. Exit status 0 always.

Nothing but 127.0.0.1 is ever contacted (one attack makes a server listen on 0.0.0.0 and still
talks to it at 127.0.0.1). Every process started is killed with its process group at the end,
on Ctrl-C and on errors too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import stat
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo root, not bench/

import requests  # noqa: E402
import socketio  # noqa: E402
import websocket  # noqa: E402

from server.store import DATABASE, Store  # noqa: E402
from tests.live_server import LiveServer, ordered_client  # noqa: E402

HOST = "127.0.0.1"  # the only address this bench ever contacts
MB = 1 << 20
# The two heaviest: each builds graphs of ~200,000 nodes on the server (12 specs of 300×330, three
# ResNets of width 256) — victim p99 target 250 ms instead of 100 ms.
HEAVY = ("amplify-network-spec", "cache-key-aliases")
P99_TARGET, P99_TARGET_HEAVY, RSS_TARGET_MB = 0.100, 0.250, 100
VICTIM_PERIOD = 0.25
IDLE_WAIT = 20.0  # s: the longest wait for the server to be idle after an attack
TRAIN_IMAGES = 1437  # the bundled digits' training set: steps per epoch = ceil(1437 / batch)
MAX_STEPS = 100_000  # a cookie-less run longer than this is a breach
SEED_WORKSPACE = "abuse-bench"
SEED_RECORDS = 143_800
PER_WORKSPACE_LIMIT = 4  # MAX_TRACES_PER_WORKSPACE (docs/api.md): CPU jobs one workspace runs
RSS_SAFETY_MB = 6000  # the slow reader stops feeding a server that grows past this
NETWORK_SPEC = {"format": "backprop-live/network", "version": 1,
                "layers": [{"name": "image", "type": "image", "size": [300, 330]},
                           {"name": "r", "type": "relu", "input": "image"}],
                "outputs": ["r"]}


# -- measuring --------------------------------------------------------------------------------
def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def rss_mb(pid) -> float | None:
    """VmRSS of one process (not its children), in MB; None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid) -> float | None:
    """User + system CPU time of one process (all its threads), in seconds."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processes():
    """(pid, state, ppid, pgid, cmdline) of every process we can see."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        yield int(entry), fields[0], int(fields[1]), int(fields[2]), cmdline


def exited(pid) -> bool:
    """Whether a process has ended (gone, or a zombie not yet reaped)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return text[text.rindex(")") + 2:].split()[0] in ("Z", "X")


def workers_of(server_pid) -> list[int]:
    """The training worker processes of a server (its children running server.jobs.worker)."""
    return [pid for pid, state, ppid, _, cmd in processes()
            if ppid == server_pid and "server.jobs.worker" in cmd and state != "Z"]


TCP_STATES = {"01": "ESTABLISHED", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT",
              "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0B": "CLOSING"}


def server_end(server_port: int, client_port: int) -> tuple[str | None, int]:
    """The TCP state of the server's end of one loopback connection (/proc/net/tcp; None if it
    is gone) and the bytes its kernel still has to send. A server that closes a connection whose
    reader is slow queues its FIN behind the unread bytes, so the client cannot see the close;
    the server's end shows it at once."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, remote, state, queues = line.split()[1:5]
            if (int(local.rsplit(":", 1)[1], 16) == server_port
                    and int(remote.rsplit(":", 1)[1], 16) == client_port):
                return TCP_STATES.get(state, state), int(queues.split(":")[0], 16)
    return None, 0


def shorten(text, width=60) -> str:
    return textwrap.shorten(str(text), width, placeholder="…")


def http_outcome(response, seconds=None) -> str:
    """'answered 201 in 0.8 s', 'refused 413 limit=max_bytes', 'refused 500: message'."""
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    if response.status_code < 400:
        return f"answered {response.status_code}{took}"
    text = f"refused {response.status_code}"
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        limit = error.get("limit") or next(
            (p.get("limit") for p in error.get("problems") or [] if isinstance(p, dict)
             and p.get("limit")), None)
        text += f" limit={limit}" if limit else f": {shorten(error.get('message'), 40)}"
    else:
        text += " (not the JSON error shape)"
    return text + took


def ack_outcome(ack) -> str:
    """'ack ok:true', 'refused: ack ok:false limit=NAME', 'refused: ack ok:false: message'."""
    if not isinstance(ack, dict):
        return f"ack {shorten(repr(ack), 40)}"
    if ack.get("ok"):
        return "ack ok:true"
    error = ack.get("error") if isinstance(ack.get("error"), dict) else {}
    if error.get("limit"):
        return f"refused: ack ok:false limit={error['limit']}"
    return f"refused: ack ok:false: {shorten(error.get('message'), 50)}"


def counted(outcomes) -> str:
    """'12× answered 201, 3× refused 400 limit=max_nodes' (first seen first)."""
    return ", ".join(f"{n}× {what}" if n > 1 else what for what, n in Counter(outcomes).items())


def drop(client, wait=5.0) -> None:
    """Disconnect a Socket.IO client without ever waiting long on a stalled server."""
    if client is None:
        return
    def disconnect():
        with contextlib.suppress(Exception):
            client.disconnect()
    thread = threading.Thread(target=disconnect, daemon=True)
    thread.start()
    thread.join(wait)


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


class Acks:
    """Acknowledgements of emitted events, counted as they arrive (emit now, wait later)."""

    def __init__(self):
        self.items: list[tuple[float, object]] = []
        self.arrived = threading.Condition()

    def callback(self):
        def done(*args):
            with self.arrived:
                self.items.append((time.monotonic(), args[0] if args else None))
                self.arrived.notify_all()
        return done

    def wait(self, count, deadline, client=None) -> list:
        with self.arrived:
            while len(self.items) < count and time.monotonic() < deadline:
                if client is not None and not client.connected:
                    break
                self.arrived.wait(min(0.2, max(0.0, deadline - time.monotonic())))
            return [ack for _, ack in self.items]


# -- the server, and processes started besides it ---------------------------------------------
@dataclass
class Result:
    outcome: str
    breaches: list[str] = field(default_factory=list)
    victim_limit: float | None = None  # s: victim p99 above this is a breach
    db_limit: float | None = None  # MB of database growth above this is a breach
    rss_growth_limit: float | None = None  # MB: RSS after (idle) − before above it: a breach


class Bench:
    def __init__(self, data_dir: Path, cap: float):
        self.data_dir = data_dir
        self.cap = cap
        self.server: LiveServer | None = None
        self.port, self.url = 0, ""
        self.rss_start = float("nan")
        self.spawned: list[subprocess.Popen] = []  # servers started besides the main one
        self.temp_dirs: list[Path] = []
        self.groups: set[int] = set()  # every process group started, checked at the end
        self.graph_ids: list[str] = []  # uploads answered 201: they must still be stored
        self.seen: dict[str, set[int]] = {}  # run id -> seqs received over Socket.IO
        self.seeded: tuple[str, str] | None = None  # (run id, share token)
        self.health_http = requests.Session()
        self.generation = 0  # one more at each (re)start: clients of an old server give up

    # the main server
    def start(self) -> None:
        self.server = LiveServer(self.data_dir).start()
        self.generation += 1
        self.groups.add(self.server.process.pid)
        match = re.fullmatch(r"http://([\d.]+):(\d+)", self.server.url)
        if not match or match.group(1) != HOST:
            raise RuntimeError(f"the server listens on {self.server.url}, not on {HOST}")
        self.port = int(match.group(2))
        self.url = f"http://{HOST}:{self.port}"
        time.sleep(0.5)
        self.rss_start = rss_mb(self.pid) or float("nan")

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def alive(self) -> bool:
        return self.server is not None and self.server.process.poll() is None

    def stop(self, graceful=True) -> None:
        """Ctrl-C the server (it stops its runs), then kill its process group whatever."""
        if self.server is None:
            return
        if graceful and self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.server.process.wait(timeout=15)
        self.server.stop()
        self.server = None

    def restart(self) -> None:
        self.stop(graceful=False)
        self.start()

    # readings
    def rss(self) -> float:
        return (rss_mb(self.pid) if self.server else None) or float("nan")

    def db_mb(self) -> float:
        paths = [self.data_dir / DATABASE, self.data_dir / (DATABASE + "-wal")]
        return sum(p.stat().st_size for p in paths if p.exists()) / MB

    def healthz(self, timeout=5.0) -> dict | None:
        """/healthz's answer ({} if it answered but not with the counts); None: no answer.

        Over one kept cookie, so that polling it makes no new workspaces."""
        try:
            response = self.health_http.get(self.url + "/healthz", timeout=timeout)
        except requests.RequestException:
            return None
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def wait_idle(self, timeout: float) -> tuple[str, float]:
        """Until /healthz counts no training and no trace and the server's CPU is quiet.

        Returns ("idle" | "busy" | "unresponsive": no answer at all | "dead", seconds waited).
        """
        start = time.monotonic()
        deadline = start + timeout
        answered = False
        while time.monotonic() < deadline:
            if not self.alive():
                return "dead", time.monotonic() - start
            health = self.healthz(timeout=max(0.5, min(5.0, deadline - time.monotonic())))
            if health is None:
                continue
            answered = True
            if health.get("training") == 0 and health.get("traces") == 0:
                before = cpu_seconds(self.pid)
                time.sleep(1.0)
                after = cpu_seconds(self.pid)
                if before is not None and after is not None and after - before < 0.3:
                    return "idle", time.monotonic() - start
            else:
                time.sleep(0.25)
        return ("busy" if answered else "unresponsive"), time.monotonic() - start

    # clients
    def session(self) -> requests.Session:
        """A new browser: its first request gives it a workspace cookie."""
        http = requests.Session()
        http.get(self.url + "/api/examples", timeout=10)  # (/healthz makes no workspace)
        return http

    def connect(self, http: requests.Session | None = None, handlers=None) -> socketio.Client:
        """A Socket.IO client, over ``http``'s cookie (None: cookie-less)."""
        # Handlers in wire order: python-socketio's default of a thread per message can put a
        # binary attachment before its packet when many acks with attachments arrive at once.
        client = ordered_client(reconnection=False)
        for name, handler in (handlers or {}).items():
            client.on(name, handler)
        headers = {"Cookie": cookie_header(http)} if http is not None else {}
        client.connect(self.url, headers=headers, transports=["websocket"], wait_timeout=10)
        return client

    def spawn(self, host: str, data_dir: Path) -> tuple[subprocess.Popen, list[str]]:
        """Another ``serve`` process in its own process group; its output lines are collected."""
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--host", host, "--port", "0",
             "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        self.spawned.append(process)
        self.groups.add(process.pid)
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
        return process, lines

    def kill(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)

    def close(self) -> None:
        for process in self.spawned:
            self.kill(process)
        self.stop()
        for path in self.temp_dirs:
            shutil.rmtree(path, ignore_errors=True)

    def left_behind(self) -> list[str]:
        return [f"{pid} {cmd[:80]}" for pid, state, _, pgid, cmd in processes()
                if pgid in self.groups and state != "Z"]


class Victim(threading.Thread):
    """A page of someone else: GET /api/examples and ping_server every 0.25 s, own cookie."""

    def __init__(self, bench: Bench):
        super().__init__(daemon=True)
        self.bench = bench
        self.http = bench.session()
        self.samples: list[tuple[float, str, float, bool]] = []  # (start, kind, seconds, ok)
        self.halt = threading.Event()

    def run(self) -> None:
        client, generation = None, 0
        tick = time.monotonic()
        while not self.halt.is_set():
            url = self.bench.url
            t = time.monotonic()
            try:
                ok = self.http.get(url + "/api/examples", timeout=10).status_code == 200
            except requests.RequestException:
                ok = False
            self.samples.append((t, "http", time.monotonic() - t, ok))
            if client is not None and generation != self.bench.generation:
                threading.Thread(target=drop, args=(client,), daemon=True).start()
                client = None  # the server was restarted: connect to the new one
            t = time.monotonic()
            try:
                if client is None or not client.connected:
                    generation = self.bench.generation
                    client = self.bench.connect(self.http)  # (a reconnect counts in the sample)
                ok = bool(client.call("ping_server", {}, timeout=10).get("ok"))
                self.samples.append((t, "ping", time.monotonic() - t, ok))
            except Exception:  # a refused connect, a timeout, a disconnect: a failed sample
                self.samples.append((t, "ping", time.monotonic() - t, False))
                threading.Thread(target=drop, args=(client,), daemon=True).start()
                client = None
            tick = max(tick + VICTIM_PERIOD, time.monotonic())
            self.halt.wait(max(0.0, tick - time.monotonic()))
        drop(client)

    def window(self, start, end, kind) -> tuple[list[float], int]:
        """Latencies of the samples started in [start, end], and how many failed."""
        mine = [s for s in list(self.samples) if start <= s[0] <= end and s[1] == kind]
        return [s[2] for s in mine], sum(1 for s in mine if not s[3])


# -- the attacks ------------------------------------------------------------------------------
def upload(b: Bench, source: str) -> Result:
    """POST /api/graphs an expression; breach: no answer within 30 s, or a 5xx."""
    limit = min(30.0, b.cap)
    t = time.monotonic()
    try:
        response = b.session().post(b.url + "/api/graphs", json={"source": source,
                                                                  "format": "expr"},
                                    timeout=limit)
    except requests.Timeout:
        return Result(f"no answer within {limit:.0f} s", [f"no answer within {limit:.0f} s"])
    except requests.ConnectionError as exc:
        return Result(f"connection dropped after {time.monotonic() - t:.1f} s: "
                      f"{shorten(exc, 40)}", ["the connection dropped without an answer"])
    seconds = time.monotonic() - t
    outcome = http_outcome(response, seconds)
    if response.status_code == 201:
        body = response.json()
        b.graph_ids.append(body["id"])
        outcome += f" ({body.get('nodes'):,} nodes)"
    breaches = [f"answered {response.status_code}"] if response.status_code >= 500 else []
    return Result(outcome, breaches)


def upload_50k_chain(b: Bench) -> Result:
    return upload(b, "x = input(0.5)\n" + "x += sin(x)\n" * 50_000 + "output x\n")


def upload_20k_square(b: Bench) -> Result:
    return upload(b, "x = input(0.5)\n" + "x *= x\n" * 20_000 + "output x\n")


def amplify_network_spec(b: Bench) -> Result:
    """Twelve cookie-less clients upload a ~170-byte spec that expands to 99,000 nodes."""
    text = json.dumps(NETWORK_SPEC)
    deadline = time.monotonic() + b.cap
    outcomes, breaches, times = [], [], []
    for _ in range(12):
        remaining = deadline - time.monotonic()
        if remaining <= 1:
            outcomes.append("not sent (time cap)")
            continue
        t = time.monotonic()
        try:
            response = requests.Session().post(
                b.url + "/api/graphs", json={"source": text, "format": "network"},
                timeout=remaining)
        except requests.RequestException as exc:
            outcomes.append(f"no answer ({type(exc).__name__})")
            continue
        times.append(time.monotonic() - t)
        outcomes.append(http_outcome(response))
        if response.status_code == 201:
            b.graph_ids.append(response.json()["id"])
        if response.status_code >= 500:
            breaches.append(f"answered {response.status_code}")
    outcome = (f"{len(text)}-byte spec: {counted(outcomes)}; "
               f"{percentile(times, .5):.1f} s each (p50)")
    return Result(outcome, sorted(set(breaches)), db_limit=10)


def cache_widths(b: Bench) -> Result:
    """60 load_graph of model:resnet:<w>, w spread over 1..256, fired without waiting."""
    widths = sorted({round(1 + i * 255 / 59) for i in range(60)})
    acks = Acks()
    client = b.connect(b.session())
    try:
        t = time.monotonic()
        try:
            for w in widths:
                client.emit("load_graph", {"graph": f"model:resnet:{w}"},
                            callback=acks.callback())
        except socketio.exceptions.SocketIOError:
            pass
        answers = acks.wait(len(widths), t + min(30.0, b.cap), client)
        seconds = time.monotonic() - t
        dropped = not client.connected
    finally:
        drop(client)
    outcome = (f"{len(answers)}/{len(widths)} answered in {seconds:.1f} s: "
               f"{counted(ack_outcome(a) for a in answers) or 'nothing'}")
    if dropped:
        outcome += "; disconnected by the server"
    return Result(outcome, rss_growth_limit=100)


def cache_key_aliases(b: Bench) -> Result:
    """model:resnet:256, :0256, :00256 — one model, three spellings."""
    client = b.connect(b.session())
    parts, rss = [], []
    deadline = time.monotonic() + b.cap
    try:
        for ref in ("model:resnet:256", "model:resnet:0256", "model:resnet:00256"):
            t = time.monotonic()
            try:
                ack = client.call("load_graph", {"graph": ref},
                                  timeout=max(1.0, deadline - time.monotonic()))
            except socketio.exceptions.TimeoutError:
                parts.append(f"{ref[6:]}: no ack")
                break
            parts.append(f"{ref[6:]}: {time.monotonic() - t:.2f} s "
                         f"{'ok' if ack.get('ok') else ack_outcome(ack)}")
            rss.append(b.rss())
    finally:
        drop(client)
    breaches = []
    if len(rss) == 3:
        growth = rss[2] - rss[0]
        parts.append(f"RSS first → third {rss[0]:.0f} → {rss[2]:.0f} MB")
        if growth > 150:
            breaches.append(f"RSS grew {growth:.0f} MB after the first (> 150 MB): each "
                            "spelling cached anew")
    return Result("; ".join(parts), breaches)


def gradient_check_flood(b: Bench) -> Result:
    """18 gradient_check of the ResNet at once, from one workspace."""
    acks = Acks()
    client = b.connect(b.session())
    try:
        t = time.monotonic()
        with contextlib.suppress(socketio.exceptions.SocketIOError):
            for _ in range(18):
                client.emit("gradient_check", {"graph": "model:resnet"},
                            callback=acks.callback())
        answers = acks.wait(18, t + min(30.0, b.cap), client)
        seconds = time.monotonic() - t
        dropped = not client.connected
    finally:
        drop(client)
    accepted = sum(1 for a in answers if isinstance(a, dict) and a.get("ok"))
    # The documented per-workspace limit, or a smaller one a refusal states ("…_PER_WORKSPACE=2").
    limit = PER_WORKSPACE_LIMIT
    for ack in answers:
        error = ack.get("error") if isinstance(ack, dict) else None
        stated = re.search(r"PER_WORKSPACE=(\d+)", str(error.get("message"))) if error else None
        if stated:
            limit = min(limit, int(stated.group(1)))
    outcome = (f"{len(answers)}/18 answered in {seconds:.1f} s: "
               f"{counted(ack_outcome(a) for a in answers) or 'nothing'}")
    if dropped:
        outcome += "; disconnected by the server"
    breaches = []
    if accepted > limit:
        breaches.append(f"{accepted} accepted > the per-workspace limit {limit}")
    return Result(outcome, breaches, victim_limit=1.0)


class FrameReader:
    """Server → client websocket frames (unmasked) from bytes read a few at a time: keeps the
    opcode and the first bytes of each payload, skips the rest."""

    KEEP = 400  # bytes of each payload kept: enough for an ack's ok and limit

    def __init__(self):
        self.buffer = b""
        self.frame: list | None = None  # [opcode, bytes still to come, payload prefix]
        self.count = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self.buffer += data
        done = []
        while True:
            if self.frame is None:
                if len(self.buffer) < 2:
                    return done
                opcode, length, offset = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
                if length == 126:
                    if len(self.buffer) < 4:
                        return done
                    length, offset = struct.unpack(">H", self.buffer[2:4])[0], 4
                elif length == 127:
                    if len(self.buffer) < 10:
                        return done
                    length, offset = struct.unpack(">Q", self.buffer[2:10])[0], 10
                self.buffer = self.buffer[offset:]
                self.frame = [opcode, length, b""]
            take = min(self.frame[1], len(self.buffer))
            if len(self.frame[2]) < self.KEEP:
                self.frame[2] += self.buffer[:min(take, self.KEEP - len(self.frame[2]))]
            self.buffer = self.buffer[take:]
            self.frame[1] -= take
            if self.frame[1] > 0:
                return done
            done.append((self.frame[0], self.frame[2]))
            self.count += 1
            self.frame = None


def slow_reader(b: Bench) -> Result:
    """A raw websocket asks for 500 ResNet traces and reads a few bytes now and then."""
    limit = min(30.0, b.cap)
    before = b.rss()
    ws = websocket.create_connection(
        f"ws://{HOST}:{b.port}/socket.io/?EIO=4&transport=websocket", timeout=5,
        sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    start = time.monotonic()
    peak, sent, pongs, closed, stalled, unsent = before, 0, 0, None, None, 0
    acks: list[str] = []  # the acknowledgements it got to read (their first 400 bytes)
    reader = FrameReader()
    try:
        opening = ws.recv()
        if not str(opening).startswith("0"):
            raise RuntimeError(f"no Engine.IO open packet: {shorten(opening, 40)}")
        ws.send("40")
        answer = ws.recv()
        if not str(answer).startswith("40"):
            raise RuntimeError(f"namespace not connected: {shorten(answer, 60)}")
        sock = ws.sock
        client_port = sock.getsockname()[1]
        next_send = next_read = next_rss = time.monotonic()
        while closed is None and time.monotonic() - start < limit:
            now = time.monotonic()
            if sent < 500 and stalled is None and now >= next_send:
                try:
                    ws.send(f'42{sent}["trace_graph",{{"graph":"model:resnet","mode":"both"}}]')
                    sent += 1
                except (websocket.WebSocketTimeoutException, TimeoutError):
                    stalled = f"sending blocked after {sent} events"
                except (OSError, websocket.WebSocketConnectionClosedException) as exc:
                    closed = f"send failed ({type(exc).__name__})"
                next_send = now + 0.02  # 500 events over ~10 s
            if now >= next_read:  # ~256 bytes every 0.2 s: about 1.3 kB/s
                next_read = now + 0.2
                try:
                    if select.select([sock], [], [], 0)[0]:
                        data = sock.recv(256)
                        if not data:
                            closed = "connection closed (EOF)"
                        for opcode, payload in reader.feed(data):
                            if opcode == 8:
                                closed = "close frame"
                            elif opcode == 1 and payload == b"2":
                                ws.send("3")
                                pongs += 1
                            elif opcode == 1 and re.match(rb"43\d+\[", payload):
                                acks.append(payload.decode("utf-8", "replace"))
                except (OSError, websocket.WebSocketConnectionClosedException) as exc:
                    closed = f"connection reset ({type(exc).__name__})"
            if now >= next_rss:
                next_rss = now + 0.25
                end, unsent = server_end(b.port, client_port)
                if end != "ESTABLISHED":
                    closed = f"the server closed its end: {end or 'gone'}"
                peak = max(peak, b.rss())
                if peak > RSS_SAFETY_MB:
                    stalled = f"stopped feeding at RSS {peak:.0f} MB (safety cap)"
            time.sleep(0.005)
        seconds = time.monotonic() - start
    finally:
        with contextlib.suppress(Exception):
            ws.shutdown()
    answers = []
    for ack in acks:
        limit = re.search(r'"limit": ?"(\w+)"', ack)
        answers.append("ack ok:true" if re.match(r'43\d+\[\{"ok": ?true', ack) else
                       f"ok:false limit={limit.group(1)}" if limit else "ok:false")
    outcome = (f"{sent} events sent, {reader.count} frames read"
               + (f" (acks: {counted(answers)})" if answers else "") + "; "
               + (f"disconnected by the server after {seconds:.1f} s ({closed})" if closed
                  else f"still connected after {seconds:.0f} s ({unsent / MB:.1f} MB unsent in "
                       "the server's kernel buffer)")
               + f"; RSS peak +{peak - before:.0f} MB" + (f"; {stalled}" if stalled else ""))
    breaches = []
    if peak - before > 200:
        breaches.append(f"RSS grew {peak - before:.0f} MB while it did not read (> 200)")
    if closed is None:
        breaches.append(f"not disconnected within {seconds:.0f} s")
    return Result(outcome, breaches)


def cookieless_training_slots(b: Bench) -> Result:
    """Two cookie-less sockets, each: 2× train resnet width 1024, then 2× train mlp."""
    asks = [{"model": "resnet", "epochs": 1000, "batch_size": 1, "width": 1024}] * 2 + \
           [{"model": "mlp", "epochs": 1000, "batch_size": 1}] * 2
    clients, accepted, outcomes = [], [], []
    try:
        for _ in range(2):
            try:
                clients.append(b.connect(None))
            except socketio.exceptions.ConnectionError as exc:
                outcomes.append(f"connect refused ({shorten(exc, 40)})")
        for client in clients:
            for ask in asks:
                try:
                    ack = client.call("train", ask, timeout=30)
                except socketio.exceptions.TimeoutError:
                    outcomes.append("no ack in 30 s")
                    continue
                except socketio.exceptions.SocketIOError:
                    outcomes.append("disconnected by the server")
                    break
                outcomes.append(f"{ask['model']}: {ack_outcome(ack)}")
                if isinstance(ack, dict) and ack.get("ok"):
                    accepted.append((client, ack["run_id"], ask))
        for client, run_id, _ in accepted:
            with contextlib.suppress(socketio.exceptions.SocketIOError):
                client.call("stop_run", {"run_id": run_id}, timeout=10)
        deadline = time.monotonic() + b.cap
        while time.monotonic() < deadline and (b.healthz() or {}).get("training", 1) > 0:
            time.sleep(0.25)
    finally:
        for client in clients:
            drop(client)
    killed = 0
    if accepted and (b.healthz() or {}).get("training"):  # not ended: end it for what follows
        for worker in workers_of(b.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)
                killed += 1
    breaches = []
    long_runs = [ask for _, _, ask in accepted
                 if ask["epochs"] * math.ceil(TRAIN_IMAGES / ask["batch_size"]) > MAX_STEPS]
    if long_runs:
        steps = long_runs[0]["epochs"] * math.ceil(TRAIN_IMAGES / long_runs[0]["batch_size"])
        breaches.append(f"{len(long_runs)} run(s) of {steps:,} steps accepted (> {MAX_STEPS:,})")
    if len(accepted) > 2:
        breaches.append(f"{len(accepted)} runs accepted from one address (> 2)")
    outcome = counted(outcomes) + (f"; stop_run did not end them within {b.cap:.0f} s: the "
                                   f"bench killed {killed} workers" if killed else "")
    return Result(outcome, breaches)


def seed_big_run(data_dir: Path) -> tuple[str, str]:
    """A finished run of 143,800 step records, shared: (run id, token). Before the server."""
    store = Store(data_dir / DATABASE)
    try:
        config = {"model": "resnet", "epochs": SEED_RECORDS // 90, "batch_size": 16,
                  "width": 32}
        run_id = store.add_run(SEED_WORKSPACE, "abuse bench: a long run", config)
        for first in range(0, SEED_RECORDS, 5000):
            store.add_metrics(run_id, [
                {"type": "step", "step": k, "epoch": 1 + k // 90, "loss": 1.0, "accuracy": 0.5,
                 "grad_norms": {"FC1": 1.0}, "seconds": 0.01}
                for k in range(first, min(first + 5000, SEED_RECORDS))])
        store.finish_run(run_id, "completed", {"epochs": SEED_RECORDS // 90,
                                               "steps": SEED_RECORDS})
        token = store.share("runs", run_id, SEED_WORKSPACE)
    finally:
        store.close()
    return run_id, token


def big_run_read(b: Bench) -> Result:
    """3 rounds of 5 concurrent GET /api/shared/<token> of the 143,800-record run."""
    if b.seeded is None:
        return Result("not seeded")
    url = f"{b.url}/api/shared/{b.seeded[1]}"
    deadline = time.monotonic() + b.cap
    results: list[tuple[str, float, int]] = []

    def fetch():
        t = time.monotonic()
        try:
            with requests.get(url, stream=True,
                              timeout=(5, max(1.0, deadline - time.monotonic()))) as response:
                size = sum(len(chunk) for chunk in response.iter_content(MB))  # never parsed
                what = (f"answered {response.status_code}" if response.status_code < 400
                        else f"refused {response.status_code}")
        except requests.RequestException as exc:
            what, size = f"no answer ({type(exc).__name__})", 0
        results.append((what, time.monotonic() - t, size))

    for _ in range(3):
        if time.monotonic() > deadline - 1:
            break
        threads = [threading.Thread(target=fetch) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    times = [r[1] for r in results]
    sizes = [r[2] for r in results if r[2]]
    outcome = (f"{counted(r[0] for r in results)}; {max(sizes or [0]) / MB:.1f} MB each; "
               f"{percentile(times, .5):.1f} s p50, {max(times or [0]):.1f} s max")
    return Result(outcome, victim_limit=1.0)


def csrf_form_post(b: Bench, victim: Victim) -> Result:
    """A cross-site multipart form POST carrying the victim's cookie; and SameSite on GET /."""
    cookies = dict(victim.http.cookies.items())
    response = requests.post(
        b.url + "/api/graphs", cookies=cookies,
        files={"file": ("x.expr", "x = input(1)\noutput x\n")},
        headers={"Origin": "http://evil.example", "Referer": "http://evil.example/",
                 "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                 "Sec-Fetch-Dest": "document"}, timeout=10)
    breaches = []
    outcome = f"form POST {http_outcome(response)}"
    if 200 <= response.status_code < 300:
        breaches.append(f"cross-site form answered {response.status_code}: a graph planted")
        with contextlib.suppress(ValueError, KeyError):
            b.graph_ids.append(response.json()["id"])
    page = requests.get(b.url + "/", timeout=10)
    set_cookie = page.headers.get("Set-Cookie", "")
    samesite = re.search(r"samesite=(\w+)", set_cookie, re.IGNORECASE)
    outcome += f"; GET / Set-Cookie SameSite={samesite.group(1) if samesite else '(none)'}"
    if not set_cookie:
        breaches.append("GET / set no session cookie to check")
    elif not samesite or samesite.group(1).lower() not in ("lax", "strict"):
        breaches.append("the session cookie is not SameSite=Lax")
    return Result(outcome, breaches)


def headers(b: Bench) -> Result:
    response = requests.get(b.url + "/", timeout=10)
    h = response.headers
    checks = {"CSP frame-ancestors 'none'":
              "frame-ancestors 'none'" in h.get("Content-Security-Policy", ""),
              "X-Content-Type-Options: nosniff":
              h.get("X-Content-Type-Options", "").lower() == "nosniff",
              "Referrer-Policy": bool(h.get("Referrer-Policy"))}
    outcome = "; ".join(f"{name}: {'yes' if ok else 'missing'}" for name, ok in checks.items())
    if h.get("Content-Security-Policy") and not checks["CSP frame-ancestors 'none'"]:
        outcome += f" (CSP: {shorten(h['Content-Security-Policy'], 40)})"
    return Result(outcome, [f"{name} missing" for name, ok in checks.items() if not ok])


def malformed(b: Bench) -> Result:
    """Deep JSON, a 4,000-digit hex literal, odd watch_run ids, a two-argument event."""
    http = b.session()
    parts, breaches = [], []
    for label, kwargs in (
            ("deep JSON", {"data": "[" * 100_000 + "]" * 100_000,
                           "headers": {"Content-Type": "application/json"}}),
            ("4000-digit hex", {"json": {"source": "x = input(0x" + "f" * 4000 + ")\noutput x\n",
                                         "format": "expr"}})):
        try:
            response = http.post(b.url + "/api/graphs", timeout=min(30.0, b.cap), **kwargs)
        except requests.RequestException as exc:
            parts.append(f"{label}: no answer")
            breaches.append(f"{label}: no answer ({type(exc).__name__})")
            continue
        parts.append(f"{label}: {http_outcome(response)}")
        if response.status_code >= 500:
            breaches.append(f"{label} answered {response.status_code}")
        elif response.status_code == 201:
            b.graph_ids.append(response.json()["id"])
    calls = (("run_id list", {"run_id": ["r"]}), ("run_id dict", {"run_id": {"a": 1}}),
             ("run_id 10**30", {"run_id": 10**30}), ("two arguments", ({"run_id": "r"}, 1)))
    client = b.connect(http)
    try:
        acks = {label: Acks() for label, _ in calls}
        for label, data in calls:
            client.emit("watch_run", data, callback=acks[label].callback())
        deadline = time.monotonic() + 5
        for label, _ in calls:
            got = acks[label].wait(1, deadline, client)
            if got:
                parts.append(f"{label}: {ack_outcome(got[0]).removeprefix('refused: ')}")
            else:
                parts.append(f"{label}: no ack")
                breaches.append(f"watch_run {label}: no ack within 5 s")
        if not client.connected:
            parts.append("disconnected by the server")
    finally:
        drop(client)
    return Result("; ".join(parts), breaches)


def stopped_worker(b: Bench) -> Result:
    """A training worker frozen with SIGSTOP, then stop_run: does the run still end?"""
    http = b.session()
    metrics = threading.Event()
    seen = set()

    def on_records(data):
        seen.update(r["seq"] for r in data.get("records", []) if "seq" in r)
        if data.get("records"):
            metrics.set()
    client = b.connect(http, {"run_history": on_records, "run_metrics": on_records})
    worker = None
    try:
        ack = client.call("train", {"model": "resnet", "epochs": 50}, timeout=30)
        if not ack.get("ok"):
            return Result(f"train {ack_outcome(ack)}")
        run_id = ack["run_id"]
        b.seen[run_id] = seen
        client.call("watch_run", {"run_id": run_id, "after": 0}, timeout=10)
        if not metrics.wait(min(30.0, b.cap)):
            return Result("no run_metrics within the time cap")
        workers = workers_of(b.pid)
        if len(workers) != 1:
            return Result(f"found {len(workers)} worker processes, not 1")
        worker = workers[0]
        os.kill(worker, signal.SIGSTOP)
        stop = client.call("stop_run", {"run_id": run_id}, timeout=10)
        t = time.monotonic()
        status, gone = "?", False
        while time.monotonic() - t < min(30.0, b.cap):
            runs = http.get(b.url + "/api/runs", timeout=10).json()["runs"]
            status = next((r["status"] for r in runs if r["id"] == run_id), "(gone)")
            gone = exited(worker)
            if status != "running" and gone:
                break
            time.sleep(0.25)
        seconds = time.monotonic() - t
        training = (b.healthz() or {}).get("training")
        outcome = (f"stop_run {ack_outcome(stop)} ({stop.get('status')}); after {seconds:.1f} s: "
                   f"run {status}, worker {'gone' if gone else 'still there (stopped)'}, "
                   f"/healthz training={training}")
        breaches = []
        if status == "running":
            breaches.append(f"the run is still 'running' {seconds:.0f} s after stop_run")
        if not gone:
            breaches.append("the frozen worker is still there")
        if training:
            breaches.append(f"/healthz still counts {training} training")
        if not exited(worker):  # clean up for the next attack: kill, then wake it
            os.kill(worker, signal.SIGKILL)
            os.kill(worker, signal.SIGCONT)
            outcome += "; the bench killed the worker"
        return Result(outcome, breaches)
    finally:
        if worker is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGCONT)
        drop(client)


def wait_for_start(process, lines, timeout=20.0) -> str | None:
    """The first line saying it listens, or None once it exits or the time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = next((line for line in list(lines) if "listening on" in line), None)
        if found or process.poll() is not None:
            time.sleep(0.2)  # the rest of its output
            return found
        time.sleep(0.05)
    return None


def second_server(b: Bench) -> Result:
    """A second server on the same data dir: it should refuse (exit 2, naming the other)."""
    process, lines = b.spawn(HOST, b.data_dir)
    listening = wait_for_start(process, lines)
    try:
        code = process.poll()
        output = " ".join(line.strip() for line in lines if line.strip())
        if listening:
            return Result(f"started: {listening.strip()} (killed)",
                          ["a second server listens on the same data dir"])
        if code is None:
            return Result("neither listened nor exited in 20 s (killed)")
        names = str(b.pid) in output
        return Result(f"exited with status {code}: {shorten(output, 70)}; names the other "
                      f"process (pid {b.pid}): {'yes' if names else 'no'}")
    finally:
        b.kill(process)


def bind_all_without_token(b: Bench) -> Result:
    """A server on 0.0.0.0 (talked to at 127.0.0.1 only): does it ask for a token?"""
    data_dir = Path(tempfile.mkdtemp(prefix="abuse-bind-all-"))
    b.temp_dirs.append(data_dir)
    process, lines = b.spawn("0.0.0.0", data_dir / "data")
    try:
        listening = wait_for_start(process, lines)
        time.sleep(0.5)
        output = list(lines)
        token_url = any("?token=" in line for line in output)
        ports = [m.group(1) for line in output for m in re.finditer(r"https?://[^\s/]+:(\d+)",
                                                                      line)]
        if not listening or not ports:
            code = process.poll()
            text = " ".join(line.strip() for line in output if line.strip())
            return Result(f"did not listen (status {code}): {shorten(text, 70)}")
        response = requests.get(f"http://{HOST}:{ports[0]}/api/examples", timeout=10)
        try:
            examples = "examples" in response.json()
        except ValueError:
            examples = False
        outcome = (f"GET /api/examples without a token: {http_outcome(response)}; "
                   f"printed a ?token= URL: {'yes' if token_url else 'no'}")
        breaches = ([f"answered {response.status_code} with the examples, no token asked"]
                    if response.status_code == 200 and examples else [])
        return Result(outcome, breaches)
    finally:
        b.kill(process)


def file_modes(b: Bench) -> Result:
    paths = {"dir": (b.data_dir, 0o700), "db": (b.data_dir / DATABASE, 0o600),
             "secret_key": (b.data_dir / "secret_key", 0o600)}
    parts, breaches = [], []
    for name, (path, wanted) in paths.items():
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            parts.append(f"{name} missing")
            continue
        parts.append(f"{name} {mode:04o}")
        if mode != wanted:
            breaches.append(f"{name} is {mode:04o}, not {wanted:04o}")
    return Result(", ".join(parts), breaches)


ATTACKS = {
    "upload-50k-chain": upload_50k_chain,
    "upload-20k-square": upload_20k_square,
    "amplify-network-spec": amplify_network_spec,
    "cache-widths": cache_widths,
    "cache-key-aliases": cache_key_aliases,
    "gradient-check-flood": gradient_check_flood,
    "slow-reader": slow_reader,
    "cookieless-training-slots": cookieless_training_slots,
    "big-run-read": big_run_read,
    "csrf-form-post": csrf_form_post,
    "headers": headers,
    "malformed": malformed,
    "stopped-worker": stopped_worker,
    "second-server": second_server,
    "bind-all-without-token": bind_all_without_token,
    "file-modes": file_modes,
}


# -- running and reporting --------------------------------------------------------------------
@dataclass
class Row:
    name: str
    result: Result
    seconds: float
    http: tuple[float, float, int, int]  # p50, p99 (s), samples, failed
    ping: tuple[float, float, int, int]
    rss: tuple[float, float]
    db_growth: float
    rss_over_start: float

    @property
    def p99(self) -> float:
        values = [v for v in (self.http[1], self.ping[1]) if not math.isnan(v)]
        return max(values) if values else float("nan")


def run_attack(b: Bench, victim: Victim, name: str) -> Row:
    if not b.alive():
        b.restart()
    rss_before, db_before = b.rss(), b.db_mb()
    start = time.monotonic()
    try:
        attack = ATTACKS[name]
        result = attack(b, victim) if name == "csrf-form-post" else attack(b)
    except Exception as exc:  # the bench's own failure is reported, not hidden
        result = Result(f"bench error: {type(exc).__name__}: {shorten(exc, 80)}")
    state, waited = b.wait_idle(min(IDLE_WAIT, b.cap))
    end = time.monotonic()
    rss_after, db_after, rss_start = b.rss(), b.db_mb(), b.rss_start  # before any restart
    if state == "dead":
        result.breaches.append(f"the server died (exit {b.server.process.poll()}); restarted")
        b.restart()
    elif state == "unresponsive":
        result.breaches.append(f"the server answered no /healthz for {waited:.0f} s; "
                               "restarted")
        b.restart()
    elif state == "busy":
        result.outcome += f"; still busy {waited:.0f} s after"

    def stats(kind):
        latencies, failed = victim.window(start, end, kind)
        return percentile(latencies, .5), percentile(latencies, .99), len(latencies), failed
    row = Row(name, result, end - start, stats("http"), stats("ping"), (rss_before, rss_after),
              db_after - db_before, rss_after - rss_start)
    if result.victim_limit is not None and row.p99 > result.victim_limit:
        result.breaches.append(f"victim p99 {row.p99 * 1e3:.0f} ms > "
                               f"{result.victim_limit * 1e3:.0f} ms")
    if result.db_limit is not None and row.db_growth > result.db_limit:
        result.breaches.append(f"database grew {row.db_growth:.1f} MB (> {result.db_limit} MB)")
    growth = rss_after - rss_before
    if result.rss_growth_limit is not None and not growth <= result.rss_growth_limit:
        result.breaches.append(f"RSS grew {growth:.0f} MB by the attack (> "
                               f"{result.rss_growth_limit} MB)")
    return row


def latency_cell(stats) -> str:
    p50, p99, count, failed = stats
    if not count:
        return "—"
    return f"{p50 * 1e3:.0f} / {p99 * 1e3:.0f}" + (f" ({failed} failed)" if failed else "")


def print_table(rows: list[Row]) -> None:
    header = ("attack", "outcome", "s", "victim HTTP p50/p99 ms", "victim ping p50/p99 ms",
              "server RSS MB", "DB +MB", "breach")
    widths = (27, 58, 5, 22, 22, 13, 7, 46)
    table = []
    for row in rows:
        breach = ("yes: " + "; ".join(row.result.breaches)) if row.result.breaches else "no"
        table.append((row.name + (" *" if row.name in HEAVY else ""), row.result.outcome,
                      f"{row.seconds:.0f}", latency_cell(row.http), latency_cell(row.ping),
                      f"{row.rss[0]:.0f} → {row.rss[1]:.0f}", f"{row.db_growth:.1f}", breach))

    def line(cells):
        wrapped = [textwrap.wrap(c, w) or [""] for c, w in zip(cells, widths, strict=True)]
        for k in range(max(len(w) for w in wrapped)):
            print("  ".join((w[k] if k < len(w) else "").ljust(width)
                            for w, width in zip(wrapped, widths, strict=True)).rstrip())
    line(header)
    print("  ".join("-" * w for w in widths))
    for cells in table:
        line(cells)
    print(f"* the two heaviest ({', '.join(HEAVY)}): victim p99 target "
          f"{P99_TARGET_HEAVY * 1e3:.0f} ms; every other attack {P99_TARGET * 1e3:.0f} ms")


def lost_records(b: Bench) -> tuple[int, str]:
    """After the server stopped: is every committed record and upload still stored?"""
    db = sqlite3.connect(b.data_dir / DATABASE)
    try:
        lost, checked = 0, []
        if b.seeded:
            count, top = db.execute("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM metrics "
                                    "WHERE run_id = ?", (b.seeded[0],)).fetchone()
            lost += SEED_RECORDS - min(count, SEED_RECORDS) + (top != count)
            checked.append(f"seeded run {count:,}/{SEED_RECORDS:,}")
        for run_id, seqs in b.seen.items():
            stored = {r[0] for r in db.execute("SELECT seq FROM metrics WHERE run_id = ?",
                                               (run_id,))}
            lost += len(seqs - stored)
            checked.append(f"{len(seqs)} streamed records")
        graphs = {r[0] for r in db.execute("SELECT id FROM graphs")}
        lost += sum(1 for g in b.graph_ids if g not in graphs)
        checked.append(f"{len(b.graph_ids)} uploads")
        return lost, ", ".join(checked)
    finally:
        db.close()


def summarize(rows: list[Row], lost: int, checked: str) -> None:
    measured = [r for r in rows if not math.isnan(r.p99)]
    worst = max(measured, key=lambda r: r.p99, default=None)
    breached = [r.name for r in rows if r.result.breaches]
    slow = [r.name for r in rows
            if not math.isnan(r.p99)
            and r.p99 > (P99_TARGET_HEAVY if r.name in HEAVY else P99_TARGET)]
    fat = [r.name for r in rows if not r.rss_over_start <= RSS_TARGET_MB]
    met = not (slow or fat or breached or lost)
    print()
    print(f"lost committed records: {lost} (checked: {checked})")
    print((f"worst victim p99: {worst.p99 * 1e3:.0f} ms during {worst.name}" if worst else
           "worst victim p99: —")
          + f"; breaches: {len(breached)} of {len(rows)} attacks"
          + f"; every target met: {'YES' if met else 'NO'}")
    if not met:
        if slow:
            print(f"  victim p99 over target during: {', '.join(slow)}")
        if fat:
            print(f"  RSS not back within {RSS_TARGET_MB} MB of the start after: "
                  f"{', '.join(fat)}")
        if breached:
            print(f"  breached: {', '.join(breached)}")
        if lost:
            print(f"  {lost} committed records lost")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="attacks to run, comma-separated: " + ", ".join(ATTACKS))
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="the time cap of each attack (and of the wait for idle after it)")
    args = parser.parse_args()
    names = list(ATTACKS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in ATTACKS]
        if unknown:
            parser.error(f"unknown attack(s) {', '.join(unknown)}; known: {', '.join(ATTACKS)}")
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as on Ctrl-C

    root = Path(tempfile.mkdtemp(prefix="abuse-bench-"))
    bench = Bench(root / "data", args.seconds)  # the server makes the dir and its files
    bench.temp_dirs.append(root)
    victim, rows = None, []
    try:
        print("preparing: the server creates the data dir, then a 143,800-record run is seeded",
              file=sys.stderr, flush=True)
        bench.start()
        bench.stop()
        bench.seeded = seed_big_run(bench.data_dir)
        bench.start()
        victim = Victim(bench)
        victim.start()
        time.sleep(5)
        end = time.monotonic()
        http, failed_http = victim.window(end - 5, end, "http")
        ping, failed_ping = victim.window(end - 5, end, "ping")
        bench.rss_start = bench.rss()
        print(f"server pid {bench.pid} at {bench.url}, RSS at start {bench.rss_start:.0f} MB; "
              f"victim baseline (5 s, idle): HTTP p50/p99 {percentile(http, .5) * 1e3:.0f} / "
              f"{percentile(http, .99) * 1e3:.0f} ms ({len(http)}, {failed_http} failed), ping "
              f"{percentile(ping, .5) * 1e3:.0f} / {percentile(ping, .99) * 1e3:.0f} ms "
              f"({len(ping)}, {failed_ping} failed)", flush=True)
        for k, name in enumerate(names, 1):
            print(f"[{k}/{len(names)}] {name} …", end=" ", file=sys.stderr, flush=True)
            rows.append(run_attack(bench, victim, name))
            print(f"{rows[-1].seconds:.0f} s", file=sys.stderr, flush=True)
        victim.halt.set()
        victim.join(timeout=15)
        bench.stop()
        lost, checked = lost_records(bench)
        print()
        print_table(rows)
        summarize(rows, lost, checked)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        if rows:
            print_table(rows)
    finally:
        if victim is not None:
            victim.halt.set()
        bench.close()
        left = bench.left_behind()
        print(f"processes left behind: {', '.join(left) if left else 'none'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
