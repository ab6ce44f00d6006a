#!/usr/bin/env bash
# Installs what takedown needs on this machine: system libraries, a virtual environment and
# the pinned Python packages. Safe to run again; skips what is already there.
# Usage: scripts/bootstrap.sh [runtime|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-runtime}

need_apt=()
libs=$(ldconfig -p 2>/dev/null || true)  # read once: grep -q on a pipe would trip pipefail
# WeasyPrint: without HarfBuzz's subsetter a one-page Korean PDF takes seconds and its bytes
# change from run to run.
grep -q 'libharfbuzz-subset\.so\.0' <<<"$libs" || need_apt+=(libharfbuzz-subset0)
grep -q 'libpango-1\.0\.so\.0' <<<"$libs" || need_apt+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ "$mode" = dev ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  # A Korean font for the browser tests' screenshots (the PDFs bundle their own).
  [ -d /usr/share/fonts/truetype/nanum ] || need_apt+=(fonts-nanum)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing system packages: ${need_apt[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Another apt (unattended upgrades, a second setup) may hold the lock: wait for it.
  $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${need_apt[@]}" >/dev/null
fi

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "takedown needs Python 3.11 or newer ($python is $("$python" --version 2>&1))" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv

req=requirements.txt
[ "$mode" = dev ] && req=requirements-dev.txt
stamp=.venv/.installed-$mode
sum=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  echo "Installing Python packages from $req"
  # (This machine's pip config names local mirrors that may be absent; pip says so per package.)
  .venv/bin/pip install --disable-pip-version-check -q -r "$req" 2> >(grep -v "is neither a file nor a directory" >&2)
  echo "$sum" > "$stamp"
fi
