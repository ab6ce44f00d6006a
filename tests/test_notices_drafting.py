"""Drafting: open URLs grouped into drafts per platform and route, and the pre-send checks."""

from __future__ import annotations

import io
from datetime import timedelta

import pypdf
import pytest
from django.utils import timezone

from takedown import notices
from takedown.models import InfringingURL, Notice, RightsRecord
from tests.notices_setup import file_documents, import_urls

pytestmark = pytest.mark.django_db


def test_it_groups_open_urls_per_platform_and_route(agency, artist, staff, platforms, templates):
    import_urls(
        agency,
        artist,
        [
            "https://t.me/a/1",
            "https://t.me/a/2",
            "https://youtu.be/abcDEF12345",
            "https://unknown.example.net/x",
        ],
    )
    import_urls(agency, artist, ["https://t.me/a/3"], route="dsa")
    drafts, skipped = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert skipped == 1
    groups = sorted((n.platform.slug, n.legal_route, n.items.count()) for n in drafts)
    assert groups == [
        ("telegram", "dsa", 1),
        ("telegram", "platform_policy", 2),
        ("youtube", "platform_policy", 1),
    ]
    assert all(n.status == "draft" and n.created_by == staff for n in drafts)
    # URLs held by a draft are not drafted twice; a new URL joins the existing draft.
    import_urls(agency, artist, ["https://t.me/a/4"])
    again, _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert [n.pk for n in again] == [
        n.pk for n in drafts if n.legal_route == "platform_policy" and n.platform.slug == "telegram"
    ]
    assert again[0].items.count() == 3


def test_it_uses_korean_for_korean_routes(agency, artist, staff, platforms, templates):
    import_urls(agency, artist, ["https://blog.naver.com/someone/223344556677"])
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert notice.legal_route == "kr_tba_22_5"
    assert notice.locale == "ko"


def test_it_lets_neither_api_clients_nor_managers_draft(api_user, manager, telegram_urls):
    for user in (api_user, manager):
        with pytest.raises(notices.NotAllowed):
            notices.notices_prepare(user=user, artist_id=telegram_urls[0].artist_id)


def test_it_renders_korean_notices_with_hangul(agency, artist, staff, legal, platforms, templates):
    import_urls(agency, artist, ["https://blog.naver.com/someone/223344556677"])
    file_documents(artist, legal)
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    notice = notices.notice_submit(notice_id=notice.pk, user=staff)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(bytes(notice.pdf))).pages)
    assert "강루나" in text
    assert "스타라이트" in text


def test_it_blocks_submission_with_every_presend_problem(agency, artist, staff, platforms, templates):
    agency.signatory_name = ""
    agency.address = ""
    agency.save()
    urls = import_urls(
        agency, artist, ["https://www.youtube.com/watch?v=abcDEF12345"], category="copyright", route="dmca"
    )
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    # The artist's official channel was added after intake.
    artist.official_accounts = ["youtube.com"]
    artist.save()
    with pytest.raises(notices.PresendFailed) as exc:
        notices.notice_submit(notice_id=notice.pk, user=staff)
    text = " | ".join(exc.value.problems)
    assert "rights record" in text
    assert "signatory" in text.lower()
    assert "address" in text.lower()
    assert "official allow-list" in text
    notice.refresh_from_db()
    assert notice.status == "draft"
    assert not notice.pdf_sha256
    assert urls[0].pk in notice.items.values_list("url_id", flat=True)


def test_it_blocks_a_platform_without_channel(agency, artist, staff, platforms, templates):
    import_urls(agency, artist, ["https://gall.dcinside.com/board/view/?id=x&no=1"])
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    with pytest.raises(notices.PresendFailed, match="no reporting channel"):
        notices.notice_submit(notice_id=notice.pk, user=staff)


def test_it_passes_dmca_checks_with_a_rights_record(agency, artist, staff, platforms, templates):
    work = RightsRecord.objects.create(artist=artist, title="Moonrise concept photo", owner=agency.name)
    (url,) = import_urls(
        agency, artist, ["https://www.youtube.com/watch?v=abcDEF12345"], category="copyright", route="dmca"
    )
    InfringingURL.objects.filter(pk=url.pk).update(work=work)
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    notice = notices.notice_submit(notice_id=notice.pk, user=staff)
    assert "Moonrise concept photo" in notice.rendered_text
    assert "perjury" in notice.rendered_text.lower()


def test_it_refuses_renotifying_a_url_within_the_window(draft, staff, legal, artist, agency, settings):
    notice = notices.notice_submit(notice_id=draft.pk, user=staff)
    notices.notice_approve(notice_id=notice.pk, user=legal)
    # Pretend it went out by email yesterday.
    Notice.objects.filter(pk=notice.pk).update(status="sent", sent_at=timezone.now() - timedelta(days=1))
    InfringingURL.objects.filter(artist=artist).update(status="open")
    (second,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    problems = notices.presend_problems(second)
    assert any("already notified to Telegram" in p for p in problems)
    settings.TAKEDOWN_RENOTIFY_DAYS = 0
    assert not any("already notified" in p for p in notices.presend_problems(second))
