"""Removal statistics (takedown.stats) and GET /api/v1/stats/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from takedown import rollups
from takedown.models import InfringingURL
from takedown.stats import removal_stats, weekly_trend
from takedown.tokens import token_issue

pytestmark = pytest.mark.django_db

T0 = timezone.now() - timedelta(days=30)


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def _url(artist, platform, n, *, route="platform_policy", status="open", notified=None, removed_after=None,
         overdue=False):  # fmt: skip
    notified_at = T0 + timedelta(minutes=n) if notified or removed_after is not None else None
    return InfringingURL.objects.create(
        artist=artist, url=f"https://{platform.hosts[0]}/item/{n}", normalized_url=f"https://{platform.hosts[0]}/item/{n}",
        host=platform.hosts[0], platform=platform, category="synthetic_sexual", legal_route=route, status=status,
        notified_at=notified_at,
        removed_at=notified_at + removed_after if removed_after is not None else None,
        overdue_since=T0 if overdue else None,
    )  # fmt: skip


def _hours(h):
    return timedelta(hours=h)


def close(estimate, exact):
    """The rollup's histogram answers within a factor √RATIO (9.05 %) of the exact percentile."""
    bound = rollups.RATIO**0.5
    return exact / bound <= estimate <= exact * bound


@pytest.fixture
def history(artist, other_artist, platforms):
    yt, x, tg = platforms["youtube"], platforms["x"], platforms["telegram"]
    # YouTube: 3 removed after 1 h, 3 h, 8 h (median 3 h), 1 still live and overdue, 1 never notified.
    for n, h in enumerate((1, 3, 8)):
        _url(artist, yt, n, status="removed", removed_after=_hours(h))
    _url(artist, yt, 10, status="notified", notified=True, overdue=True)
    _url(artist, yt, 11)
    # X, DSA route: 2 removed after 2 h and 6 h (median 4 h), 2 live.
    _url(artist, x, 20, route="dsa", status="removed", removed_after=_hours(2))
    _url(artist, x, 21, route="dsa", status="removed", removed_after=_hours(6))
    _url(artist, x, 22, route="dsa", status="notified", notified=True)
    _url(artist, x, 23, route="dsa", status="notified", notified=True)
    # Telegram: notified, nothing removed yet.
    _url(artist, tg, 30, status="notified", notified=True)
    # Another agency's removals never count here.
    for n in range(5):
        _url(other_artist, yt, 100 + n, status="removed", removed_after=_hours(100))


def test_it_computes_rate_and_median_per_platform(agency, history):
    stats = removal_stats(agency)
    by_platform = {p["platform"]: p for p in stats["platforms"]}
    assert by_platform["youtube"] == {
        "platform": "youtube", "name": "YouTube", "urls": 5, "notified": 4, "removed": 3, "live": 1, "overdue": 1,
        "removal_rate": 0.75, "median_seconds_to_removal": by_platform["youtube"]["median_seconds_to_removal"],
        "p90_seconds_to_removal": by_platform["youtube"]["p90_seconds_to_removal"], "reuploads": 0,
    }  # fmt: skip
    assert close(by_platform["youtube"]["median_seconds_to_removal"], 3 * 3600.0)
    assert close(by_platform["youtube"]["p90_seconds_to_removal"], 7 * 3600.0)
    assert by_platform["x"]["removal_rate"] == 0.5
    assert close(
        by_platform["x"]["median_seconds_to_removal"], 4 * 3600.0
    )  # even count: mean of the middle two
    assert by_platform["telegram"]["removal_rate"] == 0.0
    assert by_platform["telegram"]["median_seconds_to_removal"] is None
    assert [p["platform"] for p in stats["platforms"]] == ["youtube", "x", "telegram"]


def test_it_computes_rate_and_median_per_route_and_overall(agency, history):
    stats = removal_stats(agency)
    routes = {r["legal_route"]: r for r in stats["legal_routes"]}
    assert set(routes) == {"platform_policy", "dsa"}
    assert routes["dsa"]["name"] == "EU DSA Art. 16"
    assert (routes["platform_policy"]["notified"], routes["platform_policy"]["removed"]) == (5, 3)
    assert close(routes["platform_policy"]["median_seconds_to_removal"], 3 * 3600.0)
    overall = stats["overall"]
    assert (overall["urls"], overall["notified"], overall["removed"], overall["live"]) == (10, 9, 5, 4)
    assert overall["removal_rate"] == round(5 / 9, 4)
    assert close(overall["median_seconds_to_removal"], 3 * 3600.0)  # of 1, 2, 3, 6, 8 hours
    # percentile_cont(0.9) of 1, 2, 3, 6, 8 h: position 4.6 -> 6 h + 0.6 x 2 h
    assert close(overall["p90_seconds_to_removal"], 7.2 * 3600.0)
    artists = {a["artist"]: a for a in stats["artists"]}
    assert set(artists) == {"luna-kang"} and artists["luna-kang"]["removed"] == 5


def test_it_reports_an_agency_without_urls(other_agency):
    stats = removal_stats(other_agency)
    assert stats["overall"]["removal_rate"] is None
    assert stats["overall"]["median_seconds_to_removal"] is None
    assert stats["platforms"] == [] and stats["legal_routes"] == []


def test_it_runs_a_fixed_number_of_queries_whatever_the_history(agency, artist, platforms, history):
    with CaptureQueriesContext(connection) as small:
        removal_stats(agency)
    for n in range(40):
        _url(artist, platforms["tiktok"], 200 + n, status="removed", removed_after=_hours(n + 1))
    with CaptureQueriesContext(connection) as large:
        removal_stats(agency)
    # Both reads first bring the rollup up to date with the URLs created before them (the
    # refresh adjusts four summed tables: a read, a delete and an insert each; PostgreSQL
    # adds the refresh's advisory lock).
    assert len(small.captured_queries) == len(large.captured_queries) <= 29
    with CaptureQueriesContext(connection) as clean:
        removal_stats(agency)
    # The refresh's check, the per-dimension sums, the platforms' and the artists' names.
    assert len(clean.captured_queries) == 4


def test_it_serves_stats_to_the_callers_agency(api_user, agency, history):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=api_user).key}")
    response = client.get("/api/v1/stats/")
    assert response.status_code == 200
    body = response.json()
    assert body.pop("weekly") == {k: v for k, v in weekly_trend(agency).items()}
    assert body == removal_stats(agency)
    assert response.json()["agency"] == "starlight"
