#!/usr/bin/env bash
# Sets everything up and runs takedown locally: the web server and a django-q2 cluster
# together, on SQLite and django-q2's ORM broker unless DATABASE_URL / REDIS_URL say otherwise.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh runtime
export DEBUG=${DEBUG:-1}
py=.venv/bin/python
$py manage.py setup --demo
addr=${ADDR:-127.0.0.1:8000}

$py manage.py qcluster &
cluster=$!
stop() {
  trap - INT TERM EXIT
  kill -TERM "$cluster" 2>/dev/null || true
  wait "$cluster" 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "takedown is at http://$addr/admin/ (Ctrl-C stops the web server and the cluster)"
$py manage.py runserver --noreload "$addr"
