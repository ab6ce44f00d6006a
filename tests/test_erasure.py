"""Erasure on the artist's request: nothing personal of the artist is left in any table except the
notices that were sent, which still verify; other artists are untouched; the erasure is recorded."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import models
from django.utils import timezone

from takedown import notices, retention
from takedown.models import (
    Artist,
    CounterNotice,
    Erasure,
    InfringingURL,
    Job,
    Notice,
    NoticeEvent,
    NoticeItem,
    RightsRecord,
    URLCheck,
)
from tests.notices_setup import approve, import_urls

pytestmark = pytest.mark.django_db

LUNA_URLS = [
    "https://www.youtube.com/watch?v=lunaVid0001",
    "https://www.youtube.com/watch?v=lunaVid0002",
    "https://x.com/leaker/status/1790000000000000001",
    "https://t.me/leakchan/101",
]
# Whatever would tell someone who the erased artist is or where the abuse of her is.
LUNA_MARKERS = [
    "Luna Kang",
    "강루나",
    "luna-kang",
    "Moonie",
    "luna_official",
    "Mapo-gu",
    "lunaVid000",
    "1790000000000000001",
    "leakchan",
    "photobook",
]
# The frozen bytes of a kept notice are what was sent: they name her, as the law requires.
FROZEN = {"rendered_subject", "rendered_html", "rendered_text", "pdf"}


def _text(value) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def leftovers(markers: list[str], kept_notice_ids: set[int]) -> list[tuple]:
    """(model, pk, field, marker) for every marker found in any row of any table."""
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.ForeignKey)]
        for row in model._base_manager.all():
            for f in fields:
                if model is Notice and row.pk in kept_notice_ids and f.name in FROZEN:
                    continue
                text = _text(getattr(row, f.attname)).casefold()
                found += [(model.__name__, row.pk, f.name, m) for m in markers if m.casefold() in text]
    return found


def snapshot(rows) -> dict:
    return {
        (type(r).__name__, r.pk): {f.attname: _text(getattr(r, f.attname)) for f in r._meta.concrete_fields}
        for r in rows
    }


def _luna_objects(luna_id: int) -> set[tuple[int, str]]:
    """(content type, object id) of Luna's URLs and notices, remembered from before the erasure."""
    from django.contrib.contenttypes.models import ContentType

    url_type = ContentType.objects.get_for_model(InfringingURL).pk
    notice_type = ContentType.objects.get_for_model(Notice).pk
    return {
        *(
            (url_type, str(pk))
            for pk in InfringingURL.objects.filter(artist_id=luna_id).values_list("pk", flat=True)
        ),
        *(
            (notice_type, str(pk))
            for pk in Notice.objects.filter(artist_id=luna_id).values_list("pk", flat=True)
        ),
    }


def others_rows(luna_id: int, luna: set[tuple[int, str]]) -> dict:
    """Every row of the other artists (of this agency and another), as values; `luna` holds
    Luna's logged objects, taken before the erasure (their entries are hers, whatever they say)."""
    logs = [
        e
        for e in LogEntry.objects.exclude(object_repr__icontains="luna").exclude(object_repr="[erased]")
        if (e.content_type_id, e.object_id) not in luna
    ]
    rows = [
        *Artist.objects.exclude(pk=luna_id),
        *InfringingURL.objects.exclude(artist_id=luna_id),
        *URLCheck.objects.exclude(url__artist_id=luna_id),
        *Notice.objects.exclude(artist_id=luna_id),
        *NoticeItem.objects.exclude(notice__artist_id=luna_id),
        *NoticeEvent.objects.exclude(notice__artist_id=luna_id),
        *RightsRecord.objects.exclude(artist_id=luna_id),
        *logs,
    ]
    return snapshot(rows)


def _checks(urls, title):
    for i, url in enumerate(urls):
        URLCheck.objects.create(
            url=url,
            checked_at=timezone.now() - timedelta(hours=i + 1),
            verdict="live",
            http_status=200,
            body_sha256="ab" * 32,
            title=title,
            excerpt=f"{title}: full video",
        )


