"""Removal statistics for one agency, computed in the database.

`removal_stats(agency)` is a pure query function (the API's /stats/ and the dashboard share
it). Counts are conditional aggregates, one GROUP BY query per grouping; no model rows are
loaded.

Definitions:
- notified: URLs that were part of a sent notice (`notified_at` set);
- removed: notified URLs whose removal was confirmed (status removed, `removed_at` set);
- removal rate: removed / notified (None when nothing was notified);
- time to removal: `removed_at - notified_at` of the removed URLs; the median is reported in
  seconds.

The median is where the databases differ. PostgreSQL has the ordered-set aggregate
`percentile_cont(0.5) WITHIN GROUP (ORDER BY removed_at - notified_at)`, which works on
intervals and goes into the same query as the counts. SQLite has no median aggregate: a window
query numbers the durations within each group (ROW_NUMBER() and COUNT() OVER (PARTITION BY
group ORDER BY duration)) and keeps only the middle one or two rows per group, so at most two
durations per group leave the database; their mean is the median.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncWeek
from django.utils import timezone

from takedown.choices import LegalRoute, NoticeStatus, URLStatus
from takedown.models import Agency, InfringingURL, Job, Notice
from takedown.notices.states import ACTIVE_NOTICE_STATES
from takedown.roles import role_has


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont(fraction): the interpolated percentile of an orderable expression."""

    function = "percentile_cont"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


_DURATION = ExpressionWrapper(F("removed_at") - F("notified_at"), output_field=DurationField())
_REMOVED = Q(status=URLStatus.REMOVED, notified_at__isnull=False, removed_at__isnull=False)
_LIVE = Q(status=URLStatus.NOTIFIED)

_COUNTS = {
    "urls": Count("id"),
    "notified": Count("id", filter=Q(notified_at__isnull=False)),
    "removed": Count("id", filter=_REMOVED),
    "live": Count("id", filter=_LIVE),
    "overdue": Count("id", filter=_LIVE & Q(overdue_since__isnull=False)),
    "reuploads": Coalesce(Sum("reupload_count"), 0),
}


def _seconds(value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def _finish(row: dict[str, Any], median: Any, p90: Any = None) -> dict[str, Any]:
    notified = row["notified"]
    return {
        "urls": row["urls"],
        "notified": notified,
        "removed": row["removed"],
        "live": row["live"],
        "overdue": row["overdue"],
        "removal_rate": round(row["removed"] / notified, 4) if notified else None,
        "median_seconds_to_removal": _seconds(median),
        "p90_seconds_to_removal": _seconds(p90),
        "reuploads": row["reuploads"],
    }


def _percentiles_by_window(removed: QuerySet, group: str | None) -> dict[Any, tuple[Any, Any]]:
    """(median, p90) duration per group value, as percentile_cont computes them.

    For a fraction f of n sorted values, percentile_cont interpolates between the values at
    positions lo = floor((n-1)·f)+1 and lo+1. The window query keeps only those rows (at most
    four per group) in the database; the interpolation happens here.
    """
    partition = [F(group)] if group else None
    lo50 = (F("size") - 1) * 5 / 10 + 1
    lo90 = (F("size") - 1) * 9 / 10 + 1
    rows = (
        removed.order_by()  # no Meta.ordering columns in the window query
        .annotate(duration=_DURATION)
        .annotate(
            position=Window(
                RowNumber(), partition_by=partition, order_by=[F("duration").asc(), F("id").asc()]
            ),
            size=Window(Count("id"), partition_by=partition),
        )
        .filter(Q(position=lo50) | Q(position=lo50 + 1) | Q(position=lo90) | Q(position=lo90 + 1))
        .values_list("position", "size", "duration", *([group] if group else []))
    )
    found: dict[Any, dict[int, timedelta]] = {}
    sizes: dict[Any, int] = {}
    for position, size, duration, *rest in rows:
        key = rest[0] if group else None
        found.setdefault(key, {})[position] = duration
        sizes[key] = size

    def interpolate(values: dict[int, timedelta], n: int, fraction: float) -> timedelta:
        h = (n - 1) * fraction
        lo = int(h) + 1
        low = values[lo]
        high = values.get(lo + 1, low)
        return low + (high - low) * (h - int(h))

    return {
        key: (interpolate(values, sizes[key], 0.5), interpolate(values, sizes[key], 0.9))
        for key, values in found.items()
    }


def _grouped(urls: QuerySet, group: str | None, names: tuple[str, ...] = ()) -> list[tuple[dict, Any, Any]]:
    """[(counts row, median, p90)] per value of `group` (one row overall when group is None)."""
    postgres = connection.vendor == "postgresql"
    aggregates = dict(_COUNTS)
    if postgres:
        aggregates["p50"] = Percentile(_DURATION, 0.5, filter=_REMOVED, output_field=DurationField())
        aggregates["p90"] = Percentile(_DURATION, 0.9, filter=_REMOVED, output_field=DurationField())
    if group is None:
        rows = [urls.aggregate(**aggregates)]
    else:
        rows = list(urls.order_by().values(group, *names).annotate(**aggregates))
    if postgres:
        return [(row, row["p50"], row["p90"]) for row in rows]
    found = _percentiles_by_window(urls.filter(_REMOVED), group)
    return [(row, *found.get(row[group] if group else None, (None, None))) for row in rows]


@dataclass(frozen=True)
class Filters:
    """What a dashboard, the statistics API and their exports are narrowed to.

    `since` / `until` (inclusive dates, in the agency's time) bound when a URL was discovered;
    `artist` and `platform` are primary keys; `route` a `LegalRoute` value. None means all.
    """

    since: date | None = None
    until: date | None = None
    artist: int | None = None
    platform: int | None = None
    route: str | None = None

    def apply(self, urls: QuerySet) -> QuerySet:
        tz = timezone.get_current_timezone()
        if self.since:
            urls = urls.filter(discovered_at__gte=_midnight(self.since, tz))
        if self.until:
            urls = urls.filter(discovered_at__lt=_midnight(self.until + timedelta(days=1), tz))
        if self.artist:
            urls = urls.filter(artist_id=self.artist)
        if self.platform:
            urls = urls.filter(platform_id=self.platform)
        if self.route:
            urls = urls.filter(legal_route=self.route)
        return urls


ALL = Filters()


def _midnight(day: date, tz) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day), tz)


