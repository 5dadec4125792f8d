"""Installed the ordinary way (issue 15): `python -m build`, then the wheel — not editable — in a
fresh virtual environment, served from a folder that has nothing of the repository in it.

The oracles: the page's own HTML (which scripts it names), the engine loading the reference
example in this process, and pyproject.toml read here with tomllib.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from engine.formats import load
from engine.notebook.bundle import FILES as WIDGET_FILES
from tests.live_server import LiveServer, Page
from tests.server.frames import decode

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
SCRIPT = re.compile(r'<script[^>]*\bsrc="([^"]+)"')
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')
WORKER = re.compile(r"""["'](\./[\w.-]+\.js)["']""")  # new URL('./layout-worker.js', …)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,), (sdist,) = out.glob("*.whl"), out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def venv(built, tmp_path_factory) -> Path:
    """A fresh environment with the wheel and its dependencies (from the pip cache or PyPI)."""
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    done = subprocess.run([str(folder / "bin" / "pip"), "install", "-q", str(built["wheel"])],
                          capture_output=True, text=True, timeout=900, env=outside_env(folder),
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


def outside_env(venv: Path) -> dict:
    """The environment of someone who installed it: nothing points at this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "VIRTUAL_ENV": str(venv), "PYTHONPATH": "",
            "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"}


pytestmark = pytest.mark.slow  # builds a wheel, makes a venv, starts servers


def test_the_wheel_and_the_sdist_carry_the_page_and_its_bundle(built):
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = set(wheel.namelist())
        bundle = wheel.read("server/_web/static/dist/main.js")
    for name in ("server/_web/templates/index.html", "server/_web/templates/token.html",
                 "server/_web/static/css/app.css", "server/_web/static/dist/layout-worker.js",
                 "server/_web/examples/reference.expr", "engine/training/data/digits.npz"):
        assert name in names
    assert not any(n.startswith("server/_web/static/js/") for n in names)  # sources: sdist only
    # Building the wheel built the bundle: the checkout's is now the one the wheel carries.
    assert bundle == (ROOT / "static" / "dist" / "main.js").read_bytes()
    # The notebook widget's built files, as package data of engine.notebook.
    with zipfile.ZipFile(built["wheel"]) as wheel:
        for name in WIDGET_FILES:
            assert wheel.read(f"engine/notebook/dist/{name}") == (
                ROOT / "static" / "dist" / name).read_bytes(), name
    with tarfile.open(built["sdist"]) as sdist:
        inside = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for name in ("static/dist/main.js", "static/js/main.js", "templates/index.html", "setup.py",
                 "package-lock.json", "scripts/build-page.mjs", "deploy/nginx.conf"):
        assert name in inside


def test_the_installed_command_gives_pyprojects_version(venv):
    done = subprocess.run([str(venv / "bin" / "backprop-live"), "--version"], capture_output=True,
                          text=True, env=outside_env(venv), timeout=60, check=True)
    assert done.stdout.strip() == f"backprop-live {VERSION}"


def test_served_from_an_unrelated_folder_the_page_its_scripts_and_the_socket_work(venv, tmp_path):
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import server, engine; print(server.__file__, engine.__file__)"],
                           cwd=elsewhere, env=outside_env(venv), capture_output=True, text=True,
                           check=True).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where  # the installed copy runs
    with LiveServer(tmp_path / "data", env=outside_env(venv), cwd=elsewhere,
                    command=(str(venv / "bin" / "backprop-live"),)) as live:
        page = requests.get(live.url + "/", timeout=10)
        assert page.status_code == 200
        named = SCRIPT.findall(page.text) + STYLESHEET.findall(page.text)
        assert any(u.endswith("/dist/main.js") for u in named), named
        workers = []
        for url in named:
            answer = requests.get(urljoin(live.url + "/", url), timeout=10)
            assert answer.status_code == 200, url
            assert len(answer.content) > 1000, url
            if url.endswith(".js"):  # the scripts it starts in turn (the layout worker)
                workers += [urljoin(live.url + url, w) for w in WORKER.findall(answer.text)]
        assert any(w.endswith("/dist/layout-worker.js") for w in workers), workers
        for url in workers:
            answer = requests.get(url, timeout=10)
            assert answer.status_code == 200 and len(answer.content) > 1000, url
        frames = reference_trace(live.url)
    assert_equal_to_the_engine(frames)


def reference_trace(url: str) -> list[dict]:
    page = Page(url).connect()
    try:
        ack = page.call("trace_graph", {"graph": "example:reference.expr", "mode": "both"})
        assert ack["ok"], ack
        page.wait_for(lambda events: any(n == "trace_done" for n, _ in events))
        return [decode(data) for name, data in page.events if name == "trace"]
    finally:
        page.close()


def assert_equal_to_the_engine(frames: list[dict]) -> None:
    loaded = load((ROOT / "examples" / "reference.expr").read_bytes(), filename="reference.expr")
    loaded.compute()
    program = loaded.graph.program()
    forward = [f for f in frames if f["phase"] == "forward"]
    assert [i for f in forward for i in f["ids"]] == list(range(len(program.nodes)))
    assert [v for f in forward for v in f["values"]] == program.values.tolist()
    grads = {i: g for f in frames if f["phase"] == "backward"
             for i, g in zip(f["ids"], f["grads"], strict=True)}
    assert [grads[i] for i in range(len(program.nodes))] == program.grads.tolist()


# In the fresh venv, from an unrelated folder: the installed engine.notebook makes a widget of
# the reference expression and says where its bundle came from.
MAKE_WIDGET = """
import json
import engine
from engine.examples import reference_expression
from engine.notebook import GraphWidget, bundle
_, _, g = reference_expression()
w = GraphWidget(g)
print(json.dumps({"engine": engine.__file__, "checkout_dist": bundle.SOURCE_DIST.exists(),
                  "read": {name: bundle.read(name) for name in bundle.FILES},
                  "traits": {"widget.js": w._esm, "widget.css": w._css,
                             "layout-worker.js": w._worker}}))
"""
SHOW_WITHOUT_EXTRA = """
import engine
from engine.examples import reference_expression
engine.show(reference_expression()[2])
"""


def test_the_notebook_extra_installed_from_the_wheel_carries_the_widgets_bundle(venv, built,
                                                                               tmp_path):
    python = str(venv / "bin" / "python")
    # Without the extra, engine.show names it (the core imports nothing of anywidget).
    done = subprocess.run([python, "-c", SHOW_WITHOUT_EXTRA], cwd=tmp_path, env=outside_env(venv),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "pip install 'backprop-live[notebook]'" in done.stderr, done.stderr[-2000:]
    # With it (pip install 'backprop-live[notebook]', here from the wheel): the widget's files
    # come from the installed package, equal to the ones `npm run build` wrote for this wheel.
    extra = f"{built['wheel']}[notebook]"
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", extra], capture_output=True,
                          text=True, timeout=900, env=outside_env(venv), check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    done = subprocess.run([python, "-c", MAKE_WIDGET], cwd=tmp_path, env=outside_env(venv),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    shown = json.loads(done.stdout)
    assert Path(shown["engine"]).is_relative_to(venv)  # the installed copy, not this checkout
    assert not shown["checkout_dist"]  # so no static/dist/ to fall back on
    assert sorted(shown["read"]) == sorted(WIDGET_FILES)
    for name in WIDGET_FILES:
        built_file = (ROOT / "static" / "dist" / name).read_text("utf-8")
        assert len(built_file) > 1000, name
        assert shown["read"][name] == built_file, name
        assert shown["traits"][name] == built_file, name

