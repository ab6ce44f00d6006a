"""Sending an approved notice through its platform's channel, one class per channel.

Web form: legal submits the packet on the platform's form and records the platform's
reference; the notice is sent at once.

Email: at most once per notice, and never "sent" unless a mail server accepted it.

- `send` refuses when this installation's email backend delivers nothing (console, file,
  memory, dummy): a notice is never recorded as sent to a platform that nothing reached.
- Otherwise the notice moves approved → sending with its one Message-ID, stored before the
  first attempt and reused by every retry, and a worker delivers it (after commit).
- A worker claims an attempt with one conditional UPDATE (sending, nobody on it). The outcome:
  the server accepted it → sent; it refused or could not be reached before the message was
  handed over → delivery_failed, retried on a backoff by the minute tick until the attempts
  run out; the message was handed over but no answer came → delivery_unknown.
- `delivery_sweep` (every minute) turns an attempt whose worker stopped without recording
  anything (killed, its database connection gone) into delivery_unknown after
  TAKEDOWN_DELIVERY_LEASE_SECONDS, re-queues a queued delivery whose task was lost, and starts
  the retries that are due. A notice in delivery_unknown waits for a person: "it was
  delivered" (→ sent) or "send again" (same Message-ID, so the platform can tell a copy).
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import F, Q
from django.utils import formats, timezone

from takedown.choices import ChannelKind, NoticeStatus
from takedown.errors import Conflict, Invalid
from takedown.models import Notice, User
from takedown.notices.drafting import authority_problems, notice_reference, standing_problems
from takedown.notices.states import check, get_notice, move
from takedown.notices.workflow import mark_sent

log = logging.getLogger(__name__)

SENDING, FAILED, UNKNOWN = (
    NoticeStatus.SENDING,
    NoticeStatus.DELIVERY_FAILED,
    NoticeStatus.DELIVERY_UNKNOWN,
)

# Django email backends that deliver nothing anywhere.
_NOT_DELIVERING = {
    "django.core.mail.backends.console.EmailBackend": "prints email to the console",
    "django.core.mail.backends.filebased.EmailBackend": "writes email to files",
    "django.core.mail.backends.locmem.EmailBackend": "keeps email in memory",
    "django.core.mail.backends.dummy.EmailBackend": "discards email",
}


def email_not_configured() -> str:
    """Why this installation cannot deliver email, or "" when it can."""
    what = _NOT_DELIVERING.get(settings.EMAIL_BACKEND)
    if what is None:
        return ""
    return (
        f"Email delivery is not configured: this installation {what} (EMAIL_BACKEND), so nothing "
        "would reach the platform. Set EMAIL_HOST (see the README, Configuration) to send notices by email."
    )


def retry_delay(attempt: int) -> timedelta:
    """After failed attempt n: 1 min, 5 min, 25 min, … (at most a day)."""
    return timedelta(seconds=min(60 * 5 ** (attempt - 1), 86_400))


class Channel:
    """How an approved notice leaves: `send` is what legal's Send button does."""

    kind: str = ""

    def send(self, notice: Notice, *, user: User, reference: str = "") -> Notice:
        raise NotImplementedError


class NotConfigured(Exception):
    """The installation's email backend delivers nothing."""


class DocumentChanged(Exception):
    """A document approved with the notice is gone or differs: nothing is sent."""


class Handover(Exception):
    """The message was handed to the mail server, but whether it accepted it is not known."""


