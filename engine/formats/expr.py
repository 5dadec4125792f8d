"""The expression language (``.expr``): formulas in Python syntax, read as data.

    x1 = input(0.3)          # a trainable input with its starting value
    c = const(2)             # a const (data fed each run), likewise
    y = sin(x1 + 1) * c      # names a node; every engine operator is a function
    s = y * 2
    s += x1                  # updates s: s = s + x1 (also -=, *=, /=, **=)
    output y, s              # what back-prop starts from

expr_scan.py splits the (size-checked) text into statements and bounds how deeply each nests;
then the statements are parsed together, PARSE_CHUNK at a time, by ``ast.parse`` (a compile
per statement cost ~12 µs each), each chunk as reading reaches it. Only in a chunk that fails — a
syntax error in it, which would hide every later one — is each statement parsed on its own, so
every problem is still reported at its line and column.
Each tree is walked under a whitelist: names, numbers, + - * / **, unary - and +, and calls of
known functions; micrograd code adds Value(...), its methods, labels and backward()
(expr_micrograd.py; expr_names.py names the nodes). Nothing is evaluated, compiled or
imported; anything else is reported with its line and column. Lines of the form
``name = a op b``, ``name = f(a)`` or ``name op= ...`` of those, over defined names (nearly all
of a big generated file), are read from the text without the parser (expr_lines.py); inside
other statements, ``a op b`` and ``f(a)`` skip the walk's stack (``_simple``): same nodes,
locations and order either way. The walk uses an explicit
stack, so it cannot recurse. The cyclic garbage collector is paused while a file is read (the
nodes it makes all survive).
"""

from __future__ import annotations

import ast
import bisect
import difflib
import math
import re
import warnings
from typing import Any

from ..compiler import gc_paused
from ..node import node
from ..ops import OPS
from . import expr_lines as lines
from . import expr_micrograd as micrograd
from .expr_names import Names
from .expr_scan import Statement, output_names, scan
from .limits import Limits, exceeded
from .problems import Collector

FUNCTIONS = {name: op.arity for name, op in OPS.items() if op.arity > 0 and name.isidentifier()}
RESERVED = frozenset({"input", "const", "output"}) | frozenset(FUNCTIONS)
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "pow"}
_OPERATOR_TEXT = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitXor: "^", ast.BitAnd: "&",
    ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>", ast.Invert: "~", ast.Not: "not",
}
_OPERATOR_HINTS = {"^": "; for powers write x ** 2 or pow(x, 2)", "//": "; use / to divide"}
_CONSTRUCTS = {  # what a student would call the Python constructs the language leaves out
    ast.Attribute: "a dot (attribute access)", ast.Subscript: "square brackets (indexing)",
    ast.Compare: "a comparison", ast.BoolOp: "and/or", ast.IfExp: "if/else",
    ast.Lambda: "lambda", ast.List: "a list", ast.Tuple: "a tuple (a comma outside brackets)",
    ast.Dict: "a dict", ast.Set: "a set", ast.NamedExpr: ":=", ast.Starred: "*",
}
# `name =` or `name op=` at the start of a statement: where each name is first defined.
_DEFINES = re.compile(r"([^\W\d]\w*)[ \t\f]*(?:=(?!=)|(?:\*\*|[-+*/])=)")


# Statements per ast.parse call: large enough that the per-call cost is amortised, small enough
# that one call (which holds the GIL) lasts a few milliseconds.
PARSE_CHUNK = 500

