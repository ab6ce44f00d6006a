"""The intake service: one code path for the admin upload, the CLI and the API."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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
