"""The intake service: one code path for the admin upload, the CLI and the API."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from takedown import importing
from takedown.choices import URLStatus
from takedown.models import InfringingURL

pytestmark = pytest.mark.django_db


def _rows(n, artist="luna-kang", start=0):
    return [
        {
            "artist": artist,
            "url": f"https://www.youtube.com/watch?v=vid{i:08d}",
            "category": "synthetic_sexual",
        }
        for i in range(start, start + n)
    ]


def test_it_stores_normalised_urls_matched_to_platforms(agency, artist, staff, platforms):
    report = importing.import_rows(
        [
            {
                "artist": "luna-kang",
                "url": "https://youtu.be/abcDEF12345?si=track",
                "category": "synthetic_sexual",
            },
            {
                "artist": str(artist.pk),
                "url": "https://twitter.com/SomeOne/status/123?s=20",
                "category": "impersonation",
            },
        ],
        agency=agency,
        user=staff,
        source="csv",
    )
    assert report.as_dict() == {"created": 2, "duplicates": 0, "rejected": 0, "errors": []}
    stored = {u.normalized_url: u for u in InfringingURL.objects.all()}
    yt = stored["https://www.youtube.com/watch?v=abcDEF12345"]
    assert yt.platform.slug == "youtube"
    assert yt.url == "https://youtu.be/abcDEF12345?si=track"
    assert yt.host == "youtube.com" or yt.host.endswith("youtube.com")
    assert yt.status == URLStatus.OPEN
    assert yt.source == "csv"
    assert yt.added_by == staff
    assert yt.legal_route == platforms["youtube"].default_route
    x = next(u for k, u in stored.items() if "/status/123" in k)
    assert x.platform.slug == "x"


def test_it_counts_duplicates_within_a_batch_and_against_stored_rows(agency, artist, platforms):
    first = importing.import_rows(
        [
            {"url": "https://www.youtube.com/watch?v=abcDEF12345", "category": "copyright"},
            {"url": "https://m.youtube.com/watch?v=abcDEF12345&feature=share", "category": "copyright"},
            {"url": "https://youtube.com/shorts/abcDEF12345", "category": "copyright"},
        ],
        agency=agency,
        artist=artist,
    )
    assert (first.created, first.duplicates, first.rejected) == (1, 2, 0)
    again = importing.import_rows(
        _rows(3) + [{"url": "https://youtu.be/abcDEF12345", "category": "copyright"}],
        agency=agency,
        artist=artist,
    )
    assert (again.created, again.duplicates) == (3, 1)
    resent = importing.import_rows(_rows(3), agency=agency, artist=artist)
    assert (resent.created, resent.duplicates, resent.rejected) == (0, 3, 0)
    assert InfringingURL.objects.count() == 4


def test_it_keeps_the_same_url_apart_for_two_artists(agency, artist, platforms):
    from takedown.models import Artist

    other = Artist.objects.create(agency=agency, name="Daon Yoon", slug="daon-yoon")
    url = "https://www.youtube.com/watch?v=abcDEF12345"
    report = importing.import_rows(
        [
            {"artist": "luna-kang", "url": url, "category": "copyright"},
            {"artist": "daon-yoon", "url": url, "category": "copyright"},
        ],
        agency=agency,
    )
    assert report.created == 2
    assert set(InfringingURL.objects.values_list("artist_id", flat=True)) == {artist.pk, other.pk}


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"url": "ftp://files.example/x", "category": "copyright"}, "url", "http"),
        ({"url": "http://127.0.0.1/admin", "category": "copyright"}, "url", ""),
        ({"url": "http://2130706433/", "category": "copyright"}, "url", ""),
        ({"url": "http://user@example.com/", "category": "copyright"}, "url", ""),
        ({"url": "http://localhost:8000/", "category": "copyright"}, "url", ""),
        ({"url": "https://x.com/luna_official/status/1", "category": "copyright"}, "url", "official"),
        ({"url": "https://shop.luna-kang.example.net/p/1", "category": "copyright"}, "url", "official"),
        ({"url": "", "category": "copyright"}, "url", "required"),
        ({"url": "https://example.com/a"}, "category", "required"),
        ({"url": "https://example.com/a", "category": "deepfake"}, "category", "Unknown category"),
        (
            {"url": "https://example.com/a", "category": "copyright", "legal_route": "gdpr"},
            "legal_route",
            "Unknown legal route",
        ),
        (
            {"url": "https://example.com/a", "category": "copyright", "discovered_at": "yesterday"},
            "discovered_at",
            "not a date",
        ),
        (
            {"url": "https://example.com/a", "category": "copyright", "discovered_at": "2999-01-01"},
            "discovered_at",
            "future",
        ),
        ({"url": "https://example.com/a", "category": "copyright", "note": "x" * 2001}, "note", "2000"),
        (
            {"artist": "nobody", "url": "https://example.com/a", "category": "copyright"},
            "artist",
            "No artist",
        ),
        ({"url": "https://example.com/a\x00b", "category": "copyright"}, "url", "NUL"),
        ({"url": "https://example.com/a", "category": "copyright", "note": "a\x00b"}, "note", "NUL"),
        ({"url": "https://example.com/a", "category": "copyright", "note": "bad \ud800"}, "note", "Unicode"),
    ],
)
def test_it_rejects_a_bad_row_with_its_field_and_reason(agency, artist, platforms, row, field, message):
    row = {"artist": "luna-kang", **row}
    report = importing.import_rows([row, *_rows(1)], agency=agency)
    assert report.rejected == 1
    assert report.created == 1
    (error,) = report.errors
    assert error.row == 1
    assert error.field == field
    assert message in error.message
    assert error.message


def test_it_refuses_another_agencys_artist(agency, artist, other_artist, platforms):
    report = importing.import_rows(
        [
            {"artist": "rio-seo", "url": "https://example.com/a", "category": "copyright"},
            {"artist": str(other_artist.pk), "url": "https://example.com/b", "category": "copyright"},
        ],
        agency=agency,
    )
    assert report.rejected == 2
    assert [e.field for e in report.errors] == ["artist", "artist"]
    assert not InfringingURL.objects.exists()


def test_it_stores_nothing_in_atomic_mode_when_a_row_is_rejected(agency, artist, platforms):
    rows = _rows(5) + [{"url": "javascript:alert(1)", "category": "copyright"}]
    report = importing.import_rows(rows, agency=agency, artist=artist, atomic=True)
    assert report.atomic_aborted
    assert report.rejected == 1
    assert report.created == 0
    assert not InfringingURL.objects.exists()


def test_it_uses_the_platform_route_then_the_given_default(agency, artist, platforms):
    importing.import_rows(
        [
            {"url": "https://t.me/somechannel/42", "category": "synthetic_sexual"},
            {"url": "https://unknown-host.example.net/v/1", "category": "synthetic_sexual"},
        ],
        agency=agency,
        artist=artist,
    )
    telegram = InfringingURL.objects.get(host="t.me")
    assert telegram.legal_route == platforms["telegram"].default_route
    unknown = InfringingURL.objects.get(host="unknown-host.example.net")
    assert unknown.platform is None
    assert unknown.legal_route == "platform_policy"
    importing.import_rows(
        [{"url": "https://unknown-host.example.net/v/2", "category": "copyright"}],
        agency=agency,
        artist=artist,
        default_route="dmca",
    )
    assert InfringingURL.objects.get(normalized_url__endswith="/v/2").legal_route == "dmca"


def test_it_parses_discovery_dates_and_times(agency, artist, platforms):
    importing.import_rows(
        [
            {"url": "https://example.com/1", "category": "copyright", "discovered_at": "2026-05-19"},
            {
                "url": "https://example.com/2",
                "category": "copyright",
                "discovered_at": "2026-05-19T14:30:00+09:00",
            },
            {
                "url": "https://example.com/3",
                "category": "copyright",
                "discovered_at": "2026-05-19T05:30:00Z",
            },
        ],
        agency=agency,
        artist=artist,
    )
    times = {u.normalized_url[-1]: u.discovered_at for u in InfringingURL.objects.all()}
    assert times["2"] == times["3"]
    assert times["1"].date().isoformat() in ("2026-05-18", "2026-05-19")


def test_it_runs_a_constant_number_of_queries_whatever_the_batch_size(agency, artist, platforms):
    with CaptureQueriesContext(connection) as small:
        importing.import_rows(_rows(10), agency=agency)
    with CaptureQueriesContext(connection) as large:
        importing.import_rows(_rows(2000, start=10), agency=agency)
    assert InfringingURL.objects.count() == 2010
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 8


def test_it_refuses_a_batch_over_the_row_limit(agency, artist, platforms, settings):
    settings.TAKEDOWN_IMPORT_MAX_ROWS = 5
    with pytest.raises(importing.ImportTooLarge, match="limit of 5 rows"):
        importing.import_rows(_rows(6), agency=agency)
    assert not InfringingURL.objects.exists()


def test_it_reads_csv_with_bom_korean_text_and_quoted_commas():
    data = (
        "\ufeffartist,url,category,note\r\n"
        'luna-kang,https://example.com/a,copyright,"강루나 딥페이크, 재업로드"\r\n'
        "\r\n"
        'luna-kang,"https://example.com/b?x=1,2",privacy,\r\n'
    ).encode()
    rows = importing.read_csv(data)
    assert rows == [
        {
            "artist": "luna-kang",
            "url": "https://example.com/a",
            "category": "copyright",
            "note": "강루나 딥페이크, 재업로드",
        },
        {"artist": "luna-kang", "url": "https://example.com/b?x=1,2", "category": "privacy", "note": ""},
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"artist,link\nx,y\n", "no 'url' column"),
        (b"url,colour\nhttps://e.example/,red\n", "Unknown column"),
        ("url\nhttps://e.example/\n".encode("utf-16"), "not UTF-8"),
    ],
)
def test_it_explains_an_unreadable_csv(data, message):
    with pytest.raises(importing.IntakeError, match=message):
        importing.read_csv(data)


# -- The front door: a body or file -> rows ------------------------------------------------

NUL = "Contains a NUL character, which cannot be stored."
SURROGATE = "Contains an unpaired surrogate (invalid Unicode), which cannot be stored."
NOT_AN_OBJECT = 'Send an object with the rows in "items": {"items": [{...}, ...]}.'


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://example.com/a", None),
        ("", None),
        ("강루나 딥페이크, 재업로드 😡", None),
        ("a\x00b", NUL),
        ("bad \ud800", SURROGATE),
        ("\udfff tail", SURROGATE),
        ("딥페이크 \x00 \ud800", NUL),
    ],
)
def test_it_says_why_text_cannot_be_stored(value, problem):
    assert importing.text_problem(value) == problem


@pytest.mark.parametrize(
    ("body", "message", "field"),
    [
        (b'{"items": [', "Malformed JSON: Expecting value (line 1, column 12).", ""),
        (b"\xff\xfe\x00garbage", "Malformed JSON: Expecting value (line 1, column 1).", ""),
        (b'{"items": "\xb0\xa1"}', "Malformed JSON: the body is not UTF-8 JSON text.", ""),
        (b"[" * 100_000, "Malformed JSON: the body is not UTF-8 JSON text.", ""),
        (b'[{"url": "https://example.com"}]', NOT_AN_OBJECT, ""),
        (b'{"rows": []}', NOT_AN_OBJECT, ""),
        (b'{"items": {"url": "x"}}', "Must be a list of row objects, not dict.", "items"),
        (b'{"items": "https://example.com"}', "Must be a list of row objects, not str.", "items"),
        (b'{"items": []}', "No rows to import.", ""),
        (b'\xef\xbb\xbf{"items": []}', "No rows to import.", ""),
    ],
)
def test_it_refuses_a_json_body_it_cannot_read_with_the_reason(body, message, field):
    with pytest.raises(importing.IntakeError) as refused:
        importing.rows_from_json(body)
    assert str(refused.value) == message
    assert refused.value.field == field


def test_it_reads_json_rows_as_sent_for_the_row_checks_to_judge():
    body = '\ufeff{"items": [{"url": "https://example.com/a", "note": "팬 제보 😡"}, "not an object"]}'
    rows = importing.rows_from_json(body.encode())
    assert rows == [{"url": "https://example.com/a", "note": "팬 제보 😡"}, "not an object"]
    escaped = b'{"items": [{"url": "https://example.com/a", "note": "\\ud83d\\ude21"}]}'
    assert importing.rows_from_json(escaped) == [{"url": "https://example.com/a", "note": "😡"}]


@pytest.mark.parametrize(
    ("item", "field", "message"),
    [
        (b'{"url": "https://example.com/a", "note": "a\\u0000b"}', "note", NUL),
        (b'{"url": "https://example.com/a\\u0000"}', "url", NUL),
        (b'{"artist": "luna\\u0000", "url": "https://example.com/a"}', "artist", NUL),
        (b'{"url": "https://example.com/a", "note": "\\ud800"}', "note", SURROGATE),
        (b'{"url": "https://example.com/a", "category": "\\uDC00x"}', "category", SURROGATE),
    ],
)
def test_it_refuses_a_json_batch_with_text_that_cannot_be_stored(item, field, message):
    body = b'{"items": [{"url": "https://example.com/ok"}, ' + item + b', "not an object"]}'
    with pytest.raises(importing.UnstorableText) as refused:
        importing.rows_from_json(body)
    assert str(refused.value) == "1 row(s) contain text that cannot be stored; nothing was imported."
    assert refused.value.errors == [importing.RowError(2, field, message)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"artist,url\n", "No rows to import."),
        (b"url\r\n\r\n\r\n", "No rows to import."),
        ("\ufeffurl\n", "No rows to import."),
        (b"url\nhttps://e.example/\xb0\xa1\n", "The file is not UTF-8 text (byte 22)"),
        (b"artist,link\nx,y\n", "The CSV has no 'url' column."),
    ],
)
def test_it_refuses_a_csv_it_cannot_read_with_the_reason(data, message):
    with pytest.raises(importing.IntakeError, match=re.escape(message)):
        importing.rows_from_csv(data)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            b"url,note\nhttps://example.com/a,fine\nhttps://example.com/b,a\x00b\nhttps://e.example/\x00,x\x00\n",
            [importing.RowError(2, "note", NUL), importing.RowError(3, "url", NUL)],
        ),
        ("url,note\nhttps://example.com/a,bad \ud800\n", [importing.RowError(1, "note", SURROGATE)]),
    ],
)
def test_it_refuses_a_csv_with_text_that_cannot_be_stored(data, errors):
    with pytest.raises(importing.UnstorableText) as refused:
        importing.rows_from_csv(data)
    assert refused.value.errors == errors
    assert str(refused.value).startswith(f"{len(errors)} row(s) contain text that cannot be stored")


def test_it_refuses_a_body_over_the_byte_limit(settings):
    settings.TAKEDOWN_IMPORT_MAX_BYTES = 2048
    settings.TAKEDOWN_IMPORT_MAX_ROWS = 10
    importing.check_body_size(2048)
    with pytest.raises(importing.ImportTooLarge) as whole:
        importing.check_body_size(2049)
    assert str(whole.value) == (
        "The body is 2049 bytes; the limit is 2048 bytes (0.0 MiB) and 10 rows per request. Split the batch."
    )
    with pytest.raises(importing.ImportTooLarge, match=r"^The body is over the limit; the limit is 2048"):
        importing.check_body_size(2049, whole=False)


def test_it_refuses_an_upload_over_the_byte_limit_in_the_users_language(settings):
    settings.TAKEDOWN_IMPORT_MAX_BYTES = 100
    importing.check_upload_size(100)
    with translation.override("en"), pytest.raises(importing.ImportTooLarge) as english:
        importing.check_upload_size(101)
    assert str(english.value) == "The file is 101 bytes; the limit is 100 bytes."
    with translation.override("ko"), pytest.raises(importing.ImportTooLarge) as korean:
        importing.check_upload_size(101)
    assert str(korean.value) == "파일 크기가 101바이트입니다. 최대 100바이트까지 허용됩니다."


@pytest.mark.parametrize("field", ["artist", "category", "legal_route", "discovered_at"])
def test_it_rejects_a_row_with_unstorable_text_in_any_field(agency, artist, platforms, field):
    row = {"artist": "luna-kang", "url": "https://example.com/a", "category": "copyright", field: "x\x00"}
    report = importing.import_rows([row, *_rows(1)], agency=agency)
    assert [(e.row, e.field, e.message) for e in report.errors] == [(1, field, NUL)]
    assert report.created == 1


def test_it_checks_a_single_url_into_a_named_row(agency, artist, platforms):
    intake = importing.Intake(agency=agency, artist=artist)
    row = intake.check(
        1,
        {
            "url": " https://youtu.be/abcDEF12345?si=x ",
            "category": "synthetic_sexual",
            "discovered_at": "2026-05-19T14:30:00+09:00",
            "note": " fan tip ",
        },
    )
    assert isinstance(row, importing.CheckedRow)
    assert row.artist_id == artist.pk
    assert row.url == "https://youtu.be/abcDEF12345?si=x"
    assert (row.normalized_url, row.host) == (
        "https://www.youtube.com/watch?v=abcDEF12345",
        "www.youtube.com",
    )
    assert row.platform_id == platforms["youtube"].pk
    assert (row.category, row.legal_route) == ("synthetic_sexual", platforms["youtube"].default_route)
    assert row.discovered_at.isoformat() == "2026-05-19T14:30:00+09:00"
    assert row.note == "fan tip"


# -- One CSV, three ways in ------------------------------------------------------------------

SAME_CSV = (
    "\ufeffartist,url,category,legal_route,discovered_at,note\n"
    'luna-kang,https://youtu.be/abcDEF12345?si=x,synthetic_sexual,,2026-05-19,"강루나, 딥페이크"\n'
    "luna-kang,https://www.youtube.com/watch?v=abcDEF12345,synthetic_sexual,,2026-05-19,same video\n"
    "luna-kang,https://t.me/leakchannel/77,real_intimate,kr_network_44_2,2026-05-18,\n"
    'luna-kang,"https://example.com/a https://example.com/b",privacy,,2026-05-17,two in one cell\n'
    "luna-kang,http://10.0.0.7/leak,real_intimate,,2026-05-19,\n"
    "luna-kang,https://x.com/luna_official,impersonation,,2026-05-19,\n"
    "nobody,https://example.com/c,privacy,,2026-05-19,\n"
    "luna-kang,https://example.com/d,deepfake,,2026-05-19,\n"
).encode()


def _through_api(user, data):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    from takedown.tokens import token_issue

    cache.clear()  # import throttle counters
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    response = api.generic("POST", "/api/v1/urls/import/", data=data, content_type="text/csv")
    body = response.json()
    return response.status_code, body["detail"] if "detail" in body else body


def _through_admin(client, user, data):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client.force_login(user)
    upload = SimpleUploadedFile("urls.csv", data, "text/csv")
    response = client.post(reverse("admin:takedown_infringingurl_upload"), {"file": upload})
    form = response.context["form"]
    if form.errors:
        return form.errors["file"]
    return response.context["report"].as_dict()


def _through_cli(tmp_path, data):
    import io

    from django.core.management import CommandError, call_command

    path = tmp_path / "urls.csv"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "import_urls", str(path), "--agency", "starlight", "--no-progress", stdout=out, stderr=err
        )
    except CommandError as exc:
        return str(exc), err.getvalue()
    return out.getvalue(), err.getvalue()


def _stored_then_cleared():
    rows = sorted(
        InfringingURL.objects.values_list(
            "artist__slug",
            "url",
            "normalized_url",
            "host",
            "platform__slug",
            "category",
            "legal_route",
            "discovered_at",
            "note",
            "status",
        )
    )
    InfringingURL.objects.all().delete()
    return rows


def test_it_stores_the_same_rows_from_one_csv_through_the_api_the_admin_and_the_cli(
    client, staff, api_user, artist, platforms, tmp_path
):
    status, api_report = _through_api(api_user, SAME_CSV)
    assert status == 201
    through_api = _stored_then_cleared()
    admin_report = _through_admin(client, staff, SAME_CSV)
    through_admin = _stored_then_cleared()
    cli_out, cli_err = _through_cli(tmp_path, SAME_CSV)
    through_cli = _stored_then_cleared()

    assert len(through_api) == 4
    assert through_admin == through_api
    assert through_cli == through_api
    assert admin_report == api_report
    assert (api_report["created"], api_report["duplicates"], api_report["rejected"]) == (4, 1, 4)
    assert "4 created, 1 duplicates, 4 rejected" in cli_out
    rejected = [(e["row"], e["field"]) for e in api_report["errors"]]
    assert rejected == [(5, "url"), (6, "url"), (7, "artist"), (8, "category")]
    assert [line.split(":")[0] for line in cli_err.splitlines()] == [f"row {r} ({f})" for r, f in rejected]


def test_it_refuses_one_csv_with_unstorable_text_alike_through_the_api_the_admin_and_the_cli(
    client, staff, api_user, artist, platforms, tmp_path
):
    data = SAME_CSV + b"luna-kang,https://example.com/e,privacy,,2026-05-19,a\x00b\n"
    refusal = "1 row(s) contain text that cannot be stored; nothing was imported."
    status, api_detail = _through_api(api_user, data)
    assert (status, api_detail) == (400, refusal)
    assert list(_through_admin(client, staff, data)) == [refusal, f"Row 9 (note): {NUL}"]
    assert _through_cli(tmp_path, data) == (refusal, f"row 9 (note): {NUL}\n")
    assert not InfringingURL.objects.exists()
