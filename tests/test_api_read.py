"""Reading through the API: artists, platforms, URLs with their evidence, filters, pagination."""

from __future__ import annotations

from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from takedown import importing
from takedown.models import Artist, InfringingURL, URLCheck
from takedown.tokens import token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    return client


@pytest.fixture
def api(api_user, platforms):
    return client_for(api_user)


@pytest.fixture
def urls(agency, artist, platforms):
    report = importing.import_rows(
        [
            {"url": "https://www.youtube.com/watch?v=abcDEF12345", "category": "synthetic_sexual"},
            {"url": "https://x.com/fake_luna/status/1", "category": "impersonation", "note": "fake account"},
            {"url": "https://t.me/leakchan/7", "category": "real_intimate", "legal_route": "kr_tba_22_5"},
            {"url": "https://unknown.example.net/p/1", "category": "privacy"},
        ],
        agency=agency,
        artist=artist,
    )
    assert report.created == 4
    return {
        u.platform.slug if u.platform else "none": u for u in InfringingURL.objects.select_related("platform")
    }


def test_it_lists_urls_newest_first_with_cursor_pages(api, urls):
    first = api.get("/api/v1/urls/?page_size=3")
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"next", "previous", "results"}
    ids = [row["id"] for row in body["results"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    second = api.get(body["next"])
    assert [row["id"] for row in second.json()["results"]] == [min(u.pk for u in urls.values())]
    assert second.json()["next"] is None


def test_it_answers_400_to_a_malformed_cursor(api, urls):
    response = api.get("/api/v1/urls/?cursor=not-a-cursor")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "cursor: Invalid cursor",
        "errors": [{"field": "cursor", "message": "Invalid cursor"}],
    }


def test_it_serialises_a_url_for_clients(api, urls):
    row = api.get("/api/v1/urls/?platform=youtube").json()["results"][0]
    assert row["normalized_url"] == "https://www.youtube.com/watch?v=abcDEF12345"
    assert row["platform"] == "youtube"
    assert row["status"] == "open" and row["category"] == "synthetic_sexual"
    assert row["artist"] == urls["youtube"].artist_id
    assert "checks" not in row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("platform=telegram", {"telegram"}),
        ("category=impersonation", {"x"}),
        ("category=impersonation&category=privacy", {"x", "none"}),
        ("legal_route=kr_tba_22_5", {"telegram"}),
        ("status=open", {"youtube", "x", "telegram", "none"}),
        ("status=removed", set()),
        ("q=fake", {"x"}),
        ("q=unknown.example", {"none"}),
        ("artist=luna-kang", {"youtube", "x", "telegram", "none"}),
        ("artist=rio-seo", set()),
        ("overdue=true", set()),
    ],
)
def test_it_filters_urls(api, urls, query, expected):
    response = api.get(f"/api/v1/urls/?{query}")
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {urls[k].pk for k in expected}


def test_it_filters_urls_by_artist_id_and_by_change_time(api, urls, artist):
    assert len(api.get(f"/api/v1/urls/?artist={artist.pk}").json()["results"]) == 4
    InfringingURL.objects.filter(pk=urls["x"].pk).update(updated_at=timezone.now() + timedelta(hours=1))
    since = (timezone.now() + timedelta(minutes=30)).isoformat()
    response = api.get("/api/v1/urls/", {"updated_after": since})
    assert [row["id"] for row in response.json()["results"]] == [urls["x"].pk]


def test_it_reads_a_time_in_any_offset_the_standard_allows(api, urls):
    # PostgreSQL refuses offsets past ±15:59 in its own input; the filter hands it UTC.
    InfringingURL.objects.filter(pk=urls["x"].pk).update(updated_at=timezone.now() + timedelta(days=2))
    local = (timezone.now() + timedelta(days=1)).astimezone(dt_timezone(-timedelta(hours=19, minutes=45)))
    response = api.get("/api/v1/urls/", {"updated_after": local.isoformat()})
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [urls["x"].pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=gone", "status"),
        ("updated_after=2026-11-20T00:00:00%2B25:00", "updated_after"),
        ("category=deepfake", "category"),
        ("updated_after=yesterday", "updated_after"),
    ],
)
def test_it_answers_400_to_a_bad_filter_value(api, urls, query, field):
    response = api.get(f"/api/v1/urls/?{query}")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and errors[0]["field"] == field


