"""``backprop-live run FILE [--json]``: load a graph definition, run it, print what came out.

Prints each output's value and each input's gradient (d(sum of outputs)/d(input)), by the name
the page shows (a micrograd label, else the variable's name); with ``--json``, exactly one JSON
object ``{"outputs": {...}, "gradients": {...}}`` on stdout. Notes (what a micrograd paste has
that is accepted and ignored: its import, print lines) go to stderr.
Whatever is wrong with the file (missing, too big, not UTF-8, invalid, or a value outside an
operator's domain) is printed to stderr as "location: message" lines, with exit status 2; no
traceback is ever printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from engine.errors import EngineError
from engine.formats import FORMATS, FormatError, Limits, Problem, load
from engine.formats.limits import DEFAULT_LIMITS, exceeded

# 1: an internal error, or stdout closed early; 2: anything wrong with the file.
EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "run", help="compute a graph file: its outputs, and every input's gradient",
        description="Load a graph definition (an expression, a JSON graph or a network spec), "
                    "compute it forward and back-propagate; print each output's value and each "
                    "input's gradient of the sum of the outputs. Problems in the file are "
                    "printed as 'line:column: message' (exit status 2).")
    parser.add_argument("file", metavar="FILE",
                        help="an .expr, .graph.json or .network.json file ('-' reads stdin)")
    parser.add_argument("--json", action="store_true",
                        help='print one JSON object {"outputs": ..., "gradients": ...}')
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="the file's format, if its name and content do not tell")
    parser.set_defaults(main=main)


def main(args: argparse.Namespace) -> int:
    """Run the command; returns the exit status (0 ok, 2 the file has problems)."""
    limits = DEFAULT_LIMITS
    loaded = None
    try:
        source = _read(args.file, limits)
        filename = None if args.file == "-" else args.file
        loaded = load(source, args.format, limits=limits, filename=filename)
        result = loaded.compute()
    except FormatError as exc:
        return _report(args.file, "cannot be loaded", exc.problems)
    except EngineError as exc:  # DomainError and friends: the values, not the syntax
        where = loaded.locate(getattr(exc, "node", None)) if loaded is not None else ""
        return _report(args.file, "could not be computed", [Problem(where, str(exc))])
    except Exception as exc:  # noqa: BLE001 - a promise: never a traceback on the terminal
        print(f"backprop-live run: internal error while running {args.file}: "
              f"{type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return EXIT_ERROR
    for note in loaded.notes:  # accepted and ignored (micrograd's import, print): said aside
        print(f"backprop-live run: note: {note}", file=sys.stderr)
    try:
        _print_result(result, args.json)
    except BrokenPipeError:  # e.g. `| head`: stop quietly, as other command-line tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the final flush at exit cannot fail again
        return EXIT_ERROR
    return EXIT_OK


def _print_result(result, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"outputs": result.outputs, "gradients": result.gradients}, indent=2))
        return
    print("outputs:")
    for name, value in result.outputs.items():
        print(f"  {name} = {value!r}")
    of = next(iter(result.outputs)) if len(result.outputs) == 1 else "the sum of the outputs"
    print(f"gradients of {of} with respect to each input:")
    for name, value in result.gradients.items():
        print(f"  {name}: {value!r}")
    if not result.gradients:
        print("  (the file declares no inputs)")
    sys.stdout.flush()


def _read(path: str, limits: Limits) -> bytes:
    """The file's bytes; reads at most one byte past the size limit."""
    if path == "-":
        data = sys.stdin.buffer.read(limits.max_bytes + 1)
    else:
        try:
            with open(path, "rb") as file:
                data = file.read(limits.max_bytes + 1)
        except FileNotFoundError:
            raise FormatError([Problem("", f"there is no file {path!r}")]) from None
        except IsADirectoryError:
            raise FormatError([Problem("", f"{path!r} is a directory, not a file")]) from None
        except OSError as exc:
            raise FormatError([Problem("", f"cannot read {path!r}: {exc.strerror}")]) from None
    if len(data) > limits.max_bytes:
        raise FormatError([exceeded("", "max_bytes", limits.max_bytes,
                                    f"the file is more than {limits.max_bytes:,} bytes")])
    return data


def _report(path: str, what: str, problems: list) -> int:
    count = len(problems)
    print(f"backprop-live run: {path} {what} "
          f"({count} problem{'s' * (count != 1)}):", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return EXIT_INVALID

