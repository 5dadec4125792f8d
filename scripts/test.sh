#!/usr/bin/env bash
# One command: install what the tests need, then run every test (linters and type checks first).
# Arguments go to pytest, e.g. `bash scripts/test.sh -m "not browser"` for the fast loop.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/lint-imports          # the architecture contracts in .importlinter
.venv/bin/mypy                  # engine/ ([tool.mypy] in pyproject.toml)
npm run --silent lint:js        # ESLint over the page, its tests and scripts
npm run --silent test:js        # the page's pure modules, with node's own test runner
exec .venv/bin/python -m pytest --durations=15 "$@"   # the slowest 15: the run must stay under ~15 min
