"""micrograd's code, read by the expression language's whitelist (expr.py) as data.

A student's micrograd snippet pastes unchanged: ``x = Value(2.0, label='x')`` makes an input,
``z.relu()`` and the other Value methods are operators, ``n.label = 'n'`` names a node,
``y.backward()`` marks an output, and ``from micrograd.engine import Value`` and ``print(...)``
are accepted, ignored and reported as notes. Nothing is imported, called or evaluated: these are
shapes of syntax trees, each turned into what expr.py builds anyway. The rest of Python that is
code (class, def, loops, reading ``.data``) is refused with the supported form to write instead.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from ..node import node
from .limits import exceeded

if TYPE_CHECKING:
    from .expr import Expression
    from .expr_scan import Statement

# micrograd's Value methods that are operators here (each is an engine operator of one operand).
METHODS = ("relu", "tanh", "exp", "log", "sigmoid")
_METHOD_LIST = " ".join(f".{m}()" for m in METHODS)
# A file in micrograd's dialect: Value(...) or an import of micrograd. Only such a file may
# rebind a name (`x = x * w`) and carry labels: an .expr file keeps its one-definition rule.
MICROGRAD = re.compile(r"\bValue[ \t]*\(|^[ \t]*(?:from|import)[ \t]+micrograd\b", re.MULTILINE)
# Names get primes when rebound or labelled alike, so the page tells the versions apart.
PRIMES = ("′", "″", "‴")

_ACCEPTED_IMPORT = "`from micrograd.engine import Value` (or `import micrograd`)"
_STATEMENT_HINTS: dict[type, str] = {
    ast.ClassDef: "class definitions are code: build the network in the Playground or as a "
                  "network spec",
    ast.FunctionDef: "a Python FunctionDef statement is not part of the expression language: "
                     "function definitions are code; write each step as a line of its own, "
                     "like `y = x.tanh()`",
    ast.AsyncFunctionDef: "function definitions are code: write each step as a line of its "
                          "own, like `y = x.tanh()`",
    ast.For: "loops are code: write each step as a line of its own (a name may be rebound, "
             "`x = x * w`), or build the network in the Playground or as a network spec",
    ast.While: "loops are code: write each step as a line of its own (a name may be rebound, "
               "`x = x * w`), or build the network in the Playground or as a network spec",
    ast.If: "if statements are code: the graph is the same on every run; for a choice write "
            "max(a, b), min(a, b) or x.relu()",
}


# The first word of a compound statement (a block), which the scanner splits line by line.
_BLOCK = re.compile(r"(class|def|async|for|while|if|elif|else|with|try|except|finally)\b")
_BLOCK_HINTS = {"class": ast.ClassDef, "def": ast.FunctionDef, "async": ast.AsyncFunctionDef,
                "for": ast.For, "while": ast.While, "if": ast.If, "elif": ast.If, "else": ast.If}


def blocks(expr: Expression, statements: list[Statement]) -> dict[int, str]:
    """Each block (class, def, for, ...): statement start -> why it is refused, said once at
    its first line; it and the lines indented under it (its body) are skipped."""
    found: dict[int, str] = {}
    body_of: Statement | None = None
    for stmt in statements:
        if body_of is not None and stmt.line > body_of.line and stmt.col > body_of.col:
            stmt.skip = True
            continue
        body_of = None
        match = _BLOCK.match(expr.text, stmt.start, stmt.end)
        if match is None or stmt.skip:
            continue
        word = match.group(1)
        kind = _BLOCK_HINTS.get(word)
        found[stmt.start] = _STATEMENT_HINTS[kind] if kind is not None else (
            f"`{word}` blocks are code, which is not part of the expression language: write "
            "each step as a line of its own")
        stmt.skip = True
        body_of = stmt
    return found


def python_statement(expr: Expression, tree: ast.stmt, where: str) -> bool:
    """Read the statements micrograd code has and the expression language does not (True),
    or leave ``tree`` (at ``where``) to expr.py (False)."""
    if isinstance(tree, ast.Import | ast.ImportFrom):
        _import(expr, tree, where)
        return True
    if isinstance(tree, ast.Expr) and isinstance(tree.value, ast.Call):
        call = tree.value
        if isinstance(call.func, ast.Name) and call.func.id == "print":
            expr.note(where, "print(...) is ignored: the page shows every node's value and "
                             "gradient")
            return True
        if isinstance(call.func, ast.Attribute) and call.func.attr == "backward":
            _backward(expr, call, where)
            return True
        return False
    targets = tree.targets if isinstance(tree, ast.Assign) else \
        [tree.target] if isinstance(tree, ast.AugAssign | ast.AnnAssign) else []
    attribute = next((t for t in targets if isinstance(t, ast.Attribute)), None)
    if attribute is not None:
        _set_attribute(expr, tree, attribute, where)
        return True
    hint = _STATEMENT_HINTS.get(type(tree))
    if hint is not None:
        expr.problems.add(where, hint)
        return True
    return False


def _import(expr: Expression, tree: ast.Import | ast.ImportFrom, where: str) -> None:
    if isinstance(tree, ast.ImportFrom):
        module = tree.module or ""
        ok = (tree.level == 0 and module == "micrograd.engine"
              and [(a.name, a.asname) for a in tree.names] == [("Value", None)])
        text = f"from {module} import {', '.join(a.name for a in tree.names)}"
    else:
        module = tree.names[0].name
        ok = all(a.name in ("micrograd", "micrograd.engine") and a.asname is None
                 for a in tree.names)
        text = f"import {', '.join(a.name for a in tree.names)}"
    if ok:
        expr.note(where, f"`{text}` is ignored: Value is built in, and nothing is imported")
    elif module.split(".")[0] == "micrograd" and module != "micrograd.engine":
        expr.problems.add(where, f"`{text}`: micrograd's Neuron, Layer and MLP are classes, "
                                 "which are code: build the network in the Playground or as a "
                                 "network spec (only " + _ACCEPTED_IMPORT + " is accepted here)")
    else:
        kind = type(tree).__name__
        expr.problems.add(where, f"a Python {kind} statement is not part of the expression "
                                 f"language: nothing is imported (only {_ACCEPTED_IMPORT} is "
                                 "accepted, and ignored)")


def _backward(expr: Expression, call: ast.Call, where: str) -> None:
    assert isinstance(call.func, ast.Attribute), "python_statement sends .backward() calls"
    target = call.func.value
    if call.args or call.keywords:
        expr.problems.add(where, "backward() takes no arguments: write `y.backward()`")
    elif not isinstance(target, ast.Name):
        expr.problems.add(where, "call backward() on a name, like `y.backward()` (name the "
                                 "expression first: `y = ...`)")
    else:
        found = expr._lookup(target.id, expr._at(target), expr._line(target))
        if found is not None:
            expr.mark_backward(target.id, found)


def _set_attribute(expr: Expression, tree: ast.stmt, attribute: ast.Attribute,
                   where: str) -> None:
    owner, attr = attribute.value, attribute.attr
    shown = f"{owner.id}.{attr}" if isinstance(owner, ast.Name) else f".{attr}"
    if attr == "label" and isinstance(tree, ast.Assign) and len(tree.targets) == 1:
        if not isinstance(owner, ast.Name):
            expr.problems.add(where, "set the label of a name, like `n.label = 'n'`")
            return
        text = label_text(expr, tree.value, "n.label = 'n'")
        found = expr._lookup(owner.id, expr._at(owner), expr._line(owner))
        if text is not None and found is not None:
            expr.relabel(found, text or owner.id)
    elif attr == "data" and isinstance(tree, ast.AugAssign):
        expr.problems.add(where, f"`{shown} += ...` is a descent step, which is code: the "
                                 "Graph tab's Descend button takes that step (animated)")
    elif attr == "data":
        expr.problems.add(where, f"setting {shown} is code: give the starting value in "
                                 "Value(...), like `x = Value(2.0)`; on the page, type a new "
                                 "value in the input's field")
    elif attr == "grad":
        expr.problems.add(where, f"{shown} is computed by back-prop, not set: the page zeroes "
                                 "and fills the gradients itself")
    else:
        expr.problems.add(where, f"only a label can be set, like `n.label = 'n'`; {shown} "
                                 "cannot")


def label_text(expr: Expression, value: ast.expr, example: str) -> str | None:
    """The text of a label (text in quotes), or None after saying why it is not one."""
    where = expr._at(value)
    if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
        expr.problems.add(where, f"a label is text in quotes, like `{example}`")
        return None
    limit = expr.limits.max_label
    if len(value.value) > limit:
        p = exceeded(where, "max_label", limit,
                     f"this label is {len(value.value):,} characters long")
        expr.problems.add(p.location, p.message, p.limit)
        return None
    return value.value


def value_leaf(expr: Expression, call: ast.Call, target: str) -> node | None:
    """``Value(2.0)`` or ``Value(2.0, label='x1')``: an input, named by its label or target."""
    where = expr._at(call)
    keywords = [k for k in call.keywords if k.arg != "label"]
    if len(call.args) != 1 or keywords or len(call.keywords) > 1:
        expr.problems.add(where, f"Value() takes one number and an optional label, like "
                                 f"`{target} = Value(2.0, label='{target}')`")
        return None
    label = None
    if call.keywords:
        label = label_text(expr, call.keywords[0].value, f"Value(2.0, label='{target}')")
        if label is None:
            return None
    leaf = expr.leaf(call, "input", label or target)
    return leaf


def method_ok(expr: Expression, call: ast.Call) -> bool:
    """Whether ``x.method()`` is one of micrograd's operator methods; if not, say what is."""
    assert isinstance(call.func, ast.Attribute), "_expression sends method calls only"
    name, where = call.func.attr, expr._at(call)
    if name == "backward":
        expr.problems.add(where, "backward() marks an output on a line of its own, like "
                                 "`y.backward()`")
        return False
    if name not in METHODS:
        expr.problems.add(where, f"only functions named directly can be called, like sin(x) "
                                 f"or relu(x), and the methods {_METHOD_LIST}, like x.relu(); "
                                 f".{name}() is not one of them")
        return False
    if call.args or call.keywords:
        expr.problems.add(where, f".{name}() takes no arguments: write x.{name}() or "
                                 f"{name}(x)")
        return False
    return True


