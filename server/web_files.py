"""Where the page's files are: the template, the static files with the built bundle, the examples.

Installed from a wheel, they are package data under ``server/_web/`` (setup.py copies the
repository's top-level ``templates/``, ``static/`` and ``examples/`` there when it builds), found
through ``importlib.resources`` whatever the working directory. In a source checkout (an
editable install, ``python -m server``) there is no ``_web``: the files are the repository's own,
and the bundle (``static/dist/``, made by ``npm run build``) may be missing or older than the
sources it is built from — ``bundle_problem`` says so in one line, which ``serve`` prints and the
page shows. Standard library only: setup.py imports this module at build time.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PACKAGED = "_web"  # the folder in the installed package
REPOSITORY = Path(__file__).resolve().parent.parent
# What `npm run build` reads (scripts/build-page.mjs) and what it writes.
BUNDLE_SOURCES = ("static/js", "scripts/build-page.mjs", "package-lock.json")
BUNDLE_DIR = "static/dist"
BUNDLE_ENTRY = "static/dist/main.js"


@dataclass(frozen=True)
class WebFiles:
    root: Path  # holds templates/, static/, examples/
    packaged: bool  # from the wheel (no sources, no bundle check) or a source checkout

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def static(self) -> Path:
        return self.root / "static"

    @property
    def examples(self) -> Path:
        return self.root / "examples"

    def bundle_problem(self) -> str | None:
        """One line saying what to run, or None when the page's bundle is built and current."""
        return None if self.packaged else bundle_problem(self.root)


def locate() -> WebFiles:
    packaged = resources.files("server") / PACKAGED
    if packaged.is_dir():
        # Wheels install as plain folders; a zipped install would need extracting first.
        return WebFiles(Path(str(packaged)), packaged=True)
    return WebFiles(REPOSITORY, packaged=False)


def bundle_problem(root: Path) -> str | None:
    """Missing, or older than a source: the same rule scripts/setup.sh rebuilds by."""
    entry = root / BUNDLE_ENTRY
    if not entry.is_file():
        return (f"The page's bundle ({BUNDLE_DIR}/) is missing: run `npm ci && npm run build` "
                f"(or `bash scripts/setup.sh`) in {root}, then reload the page.")
    built = min(p.stat().st_mtime for p in (root / BUNDLE_DIR).glob("*.js"))
    newer = next(_newer_sources(root, built), None)
    if newer is not None:
        return (f"The page's bundle ({BUNDLE_DIR}/) is older than {newer}: run `npm run build` "
                f"in {root}, then reload the page.")
    return None


def _newer_sources(root: Path, than: float):
    for name in BUNDLE_SOURCES:
        path = root / name
        for source in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if source.is_file() and source.stat().st_mtime > than:
                yield source.relative_to(root).as_posix()
