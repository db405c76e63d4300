#!/usr/bin/env bash
# Every check and test of the project, as CI runs them. Stops at the first failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

# Installs a Debian package when its program is missing and we may (root, apt); else fails
# naming the package. Playwright cannot download its own browsers everywhere; Debian's works.
ensure_program() {
  local program="$1" package="$2"
  if [[ -x "$program" ]] || command -v "$program" >/dev/null 2>&1; then return; fi
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "Installing Debian's $package for the tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
  fi
  [[ -x "$program" ]] || command -v "$program" >/dev/null 2>&1 ||
    fail "$program not found. Install Debian's package '$package' (apt-get install $package)."
}

free_port() { python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

say "Lint and types: ruff, mypy --strict, Biome, tsc"
ruff check .
ruff format --check .
mypy
biome ci .
npm run typecheck --workspaces --silent

say "Frontend unit tests: Vitest"
npm test --workspace frontend --silent

say "Production build"
npm run build --silent

say "End-to-end tests: Playwright in Chromium"
ensure_program "$CHROMIUM_PATH" chromium  # or set CHROMIUM_PATH to a Chromium binary
ensure_program redis-server redis-server  # chat across processes, here and in pytest
E2E_PORT="$(free_port)" E2E_DEV_API_PORT="$(free_port)" E2E_DEV_VITE_PORT="$(free_port)"
export E2E_PORT E2E_DEV_API_PORT E2E_DEV_VITE_PORT
npm test --workspace e2e --silent

say "Backend tests: pytest (with a real Redis)"
pytest
