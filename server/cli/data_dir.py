"""Where the web app and the command line keep their database: one rule for both."""

from __future__ import annotations

import os
from pathlib import Path

ENVIRONMENT = "BACKPROP_LIVE_DATA"


def add_argument(parser) -> None:
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help=f"the SQLite database and secret key (default: ${ENVIRONMENT}, "
                             "else ./instance)")


def resolve(given: str | None) -> Path:
    return Path(given or os.environ.get(ENVIRONMENT) or "instance").resolve()
