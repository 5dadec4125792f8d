"""A real JupyterLab in a subprocess, for the notebook widget's browser tests.

It serves a temporary root folder on loopback, on a free port, with a token; its Jupyter
config, data, runtime and IPython folders are inside the temporary folder too, so nothing from
the user's home (settings, workspaces, extensions, kernels) takes part. Kernels it starts import
this checkout's ``engine`` (PYTHONPATH). It runs in its own process group, and is stopped by
killing that group (the server and every kernel it started).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
from pathlib import Path

import requests

from tests.live_server import stop_group, wait_until

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(home: Path) -> dict[str, str]:
    """The environment for Jupyter processes: every Jupyter folder under ``home``."""
    dirs = {name: home / name for name in ("config", "data", "runtime", "ipython")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]), "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "IPYTHONDIR": str(dirs["ipython"]), "JUPYTER_PLATFORM_DIRS": "1",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "PYTHONUNBUFFERED": "1"}


# JupyterLab's (and Notebook 7's) user settings: no "get notified about Jupyter news?" prompt
# over the notebook (nor a fetch for it), and the notebook's own kernel starts without a dialog.
SETTINGS = {
    "apputils-extension/notification": '{"fetchNews": "false", "checkForUpdates": false}',
    "notebook-extension/tracker": '{"autoStartDefaultKernel": true}',
}


def write_settings(user_settings: Path) -> None:
    for name, text in SETTINGS.items():
        path = user_settings / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


class JupyterLab:
    def __init__(self, root_dir: Path, home: Path, timeout: float = 90):
        self.root_dir, self.home, self.timeout = Path(root_dir), Path(home), timeout
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.output: list[str] = []

    def start(self) -> JupyterLab:
        env = isolated_env(self.home)
        write_settings(Path(env["JUPYTER_CONFIG_DIR"]) / "lab" / "user-settings")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
             f"--port={self.port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             "--allow-root"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=env, cwd=self.root_dir, start_new_session=True)
        threading.Thread(target=lambda: self.output.extend(self.process.stdout),
                         daemon=True).start()
        try:
            wait_until(self._ready, self.timeout)
        except Exception:
            self.stop()
            raise RuntimeError("JupyterLab did not start:\n" + "".join(self.output)) from None
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError("JupyterLab exited:\n" + "".join(self.output))
        try:
            answer = requests.get(f"{self.url}/api/status", params={"token": self.token},
                                  timeout=5)
        except requests.ConnectionError:
            return False
        return answer.status_code == 200

    def link(self, path: str) -> str:
        return f"{self.url}/{path}?token={self.token}"

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
