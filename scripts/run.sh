#!/usr/bin/env bash
# One command: install what is needed, then start Backprop Live.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/backprop-live demo "$@"
