"""The engine's exceptions: one base class, so callers can catch everything the engine raises.

The reference design called ``exit()`` on bad input, which ends a script with status 0 as if all
went well. Here every problem is an exception whose message names the node, its operator and the
offending value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .node import node


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class GraphError(EngineError, ValueError):
    """The graph is malformed: unknown operator, wrong arity, a leaf nobody fed, ..."""


class FeedError(EngineError, ValueError):
    """Values given to ``feed`` do not fit the graph (count, shape, non-finite numbers)."""


class DomainError(EngineError, ArithmeticError):
    """An operator met a value outside its domain (log of 0, division by 0, overflow, ...).

    ``node`` is the first node, in the engine's order, whose value or derivative is not finite;
    ``operands`` are the values it was computed from.
    """

    def __init__(self, message: str, node: node | None = None,
                 operands: tuple[float, ...] = ()) -> None:
        super().__init__(message)
        self.node = node
        self.operands = operands


def describe_node(n: node) -> str:
    """How error messages name a node: ``node #12 'x1' (sin)``."""
    name = f" '{n.name}'" if getattr(n, "name", None) else ""
    return f"node #{n.id}{name} ({n.operator})"
