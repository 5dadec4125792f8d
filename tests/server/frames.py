"""Decode trace frames (docs/protocol.md) the way the page does: binary arrays by byte order."""

from __future__ import annotations

import numpy as np


def decode(frame: dict) -> dict:
    """A frame with ``ids`` and plain lists in place of ``start``/``count`` (or ``spans``) and
    bytes."""
    out = dict(frame)
    if "start" in frame:
        out["ids"] = list(range(frame["start"], frame["start"] + frame["count"]))
    if "spans" in frame:  # a backward frame: runs of consecutive ids, one per level
        spans = np.frombuffer(frame["spans"], "<i4").reshape(-1, 2).tolist()
        out["ids"] = [i for start, count in spans for i in range(start, start + count)]
        assert len(out["ids"]) == frame["count"]
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


def names_of(description: dict) -> list[str]:
    """The named nodes' names: one string cut at int32 ends in UTF-16 code units (the page's
    string indexes; docs/protocol.md)."""
    units = description["names"].encode("utf-16-le", "surrogatepass")
    ends = np.frombuffer(description["name_ends"], "<i4").tolist()
    starts = [0, *ends[:-1]]
    return [units[2 * a:2 * b].decode("utf-16-le", "surrogatepass")
            for a, b in zip(starts, ends, strict=True)]


def nodes_of(description: dict) -> list[dict]:
    """The columnar graph description as one dict per node, the way the page reads it."""
    count = description["count"]
    op = np.frombuffer(description["op"], "<u1")
    depth = np.frombuffer(description["depth"], "<i4")
    start = np.frombuffer(description["child_start"], "<i4")
    children = np.frombuffer(description["children"], "<i4")
    group = np.frombuffer(description["group"], "<i4")
    names = dict(zip(np.frombuffer(description["named"], "<i4").tolist(), names_of(description),
                     strict=True))
    outputs = set(description["outputs"])
    assert len(op) == len(depth) == len(group) == count and len(start) == count + 1
    return [{"id": i, "op": description["ops"][op[i]], "name": names.get(i),
             "group": description["group_names"][group[i]] if group[i] >= 0 else None,
             "children": children[start[i]:start[i + 1]].tolist(), "depth": int(depth[i]),
             "output": i in outputs} for i in range(count)]
