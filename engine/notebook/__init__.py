"""The notebook widget (the ``notebook`` extra): ``engine.show(g)`` in JupyterLab or Notebook 7.

The only engine module that imports anywidget; the core loads it by name when ``engine.show``
is called (engine/display.py). See docs/notebook.md.
"""

from .widget import GraphWidget, show

__all__ = ["GraphWidget", "show"]