def attribute_read(expr: Expression, tree: ast.Attribute) -> None:
    """An attribute read (``x.data``, ``x.grad``, ``x.real``) in an expression: refused."""
    where = expr._at(tree)
    owner = tree.value.id if isinstance(tree.value, ast.Name) else "x"
    if tree.attr in ("data", "grad"):
        expr.problems.add(where, f"{owner}.{tree.attr} reads a number out of a Value, which "
                                 f"the graph cannot follow: compute with {owner} itself, like "
                                 f"`y = {owner} * 2` (the page shows every value and gradient)")
    elif tree.attr in METHODS:
        expr.problems.add(where, f"{owner}.{tree.attr} is a method: call it, like "
                                 f"{owner}.{tree.attr}() or {tree.attr}({owner})")
    else:
        expr.problems.add(where, "a dot (attribute access) is not part of the expression "
                                 f"language; the methods are {_METHOD_LIST}, like x.relu()")


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def primed(name: str, taken: set[str], versions: dict[str, int]) -> str:
    """``name``, or its next version not in ``taken``: name′, name″, name‴, then name⁽⁴⁾,
    name⁽⁵⁾, ... (short however often a name is rebound). ``versions`` remembers the last
    version of each name, so rebinding a name n times costs n steps, not n²."""
    candidate, k = name, versions.get(name, 0)
    if k:
        candidate = _version(name, k)
    while candidate in taken:
        k += 1
        candidate = _version(name, k)
    versions[name] = k
    return candidate


def _version(name: str, k: int) -> str:
    if k == 0:
        return name
    return name + (PRIMES[k - 1] if k <= len(PRIMES) else f"⁽{k}⁾".translate(_SUPERSCRIPT))
