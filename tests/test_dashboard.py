"""The outcomes dashboard: figures per agency from database aggregates, charts, overdue list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from takedown import charts, stats
from takedown.models import InfringingURL

pytestmark = pytest.mark.django_db


def _urls(artist, platform, n, *, start=0, removed_hours=None, overdue=False, reuploads=0):
    now = timezone.now()
    rows = []
    for i in range(start, start + n):
        notified = now - timedelta(days=3)
        url = f"https://{platform.hosts[0]}/v/{artist.slug}/{i}"
        rows.append(
            InfringingURL(
                artist=artist,
                url=url,
                normalized_url=url,
                host=platform.hosts[0],
                platform=platform,
                category="synthetic_sexual",
                legal_route=platform.default_route,
                status="removed" if removed_hours is not None else "notified",
                notified_at=notified,
                removed_at=notified + timedelta(hours=removed_hours) if removed_hours is not None else None,
                deadline_at=notified + timedelta(hours=48),
                overdue_since=now if overdue else None,
                escalation="KCSC review request" if overdue else "",
                reupload_count=reuploads,
            )
        )
    InfringingURL.objects.bulk_create(rows)


def test_it_shows_figures_charts_and_the_overdue_list(client, manager, artist, other_artist, platforms):
    _urls(artist, platforms["youtube"], 4, removed_hours=10)
    _urls(artist, platforms["x"], 2, start=10, overdue=True, reuploads=1)
    _urls(other_artist, platforms["youtube"], 7, removed_hours=1)
    client.force_login(manager)
    response = client.get(reverse("admin:dashboard"))
    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures["overall"]["urls"], figures["overall"]["removed"], figures["overall"]["overdue"]) == (
        6,
        4,
        2,
    )
    assert 10.0 / 1.0905 <= figures["overall"]["median_hours"] <= 10.0 * 1.0905  # the histogram's bound
    assert figures["overall"]["reuploads"] == 2
    body = response.content.decode()
    assert body.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 3
    assert 'id="by-platform"' in body and 'id="by-route"' in body and 'id="by-artist"' in body
    assert [u["normalized_url"] for u in response.context["overdue"]] == [
        "https://x.com/v/luna-kang/10",
        "https://x.com/v/luna-kang/11",
    ]
    assert "KCSC review request" in body
    assert "rio-seo" not in body  # another agency's URLs


def test_it_keeps_a_constant_number_of_queries_as_urls_grow(client, manager, artist, platforms):
    client.force_login(manager)
    _urls(artist, platforms["youtube"], 5, removed_hours=2)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("admin:dashboard"))
    _urls(artist, platforms["youtube"], 2000, start=100, removed_hours=5)
    _urls(artist, platforms["telegram"], 500, start=5000, overdue=True)
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("admin:dashboard"))
    assert response.context["figures"]["overall"]["urls"] == 2505
    assert len(large.captured_queries) == len(small.captured_queries)


def test_it_counts_weekly_new_urls_and_removals(agency, artist, platforms):
    _urls(artist, platforms["youtube"], 3, removed_hours=1)
    trend = stats.weekly_trend(agency)
    assert len(trend["weeks"]) == 12
    assert sum(trend["new_urls"]) == 3 and trend["new_urls"][-1] == 3
    assert sum(trend["removals"]) == 3


def test_it_lets_a_superuser_pick_the_agency(client, superuser, artist, other_artist, platforms):
    _urls(other_artist, platforms["youtube"], 3, removed_hours=1)
    client.force_login(superuser)
    response = client.get(reverse("admin:dashboard"), {"agency": "comet"})
    assert response.context["agency"] == other_artist.agency
    assert response.context["figures"]["overall"]["urls"] == 3


def test_it_keeps_api_clients_out(client, api_user):
    client.force_login(api_user)
    assert client.get(reverse("admin:dashboard")).status_code == 302


def test_it_escapes_chart_labels():
    svg = charts.horizontal_bars([("<script>alert(1)</script>", 50, "50%")], title="t & t", maximum=100)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "t &amp; t" in svg


def test_it_speaks_korean_to_a_korean_browser(client, manager, artist, platforms):
    _urls(artist, platforms["youtube"], 2, removed_hours=3)
    client.force_login(manager)
    home = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "내 업무" in home or "업무" in home
    assert "삭제 요청서" in home
    dashboard = client.get(reverse("admin:dashboard"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "플랫폼별" in dashboard and "삭제율" in dashboard
    english = client.get(reverse("admin:dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Per platform" in english and "플랫폼별" not in english


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (20, "< 1 min"),
        (240, "4 min"),
        (3 * 3600 + 720, "3.2 h"),
        (3.1 * 86400 + 3 * 3600, "3.2 d"),
    ],
)
def test_it_writes_durations_for_people(seconds, text):
    from takedown.stats import human_duration

    assert human_duration(seconds) == text


def test_the_dashboard_and_the_api_read_the_same_figures(client, legal, artist, platforms):
    # The figures are shaped once (takedown.stats): the dashboard's numbers are the API's.
    from takedown.stats import dashboard_figures, removal_stats

    _urls(artist, platforms["youtube"], 3, removed_hours=2)
    _urls(artist, platforms["youtube"], 1, start=10)
    shown = dashboard_figures(artist.agency)
    served = removal_stats(artist.agency)
    for group in ("platforms", "legal_routes", "artists"):
        assert [r["removal_rate"] for r in shown[group]] == [r["removal_rate"] for r in served[group]]
    youtube = shown["platforms"][0]
    assert (youtube["rate_percent"], youtube["median_hours"], youtube["median_text"]) == (75, 2.0, "2.0 h")
    client.force_login(legal)
    body = client.get("/admin/dashboard/").content.decode()
    assert "75% of 4" in body
