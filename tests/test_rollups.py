"""The statistics' rollup (takedown.rollups) agrees with the URLs whatever happened to them."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takedown import importing, lifecycle, rechecks, rollup_sql, rollups
from takedown.choices import URLStatus
from takedown.models import (
    AgencyWeek,
    Artist,
    InfringingURL,
    RemovalFigure,
    RemovalRollup,
    RemovalTotal,
    RemovalWeek,
    RollupChange,
    TrendWeek,
)
from takedown.stats import ALL, Filters, removal_stats, weekly_trend

pytestmark = pytest.mark.django_db(transaction=False)

NOW = timezone.now().replace(microsecond=0)
BOUND = rollups.RATIO**0.5


def exact_percentile(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over exact values."""
    if not values:
        return None
    values = sorted(values)
    h = (len(values) - 1) * fraction
    lo = int(h)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (h - lo)


def within_bound(estimate: float | None, exact: float | None) -> bool:
    """The stated bound: within 9.05 % (√RATIO - 1) of the exact value, plus 30 seconds."""
    if exact is None:
        return estimate is None
    return estimate is not None and abs(estimate - exact) <= (BOUND - 1) * exact + 30 + 1e-6


def direct(agency, filters: Filters = ALL) -> dict:
    """The figures computed straight from the URL rows, durations exact."""
    groups: dict[tuple, dict] = defaultdict(lambda: {"urls": 0, "notified": 0, "live": 0, "overdue": 0,
                                                      "reuploads": 0, "durations": []})  # fmt: skip
    urls = filters.apply(InfringingURL.objects.items().filter(artist__agency=agency))
    for u in urls:
        for key in (
            ("overall",),
            ("platform", u.platform_id or 0),
            ("route", u.legal_route),
            ("artist", u.artist_id),
        ):
            g = groups[key]
            g["urls"] += 1
            g["notified"] += u.notified_at is not None
            g["live"] += u.status == URLStatus.NOTIFIED
            g["overdue"] += u.status == URLStatus.NOTIFIED and u.overdue_since is not None
            g["reuploads"] += u.reupload_count
            if u.status == URLStatus.REMOVED and u.notified_at and u.removed_at:
                g["durations"].append((u.removed_at - u.notified_at).total_seconds())
    return groups


def assert_agrees(agency, filters: Filters = ALL) -> None:
    figures = removal_stats(agency, filters)
    expected = direct(agency, filters)
    from takedown.models import Platform

    slugs = {p.pk: p.slug for p in Platform.objects.all()}
    slugs[0] = None
    artists = {a.pk: a.slug for a in Artist.objects.all()}
    rows = {("overall",): figures["overall"]}
    rows.update(
        {
            ("platform", pk): r
            for pk, slug in slugs.items()
            for r in figures["platforms"]
            if r["platform"] == slug
        }
    )
    rows.update({("route", r["legal_route"]): r for r in figures["legal_routes"]})
    rows.update(
        {("artist", pk): r for pk, slug in artists.items() for r in figures["artists"] if r["artist"] == slug}
    )
    keys = {k for k in expected if k == ("overall",) or expected[k]["urls"]}
    assert set(rows) >= keys and {k for k in rows if k != ("overall",)} == keys - {("overall",)}
    for key in keys:
        want, got = expected[key], rows[key]
        for name in ("urls", "notified", "live", "overdue", "reuploads"):
            assert got[name] == want[name], (key, name)
        assert got["removed"] == len(want["durations"]), key
        assert within_bound(got["median_seconds_to_removal"], exact_percentile(want["durations"], 0.5)), key
        assert within_bound(got["p90_seconds_to_removal"], exact_percentile(want["durations"], 0.9)), key


