"""Behind a reverse proxy (issue 15): the app under a path prefix, and the X-Forwarded-* headers
of a trusted proxy — believed only when the proxy is trusted. (nginx itself, with chromium:
tests/browser/test_proxy.py.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import socketio

from server.cli import build_parser
from server.cli.serve import SetupError, _settings
from server.web_files import bundle_problem
from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
URLS = re.compile(r'(?:src|href)="([^"]+)"')


def test_under_a_base_url_every_url_of_the_page_and_the_api_is_under_it(make_app):
    app = make_app(BASE_URL="/backprop/")
    client = app.test_client()
    page = client.get("/backprop/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="backprop-live-base" content="/backprop/"' in html
    linked = [u for u in URLS.findall(html) if not u.startswith("data:")]
    assert linked and all(u.startswith("/backprop/static/") for u in linked), linked
    for url in linked:
        assert client.get(url).status_code == 200, url
    assert client.get("/backprop/api/examples").status_code == 200
    assert client.get("/backprop/healthz").get_json()["ok"] is True
    assert client.get("/").status_code == 404  # nothing outside the prefix
    assert client.get("/api/examples").status_code == 404
    assert client.get("/backprop").status_code in (301, 308)
    cookie = client.get_cookie("session", path="/backprop/")
    assert cookie is not None  # the session is the prefix's, not the whole host's

    uploaded = client.post("/backprop/api/graphs", json={"source": "x = input(2)\noutput x"})
    assert uploaded.status_code == 201
    shared = client.post(f"/backprop/api/graphs/{uploaded.get_json()['id']}/share").get_json()
    assert shared["url"] == f"/backprop/?shared={shared['token']}"
    assert client.get(shared["url"]).status_code == 200


def test_the_token_redirect_stays_under_the_prefix(make_app):
    app = make_app(BASE_URL="/backprop/", ACCESS_TOKEN="s3cret")
    client = app.test_client()
    assert client.get("/backprop/api/examples").status_code == 401
    admitted = client.get("/backprop/?token=s3cret&graph=example:reference.expr")
    assert admitted.status_code == 302
    assert admitted.headers["Location"] == "/backprop/?graph=example%3Areference.expr"
    assert client.get("/backprop/api/examples").status_code == 200


@pytest.mark.parametrize("value, expected", [("backprop", "/backprop/"), ("/a/b", "/a/b/"),
                                             ("/", "/")])
def test_base_url_from_the_command_line_the_set_option_and_the_environment(
        value, expected, monkeypatch):
    monkeypatch.delenv("BACKPROP_LIVE_BASE_URL", raising=False)
    parse = build_parser().parse_args
    assert _settings(parse(["serve", "--base-url", value]))["BASE_URL"] == expected
    assert _settings(parse(["serve", "--set", f"BASE_URL={value}"]))["BASE_URL"] == expected
    monkeypatch.setenv("BACKPROP_LIVE_BASE_URL", value)
    assert _settings(parse(["serve"]))["BASE_URL"] == expected
    monkeypatch.setenv("BACKPROP_LIVE_TRUSTED_PROXIES", "2")
    assert _settings(parse(["serve"]))["TRUSTED_PROXIES"] == 2
    assert _settings(parse(["serve", "--trusted-proxies", "1"]))["TRUSTED_PROXIES"] == 1


@pytest.mark.parametrize("value", ["/a b/", "/../etc/", "/x?y=1", "http://host/"])
def test_a_bad_base_url_is_refused_naming_the_setting(value):
    with pytest.raises(SetupError, match="BASE_URL"):
        _settings(build_parser().parse_args(["serve", "--base-url", value]))


def forwarded(address: str, **more) -> dict:
    return {"X-Forwarded-For": address, **more}


def test_per_address_budgets_count_the_forwarded_address_only_from_a_trusted_proxy(make_app):
    trusted = make_app(MAX_NEW_WORKSPACES_PER_MINUTE=2, TRUSTED_PROXIES=1)
    codes = [trusted.test_client().get("/api/examples", headers=forwarded("10.0.0.1")).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]  # one visitor's budget
    other = trusted.test_client().get("/api/examples", headers=forwarded("10.0.0.2"))
    assert other.status_code == 200  # another visitor behind the same proxy has their own

    # Untrusted, the header is the visitor's word: changing it buys no new budget.
    untrusted = make_app(MAX_NEW_WORKSPACES_PER_MINUTE=2)
    codes = [untrusted.test_client().get("/api/examples",
                                         headers=forwarded(f"10.0.0.{i}")).status_code
             for i in range(3)]
    assert codes == [200, 200, 429]


def test_the_cross_site_check_uses_the_host_the_trusted_proxy_was_asked_for(make_app):
    headers = {"Origin": "https://uni.example", **forwarded(
        "203.0.113.9", **{"X-Forwarded-Host": "uni.example", "X-Forwarded-Proto": "https"})}
    body = {"source": "x = input(2)\noutput x"}
    trusted = make_app(TRUSTED_PROXIES=1).test_client()
    assert trusted.post("/api/graphs", json=body, headers=headers).status_code == 201
    untrusted = make_app().test_client()
    assert untrusted.post("/api/graphs", json=body, headers=headers).status_code == 403


def test_a_proxy_that_strips_the_prefix_names_it_in_x_forwarded_prefix(make_app):
    trusted = make_app(TRUSTED_PROXIES=1).test_client()
    page = trusted.get("/", headers={"X-Forwarded-Prefix": "/course"}).get_data(as_text=True)
    assert 'content="/course/"' in page and 'src="/course/static/dist/main.js"' in page
    untrusted = make_app().test_client()
    page = untrusted.get("/", headers={"X-Forwarded-Prefix": "/course"}).get_data(as_text=True)
    assert 'content="/"' in page and 'src="/static/dist/main.js"' in page


# -- the bundle of a source checkout ---------------------------------------------------------------
def checkout(tmp_path: Path) -> Path:
    for name in ("static/js/main.js", "static/js/shared/api.js", "scripts/build-page.mjs",
                 "package-lock.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("//")
    return tmp_path


def test_a_missing_bundle_says_what_to_run(tmp_path):
    problem = bundle_problem(checkout(tmp_path))
    assert "missing" in problem and "npm run build" in problem and "\n" not in problem


def test_a_bundle_older_than_a_source_names_it_and_a_fresh_one_is_fine(tmp_path):
    root = checkout(tmp_path)
    (root / "static/dist").mkdir()
    for name in ("main.js", "layout-worker.js"):
        (root / "static/dist" / name).write_text("//")
    sources = [p for p in root.rglob("*") if p.is_file() and "dist" not in p.parts]
    for path in sources:
        os.utime(path, (1_000_000, 1_000_000))
    assert bundle_problem(root) is None
    os.utime(root / "static/js/shared/api.js", (2_000_000_000, 2_000_000_000))
    problem = bundle_problem(root)
    assert "older than static/js/shared/api.js" in problem and "npm run build" in problem


# -- the command line --------------------------------------------------------------------------
def test_version_is_pyprojects():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = subprocess.run([sys.executable, "-m", "server", "--version"], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == f"backprop-live {version}"


def eventlets_own_warning() -> str:
    """What eventlet says when imported, asked of eventlet itself in a fresh interpreter."""
    code = ("import warnings; warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as w:\n import eventlet\n"
            "print(str(w[0].message).strip())")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60).stdout.strip()


@pytest.mark.slow
def test_start_says_one_short_line_about_eventlet_and_verbose_the_whole_warning(tmp_path):
    warning = eventlets_own_warning()
    assert warning.count("\n") >= 3  # what a newcomer used to see at every start
    with LiveServer(tmp_path / "quiet") as quiet:
        quiet.line_matching("(?i)eventlet")  # printed once it listens
        said = "".join(quiet.output)
    lines = [line for line in said.splitlines() if "eventlet" in line.lower()]
    assert len(lines) == 1 and len(lines[0]) < 200 and "https://" in lines[0], said
    assert warning.splitlines()[0] not in said
    with LiveServer(tmp_path / "verbose", args=("--verbose",)) as verbose:
        verbose.line_matching("listening on")
        assert all(line in "".join(verbose.output) for line in warning.splitlines())


@pytest.mark.slow
def test_sockets_without_a_cookie_count_the_forwarded_address_too(tmp_path):
    args = ("--trusted-proxies", "1", "--set", "MAX_NEW_WORKSPACES_PER_MINUTE=2")
    with LiveServer(tmp_path, args=args) as live:
        def connects(address: str) -> bool:
            client = socketio.Client(reconnection=False)
            try:
                client.connect(live.url, headers=forwarded(address), transports=["websocket"],
                               wait_timeout=10)
            except socketio.exceptions.ConnectionError:
                return False
            client.disconnect()
            return True
        assert [connects("10.0.0.1") for _ in range(3)] == [True, True, False]
        assert connects("10.0.0.2")


@pytest.mark.slow
def test_behind_a_proxy_without_a_token_serve_warns_and_with_one_it_does_not(tmp_path):
    with LiveServer(tmp_path / "open", args=("--trusted-proxies", "1")) as live:
        assert "--token" in live.line_matching(r"WARNING: behind a proxy .*").group(0)
    with LiveServer(tmp_path / "closed", args=("--trusted-proxies", "1", "--token", "t0k3n"),
                    ) as live:
        live.line_matching("(?i)eventlet")  # the last line it prints at start
        assert not any("WARNING" in line for line in live.output)
