"""The recheck engine's database side: claim due URLs, probe them, record what was seen.

Pending work is an indexed query on our own table (`next_check_at <= now`), claimed with a
conditional UPDATE that stamps a claim token and a lease: two clusters never take the same
URL, and a worker killed mid-batch leaves its URLs to be claimed again once the lease runs
out. Results are written in one transaction per batch, so an outcome is recorded once or not
at all. django-q2 only supplies the clock (a schedule ticking every minute) and the workers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from takedown import chain, identity, legal, lifecycle
from takedown.choices import LegalRoute, URLStatus, Verdict
from takedown.lifecycle import GONE
from takedown.models import InfringingURL, Platform, URLCheck
from takedown.probing import PlatformRules, ProbeConfig, Prober, ProbeResult
from takedown.probing.safety import system_resolve

log = logging.getLogger(__name__)

# Offsets from sending: soon after, +1 h, +6 h, +24 h, +48 h, then daily.
PLAN_AFTER_SENDING = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24), timedelta(hours=48))
DAILY = timedelta(days=1)
WEEKLY = timedelta(days=7)
REUPLOAD_WATCH = timedelta(days=90)


def _pinned_resolver(pinned: dict[str, list[str]]):
    """Like curl --resolve: the given hosts resolve to the given addresses, others as usual.

    For tests and demos that stand a loopback server in for a public host name; the answers
    are still vetted (so only with TAKEDOWN_PROBE_ALLOW_LOOPBACK for loopback addresses).
    """

    async def resolve(host: str) -> list[str]:
        if host in pinned:
            return pinned[host]
        return await system_resolve(host)

    return resolve


def probe_config() -> ProbeConfig:
    ports = {80, 443} | set(settings.TAKEDOWN_PROBE_EXTRA_PORTS)
    pinned = settings.TAKEDOWN_PROBE_RESOLVE
    return ProbeConfig(
        resolver=_pinned_resolver(pinned) if pinned else None,
        allow_loopback=settings.TAKEDOWN_PROBE_ALLOW_LOOPBACK,
        allowed_ports=frozenset(ports),
        concurrency=settings.TAKEDOWN_PROBE_CONCURRENCY,
        per_host=settings.TAKEDOWN_PROBE_PER_HOST,
        per_host_spacing=settings.TAKEDOWN_PROBE_SPACING,
        connect_timeout=settings.TAKEDOWN_PROBE_CONNECT_TIMEOUT,
        total_timeout=settings.TAKEDOWN_PROBE_TIMEOUT,
        user_agent=settings.TAKEDOWN_PROBE_USER_AGENT,
        dns_control=tuple(settings.TAKEDOWN_PROBE_DNS_CONTROL),
        nxdomain_means_removed=settings.TAKEDOWN_PROBE_NXDOMAIN_MEANS_REMOVED,
        soft404=settings.TAKEDOWN_PROBE_SOFT404,
    )


# -- claiming ---------------------------------------------------------------------------------


# Serialises claims on PostgreSQL (pg_advisory_xact_lock), so that two runs never both take
# a host that neither held a moment before.
_CLAIM_LOCK = 0x7A6B0001


def new_holder() -> str:
    """An id for one run of checks: its claims carry it, so it can tell its hosts from others'."""
    return uuid.uuid4().hex[:12]


