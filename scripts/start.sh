#!/usr/bin/env bash
# Production: build the SPA, then uvicorn alone serves it and the WebSocket endpoints.
# Settings come from the environment (APP_HOST, APP_PORT, ...): see README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

say "Building the frontend into frontend/dist"
npm run build --silent

say "Serving on http://${APP_HOST:-127.0.0.1}:${APP_PORT:-8000} (Ctrl-C stops)"
exec python -m app
