"""Serving behind a reverse proxy: under a path prefix, and trusting the proxy's X-Forwarded-*.

- ``BASE_URL`` ("/backprop/"): every URL — the page, the API, static files, Socket.IO — lives
  under it, as when nginx passes ``/backprop/…`` through unchanged (docs/deploy.md). The app
  then sees the prefix as its script root, so ``url_for`` and the page's one base include it;
  anything outside it answers 404.
- ``TRUSTED_PROXIES`` (0: none): how many proxies in front set ``X-Forwarded-For/Proto/Host/
  Port/Prefix`` (Werkzeug's ProxyFix). Only then is the visitor's address the forwarded one —
  per-address budgets need it, since behind a proxy every request comes from the proxy — and
  only then are those headers believed at all (a visitor could write them).
"""

from __future__ import annotations

import re

from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")


def base_url(value: str) -> str:
    """"/backprop/" from "backprop", "/backprop" or "/backprop/"; ValueError naming BASE_URL."""
    segments = [s for s in str(value).strip().split("/") if s]
    if not all(SEGMENT.fullmatch(s) and s not in (".", "..") for s in segments):
        raise ValueError(f"BASE_URL must be a path like /backprop/ (letters, digits, . _ ~ -), "
                         f"not {value!r}")
    return "/" + "".join(s + "/" for s in segments)


def wrap(wsgi_app, base: str, trusted_proxies: int):
    """The app's WSGI callable mounted at ``base``, behind ``trusted_proxies`` proxies."""
    if base != "/":
        wsgi_app = DispatcherMiddleware(NotFound(), {base.rstrip("/"): wsgi_app})
    if trusted_proxies:
        n = trusted_proxies
        wsgi_app = ProxyFix(wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
    return wsgi_app
