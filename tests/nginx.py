"""A real nginx for the tests (tests/browser/test_proxy.py, tests/server/test_scaled_proxy.py):
Debian's binary, run from a folder of its own on a free port, stopped by its process group."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.live_server import wait_until


def start(folder: Path, port: int, site: str, main_config: str) -> subprocess.Popen:
    """nginx with ``main_config`` (formatted with ``folder`` and ``user``) including ``site``,
    once it answers on ``port``."""
    executable = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(executable):
        pytest.fail("nginx is not installed: `apt-get install -y nginx` "
                    "(scripts/setup.sh --test does)")
    (folder / "backprop-live.conf").write_text(site)
    # As root, nginx runs its workers as "nobody", who could not write this private folder.
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(main_config.format(folder=folder, user=user))
    process = subprocess.Popen([executable, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                                "-e", str(folder / "error.log")], start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def answering():
        if process.poll() is not None:
            raise AssertionError("nginx exited: " + process.stdout.read()
                                 + (folder / "error.log").read_text())
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return True
        return False
    try:
        wait_until(answering, timeout=30)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