def _log(user, obj):
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj),
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"fields": ["Notes"]}}]),
    )


@pytest.fixture
def sol(agency):
    from tests.conftest import authorized

    return authorized(
        Artist.objects.create(
            agency=agency,
            name="Sol Park",
            name_ko="박솔",
            slug="sol-park",
            official_accounts=["https://x.com/sol_official"],
        )
    )


@pytest.fixture
def world(agency, artist, sol, other_artist, staff, legal, platforms, templates):
    """Luna Kang with everything an artist can have, beside Sol Park (same agency) and Rio Seo."""
    Artist.objects.filter(pk=artist.pk).update(
        aliases=["Moonie"], notes="Lives in Mapo-gu; call her manager first"
    )
    artist.refresh_from_db()
    RightsRecord.objects.create(artist=artist, title="Luna Kang photobook 2025", owner="Starlight")
    luna_urls = import_urls(agency, artist, LUNA_URLS)
    InfringingURL.objects.filter(pk=luna_urls[0].pk).update(note="reported by a fan in Mapo-gu")
    _checks(luna_urls, "Luna Kang deepfake 강루나")

    drafts = {n.platform.slug: n for n in notices.notices_prepare(user=staff, artist_id=artist.pk)[0]}
    youtube = drafts["youtube"]
    approve(youtube, staff, legal)
    notices.notice_send(notice_id=youtube.pk, user=legal, reference="YT-1")
    notices.notice_record_counter(
        notice_id=youtube.pk,
        user=legal,
        received_at=timezone.now(),
        summary=f"The uploader says Luna Kang consented to {LUNA_URLS[0]}.",
        counter_party="uploader123",
    )
    x = drafts["x"]
    notices.notice_submit(notice_id=x.pk, user=staff)
    notices.notice_reject(notice_id=x.pk, user=legal, reason="Give Luna Kang's Korean name, 강루나, too")
    revised = notices.notice_revise(notice_id=x.pk, user=staff)
    approve(revised, staff, legal)
    notices.notice_send(notice_id=revised.pk, user=legal, reference="TIDA-1")
    notices.notice_submit(notice_id=drafts["telegram"].pk, user=staff)  # in review: never sent

    sol_urls = import_urls(agency, sol, ["https://www.youtube.com/watch?v=solVid00001"])
    _checks(sol_urls, "Sol Park fancam")
    (sol_notice,), _ = notices.notices_prepare(user=staff, artist_id=sol.pk)
    approve(sol_notice, staff, legal)
    notices.notice_send(notice_id=sol_notice.pk, user=legal, reference="YT-2")
    import_urls(other_artist.agency, other_artist, ["https://www.youtube.com/watch?v=rioVid00001"])

    luna_message = "https://x.com/luna_official is on Luna Kang's official allow-list."
    sol_message = "https://x.com/sol_official is on Sol Park's official allow-list."
    Job.objects.create(
        kind="import",
        agency=agency,
        user=staff,
        state="done",
        params={"artist_id": artist.pk, "source": "csv"},
        result={"created": 1, "rejected": 1, "errors": [{"row": 2, "field": "url", "message": luna_message}]},
    )
    mixed_done = Job.objects.create(
        kind="import",
        agency=agency,
        user=staff,
        state="done",
        params={"artist_id": None, "source": "csv"},
        result={
            "errors": [
                {"row": 1, "field": "url", "message": luna_message},
                {"row": 2, "field": "url", "message": sol_message},
            ]
        },
    )
    mixed_failed = Job.objects.create(
        kind="import",
        agency=agency,
        user=staff,
        state="failed",
        error="OperationalError: the database went away",
        params={
            "artist_id": None,
            "rows": [
                {"artist": "luna-kang", "url": "https://www.youtube.com/watch?v=lunaVid0003"},
                {"artist": "sol-park", "url": "https://www.youtube.com/watch?v=solVid00002"},
            ],
        },
    )
    _log(legal, artist)
    _log(legal, luna_urls[0])
    _log(legal, sol)
    return {
        "kept": {youtube.pk, revised.pk},
        "mixed_done": mixed_done,
        "mixed_failed": mixed_failed,
        "luna_message": luna_message,
        "sol_message": sol_message,
    }