class EmailChannel(Channel):
    kind = ChannelKind.EMAIL

    def send(self, notice: Notice, *, user: User, reference: str = "") -> Notice:
        problem = email_not_configured()
        if problem:
            raise Invalid(f"Nothing was sent. {problem}")
        recipient = notice.route_channel.email  # the platform's channel for this notice's route
        from email.utils import parseaddr

        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rsplit("@", 1)[-1] or "localhost"
        now = timezone.now()
        with transaction.atomic():
            notice = move(
                notice,
                user=user,
                expected=NoticeStatus.APPROVED,
                to=SENDING,
                reason=f"Queued for email to {recipient}.",
                channel=ChannelKind.EMAIL,
                recipient=recipient,
                sent_by=user,
                message_id=make_msgid(idstring=notice_reference(notice), domain=domain),
                delivery_error="",
                delivery_next_at=now,
            )
            transaction.on_commit(lambda: enqueue_delivery(notice.pk))
        return notice

    # -- the worker's side ---------------------------------------------------------------------

    def deliver(self, notice_id: int, *, connection=None) -> str:
        """One delivery attempt; returns "sent", "retry", "failed", "unknown" or "skipped"."""
        now = timezone.now()
        claimed = Notice.objects.filter(
            pk=notice_id, status=SENDING, channel=ChannelKind.EMAIL, delivery_started_at__isnull=True
        ).update(delivery_started_at=now, delivery_attempts=F("delivery_attempts") + 1, delivery_next_at=None)
        if not claimed:
            return "skipped"  # delivered, in doubt, or another worker holds it: never a second copy
        notice = Notice.objects.select_related("agency", "platform", "sent_by").get(pk=notice_id)
        if connection is None and email_not_configured():
            # The installation lost its mail server since Send: nothing goes anywhere.
            return self._failed(notice, NotConfigured(email_not_configured()))
        gone = authority_problems(notice) + standing_problems(notice)
        if gone:
            return self._failed(notice, DocumentChanged("Not sent: " + " ".join(gone)))
        try:
            self._transmit(notice, connection)
        except Handover as exc:
            return self._in_doubt(notice, str(exc), started=now)
        except Exception as exc:  # nothing was handed over: safe to try again
            return self._failed(notice, exc)
        with transaction.atomic():
            mark_sent(
                notice,
                user=notice.sent_by,
                sent_at=timezone.now(),
                expected=SENDING,
                reason=f"Emailed to {notice.recipient}; the mail server accepted it (Message-ID {notice.message_id}).",
                delivery_error="",
                delivery_started_at=None,
            )
        return "sent"

    def _message(self, notice: Notice, connection):
        from django.core.mail import EmailMultiAlternatives

        message = EmailMultiAlternatives(
            subject=notice.rendered_subject,
            body=notice.rendered_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notice.recipient],
            reply_to=[notice.agency.email] if notice.agency.email else None,
            headers={
                "Message-ID": notice.message_id,
                "X-Takedown-Reference": notice_reference(notice),
                "X-Takedown-PDF-SHA256": notice.pdf_sha256,
            },
            connection=connection,
        )
        message.attach_alternative(notice.rendered_html, "text/html")
        message.attach(f"{notice_reference(notice)}.pdf", bytes(notice.pdf), "application/pdf")
        for name, data in frozen_documents(notice):
            message.attach(name, data, "application/pdf")
        return message

    def _transmit(self, notice: Notice, connection) -> None:
        """Hand the message over. Over SMTP each step is known: an error before the message
        body went out is a failure (nothing left); after it, a Handover (it may have)."""
        from django.core.mail import get_connection
        from django.core.mail.backends.smtp import EmailBackend

        connection = connection or get_connection()
        message = self._message(notice, connection)
        if not isinstance(connection, EmailBackend):
            # Another kind of backend (an email API): whether an error came before or after the
            # provider took the message is unknown, so it is in doubt, never retried by itself.
            try:
                message.send()
            except Exception as exc:
                raise Handover(f"the email backend raised {type(exc).__name__}: {exc}.") from exc
            return
        connection.open()
        try:
            _smtp_send(connection.connection, message)
        finally:
            try:
                connection.close()
            except Exception:  # the answer is already known; closing is best effort
                log.debug("closing the SMTP connection failed", exc_info=True)

    def _failed(self, notice: Notice, exc: Exception) -> str:
        attempts = notice.delivery_attempts
        # A changed document or a lapsed authority does not mend itself: no automatic retry.
        final = attempts >= settings.TAKEDOWN_DELIVERY_MAX_ATTEMPTS or isinstance(exc, DocumentChanged)
        next_at = None if final else timezone.now() + retry_delay(attempts)
        error = describe_smtp_error(exc)
        reason = f"Attempt {attempts} of {settings.TAKEDOWN_DELIVERY_MAX_ATTEMPTS}: {error}"
        if next_at is not None:
            reason += f" Next try at {_clock(next_at)}."
        else:
            reason += (
                " No more automatic tries: mend the record, then retry, or cancel the notice."
                if isinstance(exc, DocumentChanged)
                else " No more automatic tries: retry when the mail server is back."
            )
        with transaction.atomic():
            move(
                notice,
                user=None,
                expected=SENDING,
                to=FAILED,
                reason=reason,
                delivery_error=reason,
                delivery_started_at=None,
                delivery_next_at=next_at,
            )
        log.warning("notice %s: email delivery attempt %s failed: %s", notice.pk, attempts, error)
        return "failed" if final else "retry"

    def _in_doubt(self, notice: Notice, what: str, *, started: datetime) -> str:
        reason = (
            f"The mail server may have accepted the message at {_clock(started)}: {what} "
            "Check with the platform, then record it as sent or send it again (same Message-ID)."
        )
        with transaction.atomic():
            move(
                notice,
                user=None,
                expected=SENDING,
                to=UNKNOWN,
                reason=reason,
                delivery_error=reason,
                delivery_started_at=started,  # kept: when it may have left
                delivery_next_at=None,
            )
        log.error("notice %s: email delivery in doubt: %s", notice.pk, what)
        return "unknown"


