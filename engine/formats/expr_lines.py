"""Simple lines read from the text, without Python's parser (issue 18).

Nearly every line of a big generated file is ``name = a op b``, ``name = f(a)`` or
``name op= ...`` of one of those, over names already defined. ``ast.parse`` and the walk of its
tree took two thirds of a 100,000-line parse; such a line, matched here by a regular expression,
makes the same nodes, with the same names and locations, in the same order, as the walk
(expr.py's ``_assignment``, ``_right_side``, ``_update`` and ``_simple``). Anything else — a
name not defined yet, a target already assigned, a reserved name, a function that is not an
operator of one operand, a micrograd file, a file that is not ASCII (ast columns count bytes) —
goes to the parser, which reads it, or says what is wrong and where.
"""

from __future__ import annotations

import keyword
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..node import node
    from .expr import Expression
    from .expr_scan import Statement

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# target, "=" or "op=", then a op b (a, op, b) or f(a) (f, a); blanks and tabs around the tokens
SIMPLE_LINE = re.compile(
    rf"({_NAME})[ \t]*(=|[-+*/]=)[ \t]*"
    rf"(?:({_NAME})[ \t]*([-+*/])[ \t]*({_NAME})|({_NAME})[ \t]*\([ \t]*({_NAME})[ \t]*\))[ \t]*")


def simple_lines(expression: Expression, statements: list[Statement]) -> dict[int, re.Match]:
    """statement start → its match, for the statements that may be read here."""
    if expression.micrograd or not expression.text.isascii():
        return {}
    text, found = expression.text, {}
    for stmt in statements:
        if stmt.output or stmt.skip:
            continue
        match = SIMPLE_LINE.fullmatch(text, stmt.start, stmt.end)
        if match:
            found[stmt.start] = match
    return found


def read(expression: Expression, stmt: Statement, match: re.Match) -> bool:
    """Make the line's nodes, as the walk would; False (nothing made) if the parser must."""
    target, sign, left, op, right, function, argument = match.groups()
    names = expression.names
    operands: tuple[node, ...]
    # `if = a + b`: Python's keywords are for the parser to refuse. (Operands are looked up:
    # a keyword is never defined, and no operator of one operand is named like one.)
    if target in expression.reserved or keyword.iskeyword(target) \
            or (sign == "=" and target in expression._assigned):
        return False
    if function is not None:
        a = names.get(argument)
        if expression.functions.get(function) != 1 or a is None:
            return False
        operator, operands, start = function, (a,), match.start(6)
    else:
        a, b = names.get(left), names.get(right)
        if a is None or b is None:
            return False
        operator, operands, start = op, (a, b), match.start(3)
    # the statement starts at its line's column stmt.col, as in expr.py's _at
    where = f"{stmt.line}:{stmt.col + start - stmt.start}"
    if sign == "=":
        expression._assigned[target] = stmt.line
        made = expression._new(where, operator, *operands)
        made.name = expression._name(target)
    else:
        current = names.get(target)
        if current is None:
            return False
        change = expression._new(where, operator, *operands)
        made = expression._new(f"{stmt.line}:{stmt.col}", sign[0], current, change,
                               name=expression._name(target))
    expression._bind(target, made)
    return True
