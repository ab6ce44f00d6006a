"""django-q2 entry points: plain functions of ids, idempotent, thin over the services."""

from __future__ import annotations

from django.conf import settings

from takedown import chain, escalation, jobs, notices, rechecks, rollups


def deliver_notice_email(notice_id: int) -> str:
    return notices.notice_deliver_email(notice_id=notice_id)


def housekeeping_tick() -> dict[str, dict[str, int]]:
    """Every minute: email deliveries (stale ones to "unknown", lost ones re-queued, due retries
    started), background jobs (a dead worker's job resumed from its last chunk), the
    statistics' rollup (the cells of the URLs changed since, recomputed) and the escalation
    ladder (the next step drafted for URLs live past their deadline)."""
    return {
        "delivery": notices.delivery_sweep(),
        "jobs": jobs.jobs_sweep(),
        "rollup": {"cells": rollups.refresh()},
        "escalation": escalation.escalations_sweep(),
    }


def contacts_tick() -> dict[str, int]:
    """Every minute, apart from housekeeping: abuse-contact discovery for the ladder's hosts,
    within its own time budget (a slow registry must not hold up deliveries and rollups)."""
    return escalation.contacts_discover_due(budget_seconds=settings.TAKEDOWN_DISCOVERY_BUDGET_SECONDS)


def recheck_tick() -> int:
    """Every minute: check what is due, within a budget shorter than the tick."""
    return rechecks.run_due(budget_seconds=settings.TAKEDOWN_TICK_BUDGET_SECONDS)


def run_job(job_id: int) -> str:
    return jobs.job_run(job_id=job_id)


def chain_daily() -> dict[str, int]:
    """Every day: each agency's chain head of the day, and its new URLs linked to their accounts."""
    from takedown.cases import accounts_link
    from takedown.models import Agency

    linked = sum(accounts_link(agency_id=pk) for pk in Agency.objects.values_list("pk", flat=True))
    return {"anchors": chain.chain_anchor_today(), "linked": linked}
