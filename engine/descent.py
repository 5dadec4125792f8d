"""One step of gradient descent on a graph's trainable ``input`` nodes.

``step_values(old, gradient, lr)`` is the update itself, ``old − lr × gradient``, as pure numpy;
``descend(g, lr)`` applies it to a graph: it computes the gradients if the graph has none, feeds
every ``input`` node its new value (``const`` nodes are data and stay), then runs the forward
and backward pass again, as ``p.data += -lr * p.grad`` followed by a new pass does in micrograd.
With several outputs the objective is their sum (the engine's convention for ``back_prop``).
``carried`` is micrograd's forgotten ``zero_grad()``: gradients left from earlier passes, to which
this pass's are added (``p.grad += ...``), so each step uses the running sum.

A step that would leave the reals (an infinite value, or an operator's domain) changes nothing:
the error names the node and every value is put back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import DomainError, EngineError, describe_node
from .graph import graph
from .node import node


class DescentError(EngineError, ValueError):
    """A descent step that cannot be taken (a bad learning rate, a value that overflows)."""


@dataclass(frozen=True)
class Step:
    """What one step did: each input's value before, the gradient used, its value after."""

    inputs: list[node]  # the graph's 'input' nodes, in the engine's order
    old: np.ndarray  # (n,) or (n, B): values before the step
    gradient: np.ndarray  # (n,): d(sum of outputs)/d(input), summed over a batch
    new: np.ndarray  # old - lr * gradient
    lr: float
    outputs_before: np.ndarray  # each output's value before the step, (k,) or (k, B)
    outputs_after: np.ndarray  # and after it
    fresh: np.ndarray | None = None  # (n,): this pass's gradient alone (gradient = carried + fresh)


def step_values(old: np.ndarray, gradient: np.ndarray, lr: float) -> np.ndarray:
    """``old − lr × gradient``. A gradient (n,) applies to every sample of a batch (n, B)."""
    lr = check_learning_rate(lr)
    old = np.asarray(old, dtype=np.float64)
    gradient = np.asarray(gradient, dtype=np.float64)
    if old.ndim == 2 and gradient.ndim == 1:
        gradient = gradient[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        return old - lr * gradient


def check_learning_rate(lr: object) -> float:
    """The learning rate as a float: a finite number above 0."""
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating, np.integer)):
        raise DescentError(f"the learning rate must be a number, not {lr!r}")
    value = float(lr)
    if not np.isfinite(value) or value <= 0:
        raise DescentError(f"the learning rate must be a finite number above 0, not {value}")
    return value


def descend(g: graph, lr: float, carried: Sequence[float] | np.ndarray | None = None) -> Step:
    """Take one descent step on ``g``'s 'input' nodes and recompute it; see the module doc.

    ``carried``: one number per input (engine order), the gradients kept from earlier passes."""
    lr = check_learning_rate(lr)
    program = g.program()
    if program.grads is None or program.values is None:
        g.compute_forward()
        g.back_prop()
    positions = [p for p, n in enumerate(program.nodes) if n.operator == "input"]
    inputs = [program.nodes[p] for p in positions]
    assert program.values is not None and program.grads is not None, "computed above"
    old = program.values[positions].copy()
    fresh = np.array([_summed(program.grads[p]) for p in positions], dtype=np.float64)
    gradient = fresh if carried is None else _checked_carried(carried, inputs) + fresh
    outputs_before = program.values[program.output_positions].copy()
    new = step_values(old, gradient, lr)
    _check_finite(new, inputs, lr)
    try:
        _feed(inputs, new)
        g.compute_forward()
        g.back_prop()
    except DomainError:
        # The step left an operator's domain: the graph goes back to where it was.
        _feed(inputs, old)
        g.compute_forward()
        g.back_prop()
        raise
    outputs_after = program.values[program.output_positions].copy()
    return Step(inputs, old, gradient, new, lr, outputs_before, outputs_after, fresh)


def carried_by_position(g: graph, carried: dict) -> np.ndarray | None:
    """``carried`` as the page sends it, {an input's position in ``g.program().nodes`` (its wire
    id), as text or a number: its kept gradient}, in the order ``descend`` takes; None if empty.
    DescentError names a key that is not an input's, or a gradient that is not a number."""
    if not carried:
        return None
    program = g.program()
    inputs = [n for n in program.nodes if n.operator == "input"]
    order = {id(n): k for k, n in enumerate(inputs)}
    kept = np.zeros(len(inputs))
    for key, value in carried.items():
        text = str(key)
        at = int(text) if text.isascii() and text.isdigit() else -1
        n = program.nodes[at] if 0 <= at < len(program.nodes) else None
        if n is None or id(n) not in order:
            raise DescentError(f"carried: {text[:40]!r} is not the wire id of an input")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DescentError(f"carried: the gradient for {text[:40]!r} must be a number")
        kept[order[id(n)]] = value
    return kept


def _checked_carried(carried: Sequence[float] | np.ndarray, inputs: Sequence[node]) -> np.ndarray:
    array = np.asarray(carried, dtype=np.float64)
    if array.shape != (len(inputs),):
        raise DescentError(f"carried gradients: one number per input ({len(inputs)}) expected, "
                           f"not shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        first = inputs[int(np.flatnonzero(bad)[0])]
        raise DescentError(f"the carried gradient of {describe_node(first)} is not a finite number")
    return array


def _summed(gradient: np.ndarray) -> float:
    """An input's gradient as one number: a batch's per-sample gradients add up."""
    return float(np.sum(gradient))


def _check_finite(new: np.ndarray, inputs: Sequence[node], lr: float) -> None:
    bad = ~np.isfinite(new.reshape(len(new), -1)).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DescentError(f"a step with learning rate {lr:g} makes {describe_node(inputs[i])} "
                           f"{new.reshape(len(new), -1)[i][0]}; nothing was changed (try a "
                           "smaller learning rate)")


def _feed(inputs: Sequence[node], values: np.ndarray) -> None:
    for n, value in zip(inputs, values, strict=True):
        n.feed(float(value) if np.ndim(value) == 0 else value)
