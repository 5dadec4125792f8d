"""``backprop-live``: the command line. Each subcommand lives with the code it drives."""

from __future__ import annotations

import argparse
import sys


def _demo(args) -> int:
    """The reference README's first example: its value and its gradients."""
    from engine.examples import reference_expression

    x, y, graph = reference_expression(args.x1, args.x2, args.x3)
    graph.compute_forward()
    graph.back_prop()
    print(f"y = {y.forward:.12g}")
    for xi in x:
        print(f"dy/d{xi.name} = {xi.backward:.12g}")
    return 0


def _serve(args) -> int:
    from .serve import serve
    return serve(args.host, args.port, args.data_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backprop-live", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="print the reference example's values and gradients")
    for i, default in enumerate((0.3, 0.7, 1.4), start=1):
        demo.add_argument(f"--x{i}", type=float, default=default)
    demo.set_defaults(handler=_demo)

    serve = commands.add_parser("serve", help="start the web app (localhost by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    serve.add_argument("--data-dir", default=None,
                       help="SQLite database, secret key and runs (default: ./instance)")
    serve.set_defaults(handler=_serve)

    from engine import train_cli
    from engine.formats import cli as formats_cli
    run = commands.add_parser("run", help="load a graph file, run forward and back-prop")
    formats_cli.add_arguments(run)
    run.set_defaults(handler=formats_cli.main)

    train = commands.add_parser("train", help="train a built-in model on the bundled digits")
    train_cli.add_arguments(train)
    train.set_defaults(handler=train_cli.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        # Only the server's entry point patches the standard library, and before anything else
        # is imported; importing the package (in tests, say) never does.
        import eventlet
        eventlet.monkey_patch()
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
