#!/usr/bin/env bash
# Prepares a machine to run and test the project; safe to run again (does only what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "bootstrap: $*" >&2; exit 1; }

python=${PYTHON:-python3.11}
if [ ! -x .venv/bin/python ]; then
  command -v "$python" >/dev/null || fail "Python 3.11 is needed ($python not found; set PYTHON=/path/to/python3.11)"
  echo "bootstrap: creating .venv with $python"
  "$python" -m venv .venv
fi

# Reinstall only when the dependencies may have changed.
stamp=.venv/.installed-from-pyproject
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing the project and its dev tools into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
  touch "$stamp"
fi

# The pages' npm packages: GOV.UK Frontend (styles, scripts, fonts, images) and axe-core (browser tests).
npm_stamp=web/node_modules/.installed-from-lock
if [ ! -f "$npm_stamp" ] || [ web/package-lock.json -nt "$npm_stamp" ]; then
  command -v npm >/dev/null || fail "npm is needed for the pages' GOV.UK Frontend; e.g. apt-get install -y npm"
  echo "bootstrap: installing the pages' npm packages (web/package-lock.json)"
  npm ci --prefix web --no-audit --no-fund --loglevel=error
  touch "$npm_stamp"
fi

# The browser tests drive Debian's Chromium (Playwright's own browser download is not reachable).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    fail "Chromium is missing for the browser tests; run: sudo sh -c 'apt-get update && apt-get install -y chromium'"
  fi
  echo "bootstrap: installing Chromium (Debian package) for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y chromium
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    fail "PostgreSQL server binaries are missing; run: sudo sh -c 'apt-get update && apt-get install -y postgresql'"
  fi
  echo "bootstrap: installing PostgreSQL (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y postgresql
fi

command -v java >/dev/null || fail "java (17 or newer) is needed for the Kafka broker; e.g. apt-get install -y openjdk-17-jre-headless"
command -v mvn >/dev/null || fail "mvn is needed to fetch the Kafka broker; e.g. apt-get install -y maven"
