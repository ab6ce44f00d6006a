"""Intake's per-field shortcuts (a slug as stored, a known category, no route, no date, no note,
a host seen before) answer exactly as the field rules written out in full.

`FullRules` below is the row check as it was before the shortcuts: every field read through
`text_problem`, stripped, then looked up. Random rows, odd ones included (numbers, lists,
padding, NUL, lone surrogates, several URLs in a cell), must get the same stored values and
the same errors, field and message, from both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takedown import importing, legal
from takedown.importing import _CATEGORIES, _NOTE_MAX, _ROUTES, _parse_discovered, _Refused, _storable
from takedown.models import Artist, Platform

pytestmark = pytest.mark.django_db


class FullRules(importing.Intake):
    """The field rules with no shortcut, as they read before the shortcuts were added."""

    def _artist(self, row: Mapping[str, object]) -> Artist:
        key = row.get("artist")
        key = "" if key is None else _storable("artist", str(key)).strip()
        if key:
            artist = self.by_key.get(key)
            if artist is None:
                raise _Refused("artist", f"No artist {key!r} in your agency.")
            return artist
        if self.artist is not None:
            return self.artist
        raise _Refused("artist", "This field is required.")

    def _category(self, row: Mapping[str, object]) -> str:
        category = _storable("category", str(row.get("category") or "")).strip() or self.default_category
        if category in _CATEGORIES:
            return category
        if not category:
            raise _Refused("category", "This field is required.")
        raise _Refused(
            "category", f"Unknown category {category!r}; one of: {', '.join(sorted(_CATEGORIES))}."
        )

    def _platform(self, norm) -> Platform | None:
        slug = self.matcher.match(norm.host)
        return self.platforms.get(slug) if slug else None

    def _route(self, row: Mapping[str, object], platform: Platform | None, category: str) -> str:
        route = _storable("legal_route", str(row.get("legal_route") or "")).strip() or self.default_route
        if not route:
            return legal.default_route(platform, category)
        if route not in _ROUTES:
            raise _Refused(
                "legal_route", f"Unknown legal route {route!r}; one of: {', '.join(sorted(_ROUTES))}."
            )
        if not legal.may_carry(route, category):
            raise _Refused("legal_route", legal.carry_refusal(route, category))
        return route

    def _discovered(self, row: Mapping[str, object]) -> datetime:
        raw = row.get("discovered_at")
        if isinstance(raw, datetime):
            return raw
        try:
            return _parse_discovered(_storable("discovered_at", str(raw or "")), self.now)
        except ValueError as exc:
            raise _Refused("discovered_at", str(exc)) from None

    def _note(self, row: Mapping[str, object]) -> str:
        note = str(row.get("note") or "").strip()
        if len(note) > _NOTE_MAX:
            raise _Refused("note", f"At most {_NOTE_MAX} characters.")
        return _storable("note", note)


def _rows(artist: Artist, other: Artist) -> st.SearchStrategy[dict]:
    odd = [None, "", "   ", 0, 7, False, 3.5, ["x"], {"a": 1}, "a\x00b", "bad \ud800"]
    fields = {
        "artist": [artist.slug, f" {artist.slug} ", str(artist.pk), artist.pk, f"{artist.pk}\n", other.slug,
                   str(other.pk), "nobody", "luna\x00kang"],
        "url": ["https://x.com/Some_One/status/1234?s=20", "https://youtu.be/abcDEF12345?si=x",
                "https://t.me/somechannel/42", "https://unknown-host.example.net/v/1?utm_source=a",
                " https://www.youtube.com/watch?v=abcDEF12345 ", "https://x.com/luna_official/status/1",
                "https://a.example.com/1 https://b.example.com/2", "[clip](https://vimeo.com/123)",
                "http://127.0.0.1/admin", "ftp://files.example/x", "https://example.com/a\x00",
                "https://shop.luna-kang.example.net/p/1"],
        "category": ["copyright", " copyright ", "synthetic_sexual", "impersonation", "privacy",
                     "real_intimate", "deepfake", "Copyright"],
        "legal_route": ["dmca", " dsa ", "dsa", "kr_network_44_2", "take_it_down", "platform_policy", "gdpr", "DMCA"],
        "discovered_at": ["2026-05-19", " 2026-05-19 ", "2026-05-19T14:30:00+09:00", "2026-05-19T14:30:00Z",
                          "yesterday", "2999-01-01", "1990-01-01", datetime(2025, 3, 1, tzinfo=UTC)],
        "note": ["  seen on a fan board  ", "x" * 2001, " " + "y" * 2000 + " ", "메모"],
    }  # fmt: skip
    return st.fixed_dictionaries(
        {},
        optional={name: st.sampled_from([*values, *odd]) for name, values in fields.items()},
    )


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_it_answers_every_row_as_the_full_field_rules_do(agency, artist, other_artist, platforms, data):
    now = timezone.now()
    setups = [
        {},
        {"default_category": "copyright", "default_route": "dmca"},
        {"default_route": "kr_network_44_2"},
        {"artist": artist},
    ]
    kwargs = data.draw(st.sampled_from(setups))
    fast = importing.Intake(agency=agency, now=now, **kwargs)
    full = FullRules(agency=agency, now=now, **kwargs)
    for index, row in enumerate(data.draw(st.lists(_rows(artist, other_artist), min_size=1, max_size=8)), 1):
        # The same Intake checks every row, so what a shortcut keeps from one row to the next
        # (a host's platform, a route) is exercised too.
        assert fast.check_row(index, row) == full.check_row(index, row), row


def test_it_answers_rows_that_are_not_objects_as_before(agency, artist, platforms):
    fast = importing.Intake(agency=agency)
    for row in (None, "https://x.com/a/status/1", 3, ["a"]):
        (error,), note = fast.check_row(4, row)
        assert note is None
        assert error == importing.RowError(4, "", "Each item must be an object with the import columns.")
