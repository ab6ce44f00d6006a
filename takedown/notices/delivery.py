"""Sending an approved notice through its platform's channel, one class per channel.

Email: `send` queues delivery by SMTP (after commit); a worker delivers the frozen subject,
text, HTML and PDF and the notice becomes sent when the mail server accepts it. Web form:
legal submits the packet on the platform's form and records the platform's reference; the
notice becomes sent at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from takedown.choices import ChannelKind, NoticeStatus
from takedown.errors import Conflict, Invalid
from takedown.models import Notice, User
from takedown.notices.drafting import notice_reference
from takedown.notices.states import check, get_notice, record_event
from takedown.notices.workflow import mark_sent

log = logging.getLogger(__name__)


class Channel:
    """How an approved notice leaves: `send` is what legal's Send button does."""

    kind: str = ""

    def send(self, notice: Notice, *, user: User, reference: str = "") -> Notice:
        raise NotImplementedError


class EmailChannel(Channel):
    """Queue SMTP delivery after commit; the worker's `deliver` marks the notice sent."""

    kind = ChannelKind.EMAIL

    def send(self, notice: Notice, *, user: User, reference: str = "") -> Notice:
        recipient = notice.platform.channel_email
        with transaction.atomic():
            updated = Notice.objects.filter(pk=notice.pk, status=NoticeStatus.APPROVED).update(
                channel=ChannelKind.EMAIL, recipient=recipient, sent_by=user, delivery_error=""
            )
            if not updated:
                raise Conflict(f"Notice #{notice.pk} changed while you were sending it.")
            record_event(
                notice,
                user=user,
                from_status=NoticeStatus.APPROVED,
                to_status=NoticeStatus.APPROVED,
                reason=f"Email delivery to {recipient} queued.",
            )
            transaction.on_commit(lambda: enqueue_delivery(notice.pk))
        notice.refresh_from_db()
        return notice

    def deliver(self, notice_id: int, *, connection=None) -> str:
        """Send an approved email-channel notice once; called by the delivery task.

        Claims the delivery with a lease so that two workers never send the same notice, sends
        the frozen subject, text, HTML and PDF, and marks it sent with the Message-ID. On an SMTP
        error records it on the notice, and re-queues with backoff until the attempts run out.
        Returns what happened: "sent", "retry", "failed" or "skipped".
        """
        from django.core.mail import EmailMultiAlternatives
        from django.core.mail.message import make_msgid

        now = timezone.now()
        lease = now - timedelta(seconds=settings.TAKEDOWN_DELIVERY_LEASE_SECONDS)
        claimed = (
            Notice.objects.filter(pk=notice_id, status=NoticeStatus.APPROVED, channel=ChannelKind.EMAIL)
            .filter(Q(delivery_started_at__isnull=True) | Q(delivery_started_at__lt=lease))
            .update(delivery_started_at=now, delivery_attempts=F("delivery_attempts") + 1)
        )
        if not claimed:
            return "skipped"
        notice = Notice.objects.select_related("agency", "platform", "sent_by").get(pk=notice_id)
        domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1] or "localhost"
        message_id = make_msgid(idstring=notice_reference(notice), domain=domain)
        message = EmailMultiAlternatives(
            subject=notice.rendered_subject,
            body=notice.rendered_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notice.recipient],
            reply_to=[notice.agency.email] if notice.agency.email else None,
            headers={
                "Message-ID": message_id,
                "X-Takedown-Reference": notice_reference(notice),
                "X-Takedown-PDF-SHA256": notice.pdf_sha256,
            },
            connection=connection,
        )
        message.attach_alternative(notice.rendered_html, "text/html")
        message.attach(f"{notice_reference(notice)}.pdf", bytes(notice.pdf), "application/pdf")
        try:
            message.send()
        except Exception as exc:  # any SMTP or socket failure: recorded, retried, never lost
            error = f"{type(exc).__name__}: {exc}"
            attempts = notice.delivery_attempts
            final = attempts >= settings.TAKEDOWN_DELIVERY_MAX_ATTEMPTS
            Notice.objects.filter(pk=notice_id).update(delivery_error=error, delivery_started_at=None)
            record_event(
                notice,
                user=None,
                from_status=NoticeStatus.APPROVED,
                to_status=NoticeStatus.APPROVED,
                reason=f"Email delivery attempt {attempts} failed: {error}"
                + ("" if not final else " (giving up)"),
            )
            if final:
                log.error("notice %s: email delivery failed for good: %s", notice_id, error)
                return "failed"
            delay = 60 * 5 ** (attempts - 1)
            transaction.on_commit(lambda: enqueue_delivery(notice_id, delay_seconds=delay))
            return "retry"
        with transaction.atomic():
            mark_sent(
                notice,
                user=notice.sent_by,
                sent_at=timezone.now(),
                reason=f"Emailed to {notice.recipient}.",
                message_id=message_id,
                delivery_error="",
                delivery_started_at=None,
            )
        return "sent"


class WebFormChannel(Channel):
    """Legal submitted the packet on the platform's form; the platform's reference proves it."""

    kind = ChannelKind.WEBFORM

    def send(self, notice: Notice, *, user: User, reference: str = "") -> Notice:
        platform = notice.platform
        reference = (reference or "").strip()
        if not reference:
            raise Invalid(
                f"{platform.name} takes notices through its web form: submit the packet there, then record "
                "the reference number the platform gives you."
            )
        with transaction.atomic():
            return mark_sent(
                notice,
                user=user,
                sent_at=timezone.now(),
                reason=f"Submitted on {platform.name}'s web form, reference {reference}.",
                channel=ChannelKind.WEBFORM,
                recipient=platform.channel_url,
                reference=reference,
            )


EMAIL = EmailChannel()
CHANNELS: dict[str, Channel] = {c.kind: c for c in (EMAIL, WebFormChannel())}


def notice_send(*, notice_id: int, user: User, reference: str = "") -> Notice:
    """Send an approved notice through its platform's channel (see the channel classes)."""
    notice = get_notice(notice_id, user)
    check("send", notice, user)
    channel = CHANNELS.get(notice.platform.channel_kind)
    if channel is None:
        raise Invalid(f"{notice.platform.name} has no reporting channel in the platform registry.")
    return channel.send(notice, user=user, reference=reference)


def enqueue_delivery(notice_id: int, *, delay_seconds: int = 0) -> None:
    from django_q.models import Schedule
    from django_q.tasks import async_task, schedule

    if delay_seconds:
        schedule(
            "takedown.tasks.deliver_notice_email",
            notice_id,
            schedule_type=Schedule.ONCE,
            next_run=timezone.now() + timedelta(seconds=delay_seconds),
            name=None,
        )
    else:
        async_task("takedown.tasks.deliver_notice_email", notice_id, task_name=f"deliver-notice-{notice_id}")


def notice_deliver_email(*, notice_id: int, connection=None) -> str:
    """The delivery task's entry point: see EmailChannel.deliver."""
    return EMAIL.deliver(notice_id, connection=connection)
