"""Built-in example graphs, written with the reference API."""

from __future__ import annotations

from .graph import graph
from .node import node


def reference_expression(x1: float = 0.3, x2: float = 0.7,
                         x3: float = 1.4) -> tuple[list[node], node, graph]:
    """The reference README's first example:
    y = (sin(x1+1) + cos(2 x2)) tan(log x3) + (sin(x2+1) + cos(2 x1)) exp(1 + sin x3).

    Returns ([x1, x2, x3], y, graph) with values fed.
    """
    x = [node("input", None, name=f"x{i}") for i in (1, 2, 3)]
    one, two = node("const", None, name="1"), node("const", None, name="2")
    fac1 = node("+", node("sin", node("+", x[0], one)), node("cos", node("*", two, x[1])))
    fac2 = node("tan", node("log", x[2]))
    fac3 = node("+", node("sin", node("+", x[1], one)), node("cos", node("*", two, x[0])))
    fac4 = node("exp", node("+", one, node("sin", x[2])))
    y = node("+", node("*", fac1, fac2), node("*", fac3, fac4), is_output=True, name="y")
    g = graph(x, [one, two], [y])
    g.feed([x1, x2, x3], [1.0, 2.0])
    return x, y, g