def _erase(*args):
    out = io.StringIO()
    call_command("erase_artist", *args, stdout=out)
    return out.getvalue()


def test_it_leaves_nothing_personal_of_the_artist_but_the_notices_sent(world, artist, legal):
    kept = world["kept"]
    hashes = dict(Notice.objects.filter(pk__in=kept).values_list("pk", "pdf_sha256"))
    assert leftovers(LUNA_MARKERS, kept)  # the walk finds what is there

    out = _erase("luna-kang", "--by", "legal", "--no-input")

    assert leftovers(LUNA_MARKERS, kept) == []
    # The notices that were sent are kept exactly as sent: their PDFs still verify.
    for notice in Notice.objects.filter(pk__in=kept):
        assert hashlib.sha256(bytes(notice.pdf)).hexdigest() == notice.pdf_sha256 == hashes[notice.pk]
        assert "Luna Kang" in notice.rendered_text
        assert notice.items.count() == 0 and notice.status == "sent"
    assert set(Notice.objects.filter(artist_id=artist.pk).values_list("pk", flat=True)) == kept
    pseudonymous = Artist.objects.get(pk=artist.pk)
    assert (pseudonymous.name, pseudonymous.slug) == (f"Erased artist {artist.pk}", f"erased-{artist.pk}")
    counter = CounterNotice.objects.get(notice__artist=pseudonymous)
    assert counter.summary == f"The uploader says Erased artist {artist.pk} consented to [erased URL]."
    assert counter.counter_party == "uploader123"
    assert Notice.objects.get(pk__in=kept, revision_of__isnull=True, legal_route="take_it_down")

    # It says what it deletes, pseudonymises and keeps, and why.
    assert "Deletes: URLs: 4, URL checks: 4, unsent notices: 2" in out
    assert "rights records: 1, background jobs: 1" in out
    assert f'the artist row, as "Erased artist {artist.pk}"' in out
    assert "other background jobs: 2" in out and "admin history entries: 2" in out
    assert "Keeps 2 sent notices, as the law requires:" in out
    assert "§512(f)" in out and "GDPR Art. 17(3)(e)" in out
    until = timezone.localdate(timezone.now() + timedelta(days=3 * 365)).isoformat()
    assert f"kept until {until}" in out
    assert "Not reached: copies outside this database: backups" in out
    assert "Erased. Recorded as erasure #" in out

    # Recorded: who, when, how much; never what (the walk above found no marker in it).
    record = Erasure.objects.get()
    assert (record.performed_by, record.artist_ref, record.agency_id) == (legal, artist.pk, artist.agency_id)
    assert record.deleted["URLs"] == 4 and record.deleted["URL checks"] == 4
    assert sorted(n["id"] for n in record.kept["notices"]) == sorted(kept)
    assert record.finished_at is None
    assert abs(record.at - timezone.now()) < timedelta(minutes=5)


