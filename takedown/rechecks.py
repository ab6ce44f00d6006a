"""The recheck engine's database side: claim due URLs, probe them, record what was seen.

Pending work is an indexed query on our own table (`next_check_at <= now`), claimed with a
conditional UPDATE that stamps a claim token and a lease: two clusters never take the same
URL, and a worker killed mid-batch leaves its URLs to be claimed again once the lease runs
out. Results are written in one transaction per batch, so an outcome is recorded once or not
at all. django-q2 only supplies the clock (a schedule ticking every minute) and the workers.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from takedown.choices import LegalRoute, URLStatus, Verdict
from takedown.models import InfringingURL, Platform, URLCheck
from takedown.probing import PlatformRules, ProbeConfig, ProbeResult, run_probes

log = logging.getLogger(__name__)

# A confirmed verdict moves a URL to this status.
VERDICT_STATUS = {
    Verdict.REMOVED: URLStatus.REMOVED,
    Verdict.LEGALLY_BLOCKED: URLStatus.LEGALLY_BLOCKED,
    Verdict.SOFT_REMOVED: URLStatus.SOFT_REMOVED,
    Verdict.RESTRICTED: URLStatus.RESTRICTED,
}
GONE = (URLStatus.REMOVED, URLStatus.LEGALLY_BLOCKED, URLStatus.SOFT_REMOVED)
# Offsets from sending (DESIGN.md, "Rechecks"): soon after, +1 h, +6 h, +24 h, +48 h, then daily.
PLAN_AFTER_SENDING = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24), timedelta(hours=48))
DAILY = timedelta(days=1)
WEEKLY = timedelta(days=7)
REUPLOAD_WATCH = timedelta(days=90)


def probe_config() -> ProbeConfig:
    ports = {80, 443} | set(settings.TAKEDOWN_PROBE_EXTRA_PORTS)
    return ProbeConfig(
        allow_loopback=settings.TAKEDOWN_PROBE_ALLOW_LOOPBACK,
        allowed_ports=frozenset(ports),
        concurrency=settings.TAKEDOWN_PROBE_CONCURRENCY,
        per_host=settings.TAKEDOWN_PROBE_PER_HOST,
        per_host_spacing=settings.TAKEDOWN_PROBE_SPACING,
        connect_timeout=settings.TAKEDOWN_PROBE_CONNECT_TIMEOUT,
        total_timeout=settings.TAKEDOWN_PROBE_TIMEOUT,
        user_agent=settings.TAKEDOWN_PROBE_USER_AGENT,
    )


# -- claiming ---------------------------------------------------------------------------------


def claim_due(*, limit: int, now: datetime | None = None, url_ids: Iterable[int] | None = None) -> tuple[str, list[int]]:
    """Take up to `limit` due URLs for this worker; returns (claim token, ids).

    The UPDATE re-checks the lease in its WHERE clause, so of two claimers racing for a row
    exactly one stamps it; each then reads back only the rows carrying its own token.
    """
    now = now or timezone.now()
    token = uuid.uuid4().hex
    lease_until = now + timedelta(seconds=settings.TAKEDOWN_CHECK_LEASE_SECONDS)
    free = Q(check_lease_until__isnull=True) | Q(check_lease_until__lt=now)
    candidates = InfringingURL.objects.filter(free)
    if url_ids is None:
        candidates = candidates.filter(next_check_at__lte=now).order_by("next_check_at")
    else:
        candidates = candidates.filter(pk__in=list(url_ids)).order_by("pk")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Skip rows another claimer holds right now instead of queueing behind it.
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        InfringingURL.objects.filter(free, pk__in=ids).update(check_claim=token, check_lease_until=lease_until)
    claimed = list(InfringingURL.objects.filter(check_claim=token).values_list("pk", flat=True))
    return token, claimed


# -- deciding ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one check changed, for counting and for tests."""

    url_id: int
    verdict: str
    status_before: str
    status_after: str

    @property
    def confirmed_removal(self) -> bool:
        return self.status_after == URLStatus.REMOVED and self.status_before != URLStatus.REMOVED

    @property
    def reopened(self) -> bool:
        return self.status_before in GONE and self.status_after == URLStatus.OPEN