def removal_stats(agency: Agency, filters: Filters = ALL) -> dict[str, Any]:
    """Removal rate, median and 90th-percentile time to removal for `agency`: overall, per
    platform, per legal route and per artist.

    Groups with no URL are left out; groups are ordered by notified URLs, most first. The
    number of queries is fixed (two per grouping on SQLite, one on PostgreSQL).
    """
    urls = filters.apply(InfringingURL.objects.items().filter(artist__agency=agency))
    (overall, overall_median, overall_p90) = _grouped(urls, None)[0]

    platforms = [
        {
            "platform": row["platform__slug"],
            "name": row["platform__name"] or "Other",
            **_finish(row, p50, p90),
        }
        for row, p50, p90 in _grouped(urls, "platform_id", ("platform__slug", "platform__name"))
    ]
    labels = dict(LegalRoute.choices)
    routes = [
        {
            "legal_route": row["legal_route"],
            "name": str(labels.get(row["legal_route"], row["legal_route"])),
            **_finish(row, p50, p90),
        }
        for row, p50, p90 in _grouped(urls, "legal_route")
    ]
    artists = [
        {"artist": row["artist__slug"], "name": row["artist__name"], **_finish(row, p50, p90)}
        for row, p50, p90 in _grouped(urls, "artist_id", ("artist__slug", "artist__name"))
    ]

    def order(entry: dict) -> tuple:
        return (-entry["notified"], -entry["urls"], entry["name"])

    return {
        "agency": agency.slug,
        "overall": _finish(overall, overall_median, overall_p90),
        "platforms": sorted(platforms, key=order),
        "legal_routes": sorted(routes, key=order),
        "artists": sorted(artists, key=order),
    }


