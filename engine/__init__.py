"""Backprop Live's engine: scalar automatic differentiation with the reference design's API.

``from engine import node, graph, nn`` runs the reference README's snippets unchanged, and
``from engine import Value`` micrograd's (value.py). Under that API a graph compiles into arrays
and runs level by level with numpy (see compiler.py).
"""

from .descent import DescentError, descend
from .display import show
from .errors import DomainError, EngineError, FeedError, GraphError
from .graph import graph
from .nn import Layer, nn
from .node import abs_ as abs
from .node import (
    cos,
    exp,
    inv,
    lift,
    log,
    neg,
    node,
    relu,
    sigmoid,
    sin,
    sqrt,
    tan,
    tanh,
)
from .node import maximum as max
from .node import minimum as min
from .node import power as pow
from .ops import OPERATORS, OPS
from .trace import Event, Trace
from .value import Value

__all__ = [
    "node", "graph", "nn", "Layer", "Value", "lift", "Event", "Trace", "OPS", "OPERATORS",
    "EngineError", "GraphError", "FeedError", "DomainError", "DescentError", "descend", "show",
    "neg", "sin", "cos", "tan", "exp", "log", "inv", "sqrt", "relu", "tanh", "sigmoid",
]