def assert_rollup_is_a_rebuild() -> None:
    """The cells kept by the triggers and refreshes are exactly those a rebuild computes."""
    rollups.refresh()
    fields = ("agency_id", "day", "artist_id", "platform_id", "legal_route", "bucket",
              "urls", "notified", "live", "overdue", "reuploads")  # fmt: skip
    kept = sorted(RemovalRollup.objects.values_list(*fields))
    totals = sorted(RemovalTotal.objects.values_list(*(f for f in fields if f != "day")))
    week_fields = ("agency_id", "day", "artist_id", "platform_id", "legal_route", "week", "removed")
    trend_fields = ("agency_id", "week", "artist_id", "platform_id", "legal_route", "new", "removed")
    weeks = sorted(RemovalWeek.objects.values_list(*week_fields))
    trend = sorted(TrendWeek.objects.values_list(*trend_fields))
    figure_fields = (
        "agency_id",
        "dimension",
        "key",
        "bucket",
        "urls",
        "notified",
        "live",
        "overdue",
        "reuploads",
    )
    figures = sorted(RemovalFigure.objects.values_list(*figure_fields))
    agency_weeks = sorted(AgencyWeek.objects.values_list("agency_id", "week", "new", "removed"))
    rollups.rebuild()
    assert sorted(RemovalRollup.objects.values_list(*fields)) == kept
    assert sorted(RemovalTotal.objects.values_list(*(f for f in fields if f != "day"))) == totals
    assert sorted(RemovalWeek.objects.values_list(*week_fields)) == weeks
    assert sorted(TrendWeek.objects.values_list(*trend_fields)) == trend
    assert sorted(RemovalFigure.objects.values_list(*figure_fields)) == figures
    assert sorted(AgencyWeek.objects.values_list("agency_id", "week", "new", "removed")) == agency_weeks


def assert_trend_agrees(agency, filters: Filters = ALL, today=None) -> None:
    """The weekly trend equals a count straight from the URL rows (local days, Monday weeks)."""
    today = today or timezone.localdate()
    trend = weekly_trend(agency, today=today, filters=filters)
    weeks = [date.fromisoformat(w) for w in trend["weeks"]]
    new, removed = defaultdict(int), defaultdict(int)
    for u in filters.apply(InfringingURL.objects.items().filter(artist__agency=agency)):
        day = timezone.localtime(u.discovered_at).date()
        new[day - timedelta(days=day.weekday())] += 1
        if u.removed_at is not None:
            gone = timezone.localtime(u.removed_at).date()
            removed[gone - timedelta(days=gone.weekday())] += 1
    assert trend["new_urls"] == [new[w] for w in weeks], filters
    assert trend["removals"] == [removed[w] for w in weeks], filters


# -- the histogram ------------------------------------------------------------------------------


@given(st.lists(st.floats(min_value=0, max_value=400 * 86400), min_size=1, max_size=60))
def test_it_answers_percentiles_within_the_stated_bound(durations):
    histogram = defaultdict(int)
    for d in durations:
        histogram[rollups.bucket_of(d)] += 1
    for fraction in (0.5, 0.9):
        assert within_bound(
            rollups.percentile(histogram.items(), fraction), exact_percentile(durations, fraction)
        )


def test_it_reads_back_each_bucket_within_a_factor_of_its_values():
    for seconds in (60, 61, 90, 3600, 3601.5, 86400, 30 * 86400, 365 * 86400):
        value = rollups.bucket_value(rollups.bucket_of(seconds))
        assert seconds / BOUND <= value * (1 + 1e-9) and value <= seconds * BOUND * (1 + 1e-9)
    assert rollups.bucket_value(rollups.bucket_of(12)) == 30


# -- the triggers -------------------------------------------------------------------------------


def test_it_has_its_triggers_after_migrate():
    assert rollup_sql.installed(connection)


def test_it_marks_a_change_in_the_transaction_of_the_change(artist, platforms):
    rollups.refresh()
    url = InfringingURL.objects.create(
        artist=artist, url="https://x.com/a/status/1", normalized_url="https://x.com/a/status/1", host="x.com",
        platform=platforms["x"], category="synthetic_sexual", legal_route="platform_policy",
    )  # fmt: skip
    assert RollupChange.objects.count() >= 1
    rollups.refresh()
    assert not RollupChange.objects.exists()
    # A column the figures do not count (the recheck schedule) marks nothing.
    InfringingURL.objects.filter(pk=url.pk).update(next_check_at=NOW, check_claim="x")
    assert not RollupChange.objects.exists()
    InfringingURL.objects.filter(pk=url.pk).update(status=URLStatus.DISMISSED)
    assert RollupChange.objects.exists()


