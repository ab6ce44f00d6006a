"""The statistics' rollup (`RemovalRollup`), kept right by the database and recomputed here.

How it stays right: triggers on the URL table (migration 0015; statement-level with transition
tables on PostgreSQL, row-level on SQLite) append a `RollupChange` row, in the transaction of
the change, for every inserted or deleted URL and for every update that changes a counted
column (status, notified_at, removed_at, overdue_since, reupload_count, platform, route,
artist, agency, discovery time, same_as). Services, `.update()`, raw SQL and admin edits are
all covered without each having to remember it. `refresh()` recomputes the cells (artist ×
local discovery day) those rows name from the URLs themselves and deletes the rows it read:
the statistics call it before reading, and the housekeeping tick calls it every minute.

Besides the day cells it rewrites their `RemovalWeek` cells (the removals of those URLs by
the local week of `removed_at`) and adjusts, by the difference between the cells it replaces
and those it writes, the summed tables: `RemovalTotal` (all days, per artist × platform ×
route × bucket), `RemovalFigure` (all days, per agency and one dimension at a time: the whole
agency, each platform, route and artist), `TrendWeek` (per week × artist × platform × route:
discoveries, and removals by the week they were confirmed) and `AgencyWeek` (the same per
agency and week). The figures without any filter read only `RemovalFigure` and
`AgencyWeek`, whose size does not grow with the mix of artists, platforms and routes.

A refresh is idempotent (a cell is recomputed, never incremented), so a change seen twice is
harmless; a change committed while a refresh runs keeps its row for the next one.

Time to removal is kept as a log-scale histogram: bucket 0 holds durations under a minute
(read back as 30 s), bucket k ≥ 1 holds [60·r^(k-1), 60·r^k) seconds with r = 2^(1/4), read
back as its geometric midpoint 60·r^(k-1/2). Each duration x ≥ 0 is then read back within
(√r - 1)·x + 30 s of itself (a factor √r above a minute, 30 s under one), and so is any
interpolation between two of them: a median or p90 from the rollup is within 9.05 % plus 30
seconds of percentile_cont over the exact durations (a negative duration, a removal seen
before the notice was recorded, counts as under a minute).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from takedown.choices import URLStatus
from takedown.models import (
    AgencyWeek,
    InfringingURL,
    RemovalFigure,
    RemovalRollup,
    RemovalTotal,
    RemovalWeek,
    RollupChange,
    TrendWeek,
)

RATIO = 2**0.25
FIRST_SECONDS = 60.0
_LOG_RATIO = math.log(RATIO)
# pg_advisory_xact_lock key: one refresh at a time (two would delete and insert the same cells).
_REFRESH_LOCK = 0x7AE0_0013
_BATCH = 2000
_COUNTS = ("urls", "notified", "live", "overdue", "reuploads")


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a time to removal in seconds (negative counts as under a minute)."""
    if seconds < FIRST_SECONDS:
        return 0
    return 1 + math.floor(math.log(seconds / FIRST_SECONDS) / _LOG_RATIO)


def bucket_value(bucket: int) -> float:
    """The duration (seconds) a bucket stands for: its geometric midpoint."""
    if bucket <= 0:
        return FIRST_SECONDS / 2
    return FIRST_SECONDS * RATIO ** (bucket - 0.5)


def percentile(histogram: Iterable[tuple[int, int]], fraction: float) -> float | None:
    """percentile_cont(fraction) estimated from (bucket, count) pairs; None when empty."""
    pairs = sorted((b, n) for b, n in histogram if n > 0)
    total = sum(n for _, n in pairs)
    if not total:
        return None
    h = (total - 1) * fraction
    lo = int(h)

    def value_at(rank: int) -> float:
        seen = 0
        for bucket, n in pairs:
            seen += n
            if rank < seen:
                return bucket_value(bucket)
        return bucket_value(pairs[-1][0])

    low = value_at(lo)
    high = value_at(min(lo + 1, total - 1))
    return low + (high - low) * (h - lo)


_FIELDS = (
    "agency_id",
    "artist_id",
    "discovered_at",
    "platform_id",
    "legal_route",
    "status",
    "notified_at",
    "removed_at",
    "overdue_since",
    "reupload_count",
)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _cells_of(
    rows: Iterable[tuple], wanted: set[tuple[int, date]] | None, tz
) -> tuple[dict[tuple, list[int]], dict[tuple, int]]:
    """The day cells and the removal-week cells (`RemovalWeek`) of some URL rows."""
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    weeks: dict[tuple, int] = defaultdict(int)
    for agency, artist, discovered, platform, route, status, notified, removed, overdue, reuploads in rows:
        day = timezone.localtime(discovered, tz).date()
        if wanted is not None and (artist, day) not in wanted:
            continue
        if status == URLStatus.REMOVED and notified is not None and removed is not None:
            bucket = bucket_of((removed - notified).total_seconds())
        else:
            bucket = -1
        counts = cells[(agency, day, artist, platform or 0, route, bucket)]
        counts[0] += 1
        if notified is not None:
            counts[1] += 1
        if status == URLStatus.NOTIFIED:
            counts[2] += 1
            if overdue is not None:
                counts[3] += 1
        counts[4] += reuploads
        if removed is not None:
            weeks[
                (agency, day, artist, platform or 0, route, _monday(timezone.localtime(removed, tz).date()))
            ] += 1
    return cells, weeks


