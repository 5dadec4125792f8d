"""The page's editor (CodeMirror) writes <style> elements; the page's CSP allows exactly those,
by a nonce that is new on every page and is never 'unsafe-inline'."""

from __future__ import annotations

import re

NONCE_META = re.compile(r'<meta name="style-nonce" content="([^"]+)">')


def style_src(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(d for d in policy.split("; ") if d.startswith("style-src "))


def test_each_page_allows_its_own_style_nonce_and_nothing_inline(client):
    nonces = []
    for _ in range(2):
        page = client.get("/")
        assert page.status_code == 200
        match = NONCE_META.search(page.get_data(as_text=True))
        assert match, "the page carries its style nonce"
        nonce = match.group(1)
        assert len(nonce) >= 16
        assert style_src(page) == f"style-src 'self' 'nonce-{nonce}'"
        assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]  # a new one per page: an old page's nonce opens nothing


def test_answers_without_a_page_allow_no_inline_style(client):
    for path in ("/api/examples", "/static/css/app.css", "/healthz"):
        assert style_src(client.get(path)) == "style-src 'self'"
