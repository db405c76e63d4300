#!/usr/bin/env bash
# Every check and test of the project, as CI runs them. Stops at the first failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

ensure_chromium() {
  if [[ -x "$CHROMIUM_PATH" ]]; then return; fi
  # Playwright cannot download its own browsers everywhere; Debian's chromium works.
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "Installing Debian's chromium for the end-to-end tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  [[ -x "$CHROMIUM_PATH" ]] ||
    fail "No Chromium at $CHROMIUM_PATH. Install Debian's package 'chromium' (apt-get install chromium) or set CHROMIUM_PATH to a Chromium binary."
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
ensure_chromium
E2E_PORT="$(free_port)" E2E_DEV_API_PORT="$(free_port)" E2E_DEV_VITE_PORT="$(free_port)"
export E2E_PORT E2E_DEV_API_PORT E2E_DEV_VITE_PORT
npm test --workspace e2e --silent

say "Backend tests: pytest"
pytest