def test_it_shows_a_url_with_its_checks_newest_first(api, urls):
    url = urls["telegram"]
    now = timezone.now()
    older = URLCheck.objects.create(url=url, checked_at=now - timedelta(hours=2), verdict="live", http_status=200,
                                    title="Leak channel", body_sha256="a" * 64)  # fmt: skip
    newer = URLCheck.objects.create(url=url, checked_at=now, verdict="removed", http_status=404,
                                    reason="Telegram: post not found")  # fmt: skip
    response = api.get(f"/api/v1/urls/{url.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["checks"]] == [newer.pk, older.pk]
    assert body["checks"][1]["title"] == "Leak channel" and body["checks"][1]["body_sha256"] == "a" * 64
    assert body["checks"][0]["verdict"] == "removed"
    assert body["notices"] == []


def test_it_answers_404_for_a_missing_url_and_json_for_unknown_paths(api, urls):
    assert api.get("/api/v1/urls/999999/").json() == {
        "detail": "No InfringingURL matches the given query.",
        "errors": [],
    }
    unknown = api.get("/api/v1/nothing-here/")
    assert unknown.status_code == 404
    assert unknown.json()["detail"].startswith("No API endpoint")


def test_it_lists_platforms_unpaginated(api):
    response = api.get("/api/v1/platforms/")
    assert response.status_code == 200
    slugs = {p["slug"] for p in response.json()}
    assert {"youtube", "x", "telegram", "naver"} <= slugs
    youtube = next(p for p in response.json() if p["slug"] == "youtube")
    assert "youtu.be" in youtube["hosts"]


def test_it_lists_and_searches_artists(api, artist, agency):
    Artist.objects.create(agency=agency, name="Daon Yoon", name_ko="윤다온", slug="daon-yoon")
    names = [a["name"] for a in api.get("/api/v1/artists/").json()["results"]]
    assert sorted(names) == ["Daon Yoon", "Luna Kang"]
    found = api.get("/api/v1/artists/", {"q": "다온"}).json()["results"]
    assert [a["slug"] for a in found] == ["daon-yoon"]
    one = api.get(f"/api/v1/artists/{artist.pk}/").json()
    assert one["official_accounts"] == ["https://x.com/luna_official", "luna-kang.example.net"]
    assert one["agency"] == "starlight"


def test_it_adds_an_artist_to_the_callers_agency(staff, agency, other_agency, platforms):
    client = client_for(staff)
    response = client.post(
        "/api/v1/artists/",
        {
            "name": "Han Bit",
            "name_ko": "한빛",
            "official_accounts": ["https://instagram.com/hanbit"],
            "agency": "starlight",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = Artist.objects.get(pk=response.json()["id"])
    assert (created.agency, created.slug, created.official_accounts) == (
        agency,
        "han-bit",
        ["https://instagram.com/hanbit"],
    )
    again = client.post("/api/v1/artists/", {"name": "Han Bit"}, format="json")
    assert again.status_code == 400
    assert again.json()["errors"] == [
        {"field": "slug", "message": "Your agency already has an artist with this slug."}
    ]
    korean_only = client.post("/api/v1/artists/", {"name": "한빛"}, format="json")
    assert korean_only.status_code == 400 and korean_only.json()["errors"][0]["field"] == "slug"
    elsewhere = client.post("/api/v1/artists/", {"name": "Spy", "agency": "comet"}, format="json")
    assert elsewhere.status_code == 400 and elsewhere.json()["errors"][0]["field"] == "agency"
    assert not Artist.objects.filter(agency=other_agency).exists()


def test_it_throttles_each_token_with_retry_after(api, api_user, staff, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "3/min", "api_import": "1/min"},
    }
    for _ in range(3):
        assert api.get("/api/v1/platforms/").status_code == 200
    throttled = api.get("/api/v1/platforms/")
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert set(throttled.json()) == {"detail", "errors"}
    # Another token has its own budget.
    assert client_for(staff).get("/api/v1/platforms/").status_code == 200


def test_it_fails_loudly_on_a_malformed_rate(settings):
    from django.core.exceptions import ImproperlyConfigured

    from takedown.api.throttling import check_rates

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "lots", "api_import": "1/min"},
    }
    with pytest.raises(ImproperlyConfigured, match="TAKEDOWN_API_RATE='lots'"):
        check_rates()


def test_it_answers_401_in_the_error_shape_without_a_token(db):
    response = APIClient().get("/api/v1/urls/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided.", "errors": []}


def test_it_answers_405_to_a_method_a_route_does_not_have(api, urls):
    for method, path in [("delete", f"/api/v1/urls/{urls['x'].pk}/"), ("get", "/api/v1/urls/import/"),
                         ("put", "/api/v1/stats/"), ("post", "/api/v1/platforms/")]:  # fmt: skip
        response = getattr(api, method)(path)
        assert response.status_code == 405, (method, path, response.content)
        assert set(response.json()) == {"detail", "errors"}


def test_it_answers_a_server_error_in_the_apis_shape(api, urls, monkeypatch):
    from takedown.api import views

    def broken(self):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.PlatformViewSet, "get_queryset", broken)
    api.raise_request_exception = False
    response = api.get("/api/v1/platforms/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail", "errors"} and "a bug" not in response.content.decode()
