"""``engine.show``: the animated graph inline in a Jupyter notebook (the ``notebook`` extra).

The widget lives in ``engine.notebook``, the one module that imports anywidget. It is loaded by
name when ``show`` is first called, so importing the engine never needs Jupyter, and the import
contracts (.importlinter) keep every other engine module from importing it.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXTRA_MODULES = {"anywidget", "traitlets", "ipywidgets"}


def show(target: Any, **options: Any) -> Any:
    """Display ``target`` — a graph, a node (its graph), or a loaded file — as an animated
    widget: ``engine.show(g)``; ``options`` go to ``engine.notebook.GraphWidget``."""
    try:
        notebook = importlib.import_module("engine.notebook")
    except ModuleNotFoundError as exc:
        if exc.name not in _EXTRA_MODULES:
            raise
        raise ModuleNotFoundError(
            f"engine.show needs {exc.name}, which the notebook extra installs: "
            "pip install 'backprop-live[notebook]'", name=exc.name) from None
    return notebook.show(target, **options)
