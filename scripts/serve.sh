#!/usr/bin/env bash
# Runs takedown's web server in production: gunicorn with gunicorn.conf.py, static files
# served by WhiteNoise from var/static (collected here first, as each web host needs its
# own copy). Configuration comes from the environment (README.md, "Running in production");
# run `manage.py setup` once per deploy, not here: several web hosts start at once.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python manage.py collectstatic --noinput -v 0
exec .venv/bin/gunicorn --config gunicorn.conf.py
