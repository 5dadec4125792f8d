"""Where the widget's built JavaScript and CSS are: ``npm run build`` writes them to static/dist/
(widget.js, widget.css and the layout worker, layout-worker.js). An installed package carries
them as package data of engine.notebook, in ``engine/notebook/dist/``; a source checkout reads
them from the repository's static/dist/. Nothing is fetched from a CDN.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

FILES = ("widget.js", "widget.css", "layout-worker.js")
SOURCE_DIST = Path(__file__).resolve().parents[2] / "static" / "dist"


class BundleMissingError(FileNotFoundError):
    """The widget's JavaScript has not been built."""


def read(name: str) -> str:
    """The text of one built file, from the installed package or the source checkout."""
    packaged = resources.files(__package__).joinpath("dist", name)
    if packaged.is_file():
        return packaged.read_text("utf-8")
    path = SOURCE_DIST / name
    if path.is_file():
        return path.read_text("utf-8")
    checkout = SOURCE_DIST.parents[1]
    if (checkout / "package.json").is_file():
        raise BundleMissingError(f"the notebook widget's {name} is not built: run `npm run "
                                 f"build` in {checkout} (it writes static/dist/{name})")
    raise BundleMissingError(f"this installation lacks the notebook widget's {name} "
                             f"(engine/notebook/dist/{name}): it was built without `npm run "
                             "build`; reinstall backprop-live from a complete wheel")
