"""Every code block of README.md, CONTRIBUTING.md and docs/*.md runs, so the docs cannot drift.

- ```python: run as a script (a fresh interpreter, in the repository).
- ```bash: each command line runs in bash; a command that starts the web app (`serve`) runs
  until it says it is listening (on a free port), then is stopped.
- ```expr, and ```json naming a Backprop Live format: loaded, computed forward and back.
  Other ```json: must parse.
- A block right after `<!-- not run as a test: reason -->` is not collected; plain ``` blocks
  (no language) are output or syntax, not code.

Every command runs with the data dir in a temporary folder (`$BACKPROP_LIVE_DATA`), one per
document, its blocks in order — so a doc's `train` and later `runs list` see each other — and
nothing touches ./instance.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from engine.formats import load
from tests.live_server import LISTENING

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
NOT_RUN = re.compile(r"<!-- not run as a test: [^>]+-->\s*$")
RUNNABLE = {"python", "bash", "expr", "json"}


def blocks():
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            language, code = match.group(1), match.group(2)
            if language not in RUNNABLE or NOT_RUN.search(text[:match.start()]):
                continue
            line = text.count("\n", 0, match.start()) + 1
            yield pytest.param(path.name, language, code, id=f"{path.relative_to(ROOT)}:{line}")


@pytest.fixture(scope="module")
def data_dirs(tmp_path_factory):
    return {path.name: tmp_path_factory.mktemp(path.stem) for path in DOCS}


@pytest.mark.slow
@pytest.mark.parametrize("document, language, code", list(blocks()))
def test_code_block_runs(document, language, code, data_dirs):
    environment = {**os.environ, "BACKPROP_LIVE_DATA": str(data_dirs[document]),
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    if language == "python":
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,
                             capture_output=True, text=True, timeout=300, check=False)
        assert out.returncode == 0, out.stderr
    elif language == "bash":
        for command in commands(code):
            run_command(command, environment)
    elif language == "expr":
        assert load(code, "expr").compute().outputs
    else:
        document = json.loads(code)
        if str(document.get("format", "")).startswith("backprop-live/"):
            assert load(code).compute().outputs


def commands(code: str) -> list[str]:
    """The block's command lines, without comments or blank lines."""
    lines = [shlex.split(line, comments=True) for line in code.splitlines()]
    return [shlex.join(words) for words in lines if words]


def run_command(command: str, environment: dict) -> None:
    if "serve" in shlex.split(command):
        serve_until_listening(command + " --port 0", environment)
        return
    out = subprocess.run(["bash", "-c", command], cwd=ROOT, env=environment,
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, f"{command}\n{out.stdout}\n{out.stderr}"


def serve_until_listening(command: str, environment: dict) -> None:
    server = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=environment,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        seen = []
        for line in server.stdout:  # ends when the server exits
            seen.append(line)
            if LISTENING.search(line):
                break
        assert any(LISTENING.search(line) for line in seen), "".join(seen)
    finally:
        os.killpg(server.pid, 9)
        server.wait()
