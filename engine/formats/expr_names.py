"""What an expression file's nodes are called on the page, and what it says besides problems.

In an ``.expr`` file a node takes the name of the statement that made it. In micrograd code
(expr_micrograd.py) names work as in Python — ``x = x * w`` binds ``x`` again — so the page
needs each version told apart: a name already shown gets a prime (x, x′, x″, ...), and a label
(``label='x1'``, ``n.label = 'n'``) replaces the name. Those shown names are the keys of the
loaded file's inputs, outputs and names (the page's what-if sends them back).

Notes are what a file has that is accepted and ignored (micrograd's import, print lines): said
with their line and column, never errors.
"""

from __future__ import annotations

from ..node import node
from . import expr_micrograd as micrograd
from .limits import Limits
from .problems import Problem


class Names:
    """The naming half of ``Expression`` (a mixin: Expression fills in the rest)."""

    names: dict[str, node]
    inputs: dict[str, node]
    outputs: dict[str, node]
    locations: dict[node, str]
    _literals: dict[float, node]

    def __init__(self, text: str, limits: Limits) -> None:
        self._note_limit = limits.max_problems
        self.notes: list[Problem] = []  # accepted and ignored (imports, print): said, not errors
        self._notes_left_out = 0  # notes past the limit, counted only
        # micrograd's dialect: names may be rebound, and every node shown gets a name of its own
        self.micrograd = micrograd.MICROGRAD.search(text) is not None
        self._shown: set[str] = set()  # names given to nodes (micrograd files)
        self._versions: dict[str, int] = {}  # name -> its latest prime (micrograd files)
        self._backward: dict[int, tuple[str, node]] = {}  # `y.backward()`: node id -> (y, node)

    def _name(self, name: str) -> str:
        """The name a new node gets: ``name``, primed in a micrograd file if already shown."""
        if not self.micrograd:
            return name
        shown = micrograd.primed(name, self._shown, self._versions)
        self._shown.add(shown)
        return shown

    def relabel(self, found: node, label: str) -> None:
        """``n.label = 'text'``: the node shows ``label`` (primed if another node shows it)."""
        if found.name == label:
            return
        if self.micrograd:
            self._shown.discard(found.name or "")
        found.name = self._name(label)

    def note(self, where: str, message: str) -> None:
        """Something accepted and ignored, said on the page beside the errors."""
        if len(self.notes) < self._note_limit:
            self.notes.append(Problem(where, message))
        else:
            self._notes_left_out += 1

    def mark_backward(self, name: str, found: node) -> None:
        """``y.backward()``: ``y`` is an output, as ``output y`` makes it."""
        self._backward.setdefault(found.id, (name, found))

    def finish_names(self) -> None:
        """Once every statement is read: outputs from backward(), keys by shown names."""
        if self.micrograd:
            self._key_by_shown_names()
        for name, found in self._backward.values():
            self.outputs.setdefault(found.name or name, found)
        if self._notes_left_out:
            self.notes.append(Problem("", f"and {self._notes_left_out:,} more notes like these"))

    def _key_by_shown_names(self) -> None:
        """A micrograd file's inputs and names by the names on the page (labels, x′): a name
        rebound since still finds what it was last bound to, unless a node shows that name."""
        self.inputs = {n.name or k: n for k, n in self.inputs.items()}
        literals = set(self._literals.values())  # named after their number, shared
        names: dict[str, node] = {}
        for made in self.locations:
            if made.name is not None and made not in literals:
                names.setdefault(made.name, made)
        for name, found in self.names.items():
            names.setdefault(name, found)
        self.names = names