def test_it_keeps_the_agency_on_the_row(artist, other_agency, platforms):
    url = InfringingURL.objects.create(
        artist=artist, url="https://x.com/a/status/2", normalized_url="https://x.com/a/status/2", host="x.com",
        category="synthetic_sexual", legal_route="platform_policy",
    )  # fmt: skip
    assert url.agency_id == artist.agency_id
    artist.agency = other_agency
    artist.save()
    url.refresh_from_db()
    assert url.agency_id == other_agency.pk
    report = importing.import_rows([{"url": "https://x.com/b/status/3", "category": "synthetic_sexual"}],
                                   agency=other_agency, artist=artist)  # fmt: skip
    assert report.created == 1
    assert set(InfringingURL.objects.values_list("agency_id", flat=True)) == {other_agency.pk}


def test_rebuild_rollups_recomputes_the_rollup_from_the_urls(artist, platforms):
    importing.import_rows([{"url": f"https://x.com/a/status/{n}", "category": "synthetic_sexual"} for n in range(5)],
                          agency=artist.agency, artist=artist)  # fmt: skip
    rollups.refresh()
    RemovalRollup.objects.all().delete()
    call_command("rebuild_rollups", stdout=open("/dev/null", "w"))
    assert removal_stats(artist.agency)["overall"]["urls"] == 5


# -- a random history ---------------------------------------------------------------------------

KINDS = ["import", "send", "remove", "reupload", "withdraw", "overdue", "dismiss", "edit", "alias", "delete",
         "move_artist"]  # fmt: skip
OPS = st.lists(
    st.tuples(
        st.sampled_from([*KINDS, "refresh"]),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=14,
)


def _apply(
    op: str, n: int, rng: random.Random, artists: list[Artist], agencies: list, platforms: dict
) -> None:
    urls = InfringingURL.objects.order_by("pk")
    pick = lambda qs: list(qs.filter(pk__gte=0).order_by("pk"))[n % max(qs.count(), 1) :][:3]  # noqa: E731
    if op == "import":
        artist = artists[n % len(artists)]
        hosts = ["x.com/u/status", "www.youtube.com/watch?v=", "t.me/chan"]
        rows = [
            {"url": f"https://{hosts[(n + k) % 3]}{n * 10 + k}" if "?" in hosts[(n + k) % 3]
             else f"https://{hosts[(n + k) % 3]}/{n * 10 + k}", "category": "synthetic_sexual",
             "discovered_at": (NOW - timedelta(days=(n + k) % 40, hours=k)).isoformat()}
            for k in range(1 + n % 5)
        ]  # fmt: skip
        importing.import_rows(rows, agency=artist.agency, artist=artist)
    elif op == "send":
        sent = NOW - timedelta(hours=n % 300)
        ids = [u.pk for u in pick(urls.filter(status=URLStatus.OPEN))]
        lifecycle.urls_notified(InfringingURL.objects.filter(pk__in=ids), sent_at=sent,
                                deadline_at=sent + timedelta(hours=48), first_check_at=sent)  # fmt: skip
    elif op in ("remove", "reupload"):
        status = URLStatus.NOTIFIED if op == "remove" else URLStatus.REMOVED
        chosen = pick(urls.filter(status=status))
        for url in chosen:
            url.streak_since = url.notified_at + timedelta(
                seconds=rng.choice([5, 700, 5400, 86400 * 3, n * 37])
            )
            lifecycle.confirm(url, "removed" if op == "remove" else "live", NOW)
        rechecks._update_urls(chosen)  # the recheck engine's own raw UPDATE
    elif op == "withdraw":
        lifecycle.urls_withdrawn(InfringingURL.objects.filter(pk__in=[u.pk for u in pick(urls)]))
    elif op == "overdue":
        chosen = pick(urls.filter(status=URLStatus.NOTIFIED, overdue_since__isnull=True))
        urls.filter(pk__in=[u.pk for u in chosen]).update(overdue_since=NOW)
    elif op == "dismiss":
        chosen = pick(urls.filter(status=URLStatus.OPEN))
        urls.filter(pk__in=[u.pk for u in chosen]).update(status=URLStatus.DISMISSED)
    elif op == "edit":  # an admin edit through save()
        for url in pick(urls):
            url.platform = list(platforms.values())[n % len(platforms)] if n % 3 else None
            url.legal_route = ["platform_policy", "dsa", "dmca"][n % 3]
            url.discovered_at = url.discovered_at - timedelta(days=n % 3)
            url.save()
    elif op == "alias":
        chosen = pick(urls.filter(same_as__isnull=True))
        if len(chosen) >= 2 and chosen[0].artist_id == chosen[1].artist_id:
            InfringingURL.objects.filter(pk=chosen[1].pk).update(same_as=chosen[0])
    elif op == "delete":  # erasure and retention delete rows
        InfringingURL.objects.filter(pk__in=[u.pk for u in pick(urls)], aliases__isnull=True).delete()
    elif op == "move_artist":
        artist = artists[n % len(artists)]
        artist.agency = agencies[1] if artist.agency_id == agencies[0].pk else agencies[0]
        artist.save()
    elif op == "refresh":
        rollups.refresh()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])  # fmt: skip
