"""``backprop-live``: the command line. One module per subcommand, each with ``add_parser``
(its options and help) and ``main(args) -> exit status``."""

from __future__ import annotations

import argparse
import sys
import warnings

from . import demo, run_file, runs, serve, train

DESCRIPTION = """\
Watch back-propagation happen: serve the web app, compute a graph file's gradients, or train a
network on the bundled handwritten digits. Runs trained here are kept in the same database as
the web app's (--data-dir, default ./instance) and appear on its Training tab."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backprop-live", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (serve, run_file, train, runs, demo):
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        # Only the server's entry point patches the standard library, and before anything else
        # is imported; importing the package (in tests, say) never does. Eventlet's notice that
        # it is deprecated is for developers (docs/deploy notes it), not for every start.
        warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
        import eventlet
        eventlet.monkey_patch()
    args = build_parser().parse_args(argv)
    return args.main(args)
