"""Delivery: email to a real SMTP server with the frozen PDF, retries, and web forms."""

from __future__ import annotations

import email.header
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from takedown import notices, rendering
from takedown.models import InfringingURL
from tests.notices_setup import approve, import_urls

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("moves_are_declared")]


def _smtp(settings, port, timeout=5):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, timeout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port, handler):
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


class Keep:
    """An SMTP server's handler that keeps what it accepts (and may stall before answering)."""

    def __init__(self, stall: float = 0.0, after_data=None) -> None:
        self.received = []
        self.stall = stall
        self.after_data = after_data

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self.received.append(email.message_from_bytes(envelope.original_content))
        if self.after_data:
            self.after_data()
        if self.stall:
            await asyncio.sleep(self.stall)
        return "250 OK"


def test_it_emails_the_frozen_notice_with_its_pdf_to_a_real_smtp_server(
    draft, staff, legal, smtp_server, settings, django_capture_on_commit_callbacks
):
    port, received = smtp_server
    _smtp(settings, port)
    notice = approve(draft, staff, legal)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notice = notices.notice_send(notice_id=notice.pk, user=legal)
    assert len(callbacks) == 1  # the delivery task is queued after commit, not run inline
    assert notice.status == "sending" and notice.recipient == "abuse@telegram.org"
    assert notice.sent_at is None and notice.deadline_at is None  # no clock before it left
    message_id = notice.message_id
    assert message_id, "the Message-ID is fixed before the first attempt"
    assert notices.notice_deliver_email(notice_id=notice.pk) == "sent"
    assert notices.notice_deliver_email(notice_id=notice.pk) == "skipped"  # never twice
    (message,) = received
    assert message["To"] == "abuse@telegram.org"
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert " ".join(subject.split()) == notice.rendered_subject
    notice.refresh_from_db()
    assert message["Message-ID"] == notice.message_id == message_id
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
        "sending",
        "sent",
    ]


def test_smtp_down_then_up_fails_visibly_then_delivers_once_with_one_message_id(
    draft, staff, legal, settings, django_capture_on_commit_callbacks, client
):
    port = _free_port()  # nothing listens: the mail server is down
    _smtp(settings, port, timeout=2)
    notice = notices.notice_send(notice_id=approve(draft, staff, legal).pk, user=legal)
    message_id = notice.message_id
    assert notices.notice_deliver_email(notice_id=notice.pk) == "retry"
    notice.refresh_from_db()
    assert notice.status == "delivery_failed"
    assert f"The mail server at 127.0.0.1:{port} refused the connection." in notice.delivery_error
    assert "Attempt 1 of 3" in notice.delivery_error and "Next try at " in notice.delivery_error
    # On a Korean page the same facts read in Korean: the error box and the timeline.
    client.force_login(legal)
    page = client.get(
        f"/admin/takedown/notice/{notice.pk}/change/", HTTP_ACCEPT_LANGUAGE="ko"
    ).content.decode()
    error_box = page.split('id="delivery-error">')[1].split("</p>")[0]
    assert (
        error_box.startswith("3회 중 1번째 시도: ")
        and f"127.0.0.1:{port}이(가) 연결을 거부했습니다" in error_box
    )
    assert "refused the connection" not in page
    assert notice.delivery_next_at > timezone.now() and notice.sent_at is None
    # Legal's actions: no Send (nothing to send twice); a retry, now.
    assert [a.name for a in notices.available(notice, legal)] == ["retry", "cancel"]
    # Not due yet: the tick leaves it.
    assert notices.delivery_sweep()["retried"] == 0
    keep = Keep()
    server = _serve(port, keep)  # the mail server is back
    try:
        with django_capture_on_commit_callbacks(execute=False) as queued:
            assert notices.delivery_sweep(now=notice.delivery_next_at + timedelta(seconds=1))["retried"] == 1
        assert len(queued) == 1  # the attempt is queued after commit
        notice.refresh_from_db()
        assert notice.status == "sending"
        assert notices.notice_deliver_email(notice_id=notice.pk) == "sent"  # what the queued task runs
        notice.refresh_from_db()
        assert notice.status == "sent"
        assert notices.notice_deliver_email(notice_id=notice.pk) == "skipped"
    finally:
        server.stop()
    assert len(keep.received) == 1
    assert keep.received[0]["Message-ID"] == message_id == notice.message_id
    assert list(notice.events.values_list("to_status", flat=True))[-4:] == [
        "sending",
        "delivery_failed",
        "sending",
        "sent",
    ]


