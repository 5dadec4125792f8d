"""Who may use the server, and what a browser is told to protect it with.

- **Access token** (``ACCESS_TOKEN``): a server bound beyond loopback asks every visitor for it,
  as Jupyter does. ``/?token=…`` admits a browser (its signed session remembers it) and drops the
  token from the address bar; without it, the page is a small form asking for it, the API answers
  401, and a Socket.IO connection is refused.
- **Host names** (``ALLOWED_HOSTS``): requests naming another Host are refused, so a page on
  another site cannot reach the server through a DNS name it controls.
- **Cross-site requests**: state-changing HTTP requests whose Origin (or Referer) is another site
  are refused, as Socket.IO refuses foreign origins; the session cookie is ``SameSite=Lax``, and
  ``Secure`` when the request came over HTTPS.
- **Headers**: a Content-Security-Policy without inline script and ``frame-ancestors 'none'``,
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy``. Styles come from the server's files,
  plus the ``<style>`` elements the page's editor (CodeMirror) writes: each page carries a fresh
  nonce for them (``style_nonce`` in templates, in ``style-src``) — never ``'unsafe-inline'``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlencode, urlsplit

from flask import g, jsonify, redirect, render_template, request, session
from flask.sessions import SecureCookieSessionInterface

from .limits import LimitError

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


class SessionCookies(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS, and its path is the
    app's (behind a proxy, its prefix: other apps on that host never see it)."""

    def get_cookie_secure(self, app) -> bool:
        return bool(super().get_cookie_secure(app) or request.is_secure)

    def get_cookie_path(self, app) -> str:
        return app.config["SESSION_COOKIE_PATH"] or request.script_root + "/"


def install(app, services) -> None:
    token, allowed = app.config.get("ACCESS_TOKEN"), app.config.get("ALLOWED_HOSTS")
    app.session_interface = SessionCookies()
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:  # Flask's default is None: set it
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"

    @app.before_request
    def guard():
        if not host_allowed(allowed, request.host):
            return jsonify(error={"message": f"this server does not answer to the host "
                                  f"{host_name(request.host)!r} (ALLOWED_HOSTS)"}), 400
        if request.method in CHANGES and not same_site(request):
            return jsonify(error={"message": "a request from another site was refused"}), 403
        public = request.path == "/healthz" or request.path.startswith("/static/")
        if token and not public:
            if hmac.compare_digest(request.args.get("token", ""), token):
                session["admitted"] = fingerprint(token)
                return redirect(without_token(request))
            if not admitted(token):
                if request.path.startswith("/api/"):
                    return jsonify(error={"message": "this server needs its access token: "
                                          "open the address the teacher gave"}), 401
                return render_template("token.html"), 401
        if "workspace" not in session and not public:  # liveness and files need none
            try:
                session["workspace"] = services.workspaces.new(request.remote_addr or "")
            except LimitError as exc:
                return jsonify(error={"message": str(exc), "limit": exc.limit}), 429
            session.permanent = True
        return None

    @app.context_processor
    def nonce():
        # Every rendered page gets one; its CSP then allows that page's <style> elements.
        if "style_nonce" not in g:
            g.style_nonce = secrets.token_urlsafe(16)
        return {"style_nonce": g.style_nonce}

    @app.after_request
    def protect(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if "style_nonce" in g:
            response.headers["Content-Security-Policy"] = CSP.replace(
                "style-src 'self'", f"style-src 'self' 'nonce-{g.style_nonce}'")
        return response


def admitted(token: str | None) -> bool:
    """Whether this browser (or socket, which carries the page's cookie) gave the token."""
    return not token or hmac.compare_digest(session.get("admitted", ""), fingerprint(token))


def host_allowed(allowed_hosts, host: str) -> bool:
    return not allowed_hosts or host_name(host) in {h.lower() for h in allowed_hosts}


def fingerprint(token: str) -> str:
    """What the session keeps: not the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def host_name(host: str) -> str:
    """"[::1]:5000" → "::1", "Example.org:80" → "example.org"."""
    host = host.lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def same_site(req) -> bool:
    """Whether a request comes from this server's own pages — or from no page at all (a script,
    curl: no Origin, no Referer). An opaque origin ("null", a sandboxed frame) is another site."""
    source = req.headers.get("Origin") or req.headers.get("Referer")
    if not source:
        return True
    return source != "null" and urlsplit(source).netloc.lower() == req.host.lower()


def without_token(req) -> str:
    rest = [(k, v) for k, v in req.args.items(multi=True) if k != "token"]
    return req.script_root + req.path + (f"?{urlencode(rest)}" if rest else "")
