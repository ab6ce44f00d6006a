"""django-q2 entry points: plain functions of ids, idempotent, thin over the services."""

from __future__ import annotations

from takedown import services


def deliver_notice_email(notice_id: int) -> str:
    return services.notice_deliver_email(notice_id=notice_id)
