"""Removal statistics for one agency, read from the rollup (`takedown.rollups`).

`removal_stats(agency, filters)` is a pure query function (the API's /stats/, the dashboard
and its export share it). Its cost follows the number of rollup cells in the period, not the
number of URLs: the rollup holds counts per agency × local discovery day × artist × platform ×
legal route × time-to-removal bucket, kept current by database triggers and refreshed before
each read (`rollups.refresh`). Without any filter the figures read the sums per dimension
(`RemovalFigure`: the agency, each platform, route and artist, per bucket) in one query; with
an artist, platform or route but no period, the cells summed over all days (`RemovalTotal`);
neither grows with the agency's history. With a period, the day cells of the period. The
number of queries of each kind of read is fixed.

Definitions:
- notified: URLs that were part of a sent notice (`notified_at` set);
- removed: notified URLs whose removal was confirmed (status removed, `removed_at` set);
- removal rate: removed / notified (None when nothing was notified);
- time to removal: `removed_at - notified_at` of the removed URLs, in seconds. The median and
  the 90th percentile come from the rollup's log-scale histogram: within 9.05 % plus 30
  seconds of PostgreSQL's percentile_cont over the exact durations.
Aliases (`same_as` set) are never counted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from takedown import rollups
from takedown.choices import LegalRoute, NoticeStatus, URLStatus
from takedown.models import (
    Agency,
    AgencyWeek,
    Artist,
    InfringingURL,
    Job,
    Notice,
    NoticeItem,
    Platform,
    RemovalFigure,
    RemovalRollup,
    RemovalTotal,
    RemovalWeek,
    TrendWeek,
)
from takedown.notices.states import IN_FLIGHT_STATES
from takedown.roles import role_has

_COUNTED = ("urls", "notified", "live", "overdue", "reuploads")


@dataclass(frozen=True)
class Filters:
    """What a dashboard, the statistics API and their exports are narrowed to.

    `since` / `until` (inclusive dates, in the installation's time zone, TIME_ZONE) bound when
    a URL was discovered: every figure counts the URLs discovered in the period, whenever
    they were notified or removed (the weekly trend shows when those URLs' removals
    happened). `artist` and `platform` are primary keys; `route` a `LegalRoute` value. None
    means all.
    """

    since: date | None = None
    until: date | None = None
    artist: int | None = None
    platform: int | None = None
    route: str | None = None

    def apply(self, urls: QuerySet) -> QuerySet:
        """Narrow a URL queryset."""
        tz = timezone.get_current_timezone()
        if self.since:
            urls = urls.filter(discovered_at__gte=_midnight(self.since, tz))
        if self.until:
            urls = urls.filter(discovered_at__lt=_midnight(self.until + timedelta(days=1), tz))
        return self._same(urls)

    def apply_rollup(self, cells: QuerySet) -> QuerySet:
        """Narrow a `RemovalRollup` queryset (its `day` is the local discovery day), or without
        a period a `RemovalTotal` one."""
        if self.since:
            cells = cells.filter(day__gte=self.since)
        if self.until:
            cells = cells.filter(day__lte=self.until)
        return self._same(cells)

    def _same(self, qs: QuerySet) -> QuerySet:
        if self.artist:
            qs = qs.filter(artist_id=self.artist)
        if self.platform:
            qs = qs.filter(platform_id=self.platform)
        if self.route:
            qs = qs.filter(legal_route=self.route)
        return qs


ALL = Filters()


def _midnight(day: date, tz) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day), tz)


class _Group:
    """Counts and the time-to-removal histogram of one row of the figures."""

    __slots__ = ("counts", "histogram")

    def __init__(self) -> None:
        self.counts = [0] * len(_COUNTED)  # in the order of _COUNTED
        self.histogram: dict[int, int] = defaultdict(int)

    def add(self, bucket: int, sums: list[int]) -> None:
        """Add one rollup row's sums (in the order of _COUNTED)."""
        counts = self.counts
        for i, n in enumerate(sums):
            counts[i] += n
        if bucket >= 0:
            self.histogram[bucket] += sums[0]

    def finish(self) -> dict[str, Any]:
        urls, notified, live, overdue, reuploads = self.counts
        removed = sum(self.histogram.values())
        pairs = self.histogram.items()
        return {
            "urls": urls,
            "notified": notified,
            "removed": removed,
            "live": live,
            "overdue": overdue,
            "removal_rate": round(removed / notified, 4) if notified else None,
            "median_seconds_to_removal": _rounded(rollups.percentile(pairs, 0.5)),
            "p90_seconds_to_removal": _rounded(rollups.percentile(pairs, 0.9)),
            "reuploads": reuploads,
        }


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def removal_stats(agency: Agency, filters: Filters = ALL) -> dict[str, Any]:
    """Removal rate, median and 90th-percentile time to removal for `agency`: overall, per
    platform, per legal route and per artist.

    Groups with no URL are left out; groups are ordered by notified URLs, most first. Without
    filters four queries (refresh check, the per-dimension sums, artists, platforms), with
    any seven (four groupings in place of the sums), plus the refresh's own when URLs changed
    since the last read.
    """
    rollups.refresh()
    overall = _Group()
    by_platform: dict[int, _Group] = defaultdict(_Group)
    by_route: dict[str, _Group] = defaultdict(_Group)
    by_artist: dict[int, _Group] = defaultdict(_Group)
    if filters == ALL:
        # The agency's whole history, summed ahead per dimension: one query of at most
        # (1 + platforms + routes + artists) x buckets rows, whatever the history holds.
        groups = {"all": None, "platform": by_platform, "route": by_route, "artist": by_artist}
        for dimension, key, bucket, *sums in (
            RemovalFigure.objects.filter(agency_id=agency.pk)
            .order_by()
            .values_list("dimension", "key", "bucket", *_COUNTED)
        ):
            if dimension == "all":
                overall.add(bucket, sums)
            elif dimension in groups:
                groups[dimension][key if dimension == "route" else int(key)].add(bucket, sums)
    else:
        if filters.since or filters.until:
            source = filters.apply_rollup(RemovalRollup.objects.filter(agency_id=agency.pk))
        else:  # all of the agency's history: the day cells summed ahead
            source = filters.apply_rollup(RemovalTotal.objects.filter(agency_id=agency.pk))
        source = source.order_by()
        # One grouped query per grouping: the database sums the cells, and at most (groups x
        # buckets) rows come back, however many cells the period holds.
        for key, groups in (
            ("platform_id", by_platform),
            ("legal_route", by_route),
            ("artist_id", by_artist),
        ):
            for value, bucket, *sums in source.values_list(key, "bucket").annotate(
                *(Sum(n) for n in _COUNTED)
            ):
                groups[value].add(bucket, sums)
        for bucket, *sums in source.values_list("bucket").annotate(*(Sum(n) for n in _COUNTED)):
            overall.add(bucket, sums)

    platforms = {
        p.pk: p for p in Platform.objects.filter(pk__in=[k for k in by_platform if k]).only("slug", "name")
    }
    artists = {a.pk: a for a in Artist.objects.filter(agency=agency).only("slug", "name")}
    labels = dict(LegalRoute.choices)

    def order(entry: dict) -> tuple:
        return (-entry["notified"], -entry["urls"], entry["name"])

    platform_rows = []
    for pk, group in by_platform.items():
        platform = platforms.get(pk)
        platform_rows.append(
            {
                "platform": platform.slug if platform else None,
                "name": platform.name if platform else "Other",
                **group.finish(),
            }
        )
    route_rows = [
        {"legal_route": route, "name": str(labels.get(route, route)), **group.finish()}
        for route, group in by_route.items()
    ]
    artist_rows = [
        {"artist": artists[pk].slug, "name": artists[pk].name, **group.finish()}
        for pk, group in by_artist.items()
        if pk in artists
    ]
    return {
        "agency": agency.slug,
        "overall": overall.finish(),
        "platforms": sorted(platform_rows, key=order),
        "legal_routes": sorted(route_rows, key=order),
        "artists": sorted(artist_rows, key=order),
    }


def weekly_trend(
    agency: Agency, *, weeks: int = 12, today: date | None = None, filters: Filters = ALL
) -> dict[str, list]:
    """URLs discovered and removals confirmed per week (Monday-based), the last `weeks` weeks.

    Read from the rollup only, whatever the agency's history: without any filter, one query
    on `AgencyWeek` (one row a week); narrowed by artist, platform or route but without a
    period, one query on `TrendWeek` (at most weeks × artists × platforms × routes rows). With a period (of
    discovery: the removals are those of the URLs discovered in it), the discoveries come from
    `TrendWeek` for the weeks wholly inside the period and from the day cells for the (at most
    two) weeks it cuts, and the removals from `RemovalWeek` (discovery day × removal week) over
    the period's days: three queries, their cost following the period, not the history. Plus
    the refresh's own query.
    """
    rollups.refresh()
    today = today or timezone.localdate()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    last = first + timedelta(days=7 * weeks - 1)
    days = [first + timedelta(days=7 * i) for i in range(weeks)]
    new_by_week: dict[date, int] = defaultdict(int)
    removed_by_week: dict[date, int] = defaultdict(int)
    trend = filters._same(TrendWeek.objects.filter(agency_id=agency.pk)).order_by()
    if filters == ALL:  # one row a week
        for week, new, removed in AgencyWeek.objects.filter(
            agency_id=agency.pk, week__gte=first, week__lte=last
        ).values_list("week", "new", "removed"):
            new_by_week[week] += new
            removed_by_week[week] += removed
    elif not (filters.since or filters.until):
        for week, new, removed in (
            trend.filter(week__gte=first, week__lte=last)
            .values_list("week")
            .annotate(Sum("new"), Sum("removed"))
        ):
            new_by_week[week] += new
            removed_by_week[week] += removed
    else:
        since = max(filters.since or first, first)
        until = min(filters.until or last, last)
        # Weeks wholly inside [since, until] from the weekly sums; the cut ones from the days.
        whole_from = since + timedelta(days=(7 - since.weekday()) % 7)
        whole_to = until - timedelta(days=(until.weekday() + 1) % 7) - timedelta(days=6)
        if whole_from <= whole_to:
            for week, new in (
                trend.filter(week__gte=whole_from, week__lte=whole_to)
                .values_list("week")
                .annotate(Sum("new"))
            ):
                new_by_week[week] += new
            cut = Q(day__lt=whole_from) | Q(day__gt=whole_to + timedelta(days=6))
        else:
            cut = Q()
        cells = filters.apply_rollup(RemovalRollup.objects.filter(agency_id=agency.pk)).order_by()
        for day, new in (
            cells.filter(cut, day__gte=since, day__lte=until).values_list("day").annotate(Sum("urls"))
        ):
            new_by_week[day - timedelta(days=day.weekday())] += new
        removals = filters.apply_rollup(RemovalWeek.objects.filter(agency_id=agency.pk)).order_by()
        for week, removed in (
            removals.filter(week__gte=first, week__lte=last).values_list("week").annotate(Sum("removed"))
        ):
            removed_by_week[week] += removed
    return {
        "weeks": [d.isoformat() for d in days],
        "new_urls": [new_by_week.get(d, 0) for d in days],
        "removals": [removed_by_week.get(d, 0) for d in days],
    }


def overdue_urls(agency: Agency, *, limit: int = 50, filters: Filters = ALL) -> list[dict[str, Any]]:
    """The URLs still live past their deadline, longest overdue first, with the next step.

    One query on the url_overdue index (agency, deadline_at), whatever the agency's history.
    """
    return list(
        filters.apply(
            InfringingURL.objects.filter(
                agency_id=agency.pk, overdue_since__isnull=False, status=URLStatus.NOTIFIED
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
    """Counts for the home page, in a handful of queries that read indexes of the rows in each
    state (today's work), never the agency's whole history of URLs."""
    urls = overdue = InfringingURL.objects.order_by()
    items = NoticeItem.objects.filter(
        notice__status__in=IN_FLIGHT_STATES,
        url__status=URLStatus.OPEN,
    )
    if not user.is_superuser:
        # By the agency's artists, as values: (artist, status) is indexed, so a count of one
        # state is an index-only scan of its entries (the agency's own index holds all URLs).
        artists = list(Artist.objects.filter(agency_id=user.agency_id).values_list("pk", flat=True))
        urls = urls.filter(artist_id__in=artists)
        items = items.filter(url__artist_id__in=artists)
        overdue = overdue.filter(agency_id=user.agency_id)
    counts = {
        # Open URLs not yet in a notice on its way: all open ones, less those the notices in
        # flight hold (counted from the notices' side, a few rows).
        "to_triage": _count_less(urls.filter(status=URLStatus.OPEN), items.values("url_id").distinct()),
        # As the dashboard counts them: notified and past the deadline (the url_overdue index).
        "overdue": overdue.filter(status=URLStatus.NOTIFIED, overdue_since__isnull=False).count(),
        "live": urls.filter(status=URLStatus.NOTIFIED).count(),
    }
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
        **counts,
        **notices,
        "jobs": running.count(),
        "is_reviewer": role_has(user, "review_notice"),
        "is_drafter": role_has(user, "add_notice"),
        "is_manager": user.is_superuser or getattr(user, "role", "") == "manager",
    }


def _count_less(rows: QuerySet, some: QuerySet) -> int:
    """How many `rows` less how many `some` (a part of them), in one statement: one snapshot,
    so a change committing between two counts cannot make the difference wrong or negative."""
    try:
        first, first_params = rows.values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. an agency without artists yet: nothing to count
        return 0
    try:
        second, second_params = some.query.sql_with_params()
    except EmptyResultSet:
        return rows.count()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM ({first}) AS a) - (SELECT COUNT(*) FROM ({second}) AS b)",
            (*first_params, *second_params),
        )
        return cursor.fetchone()[0]


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