def claim_due(
    *,
    limit: int,
    now: datetime | None = None,
    url_ids: Iterable[int] | None = None,
    holder: str | None = None,
    exclusive_hosts: bool = True,
) -> tuple[str, list[int]]:
    """Take up to `limit` due URLs for this worker; returns (claim token, ids).

    The UPDATE re-checks the lease in its WHERE clause, so of two claimers racing for a row
    exactly one stamps it; each then reads back only the rows carrying its own token.

    One run per host: a host with URLs that another run (another `holder`) holds right now is
    left to that run, so a run's per-host limit is the host's limit however many workers run
    checks at once. (`exclusive_hosts=False`: a person's "recheck now" of a few URLs.)
    """
    now = now or timezone.now()
    holder = holder or new_holder()
    token = f"{holder}.{uuid.uuid4().hex[:19]}"
    lease_until = now + timedelta(seconds=settings.TAKEDOWN_CHECK_LEASE_SECONDS)
    free = Q(check_lease_until__isnull=True) | Q(check_lease_until__lt=now)
    busy_hosts = (
        InfringingURL.objects.exclude(check_claim="")
        .filter(check_lease_until__gte=now)
        .exclude(check_claim__startswith=f"{holder}.")
        .values("host")
    )
    candidates = InfringingURL.objects.filter(free)
    if exclusive_hosts:
        candidates = candidates.exclude(host__in=busy_hosts)
    if url_ids is None:
        candidates = candidates.filter(next_check_at__lte=now).order_by("next_check_at")
    else:
        candidates = candidates.filter(pk__in=list(url_ids)).order_by("pk")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CLAIM_LOCK])
            # Skip rows another claimer holds right now instead of queueing behind it.
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        InfringingURL.objects.filter(free, pk__in=ids).update(
            check_claim=token, check_lease_until=lease_until
        )
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
    streak_count: int = 0
    # Seen often enough, but too soon after the first sighting: a check from then on confirms.
    confirm_after: datetime | None = None
    # Confirming this verdict would still move the URL (the lifecycle says so).
    confirming: bool = False

    @property
    def confirmed_removal(self) -> bool:
        return self.status_after == URLStatus.REMOVED and self.status_before != URLStatus.REMOVED

    @property
    def reopened(self) -> bool:
        return self.status_before in GONE and self.status_after == URLStatus.OPEN


def _jitter(delta: timedelta, rng: random.Random) -> timedelta:
    spread = min(delta.total_seconds() * 0.1, 1800)
    return delta + timedelta(seconds=rng.uniform(-spread, spread))


def next_check_at(
    url: InfringingURL, now: datetime, result: ProbeResult | None, rng: random.Random
) -> datetime | None:
    """When to look again, from the backoff plan; None stops checking."""
    # A change is in sight only if confirming the verdict would move the URL (lifecycle): a
    # live open URL is not "confirming" anything, and is not looked at again until it is sent.
    confirming = result is not None and result.conclusive and lifecycle.would_move(url, result.verdict)
    if confirming:
        # A change is in sight: confirm it soon rather than on the plan, but not before the
        # confirming observation may count (confirmation_spans_enough).
        when = now + _jitter(timedelta(minutes=settings.TAKEDOWN_CONFIRM_MINUTES), rng)
        if url.streak_since is not None:
            when = max(when, url.streak_since + timedelta(minutes=settings.TAKEDOWN_CONFIRM_MIN_MINUTES))
    elif url.status in GONE or url.status == URLStatus.RESTRICTED:
        if url.removed_at and now - url.removed_at > REUPLOAD_WATCH:
            return None
        when = now + _jitter(WEEKLY if url.status in GONE else DAILY, rng)
    elif url.status == URLStatus.NOTIFIED and url.notified_at:
        when = None
        for offset in PLAN_AFTER_SENDING:
            if url.notified_at + offset > now:
                when = (
                    url.notified_at + _jitter(offset, rng)
                    if offset > timedelta(hours=1)
                    else url.notified_at + offset
                )
                break
        when = max(when or now + _jitter(DAILY, rng), now + timedelta(minutes=1))
    else:
        return None  # open (evidence at intake is enough until a notice is sent) or dismissed
    when = _statutory_recheck(url, now, when)
    if result is not None and result.retry_after:
        when = max(when, now + timedelta(seconds=result.retry_after))
    return when


def _statutory_recheck(url: InfringingURL, now: datetime, when: datetime) -> datetime:
    """No later than the route's recheck days after sending: a Network Act Art. 44-2(4)
    temporary measure lasts up to 30 days, so the URL is looked at again at day 30."""
    clock = legal.ROUTE_CLOCKS.get(url.legal_route)
    if clock is None or url.notified_at is None:
        return when
    for days in clock.recheck_days:
        due = url.notified_at + timedelta(days=days, hours=1)
        if now < due < when:
            return due
    return when