@given(ops=OPS, seed=st.integers(0, 1000))
def test_the_rollup_agrees_with_the_urls_after_any_history(agency, other_agency, artist, other_artist, platforms,
                                                           ops, seed):  # fmt: skip
    rng = random.Random(seed)
    with transaction.atomic():
        # Fresh objects: an example's "move_artist" changed the ones in memory, then rolled back.
        artists = [Artist.objects.get(pk=artist.pk), Artist.objects.get(pk=other_artist.pk)]
        for op, n in ops:
            _apply(op, n, rng, artists, [agency, other_agency], platforms)
            if rng.random() < 0.5:  # a read in between: later changes must be marked on their own
                rollups.refresh()
        for a in (agency, other_agency):
            assert_agrees(a)
            assert_agrees(a, Filters(since=(NOW - timedelta(days=10)).date(), until=NOW.date()))
            assert_agrees(a, Filters(platform=platforms["x"].pk, route="platform_policy"))
            assert_agrees(a, Filters(artist=artist.pk))
            for filters in (ALL, Filters(since=(NOW - timedelta(days=10)).date(), until=NOW.date()),
                            Filters(since=(NOW - timedelta(days=33)).date(), until=(NOW - timedelta(days=4)).date(),
                                    platform=platforms["x"].pk), Filters(until=(NOW - timedelta(days=15)).date()),
                            Filters(artist=artist.pk, route="platform_policy")):  # fmt: skip
                assert_trend_agrees(a, filters)
        assert not InfringingURL.objects.exclude(agency_id=models_agency_of_artist()).exists()
        assert_rollup_is_a_rebuild()
        transaction.set_rollback(True)


@pytest.mark.parametrize("op", KINDS)
def test_each_kind_of_change_is_counted_on_its_own(op, agency, other_agency, artist, other_artist, platforms):
    rng = random.Random(1)
    artists = [artist, other_artist]
    history = [("import", 4), ("import", 5), ("import", 9), ("send", 0), ("send", 5), ("overdue", 1),
               ("remove", 0), ("remove", 2), ("send", 1)]  # fmt: skip
    for step, n in history:
        _apply(step, n, rng, artists, [agency, other_agency], platforms)
    rollups.refresh()
    for n in (0, 1, 2):
        _apply(op, n, rng, artists, [agency, other_agency], platforms)
        for a in (agency, other_agency):
            assert_agrees(a)
            assert_trend_agrees(a)
            assert_trend_agrees(
                a, Filters(since=(NOW - timedelta(days=20)).date(), until=(NOW - timedelta(days=2)).date())
            )
        rollups.refresh()
    assert_rollup_is_a_rebuild()


def test_the_upgrade_fills_the_per_dimension_sums_from_the_kept_ones(agency, other_agency, artist, other_artist,
                                                                      platforms):  # fmt: skip
    """Migration 0020 fills `RemovalFigure` and `AgencyWeek` from the sums already kept: the
    same rows the refreshes keep."""
    import importlib

    fill = importlib.import_module("takedown.migrations.0020_rollup_figures").FILL
    rng = random.Random(3)
    for step, n in [("import", 4), ("import", 7), ("send", 0), ("send", 3), ("remove", 0), ("edit", 1),
                    ("move_artist", 0), ("remove", 1), ("overdue", 0)]:  # fmt: skip
        _apply(step, n, rng, [artist, other_artist], [agency, other_agency], platforms)
    rollups.refresh()
    figure_fields = (
        "agency_id",
        "dimension",
        "key",
        "bucket",
        "urls",
        "notified",
        "live",
        "overdue",
        "reuploads",
    )
    figures = sorted(RemovalFigure.objects.values_list(*figure_fields))
    weeks = sorted(AgencyWeek.objects.values_list("agency_id", "week", "new", "removed"))
    assert figures and weeks
    RemovalFigure.objects.all().delete()
    AgencyWeek.objects.all().delete()
    with connection.cursor() as cursor:
        for sql in fill:
            cursor.execute(sql)
    assert sorted(RemovalFigure.objects.values_list(*figure_fields)) == figures
    assert sorted(AgencyWeek.objects.values_list("agency_id", "week", "new", "removed")) == weeks


