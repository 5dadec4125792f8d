"""The server's entry point: eventlet's WSGI server on a socket bound before we say so."""

from __future__ import annotations

import sys


def serve(host: str, port: int, data_dir: str | None) -> int:
    import eventlet
    import eventlet.wsgi

    from .app import create_app

    app, _socketio = create_app({"ASYNC_MODE": "eventlet", "DATA_DIR": data_dir})
    listener = eventlet.listen((host, port))
    bound_host, bound_port = listener.getsockname()[:2]
    # Tests and scripts wait for this exact line (port 0 means: pick one and tell).
    print(f"Backprop Live listening on http://{bound_host}:{bound_port}", flush=True)
    try:
        eventlet.wsgi.server(listener, app, log_output=False)
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["backprop_live"].jobs.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(serve("127.0.0.1", 0, None))
