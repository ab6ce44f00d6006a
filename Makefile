.PHONY: run serve test lint format bench

# Set up everything and run the app (web server + django-q2 cluster) on SQLite.
run:
	scripts/run.sh

# Production web server: gunicorn (gunicorn.conf.py) with WhiteNoise, configured from the
# environment (README.md, "Running in production"; deploy/ has systemd units).
serve:
	scripts/serve.sh

# Set up everything and run the whole test suite on SQLite, then PostgreSQL when reachable.
test:
	scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

bench:
	.venv/bin/python bench/normalize.py
	.venv/bin/python bench/import.py
	.venv/bin/python bench/render.py
	.venv/bin/python bench/recheck.py
	.venv/bin/python bench/load.py
