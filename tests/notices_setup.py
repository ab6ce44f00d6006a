"""Shared setup for the notice tests: URLs imported through intake, a draft, a real SMTP server."""

from __future__ import annotations

import socket

import pytest

from takedown import importing, notices
from takedown.models import InfringingURL


def import_urls(agency, artist, urls, category="synthetic_sexual", route=""):
    report = importing.import_rows(
        [{"url": u, "category": category, "legal_route": route} for u in urls], agency=agency, artist=artist
    )
    assert report.rejected == 0, report.errors
    return list(InfringingURL.objects.filter(artist=artist).order_by("pk"))


PDF = b"%PDF-1.4\n% a fictional scan\n%%EOF\n"


def file_documents(artist, legal_user):
    """Upload the documents Korean portals ask for (위임장, masked ID copy) to each of the
    artist's authorizations, as a legal reviewer does."""
    from takedown.authority import authorization_document_add

    for authorization in artist.authorizations.all():
        for kind in ("power_of_attorney", "id_copy"):
            authorization_document_add(
                user=legal_user, authorization_id=authorization.pk, kind=kind, name=f"{kind}.pdf", content=PDF
            )


@pytest.fixture
def telegram_urls(agency, artist, platforms, templates):
    return import_urls(agency, artist, ["https://t.me/leakchan/101", "https://t.me/leakchan/102"])


@pytest.fixture
def draft(staff, telegram_urls):
    (notice,), skipped = notices.notices_prepare(user=staff, artist_id=telegram_urls[0].artist_id)
    assert skipped == 0
    return notice


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Keep(Message):
        def handle_message(self, message):
            received.append(message)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def approve(draft, staff, legal):
    notices.notice_submit(notice_id=draft.pk, user=staff)
    return notices.notice_approve(notice_id=draft.pk, user=legal)


@pytest.fixture
def moves_are_declared():
    """After the test: every move a notice made is one the workflow table declares."""
    yield
    from takedown.models import NoticeEvent
    from takedown.notices.states import ACTIONS, SYSTEM_MOVES

    declared = {("", "draft"), *SYSTEM_MOVES}
    for action in ACTIONS:
        declared.update((source, action.target or source) for source in action.sources)
    # A line that moves nothing (from == to) is a note on the timeline, not a move.
    moves = {(a, b) for a, b in NoticeEvent.objects.values_list("from_status", "to_status") if a != b}
    assert moves <= declared, f"moves the workflow table does not declare: {moves - declared}"


@pytest.fixture
def busy_agency(agency, artist, staff, legal, legal2, platforms, templates):
    """A notice at each stage the admin shows differently: a draft, one pending review, one sent
    through a web form (YouTube), and the URLs they list."""
    urls = import_urls(
        agency,
        artist,
        ["https://www.youtube.com/watch?v=abcDEF12340", "https://www.youtube.com/watch?v=abcDEF12341"],
    )
    (sent,), _ = notices.notices_prepare(user=staff, url_ids=[urls[1].pk])
    notices.notice_submit(notice_id=sent.pk, user=staff)
    notices.notice_approve(notice_id=sent.pk, user=legal)
    notices.perform("send", notice_id=sent.pk, user=legal, reference="YT-1")
    # Prepared after the first one left, so it is a draft of its own (same group).
    (draft,), _ = notices.notices_prepare(user=staff, url_ids=[urls[0].pk])
    assert draft.pk != sent.pk and draft.status == "draft"
    urls = import_urls(agency, artist, ["https://t.me/leakchan/7"])
    (pending,), _ = notices.notices_prepare(user=staff, url_ids=[urls[2].pk])
    notices.notice_submit(notice_id=pending.pk, user=staff)
    return {"urls": urls, "draft": draft, "pending": pending, "sent": sent}
