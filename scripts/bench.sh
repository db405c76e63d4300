#!/usr/bin/env bash
# The benchmarks: rewrites docs/benchmarks.md and docs/benchmarks.svg (about 3 minutes here).
# Loopback only. Arguments go to `python -m bench` (--help lists them).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

ensure_program redis-server redis-server  # fan-out across two processes
say "Production build (the server under test serves it, as in production)"
npm run build --silent
say "Benchmarks: the project against the guide under plain uvicorn, interleaved"
python -m bench "$@"