def models_agency_of_artist():
    from django.db.models import OuterRef, Subquery

    return Subquery(Artist.objects.filter(pk=OuterRef("artist_id")).values("agency_id")[:1])


def test_the_weekly_trend_counts_discoveries_and_removals(artist, platforms):
    today = timezone.localdate()
    importing.import_rows([{"url": f"https://x.com/a/status/{n}", "category": "synthetic_sexual"} for n in range(3)],
                          agency=artist.agency, artist=artist)  # fmt: skip
    url = InfringingURL.objects.first()
    InfringingURL.objects.filter(pk=url.pk).update(
        status=URLStatus.REMOVED, notified_at=NOW - timedelta(hours=5), removed_at=NOW
    )
    trend = weekly_trend(artist.agency, today=today)
    assert trend["new_urls"][-1] == 3 and trend["removals"][-1] == 1
    assert sum(trend["new_urls"]) == 3


def test_each_figure_costs_the_same_queries_at_any_size(agency, artist, platforms):
    def make(count, start):
        importing.import_rows(
            [{"url": f"https://x.com/a/status/{start + k}", "category": "synthetic_sexual",
              "discovered_at": (NOW - timedelta(days=k % 90)).isoformat()} for k in range(count)],
            agency=agency, artist=artist,
        )  # fmt: skip
        ids = list(InfringingURL.objects.values_list("pk", flat=True)[: count // 2])
        lifecycle.urls_notified(InfringingURL.objects.filter(pk__in=ids), sent_at=NOW - timedelta(days=1),
                                deadline_at=NOW, first_check_at=NOW)  # fmt: skip
        rollups.refresh()

    def count_queries():
        counts = []
        for figure in (lambda: removal_stats(agency), lambda: weekly_trend(agency),
                       lambda: weekly_trend(agency, filters=Filters(since=(NOW - timedelta(days=30)).date())),
                       lambda: removal_stats(agency, Filters(since=(NOW - timedelta(days=7)).date()))):  # fmt: skip
            with CaptureQueriesContext(connection) as queries:
                figure()
            counts.append(len(queries.captured_queries))
        return counts

    make(10, 0)
    small = count_queries()
    make(1000, 100)
    assert count_queries() == small


@pytest.mark.django_db(transaction=True)
def test_a_large_catch_up_leaves_the_change_table_empty_on_disk(artist, platforms, monkeypatch):
    """After a bulk load the change table is thousands of dead rows; every read's "any
    change?" check would scan them until autovacuum came round. The refresh vacuums it."""
    if connection.vendor != "postgresql":
        pytest.skip("VACUUM and relation sizes are PostgreSQL's")

    def pages() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_relation_size('takedown_rollupchange') / 8192")
            return cursor.fetchone()[0]

    def load(first: int) -> int:
        rows = [{"url": f"https://x.com/a/status/{first + n}", "category": "synthetic_sexual",
                 "discovered_at": (NOW - timedelta(minutes=n)).isoformat()} for n in range(3000)]  # fmt: skip
        importing.import_rows(rows, agency=artist.agency, artist=artist)
        return RollupChange.objects.count()

    changes = load(0)
    assert changes >= 3000 and pages() > 5
    monkeypatch.setattr(rollups, "VACUUM_AFTER", changes + 1)
    rollups.refresh()  # under the threshold: left to autovacuum
    assert not RollupChange.objects.exists() and pages() > 5
    changes = load(10**6)
    monkeypatch.setattr(rollups, "VACUUM_AFTER", changes)
    rollups.refresh()
    assert not RollupChange.objects.exists() and pages() == 0
    assert removal_stats(artist.agency)["overall"]["urls"] == 6000
