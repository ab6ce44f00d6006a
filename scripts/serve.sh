#!/usr/bin/env bash
# Runs takedown's web server in production: gunicorn with gunicorn.conf.py, static files
# served by WhiteNoise from var/static. Configuration comes from the environment (README.md,
# "Running in production"); run `manage.py setup` once per deploy, not here: several web
# hosts start at once.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each web host serves its own copy of the static files, collected (hashed and compressed)
# when missing or older than any static file of the code or its packages: compressing takes
# a while, so a restart without an upgrade skips it.
manifest="${TAKEDOWN_VAR_DIR:-var}/static/staticfiles.json"
if [ ! -f "$manifest" ] || [ -n "$(find takedown .venv/lib -path '*/static/*' -type f -newer "$manifest" -print -quit)" ]; then
  .venv/bin/python manage.py collectstatic --noinput -v 0
fi
exec .venv/bin/gunicorn --config gunicorn.conf.py
