"""``backprop-live serve``: the web app on eventlet's WSGI server."""

from __future__ import annotations

from . import data_dir


def add_parser(commands) -> None:
    parser = commands.add_parser("serve", help="start the web app (on this computer only, by "
                                               "default)",
                                 description="Start the web app. Open the address it prints.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (0.0.0.0: every network interface)")
    parser.add_argument("--port", type=int, default=5000, help="the port (0 picks a free one)")
    data_dir.add_argument(parser)
    parser.set_defaults(main=main)


def main(args) -> int:
    import eventlet
    import eventlet.wsgi

    from ..app import create_app

    app = create_app({"ASYNC_MODE": "eventlet", "DATA_DIR": str(data_dir.resolve(args.data_dir))})
    listener = eventlet.listen((args.host, args.port))
    bound_host, bound_port = listener.getsockname()[:2]
    # Tests and scripts wait for this exact line (port 0 means: pick one and tell).
    print(f"Backprop Live listening on http://{bound_host}:{bound_port}", flush=True)
    try:
        eventlet.wsgi.server(listener, app, log_output=False)
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["backprop_live"].shutdown()
    return 0
