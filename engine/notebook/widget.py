"""``GraphWidget``: the page's graph views, playback, Inspector, what-if and Descend, inline in
JupyterLab and Notebook 7 through anywidget, computed by the engine in this kernel.

The JavaScript (static/js/notebook/widget.js, bundled by ``npm run build``) builds the same
views as the page and speaks the page's protocol over the widget's comm (messages.py); the
kernel answers with KernelGraph (kernel.py).
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

from . import bundle
from .kernel import KernelGraph
from .messages import pack
from .target import Target, as_target

DEFAULT_LR = 0.1
DEFAULT_HEIGHT = 460  # pixels: the graph area (the controls come under it)


class GraphWidget(anywidget.AnyWidget):
    """``GraphWidget(graph_or_node_or_loaded, lr=0.1, height=460, title=None)``: height is the
    graph area's, in pixels."""

    _esm = traitlets.Unicode().tag(sync=True)
    _css = traitlets.Unicode().tag(sync=True)
    # The layout worker's code: the bundle is loaded from a blob: URL, against which the page's
    # `new URL('./layout-worker.js', import.meta.url)` cannot resolve.
    _worker = traitlets.Unicode().tag(sync=True)
    title = traitlets.Unicode().tag(sync=True)
    lr = traitlets.Float(DEFAULT_LR).tag(sync=True)
    height = traitlets.Int(DEFAULT_HEIGHT).tag(sync=True)
    steps = traitlets.Int(0).tag(sync=True)  # descent steps taken (and not undone) in the widget

    def __init__(self, target: Any, *, lr: float = DEFAULT_LR, height: int = DEFAULT_HEIGHT,
                 title: str | None = None, **kwargs: Any) -> None:
        shown: Target = as_target(target, title)
        if height < 200:
            raise ValueError(f"height is in pixels and at least 200, not {height}")
        super().__init__(_esm=bundle.read("widget.js"), _css=bundle.read("widget.css"),
                         _worker=bundle.read("layout-worker.js"), title=shown.title, lr=lr,
                         height=height, **kwargs)
        self.kernel = KernelGraph(shown)
        self.on_msg(self._on_message)

    @property
    def graph(self) -> Any:
        return self.kernel.graph

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or "request" not in content:
            return
        event = content.get("event")
        ack, events = self.kernel.handle(str(event), content.get("payload") or {})
        for name, data in events:
            message, buffers = pack({"event": name, "data": data})
            self.send(message, buffers)
        if event in ("descend", "undo_descend") and ack.get("ok"):
            self.steps = int(ack["steps"])
        message, buffers = pack({"reply": content["request"], "ack": ack})
        self.send(message, buffers)


def show(target: Any, **options: Any) -> None:
    """Display ``target`` as a GraphWidget in the notebook (see engine.show)."""
    from IPython.display import display

    display(GraphWidget(target, **options))
