#!/usr/bin/env bash
# Sets everything up and runs the whole test suite on SQLite, then on PostgreSQL when one is
# reachable (DATABASE_URL, or the local server on 127.0.0.1:5432, database "test").
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
py=.venv/bin/python

echo "== lint (ruff)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

pg_url=${DATABASE_URL:-}
case "$pg_url" in postgres*) ;; *) pg_url="" ;; esac
if [ -z "$pg_url" ] && $py - <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", 5432), timeout=2).close()
except OSError:
    sys.exit(1)
PY
then
  pg_url="postgres://postgres@127.0.0.1:5432/test"
fi

status=0
echo "== tests on SQLite"
env -u DATABASE_URL $py -m pytest "$@" || status=$?
if [ -n "$pg_url" ]; then
  echo "== tests on PostgreSQL ($pg_url)"
  DATABASE_URL="$pg_url" $py -m pytest "$@" || status=$?
else
  echo "== PostgreSQL not reachable: skipped the PostgreSQL run (set DATABASE_URL to include it)"
fi
exit $status