def _store(cells: dict[tuple, list[int]], weeks: dict[tuple, int]) -> None:
    RemovalRollup.objects.bulk_create(
        (
            RemovalRollup(
                agency_id=agency,
                day=day,
                artist_id=artist,
                platform_id=platform,
                legal_route=route,
                bucket=bucket,
                urls=c[0],
                notified=c[1],
                live=c[2],
                overdue=c[3],
                reuploads=c[4],
            )
            for (agency, day, artist, platform, route, bucket), c in cells.items()
        ),
        batch_size=_BATCH,
    )
    RemovalWeek.objects.bulk_create(
        (
            RemovalWeek(
                agency_id=agency,
                day=day,
                artist_id=artist,
                platform_id=platform,
                legal_route=route,
                week=week,
                removed=n,
            )
            for (agency, day, artist, platform, route, week), n in weeks.items()
        ),
        batch_size=_BATCH,
    )


class _Delta:
    """What replacing some day cells changes in the summed tables (`RemovalTotal`, `TrendWeek`,
    `RemovalFigure`, `AgencyWeek`)."""

    def __init__(self) -> None:
        self.totals: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(_COUNTS))
        self.trend: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        self.figures: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(_COUNTS))
        self.weeks: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])

    def add(
        self, cells: Iterable[tuple[tuple, list[int]]], weeks: Iterable[tuple[tuple, int]], sign: int
    ) -> None:
        for (agency, day, artist, platform, route, bucket), counts in cells:
            for total in (
                self.totals[(agency, artist, platform, route, bucket)],
                self.figures[(agency, "all", "", bucket)],
                self.figures[(agency, "platform", str(platform), bucket)],
                self.figures[(agency, "route", route, bucket)],
                self.figures[(agency, "artist", str(artist), bucket)],
            ):
                for i, n in enumerate(counts):
                    total[i] += sign * n
            monday = _monday(day)
            self.trend[(agency, monday, artist, platform, route)][0] += sign * counts[0]
            self.weeks[(agency, monday)][0] += sign * counts[0]
        for (agency, _day, artist, platform, route, week), n in weeks:
            self.trend[(agency, week, artist, platform, route)][1] += sign * n
            self.weeks[(agency, week)][1] += sign * n

    def store(self) -> None:
        _store_sums(RemovalTotal, ("agency_id", "artist_id", "platform_id", "legal_route", "bucket"), _COUNTS,
                    self.totals, "artist_id")  # fmt: skip
        _store_sums(TrendWeek, ("agency_id", "week", "artist_id", "platform_id", "legal_route"), ("new", "removed"),
                    self.trend, "artist_id", "week")  # fmt: skip
        _store_sums(
            RemovalFigure, ("agency_id", "dimension", "key", "bucket"), _COUNTS, self.figures, "agency_id"
        )
        _store_sums(AgencyWeek, ("agency_id", "week"), ("new", "removed"), self.weeks, "agency_id", "week")


def _store_sums(
    model, keys: tuple[str, ...], counts: tuple[str, ...], delta: dict[tuple, list[int]], *narrow: str
) -> None:
    """Apply differences to a summed table: read the rows they touch (narrowed by the values
    of the `narrow` key columns the differences name), write them back summed."""
    delta = {key: change for key, change in delta.items() if any(change)}
    if not delta:
        return
    within = {f"{name}__in": sorted({key[keys.index(name)] for key in delta}) for name in narrow}
    current = {
        tuple(row[: len(keys)]): (row[len(keys)], list(row[len(keys) + 1 :]))
        for row in model.objects.filter(**within).values_list(*keys, "pk", *counts)
    }
    stale, fresh = [], []
    for key, change in delta.items():
        pk, now = current.get(key, (None, [0] * len(counts)))
        if pk is not None:
            stale.append(pk)
        summed = [a + b for a, b in zip(now, change, strict=True)]
        if any(summed):
            fresh.append(model(**dict(zip(keys, key, strict=True)), **dict(zip(counts, summed, strict=True))))
    # One statement even when no row existed yet: a read's query count does not depend on it.
    model.objects.filter(pk__in=stale or [0]).delete()
    model.objects.bulk_create(fresh, batch_size=_BATCH)


def _day_start(day: date, tz) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day), tz)