def weekly_trend(
    agency: Agency, *, weeks: int = 12, today: date | None = None, filters: Filters = ALL
) -> dict[str, list]:
    """URLs discovered and removals confirmed per week (Monday-based), the last `weeks` weeks;
    two queries."""
    today = today or timezone.localdate()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime(first.year, first.month, first.day), tz)
    urls = filters.apply(InfringingURL.objects.items().filter(artist__agency=agency)).order_by()
    new = dict(
        urls.filter(discovered_at__gte=start)
        .annotate(week=TruncWeek("discovered_at", tzinfo=tz))
        .values("week")
        .annotate(n=Count("id"))
        .values_list("week", "n")
    )
    removed = dict(
        urls.filter(removed_at__gte=start)
        .annotate(week=TruncWeek("removed_at", tzinfo=tz))
        .values("week")
        .annotate(n=Count("id"))
        .values_list("week", "n")
    )

    def by_day(counts: dict) -> dict[date, int]:
        return {(k.date() if isinstance(k, datetime) else k): v for k, v in counts.items()}

    new, removed = by_day(new), by_day(removed)
    days = [first + timedelta(days=7 * i) for i in range(weeks)]
    return {
        "weeks": [d.isoformat() for d in days],
        "new_urls": [new.get(d, 0) for d in days],
        "removals": [removed.get(d, 0) for d in days],
    }


def overdue_urls(agency: Agency, *, limit: int = 50, filters: Filters = ALL) -> list[dict[str, Any]]:
    """The URLs still live past their deadline, longest overdue first, with the next step."""
    return list(
        filters.apply(
            InfringingURL.objects.filter(
                artist__agency=agency, overdue_since__isnull=False, status=URLStatus.NOTIFIED
            )
        )
        .order_by("deadline_at", "pk")
        .values(
            "pk",
            "normalized_url",
            "artist__name",
            "platform__name",
            "legal_route",
            "deadline_at",
            "overdue_since",
            "escalation",
        )[:limit]
    )


# -- shared by the admin home, the dashboard and the API ---------------------------------------


def work_summary(user) -> dict:
    """Counts for the home page, in two queries whatever the data size."""
    urls = InfringingURL.objects.visible_to(user).aggregate(
        to_triage=Count(
            "pk",
            filter=Q(status=URLStatus.OPEN)
            & ~Q(
                notice_items__notice__status__in=[
                    *ACTIVE_NOTICE_STATES,
                    NoticeStatus.SENT,
                    NoticeStatus.ACKNOWLEDGED,
                ]
            ),
        ),
        overdue=Count("pk", filter=Q(overdue_since__isnull=False)),
        live=Count("pk", filter=Q(status=URLStatus.NOTIFIED)),
    )
    notices = Notice.objects.visible_to(user).aggregate(
        drafts=Count("pk", filter=Q(status=NoticeStatus.DRAFT)),
        pending=Count("pk", filter=Q(status=NoticeStatus.PENDING)),
        approved=Count("pk", filter=Q(status=NoticeStatus.APPROVED)),
        delivery_problems=Count(
            "pk", filter=Q(status__in=[NoticeStatus.DELIVERY_FAILED, NoticeStatus.DELIVERY_UNKNOWN])
        ),
    )
    running = Job.objects.filter(state__in=["queued", "running"])
    if not user.is_superuser:
        running = running.filter(agency_id=user.agency_id)
    return {
        **urls,
        **notices,
        "jobs": running.count(),
        "is_reviewer": role_has(user, "review_notice"),
        "is_drafter": role_has(user, "add_notice"),
        "is_manager": user.is_superuser or getattr(user, "role", "") == "manager",
    }


def dashboard_figures(agency: Agency, filters: Filters = ALL) -> dict[str, Any]:
    """The dashboard's figures: `removal_stats` with hours, readable durations and percentages
    for each row, the weekly trend and the overdue list (the API serves the same numbers)."""
    figures = removal_stats(agency, filters)
    rows = [figures["overall"], *figures["platforms"], *figures["legal_routes"], *figures["artists"]]
    for row in rows:
        row["median_hours"] = _hours(row["median_seconds_to_removal"])
        row["p90_hours"] = _hours(row["p90_seconds_to_removal"])
        row["median_text"] = human_duration(row["median_seconds_to_removal"])
        row["p90_text"] = human_duration(row["p90_seconds_to_removal"])
        rate = row.get("removal_rate")
        row["rate_percent"] = None if rate is None else round(100 * rate)
    figures["weekly"] = weekly_trend(agency, filters=filters)
    figures["overdue"] = overdue_urls(agency, filters=filters)
    return figures


def human_duration(seconds: float | None) -> str:
    """ "< 1 min", "4 min", "3.2 h", "2.1 d": readable whatever the scale; "–" for none."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return "< 1 min"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 72 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)
