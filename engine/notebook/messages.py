"""Messages between the widget's JavaScript and the kernel, over the widget's comm.

The page's protocol (docs/protocol.md) travels unchanged, as custom messages: the browser sends
``{"request": k, "event": name, "payload": {...}}``; the kernel answers ``{"reply": k, "ack":
{...}}`` and pushes ``{"event": name, "data": {...}}`` (a trace's frames). Bytes anywhere in a
message (the frames' typed arrays) go as the comm's binary buffers, each replaced in the JSON by
``{"$buffer": index}``: no base64, no copy through JSON.
"""

from __future__ import annotations

from typing import Any

from ..frames import jsonable


def pack(message: Any) -> tuple[Any, list[bytes]]:
    """(JSON-safe message, buffers): bytes become buffer references, non-finite floats strings."""
    buffers: list[bytes] = []

    def walk(value: Any) -> Any:
        if isinstance(value, (bytes, bytearray, memoryview)):
            buffers.append(bytes(value))
            return {"$buffer": len(buffers) - 1}
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return jsonable(value)

    return walk(message), buffers
