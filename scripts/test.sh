#!/usr/bin/env bash
# Every check and test of the project, as CI runs them. Stops at the first failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

free_port() { python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

say "Lint and types: ruff, mypy --strict, Biome, tsc"
ruff check .
ruff format --check .
mypy
lint-imports pyproject.toml  # the layers of backend/app (pyproject.toml, docs/architecture.md)
biome ci .
npm run typecheck --workspaces --silent
node scripts/validate-asyncapi.mjs docs/asyncapi.json  # the AsyncAPI initiative's own parser

say "Frontend unit tests: Vitest"
npm test --workspace frontend --silent

say "Production build, and the initial JavaScript against its size budget"
npm run build --silent
npm run size --workspace frontend --silent

say "End-to-end tests: Playwright in Chromium"
ensure_program "$CHROMIUM_PATH" chromium  # or set CHROMIUM_PATH to a Chromium binary
ensure_program redis-server redis-server  # chat across processes, here and in pytest
ensure_program nginx nginx                # pytest puts the README's nginx example in front
E2E_PORT="$(free_port)" E2E_DEV_API_PORT="$(free_port)" E2E_DEV_VITE_PORT="$(free_port)"
export E2E_PORT E2E_DEV_API_PORT E2E_DEV_VITE_PORT
npm test --workspace e2e --silent

say "Backend tests: pytest (with a real Redis)"
pytest
