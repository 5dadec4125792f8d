#!/usr/bin/env bash
# Installs what Backprop Live needs into ./.venv (and, with --test, what its tests need).
# Safe to run again: each step is skipped when already done. Sourced by run.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
python3 -c "import venv, ensurepip" 2>/dev/null || need_apt+=(python3-venv python3-pip)
if [[ "${1:-}" == "--test" ]] && ! command -v chromium >/dev/null; then
  need_apt+=(chromium)
fi
# nginx: the tests put Debian's in front of a server, with deploy/nginx.conf (in /usr/sbin,
# which a user's PATH may not hold). The tests start their own, on a free port.
if [[ "${1:-}" == "--test" ]] && ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  need_apt+=(nginx)
fi
# redis-server: the tests of several web processes and workers start Debian's on a free port.
if [[ "${1:-}" == "--test" ]] && ! command -v redis-server >/dev/null \
    && [[ ! -x /usr/bin/redis-server ]]; then
  need_apt+=(redis-server)
fi
# PostgreSQL: the store's tests run on a real one too, started by a fixture (tests/postgres.py)
# from Debian's binaries in /usr/lib/postgresql/*/bin, in a temporary folder on a free port.
if [[ "${1:-}" == "--test" ]] && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  need_apt+=(postgresql)
fi
command -v node >/dev/null && command -v npm >/dev/null || need_apt+=(nodejs npm)
if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

[[ -x .venv/bin/python ]] || python3 -m venv .venv
extras=""
# --test adds PyTorch, pinned (torch==2.13.0, the CPU build): the oracle of the micrograd tests
[[ "${1:-}" == "--test" ]] && extras="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}" 2>&1 \
  | grep -v "is ignored: it is neither a file nor a directory" || true

# The page: d3, socket.io-client and dagre from npm (package-lock.json), bundled by esbuild into
# static/dist/ — nothing from a CDN at run time. `npm ci` only when node_modules is missing or
# older than the lock file; the bundle only when a source is newer than it.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
if [[ ! -f static/dist/main.js ]] || [[ -n "$(find static/js scripts/build-page.mjs package-lock.json \
    -newer static/dist/main.js -print -quit)" ]]; then
  npm run --silent build
fi
