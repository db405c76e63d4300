#!/usr/bin/env bash
# Development: Vite (hot reload) and the backend (restarted on each change) in one terminal;
# Ctrl-C stops both. Open Vite's port: it serves the SPA and forwards /api and the WebSocket
# paths to the backend.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

export APP_HOST=127.0.0.1 APP_PORT="${APP_PORT:-8000}" VITE_PORT="${VITE_PORT:-5173}"
# A reload after each save: no production drain before uvicorn restarts its worker.
export APP_SHUTDOWN_DRAIN_SECONDS="${APP_SHUTDOWN_DRAIN_SECONDS:-0}"
# Development conveniences, off unless set (never in production):
# APP_OPERATOR_ON_LOOPBACK: this machine sees /metrics and the Server page without a token.
# APP_DEV_TOKEN_MINTING: POST /api/tokens signs a token for any subject, with no login.
export APP_OPERATOR_ON_LOOPBACK="${APP_OPERATOR_ON_LOOPBACK:-true}"
export APP_DEV_TOKEN_MINTING="${APP_DEV_TOKEN_MINTING:-true}"
say "Development settings: APP_OPERATOR_ON_LOOPBACK=$APP_OPERATOR_ON_LOOPBACK (metrics and the" \
  "Server page open to this machine), APP_DEV_TOKEN_MINTING=$APP_DEV_TOKEN_MINTING (tokens" \
  "for any subject, no login)"
say "Open http://127.0.0.1:$VITE_PORT (the backend on :$APP_PORT behind Vite's proxy)"
# The backend takes production's road (python -m app: the guarded protocol classes, the
# settings from the environment), restarted after each change to backend/app.
exec concurrently --kill-others --names api,web --prefix-colors blue,magenta \
  "python -m app --reload" \
  "npm run dev --workspace frontend -- --host 127.0.0.1"
