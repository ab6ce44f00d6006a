"""The production topology on one machine: two django-q2 clusters on Redis and PostgreSQL.

Two real `manage.py qcluster` processes share the work of a 2,000-URL recheck (against
loopback HTTP servers standing in for ten hosts) and a 50,000-row import job: every URL is
fetched and recorded once, every row imported once, the job run once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from takedown.models import InfringingURL, Job, URLCheck

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TAKEDOWN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
HOSTS = [f"h{i}.example.test" for i in range(10)]
URLS = 2000
IMPORT_ROWS = 50_000

pytestmark = pytest.mark.django_db(transaction=True)


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def redis_broker(monkeypatch):
    """This process enqueues on Redis, under a cluster name of its own (the clusters' Q_NAME)."""
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL pass: the clusters share the test database")
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    from django_q.conf import Conf

    name = f"takedown-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    monkeypatch.setattr(Conf, "PREFIX", name)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    monkeypatch.setattr(Conf, "Q_STAT", f"django_q:{name}:cluster")
    yield name
    keys = client.keys(f"*{name}*")
    if keys:
        client.delete(*keys)
    client.close()


class Hosts:
    """One loopback HTTP server answering for every stand-in host; counts requests per path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        lock = threading.Lock()
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    hits[self.path] += 1
                if self.path.startswith("/u/"):
                    time.sleep(0.02)
                    status, body = (
                        200,
                        f"<html><head><title>Item {self.path}</title></head><body>x</body></html>",
                    )
                else:
                    status, body = 404, "<title>Not Found</title>"
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def item_hits(self) -> Counter[str]:
        return Counter({path: n for path, n in self.hits.items() if path.startswith("/u/")})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hosts():
    served = Hosts()
    yield served
    served.close()


def _cluster_env(name: str, port: int) -> dict[str, str]:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=REDIS_URL,
        Q_NAME=name,
        Q_WORKERS="2",
        SECRET_KEY=settings.SECRET_KEY,  # task packages are signed with it
        DEBUG="1",
        TAKEDOWN_PROBE_ALLOW_LOOPBACK="1",
        TAKEDOWN_PROBE_EXTRA_PORTS=str(port),
        # The stand-in hosts; and should anything probe the imported YouTube rows, it meets a
        # closed loopback port instead of the network.
        TAKEDOWN_PROBE_RESOLVE=",".join(
            f"{host}=127.0.0.1" for host in (*HOSTS, "www.youtube.com", "youtube.com")
        ),
        TAKEDOWN_CHECK_BATCH="100",
        PYTHONUNBUFFERED="1",
    )
    return env


def _due_urls(artist, port: int) -> list[int]:
    now = timezone.now()
    rows = []
    for i in range(URLS):
        url = f"http://{HOSTS[i % len(HOSTS)]}:{port}/u/{i}"
        rows.append(
            InfringingURL(
                artist=artist,
                url=url,
                normalized_url=url,
                host=HOSTS[i % len(HOSTS)],
                category="synthetic_sexual",
                legal_route="platform_policy",
                status="open",
                next_check_at=now - timedelta(seconds=1),
            )
        )
    return [u.pk for u in InfringingURL.objects.bulk_create(rows)]


def _import_rows() -> list[dict]:
    return [
        {"url": f"https://www.youtube.com/watch?v=t{i:010d}", "category": "synthetic_sexual"}
        for i in range(IMPORT_ROWS)
    ]


def _wait(clusters, done, seconds: float = 60) -> int:
    """Poll until `done()`; returns how many clusters showed a heartbeat at once, at most."""
    from django_q.status import Stat

    deadline = time.monotonic() + seconds
    heartbeats = 0
    while not done():
        assert all(c.poll() is None for c in clusters), "a cluster exited"
        assert time.monotonic() < deadline, "the clusters did not finish in time"
        heartbeats = max(heartbeats, len(Stat.get_all()))
        time.sleep(0.5)
    return heartbeats


def test_two_clusters_on_redis_and_postgresql_miss_nothing_and_do_nothing_twice(
    redis_broker, hosts, artist, platforms, staff
):
    from django_q.models import Failure, Schedule, Success
    from django_q.tasks import async_task

    from takedown import jobs

    Schedule.objects.all().delete()  # the clusters' clock queues nothing of its own here
    url_ids = _due_urls(artist, hosts.port)
    env = _cluster_env(redis_broker, hosts.port)
    clusters = [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(2)
    ]
    try:
        # First the recheck: the import's rows are due for their first check as soon as they
        # are stored, and they name real hosts, which must not be probed from a test.
        for _ in range(4):  # the schedule's ticks, as the clusters' clock would queue them
            async_task("takedown.tasks.recheck_tick")
        heartbeats = _wait(
            clusters,
            lambda: Success.objects.filter(func="takedown.tasks.recheck_tick").count() == 4,
        )
        job = jobs.job_start(
            kind=Job.Kind.IMPORT,
            user=staff,
            agency_id=artist.agency_id,
            total=IMPORT_ROWS,
            params={"rows": _import_rows(), "artist_id": artist.pk, "source": "csv"},
        )
        finished = (Job.State.DONE, Job.State.FAILED)
        heartbeats = max(heartbeats, _wait(clusters, lambda: Job.objects.get(pk=job.pk).state in finished))
        # Both clusters reported to the broker, which /health/ reads.
        assert heartbeats == 2
    finally:
        # SIGTERM to the main process only, as systemd's KillMode=mixed does: the cluster then
        # stops its workers itself (sent to the whole group, it hangs).
        for cluster in clusters:
            os.kill(cluster.pid, signal.SIGTERM)
        for cluster in clusters:
            try:
                cluster.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(cluster.pid, signal.SIGKILL)
                cluster.wait(15)

    # The recheck: each URL fetched once, recorded once, released.
    assert len(hosts.item_hits()) == URLS and set(hosts.item_hits().values()) == {1}
    per_url = Counter(URLCheck.objects.filter(url_id__in=url_ids).values_list("url_id", flat=True))
    assert len(per_url) == URLS and set(per_url.values()) == {1}
    assert not InfringingURL.objects.filter(pk__in=url_ids).exclude(check_claim="").exists()
    assert (
        sum(Success.objects.filter(func="takedown.tasks.recheck_tick").values_list("result", flat=True))
        == URLS
    )
    assert URLCheck.objects.count() == URLS  # nothing else was probed

    # The import job: run once, every row stored once, its rows dropped from the job.
    job.refresh_from_db()
    assert (job.state, job.result["created"], job.result["duplicates"]) == ("done", IMPORT_ROWS, 0)
    assert InfringingURL.objects.filter(artist=artist, host="www.youtube.com").count() == IMPORT_ROWS
    assert "rows" not in job.params
    assert list(Success.objects.filter(func="takedown.tasks.run_job").values_list("result", flat=True)) == [
        "done"
    ]
    assert not Failure.objects.exists()
