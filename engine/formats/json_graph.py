"""The JSON graph format: ``{"format": "backprop-live/graph", "version": 1, "nodes": [...],
"outputs": [...]}``, checked against graph.schema.json and then for meaning.

The schema is the contract; jsonschema, though, takes ~90 µs per node, 18 s for 200,000. So each
node is first checked by ``node_matches_schema``, a direct transcription of the schema's node
definition (a test proves they agree), and only nodes failing it go through jsonschema, which
then words the problem. The document around the nodes always goes through jsonschema.
"""

from __future__ import annotations

import difflib
from typing import Any

from ..graph import graph
from ..node import node
from ..ops import LEAVES, OPS
from .jsonio import (
    finite_number,
    pointer_key,
    schema_problems,
    show,
    validator,
)
from .limits import Limits, exceeded
from .loaded import Loaded, leaf_values
from .problems import Collector, FormatError

FORMAT = "backprop-live/graph"
SCHEMA = "graph.schema.json"
_NODE_FIELDS = frozenset({"id", "op", "args", "value", "name", "group"})
_OPS = frozenset(OPS)


def _short_string(value: object, low: int = 0) -> bool:
    return isinstance(value, str) and low <= len(value) <= 200


def node_matches_schema(item: object) -> bool:
    """Exactly the schema's ``$defs/node``, fast. Keep in step with graph.schema.json."""
    if not isinstance(item, dict) or not item.keys() <= _NODE_FIELDS:
        return False
    if not _short_string(item.get("id"), 1):
        return False
    op = item.get("op")
    if not isinstance(op, str) or op not in _OPS:
        return False
    if "args" in item:
        args = item["args"]
        if not isinstance(args, list) or len(args) > 2 or \
                not all(_short_string(a, 1) for a in args):
            return False
    if "value" in item:
        value = item["value"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
    return all(_short_string(item[key]) for key in ("name", "group") if key in item)


def check_schema(data: Any, limits: Limits) -> None:
    """Raise FormatError with every schema violation, each at its JSON pointer."""
    problems = []
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if isinstance(nodes, list):
        if len(nodes) > limits.max_nodes:
            raise FormatError([exceeded("/nodes", "max_nodes", limits.max_nodes,
                                        f"the graph lists {len(nodes):,} nodes")])
        problems += schema_problems(validator(SCHEMA), {**data, "nodes": []})
        node_schema = validator(SCHEMA, "node")
        for i, item in enumerate(nodes):
            if not node_matches_schema(item):
                problems += schema_problems(node_schema, item, f"/nodes/{i}")
            if len(problems) >= limits.max_problems:
                break
    else:
        problems += schema_problems(validator(SCHEMA), data)
    if problems:
        problems.sort(key=lambda p: pointer_key(p.location))
        raise FormatError(problems[: limits.max_problems])


def load_graph(data: Any, limits: Limits) -> Loaded:
    check_schema(data, limits)
    nodes: list[dict] = data["nodes"]
    problems = Collector(limits.max_problems)
    index: dict[str, int] = {}
    for i, item in enumerate(nodes):
        first = index.setdefault(item["id"], i)
        if first != i:
            problems.add(f"/nodes/{i}/id", f"the id {item['id']!r} is already used by "
                                           f"/nodes/{first}; ids must be unique")
    for i, item in enumerate(nodes):
        _check_node(i, item, index, limits, problems)
    for k, output in enumerate(data["outputs"]):
        if output not in index:
            problems.add(f"/outputs/{k}", _unknown(output, index))
    problems.check()
    order = _topological_order(nodes, index, problems)

    made: dict[str, node] = {}
    locations: dict[node, str] = {}
    for i in order:
        item = nodes[i]
        children = [made[a] for a in item.get("args", [])]
        name = item.get("name", item["id"])
        if item["op"] in LEAVES:
            n = node(item["op"], float(item["value"]), name=name, group=item.get("group"))
        else:
            # _check_node made args list exactly the operator's 1 or 2 operands, so *children
            # never reaches is_output.
            n = node(item["op"], *children,  # type: ignore[arg-type]
                     name=name, group=item.get("group"))
        made[item["id"]] = n
        locations[n] = f"/nodes/{i}"
    inputs = {item["id"]: made[item["id"]] for item in nodes if item["op"] == "input"}
    consts = [made[item["id"]] for item in nodes if item["op"] == "const"]
    outputs = {o: made[o] for o in data["outputs"]}
    for n in outputs.values():
        n.set_as_output()
    g = graph(list(inputs.values()), consts, list(outputs.values()))
    g.feed(leaf_values(inputs.values()), leaf_values(consts))
    return Loaded("graph", g, inputs, outputs, made, consts, locations)


def _check_node(i: int, item: dict, index: dict, limits: Limits, problems: Collector) -> None:
    op, args, where = item["op"], item.get("args"), f"/nodes/{i}"
    arity = OPS[op].arity
    if op in LEAVES:
        if args:
            problems.add(f"{where}/args", f"an {op} node takes no args; give it a \"value\"")
        if "value" not in item:
            problems.add(where, f"an {op} node needs a \"value\" (a number)")
        else:
            finite_number(item["value"], f"{where}/value", limits, problems)
        return
    if "value" in item:
        problems.add(f"{where}/value", f"only input and const nodes have a value; {op!r} "
                                       "computes its own from its args")
    if args is None:
        problems.add(where, f"{op!r} needs {arity} id{'s' * (arity > 1)} in \"args\"")
        return
    if len(args) != arity:
        problems.add(f"{where}/args", f"{op!r} takes {arity} argument{'s' * (arity > 1)}, but "
                                      f"args lists {len(args)}")
    for j, arg in enumerate(args):
        if arg not in index:
            problems.add(f"{where}/args/{j}", _unknown(arg, index))


def _unknown(ref: str, index: dict) -> str:
    close = difflib.get_close_matches(ref, list(index), n=1) if len(index) < 5000 else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{show(ref)} is not the id of any node{hint}"


def _topological_order(nodes: list, index: dict, problems: Collector) -> list[int]:
    """Children before parents (Kahn's algorithm, iterative); a cycle is reported with a path."""
    waiting = [len(item.get("args", ())) for item in nodes]
    users: list[list[int]] = [[] for _ in nodes]
    for i, item in enumerate(nodes):
        for arg in item.get("args", ()):
            users[index[arg]].append(i)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    order = []
    while ready:
        i = ready.pop()
        order.append(i)
        for user in users[i]:
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    if len(order) == len(nodes):
        return order
    # Every node left waits on another node left: walking args among them must loop.
    left = {i for i, count in enumerate(waiting) if count > 0}
    path: list[int] = []
    seen: dict[int, int] = {}  # node -> its place in path
    current = min(left)
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        args = nodes[current]["args"]
        step = next(j for j, a in enumerate(args) if index[a] in left)
        current = index[args[step]]
    cycle = path[seen[current]:]
    first, second = cycle[0], cycle[1 % len(cycle)]
    step = next(j for j, a in enumerate(nodes[first]["args"]) if index[a] == second)
    names = " → ".join(repr(nodes[i]["id"]) for i in [*cycle, first])
    problems.fail(f"/nodes/{first}/args/{step}", f"these nodes form a cycle: {names}; a graph "
                                                 "must not feed a node's value back into itself")
    return order