def _recompute(wanted: set[tuple[int, date]], tz) -> int:
    by_artist: dict[int, set[date]] = defaultdict(set)
    for artist, day in wanted:
        by_artist[artist].add(day)
    stale = Q()
    for artist, days in by_artist.items():
        stale |= Q(artist_id=artist, day__in=sorted(days))
    old = RemovalRollup.objects.filter(stale)
    old_weeks = RemovalWeek.objects.filter(stale)
    delta = _Delta()
    delta.add(
        (
            (row[:6], list(row[6:]))
            for row in old.values_list(
                "agency_id", "day", "artist_id", "platform_id", "legal_route", "bucket", *_COUNTS
            )
        ),
        (
            (row[:6], row[6])
            for row in old_weeks.values_list(
                "agency_id", "day", "artist_id", "platform_id", "legal_route", "week", "removed"
            )
        ),
        -1,
    )
    old.delete()
    old_weeks.delete()
    days = [d for _, d in wanted]
    rows = (
        InfringingURL.objects.items()
        .filter(
            artist_id__in=list(by_artist),
            discovered_at__gte=_day_start(min(days), tz),
            discovered_at__lt=_day_start(max(days) + timedelta(days=1), tz),
        )
        .order_by()
        .values_list(*_FIELDS)
        .iterator(chunk_size=_BATCH)
    )
    cells, weeks = _cells_of(rows, wanted, tz)
    _store(cells, weeks)
    delta.add(cells.items(), weeks.items(), 1)
    delta.store()
    return len(cells)


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REFRESH_LOCK])


def refresh() -> int:
    """Bring the rollup up to date with every committed URL change; returns the cells rewritten.

    Reads nothing but the change rows when there are none (one query). Runs under a lock so
    that two refreshes never rewrite the same cells at once.
    """
    if not RollupChange.objects.exists():
        return 0
    tz = timezone.get_current_timezone()
    with transaction.atomic():
        _lock()
        # Only the rows committed now: a change committing later keeps its row for next time.
        claimed_rows = RollupChange.objects.filter(claimed=False).update(claimed=True)
        if not claimed_rows:
            return 0
        claimed = RollupChange.objects.filter(claimed=True)
        wanted = set(
            claimed.annotate(day=TruncDate("discovered_at", tzinfo=tz))
            .values_list("artist_id", "day")
            .distinct()
        )
        written = _recompute(wanted, tz)
        claimed.delete()
    if claimed_rows >= VACUUM_AFTER:
        _vacuum_changes()
    return written


# A catch-up this large (a bulk load, a restore) leaves the change table as that many dead
# rows. Until autovacuum comes round, every read's "any change?" check (a sequential scan of
# an empty table) reads them all: 20-30 ms after a million-row load instead of 0.1 ms.
VACUUM_AFTER = 10_000


def _vacuum_changes() -> None:
    """VACUUM the emptied change table (PostgreSQL, outside a transaction: VACUUM cannot run
    in one) so that it shrinks back to nothing."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {RollupChange._meta.db_table}")


def rebuild() -> int:
    """Recompute the whole rollup from the URLs; returns the number of cells."""
    tz = timezone.get_current_timezone()
    with transaction.atomic():
        _lock()
        RollupChange.objects.all().delete()
        RemovalRollup.objects.all().delete()
        RemovalTotal.objects.all().delete()
        RemovalWeek.objects.all().delete()
        TrendWeek.objects.all().delete()
        RemovalFigure.objects.all().delete()
        AgencyWeek.objects.all().delete()
        rows = InfringingURL.objects.items().order_by().values_list(*_FIELDS).iterator(chunk_size=_BATCH)
        cells, weeks = _cells_of(rows, None, tz)
        _store(cells, weeks)
        delta = _Delta()
        delta.add(cells.items(), weeks.items(), 1)
        delta.store()
    _vacuum_changes()
    analyze()
    return len(cells)


# The tables whose statistics the planner needs to join and aggregate well. On a fresh
# database the small ones (agencies, artists, platforms: under autovacuum's 50-row threshold)
# are never analyzed, and PostgreSQL then plans the agency scoping badly.
ANALYZED = (
    "takedown_agency",
    "takedown_artist",
    "takedown_platform",
    "takedown_user",
    "takedown_infringingurl",
    "takedown_removalrollup",
    "takedown_removaltotal",
    "takedown_removalweek",
    "takedown_trendweek",
    "takedown_removalfigure",
    "takedown_agencyweek",
)


SMALL_TABLES = ("takedown_agency", "takedown_artist", "takedown_platform", "takedown_user")


def analyze_after_import(created: int) -> None:
    """After a large import: the small tables (milliseconds), and the URL table too when the
    import made up most of it (a fresh database, where the planner would think it empty until
    autovacuum comes round)."""
    tables = list(SMALL_TABLES)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", ["takedown_infringingurl"])
            row = cursor.fetchone()
        if row is None or row[0] < created:
            tables.append("takedown_infringingurl")
    analyze(tables)


def analyze(tables: Iterable[str] = ANALYZED) -> None:
    """Refresh the planner's statistics (ANALYZE on PostgreSQL, the same on SQLite)."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
