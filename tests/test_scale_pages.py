"""The pages people open every day cost the same number of queries at any size (issue 13)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from takedown import importing, lifecycle, rollups
from takedown.models import InfringingURL
from takedown.tokens import token_issue

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def grow(agency, artist, count: int, start: int) -> None:
    rows = [
        {"url": f"https://x.com/a/status/{start + k}", "category": "synthetic_sexual",
         "discovered_at": (NOW - timedelta(days=k % 60)).isoformat(), "note": "ticket 77" if k % 7 == 0 else ""}
        for k in range(count)
    ]  # fmt: skip
    importing.import_rows(rows, agency=agency, artist=artist)
    ids = list(InfringingURL.objects.filter(status="open").values_list("pk", flat=True)[: count // 2])
    lifecycle.urls_notified(InfringingURL.objects.filter(pk__in=ids), sent_at=NOW - timedelta(days=3),
                            deadline_at=NOW - timedelta(days=1), first_check_at=NOW)  # fmt: skip
    InfringingURL.objects.filter(pk__in=ids[: len(ids) // 2]).update(overdue_since=NOW)
    rollups.refresh()


def test_every_page_runs_the_same_queries_at_any_size(client, manager, api_user, agency, artist, platforms):
    changelist = reverse("admin:takedown_infringingurl_changelist")
    pages = [
        changelist,
        f"{changelist}?p=2",
        f"{changelist}?q=status/1",
        f"{changelist}?q=luna",
        reverse("admin:dashboard"),
        reverse("admin:index"),
        "/api/v1/stats/",
        "/api/v1/stats/?since=2026-01-01&legal_route=platform_policy",
        "/api/v1/urls/?q=status/1",
    ]
    client.force_login(manager)

    def counts() -> list[int]:
        found = []
        for page in pages:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(page)
            assert response.status_code == 200, page
            found.append(len(queries.captured_queries))
        return found

    grow(agency, artist, 150, 0)
    small = counts()
    grow(agency, artist, 1500, 1000)
    assert counts() == small


def test_the_url_list_counts_at_most_its_cap(client, manager, agency, artist, platforms, monkeypatch):
    from takedown.admin.intake import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "CAP", 120)
    grow(agency, artist, 150, 0)
    client.force_login(manager)
    response = client.get(reverse("admin:takedown_infringingurl_changelist"))
    assert response.context["cl"].result_count == 120
    assert response.context["cl"].paginator.num_pages == 2
    # Each page holds the rows a plain OFFSET would give, in the list's order.
    newest = list(
        InfringingURL.objects.filter(agency=agency)
        .order_by("-discovered_at", "-id")
        .values_list("pk", flat=True)
    )
    shown = [u.pk for u in response.context["cl"].result_list]
    last = client.get(reverse("admin:takedown_infringingurl_changelist") + "?p=2")
    assert shown == newest[:100]
    assert [u.pk for u in last.context["cl"].result_list] == newest[100:120]
    assert last.context["cl"].result_list[0].artist.name == artist.name
    found = client.get(reverse("admin:takedown_infringingurl_changelist") + "?q=status/149")
    assert [u.normalized_url for u in found.context["cl"].result_list] == ["https://x.com/i/status/149"]


def test_stats_take_the_dashboards_filters(api_user, agency, artist, platforms):
    from rest_framework.test import APIClient

    grow(agency, artist, 40, 0)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=api_user).key}")
    whole = client.get("/api/v1/stats/").json()
    assert whole["overall"]["urls"] == 40
    week = client.get(f"/api/v1/stats/?since={(NOW - timedelta(days=6)).date()}&artist={artist.slug}").json()
    assert 0 < week["overall"]["urls"] < 40
    assert client.get("/api/v1/stats/?platform=nowhere").status_code == 400
    assert client.get("/api/v1/stats/?since=2026-13-45").status_code == 400
    assert client.get("/api/v1/stats/?since=2026-05-02&until=2026-05-01").status_code == 400
    assert client.get("/api/v1/stats/?artist=rio-seo").status_code == 400  # another agency's
    assert client.get("/api/v1/stats/?legal_route=made_up").status_code == 400


def test_a_superusers_list_across_agencies_goes_newest_added_first_along_the_primary_key(
    client, agency, artist, other_artist, platforms, django_user_model
):
    grow(agency, artist, 30, 0)
    grow(other_artist.agency, other_artist, 30, 1000)
    admin = django_user_model.objects.create_superuser("root", "root@example.test", "x")
    client.force_login(admin)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:takedown_infringingurl_changelist"))
    newest = list(InfringingURL.objects.order_by("-id").values_list("pk", flat=True))
    assert [u.pk for u in response.context["cl"].result_list] == newest[:60]
    assert {u.agency_id for u in response.context["cl"].result_list} == {agency.pk, other_artist.agency_id}
    listed = [
        q["sql"]
        for q in queries.captured_queries
        if "takedown_infringingurl" in q["sql"] and "LIMIT" in q["sql"]
    ]
    assert listed and all(
        "discovered_at" not in sql.split("ORDER BY")[-1] for sql in listed if "ORDER BY" in sql
    )


def test_search_finds_a_word_in_the_url_or_in_a_note_and_nothing_else(
    client, manager, api_user, agency, artist
):
    rows = [
        {
            "url": "https://x.com/a/status/501",
            "category": "synthetic_sexual",
            "note": "Fan portal ticket QX-77",
        },
        {"url": "https://clips.example.com/v/qx77/status/502", "category": "synthetic_sexual"},
        {"url": "https://x.com/a/status/503", "category": "synthetic_sexual"},
    ]
    importing.import_rows(rows, agency=agency, artist=artist)
    client.force_login(manager)
    changelist = reverse("admin:takedown_infringingurl_changelist")
    api = client.__class__(HTTP_AUTHORIZATION=f"Token {token_issue(user=api_user).key}")

    def admin_found(term):
        return sorted(u.normalized_url for u in client.get(changelist, {"q": term}).context["cl"].result_list)

    def api_found(term):
        return sorted(r["normalized_url"] for r in api.get("/api/v1/urls/", {"q": term}).json()["results"])

    stored = dict(InfringingURL.objects.values_list("url", "normalized_url"))
    first, second, third = (stored[r["url"]] for r in rows)
    assert admin_found("qx-77") == api_found("qx-77") == [first]  # the note
    assert admin_found("QX77") == api_found("QX77") == [second]  # the URL
    assert admin_found("status/50") == api_found("status/50") == sorted([first, second, third])
    assert admin_found("nowhere") == api_found("nowhere") == []


def _plan(queryset) -> str:
    # With sequential scans priced out, the plan names an index only if the index can answer
    # the query at all: a partial index whose condition the query does not imply is passed by.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            return queryset.explain()
        finally:
            cursor.execute("SET LOCAL enable_seqscan = on")


def test_the_searches_and_the_link_lookups_can_use_their_partial_indexes(agency, artist):
    from takedown.models import url_text_match

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner and trigram indexes")
    grow(agency, artist, 20, 0)
    searched = _plan(InfringingURL.objects.filter(url_text_match("ticket")))
    assert "url_search_url" in searched and "url_search_note" in searched
    for link, index in [
        ({"same_as_id": 1}, "url_same_as"),
        ({"work_id__in": [1, 2]}, "url_work"),
        ({"depicted_person_id": 1}, "url_depicted_person"),
        ({"account_id": 1}, "url_account"),
    ]:
        assert index in _plan(InfringingURL.objects.filter(**link).order_by()), link


def test_every_index_of_the_url_table_has_its_user_written_down():
    from pathlib import Path

    if connection.vendor != "postgresql":
        pytest.skip("the index names are PostgreSQL's")
    documented = (Path(__file__).resolve().parent.parent / "docs" / "indexes.md").read_text()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'takedown_infringingurl'"
            " AND indexname <> 'takedown_infringingurl_pkey'"
        )
        names = [name for (name,) in cursor.fetchall()]
    assert "url_search_note" in names and "url_same_as" in names
    assert [name for name in names if f"`{name}`" not in documented] == []


IN_FLIGHT = [
    "draft", "pending", "approved", "sending", "delivery_failed", "delivery_unknown", "sent", "acknowledged"
]  # fmt: skip


def test_the_home_pages_counts_are_the_agencys_work_in_each_state(
    client, manager, staff, agency, artist, other_artist, platforms, django_user_model
):
    from takedown import stats
    from takedown.models import Notice
    from takedown.notices import notices_prepare

    grow(agency, artist, 40, 0)
    grow(other_artist.agency, other_artist, 25, 5000)
    mine = InfringingURL.objects.filter(agency=agency)
    notified = list(mine.filter(status="notified").order_by("pk").values_list("pk", flat=True))
    # One overdue URL becomes restricted (counted as live no more, as on the dashboard), another
    # is removed.
    InfringingURL.objects.filter(pk=notified[0]).update(status="restricted", overdue_since=NOW)
    InfringingURL.objects.filter(pk=notified[1]).update(status="removed", removed_at=NOW, overdue_since=None)
    # Some open URLs go into a draft: they are no longer waiting to be triaged.
    open_ids = list(mine.filter(status="open").order_by("pk").values_list("pk", flat=True))
    drafted, _ = notices_prepare(user=staff, url_ids=open_ids[:5])
    assert drafted and Notice.objects.filter(items__url_id__in=open_ids[:5]).exists()

    def expected(urls):
        in_notice = set(urls.filter(notice_items__notice__status__in=IN_FLIGHT).values_list("pk", flat=True))
        return {
            "to_triage": len(set(urls.filter(status="open").values_list("pk", flat=True)) - in_notice),
            "overdue": urls.filter(status="notified", overdue_since__isnull=False).count(),
            "live": urls.filter(status="notified").count(),
        }

    summary = stats.work_summary(manager)
    assert {k: summary[k] for k in ("to_triage", "overdue", "live")} == expected(mine)
    assert summary["to_triage"] == len(open_ids) - 5 and summary["overdue"] >= 1
    root = django_user_model.objects.create_superuser("root", "root@example.test", "x")
    everything = stats.work_summary(root)
    assert {k: everything[k] for k in ("to_triage", "overdue", "live")} == expected(
        InfringingURL.objects.all()
    )
    assert everything["live"] > summary["live"]

    client.force_login(manager)
    home = client.get(reverse("admin:index")).content.decode()
    for row, key in [("work-overdue", "overdue"), ("work-live", "live")]:
        assert f"<strong>{summary[key]}</strong>" in home.split(f'id="{row}"')[1].split("</tr>")[0]
    # Each count's link lists the rows it counts (staff see the triage row too).
    client.force_login(staff)
    home = client.get(reverse("admin:index")).content.decode()
    for row, key in [("work-triage", "to_triage"), ("work-overdue", "overdue"), ("work-live", "live")]:
        cell = home.split(f'id="{row}"')[1].split("</tr>")[0]
        link = cell.split('href="')[1].split('"')[0].replace("&amp;", "&")
        listed = client.get(link).context["cl"].result_count
        assert listed == summary[key] and f"<strong>{summary[key]}</strong>" in cell, (key, link, listed)
