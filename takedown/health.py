"""What `/health/` answers load balancers and monitoring (django-health-check).

Four checks: the database answers, django-q2's broker answers, a cluster has shown a heartbeat
recently, and the disk under TAKEDOWN_VAR_DIR has room. The answer is JSON (`text/plain` on
request) naming each check and "OK" or a short generic reason, with 200 when all pass and 500
otherwise. It needs no sign-in, so it says nothing an outsider could use: no host names,
addresses, versions or error texts (those go to the log).

Load balancers probe a backend by its address over plain HTTP, so `HealthMiddleware` answers
the path before Django validates the Host header or redirects to HTTPS.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from datetime import timedelta

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connections
from django.utils import timezone
from health_check import HealthCheck
from health_check import checks as stock
from health_check.exceptions import HealthCheckException, ServiceUnavailable
from health_check.views import HealthCheckView

PATH = "/health/"
# The schedule every cluster runs: when it falls behind, no cluster is ticking.
CLOCK_SCHEDULE = "takedown.recheck-tick"


@dataclasses.dataclass
class Database(stock.Database):
    """SELECT 1 on a fresh connection; the driver's message (host, port) stays in the log."""

    def run(self) -> None:
        try:
            super().run()
        except HealthCheckException as exc:
            raise ServiceUnavailable("the database does not answer") from exc


@dataclasses.dataclass
class Broker(HealthCheck):
    """django-q2's broker answers: Redis a PING and the queue's length, the ORM broker a count."""

    def run(self) -> None:
        from django_q.brokers import get_broker

        broker = None
        try:
            broker = get_broker()
            broker.ping()
            broker.queue_size()
        except Exception as exc:
            raise ServiceUnavailable("the task broker does not answer") from exc
        finally:
            _release(broker)


def _release(broker) -> None:
    close = getattr(getattr(broker, "connection", None), "close", None)
    if callable(close):  # a Redis client; the ORM broker's is a queryset
        close()
    # Checks run in threads made for this request: close their database connections too.
    connections.close_all()


def _stats_shared() -> bool:
    """Whether this process sees the clusters' django-q2 stats.

    The Redis broker keeps them in Redis; the ORM broker in Django's cache, which the web
    server and the clusters share only when it is not process-local.
    """
    from django.core.cache import caches
    from django_q.conf import Conf

    if Conf.REDIS:
        return True
    return not isinstance(caches[Conf.CACHE], LocMemCache | DummyCache)


@dataclasses.dataclass
class ClusterHeartbeat(HealthCheck):
    """A django-q2 cluster showed a heartbeat within TAKEDOWN_HEALTH_CLUSTER_MAX_AGE seconds.

    Clusters save their stats twice a second, where the broker keeps them. Where this process
    cannot see those (the embedded default: ORM broker, process-local cache) the clock
    schedule stands in: each cluster moves its next run forward every 30 seconds or so, so one
    left behind by more than the allowed age means none is running.
    """

    def run(self) -> None:
        max_age = timedelta(seconds=settings.TAKEDOWN_HEALTH_CLUSTER_MAX_AGE)
        now = timezone.now()
        try:
            age = self._stats_age(now) if _stats_shared() else self._schedule_age(now)
        except Exception as exc:
            raise ServiceUnavailable("cluster status cannot be read") from exc
        if age is None:
            raise ServiceUnavailable("no cluster has reported")
        if age > max_age:
            raise ServiceUnavailable(f"no cluster heartbeat for {int(age.total_seconds())} s")

    @staticmethod
    def _stats_age(now) -> timedelta | None:
        from django_q.brokers import get_broker
        from django_q.status import Stat

        broker = get_broker()
        try:
            stamps = [stat.timestamp for stat in Stat.get_all(broker)]
        finally:
            _release(broker)
        return now - max(stamps) if stamps else None

    @staticmethod
    def _schedule_age(now) -> timedelta | None:
        from django_q.models import Schedule

        try:
            next_run = Schedule.objects.filter(name=CLOCK_SCHEDULE).values_list("next_run", flat=True).first()
        finally:
            _release(None)
        if next_run is None:
            return None
        return max(now - next_run, timedelta(0))


@dataclasses.dataclass
class Disk(HealthCheck):
    """The file system holding var/ (SQLite, collected static files, the key) has room."""

    def run(self) -> None:
        usage = shutil.disk_usage(settings.VAR_DIR)
        used = 100 * (usage.total - usage.free) / usage.total
        if used >= settings.TAKEDOWN_HEALTH_DISK_MAX_PERCENT:
            raise ServiceUnavailable(f"the disk holding var/ is {used:.0f}% full")


class HealthView(HealthCheckView):
    checks = (Database, Broker, ClusterHeartbeat, Disk)

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            self.results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        status = 500 if any(result.error for result in self.results) else 200
        text = request.GET.get("format") == "text" or request.headers.get("accept", "").startswith(
            "text/plain"
        )
        return self.render_to_response_text(status) if text else self.render_to_response_json(status)


class HealthMiddleware:
    """Answers GET and HEAD on /health/ first: before the Host check and the HTTPS redirect."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.view = async_to_sync(HealthView.as_view())

    def __call__(self, request):
        if request.path_info == PATH and request.method in ("GET", "HEAD"):
            return self.view(request)
        return self.get_response(request)
