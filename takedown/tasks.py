"""django-q2 entry points: plain functions of ids, idempotent, thin over the services."""

from __future__ import annotations

from django.conf import settings

from takedown import rechecks, services


def deliver_notice_email(notice_id: int) -> str:
    return services.notice_deliver_email(notice_id=notice_id)


def recheck_tick() -> int:
    """Every minute: check what is due, within a budget shorter than the tick."""
    return rechecks.run_due(budget_seconds=settings.TAKEDOWN_TICK_BUDGET_SECONDS)


def recheck_urls(url_ids: list[int]) -> int:
    """"Recheck now" for chosen URLs (claimed like any other batch: never twice at once)."""
    done = 0
    for start in range(0, len(url_ids), settings.TAKEDOWN_CHECK_BATCH):
        done += len(rechecks.check_batch(limit=settings.TAKEDOWN_CHECK_BATCH,
                                         url_ids=url_ids[start:start + settings.TAKEDOWN_CHECK_BATCH]))
    return done
