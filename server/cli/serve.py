"""``backprop-live serve``: the web app on eventlet's WSGI server.

Bound to loopback (the default) it is this computer's alone. Bound beyond it (``--host
0.0.0.0`` for a classroom) every visitor needs an access token, generated at start and printed
as a ready-to-open address, as Jupyter does; ``--no-token`` opens it to anyone who can reach it.
One server per data dir: a second one says which process holds it and exits with status 2.
"""

from __future__ import annotations

import fcntl
import gc
import ipaddress
import os
import secrets
import socket
import sys
from pathlib import Path

from . import data_dir, settings
from .settings import SetupError

EXIT_BAD_SETUP = 2


def listen(host: str, port: int):
    """The server's listening socket. Answers with binary attachments (a digit's maps) go out
    as several small WebSocket frames: with Nagle's algorithm each after the first waited for
    the page's delayed ACK, 40 ms on Linux; TCP_NODELAY sends them at once. Accepted
    connections inherit it from the listener."""
    import eventlet

    listener = eventlet.listen((host, port))
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "serve", help="start the web app (on this computer only, by default)",
        description="Start the web app. Open the address it prints. Settings and budgets "
                    "(docs/api.md) come from a flag (--set NAME=VALUE), the environment "
                    "(BACKPROP_LIVE_NAME=VALUE) or a TOML file (--config), in that order.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (0.0.0.0: every network interface, "
                             "which asks visitors for the access token)")
    parser.add_argument("--port", type=int, default=5000, help="the port (0 picks a free one)")
    data_dir.add_argument(parser)
    parser.add_argument("--token", default=os.environ.get("BACKPROP_LIVE_TOKEN"),
                        help="the access token visitors give (default: a new one at each start "
                             "when bound beyond loopback; $BACKPROP_LIVE_TOKEN)")
    parser.add_argument("--no-token", action="store_true",
                        help="no access token even beyond loopback: anyone who can reach the "
                             "server uses it (a warning is printed)")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="a host name visitors use to reach it (repeat for more; default "
                             "when bound beyond loopback: this computer's names and addresses)")
    settings.add_arguments(parser)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a budget or setting, e.g. --set MAX_TRAINING_JOBS=8")
    parser.add_argument("--verbose", action="store_true",
                        help="print the warnings of the libraries underneath in full")
    parser.set_defaults(main=main)


def main(args) -> int:
    folder = data_dir.resolve(args.data_dir)
    try:
        given = _settings(args)
        _private_folder(folder)
        lock = _lock(folder, shared=bool(given.get("JOBS")))
    except SetupError as exc:
        print(f"backprop-live serve: {exc}", file=sys.stderr)
        return EXIT_BAD_SETUP
    import eventlet
    import eventlet.wsgi
    from eventlet import tpool

    from ..app import DEFAULTS, create_app
    from ..memory import few_arenas
    from ..store import StorageError

    few_arenas()
    # The CPU pool's calls run in eventlet's thread pool: a few threads, not its default 20.
    tpool.set_num_threads(given.get("MAX_CPU_JOBS", DEFAULTS["MAX_CPU_JOBS"]) + 2)

    try:
        app = create_app({"ASYNC_MODE": "eventlet", "DATA_DIR": str(folder), **given})
        listener = listen(args.host, args.port)
    except (StorageError, OSError) as exc:
        print(f"backprop-live serve: {exc}", file=sys.stderr)
        return EXIT_BAD_SETUP
    bound_host, bound_port = listener.getsockname()[:2]
    # The event loop shares the interpreter lock with the CPU pool's threads: asking for it back
    # every millisecond (not Python's 5 ms) keeps pings and pages quick while they compute; and
    # the cyclic collector, whose full passes over a big graph being built hold the lock for
    # ~100 ms, runs rarely (server/memory.py collects when the pool is idle).
    sys.setswitchinterval(0.001)
    gc.freeze()  # what start-up made lives as long as the server: never scan it again
    gc.set_threshold(20_000, 50, 1000)
    base = app.config["BASE_URL"]
    _announce(args.host, bound_host, bound_port, base, given.get("ACCESS_TOKEN"),
              args.no_token)
    from ..app import WEB

    if int(app.config["TRUSTED_PROXIES"]) and not app.config["ACCESS_TOKEN"]:
        # On loopback no token is made: behind a proxy, everyone the proxy serves reaches it.
        print("WARNING: behind a proxy (TRUSTED_PROXIES) without an access token: anyone who "
              "reaches the proxy uses this server; give --token (docs/deploy.md)",
              file=sys.stderr, flush=True)
    for note in [*getattr(args, "notes", []), WEB.bundle_problem()]:
        if note:
            print(note, file=sys.stderr, flush=True)
    try:
        eventlet.wsgi.server(listener, app, log_output=False)
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["backprop_live"].shutdown()
        lock.close()
    return 0


