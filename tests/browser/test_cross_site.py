"""Another site, in the same browser, cannot use the visitor's session (issue 17): a form or a
script on another origin plants no graph, and the page will not be framed."""

from __future__ import annotations

import http.server
import threading

import pytest

EVIL_PAGE = """<!doctype html><html><body>
<form id="as-json" method="POST" enctype="text/plain" action="{target}/api/graphs">
  <input name='{{"source": "planted = input(1)\\noutput planted\\n", "pad": "' value='"}}'>
</form>
<iframe id="framed" src="{target}/" title="framed"></iframe>
<script>
  window.byScript = (async () => {{
    const form = new FormData();
    form.append('file', new Blob(['planted2 = input(2)\\noutput planted2\\n']), 'p.expr');
    try {{
      const r = await fetch('{target}/api/graphs', {{method: 'POST', body: form,
                                                   credentials: 'include', mode: 'no-cors'}});
      return r.type;
    }} catch (e) {{ return 'refused: ' + e; }}
  }})();
</script>
</body></html>"""


@pytest.fixture
def evil_site(server):
    """A page on another origin (another loopback port) aimed at the server under test."""
    body = EVIL_PAGE.format(target=server.url).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def own_graphs(page) -> list:
    return page.request.get(f"{page.base_url}/api/graphs").json()["graphs"]


def test_another_site_plants_no_graph_and_cannot_frame_the_page(page, console, evil_site):
    page.goto(page.base_url + "/")  # the visitor has a session
    page.wait_for_selector("body[data-ready=true]")
    assert own_graphs(page) == []
    console.allow(r"frame-ancestors|Refused to frame|refused to connect")  # the point
    console.allow(r"Failed to load resource.*(403|404)")  # refused posts, a bare error page
    page.goto(evil_site)
    assert page.evaluate("window.byScript") == "opaque"  # sent; its answer hidden from it
    framed = page.frame_locator("#framed")
    assert framed.locator("body[data-ready=true]").count() == 0  # the page is not in the frame
    with page.expect_navigation():
        page.evaluate("document.getElementById('as-json').submit()")
    assert "cross-site" in page.content() or "another site" in page.content()
    page.goto(page.base_url + "/")  # back home: the visitor's workspace is as it was
    page.wait_for_selector("body[data-ready=true]")
    assert own_graphs(page) == []
