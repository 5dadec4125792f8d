"""``backprop-live``: the command line. One module per subcommand, each with ``add_parser``
(its options and help) and ``main(args) -> exit status``."""

from __future__ import annotations

import argparse
import sys
import warnings
from importlib import metadata

from . import demo, run_file, runs, serve, train, worker
from .settings import SetupError

DESCRIPTION = """\
Watch back-propagation happen: serve the web app, compute a graph file's gradients, or train a
network on the bundled handwritten digits. Runs trained here are kept in the same database as
the web app's (--data-dir, default ./instance) and appear on its Training tab."""
EVENTLET_NOTE = ("note: eventlet (the server's event loop) is deprecated upstream but maintained; "
                 "nothing to do: https://eventlet.readthedocs.io/en/latest/asyncio/migration.html"
                 " (serve --verbose: its warning)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backprop-live", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (serve, run_file, train, runs, demo, worker):
        command.add_parser(commands)
    return parser


def version() -> str:
    """The installed distribution's version (pyproject.toml's, when it was installed)."""
    try:
        return metadata.version("backprop-live")
    except metadata.PackageNotFoundError:
        return "(not installed: pip install -e . gives it a version)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "serve":
        args.notes = _start_eventlet(verbose=args.verbose)
    try:
        return args.main(args)
    except SetupError as exc:  # a bad setting, found by a command that reads them late
        print(f"backprop-live {args.command}: {exc}", file=sys.stderr)
        return 2


def _start_eventlet(verbose: bool) -> list[str]:
    """Only the server's entry point patches the standard library, before the app is imported;
    importing the package (in tests, say) never does. Eventlet warns, in eight lines, that it is
    deprecated: a newcomer gets one line saying what that means here (returned, for serve to
    print once it listens), --verbose the warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import eventlet
    deprecated = [w for w in caught if "deprecated" in str(w.message).lower()]
    for warning in caught if verbose else [w for w in caught if w not in deprecated]:
        warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    eventlet.monkey_patch()
    return [EVENTLET_NOTE] if deprecated and not verbose else []