def _jitter(delta: timedelta, rng: random.Random) -> timedelta:
    spread = min(delta.total_seconds() * 0.1, 1800)
    return delta + timedelta(seconds=rng.uniform(-spread, spread))


def next_check_at(url: InfringingURL, now: datetime, result: ProbeResult | None, rng: random.Random) -> datetime | None:
    """When to look again, from the backoff plan; None stops checking."""
    confirming = (
        result is not None and result.conclusive and url.streak_count < settings.TAKEDOWN_CONFIRMATIONS
        and VERDICT_STATUS.get(result.verdict, URLStatus.NOTIFIED) != url.status
    )
    if confirming:
        # A change is in sight: confirm it soon rather than on the plan.
        when = now + _jitter(timedelta(minutes=settings.TAKEDOWN_CONFIRM_MINUTES), rng)
    elif url.status in GONE or url.status == URLStatus.RESTRICTED:
        if url.removed_at and now - url.removed_at > REUPLOAD_WATCH:
            return None
        when = now + _jitter(WEEKLY if url.status in GONE else DAILY, rng)
    elif url.status == URLStatus.NOTIFIED and url.notified_at:
        when = None
        for offset in PLAN_AFTER_SENDING:
            if url.notified_at + offset > now:
                when = url.notified_at + _jitter(offset, rng) if offset > timedelta(hours=1) else url.notified_at + offset
                break
        when = max(when or now + _jitter(DAILY, rng), now + timedelta(minutes=1))
    else:
        return None  # open (evidence at intake is enough until a notice is sent) or dismissed
    if result is not None and result.retry_after:
        when = max(when, now + timedelta(seconds=result.retry_after))
    return when


def escalation_for(url: InfringingURL) -> str:
    """The next step once a platform lets its deadline pass."""
    steps = []
    if url.legal_route in (LegalRoute.KR_TBA, LegalRoute.KR_NETWORK) or url.host.endswith(".kr"):
        steps.append("KCSC review request (방송통신심의위원회) via 디지털성범죄피해자지원센터")
    if url.category in ("synthetic_sexual", "real_intimate"):
        steps.append("search-engine delisting (Google NCII / explicit deepfake form) and StopNCII hash")
    if url.platform_id is None:
        steps.append("hosting provider, then CDN (Cloudflare abuse) and registrar abuse contact")
    else:
        steps.append("re-notify through the platform's escalation or DSA/legal channel")
    if url.category in ("synthetic_sexual", "real_intimate"):
        steps.append("police report (사이버수사대 / ECRM)")
    return "; ".join(steps)[:300]


def apply_result(url: InfringingURL, result: ProbeResult, now: datetime, rng: random.Random) -> Outcome:
    """Update a URL's recheck fields and state from one check (no saving). Pure bookkeeping:

    inconclusive verdicts never change state nor break a streak; a conclusive one changes
    state only once the same verdict has been seen `TAKEDOWN_CONFIRMATIONS` times in a row.
    """
    before = url.status
    verdict = result.verdict
    url.last_checked_at = result.checked_at
    url.last_verdict = verdict
    if verdict != Verdict.INCONCLUSIVE:
        if verdict == url.streak_verdict:
            url.streak_count += 1
        else:
            url.streak_verdict, url.streak_count, url.streak_since = verdict, 1, result.checked_at
        if url.streak_count >= settings.TAKEDOWN_CONFIRMATIONS:
            _confirm(url, verdict, now)
    if url.status == URLStatus.NOTIFIED and url.deadline_at and url.deadline_at < now and url.overdue_since is None:
        url.overdue_since = now
        url.escalation = escalation_for(url)
    url.next_check_at = next_check_at(url, now, result, rng)
    url.check_lease_until = None
    url.check_claim = ""
    return Outcome(url.pk, verdict, before, url.status)