def frozen_documents(notice: Notice) -> list[tuple[str, bytes]]:
    """The documents approved with the notice (its submission event names them and their
    SHA-256), read back and verified: a changed or missing file stops the delivery."""
    import hashlib

    from takedown.models import AuthorizationDocument

    submitted = notice.events.filter(to_status=NoticeStatus.PENDING).order_by("-at", "-pk").first()
    listed = (submitted.data or {}).get("documents", []) if submitted else []
    out = []
    for entry in listed:
        document = AuthorizationDocument.objects.filter(pk=entry["id"]).first()
        if document is None:
            raise DocumentChanged(
                f"An authorization document approved with the notice (#{entry['id']}) is gone."
            )
        with document.file.open("rb") as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise DocumentChanged(
                f"The authorization document #{document.pk} changed since the notice was approved."
            )
        out.append((f"{notice_reference(notice)}-{document.kind}.pdf", data))
    return out


def _clock(when: datetime) -> str:
    return formats.time_format(timezone.localtime(when), "H:i")


def _smtp_send(smtp: smtplib.SMTP, message) -> None:
    """MAIL, RCPT, DATA by hand (as smtplib's sendmail does), so that we know whether the
    message body was handed over when something goes wrong."""
    from django.core.mail.message import sanitize_address

    encoding = message.encoding or settings.DEFAULT_CHARSET
    from_addr = sanitize_address(message.from_email, encoding)
    recipients = [sanitize_address(addr, encoding) for addr in message.recipients()]
    body = message.message().as_bytes(linesep="\r\n")
    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.mail(from_addr)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, from_addr)
    refused = {}
    for rcpt in recipients:
        code, reply = smtp.rcpt(rcpt)
        if code not in (250, 251):
            refused[rcpt] = (code, reply)
    if len(refused) == len(recipients):
        raise smtplib.SMTPRecipientsRefused(refused)
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    data = re.sub(rb"(?m)^\.", b"..", body)  # dot-stuffing (RFC 5321, 4.5.2)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    try:
        smtp.send(data + b".\r\n")
    except Exception as exc:
        raise Handover(f"the connection broke while the message was being handed over ({exc}).") from exc
    try:
        code, reply = smtp.getreply()
    except Exception as exc:
        raise Handover(f"no answer came after the message was handed over ({exc}).") from exc
    if code != 250:
        # The server answered, and refused the message it was given: it did not take it.
        raise smtplib.SMTPDataError(code, reply)