def test_it_stops_retrying_after_the_last_attempt_and_a_person_can_retry(draft, staff, legal, settings):
    _smtp(settings, _free_port(), timeout=2)
    settings.TAKEDOWN_DELIVERY_MAX_ATTEMPTS = 2
    notice = notices.notice_send(notice_id=approve(draft, staff, legal).pk, user=legal)
    assert notices.notice_deliver_email(notice_id=notice.pk) == "retry"
    notice.refresh_from_db()
    later = notice.delivery_next_at + timedelta(seconds=1)
    assert notices.delivery_sweep(now=later)["retried"] == 1
    assert notices.notice_deliver_email(notice_id=notice.pk) == "failed"
    notice.refresh_from_db()
    assert notice.status == "delivery_failed" and notice.delivery_attempts == 2
    assert "No more automatic tries" in notice.delivery_error and notice.delivery_next_at is None
    assert notices.delivery_sweep(now=later + timedelta(days=2))["retried"] == 0
    notice = notices.notice_retry(notice_id=notice.pk, user=legal)
    assert notice.status == "sending"


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    ],
)
def test_a_backend_that_delivers_nothing_never_records_a_notice_as_sent(
    draft, staff, legal, settings, backend
):
    settings.EMAIL_BACKEND = backend
    settings.EMAIL_FILE_PATH = "/tmp"
    notice = approve(draft, staff, legal)
    with pytest.raises(notices.Invalid, match="Email delivery is not configured"):
        notices.notice_send(notice_id=notice.pk, user=legal)
    notice.refresh_from_db()
    assert notice.status == "approved" and notice.sent_at is None and notice.deadline_at is None
    assert not InfringingURL.objects.filter(notice_items__notice=notice, status="notified").exists()


def test_a_queued_delivery_never_goes_out_through_a_backend_that_delivers_nothing(
    draft, staff, legal, settings
):
    # Sending was configured when legal pressed Send; by the time the worker runs it is not.
    _smtp(settings, _free_port())
    notice = notices.notice_send(notice_id=approve(draft, staff, legal).pk, user=legal)
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert notices.notice_deliver_email(notice_id=notice.pk) == "retry"
    notice.refresh_from_db()
    assert notice.status == "delivery_failed" and "Email delivery is not configured" in notice.delivery_error
    assert notice.sent_at is None


def test_make_runs_default_email_backend_delivers_nothing():
    # `make run` sets no EMAIL_HOST: the installation must say email is not configured.
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    env["DJANGO_SETTINGS_MODULE"] = "takedown.settings"
    code = "import django; django.setup(); from takedown import notices; print(repr(notices.email_not_configured()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "Email delivery is not configured" in out.stdout


class Dies(Keep):
    """A mail server that stops in the middle of a send: it drops the connection at RCPT (before
    the message is handed over) or once it has the whole message, before answering."""

    def __init__(self, at: str) -> None:
        super().__init__()
        self.at = at

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.at == "rcpt":
            server.transport.abort()  # the server process is gone: no answer, the socket reset
            return "421 going away"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(email.message_from_bytes(envelope.original_content))
        server.transport.abort()
        return "250 OK"


def _send_through_a_dying_server(draft, staff, legal, settings, *, at: str):
    """Approve and send the draft by email through a server that dies `at` a stage of the
    conversation, then is stopped; returns the notice (re-read), the port, the server's handler
    and what the delivery answered."""
    port = _free_port()
    _smtp(settings, port, timeout=2)
    notice = notices.notice_send(notice_id=approve(draft, staff, legal).pk, user=legal)
    dying = Dies(at=at)
    server = _serve(port, dying)
    try:
        result = notices.notice_deliver_email(notice_id=notice.pk)
    finally:
        server.stop()
    notice.refresh_from_db()
    return notice, port, dying, result


def test_a_mail_server_stopping_mid_send_before_the_handover_fails_then_delivers_once(
    draft, staff, legal, settings, django_capture_on_commit_callbacks
):
    notice, port, dying, result = _send_through_a_dying_server(draft, staff, legal, settings, at="rcpt")
    assert result == "retry"  # and the server stays down
    assert dying.received == []
    assert notice.status == "delivery_failed" and notice.sent_at is None
    assert f"The mail server at 127.0.0.1:{port} closed the connection." in notice.delivery_error
    keep = Keep()
    server = _serve(port, keep)  # back up: the retry delivers it, once
    try:
        with django_capture_on_commit_callbacks(execute=False):
            assert notices.delivery_sweep(now=notice.delivery_next_at + timedelta(seconds=1))["retried"] == 1
        assert notices.notice_deliver_email(notice_id=notice.pk) == "sent"
    finally:
        server.stop()
    notice.refresh_from_db()
    assert notice.status == "sent" and len(keep.received) == 1
    assert keep.received[0]["Message-ID"] == notice.message_id