class _Chunks:
    """The statements' trees, by ``ast.parse`` of PARSE_CHUNK statements at a time, each chunk
    parsed when its first statement is read and dropped when the next is. In chunks because one
    ``ast.parse`` holds the GIL throughout (a 100,000-line file in one call stalled the server's
    event loop for 0.6 s); one at a time because a whole file's trees alive at once, their
    memory interleaved with the graph's nodes, left ~2 kB a node resident after the parse."""

    def __init__(self, expression: Expression, statements: list[Statement]) -> None:
        self.expression, self.statements = expression, statements
        self.chunk_of = {stmt.start: k // PARSE_CHUNK for k, stmt in enumerate(statements)}
        self.current: int | None = None
        self.parsed: dict[int, tuple[int, list[ast.stmt]]] | None = None

    def trees(self, stmt: Statement) -> tuple[int, list[ast.stmt]] | None:
        """(its first line in its chunk's text less 1, its trees), or None if its chunk does not
        parse as a whole (each statement on its own then says where)."""
        k = self.chunk_of[stmt.start]
        if k != self.current:
            self.current, self.parsed = k, None  # the chunk before is freed first
            self.parsed = self.expression._parse_chunk(
                self.statements[k * PARSE_CHUNK:(k + 1) * PARSE_CHUNK])
        return None if self.parsed is None else self.parsed[stmt.start]


class Expression(Names):
    """What an expression file defines, once every statement has been read."""

    functions, reserved = FUNCTIONS, RESERVED  # for expr_lines.py

    def __init__(self, text: str, limits: Limits) -> None:
        self.text, self.limits = text, limits
        self.problems = Collector(limits.max_problems)
        Names.__init__(self, text, limits)
        self.names: dict[str, node] = {}  # each name's current node
        self.inputs: dict[str, node] = {}
        self.consts: list[node] = []
        self.outputs: dict[str, node] = {}
        self.locations: dict[node, str] = {}  # node -> "line:col" where it was written
        self._literals: dict[float, node] = {}  # one shared const per distinct number
        self._assigned: dict[str, int] = {}  # name -> line of its `=`, for duplicates
        self._first_defined: dict[str, int] = {}  # name -> first line defining it, anyhow
        self._broken: set[str] = set()  # names whose definition failed: report no cascade
        self._count = 0
        self._last_created: node | None = None
        self._stmt: Statement | None = None
        self._lines: list[str] | None = None  # the statement's lines, split when needed
        self._offset = 0  # ast line numbers count from line 1 + this (several statements parsed)
        self._ascii = text.isascii()  # then ast's byte columns are character columns

    def read(self) -> Expression:
        with gc_paused():
            return self._read()

    def _read(self) -> Expression:
        statements = scan(self.text, self.limits, self.problems)
        blocks = micrograd.blocks(self, statements)
        for stmt in statements:
            match = _DEFINES.match(self.text, stmt.start, stmt.end)
            if match and not stmt.output:
                self._first_defined.setdefault(match.group(1), stmt.line)
        simple = lines.simple_lines(self, statements)
        chunks = _Chunks(self, [s for s in statements
                                if not (s.output or s.skip or s.start in simple)])
        for stmt in statements:
            self._stmt, self._lines = stmt, None
            if stmt.start in blocks:
                self.problems.add(f"{stmt.line}:{stmt.col}", blocks[stmt.start])
            if stmt.output:
                self._output_line(stmt)
            elif stmt.start in simple:
                # read from the text; if it cannot be (an undefined name), by the parser, alone
                if not (lines.read(self, stmt, simple[stmt.start]) or self._statement(stmt, None)):
                    self._unread(stmt)
            elif stmt.skip or not self._statement(stmt, chunks.trees(stmt)):
                self._unread(stmt)
        self._offset = 0
        if not self.outputs and not self._backward and not self.problems:
            end = self.text.count("\n") + 1
            self.problems.add(f"{end}:1", "the file has no output: add a line such as "
                                          "`output y` (or `y.backward()`) naming what "
                                          "back-prop starts from")
        self.problems.check()
        self.finish_names()
        return self

    def _parse_chunk(self, statements: list[Statement]
                     ) -> dict[int, tuple[int, list[ast.stmt]]] | None:
        firsts, texts, line = [], [], 1
        for stmt in statements:
            text = self.text[stmt.start:stmt.end]
            firsts.append(line)
            texts.append(text)
            line += text.count("\n") + 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", SyntaxWarning)
                warnings.simplefilter("error", DeprecationWarning)
                module = ast.parse("\n".join(texts), mode="exec")
        except (SyntaxError, RecursionError, MemoryError, ValueError):
            return None  # each statement on its own then says where
        trees: list[list[ast.stmt]] = [[] for _ in statements]
        for tree in module.body:
            trees[bisect.bisect_right(firsts, tree.lineno) - 1].append(tree)
        if not all(trees):  # a statement Python read differently than expr_scan: be careful
            return None
        return {stmt.start: (first - 1, body)
                for stmt, first, body in zip(statements, firsts, trees, strict=True)}

    def _unread(self, stmt: Statement) -> None:
        """A statement that could not be parsed, already reported: what it would define is
        broken, not "never defined"."""
        match = _DEFINES.match(self.text, stmt.start, stmt.end)
        if match:
            self._broken.add(match.group(1))

    # -- locations -----------------------------------------------------------------------------
    def _where(self, lineno: int, col_offset: int) -> str:
        """line:col in the file of a position (ast line, UTF-8 byte column) in the statement."""
        stmt = self._statement_read()
        if not self._ascii:  # ast counts UTF-8 bytes; people count characters
            if self._lines is None:
                self._lines = self.text[stmt.start:stmt.end].split("\n")
            text_line = self._lines[min(max(lineno, 1), len(self._lines)) - 1]
            col_offset = len(text_line.encode("utf-8")[:col_offset].decode("utf-8", "ignore"))
        if lineno <= 1:
            return f"{stmt.line}:{stmt.col + col_offset}"
        return f"{stmt.line + lineno - 1}:{col_offset + 1}"

    def _at(self, tree: ast.stmt | ast.expr) -> str:
        lineno = tree.lineno - self._offset
        if lineno <= 1 and self._ascii and self._stmt is not None:
            # Every node's location is made here: the common case written out (µs per node).
            return f"{self._stmt.line}:{self._stmt.col + tree.col_offset}"
        return self._where(lineno, tree.col_offset)

    def _line(self, tree: ast.stmt | ast.expr) -> int:
        return self._statement_read().line + tree.lineno - self._offset - 1

    def _statement_read(self) -> Statement:
        """The statement being read: locations are only asked for while read() walks one."""
        assert self._stmt is not None, "no statement is being read"
        return self._stmt

    # -- statements ----------------------------------------------------------------------------
    def _statement(self, stmt: Statement, parsed: tuple[int, list[ast.stmt]] | None) -> bool:
        """Read one statement (``parsed``: its trees from its chunk's parse, if that parsed);
        False if it could not even be parsed."""
        if parsed is not None:
            self._offset, trees = parsed
            for tree in trees:
                self._assignment(tree)
            return True
        self._offset = 0
        source = self.text[stmt.start:stmt.end]
        try:
            # Python only warns about e.g. `1if`; here every doubt is an error with a location,
            # and nothing is printed on the server's stderr.
            with warnings.catch_warnings():
                warnings.simplefilter("error", SyntaxWarning)
                warnings.simplefilter("error", DeprecationWarning)
                module = ast.parse(source, mode="exec")
        except SyntaxError as exc:
            self._syntax_error(exc, source)
            return False
        except (RecursionError, MemoryError):  # expr_scan's bound should prevent this
            p = exceeded(f"{stmt.line}:{stmt.col}", "max_depth", self.limits.max_depth,
                         "this statement is nested too deeply for the parser")
            self.problems.add(p.location, p.message, p.limit)
            return False
        except ValueError as exc:  # e.g. null bytes, which expr_scan reports first anyway
            self.problems.add(f"{stmt.line}:{stmt.col}", f"cannot read this statement: {exc}")
            return False
        for tree in module.body:
            self._assignment(tree)
        return True

    def _syntax_error(self, exc: SyntaxError, source: str) -> None:
        lines = source.split("\n")
        lineno = exc.lineno or 1
        if exc.offset and 1 <= lineno <= len(lines):  # SyntaxError counts characters from 1
            byte = len(lines[lineno - 1][: max(exc.offset - 1, 0)].encode("utf-8"))
            where = self._where(lineno, byte)
        else:
            stmt = self._statement_read()
            where = f"{stmt.line}:{stmt.col}"
        message = str(exc.msg)
        if "too many nested parentheses" in message:
            message = "brackets are nested too deeply (Python's parser reads at most 200 levels)"
        elif "digits" in message and "integer" in message:  # Python's 4,300-digit cap
            self.problems.add(where, f"a number on this line has thousands of digits, over the "
                                     f"limit max_literal={self.limits.max_literal:g}",
                              "max_literal")
            return
        self.problems.add(where, f"syntax error: {message}")

    def _output_line(self, stmt: Statement) -> None:
        for name, line, col in output_names(stmt, self.problems):
            found = self._lookup(name, f"{line}:{col}", line)
            if found is not None:
                self.outputs.setdefault(name, found)

    def _assignment(self, tree: ast.stmt) -> None:
        where = self._at(tree)
        # `name = ...` and `name op= ...`, nearly every line, are none of micrograd's statements.
        if isinstance(tree, ast.Assign) and len(tree.targets) == 1 \
                and isinstance(tree.targets[0], ast.Name):
            target = tree.targets[0].id
        elif isinstance(tree, ast.AugAssign) and isinstance(tree.target, ast.Name):
            target = tree.target.id
        elif micrograd.python_statement(self, tree, where):
            return
        elif self.micrograd and _names_to_values(tree):
            assert isinstance(tree, ast.Assign), "_names_to_values checked it"
            self._tuple_assignment(tree)
            return
        elif isinstance(tree, ast.Assign | ast.AugAssign | ast.AnnAssign):
            self.problems.add(where, "assign to one plain name at a time, like `y = x + 1`")
            return
        elif isinstance(tree, ast.Expr):
            self.problems.add(where, "this line computes a value but does not name it: write "
                                     "`name = ...`, and list results in an `output` line")
            return
        else:
            kind = type(tree).__name__
            self.problems.add(where, f"a Python {kind} statement is not part of the expression "
                                     "language, which has assignments (`y = sin(x)`), updates "
                                     "(`s += x`) and `output` lines")
            return
        if target in RESERVED:
            self.problems.add(where, f"{target} is the name of a function or keyword; "
                                     "pick another name")
            return
        line = self._line(tree)
        if isinstance(tree, ast.Assign):
            if target in self._assigned and not self.micrograd:
                self.problems.add(where, f"{target} is already defined on line "
                                         f"{self._assigned[target]}; use a new name, or "
                                         f"`{target} += ...` to update it")
                return
            self._assigned.setdefault(target, line)
            value = self._right_side(tree.value, target)
        else:
            value = self._update(tree, target)
        self._bind(target, value)

    def _bind(self, target: str, value: node | None) -> None:
        """``target`` now names ``value``; None: its definition failed (reported already)."""
        if value is None:
            self._broken.add(target)
            self.names.pop(target, None)
        else:
            self.names[target] = value
            self._broken.discard(target)

    def _tuple_assignment(self, tree: ast.Assign) -> None:
        """``xmg, ymg = x, y`` (micrograd files): every right side first, then each name bound,
        as Python does."""
        names, right = tree.targets[0], tree.value
        assert isinstance(names, ast.Tuple) and isinstance(right, ast.Tuple), "_names_to_values"
        targets = [t.id for t in names.elts if isinstance(t, ast.Name)]
        values = [self._right_side(v, t) for v, t in zip(right.elts, targets, strict=True)]
        line = self._line(tree)
        for target, value in zip(targets, values, strict=True):
            if target in RESERVED:
                self.problems.add(self._at(tree), f"{target} is the name of a function or "
                                                  "keyword; pick another name")
                continue
            self._assigned.setdefault(target, line)
            self._bind(target, value)

    def _right_side(self, value: ast.expr, target: str) -> node | None:
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
                and value.func.id in ("input", "const"):
            return self._leaf(value, target)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
                and value.func.id == "Value":
            return micrograd.value_leaf(self, value, target)
        if _is_number(value):  # c = 2 makes a const of its own, named c
            number = self._number(value)
            return None if number is None else self._new(self._at(value), "const", number,
                                                         name=self._name(target),
                                                         listed=self.consts)
        count = self._count
        result = self._expression(value)
        if result is not None and result is self._last_created and self._count > count:
            result.name = self._name(target)  # a node this statement made takes its name
        return result

    def _update(self, tree: ast.AugAssign, target: str) -> node | None:
        op = _BINARY.get(type(tree.op))
        if op is None:  # //=, %=, ...
            self._bad_operator(tree.op, self._at(tree))
            return None
        current = self._lookup(target, self._at(tree.target), self._line(tree))
        change = self._expression(tree.value)
        if current is None or change is None:
            return None
        return self._new(self._at(tree), op, current, change, name=self._name(target))

    def _leaf(self, call: ast.Call, target: str) -> node | None:
        assert isinstance(call.func, ast.Name), "_right_side sends only input(...), const(...)"
        kind, where = call.func.id, self._at(call)
        if call.keywords or len(call.args) != 1:
            self.problems.add(where, f"{kind}() takes one number, the starting value, like "
                                     f"`{target} = {kind}(0.5)`")
            return None
        return self.leaf(call, kind, target)

    def leaf(self, call: ast.Call, kind: str, name: str) -> node | None:
        """The ``kind`` leaf ``call`` (input(...), const(...), Value(...)) declares with its one
        argument, a number written out; named ``name``."""
        assert isinstance(call.func, ast.Name), "input(...), const(...) or Value(...)"
        function = call.func.id
        if not _is_number(call.args[0]):
            self.problems.add(self._at(call.args[0]), f"{function}() takes a number written "
                                                      f"out, like {function}(-1.5e-3), not an "
                                                      "expression")
            return None
        value = self._number(call.args[0])
        if value is None:
            return None
        name = self._name(name)
        leaf = self._new(self._at(call), kind, value, name=name,
                         listed=None if kind == "input" else self.consts)
        if kind == "input":
            self.inputs[name] = leaf
        return leaf

    # -- expressions ---------------------------------------------------------------------------
    def _expression(self, root: ast.expr) -> node | None:
        """The node computing ``root``, or None once a problem has been reported."""
        simple = self._simple(root)
        return simple if simple is not None else self._walk(root)

    def _simple(self, tree: ast.expr) -> node | None:
        """``a op b`` or ``f(a)`` of names already defined — nearly every line of a big
        generated file — made without the walk's stack (a third of a 100,000-line parse); the
        same node, location and order as the walk. None for anything else, or an undefined
        name: the walk then reads it (and says what is wrong)."""
        kind = type(tree)
        if kind is ast.BinOp:
            op, left, right = _BINARY.get(type(tree.op)), tree.left, tree.right  # type: ignore[attr-defined]
            if op is None or type(left) is not ast.Name or type(right) is not ast.Name:
                return None
            a, b = self.names.get(left.id), self.names.get(right.id)
            return None if a is None or b is None else self._new(self._at(tree), op, a, b)
        if kind is ast.Call:
            func, args = tree.func, tree.args  # type: ignore[attr-defined]
            if type(func) is not ast.Name or FUNCTIONS.get(func.id) != 1 or len(args) != 1 \
                    or type(args[0]) is not ast.Name or tree.keywords:  # type: ignore[attr-defined]
                return None
            a = self.names.get(args[0].id)
            return None if a is None else self._new(self._at(tree), func.id, a)
        return None

    def _walk(self, root: ast.expr) -> node | None:
        """``_expression`` of any tree, under the whitelist, with an explicit stack."""
        results: list[node | None] = []
        stack: list[tuple[ast.expr, bool]] = [(root, False)]
        while stack:
            tree, children_done = stack.pop()
            if children_done:
                self._combine(tree, results)
                continue
            if isinstance(tree, ast.Name):
                found = self.names.get(tree.id)  # where it is, only to say what is wrong
                results.append(found if found is not None else
                               self._lookup(tree.id, self._at(tree), self._line(tree)))
            elif _is_number(tree):
                number = self._number(tree)
                results.append(None if number is None else self._literal(number, self._at(tree)))
            elif isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub | ast.UAdd):
                stack += [(tree, True), (tree.operand, False)]
            elif isinstance(tree, ast.BinOp) and type(tree.op) in _BINARY:
                stack += [(tree, True), (tree.right, False), (tree.left, False)]
            elif isinstance(tree, ast.Call) and isinstance(tree.func, ast.Attribute):
                if not micrograd.method_ok(self, tree):
                    return None
                stack += [(tree, True), (tree.func.value, False)]
            elif isinstance(tree, ast.Attribute):
                micrograd.attribute_read(self, tree)
                return None
            elif isinstance(tree, ast.Constant) and isinstance(tree.value, str | bytes):
                self.problems.add(self._at(tree), "text in quotes is not part of the expression "
                                                  "language: names are written without quotes")
                return None
            elif isinstance(tree, ast.Call) and self._check_call(tree):
                stack.append((tree, True))
                stack += [(arg, False) for arg in reversed(tree.args)]
            else:
                if isinstance(tree, ast.UnaryOp | ast.BinOp):
                    self._bad_operator(tree.op, self._at(tree))
                elif isinstance(tree, ast.Constant):
                    self.problems.add(self._at(tree), f"{_show(tree.value)} is not a number")
                elif not isinstance(tree, ast.Call):  # _check_call reported calls
                    what = _CONSTRUCTS.get(type(tree), f"a Python {type(tree).__name__}")
                    self.problems.add(self._at(tree), f"{what} is not part of the expression "
                                                      "language")
                return None
        return results[0]

    def _combine(self, tree: ast.expr, results: list[node | None]) -> None:
        where = self._at(tree)
        if isinstance(tree, ast.UnaryOp):
            operand = results.pop()
            if operand is None or isinstance(tree.op, ast.UAdd):
                results.append(operand)
            else:
                results.append(self._new(where, "neg", operand))
            return
        # _expression pushes only these, with a supported operator or a known function
        if isinstance(tree, ast.BinOp):
            count, op = 2, _BINARY[type(tree.op)]
        elif isinstance(tree, ast.Call) and isinstance(tree.func, ast.Attribute):
            count, op = 1, tree.func.attr  # x.relu(): a method of one operand, x
        else:
            assert isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)
            count, op = len(tree.args), tree.func.id
        operands = results[-count:]
        del results[-count:]
        for o in operands:
            if o is None:
                results.append(None)
                return
        results.append(self._new(where, op, *operands))

    def _check_call(self, call: ast.Call) -> bool:
        where = self._at(call)
        if not isinstance(call.func, ast.Name):
            self.problems.add(where, "only functions named directly can be called, like sin(x)")
            return False
        name = call.func.id
        if name in ("input", "const"):
            self.problems.add(where, f"{name}() declares a value on a line of its own, like "
                                     f"`x = {name}(0.5)`; it cannot be part of an expression")
            return False
        if name == "Value":
            self.problems.add(where, "Value(...) makes an input on a line of its own, like "
                                     "`w = Value(0.5)`; it cannot be part of an expression")
            return False
        if name not in FUNCTIONS:
            close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            self.problems.add(where, f"unknown function {name}{hint} (the functions are: "
                                     f"{', '.join(FUNCTIONS)})")
            return False
        if call.keywords or any(isinstance(a, ast.Starred) for a in call.args):
            self.problems.add(where, f"{name}() takes its arguments by position, like "
                                     f"{name}({', '.join('ab'[:FUNCTIONS[name]])})")
            return False
        arity, given = FUNCTIONS[name], len(call.args)
        if given != arity:
            plural = "argument" if arity == 1 else "arguments"
            self.problems.add(where, f"{name} takes {arity} {plural}, but {given} "
                                     f"{'was' if given == 1 else 'were'} given")
            return False
        return True

    def _bad_operator(self, op: ast.AST, where: str) -> None:
        text = _OPERATOR_TEXT.get(type(op), type(op).__name__)
        self.problems.add(where, f"the operator {text} is not part of the expression language"
                                 f"{_OPERATOR_HINTS.get(text, '')}")

    def _lookup(self, name: str, where: str, line: int) -> node | None:
        if name in self.names:
            return self.names[name]
        if name in self._broken:
            return None
        if name in FUNCTIONS or name in ("input", "const"):
            self.problems.add(where, f"{name} is a function: call it, like {name}(x)")
        elif self._first_defined.get(name, 0) > line:
            self.problems.add(where, f"{name} is used on line {line} but defined only later, on "
                                     f"line {self._first_defined[name]}")
        else:
            self.problems.add(where, f"{name} is used on line {line} but never defined")
        self._broken.add(name)  # say it once
        return None

    # -- numbers and nodes ---------------------------------------------------------------------
    def _number(self, tree: ast.expr) -> float | None:
        """The value of a literal (with its sign), or None after reporting why it is not one."""
        sign = 1.0
        if isinstance(tree, ast.UnaryOp):
            sign = -1.0 if isinstance(tree.op, ast.USub) else 1.0
            tree = tree.operand
        # callers check _is_number first: a literal int or float
        assert isinstance(tree, ast.Constant) and isinstance(tree.value, int | float)
        value, where = tree.value, self._at(tree)
        if isinstance(value, float) and not math.isfinite(value):  # 1e400 reads as inf
            self.problems.add(where, "this number is too large: numbers must be finite")
            return None
        if abs(value) > self.limits.max_literal or abs(value) > 1.7e308:
            p = exceeded(where, "max_literal", float(self.limits.max_literal),
                         f"the number {_magnitude(value)} is too large in magnitude")
            self.problems.add(p.location, p.message, p.limit)
            return None
        return sign * float(value)

    def _literal(self, value: float, where: str) -> node:
        shared = self._literals.get(value)
        if shared is None:
            shared = self._new(where, "const", value, name=_show(value), listed=self.consts)
            self._literals[value] = shared
        return shared

    def _new(self, where: str, op: str, left: node | float | None = None,
             right: node | None = None, *, name: str | None = None,
             listed: list[node] | None = None) -> node:
        self._count += 1
        if self._count > self.limits.max_nodes:
            p = exceeded(where, "max_nodes", self.limits.max_nodes,
                         f"the graph grows past {self.limits.max_nodes:,} nodes here")
            self.problems.fail(p.location, p.message, p.limit)
        made = node(op, left, right, name=name)
        self.locations[made] = where
        self._last_created = made
        if listed is not None:
            listed.append(made)
        return made


