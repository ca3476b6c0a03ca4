#!/usr/bin/env bash
# Install what a new machine lacks, then the Python environment. Idempotent: quick when nothing is missing.
# Debian packages are installed when running as root; otherwise the missing ones are named.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)  # validates compose.yaml without an engine
[[ -x /usr/bin/chromium ]] || missing+=(chromium)  # the status page's browser test drives it headless
[[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing Debian packages: ${missing[*]} — run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

# uv for the Python that .python-version selects (pyenv shims resolve commands per folder).
if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  echo "installing uv"
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
if command -v uv >/dev/null 2>&1; then uv=(uv); else uv=(python3 -m uv); fi
"${uv[@]}" sync --frozen --quiet