def escalation_for(url: InfringingURL) -> str:
    """The next step once a platform lets its deadline pass."""
    steps = []
    if url.legal_route in (LegalRoute.KR_TBA, LegalRoute.KR_NETWORK) or url.host.endswith(".kr"):
        steps.append("KCSC review request (방송통신심의위원회) via 디지털성범죄피해자지원센터")
    if url.category in ("synthetic_sexual", "real_intimate"):
        steps.append("search-engine delisting (Google NCII / explicit deepfake form) and StopNCII hash")
    if url.platform_id is None:
        steps.append("the ladder drafts the next notice: site operator, CDN, hosting provider, registrar")
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
    confirm_after = None
    url.last_checked_at = result.checked_at
    url.last_verdict = verdict
    if verdict != Verdict.INCONCLUSIVE:
        if verdict == url.streak_verdict:
            url.streak_count += 1
        else:
            url.streak_verdict, url.streak_count, url.streak_since = verdict, 1, result.checked_at
        if url.streak_count >= confirmations_needed(result):
            if confirmation_spans_enough(url, result):
                lifecycle.confirm(url, verdict, now)
            else:
                confirm_after = url.streak_since + timedelta(minutes=settings.TAKEDOWN_CONFIRM_MIN_MINUTES)
    if (
        url.status == URLStatus.NOTIFIED
        and url.deadline_at
        and url.deadline_at < now
        and url.overdue_since is None
    ):
        url.overdue_since = now
        url.escalation = escalation_for(url)
    url.next_check_at = next_check_at(url, now, result, rng)
    url.check_lease_until = None
    url.check_claim = ""
    confirming = verdict != Verdict.INCONCLUSIVE and lifecycle.would_move(url, verdict)
    return Outcome(url.pk, verdict, before, url.status, url.streak_count, confirm_after, confirming)


def confirmations_needed(result: ProbeResult) -> int:
    """Consecutive identical verdicts before a state changes. A vanished domain must persist
    across at least two runs, each with its own DNS control, however few the setting asks for."""
    if result.verdict == Verdict.REMOVED and result.rule.startswith("dns."):
        return max(2, settings.TAKEDOWN_CONFIRMATIONS)
    return settings.TAKEDOWN_CONFIRMATIONS


def confirmation_spans_enough(url: InfringingURL, result: ProbeResult) -> bool:
    """A state changes only on observations apart in time, not on two clicks of "recheck now"
    a second apart: a platform's passing error page, or a page caught mid-deploy, must be seen
    again after `TAKEDOWN_CONFIRM_MIN_MINUTES` (two consistent observations
    separated in time). A single required confirmation has nothing to span."""
    if confirmations_needed(result) <= 1 or url.streak_since is None:
        return True
    span = timedelta(minutes=settings.TAKEDOWN_CONFIRM_MIN_MINUTES)
    return result.checked_at - url.streak_since >= span


_UPDATED_FIELDS = (
    "status",
    "last_checked_at",
    "last_verdict",
    "streak_verdict",
    "streak_count",
    "streak_since",
    "removed_at",
    "overdue_since",
    "escalation",
    "next_check_at",
    "check_lease_until",
    "check_claim",
    "reupload_count",
    # A re-upload clears the old notice's clock (lifecycle.confirm): it must reach the row.
    "notified_at",
    "deadline_at",
    "updated_at",
)


