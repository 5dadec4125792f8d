"""Build hooks (pyproject.toml holds the metadata): the page goes into the wheel.

The repository keeps the page at its top level — templates/, static/ (static/js the sources,
static/dist the bundle `npm run build` makes), examples/ — where the source checkout serves them
from. A wheel has no top level to put them in, so building one copies them into the package, as
``server/_web/`` (server/web_files.py finds them there through importlib.resources). Copying at
build time, rather than mapping folders into the package, keeps the checkout as it is and an
editable install serving the live files.

The bundle is built first, so no wheel or sdist is made without it: in a checkout (node_modules
present) by `npm run build` — whatever it builds, static/dist/ and any other output goes in
with its folder; from an unpacked sdist (no node_modules), the bundle the sdist ships must be
there and newer than its sources, or the build stops and says what to run.

The notebook widget (engine/notebook/, the ``notebook`` extra) loads its built files as package
data of ``engine.notebook``: they are copied from static/dist/ into ``engine/notebook/dist/``
(engine/notebook/bundle.py reads them there, else from a checkout's static/dist/).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from server.web_files import PACKAGED, bundle_problem  # noqa: E402 - standard library only

# What the installed page needs, from the top level: (folder, files to leave out).
WEB = (("templates", ()), ("static", ("js",)), ("examples", ("*.ipynb",)))
# The notebook widget's built files (engine/notebook/bundle.py FILES; tests/server/
# test_packaging.py reads each of those from an installed wheel) and where the wheel has them.
WIDGET_FILES = ("widget.js", "widget.css", "layout-worker.js")
WIDGET_DIST = Path("engine") / "notebook" / "dist"


def build_bundle() -> None:
    if (ROOT / "node_modules").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("building Backprop Live needs npm for the page's bundle: apt-get install npm")
        subprocess.run([npm, "run", "--silent", "build"], cwd=ROOT, check=True)
    problem = bundle_problem(ROOT)
    if problem:
        sys.exit(f"no wheel without the page's bundle. {problem}")


class BuildPy(build_py):
    def run(self) -> None:
        if self.editable_mode:  # an editable install serves the checkout's own files
            super().run()
            return
        build_bundle()
        super().run()
        target = Path(self.build_lib) / "server" / PACKAGED
        shutil.rmtree(target, ignore_errors=True)
        for folder, leave_out in WEB:
            shutil.copytree(ROOT / folder, target / folder,
                            ignore=shutil.ignore_patterns("__pycache__", *leave_out))
        copy_widget_bundle(Path(self.build_lib) / WIDGET_DIST)


def copy_widget_bundle(target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in WIDGET_FILES:
        built = ROOT / "static" / "dist" / name
        if not built.is_file():
            sys.exit(f"no wheel without the notebook widget's {name}: run `npm run build` "
                     f"in {ROOT} (it writes static/dist/{name})")
        shutil.copy2(built, target / name)


class Sdist(sdist):
    def run(self) -> None:
        build_bundle()  # the sdist ships the bundle: building a wheel from it needs no npm
        super().run()


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