def describe_smtp_error(exc: Exception) -> str:
    """A sentence a legal reviewer can act on, naming the mail server."""
    server = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    if isinstance(exc, (NotConfigured, DocumentChanged)):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return f"The mail server at {server} refused the connection."
    if isinstance(exc, socket.gaierror):
        return f"The mail server's name {settings.EMAIL_HOST} could not be resolved."
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"The mail server at {server} did not answer in time."
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"The mail server at {server} refused our login ({exc.smtp_code})."
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        who = ", ".join(exc.recipients)
        return f"The mail server at {server} refused the recipient {who}."
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"The mail server at {server} refused the sender {exc.sender} ({exc.smtp_code})."
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return f"The mail server at {server} answered {exc.smtp_code}: {text}."
    if isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionError)):
        return f"The mail server at {server} closed the connection."
    return f"Sending through {server} failed: {type(exc).__name__}: {exc}."


class WebFormChannel(Channel):
    """Legal submitted the packet on the platform's form; the platform's reference proves it."""

    kind = ChannelKind.WEBFORM

    def send(self, notice: Notice, *, user: User, reference: str = "") -> Notice:
        form = notice.route_channel.url  # the platform's form for this notice's route
        reference = (reference or "").strip()
        if not reference:
            raise Invalid(
                f"{notice.recipient_name} takes notices through its web form: submit the packet there, then record "
                "the reference number the platform gives you."
            )
        with transaction.atomic():
            return mark_sent(
                notice,
                user=user,
                sent_at=timezone.now(),
                reason=f"Submitted on {notice.recipient_name}'s web form, reference {reference}.",
                channel=ChannelKind.WEBFORM,
                recipient=form,
                reference=reference,
            )


EMAIL = EmailChannel()
CHANNELS: dict[str, Channel] = {c.kind: c for c in (EMAIL, WebFormChannel())}


def _authority_holds(notice: Notice) -> None:
    """The authority each item rests on, asked again before anything leaves: an authorization
    revoked or expired since approval stops the notice (cancel it, or record a new one)."""
    problems = authority_problems(notice)
    if problems:
        raise Invalid("Not sent: " + " ".join(problems))
    # The recipient and, for an escalation, its URLs: changed since approval, nothing goes.
    problems = standing_problems(notice)
    if problems:
        raise Conflict("Not sent: " + " ".join(problems) + " Cancel it and prepare it again.")


def notice_cancel(*, notice_id: int, user: User, reason: str) -> Notice:
    """An approved notice that will not be sent (or whose delivery failed or is in doubt):
    cancelled with a reason; its URLs are free for another notice."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("A cancellation needs a reason (for the timeline).")
    notice = get_notice(notice_id, user)
    act = check("cancel", notice, user)
    if notice.status == UNKNOWN:
        reason += " (The email may have reached the platform before the cancellation.)"
    with transaction.atomic():
        return move(
            notice, user=user, expected=notice.status, to=act.target, reason=reason, delivery_next_at=None
        )


def notice_send(*, notice_id: int, user: User, reference: str = "") -> Notice:
    """Send an approved notice through its platform's channel for the notice's legal route
    (the registry's channel per route; see the channel classes)."""
    notice = get_notice(notice_id, user)
    check("send", notice, user)
    _authority_holds(notice)
    route_channel = notice.route_channel
    channel = CHANNELS.get(route_channel.kind) if route_channel is not None else None
    if channel is None:
        raise Invalid(
            f"{notice.recipient_name} has no reporting channel for the {notice.get_legal_route_display()} "
            "route in the platform registry."
        )
    return channel.send(notice, user=user, reference=reference)


def notice_retry(*, notice_id: int, user: User) -> Notice:
    """A failed delivery, tried again now (by a person), with the same Message-ID."""
    notice = get_notice(notice_id, user)
    return _queue_again(notice, user, "retry", reason=f"Retry queued for email to {notice.recipient}.")


def notice_confirm_sent(*, notice_id: int, user: User, reason: str) -> Notice:
    """Delivery was in doubt and the platform has it: record it as sent, with how we know."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say how you know the platform received it (for the timeline).")
    notice = get_notice(notice_id, user)
    check("confirm_sent", notice, user)
    # Sent when the attempt that left it began (the route's clock starts then), by whoever sent it.
    sent_at = notice.delivery_started_at or timezone.now()
    with transaction.atomic():
        return mark_sent(
            notice,
            user=user,
            sent_at=sent_at,
            expected=UNKNOWN,
            reason=f"Recorded as delivered (the attempt began {_clock(sent_at)}): {reason}",
            delivery_error="",
            delivery_started_at=None,
            sent_by_id=notice.sent_by_id,
        )


def notice_resend(*, notice_id: int, user: User, reason: str) -> Notice:
    """Delivery was in doubt and the platform does not have it: send it again, same Message-ID."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why it is sent again (for the timeline): the platform may receive a second copy.")
    notice = get_notice(notice_id, user)
    return _queue_again(notice, user, "resend", reason=f"Sent again with the same Message-ID: {reason}")


