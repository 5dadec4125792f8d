"""Decode trace frames (docs/protocol.md) the way the page does: binary arrays by byte order."""

from __future__ import annotations

import numpy as np


def decode(frame: dict) -> dict:
    """A frame with ``ids`` and plain lists in place of ``start``/``count`` and bytes."""
    out = dict(frame)
    if "start" in frame:
        out["ids"] = list(range(frame["start"], frame["start"] + frame["count"]))
    for key in ("values", "grads"):
        if isinstance(frame.get(key), bytes):
            out[key] = np.frombuffer(frame[key], "<f8").tolist()
    if "edges" in frame:
        edges = frame["edges"]
        out["edges"] = {
            "parent": np.frombuffer(edges["parent"], "<i4").tolist(),
            "child": np.frombuffer(edges["child"], "<i4").tolist(),
            "local": np.frombuffer(edges["local"], "<f8").tolist(),
            "contribution": np.frombuffer(edges["contribution"], "<f8").tolist(),
        }
        assert all(len(v) == edges["count"] for v in out["edges"].values())
    return out
