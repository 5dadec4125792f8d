#!/usr/bin/env bash
# One command: install what the tests need, then run every test (lint included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
npm run --silent test:js   # the page's pure modules, with node's own test runner
exec .venv/bin/python -m pytest "$@"
