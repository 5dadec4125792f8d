"""Graph definitions users upload: expression text, JSON graphs and network specs.

``load(text_or_bytes)`` returns a ``Loaded`` (the engine graph, fed and ready, with the names the
file gave its inputs and outputs) or raises ``FormatError``, whose ``problems`` each say what is
wrong and where. Uploaded text is data: it is parsed, never evaluated. ``export_graph`` writes
any engine graph in the JSON graph format. See docs/formats.md.
"""

from __future__ import annotations

from ..errors import EngineError
from ..graph import graph
from .export import export_graph
from .expr import Expression
from .json_graph import FORMAT as GRAPH_FORMAT
from .json_graph import load_graph
from .jsonio import Source, decode, read_json
from .limits import DEFAULT_LIMITS, Limits
from .loaded import Loaded, Result, leaf_values
from .network import FORMAT as NETWORK_FORMAT
from .network import load_network
from .problems import FormatError, Problem

__all__ = ["load", "export_graph", "Loaded", "Result", "Limits", "FormatError", "Problem",
           "FORMATS", "detect_format"]

FORMATS = ("expr", "graph", "network")
_JSON_FORMATS = {GRAPH_FORMAT: "graph", NETWORK_FORMAT: "network"}


def load(source: Source, format: str | None = None, *,  # noqa: A002
         limits: Limits | None = None,
         filename: str | None = None) -> Loaded:
    """Load a graph definition from ``source`` (str, or bytes that must be UTF-8).

    ``format`` is "expr", "graph" or "network"; by default it is chosen from the file name's
    extension (.expr, .graph.json, .network.json), then from the content: JSON documents say
    which format they are in their "format" field, anything else is read as an expression.
    """
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    limits = limits or DEFAULT_LIMITS
    text = decode(source, limits)
    kind = detect_format(text, format, filename)
    try:
        if kind == "expr":
            loaded = _load_expression(text, limits)
        else:
            data = read_json(text, limits)
            if kind == "json":
                kind = _json_kind(data)
            loaded = load_graph(data, limits) if kind == "graph" else load_network(data, limits)
    except FormatError:
        raise
    except EngineError as exc:  # the checks above should leave the engine nothing to refuse
        raise FormatError([Problem("", f"the engine refused this graph: {exc}")]) from None
    except (RecursionError, MemoryError):
        # The limits are there so that this cannot happen; if it does, it is still the file.
        raise FormatError([Problem("", f"the file is too large or too deeply nested to load "
                                       f"(limits max_depth={limits.max_depth}, "
                                       f"max_nodes={limits.max_nodes})", "max_depth")]) from None
    loaded.filename = filename
    return loaded


def detect_format(text: str, requested: str | None = None, filename: str | None = None) -> str:
    """'expr', 'graph', 'network', or 'json' when the document's "format" field must decide."""
    if requested is not None:
        return requested
    name = (filename or "").lower()
    if name.endswith(".expr"):
        return "expr"
    if name.endswith(".graph.json"):
        return "graph"
    if name.endswith(".network.json"):
        return "network"
    if name.endswith(".json") or text.lstrip()[:1] in ("{", "["):
        return "json"
    return "expr"


def _json_kind(data: object) -> str:
    declared = data.get("format") if isinstance(data, dict) else None
    if isinstance(declared, str) and declared in _JSON_FORMATS:
        return _JSON_FORMATS[declared]
    if not isinstance(data, dict):
        message = "a graph file must be a JSON object {...} with a \"format\" field"
    elif "format" not in data:
        message = "missing the field 'format'"
    else:
        message = "unknown \"format\""
    raise FormatError([Problem("" if not isinstance(data, dict) or "format" not in data
                               else "/format",
                               f"{message}: expected \"format\": \"{GRAPH_FORMAT}\" or "
                               f"\"{NETWORK_FORMAT}\"")])


def _load_expression(text: str, limits: Limits) -> Loaded:
    expression = Expression(text, limits).read()
    inputs = list(expression.inputs.values())
    outputs = list(dict.fromkeys(expression.outputs.values()))
    for n in outputs:
        n.set_as_output()
    g = graph(inputs, expression.consts, outputs)
    g.feed(leaf_values(inputs), leaf_values(expression.consts))
    return Loaded("expr", g, dict(expression.inputs), dict(expression.outputs),
                  dict(expression.names), list(expression.consts), expression.locations,
                  notes=list(expression.notes))