def test_it_leaves_other_artists_untouched(world, artist, sol):
    luna = _luna_objects(artist.pk)
    before = others_rows(artist.pk, luna)
    _erase("luna-kang", "--by", "legal", "--no-input")
    assert others_rows(artist.pk, luna) == before
    # In jobs shared with other artists, only the erased artist's rows and words go.
    failed = Job.objects.get(pk=world["mixed_failed"].pk)
    assert failed.params["rows"] == [
        {"artist": "sol-park", "url": "https://www.youtube.com/watch?v=solVid00002"}
    ]
    done = Job.objects.get(pk=world["mixed_done"].pk)
    assert [e["message"] for e in done.result["errors"]] == [
        f"[erased URL] is on Erased artist {artist.pk}'s official allow-list.",
        world["sol_message"],
    ]
    assert LogEntry.objects.get(object_id=str(sol.pk)).object_repr == str(sol)
    assert set(LogEntry.objects.exclude(object_id=str(sol.pk)).values_list("object_repr", flat=True)) == {
        "[erased]"
    }


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(world, artist):
    everything = [row for model in apps.get_models() for row in model._base_manager.all()]
    before = snapshot(everything)
    out = _erase("luna-kang", "--by", "legal", "--dry-run")
    assert "Deletes: URLs: 4" in out and "Keeps 2 sent notices" in out
    assert out.strip().endswith("Dry run: nothing was changed.")
    assert snapshot([row for model in apps.get_models() for row in model._base_manager.all()]) == before


def test_it_asks_for_the_slug_before_erasing(world, artist, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "luna")
    with pytest.raises(CommandError, match="Not confirmed"):
        _erase("luna-kang", "--by", "legal")
    assert Artist.objects.get(pk=artist.pk).name == "Luna Kang" and not Erasure.objects.exists()
    monkeypatch.setattr("builtins.input", lambda prompt: "luna-kang")
    _erase("luna-kang", "--by", "legal")
    assert Erasure.objects.count() == 1


def test_it_waits_for_a_notice_on_its_way_and_a_job_still_to_run(
    agency, artist, staff, legal, platforms, templates
):
    import_urls(agency, artist, LUNA_URLS[:1])
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    approve(notice, staff, legal)
    job = Job.objects.create(
        kind="import", agency=agency, user=staff, state="queued", params={"artist_id": artist.pk}
    )
    with pytest.raises(CommandError, match=rf"Notice #{notice.pk} is approved.*Background job #{job.pk}"):
        _erase("luna-kang", "--by", "legal", "--no-input")
    assert InfringingURL.objects.filter(artist=artist).count() == 1 and not Erasure.objects.exists()


def test_only_a_superuser_or_the_agencys_managers_and_legal_reviewers_erase(artist, staff, outsider, manager):
    for user in (staff, outsider):
        with pytest.raises(CommandError, match="may not erase"):
            _erase("luna-kang", "--by", user.username, "--no-input")
    assert Artist.objects.filter(pk=artist.pk).exists()
    _erase("luna-kang", "--by", manager.username, "--no-input")
    assert not Artist.objects.filter(pk=artist.pk).exists()


def test_with_no_notice_sent_nothing_is_kept(agency, artist, manager, platforms):
    import_urls(agency, artist, LUNA_URLS)
    out = _erase("luna-kang", "--by", "manager", "--no-input")
    assert "Keeps: nothing (no notice was ever sent for this artist)." in out
    assert "artist rows: 1" in out.splitlines()[1]
    assert not Artist.objects.filter(pk=artist.pk).exists()
    assert leftovers(LUNA_MARKERS, set()) == []
    assert Erasure.objects.get().finished_at is not None


def test_retention_deletes_the_kept_notices_when_their_time_is_up(world, artist, settings):
    _erase("luna-kang", "--by", "legal", "--no-input")
    last = max(NoticeEvent.objects.filter(notice__artist_id=artist.pk).values_list("at", flat=True))
    settings.TAKEDOWN_RETAIN_CHECKS_DAYS = 0
    report = retention.retention_apply(now=last + timedelta(days=3 * 365) - timedelta(minutes=1))
    assert (report.notices_deleted, report.artists_deleted) == (0, 0)
    assert Notice.objects.filter(artist_id=artist.pk).count() == 2
    report = retention.retention_apply(now=last + timedelta(days=3 * 365))
    assert (report.notices_deleted, report.artists_deleted) == (2, 1)
    assert not Artist.objects.filter(pk=artist.pk).exists()
    assert Erasure.objects.get().finished_at == last + timedelta(days=3 * 365)
    # Sol Park's notice stays.
    assert Notice.objects.count() == 1