def _update_urls(urls: list[InfringingURL]) -> None:
    """One prepared UPDATE per row via executemany: Django's bulk_update builds a CASE per field
    per row, which costs ~35x more per row at batch sizes like ours."""
    if not urls:
        return
    qn = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    assignments = ", ".join(f"{qn(f)} = %s" for f in _UPDATED_FIELDS)
    sql = f"UPDATE {qn(InfringingURL._meta.db_table)} SET {assignments} WHERE {qn('id')} = %s"
    params = [
        [adapt(v) if isinstance(v, datetime) else v for v in (getattr(u, f) for f in _UPDATED_FIELDS)]
        + [u.pk]
        for u in urls
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def record_results(
    token: str,
    results: list[tuple[int, ProbeResult]],
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> list[Outcome]:
    """Write a batch's evidence and state changes in one transaction.

    Only URLs still holding this claim token are written: if the lease ran out and another
    worker re-claimed them, this (late) worker's results are dropped, so nothing is doubled.
    """
    now = now or timezone.now()
    rng = rng or random.Random()
    by_id = dict(results)
    with transaction.atomic():
        # The agencies' chain heads before the URL rows: the order mark_sent takes them in.
        chain.lock_heads(
            InfringingURL.objects.filter(check_claim=token, pk__in=list(by_id))
            .values_list("artist__agency_id", flat=True)
            .distinct()
        )
        urls = list(
            InfringingURL.objects.select_for_update()
            .filter(check_claim=token, pk__in=list(by_id))
            .only(*_READ_FIELDS)
            .order_by()
        )
        checks, outcomes = [], []
        for url in urls:
            result = by_id[url.pk]
            checks.append(
                (
                    url.pk,
                    result.checked_at,
                    result.http_status,
                    result.final_url[:2048],
                    json.dumps(result.redirect_chain),
                    json.dumps(result.headers),
                    result.body_sha256,
                    result.title[:500],
                    result.excerpt,
                    result.verdict,
                    result.reason[:500],
                    result.rule[:100],
                    result.error,
                    result.elapsed_ms,
                )
            )
            outcomes.append(apply_result(url, result, now, rng))
            url.updated_at = now
        _insert_checks(checks)
        # Into the agency's hash chain (takedown.chain), in this same transaction.
        chain.chain_checks([(c[0], c[1]) for c in checks])
        _update_urls(urls)
        # A URL confirmed gone or restricted leaves the escalation ladder's unsent drafts.
        left = [o.url_id for o in outcomes if o.status_before == URLStatus.NOTIFIED != o.status_after]
        if left:
            lifecycle.urls_left_notified(left)
        # One item, one row: a short link that led to a URL its artist already has is linked
        # to that row (takedown.identity), so the item is never noticed twice.
        identity.urls_link_followed((u.pk, u.host, by_id[u.pk].final_url) for u in urls)
    return outcomes


_READ_FIELDS = (
    "id",
    "status",
    "host",
    "platform_id",
    "category",
    "legal_route",
    *(f for f in _UPDATED_FIELDS if f not in ("status",)),
)
_CHECK_COLUMNS = (
    "url_id",
    "checked_at",
    "http_status",
    "final_url",
    "redirect_chain",
    "headers",
    "body_sha256",
    "title",
    "excerpt",
    "verdict",
    "reason",
    "rule",
    "error",
    "elapsed_ms",
)


def _insert_checks(rows: list[tuple]) -> None:
    """Evidence rows in one executemany (model instances cost more than the insert itself)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"INSERT INTO {qn(URLCheck._meta.db_table)} ({', '.join(qn(c) for c in _CHECK_COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(_CHECK_COLUMNS))})"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(r[0], adapt(r[1]), *r[2:]) for r in rows])


def rules_by_platform() -> dict[int, PlatformRules]:
    return {
        p.pk: PlatformRules(detector=p.detector or "generic", markers=p.markers or {}, registry=True)
        for p in Platform.objects.only("pk", "detector", "markers")
    }


class ProbeThread:
    """One event loop and one Prober for a whole run, fed from the (synchronous) database side.

    Database work stays in the calling thread (Django's ORM is synchronous); probing runs in
    this thread's loop, so one batch's slow URLs never hold up the next batch's requests and
    connections are reused across batches.
    """

    def __init__(self, config: ProbeConfig) -> None:
        self.results: queue.Queue[tuple[int, ProbeResult]] = queue.Queue()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future | None = None
        self._config = config
        self._thread = threading.Thread(target=self._run, name="takedown-probe", daemon=True)

    def __enter__(self) -> ProbeThread:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        async with Prober(self._config) as prober:
            self._prober = prober
            self._ready.set()
            await self._stop
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _probe(self, key: int, url: str, rules: PlatformRules) -> None:
        self.results.put((key, await self._prober.probe(url, rules)))

    def submit(self, items: Iterable[tuple[int, str, PlatformRules]]) -> int:
        n = 0
        for key, url, rules in items:
            self._loop.call_soon_threadsafe(
                lambda k=key, u=url, r=rules: self._loop.create_task(self._probe(k, u, r))
            )
            n += 1
        return n


def _items(ids: list[int], rules: dict[int, PlatformRules]) -> list[tuple[int, str, PlatformRules]]:
    default = PlatformRules()
    rows = InfringingURL.objects.filter(pk__in=ids).values_list("pk", "normalized_url", "platform_id")
    # Interleave hosts, so that one host's queue at its per-host limit does not delay the rest.
    by_host: dict[str, list[tuple[int, str, PlatformRules]]] = {}
    for pk, url, platform_id in rows:
        host = url.split("/", 3)[2] if "://" in url else ""
        by_host.setdefault(host, []).append(
            (pk, url, rules.get(platform_id, default) if platform_id else default)
        )
    lists = list(by_host.values())
    return [item for round_ in itertools.zip_longest(*lists) for item in round_ if item is not None]


class _Pipeline:
    """The state of one `run_checks`: claimed URLs in flight, results waiting to be written."""

    def __init__(self, claim, *, budget_seconds, batch_size, config, progress) -> None:
        self.claim = claim
        self.started = time.monotonic()
        self.budget_seconds = budget_seconds
        self.batch_size = batch_size
        self.window = max(batch_size, 2 * config.concurrency)
        self.rules = rules_by_platform()
        self.progress = progress
        self.owner: dict[int, str] = {}  # url id -> claim token
        self.done: list[Outcome] = []
        self.pending: dict[str, list[tuple[int, ProbeResult]]] = {}
        self.pending_count = 0
        self.exhausted = False
        self.lease = settings.TAKEDOWN_CHECK_LEASE_SECONDS
        self.renewed = time.monotonic()

    def renew(self) -> None:
        """Extend the leases of the URLs still in flight: a claim outlives the work on it, so no
        other run takes a URL (or its host) while this one is still probing it."""
        if time.monotonic() - self.renewed < self.lease / 3 or not self.owner:
            return
        self.renewed = time.monotonic()
        until = timezone.now() + timedelta(seconds=self.lease)
        by_token: dict[str, list[int]] = {}
        for pk, token in self.owner.items():
            by_token.setdefault(token, []).append(pk)
        for token, ids in by_token.items():
            InfringingURL.objects.filter(pk__in=ids, check_claim=token).update(check_lease_until=until)

    def fill(self, prober: ProbeThread) -> bool:
        """Claim another batch while the window has room and the budget lasts; True if it did."""
        if self.exhausted or len(self.owner) >= self.window:
            return False
        if self.budget_seconds is not None and time.monotonic() - self.started > self.budget_seconds:
            self.exhausted = True
            return False
        token, ids = self.claim(self.batch_size)
        if not ids:
            self.exhausted = True
            return False
        for pk in ids:
            self.owner[pk] = token
        prober.submit(_items(ids, self.rules))
        return True

    def take(self, key: int, result: ProbeResult) -> None:
        self.pending.setdefault(self.owner.pop(key), []).append((key, result))
        self.pending_count += 1

    def collect(self, prober: ProbeThread) -> None:
        """Wait for one result (then take whatever else has arrived), writing in chunks."""
        self.renew()
        try:
            # Never wait past a third of a lease: the claims in flight are renewed between waits.
            key, result = prober.results.get(timeout=0.2 if not self.exhausted else min(5, self.lease / 3))
        except queue.Empty:
            if self.pending_count:
                self.flush()
            return
        self.take(key, result)
        while True:
            try:
                key, result = prober.results.get_nowait()
            except queue.Empty:
                break
            self.take(key, result)
        if self.pending_count >= self.batch_size or (self.exhausted and not self.owner):
            self.flush()

    def flush(self) -> None:
        for token, results in self.pending.items():
            self.done.extend(record_results(token, results))
        self.pending.clear()
        self.pending_count = 0
        if self.progress:
            self.progress(len(self.done))


def run_checks(
    claim: Callable[[int], tuple[str, list[int]]],
    *,
    budget_seconds: float | None = None,
    batch_size: int | None = None,
    config: ProbeConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Claim batches with `claim(limit)` and probe them as a pipeline until it returns nothing
    (or the budget is spent), writing results in chunks as they arrive."""
    config = config or probe_config()
    run = _Pipeline(
        claim,
        budget_seconds=budget_seconds,
        batch_size=batch_size or settings.TAKEDOWN_CHECK_BATCH,
        config=config,
        progress=progress,
    )
    with ProbeThread(config) as prober:
        while True:
            if run.fill(prober):
                continue
            if not run.owner:
                break
            run.collect(prober)
    if run.pending_count:
        run.flush()
    return run.done


def check_batch(
    *,
    limit: int,
    url_ids: Iterable[int] | None = None,
    config: ProbeConfig | None = None,
    now: datetime | None = None,
) -> list[Outcome]:
    """Claim up to `limit` URLs (due ones, or the given ones), check them, record the results."""
    taken = False

    def claim(n: int) -> tuple[str, list[int]]:
        nonlocal taken
        if taken:
            return "", []
        taken = True
        # A person's few URLs, now: not held back by another run on the same host.
        return claim_due(limit=limit, now=now, url_ids=url_ids, exclusive_hosts=url_ids is None)

    return run_checks(claim, batch_size=limit, config=config)


def check_urls(
    url_ids: list[int],
    *,
    progress: Callable[[int], None] | None = None,
    wait_seconds: float | None = None,
    heartbeat: Callable[[], None] | None = None,
    unchecked: list[int] | None = None,
) -> list[Outcome]:
    """Check the given URLs now, as one pipeline. URLs another run holds are left to it; URLs
    on a host another run is checking wait for that run to leave the host (at most
    `wait_seconds`, default one lease), so the host's limit holds."""
    holder = new_holder()
    pending = list(url_ids)
    wait = settings.TAKEDOWN_CHECK_LEASE_SECONDS if wait_seconds is None else wait_seconds

    def claim(n: int) -> tuple[str, list[int]]:
        deadline = time.monotonic() + wait
        while pending:
            token, ids = claim_due(
                limit=n, url_ids=pending[: max(n, settings.TAKEDOWN_CHECK_BATCH)], holder=holder
            )
            if ids:
                taken = set(ids)
                pending[:] = [pk for pk in pending if pk not in taken]
                return token, ids
            held = set(
                InfringingURL.objects.filter(pk__in=pending, check_lease_until__gte=timezone.now())
                .exclude(check_claim__startswith=f"{holder}.")
                .values_list("pk", flat=True)
            )
            window = pending[: max(n, settings.TAKEDOWN_CHECK_BATCH)]
            if held.issuperset(window):
                pending[:] = [pk for pk in pending if pk not in held]  # another run checks these
                continue
            if time.monotonic() > deadline:
                if unchecked is not None:
                    unchecked.extend(pending)  # their host stayed busy: said so, not dropped quietly
                pending.clear()
                return "", []
            if heartbeat is not None:
                heartbeat()  # the caller's own lease (a job) outlives the wait
            time.sleep(0.5)  # their host is busy with another run: wait for it
        return "", []

    return run_checks(claim, progress=progress)


def run_due(
    *,
    budget_seconds: float,
    batch_size: int | None = None,
    config: ProbeConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Check due URLs, claimed batch after batch, until none is due or the time budget is spent."""
    holder = new_holder()
    return len(
        run_checks(
            lambda n: claim_due(limit=n, holder=holder),
            budget_seconds=budget_seconds,
            batch_size=batch_size,
            config=config,
            progress=progress,
        )
    )