def _names_to_values(tree: ast.stmt) -> bool:
    """``a, b = x, y``: one tuple of plain names given a tuple of as many values."""
    if not (isinstance(tree, ast.Assign) and len(tree.targets) == 1):
        return False
    target, value = tree.targets[0], tree.value
    return (isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
            and len(target.elts) == len(value.elts)
            and all(isinstance(t, ast.Name) for t in target.elts)
            and len({t.id for t in target.elts if isinstance(t, ast.Name)}) == len(target.elts))


def _is_number(tree: ast.AST) -> bool:
    """A numeric literal, possibly signed: 2, -1.5e-3, +7."""
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub | ast.UAdd):
        tree = tree.operand
    return isinstance(tree, ast.Constant) and type(tree.value) in (int, float)


def _show(value: Any) -> str:
    """How a number is named on the page: 2 rather than 2.0, full precision otherwise."""
    if type(value) not in (int, float):
        return "text in quotes" if isinstance(value, str | bytes) else repr(value)
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def _magnitude(value: float) -> str:
    try:
        return f"{value:.6g}"
    except OverflowError:  # an integer beyond float64, too long to print (str() refuses ints
        # over 4,300 digits): say how big it is from its bit length instead
        return f"of about {int(abs(value)).bit_length() * 0.30103:,.0f} digits"
