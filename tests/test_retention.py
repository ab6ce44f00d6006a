"""Retention of URL checks: what the record needs stays, the page's words go first, the rest goes."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from takedown import notices, retention
from takedown.models import Notice, URLCheck
from tests.notices_setup import approve, import_urls

pytestmark = pytest.mark.django_db

NOW = timezone.now()
LONG_AGO = NOW - timedelta(days=500)


def _check(url, at, verdict, *, title="Luna Kang leaked video", excerpt="watch the full clip"):
    return URLCheck.objects.create(
        url=url,
        checked_at=at,
        verdict=verdict,
        http_status={"live": 200, "removed": 404}.get(verdict),
        body_sha256=f"{at.timestamp():064.0f}"[-64:],
        title=title,
        excerpt=excerpt,
        rule="status.404" if verdict == "removed" else "",
    )


def _apply(settings, days=365):
    settings.TAKEDOWN_RETAIN_CHECKS_DAYS = days
    return retention.retention_apply(now=NOW)


@pytest.fixture
def youtube_url(agency, artist, platforms, templates):
    (url,) = import_urls(agency, artist, ["https://www.youtube.com/watch?v=abcDEF12345"])
    return url


def test_it_keeps_only_the_latest_check_of_a_url_nothing_rests_on(settings, youtube_url):
    old = [_check(youtube_url, LONG_AGO + timedelta(days=i), "inconclusive") for i in range(3)]
    report = _apply(settings)
    assert report.checks_deleted == 2
    (kept,) = URLCheck.objects.filter(url=youtube_url)
    assert kept.pk == old[-1].pk
    assert kept.title == "Luna Kang leaked video" and kept.excerpt  # the URL's evidence, whole


def test_it_keeps_the_confirming_checks_of_a_removal_without_the_pages_words(settings, youtube_url):
    t = LONG_AGO
    live = _check(youtube_url, t, "live")
    first = _check(youtube_url, t + timedelta(days=1), "removed")
    too_soon = _check(youtube_url, t + timedelta(days=1, minutes=1), "removed")
    blip = _check(youtube_url, t + timedelta(days=1, minutes=5), "inconclusive")
    confirming = _check(youtube_url, t + timedelta(days=1, minutes=30), "removed")
    after = [_check(youtube_url, t + timedelta(days=8 * i), "removed") for i in (1, 2)]
    recent = _check(youtube_url, NOW - timedelta(days=1), "removed")

    report = _apply(settings)

    remaining = {c.pk: c for c in URLCheck.objects.filter(url=youtube_url)}
    # The run that confirmed the removal (two sightings at least ten minutes apart, the one
    # seen too soon included): kept as metadata.
    for check in (first, too_soon, confirming):
        kept = remaining[check.pk]
        assert (kept.title, kept.excerpt) == ("", "")
        assert (kept.verdict, kept.http_status, kept.body_sha256, kept.rule) == (
            "removed",
            404,
            check.body_sha256,
            "status.404",
        )
    # Neither the lone live sighting, the inconclusive one nor the weekly sightings after the
    # confirmation are needed; the recent check is within the period.
    assert set(remaining) == {first.pk, too_soon.pk, confirming.pk, recent.pk}
    assert remaining[recent.pk].title == "Luna Kang leaked video"
    assert (report.checks_deleted, report.checks_stripped) == (4, 3)
    assert {live.pk, blip.pk, *(c.pk for c in after)}.isdisjoint(remaining)


def test_it_reads_status_changes_from_the_checks_as_rechecks_count_them(settings):
    t = LONG_AGO

    def seen(*verdicts, rule="status.404"):
        return [retention.Seen(i, t + timedelta(hours=i), v, rule) for i, v in enumerate(verdicts, 1)]

    removed = seen("removed", "removed", "removed")
    assert retention.confirming_checks(removed) == {1, 2}
    # Sending a notice starts the count afresh.
    assert retention.confirming_checks(removed, [t + timedelta(minutes=90)]) == {2, 3}
    # Live confirmed on a URL that was never gone changes nothing; live again after a removal
    # (a re-upload) does.
    assert retention.confirming_checks(seen("live", "live", "live")) == set()
    assert retention.confirming_checks(seen("removed", "removed", "live", "inconclusive", "live")) == {
        1,
        2,
        3,
        5,
    }
    # With one confirmation asked for, one sighting changes the status, except a vanished
    # domain, which must be seen in two runs.
    settings.TAKEDOWN_CONFIRMATIONS = 1
    assert retention.confirming_checks(removed) == {1}
    dns = seen("removed", "removed", rule="dns.nxdomain.confirmed")
    assert retention.confirming_checks(dns[:1]) == set()
    assert retention.confirming_checks(dns) == {1, 2}


def _sent_notice(staff, legal, artist):
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    approve(notice, staff, legal)
    return notices.notice_send(notice_id=notice.pk, user=legal, reference="YT-1")


def test_it_keeps_every_check_of_urls_in_open_notices(settings, youtube_url, staff, legal, artist):
    checks = [_check(youtube_url, LONG_AGO + timedelta(days=i), "live") for i in range(4)]
    notice = _sent_notice(staff, legal, artist)
    assert notice.status == "sent"
    report = _apply(settings)
    assert (report.checks_deleted, report.checks_stripped) == (0, 0)
    assert URLCheck.objects.filter(url=youtube_url).exclude(title="").count() == len(checks)


def test_it_keeps_the_check_an_ended_notice_rested_on(settings, youtube_url, staff, legal, artist):
    before = [_check(youtube_url, LONG_AGO + timedelta(days=i), "inconclusive") for i in range(3)]
    notice = _sent_notice(staff, legal, artist)
    notices.notice_withdraw(notice_id=notice.pk, user=legal, reason="filed by mistake")
    Notice.objects.filter(pk=notice.pk).update(
        submitted_at=LONG_AGO + timedelta(days=2, hours=1), sent_at=LONG_AGO + timedelta(days=2, hours=2)
    )
    later = [_check(youtube_url, LONG_AGO + timedelta(days=10 + i), "inconclusive") for i in range(2)]

    report = _apply(settings)

    remaining = {c.pk: c for c in URLCheck.objects.filter(url=youtube_url)}
    # What the notice rested on when it was submitted and sent (the third check), as metadata;
    # the latest check of the URL, whole.
    assert set(remaining) == {before[2].pk, later[-1].pk}
    assert remaining[before[2].pk].title == "" and remaining[later[-1].pk].title
    assert (report.checks_deleted, report.checks_stripped) == (3, 1)


def test_zero_days_keeps_everything_and_a_dry_run_changes_nothing(settings, youtube_url):
    for i in range(3):
        _check(youtube_url, LONG_AGO + timedelta(days=i), "live")
    assert _apply(settings, days=0).checks_deleted == 0
    settings.TAKEDOWN_RETAIN_CHECKS_DAYS = 365
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert "Dry run, nothing changed. Retention: checks: 2 deleted, 0 kept without title" in out.getvalue()
    assert URLCheck.objects.filter(url=youtube_url).exclude(title="").count() == 3
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert "Retention: checks: 2 deleted, 0 kept without title and excerpt" in out.getvalue()
    assert URLCheck.objects.filter(url=youtube_url).count() == 1


def test_it_runs_every_day_on_the_cluster(settings, youtube_url):
    from django_q.models import Schedule

    from takedown.schedules import sync_schedules

    sync_schedules()
    schedule = Schedule.objects.get(name="takedown.retention-daily")
    assert (schedule.func, schedule.schedule_type) == ("takedown.retention.retention_tick", Schedule.DAILY)
    for i in range(2):
        _check(youtube_url, timezone.now() - timedelta(days=400 + i), "inconclusive")
    settings.TAKEDOWN_RETAIN_CHECKS_DAYS = 365
    assert retention.retention_tick().startswith("checks: 1 deleted")


def test_it_holds_every_check_of_urls_in_a_case_until_the_case_is_closed(settings, youtube_url, legal):
    from takedown import cases

    old = [_check(youtube_url, LONG_AGO + timedelta(days=i), "inconclusive") for i in range(3)]
    case = cases.case_create(user=legal, title="Held", url_ids=[youtube_url.pk])
    assert _apply(settings).checks_deleted == 0
    assert URLCheck.objects.filter(url=youtube_url).count() == 3
    assert all(c.title for c in URLCheck.objects.filter(url=youtube_url))
    cases.case_close(user=legal, case_id=case.pk, reason="settled")
    assert _apply(settings).checks_deleted == 2
    assert URLCheck.objects.get(url=youtube_url).pk == old[-1].pk