def test_a_mail_server_stopping_mid_send_once_it_has_the_message_is_in_doubt_and_never_resent(
    draft, staff, legal, settings
):
    notice, _, dying, result = _send_through_a_dying_server(draft, staff, legal, settings, at="data")
    assert result == "unknown"
    assert len(dying.received) == 1  # the server had the whole message when it went
    assert notice.status == "delivery_unknown" and "may have accepted the message" in notice.delivery_error
    # Nothing sends it a second time by itself: a person checks with the platform first.
    assert notices.notice_deliver_email(notice_id=notice.pk) == "skipped"
    assert notices.delivery_sweep(now=timezone.now() + timedelta(days=1))["retried"] == 0
    assert {a.name for a in notices.available(notice, legal)} == {"confirm_sent", "resend", "cancel"}


def test_an_answer_that_never_comes_after_the_handover_is_in_doubt_not_retried(draft, staff, legal, settings):
    port = _free_port()
    _smtp(settings, port, timeout=1)
    keep = Keep(stall=3)  # the server stores the message, then does not answer in time
    server = _serve(port, keep)
    try:
        notice = notices.notice_send(notice_id=approve(draft, staff, legal).pk, user=legal)
        assert notices.notice_deliver_email(notice_id=notice.pk) == "unknown"
        notice.refresh_from_db()
        assert notice.status == "delivery_unknown"
        assert "may have accepted the message" in notice.delivery_error
        # Nothing sends it again by itself: not the task, not the tick.
        assert notices.notice_deliver_email(notice_id=notice.pk) == "skipped"
        assert notices.delivery_sweep(now=timezone.now() + timedelta(days=1)) == {
            "unknown": 0,
            "requeued": 0,
            "retried": 0,
        }
        assert {a.name for a in notices.available(notice, legal)} == {"confirm_sent", "resend", "cancel"}
        # Legal checks with the platform: not received; send again, with the same Message-ID.
        keep.stall = 0
        with pytest.raises(notices.Invalid):
            notices.notice_resend(notice_id=notice.pk, user=legal, reason="")
        notices.notice_resend(notice_id=notice.pk, user=legal, reason="The platform has no record of it")
        assert notices.notice_deliver_email(notice_id=notice.pk) == "sent"
    finally:
        server.stop()
    assert len(keep.received) == 2
    assert keep.received[0]["Message-ID"] == keep.received[1]["Message-ID"] == notice.message_id


def test_a_worker_that_stops_mid_send_leaves_the_delivery_in_doubt(draft, staff, legal, settings):
    _smtp(settings, _free_port())
    notice = notices.notice_send(notice_id=approve(draft, staff, legal).pk, user=legal)
    # A worker claimed it and died (kill -9) before it recorded anything.
    started = timezone.now() - timedelta(seconds=settings.TAKEDOWN_DELIVERY_LEASE_SECONDS + 5)
    type(notice).objects.filter(pk=notice.pk).update(delivery_started_at=started, delivery_attempts=1)
    assert notices.notice_deliver_email(notice_id=notice.pk) == "skipped"  # held: never a second copy
    assert notices.delivery_sweep()["unknown"] == 1
    notice.refresh_from_db()
    assert (
        notice.status == "delivery_unknown"
        and "stopped without recording the result" in notice.delivery_error
    )
    confirmed = notices.notice_confirm_sent(
        notice_id=notice.pk, user=legal, reason="Telegram replied with case 88"
    )
    assert confirmed.status == "sent" and confirmed.deadline_at
    # The clock starts when the attempt that left it began, not when legal confirmed it.
    assert confirmed.sent_at == started and confirmed.sent_by == legal


