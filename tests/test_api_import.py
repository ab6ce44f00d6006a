"""POST /api/v1/urls/import/: the bulk intake over HTTP."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from takedown.models import Artist, InfringingURL
from takedown.tokens import token_issue

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/urls/import/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    return client


@pytest.fixture
def api(api_user, platforms):
    return client_for(api_user)


def _rows(n, artist="luna-kang", start=0):
    return [
        {
            "artist": artist,
            "url": f"https://www.youtube.com/watch?v=v{i:010d}",
            "category": "synthetic_sexual",
        }
        for i in range(start, start + n)
    ]


def post_json(client, payload, query=""):
    return client.post(IMPORT + query, data=json.dumps(payload), content_type="application/json")


def post_csv(client, text, query="", content_type="text/csv"):
    body = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(IMPORT + query, data=body, content_type=content_type)


def test_it_imports_json_rows_and_reports_counts(api, artist, api_user):
    response = post_json(
        api,
        {
            "items": [
                {
                    "artist": "luna-kang",
                    "url": "https://youtu.be/abcDEF12345?si=x",
                    "category": "synthetic_sexual",
                    "legal_route": "take_it_down",
                    "discovered_at": "2026-05-19",
                    "note": "fan tip",
                },
                {
                    "artist": artist.pk,
                    "url": "https://twitter.com/someone/status/1",
                    "category": "impersonation",
                },
            ]
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 2, "duplicates": 0, "rejected": 0, "errors": []}
    stored = InfringingURL.objects.get(normalized_url="https://www.youtube.com/watch?v=abcDEF12345")
    assert (stored.source, stored.added_by, stored.legal_route, stored.note) == (
        "api",
        api_user,
        "take_it_down",
        "fan tip",
    )
    assert stored.platform.slug == "youtube"


def test_it_counts_duplicates_within_a_batch_and_of_stored_rows(api, artist):
    batch = {
        "items": [
            *_rows(3),
            {
                "artist": "luna-kang",
                "url": "https://m.youtube.com/watch?v=v0000000000&feature=share",
                "category": "synthetic_sexual",
            },
        ]
    }
    first = post_json(api, batch)
    assert first.status_code == 201
    assert first.json() == {"created": 3, "duplicates": 1, "rejected": 0, "errors": []}
    again = post_json(api, batch)
    assert again.status_code == 200
    assert again.json() == {"created": 0, "duplicates": 4, "rejected": 0, "errors": []}
    assert InfringingURL.objects.count() == 3


def test_it_stores_valid_rows_and_reports_each_rejected_one(api, artist, other_artist):
    items = [
        _rows(1)[0],
        {"artist": "nobody", "url": "https://example.com/a", "category": "copyright"},
        {"artist": str(other_artist.pk), "url": "https://example.com/b", "category": "copyright"},
        {"artist": "rio-seo", "url": "https://example.com/c", "category": "copyright"},
        {"artist": "luna-kang", "url": "https://x.com/luna_official/status/5", "category": "impersonation"},
        {"artist": "luna-kang", "url": "http://127.0.0.1/admin", "category": "privacy"},
        {"artist": "luna-kang", "url": "https://example.com/d", "category": "deepfake"},
        {"artist": "luna-kang", "url": "https://example.com/e", "category": "privacy", "legal_route": "gdpr"},
        {
            "artist": "luna-kang",
            "url": "https://example.com/f",
            "category": "privacy",
            "discovered_at": "19/05/2026",
        },
        {"artist": "luna-kang", "url": "ftp://example.com/g", "category": "privacy"},
        "not an object",
    ]
    response = post_json(api, {"items": items})
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (1, 0, 10)
    by_row = {e["row"]: e for e in body["errors"]}
    assert [by_row[i]["field"] for i in range(2, 12)] == [
        "artist",
        "artist",
        "artist",
        "url",
        "url",
        "category",
        "legal_route",
        "discovered_at",
        "url",
        "",
    ]
    # Another agency's artist, by id or slug, is just as unknown as one that does not exist.
    assert by_row[3]["message"] == f"No artist '{other_artist.pk}' in your agency."
    assert "official" in by_row[5]["message"]
    assert InfringingURL.objects.count() == 1


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"artist": "nobody", "url": "https://example.com/a", "category": "copyright"}, "artist"),
        ({"artist": "rio-seo", "url": "https://example.com/a", "category": "copyright"}, "artist"),
        ({"artist": "luna-kang", "url": "https://luna-kang.example.net/fan", "category": "copyright"}, "url"),
        ({"artist": "luna-kang", "url": "http://10.0.0.5/x", "category": "copyright"}, "url"),
        ({"artist": "luna-kang", "url": "http://localhost/x", "category": "copyright"}, "url"),
        ({"artist": "luna-kang", "url": "https://example.com/a", "category": "nope"}, "category"),
        (
            {
                "artist": "luna-kang",
                "url": "https://example.com/a",
                "category": "copyright",
                "legal_route": "x",
            },
            "legal_route",
        ),
        (
            {
                "artist": "luna-kang",
                "url": "https://example.com/a",
                "category": "copyright",
                "discovered_at": "2026-13-01",
            },
            "discovered_at",
        ),
        (
            {
                "artist": "luna-kang",
                "url": "https://example.com/a",
                "category": "copyright",
                "discovered_at": "2999-01-01",
            },
            "discovered_at",
        ),
        ({"artist": "luna-kang", "category": "copyright"}, "url"),
    ],
)
def test_it_answers_400_with_the_reason_when_no_row_is_valid(api, artist, other_artist, item, field):
    response = post_json(api, {"items": [item]})
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("No row could be accepted")
    assert body["rejected"] == 1 and body["created"] == 0
    assert body["errors"][0]["row"] == 1 and body["errors"][0]["field"] == field
    assert body["errors"][0]["message"]
    assert not InfringingURL.objects.exists()


def test_it_stores_nothing_from_an_atomic_batch_with_a_rejected_row(api, artist):
    items = [*_rows(2), {"artist": "luna-kang", "url": "https://example.com/x", "category": "bad"}]
    response = post_json(api, {"items": items}, "?atomic=1")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "1 row(s) rejected; with atomic=1 nothing was stored."
    assert (body["created"], body["rejected"]) == (0, 1)
    assert body["errors"] == [{"row": 3, "field": "category", "message": body["errors"][0]["message"]}]
    assert not InfringingURL.objects.exists()
    ok = post_json(api, {"items": _rows(2)}, "?atomic=1")
    assert ok.status_code == 201 and ok.json()["created"] == 2


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"", "application/json", "The request body is empty"),
        (b"   ", "application/json", "The request body is empty"),
        (b'{"items": [', "application/json", "Malformed JSON"),
        (b"\xff\xfe\x00garbage", "application/json", "Malformed JSON"),
        (b'[{"url": "https://example.com"}]', "application/json", 'Send an object with the rows in "items"'),
        (b'{"rows": []}', "application/json", 'Send an object with the rows in "items"'),
        (b'{"items": {"url": "x"}}', "application/json", "items: Must be a list of row objects, not dict."),
        (
            b'{"items": "https://example.com"}',
            "application/json",
            "items: Must be a list of row objects, not str.",
        ),
        (b'{"items": []}', "application/json", "No rows to import."),
        (
            b"url=https://example.com",
            "application/x-www-form-urlencoded",
            "Content-Type 'application/x-www-form-urlencoded'",
        ),
        (b"<items/>", "application/xml", "Content-Type 'application/xml'"),
        (b"artist,url\nluna-kang,https://example.com/a\n", "text/csv; charset=euc-kr", "Charset 'euc-kr'"),
        (b"artist,link\nluna-kang,https://example.com/a\n", "text/csv", "The CSV has no 'url' column"),
        (b"artist,url,colour\n", "text/csv", "Unknown column(s): colour"),
        (b"artist,url\n", "text/csv", "No rows to import."),
        (b"artist,url\nluna,\xb0\xa1\n", "text/csv", "The file is not UTF-8 text"),
    ],
)
def test_it_answers_400_to_an_unreadable_batch(api, artist, body, content_type, message):
    response = api.generic("POST", IMPORT, data=body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["detail"].startswith(message), answer
    assert isinstance(answer["errors"], list)


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (
            b'{"items": [{"artist": "luna-kang", "url": "https://example.com/a", "category": "privacy", "note": "a\\u0000b"}]}',
            "application/json",
            "note",
        ),
        (
            b'{"items": [{"artist": "luna-kang", "url": "https://example.com/a\\u0000", "category": "privacy"}]}',
            "application/json",
            "url",
        ),
        (
            b'{"items": [{"artist": "luna-kang", "url": "https://example.com/a", "category": "privacy", "note": "\\ud800"}]}',
            "application/json",
            "note",
        ),
        (b"artist,url,category,note\nluna-kang,https://example.com/a,privacy,a\x00b\n", "text/csv", "note"),
    ],
)
def test_it_answers_400_to_text_that_cannot_be_stored(api, artist, body, content_type, field):
    response = api.generic("POST", IMPORT, data=body, content_type=content_type)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["errors"] == [{"row": 1, "field": field, "message": answer["errors"][0]["message"]}]
    assert "cannot be stored" in answer["detail"]
    assert not InfringingURL.objects.exists()


def test_it_accepts_escaped_emoji_in_json(api, artist):
    body = json.dumps({"items": [{**_rows(1)[0], "note": "팬 제보 😡"}]}, ensure_ascii=True).encode()
    assert b"\\ud83d" in body
    response = api.generic("POST", IMPORT, data=body, content_type="application/json")
    assert response.status_code == 201
    assert InfringingURL.objects.get().note == "팬 제보 😡"


def test_it_answers_400_to_a_missing_content_type(api, artist):
    response = api.generic("POST", IMPORT, data=b'{"items": []}', content_type="")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Content-Type 'missing'")


def test_it_answers_400_to_a_bad_atomic_flag(api, artist):
    response = post_json(api, {"items": _rows(1)}, "?atomic=maybe")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "atomic", "message": "Use 1 or 0."}]


def test_it_refuses_a_body_over_the_limit_with_413_before_reading_it(api, artist, settings):
    settings.TAKEDOWN_IMPORT_MAX_BYTES = 2048
    payload = json.dumps({"items": _rows(100)})
    assert len(payload) > 2048
    response = post_json(api, json.loads(payload))
    assert response.status_code == 413
    assert "the limit is 2048 bytes" in response.json()["detail"]
    assert not InfringingURL.objects.exists()


def test_it_guards_the_read_when_the_declared_length_is_below_the_body(api, artist, settings):
    from takedown.api.views import RawBodyParser

    settings.TAKEDOWN_IMPORT_MAX_BYTES = 1024

    class Stream:
        def __init__(self):
            self.asked = None

        def read(self, n=-1):
            self.asked = n
            return b"x" * n

    class Request:
        META = {"CONTENT_LENGTH": "10"}

    stream = Stream()
    from takedown.api.errors import PayloadTooLarge

    with pytest.raises(PayloadTooLarge):
        RawBodyParser().parse(stream, "application/json", {"request": Request()})
    assert stream.asked == 1025


def test_it_refuses_more_rows_than_the_limit_with_413(api, artist, settings):
    settings.TAKEDOWN_IMPORT_MAX_ROWS = 5
    response = post_json(api, {"items": _rows(6)})
    assert response.status_code == 413
    assert "limit of 5 rows" in response.json()["detail"]


def test_it_reads_csv_with_a_bom_korean_text_and_quoted_commas(api, artist):
    text = (
        "\ufeffartist,url,category,legal_route,discovered_at,note\n"
        'luna-kang,https://www.youtube.com/watch?v=abcDEF12345,synthetic_sexual,,2026-05-19,"딥페이크, 재업로드 3건"\n'
        'luna-kang,"https://example.com/search?q=루나,강",privacy,kr_network_44_2,,"따옴표 ""인용"" 포함"\n'
    )
    response = post_csv(api, text, content_type="text/csv; charset=utf-8")
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 2, "duplicates": 0, "rejected": 0, "errors": []}
    notes = set(InfringingURL.objects.values_list("note", flat=True))
    assert notes == {"딥페이크, 재업로드 3건", '따옴표 "인용" 포함'}
    korean = InfringingURL.objects.get(category="privacy")
    assert korean.legal_route == "kr_network_44_2"
    assert "루나" in korean.url


def test_it_numbers_csv_errors_by_data_row(api, artist):
    text = "artist,url,category\nluna-kang,https://example.com/1,copyright\nluna-kang,https://example.com/2,oops\n"
    response = post_csv(api, text)
    assert response.status_code == 201
    assert response.json()["errors"][0]["row"] == 2


def test_it_runs_a_constant_number_of_queries_whatever_the_row_count(api, artist):
    post_json(api, {"items": _rows(1, start=10_000)})  # warm up: token lookup paths, content types

    def queries_for(n, start):
        with CaptureQueriesContext(connection) as ctx:
            response = post_json(api, {"items": _rows(n, start=start)})
        assert response.status_code == 201 and response.json()["created"] == n
        return len(ctx.captured_queries)

    assert queries_for(10, 0) == queries_for(2_000, 100)


def test_it_imports_100000_rows_in_one_request(api, artist, agency):
    Artist.objects.create(agency=agency, name="Daon Yoon", slug="daon-yoon")
    items = _rows(50_000) + _rows(50_000, artist="daon-yoon")
    response = post_json(api, {"items": items})
    assert response.status_code == 201
    assert response.json() == {"created": 100_000, "duplicates": 0, "rejected": 0, "errors": []}
    assert InfringingURL.objects.count() == 100_000


def test_it_lets_a_superuser_import_for_a_named_agency(superuser, artist, agency, platforms):
    client = client_for(superuser)
    missing = post_json(client, {"items": _rows(1)})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "agency"
    for bad in ("nope", "%00", "a%20b"):
        unknown = post_json(client, {"items": _rows(1)}, f"?agency={bad}")
        assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "agency"
    response = post_json(client, {"items": _rows(1)}, f"?agency={agency.slug}")
    assert response.status_code == 201


def test_it_ignores_no_agency_parameter_of_a_normal_user_but_refuses_another(api, artist):
    assert post_json(api, {"items": _rows(1)}, "?agency=starlight").status_code == 201
    response = post_json(api, {"items": _rows(1, start=5)}, "?agency=comet")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "agency", "message": "Unknown agency 'comet'."}]


def test_it_throttles_imports_per_token_with_retry_after(api, artist, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "1000/min", "api_import": "2/hour"},
    }
    assert post_json(api, {"items": _rows(1)}).status_code == 201
    assert post_json(api, {"items": _rows(1)}).status_code == 200
    throttled = post_json(api, {"items": _rows(1)})
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["detail"].startswith("Request was throttled")
    assert throttled.json()["errors"] == []
