"""Where graphs come from: built-in examples and models, uploads, shared links.

A reference string (docs/protocol.md) resolves to a ``Loaded`` engine graph. Loaded graphs are
cached within a budget of bytes (``GRAPH_CACHE_BYTES``, estimated from their node counts; least
recently used first out), each with its own lock: an engine graph holds its last values, so two
traces of one graph must not interleave. References that name the same graph share one entry
(``model:resnet:0256`` is ``model:resnet:256``; ``example:reference`` is
``example:reference.expr``).

Definitions are parsed once: every parse goes through ``parsed``, which finds a cached entry of
the same text (its format and SHA-256) and shares that entry's graph and lock, so an upload's
parse serves the page's ``load_graph`` after it, the same text uploaded again, its copy and its
share link. Errors are not cached: a bad file is parsed (and its problems located) each time.
The cache's budget bounds these parses too: a graph bigger than the whole budget is used and
not kept, so such a file is parsed again each time it is asked for.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.formats import FormatError, Limits, Loaded, detect_format, load
from engine.formats.jsonio import decode
from engine.training import MODELS, load_digits

MODEL_TITLES = {"resnet": "The reference ResNet (16×16 digit, FC 32)",
                "mlp": "A two-layer MLP (16×16 digit, FC 32)"}


MAX_MODEL_WIDTH = 256  # a drawn model at 256 is ~215,000 nodes
# Measured as a process's resident memory grows with a cached graph, parsed, traced and
# described (Python objects, the compiled arrays, the description, allocator slack): 530 B a
# node for the models at width 256, 660 for the ResNet, 730 for a 100,000-node expression DAG.
# (It was ~2.7 kB for that DAG while a whole file's syntax trees were parsed before the walk.)
BYTES_PER_NODE = 800
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


class NotFoundError(LookupError):
    """No such graph for this workspace (also what another workspace's graph looks like)."""


@dataclass
class Entry:
    loaded: Loaded
    name: str
    format: str
    lock: object = field(default_factory=threading.Lock)
    description: dict | None = None  # wire.describe, made once: the definition does not change
    export: bytes | None = None  # the JSON graph, made once when asked for
    nodes: int = 0  # counted when it is first kept
    content: str | None = None  # the definition's format and hash: entries of one text share

    @property
    def size(self) -> int:
        """An estimate of the memory it holds, in bytes."""
        return self.nodes * BYTES_PER_NODE + len(self.export or b"")


class Catalog:
    def __init__(self, store, examples_dir: Path, limits: Limits,
                 cache_bytes: int = 200_000_000, lock_factory=threading.Lock):
        # Entries are loaded and run in worker threads (eventlet's tpool): their locks must be
        # real OS locks, which the server passes in.
        self.lock_factory = lock_factory
        self.store = store
        self.examples_dir = Path(examples_dir)
        self.limits = limits
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[str, Entry] = OrderedDict()
        self._cache_lock = lock_factory()
        self.parses = 0  # definitions parsed so far (the others were found by their content)

    # -- listing -------------------------------------------------------------------------------
    def _example_files(self) -> list[Path]:
        return [p for p in sorted(self.examples_dir.glob("*")) if p.suffix in (".expr", ".json")]

    def examples(self) -> list[dict]:
        """Built-in examples, with the text of expressions (for the page's editor)."""
        return [{"ref": f"example:{path.name}", "name": path.name.split(".")[0],
                 "format": _format_of(path.name), "file": path.name,
                 "source": path.read_text("utf-8") if _format_of(path.name) == "expr" else None}
                for path in self._example_files()]

    def models(self) -> list[dict]:
        return [{"ref": f"model:{name}", "name": name, "title": MODEL_TITLES.get(name, name)}
                for name in MODELS]

    # -- resolving -----------------------------------------------------------------------------
    def entry(self, ref: str, workspace: str) -> Entry:
        """The loaded graph ``ref`` names, if ``workspace`` may see it; else NotFoundError."""
        if not isinstance(ref, str) or not ref:
            raise NotFoundError("no graph given")
        key = self._cache_key(ref, workspace)
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        entry = self._load(ref, workspace)
        self.remember(key, entry)
        return entry

    def remember(self, key: str, entry: Entry) -> None:
        """Keep an entry, dropping the least recently used ones over the byte budget (an entry
        bigger than the whole budget is used, and not kept)."""
        entry.nodes = entry.nodes or len(entry.loaded.graph.program().nodes)
        dropped = []
        with self._cache_lock:
            self._cache[key] = entry
            self._cache.move_to_end(key)
            while self._cached_bytes() > self.cache_bytes:
                dropped.append(self._cache.popitem(last=False)[1])
            dropped = self._unshared(dropped)
        for old in dropped:
            _dismantle(old)

    def keep_digit(self, workspace: str, loaded: Loaded, name: str) -> str:
        """Keep a digit's graph (a run's weights and one image, made for this workspace) in the
        cache; its ref, ``digit:<token>``, works for this workspace while it is kept. One per
        workspace: each is a whole network, so the one before it is dropped."""
        ref = f"digit:{secrets.token_urlsafe(9)}"
        mine = f"digit:{workspace}:"
        with self._cache_lock:
            dropped = [self._cache.pop(k) for k in [k for k in self._cache if k.startswith(mine)]]
            dropped = self._unshared(dropped)
        for old in dropped:
            _dismantle(old)
        self.remember(self._cache_key(ref, workspace), Entry(loaded, name, "network",
                                                             self.lock_factory()))
        return ref

    def _cached_bytes(self) -> int:
        """The cache's estimated memory: a graph shared by several entries counts once."""
        graphs = {id(e.loaded): e.nodes * BYTES_PER_NODE for e in self._cache.values()}
        return sum(graphs.values()) + sum(len(e.export or b"") for e in self._cache.values())

    def _unshared(self, dropped: list[Entry]) -> list[Entry]:
        """Of the dropped entries, those whose graph no kept entry (nor another one dropped)
        still uses: only these may be dismantled."""
        kept = {id(e.loaded) for e in self._cache.values()}
        out, seen = [], set()
        for e in dropped:
            if id(e.loaded) not in kept and id(e.loaded) not in seen:
                seen.add(id(e.loaded))
                out.append(e)
        return out

    def parsed(self, source, fmt: str | None, filename: str | None = None,
               ) -> tuple[Loaded, object, str]:
        """(graph, its lock, content key) of a definition: a cached entry's when one holds the
        same text in the same format, else a new parse. FormatError says what is wrong."""
        text = decode(source, self.limits)
        kind = detect_format(text, fmt, filename)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        content = f"{'expr' if kind == 'expr' else 'json'}:{digest}"
        with self._cache_lock:
            for e in reversed(self._cache.values()):
                if e.content == content and fmt in (None, e.format):
                    return e.loaded, e.lock, content
        self.parses += 1
        return load(text, fmt, limits=self.limits, filename=filename), self.lock_factory(), content

    def upload_key(self, graph_id: str, workspace: str) -> str:
        return f"upload:{workspace}:{graph_id}"

    def forget(self, graph_id: str, share_token: str | None = None) -> None:
        """Drop a deleted upload from the cache, under its id and its share link."""
        with self._cache_lock:
            dropped = self._unshared([self._cache.pop(key) for key in [
                k for k in self._cache if k.endswith(f":{graph_id}")
                or (share_token and k == f"shared:{share_token}")]])
        for old in dropped:
            _dismantle(old)

    def _cache_key(self, ref: str, workspace: str) -> str:
        """One key per graph, however the reference spells it."""
        if ref.startswith("model:"):
            name, width = _model_ref(ref)
            return f"model:{name}" if width == 32 else f"model:{name}:{width}"
        if ref.startswith("example:"):
            return f"example:{self._example_path(ref.split(':', 1)[1]).name}"
        if ref.startswith("shared:"):
            return ref
        if ref.startswith("digit:"):
            return f"digit:{workspace}:{ref[len('digit:'):]}"
        return self.upload_key(ref, workspace)

    def _load(self, ref: str, workspace: str) -> Entry:
        if ref.startswith("model:"):
            name, width = _model_ref(ref)
            return Entry(model_view(name, width), name, "network", self.lock_factory())
        if ref.startswith("digit:"):
            raise NotFoundError("this digit's graph is no longer kept on the server (it keeps "
                                "the graphs used last, within GRAPH_CACHE_BYTES): open its "
                                "back-prop again from the Training tab")
        name, fmt, text = self.source(ref, workspace)
        loaded, lock, content = self.parsed(text, fmt)
        return Entry(loaded, name, loaded.format, lock, content=content)

    def _example_path(self, name: str) -> Path:
        """An example by file name, or by stem (``reference`` → reference.expr first)."""
        if not _SAFE_NAME.fullmatch(name) or ".." in name:
            raise NotFoundError(f"no example {name!r}")
        files = {path.name: path for path in self._example_files()}
        if name in files:
            return files[name]
        for suffix in (".expr", ".graph.json", ".network.json"):
            if name + suffix in files:
                return files[name + suffix]
        raise NotFoundError(f"no example {name!r}; built in: {', '.join(sorted(files))}")

    def source(self, ref: str, workspace: str) -> tuple[str, str, str]:
        """(name, format, text) of a graph definition the workspace may see (not models)."""
        if not isinstance(ref, str) or ref.startswith("model:"):
            raise NotFoundError("give a graph definition (an upload, an example or a link)")
        if ref.startswith("example:"):
            path = self._example_path(ref.split(":", 1)[1])
            return path.name.split(".")[0], _format_of(path.name), path.read_text("utf-8")
        if ref.startswith("shared:"):
            found = self.store.shared(ref.split(":", 1)[1])
            if found is None:
                raise NotFoundError("nothing is shared under that link (any more): its owner "
                                    "may have stopped sharing it")
            if found[0] != "graph":
                raise NotFoundError("that link shares a training run, not a graph")
            row = found[1]
        else:
            row = self.store.graph(ref, workspace)
            if row is None:
                raise NotFoundError(f"no graph {ref!r} in this workspace")
        return row["name"], row["format"], row["source"]

    def upload_entry(self, source, fmt: str | None, filename: str | None, name: str) -> Entry:
        """An upload, parsed (or found by its content); FormatError lists what is wrong."""
        loaded, lock, content = self.parsed(source, fmt, filename)
        return Entry(loaded, name, loaded.format, lock, content=content)


def _model_ref(ref: str) -> tuple[str, int]:
    """model:<name>, or model:<name>:<width> to draw the width a run trained: (name, width)."""
    name, _, width = ref[len("model:"):].partition(":")
    if name not in MODELS:
        raise NotFoundError(f"no model {name!r}; built in: {', '.join(MODELS)}")
    if width and not (width.isascii() and width.isdigit() and len(width.lstrip("0")) <= 3
                      and 1 <= int(width) <= MAX_MODEL_WIDTH):
        raise NotFoundError(f"a model's width is 1..{MAX_MODEL_WIDTH}, not {width[:20]!r}")
    return name, int(width or 32)


def _dismantle(entry: Entry) -> None:
    """Unlink a dropped graph's nodes from their parents. Parent lists make every engine graph
    a web of cycles, which only Python's cyclic collector frees — a pause of ~100 ms per 100,000
    nodes, holding the interpreter lock. Without them, the graph is freed as soon as its last
    user lets go of it. (A trace still using it is unaffected: parents only serve compiling.)"""
    for n in entry.loaded.graph.program().nodes:
        n.parents.clear()


def _format_of(file_name: str) -> str:
    """An example's format, from its name (examples are named .expr, .graph.json, .network.json)."""
    return ("network" if file_name.endswith(".network.json") else
            "graph" if file_name.endswith(".json") else "expr")


def model_view(name: str, width: int = 32) -> Loaded:
    """A built-in network (at the reference width 32 unless asked), showing a real test digit."""
    model = MODELS[name](width=width)
    digits = load_digits()
    mean, std = digits.train_images.mean(), digits.train_images.std()
    params = model.initial_params(np.random.default_rng(0))
    image = (digits.test_images[0] - mean) / std
    consts = model.consts(image[None, :], digits.test_labels[:1])[0]
    model.graph.feed(params, consts)
    names = {n.name: n for n in model.graph.input_nodes + model.graph.const_nodes if n.name}
    return Loaded(format="network", graph=model.graph,
                  inputs={n.name: n for n in model.graph.input_nodes},
                  outputs={"Loss": model.loss}, names=names, consts=model.graph.const_nodes,
                  network=model.net, layers=model.net.layers)


__all__ = ["Catalog", "Entry", "NotFoundError", "FormatError", "model_view"]