def _queue_again(notice: Notice, user: User, action: str, *, reason: str) -> Notice:
    """A person's retry or resend: the table allows it, the authority still holds, a mail
    server is configured; the notice is sending again (same Message-ID), queued after commit."""
    act = check(action, notice, user)
    _authority_holds(notice)
    problem = email_not_configured()
    if problem:
        raise Invalid(f"Nothing was sent. {problem}")
    with transaction.atomic():
        notice = move(
            notice,
            user=user,
            expected=notice.status,
            to=act.target,
            reason=reason,
            delivery_next_at=timezone.now(),
            delivery_started_at=None,
        )
        transaction.on_commit(lambda: enqueue_delivery(notice.pk))
    return notice


def enqueue_delivery(notice_id: int) -> None:
    from django_q.tasks import async_task

    async_task("takedown.tasks.deliver_notice_email", notice_id, task_name=f"deliver-notice-{notice_id}")


def delivery_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The minute tick's delivery duties; returns what it did, by kind."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.TAKEDOWN_DELIVERY_LEASE_SECONDS)
    stale = Notice.objects.filter(status=SENDING, delivery_started_at__lt=now - lease)
    done = {"unknown": 0, "requeued": 0, "retried": 0}
    for notice in stale.select_related("platform"):
        reason = (
            f"A worker started delivering at {_clock(notice.delivery_started_at)} and stopped without "
            "recording the result: the mail server may have accepted the message. Check with the "
            "platform, then record it as sent or send it again (same Message-ID)."
        )
        with transaction.atomic():
            try:
                move(
                    notice,
                    user=None,
                    expected=SENDING,
                    to=UNKNOWN,
                    reason=reason,
                    delivery_error=reason,
                    delivery_next_at=None,  # delivery_started_at kept: when it may have left
                )
            except Conflict:
                continue
        done["unknown"] += 1
    # Queued (nobody on it) but its task never ran: a lost task, or a cluster that was down.
    lost = Notice.objects.filter(
        status=SENDING, delivery_started_at__isnull=True, delivery_next_at__lt=now - timedelta(minutes=2)
    )
    for pk in lost.values_list("pk", flat=True):
        # Moved on, so that a long outage queues it once a minute at most, not once per tick backlog.
        if Notice.objects.filter(pk=pk, status=SENDING, delivery_started_at__isnull=True).update(
            delivery_next_at=now
        ):
            enqueue_delivery(pk)
            done["requeued"] += 1
    due = Notice.objects.filter(status=FAILED, delivery_next_at__lte=now).filter(
        Q(delivery_attempts__lt=settings.TAKEDOWN_DELIVERY_MAX_ATTEMPTS)
    )
    for notice in due:
        with transaction.atomic():
            try:
                move(
                    notice,
                    user=None,
                    expected=FAILED,
                    to=SENDING,
                    reason=f"Attempt {notice.delivery_attempts + 1} of {settings.TAKEDOWN_DELIVERY_MAX_ATTEMPTS}.",
                    delivery_next_at=now,
                )
            except Conflict:
                continue
            transaction.on_commit(lambda pk=notice.pk: enqueue_delivery(pk))
        done["retried"] += 1
    return done


def notice_deliver_email(*, notice_id: int, connection=None) -> str:
    """The delivery task's entry point: see EmailChannel.deliver."""
    return EMAIL.deliver(notice_id, connection=connection)
