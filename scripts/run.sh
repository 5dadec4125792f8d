#!/usr/bin/env bash
# One command: install what is needed, then start Backprop Live on http://127.0.0.1:5000
# (arguments go to `backprop-live serve`, e.g. --port 8000 or --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/backprop-live serve "$@"
