"""The error a budget gives when it is spent: its message names the setting and its value.

Every limit the server enforces is a setting of ``create_app(config)`` (docs/api.md lists them),
and ``limit`` carries the setting's name to the client, on HTTP and on Socket.IO alike.
"""

from __future__ import annotations


class LimitError(Exception):
    def __init__(self, message: str, limit: str):
        super().__init__(message)
        self.limit = limit


class BusyError(LimitError):
    """Too much going on at once: try again when something ends."""
