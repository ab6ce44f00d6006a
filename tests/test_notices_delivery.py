"""Delivery: email to a real SMTP server with the frozen PDF, retries, and web forms."""

from __future__ import annotations

import email.header
import socket
from datetime import timedelta

import pytest

from takedown import notices, rendering
from takedown.models import InfringingURL
from tests.notices_setup import approve, import_urls

pytestmark = pytest.mark.django_db


def test_it_emails_the_frozen_notice_with_its_pdf_to_a_real_smtp_server(
    draft, staff, legal, smtp_server, settings, django_capture_on_commit_callbacks
):
    port, received = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    notice = approve(draft, staff, legal)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notice = notices.notice_send(notice_id=notice.pk, user=legal)
    assert len(callbacks) == 1  # the delivery task is queued after commit, not run inline
    assert notice.status == "approved" and notice.recipient == "abuse@telegram.org"
    assert notices.notice_deliver_email(notice_id=notice.pk) == "sent"
    assert notices.notice_deliver_email(notice_id=notice.pk) == "skipped"  # never twice
    (message,) = received
    assert message["To"] == "abuse@telegram.org"
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert " ".join(subject.split()) == notice.rendered_subject
    notice.refresh_from_db()
    assert message["Message-ID"] == notice.message_id
    pdfs = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1
    assert rendering.sha256_hex(pdfs[0].get_payload(decode=True)) == notice.pdf_sha256
    assert notice.status == "sent" and notice.sent_at and notice.deadline_at
    assert notice.deadline_at - notice.sent_at == timedelta(hours=settings.TAKEDOWN_DEFAULT_DEADLINE_HOURS)
    for url in InfringingURL.objects.filter(notice_items__notice=notice):
        assert url.status == "notified"
        assert url.notified_at == notice.sent_at
        assert url.next_check_at > notice.sent_at
    assert list(notice.events.values_list("to_status", flat=True)) == [
        "draft",
        "pending",
        "approved",
        "approved",
        "sent",
    ]


def test_it_records_a_delivery_failure_and_retries_a_bounded_number_of_times(
    draft, staff, legal, settings, django_capture_on_commit_callbacks
):
    from django_q.models import Schedule

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    settings.TAKEDOWN_DELIVERY_MAX_ATTEMPTS = 2
    notice = approve(draft, staff, legal)
    notices.notice_send(notice_id=notice.pk, user=legal)
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.notice_deliver_email(notice_id=notice.pk) == "retry"
    notice.refresh_from_db()
    assert "Connection refused" in notice.delivery_error or "Errno" in notice.delivery_error
    assert notice.status == "approved"
    assert Schedule.objects.filter(func="takedown.tasks.deliver_notice_email").count() == 1
    assert notices.notice_deliver_email(notice_id=notice.pk) == "failed"
    notice.refresh_from_db()
    assert notice.delivery_attempts == 2
    assert notice.events.filter(reason__contains="giving up").exists()


def test_it_sends_through_a_web_form_with_the_platforms_reference(
    agency, artist, staff, legal, platforms, templates
):
    import_urls(agency, artist, ["https://x.com/someone/status/1234567890"])
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert notice.legal_route == "take_it_down"
    approve(notice, staff, legal)
    with pytest.raises(notices.Invalid, match="reference"):
        notices.notice_send(notice_id=notice.pk, user=legal)
    notice = notices.notice_send(notice_id=notice.pk, user=legal, reference="TIDA-2026-0042")
    assert notice.status == "sent" and notice.reference == "TIDA-2026-0042"
    assert notice.deadline_at - notice.sent_at == timedelta(hours=48)
    url = InfringingURL.objects.get(artist=artist)
    assert url.deadline_at == notice.deadline_at
