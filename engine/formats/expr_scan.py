"""First pass over expression text: split it into statements and bound how deeply each nests.

Why a pass before ``ast.parse``: Python's parser recurses on the C stack. Nested brackets stop at
200 levels with a SyntaxError, but long chains (``1+1+...``, ``----x``, ``x**x**...``,
``not not ...``, ``a.b.c...``) make it raise RecursionError or MemoryError, and the process
could crash on a small enough stack. This scanner is a flat loop over regex tokens that computes,
for each statement, an upper bound of the depth of the tree ``ast.parse`` would build; statements
above ``Limits.max_depth`` are reported and never parsed.

The bound follows Python's precedence: within one pair of brackets, the tree's depth is at most
1 + (binary operators looser than ``*``) + max over terms of ((``*``-like operators in the term)
+ max over factors of (prefix operators, ``**``, ``.`` and call/subscript trailers + the depth
of the factor's atom)). Every operator is counted at most once, so the bound is never lower than
the real depth, and it stays close to it for ordinary formulas: a 60-term polynomial measures
about 65, not 240.

Splitting into statements lets each be parsed on its own (a syntax error on one line does not
hide the problems of the others) and recognises ``output a, b`` lines, which are not Python.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from dataclasses import dataclass, field

from .limits import Limits, exceeded
from .problems import Collector

_TOKEN = re.compile(
    r"""
    [ \t\f]*  # spaces are skipped within the match: half as many trips round the loop
    (?:(?P<comment>\#[^\n]*)
    |(?P<newline>\n)
    |(?P<cont>\\\n)
    |(?P<number>0[xXoObB][0-9a-fA-F_]*
        |(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)
    |(?P<name>[^\W\d]\w*)
    |(?P<open>[(\[{])
    |(?P<close>[)\]}])
    |(?P<quote>['"])
    |(?P<op>\*\*=?|//=?|->|:=|<<=?|>>=?|[-+*/%@&|^<>=!]=?|[~.,:;])
    |(?P<other>.)
    )""",
    re.VERBOSE,
)

_MUL = frozenset({"*", "/", "//", "%", "@"})
_PREFIX = frozenset({"+", "-", "~"})
_FACTOR = frozenset({"**", "."})  # bind tighter than prefix operators; chains nest
_VALUES = frozenset({"True", "False", "None"})


@dataclass
class Statement:
    start: int  # offset of its first token in the (newline-normalised) text
    end: int  # offset just past its last character
    line: int  # line and column (from 1) of its first token
    col: int
    depth: int = 0  # upper bound of its syntax tree's depth
    output: bool = False  # an ``output a, b`` line
    # (kind, text, line, col), output lines only
    tokens: list[tuple[str, str, int, int]] = field(default_factory=list)
    skip: bool = False  # already reported (too deep, quotes, control characters)


class _Frame:
    """Counters for one pair of brackets (or the statement's top level)."""

    __slots__ = ("add", "mul", "prefix", "atom", "term", "best", "args", "trailer")

    def __init__(self, trailer: bool = False):
        self.add = self.mul = self.prefix = self.atom = self.term = self.best = self.args = 0
        self.trailer = trailer

    def end_factor(self) -> None:
        self.term = max(self.term, self.prefix + self.atom)
        self.prefix = self.atom = 0

    def end_term(self) -> None:
        self.end_factor()
        self.best = max(self.best, self.mul + self.term)
        self.mul = self.term = 0

    def end_item(self) -> None:
        self.end_term()
        self.args = max(self.args, self.add + self.best)
        self.add = self.best = 0

    def depth(self) -> int:
        self.end_item()
        return self.args + 1


# Lines the fast path can take whole: printable ASCII without quotes, backslashes, semicolons
# or square/curly brackets. Anything else goes through the token loop.
_NOT_PLAIN = re.compile(r"[^\t\x20-\x7e]|[\"'\\;\[\]{}]")


def scan(text: str, limits: Limits, problems: Collector) -> list[Statement]:
    """The statements of ``text`` (newlines already normalised to \\n), each with its depth.

    A line that is a whole statement shorter than ``max_depth`` characters cannot nest deeper
    than the limit (each token adds at most one level), so such plain lines skip the token loop:
    a 2 MB file is mostly made of them.
    """
    scanner = _Scanner(text, limits, problems)
    pos, line, size = 0, 1, len(text)
    while pos < size:
        eol = text.find("\n", pos)
        eol = size if eol < 0 else eol
        hash_at = text.find("#", pos, eol)
        code = text[pos:eol if hash_at < 0 else hash_at]
        stripped = code.strip(" \t")
        if (len(code) < limits.max_depth and code.count("(") == code.count(")")
                and not stripped.startswith("output") and _NOT_PLAIN.search(code) is None):
            if stripped:
                indent = len(code) - len(code.lstrip(" \t"))
                scanner.add(Statement(pos + indent, pos + indent + len(stripped), line,
                                      indent + 1))
            pos, line = eol + 1, line + 1
        else:
            pos, line = scanner.scan_line(pos, line)
    return scanner.statements


class _Scanner:
    """The token loop: from a line start to the newline that ends the statement(s) there."""

    def __init__(self, text: str, limits: Limits, problems: Collector):
        self.text, self.limits, self.problems = text, limits, problems
        self.statements: list[Statement] = []

    def add(self, statement: Statement) -> None:
        self.statements.append(statement)
        if len(self.statements) > self.limits.max_statements:
            problem = exceeded(f"{statement.line}:{statement.col}", "max_statements",
                               self.limits.max_statements, f"the file has more than "
                               f"{self.limits.max_statements:,} statements")
            self.problems.fail(problem.location, problem.message, problem.limit)

    def scan_line(self, pos: int, line: int) -> tuple[int, int]:
        """Scan from ``pos`` (a line start); return where the next line starts, and its number."""
        text, problems, limits = self.text, self.problems, self.limits
        max_depth = limits.max_depth
        stack: list[_Frame] = [_Frame()]
        current: Statement | None = None
        after_operand = False  # was the previous token a value (so '-' is binary, '(' a call)?
        line_start = pos

        def finish(end: int) -> None:
            nonlocal current, stack
            if current is None:
                return
            while len(stack) > 1:  # unclosed brackets: ast.parse will say so; fold them anyway
                inner = stack.pop()
                stack[-1].atom = max(stack[-1].atom, inner.depth())
            current.end = end
            current.depth = stack[0].depth()
            if current.depth > max_depth and not current.skip:
                current.skip = True
                problems.add(f"{current.line}:{current.col}", _too_deep(current.depth, limits),
                             "max_depth")
            self.add(current)
            current, stack = None, [_Frame()]

        size = len(text)
        while pos < size:
            match = _TOKEN.match(text, pos)
            if match is None:  # only spaces left
                break
            kind, pos = match.lastgroup, match.end()
            assert kind is not None, "every alternative of _TOKEN is a named group"
            if kind == "comment":
                continue
            if kind in ("newline", "cont"):
                line, line_start = line + 1, pos
                if kind == "newline" and len(stack) == 1:
                    finish(match.start(kind))
                    return pos, line
                continue
            start = match.start(kind)
            token = match.group(kind)
            col = start - line_start + 1
            if kind == "op" and token == ";" and len(stack) == 1:
                finish(start)
                after_operand = False
                continue
            if current is None:
                current = Statement(start, start, line, col)
                current.output = kind == "name" and token == "output"
            if current.output:
                current.tokens.append((kind, token, line, col))
            frame = stack[-1]
            # Brackets are tracked even in a statement already reported, so that it still ends
            # where it should and the next statements are checked on their own.
            if kind == "open":
                stack.append(_Frame(trailer=after_operand))
                after_operand = False
                if len(stack) > max_depth and not current.skip:
                    current.skip = True
                    problems.add(f"{line}:{col}", f"brackets are nested more than {max_depth} "
                                 f"levels deep, over the limit max_depth={max_depth}", "max_depth")
                continue
            if kind == "close":
                if len(stack) > 1:
                    inner = stack.pop()
                    frame = stack[-1]
                    if inner.trailer:  # f(...)(...)...: each call wraps the previous one
                        frame.prefix += 1
                    frame.atom = max(frame.atom, inner.depth())
                else:
                    frame.atom = max(frame.atom, 1)
                after_operand = True
                continue
            if kind == "quote":
                plain = None if current.output else _plain_string(text, start)
                if plain is not None:  # a label: the parser decides where text may stand
                    pos = plain
                    if not current.skip:
                        frame.prefix += after_operand
                        frame.atom = max(frame.atom, 1)
                    after_operand = True
                    continue
                # Skip to the closing quote on this line, so brackets inside do not count.
                line_end = text.find("\n", start)
                line_end = size if line_end < 0 else line_end
                close = text.find(token, start + 1, line_end)
                pos = line_end if close < 0 else close + 1
                if not current.skip:
                    current.skip = True
                    problems.add(f"{line}:{col}", "text in quotes is not part of the expression "
                                                  "language: names are written without quotes "
                                                  "(a micrograd label is plain text in quotes, "
                                                  "like label='x1': no backslash, prefix or "
                                                  "triple quotes)")
                after_operand = True
                continue
            if current.skip:
                continue
            if kind == "other" and unicodedata.category(token) in ("Cc", "Cs", "Co", "Cn"):
                current.skip = True
                problems.add(f"{line}:{col}", f"the character U+{ord(token):04X} is not allowed "
                                              "in an expression file")
            elif kind in ("number", "name", "other"):
                if kind == "name" and keyword.iskeyword(token) and token not in _VALUES:
                    frame.prefix += 1  # not, lambda, if, await, ...: each may nest what follows
                    after_operand = False
                    continue
                if after_operand:  # two values in a row: a syntax error, but count it anyway
                    frame.prefix += 1
                frame.atom = max(frame.atom, 1)
                after_operand = True
            elif token == ",":
                frame.end_item()
                after_operand = False
            elif token in _FACTOR or (token in _PREFIX and not after_operand):
                frame.prefix += 1
                after_operand = False
            elif token in _MUL:
                frame.end_factor()
                frame.mul += 1
                after_operand = False
            else:  # binary + -, comparisons, =, +=, :, ...
                frame.end_term()
                frame.add += 1
                after_operand = False
        finish(size)
        return size, line


# Text in quotes Python reads exactly as this scanner does: one line, no backslash, no prefix
# (an f-string holds code), no triple quotes. Labels (label='x1') and print('...') use it.
_PLAIN_STRING = re.compile(r"'[^'\\\n]*'|\"[^\"\\\n]*\"")


def _plain_string(text: str, start: int) -> int | None:
    """Where the plain string starting at ``start`` ends, or None if it is not one."""
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        return None  # a prefix: f'...', b'...', r'...'
    if text.startswith(text[start] * 3, start):
        return None
    match = _PLAIN_STRING.match(text, start)
    return None if match is None else match.end()


def output_names(stmt: Statement, problems: Collector) -> list[tuple[str, int, int]]:
    """The (name, line, column)s an ``output a, b`` line lists; a malformed line is reported."""
    first, rest = stmt.tokens[0], stmt.tokens[1:]
    if rest and rest[0][0] == "op":
        problems.add(f"{first[2]}:{first[3]}", "`output` is reserved for lines such as "
                                               "`output y`; pick another name")
        return []
    names, expect_name = [], True
    for kind, text, line, col in rest:
        if expect_name and kind == "name":
            names.append((unicodedata.normalize("NFKC", text), line, col))  # as Python does
        elif expect_name or text != ",":
            problems.add(f"{line}:{col}", "an output line lists names separated by commas, "
                                          f"like `output y, z`; found {text!r}")
            return []
        expect_name = not expect_name
    if expect_name:
        last = stmt.tokens[-1]
        problems.add(f"{last[2]}:{last[3]}", "`output` needs a name after it (and after each "
                                             "comma), like `output y`")
        return []
    return names


def _too_deep(depth: int, limits: Limits) -> str:
    return (f"this statement nests brackets and operators about {depth} levels deep, over the "
            f"limit max_depth={limits.max_depth}; split it into several statements "
            "(for a long sum: s = a, then s += b, s += c, ...)")
