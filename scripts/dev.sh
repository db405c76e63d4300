#!/usr/bin/env bash
# Development: Vite (hot reload) and uvicorn --reload in one terminal; Ctrl-C stops both.
# Open Vite's port: it serves the SPA and forwards /api and the WebSocket paths to uvicorn.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

export APP_PORT="${APP_PORT:-8000}" VITE_PORT="${VITE_PORT:-5173}"
# A reload after each save: no production drain before uvicorn restarts its worker.
export APP_SHUTDOWN_DRAIN_SECONDS="${APP_SHUTDOWN_DRAIN_SECONDS:-0}"
say "Open http://127.0.0.1:$VITE_PORT (uvicorn on :$APP_PORT behind Vite's proxy)"
exec concurrently --kill-others --names api,web --prefix-colors blue,magenta \
  "uvicorn app.main:create_app --factory --reload --reload-dir backend/app --host 127.0.0.1 --port $APP_PORT" \
  "npm run dev --workspace frontend -- --host 127.0.0.1"