def _settings(args) -> dict:
    """create_app's configuration: flags, the environment, the config file (server/cli/
    settings.py), then --token and the host."""
    from ..app import DEFAULTS

    given = settings.resolve(args, DEFAULTS)
    if not _loopback(args.host):
        if not args.no_token:
            # 11 characters (64 bits): short enough to write on a board, far too many to guess
            given["ACCESS_TOKEN"] = args.token or secrets.token_urlsafe(8)
        given["ALLOWED_HOSTS"] = args.allowed_host or _local_names(args.host)
    elif args.token:
        given["ACCESS_TOKEN"] = args.token
    if args.allowed_host:
        given["ALLOWED_HOSTS"] = args.allowed_host
    return given


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _local_names(host: str) -> list[str]:
    """The names a visitor may use for this computer: its host names and their addresses, the
    address it is bound to, and loopback's."""
    names = {"localhost", "127.0.0.1", "::1", socket.gethostname(), socket.getfqdn()}
    if host not in ("0.0.0.0", "::", ""):
        names.add(host)
    for name in list(names):
        try:
            names.update(info[4][0] for info in socket.getaddrinfo(name, None))
        except OSError:
            continue
    return sorted(n.lower() for n in names if n)


def _private_folder(folder: Path) -> None:
    """The data dir, made if missing, private to this user (0700)."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
        probe = folder / ".writable"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise SetupError(f"the data dir {folder} cannot be used: {exc.strerror} (choose "
                         "another with --data-dir)") from None


def _lock(folder: Path, shared: bool = False):
    """Hold the data dir's lock file for as long as the server runs: alone, or (``shared``,
    with --jobs: runs live on the queue's workers, not in a web process) beside other web
    processes that share it too."""
    path = folder / "server.lock"
    handle = open(path, "a+")  # noqa: SIM115 - held open until the server stops
    try:
        fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = ", ".join(handle.read().split()) or "another process"
        handle.close()
        how = "a server without --jobs" if shared else "another server"
        raise SetupError(f"{how} (process {holder}) already uses the data dir "
                         f"{folder}; stop it, or give this one another --data-dir") from None
    if not shared:
        handle.seek(0)
        handle.truncate()
    handle.write(f"{os.getpid()}\n" if shared else str(os.getpid()))
    handle.flush()
    return handle


def _announce(host: str, bound_host: str, port: int, base: str, token: str | None,
              open_to_all: bool):
    # Tests and scripts wait for this exact line (port 0 means: pick one and tell).
    print(f"Backprop Live listening on http://{bound_host}:{port}{base}", flush=True)
    if _loopback(host):
        return
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    if token:
        print(f"Open http://{shown}:{port}{base}?token={token}\n"
              f"  or http://{shown}:{port}{base} and give the access token: {token}", flush=True)
    elif open_to_all:
        print("WARNING: --no-token: anyone who can reach this computer on the network can use "
              "this server, its training slots and its storage", file=sys.stderr, flush=True)
