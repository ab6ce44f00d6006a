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

from datetime import timedelta
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
    Window,
)
from django.db.models.functions import RowNumber

from takedown.choices import LegalRoute, URLStatus
from takedown.models import Agency, InfringingURL


class PercentileMedian(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the interpolated median of an orderable expression."""

    function = "percentile_cont"
    name = "PercentileMedian"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


_DURATION = ExpressionWrapper(F("removed_at") - F("notified_at"), output_field=DurationField())
_REMOVED = Q(status=URLStatus.REMOVED, notified_at__isnull=False, removed_at__isnull=False)
_LIVE = Q(status=URLStatus.NOTIFIED)

_COUNTS = {
    "urls": Count("id"),
    "notified": Count("id", filter=Q(notified_at__isnull=False)),
    "removed": Count("id", filter=_REMOVED),
    "live": Count("id", filter=_LIVE),
    "overdue": Count("id", filter=_LIVE & Q(overdue_since__isnull=False)),
}


def _seconds(value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def _finish(row: dict[str, Any], median: Any) -> dict[str, Any]:
    notified = row["notified"]
    return {
        "urls": row["urls"],
        "notified": notified,
        "removed": row["removed"],
        "live": row["live"],
        "overdue": row["overdue"],
        "removal_rate": round(row["removed"] / notified, 4) if notified else None,
        "median_seconds_to_removal": _seconds(median),
    }


def _medians_by_window(removed: QuerySet, group: str | None) -> dict[Any, timedelta]:
    """Median duration per group value, keeping only the middle rows in the database."""
    partition = [F(group)] if group else None
    middle = (
        removed.order_by()  # no Meta.ordering columns in the window query
        .annotate(duration=_DURATION)
        .annotate(
            position=Window(
                RowNumber(), partition_by=partition, order_by=[F("duration").asc(), F("id").asc()]
            ),
            size=Window(Count("id"), partition_by=partition),
        )
        # Odd size n: row (n+1)/2. Even: rows n/2 and n/2+1 (integer division in both databases).
        .filter(Q(position=(F("size") + 1) / 2) | Q(position=(F("size") + 2) / 2))
        .values_list(group or "size", "duration")
    )
    found: dict[Any, list[timedelta]] = {}
    for key, duration in middle:
        found.setdefault(key if group else None, []).append(duration)
    return {key: sum(values, timedelta()) / len(values) for key, values in found.items()}


def _grouped(urls: QuerySet, group: str | None, names: tuple[str, ...] = ()) -> list[tuple[dict, Any]]:
    """[(counts row, median)] per value of `group` (one row overall when group is None)."""
    postgres = connection.vendor == "postgresql"
    aggregates = dict(_COUNTS)
    if postgres:
        aggregates["median"] = PercentileMedian(_DURATION, filter=_REMOVED, output_field=DurationField())
    if group is None:
        row = urls.aggregate(**aggregates)
        medians = {} if postgres else _medians_by_window(urls.filter(_REMOVED), None)
        return [(row, row["median"] if postgres else medians.get(None))]
    rows = list(urls.order_by().values(group, *names).annotate(**aggregates))
    medians = {} if postgres else _medians_by_window(urls.filter(_REMOVED), group)
    return [(row, row["median"] if postgres else medians.get(row[group])) for row in rows]


def removal_stats(agency: Agency) -> dict[str, Any]:
    """Removal rate and median time to removal for `agency`, overall, per platform and per route.

    Groups with no URL are left out; groups are ordered by notified URLs, most first.
    """
    urls = InfringingURL.objects.filter(artist__agency=agency)
    (overall, overall_median) = _grouped(urls, None)[0]

    platforms = []
    for row, median in _grouped(urls, "platform_id", ("platform__slug", "platform__name")):
        platforms.append(
            {
                "platform": row["platform__slug"],
                "name": row["platform__name"] or "Other",
                **_finish(row, median),
            }
        )
    routes = []
    labels = dict(LegalRoute.choices)
    for row, median in _grouped(urls, "legal_route"):
        route = row["legal_route"]
        routes.append({"legal_route": route, "name": str(labels.get(route, route)), **_finish(row, median)})

    def order(entry: dict) -> tuple:
        return (-entry["notified"], -entry["urls"], entry["name"])

    return {
        "agency": agency.slug,
        "overall": _finish(overall, overall_median),
        "platforms": sorted(platforms, key=order),
        "legal_routes": sorted(routes, key=order),
    }
