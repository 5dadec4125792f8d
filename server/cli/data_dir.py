"""Where the web app and the command line keep their database: one rule for both — the DATABASE
setting's PostgreSQL URL if one is given, else the SQLite file in the data dir."""

from __future__ import annotations

import os
from pathlib import Path

from . import settings

ENVIRONMENT = "BACKPROP_LIVE_DATA"


def add_argument(parser) -> None:
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help=f"the SQLite database and secret key (default: ${ENVIRONMENT}, "
                             "else ./instance)")


def add_database_arguments(parser) -> None:
    """For the commands that open the web app's database: --data-dir, --database, --config."""
    add_argument(parser)
    settings.add_arguments(parser, ["DATABASE"])


def resolve(given: str | None) -> Path:
    return Path(given or os.environ.get(ENVIRONMENT) or "instance").resolve()


def database(args) -> str | None:
    """The DATABASE setting (flag, environment, config file), None for the embedded SQLite
    file; SetupError if it is bad."""
    from ..app import DEFAULTS

    return settings.resolve(args, DEFAULTS).get("DATABASE")
