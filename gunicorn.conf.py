"""gunicorn settings for `make serve` (scripts/serve.sh) and deploy/takedown-web.service.

Every value can be changed from the environment (WEB_*, FORWARDED_ALLOW_IPS); README.md,
"Running in production", says when to.
"""

import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name}={raw!r} must be a positive integer")
    return int(raw)


wsgi_app = "takedown.wsgi:application"
proc_name = "takedown-web"
# Behind a reverse proxy or load balancer on another host, bind an address it can reach.
bind = os.environ.get("WEB_BIND", "127.0.0.1:8000").split(",")

# Sync workers: the requests that matter (imports, PDF rendering) are CPU-bound, and each
# worker holds one database connection. The rule of thumb of gunicorn's documentation.
workers = _int("WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1)
worker_class = "sync"
# A worker silent for this long is killed and its request answered 502 by the proxy. Longer
# than the slowest request we allow: a notice submission renders its PDF within
# TAKEDOWN_PDF_TIMEOUT_SECONDS (30 by default), a 100,000-row import takes ~10 s.
timeout = _int("WEB_TIMEOUT", 90)
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 30)
# Longer than a proxy's idle timeout is pointless; shorter makes the proxy reconnect often.
keepalive = _int("WEB_KEEPALIVE", 5)
# Recycle workers now and then, so that memory a large import or PDF left behind is returned.
max_requests = _int("WEB_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10

# Trust X-Forwarded-Proto (and gunicorn's other secure-scheme headers) only from the proxy:
# its address or network, comma-separated ("*" only when nothing else can reach the port).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
# The client as the proxy saw it, and the time taken (seconds).
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(L)s "%(a)s"'
# Workers' heartbeat files in memory: a slow disk must not look like a hung worker.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"