@pytest.mark.django_db(transaction=True)
def test_the_database_connection_dying_after_the_server_took_the_mail_sends_no_second_copy(
    draft, staff, legal, settings
):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend needs PostgreSQL")
    import psycopg

    port = _free_port()
    _smtp(settings, port)
    notice = notices.notice_send(notice_id=approve(draft, staff, legal).pk, user=legal)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (worker_pid,) = cursor.fetchone()
    dsn = connection.get_connection_params()

    def cut_the_workers_connection():
        # The server has the message; before it answers, the worker's database session dies.
        with psycopg.connect(
            **{k: v for k, v in dsn.items() if k != "cursor_factory"}, autocommit=True
        ) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [worker_pid])

    keep = Keep(after_data=cut_the_workers_connection)
    server = _serve(port, keep)
    try:
        with pytest.raises(Exception):  # noqa: B017  (the worker's own database error, whatever it is)
            notices.notice_deliver_email(notice_id=notice.pk)
        connection.close()  # a new worker, a new connection
        notice.refresh_from_db()
        assert notice.status == "sending" and notice.delivery_started_at is not None
        assert notices.notice_deliver_email(notice_id=notice.pk) == "skipped"
        later = timezone.now() + timedelta(seconds=settings.TAKEDOWN_DELIVERY_LEASE_SECONDS + 1)
        assert notices.delivery_sweep(now=later)["unknown"] == 1
    finally:
        server.stop()
    notice.refresh_from_db()
    assert notice.status == "delivery_unknown"
    assert len(keep.received) == 1


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


def test_the_documents_a_korean_portal_asks_for_go_with_the_email_as_approved(
    agency, artist, staff, legal, legal2, platforms, templates, settings
):
    """Daum/Kakao takes Art. 22-5 requests by email with the 위임장 and a masked ID copy: they
    are frozen with the notice at submission and attached to the one email, verified."""
    import hashlib

    from takedown import authority
    from tests.notices_setup import PDF

    auth = artist.authorizations.get()
    for kind in ("power_of_attorney", "id_copy"):
        authority.authorization_document_add(
            user=legal, authorization_id=auth.pk, kind=kind, name=f"{kind}.pdf", content=PDF
        )
    import_urls(agency, artist, ["https://v.daum.net/v/20261101000000001"], route="kr_tba_22_5")
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert notice.legal_route == "kr_tba_22_5" and notice.route_channel.requires_documents
    notices.notice_submit(notice_id=notice.pk, user=staff)
    notices.notice_approve(notice_id=notice.pk, user=legal2)
    port = _free_port()
    _smtp(settings, port)
    keep = Keep()
    server = _serve(port, keep)
    try:
        notices.notice_send(notice_id=notice.pk, user=legal)
        assert notices.notice_deliver_email(notice_id=notice.pk) == "sent"
    finally:
        server.stop()
    (message,) = keep.received
    assert message["To"] == notice.route_channel.email
    pdfs = [p.get_payload(decode=True) for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 3  # the notice, the 위임장, the masked ID copy
    expected = {d.sha256 for d in auth.documents.all()}
    assert {hashlib.sha256(p).hexdigest() for p in pdfs[1:]} == expected


def test_a_revoked_authorization_stops_the_send_and_the_notice_can_be_cancelled(
    draft, staff, legal, settings, artist
):
    """Authority is asked again before anything leaves; an approved notice that must not go is
    cancelled with a reason, and its URLs are free for another notice."""
    from takedown.models import Notice

    _smtp(settings, _free_port())
    notice = approve(draft, staff, legal)
    artist.authorizations.update(revoked_at=timezone.localdate())
    with pytest.raises(notices.Invalid, match="Not sent"):
        notices.notice_send(notice_id=notice.pk, user=legal)
    assert Notice.objects.get(pk=notice.pk).status == "approved"
    with pytest.raises(notices.Invalid, match="reason"):
        notices.notice_cancel(notice_id=notice.pk, user=legal, reason=" ")
    cancelled = notices.notice_cancel(notice_id=notice.pk, user=legal, reason="The member withdrew the 위임")
    assert cancelled.status == "cancelled"
    urls = list(InfringingURL.objects.filter(notice_items__notice=notice).values_list("status", flat=True))
    assert urls and set(urls) == {"open"}
    assert not [a.name for a in notices.available(cancelled, legal)]


def test_an_authority_revoked_after_send_fails_the_delivery_for_good(draft, staff, legal, settings, artist):
    _smtp(settings, _free_port())
    notice = notices.notice_send(notice_id=approve(draft, staff, legal).pk, user=legal)
    artist.authorizations.update(revoked_at=timezone.localdate())
    assert notices.notice_deliver_email(notice_id=notice.pk) == "failed"
    notice.refresh_from_db()
    assert notice.status == "delivery_failed" and notice.delivery_next_at is None
    assert "mend the record" in notice.delivery_error