def _confirm(url: InfringingURL, verdict: str, now: datetime) -> None:
    target = VERDICT_STATUS.get(verdict)
    if target is not None:
        if url.status in (URLStatus.OPEN, URLStatus.NOTIFIED, URLStatus.RESTRICTED, *GONE) and url.status != target:
            url.status = target
            if target == URLStatus.REMOVED:
                url.removed_at = url.streak_since or now
            if target in GONE:
                url.overdue_since = None
                url.escalation = ""
        return
    # Live again.
    if url.status in GONE:
        # A removed item that is back is a re-upload: it needs a new notice.
        url.status = URLStatus.OPEN
        url.reupload_count += 1
        url.removed_at = None
    elif url.status == URLStatus.RESTRICTED:
        url.status = URLStatus.NOTIFIED if url.notified_at else URLStatus.OPEN


_UPDATED_FIELDS = [
    "status", "last_checked_at", "last_verdict", "streak_verdict", "streak_count", "streak_since", "removed_at",
    "overdue_since", "escalation", "next_check_at", "check_lease_until", "check_claim", "reupload_count",
    "updated_at",
]


def record_results(token: str, results: list[tuple[int, ProbeResult]], *, now: datetime | None = None,
                   rng: random.Random | None = None) -> list[Outcome]:
    """Write a batch's evidence and state changes in one transaction.

    Only URLs still holding this claim token are written: if the lease ran out and another
    worker re-claimed them, this (late) worker's results are dropped, so nothing is doubled.
    """
    now = now or timezone.now()
    rng = rng or random.Random()
    by_id = dict(results)
    with transaction.atomic():
        urls = list(InfringingURL.objects.select_for_update().filter(check_claim=token, pk__in=list(by_id)))
        checks, outcomes = [], []
        for url in urls:
            result = by_id[url.pk]
            checks.append(
                URLCheck(
                    url=url, checked_at=result.checked_at, http_status=result.http_status,
                    final_url=result.final_url[:2048], redirect_chain=result.redirect_chain,
                    headers=result.headers, body_sha256=result.body_sha256, title=result.title[:500],
                    excerpt=result.excerpt, verdict=result.verdict, reason=result.reason[:500],
                    error=result.error, elapsed_ms=result.elapsed_ms,
                )
            )
            outcomes.append(apply_result(url, result, now, rng))
            url.updated_at = now
        URLCheck.objects.bulk_create(checks, batch_size=500)
        InfringingURL.objects.bulk_update(urls, _UPDATED_FIELDS, batch_size=500)
    return outcomes


def rules_by_platform() -> dict[int, PlatformRules]:
    return {
        p.pk: PlatformRules(detector=p.detector or "generic", markers=p.markers or {})
        for p in Platform.objects.only("pk", "detector", "markers")
    }


def check_batch(*, limit: int, url_ids: Iterable[int] | None = None, config: ProbeConfig | None = None,
                now: datetime | None = None) -> list[Outcome]:
    """One step: claim a batch, probe it concurrently, record the results. [] when nothing was due."""
    token, ids = claim_due(limit=limit, now=now, url_ids=url_ids)
    if not ids:
        return []
    rules = rules_by_platform()
    default = PlatformRules()
    items = [
        (pk, normalized, rules.get(platform_id, default) if platform_id else default)
        for pk, normalized, platform_id in InfringingURL.objects.filter(pk__in=ids).values_list(
            "pk", "normalized_url", "platform_id"
        )
    ]
    results = run_probes(items, config or probe_config())
    return record_results(token, results)


def run_due(*, budget_seconds: float, batch_size: int | None = None, config: ProbeConfig | None = None,
            progress: Callable[[int], None] | None = None) -> int:
    """Check due URLs batch after batch until none is due or the time budget is spent."""
    started = time.monotonic()
    batch_size = batch_size or settings.TAKEDOWN_CHECK_BATCH
    done = 0
    while time.monotonic() - started < budget_seconds:
        outcomes = check_batch(limit=batch_size, config=config)
        if not outcomes:
            break
        done += len(outcomes)
        if progress:
            progress(done)
    return done


def schedule_now(url_ids: Iterable[int]) -> int:
    """Make URLs due at once ("recheck now"); the next tick, or a queued task, takes them."""
    return InfringingURL.objects.filter(pk__in=list(url_ids)).exclude(status=URLStatus.DISMISSED).update(
        next_check_at=timezone.now()
    )
