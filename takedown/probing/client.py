"""The Prober: fetches URLs safely and politely, and turns each answer into evidence and a verdict.

One aiohttp session per Prober, cookies never kept, proxy variables ignored, redirects
followed by hand so that every hop is vetted (safety.vet) before a socket is opened. The
global and per-host limits are asyncio semaphores around each request rather than the
connection pool's limit_per_host, which measured 2.5x slower on the recheck benchmark
(bench/recheck.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import math
import re
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from takedown.probing.detectors import Detector, detector_for
from takedown.probing.page import Page
from takedown.probing.safety import (
    NameNotFound,
    Refused,
    ResolutionFailed,
    Target,
    VettedResolver,
    check_shape,
    connecting_to,
    host_key,
    resolve_host,
    vet,
)
from takedown.probing.types import (
    DEFAULT_RULES,
    INCONCLUSIVE,
    LIVE,
    REMOVED,
    Finding,
    PlatformRules,
    ProbeConfig,
    ProbeResult,
)
from takedown.probing.verdicts import decide, soft404, wall_kind

log = logging.getLogger(__name__)

K = TypeVar("K")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
KEPT_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "content-language",
    "server",
    "location",
    "retry-after",
    "cf-mitigated",
    "cf-ray",
    "x-robots-tag",
    "last-modified",
    "etag",
    "date",
    "age",
    "cache-control",
    "x-cache",
    "www-authenticate",
)
MAX_PAUSE = 24 * 3600.0  # however long a server asks us to stay away, forget it after a day


class Deferred(Exception):
    """The host asked for a pause longer than we wait within one batch."""

    def __init__(self, remaining: float) -> None:
        super().__init__(f"{remaining:.0f} s")
        self.remaining = remaining


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{1,10}(?:\.\d+)?", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class HostGate:
    """At most ``limit`` requests in flight to one host, starts at least ``spacing`` apart, and
    none while the host has asked for a pause."""

    def __init__(self, limit: int, spacing: float) -> None:
        self._sem = asyncio.Semaphore(max(1, limit))
        self.spacing = spacing
        self._next = -math.inf  # start time reserved for the next request
        self._last = -math.inf  # when the last request actually started
        self.paused_until = -math.inf

    def pause(self, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + min(seconds, MAX_PAUSE)
        self.paused_until = max(self.paused_until, until)

    async def _wait(self, max_wait: float, *, reserve: bool) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if self.paused_until - now > max_wait:
                raise Deferred(self.paused_until - now)
            start = max(now, self.paused_until, self._last + self.spacing)
            if reserve:
                # Claim a start slot before sleeping, so that waiters queue up one spacing
                # apart instead of all waking at the same instant.
                start = max(start, self._next)
                self._next = start + self.spacing
            if start <= now:
                return
            await asyncio.sleep(start - now)
            if reserve:
                return

    @asynccontextmanager
    async def turn(self, global_slots: asyncio.Semaphore, max_wait: float) -> AsyncIterator[None]:
        async with self._sem:
            # Wait for our slot before taking a global one, so that a slow or paused host does
            # not hold capacity the other hosts could use.
            await self._wait(max_wait, reserve=True)
            async with global_slots:
                await self._wait(max_wait, reserve=False)
                self._last = asyncio.get_running_loop().time()
                yield


@dataclass
class _Attempt:
    """What one probe has seen so far; becomes the ProbeResult."""

    url: str
    checked_at: datetime
    probe_url: str = ""
    chain: list[URL] = field(default_factory=list)
    status: int | None = None
    final_url: URL | None = None
    headers: CIMultiDictProxy[str] = field(default_factory=lambda: CIMultiDictProxy(CIMultiDict()))
    body: bytes = b""
    truncated: bool = False
    page: Page | None = None
    error: str = ""
    retry_after: float | None = None
    waited: float = 0.0
    requests: int = 0

    def fail(self, verdict: str, reason: str, rule: str, error: str | None = None) -> Finding:
        self.error = reason if error is None else error
        return Finding(verdict, reason, rule)

    def refuse(self, why: str) -> Finding:
        return self.fail(INCONCLUSIVE, f"refused: {why}", "refused")

    def result(self, finding: Finding, elapsed: float) -> ProbeResult:
        answered = self.status is not None
        kept = {k: v[:512] for k in KEPT_HEADERS if (v := self.headers.get(k)) is not None}
        page = self.page
        return ProbeResult(
            url=self.url,
            probe_url=self.probe_url or self.url,
            final_url=str(self.final_url or ""),
            http_status=self.status,
            redirect_chain=[str(u) for u in self.chain],
            headers=kept,
            body_sha256=hashlib.sha256(self.body).hexdigest() if answered else "",
            body_bytes=len(self.body),
            truncated=self.truncated,
            title=page.title if page and page.is_text else "",
            excerpt=page.excerpt if page else "",
            verdict=finding.verdict,
            reason=finding.reason,
            rule=finding.rule,
            error=self.error,
            elapsed_ms=max(0, round(elapsed * 1000)),
            retry_after=self.retry_after,
            checked_at=self.checked_at,
        )


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the body, and whether there was more (the rest is never read)."""
    buf = bytearray()
    while len(buf) <= limit:
        chunk = await response.content.read(min(64 * 1024, limit + 1 - len(buf)))
        if not chunk:
            break
        buf += chunk
    truncated = len(buf) > limit
    if truncated:
        response.close()  # drop the connection rather than drain an unbounded body
        del buf[limit:]
    return bytes(buf), truncated


def _transport_reason(exc: BaseException) -> tuple[str, str]:
    """(reason, rule) of a network failure: every one of them is inconclusive."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "timeout while connecting", "net.connect_timeout"
    if isinstance(exc, TimeoutError):
        return "timeout", "net.timeout"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"tls error: {exc}", "net.tls"
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerDisconnectedError | ConnectionError):
        return f"connection error: {exc}", "net.connection"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"broken body: {exc}", "net.broken_body"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"bad response: {exc.message}", "net.bad_response"
    return f"{type(exc).__name__}: {exc}", "net.other"


class Prober:
    """Async context manager owning one aiohttp session; ``probe`` one URL or ``probe_many``."""

    def __init__(self, config: ProbeConfig | None = None) -> None:
        self.config = config or ProbeConfig()
        self._session: aiohttp.ClientSession | None = None
        self._global: asyncio.Semaphore | None = None
        self._gates: dict[str, HostGate] = {}
        self._dns: dict[str, tuple[float, list[str]]] = {}
        self._dns_pending: dict[str, asyncio.Task[list[str]]] = {}
        self._dns_control: asyncio.Task[str | None] | None = None
        self._baselines: dict[str, asyncio.Task[Page | str]] = {}
        self.requests_sent = 0  # requests handed to aiohttp: refusals must leave it alone

    async def __aenter__(self) -> Prober:
        cfg = self.config
        connector = aiohttp.TCPConnector(
            resolver=VettedResolver(), use_dns_cache=False, limit=0, limit_per_host=0
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            timeout=aiohttp.ClientTimeout(
                total=cfg.total_timeout, connect=cfg.connect_timeout, sock_connect=cfg.connect_timeout
            ),
            headers={
                "User-Agent": cfg.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
                # Removal texts are matched in English; several platforms localise them.
                "Accept-Language": "en-US,en;q=0.9",
            },
            raise_for_status=False,
        )
        self._global = asyncio.Semaphore(max(1, cfg.concurrency))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -------------------------------------------------------------------------- one URL

    async def probe(self, url: str, rules: PlatformRules = DEFAULT_RULES) -> ProbeResult:
        """Never raises for anything the URL or the server does: every failure is a result."""
        if self._session is None:
            raise RuntimeError("use 'async with Prober(config) as prober'")
        rules = rules or DEFAULT_RULES
        attempt = _Attempt(url=url, checked_at=datetime.now(UTC))
        started = time.perf_counter()
        try:
            finding = await self._follow(attempt, url, rules, detector_for(rules.detector))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("probe of %s failed unexpectedly", url)
            finding = attempt.fail(
                INCONCLUSIVE, f"internal error: {type(exc).__name__}: {exc}", "internal_error"
            )
        return attempt.result(finding, time.perf_counter() - started - attempt.waited)

    async def _follow(self, a: _Attempt, url: str, rules: PlatformRules, detector: Detector) -> Finding:
        cfg = self.config
        try:
            requested = URL(url)
            check_shape(requested, cfg)
        except (ValueError, TypeError) as exc:
            return a.refuse(f"not a valid URL ({exc})")
        except Refused as exc:
            return a.refuse(str(exc))
        fetch = detector.rewrite(requested)
        a.probe_url = str(fetch)
        failed = await self._walk(a, requested, fetch, detector, rules)
        if failed is not None:
            return failed
        assert a.page is not None
        finding = decide(a.page, rules, detector)
        if finding.verdict == LIVE and detector.name == "generic" and cfg.soft404 and a.page.is_text:
            finding = await self._compare_with_random_path(a.page, finding)
        return finding

    async def _walk(
        self, a: _Attempt, requested: URL, fetch: URL, detector: Detector, rules: PlatformRules
    ) -> Finding | None:
        """Fetch ``fetch`` and follow its redirects, each hop vetted; leave the last answer in
        ``a.page``, or return why there is none (always inconclusive, but for a vanished
        domain of an unlisted host confirmed by the DNS control)."""
        cfg = self.config
        a.chain.append(fetch)
        limit = max(cfg.body_limit, detector.body_limit or 0)
        for hop in itertools.count():
            try:
                target = await vet(fetch, cfg, self._resolve)
            except Refused as exc:
                return a.refuse(str(exc) if hop == 0 else f"redirect to {fetch}: {exc}")
            except NameNotFound as exc:
                if hop == 0 and fetch == requested:
                    return await self._vanished_domain(a, rules, str(exc))
                return a.fail(
                    INCONCLUSIVE,
                    f"redirect to a domain that does not exist: {fetch.host}",
                    "dns.nxdomain.redirect_target",
                )
            except ResolutionFailed as exc:
                return a.fail(INCONCLUSIVE, str(exc), "dns.failure")
            try:
                location = await self._fetch(a, target, detector, limit)
            except Deferred as exc:
                a.retry_after = round(exc.remaining, 1)
                return a.fail(
                    INCONCLUSIVE,
                    f"deferred: {target.host_key} asked for a pause "
                    f"(Retry-After), {exc.remaining:.0f} s left; not contacted",
                    "deferred.retry_after",
                )
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                return a.fail(INCONCLUSIVE, *_transport_reason(exc))
            if location is None:
                break
            try:
                following = fetch.join(URL(location)).with_fragment(None)
            except (ValueError, TypeError):
                return a.fail(
                    INCONCLUSIVE, f"invalid redirect location {location[:200]!r}", "redirect.invalid"
                )
            a.chain.append(following)
            if wall_kind(following):
                break  # never worth fetching; decide() reads the chain
            if hop >= cfg.max_redirects:
                return a.fail(
                    INCONCLUSIVE, f"too many redirects (more than {cfg.max_redirects})", "redirect.too_many"
                )
            fetch = following
        a.page = Page(
            requested=requested,
            url=a.final_url or fetch,
            status=a.status or 0,
            headers=a.headers,
            body=a.body,
            chain=a.chain,
            truncated=a.truncated,
            rewritten=a.probe_url != str(requested),
        )
        return None

    async def _vanished_domain(self, a: _Attempt, rules: PlatformRules, error: str) -> Finding:
        """NXDOMAIN for the item's own host. A removal only for an unlisted host, and only when
        the same resolver answered for a control name in this run: a resolver that answers
        nothing (no network, a broken /etc/resolv.conf) makes every name look vanished."""
        if rules.on_registry:
            return a.fail(
                INCONCLUSIVE,
                "dns: a registry platform's host did not resolve; a resolver problem, not a removal",
                "dns.nxdomain.registry_host",
                error,
            )
        control = await self.dns_control()
        if control is None:
            return a.fail(
                INCONCLUSIVE,
                "dns: domain not found, but no control name resolved in this run either",
                "dns.nxdomain.control_failed",
                error,
            )
        if not self.config.nxdomain_means_removed:
            return a.fail(
                INCONCLUSIVE,
                f"dns: domain not found (the resolver answered for {control}), but a vanished "
                "domain is not read as a removal here (the resolver may filter)",
                "dns.nxdomain.not_trusted",
                error,
            )
        return a.fail(
            REMOVED,
            f"domain does not exist (NXDOMAIN); the resolver answered for {control} in the same run",
            "dns.nxdomain.confirmed",
            error,
        )

    async def dns_control(self) -> str | None:
        """The first control name the resolver answered for in this run (looked up once per
        Prober), or None when none did."""
        if self._dns_control is None:
            self._dns_control = asyncio.get_running_loop().create_task(self._check_control())
        return await asyncio.shield(self._dns_control)

    async def _check_control(self) -> str | None:
        cfg = self.config
        for name in cfg.dns_control:
            try:
                if await resolve_host(name, cfg.resolver, cfg.connect_timeout):
                    return name
            except (NameNotFound, ResolutionFailed):
                continue
        return None

    async def _compare_with_random_path(self, page: Page, finding: Finding) -> Finding:
        """A 2xx page of a host without a detector, against the host's answer for a random
        path (fetched once per host per run, under the same safety and politeness rules)."""
        base = page.chain[0]
        key = host_key(base)
        task = self._baselines.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._fetch_random_path(base))
            self._baselines[key] = task
        # Every item of a host after the first finds the baseline ready: no trip through the loop.
        baseline = task.result() if task.done() else await asyncio.shield(task)
        if isinstance(baseline, str):
            return Finding(LIVE, f"{finding.reason}; no soft-404 baseline ({baseline})", finding.rule)
        return soft404(page, baseline)

    async def _fetch_random_path(self, url: URL) -> Page | str:
        token = secrets.token_hex(12)
        random_url = url.with_path(f"/{token}").with_query(None).with_fragment(None)
        a = _Attempt(url=str(random_url), checked_at=datetime.now(UTC))
        generic = detector_for("generic")
        failed = await self._walk(a, random_url, random_url, generic, DEFAULT_RULES)
        if failed is not None:
            return failed.reason
        assert a.page is not None
        return a.page

    async def _fetch(self, a: _Attempt, target: Target, detector: Detector, limit: int) -> str | None:
        """Make one request; record the answer in ``a``; return the Location to follow, if any."""
        cfg = self.config
        assert self._session is not None and self._global is not None
        gate = self._gates.get(target.host_key)
        if gate is None:
            gate = self._gates[target.host_key] = HostGate(cfg.per_host, cfg.per_host_spacing)
        queued = time.perf_counter()
        async with gate.turn(self._global, cfg.max_retry_wait):
            a.waited += time.perf_counter() - queued
            if a.requests == 0:
                a.checked_at = datetime.now(UTC)
            a.requests += 1
            self.requests_sent += 1
            with connecting_to(target):
                async with asyncio.timeout(cfg.total_timeout):
                    async with self._session.get(
                        target.url, allow_redirects=False, headers=detector.request_headers(target.url)
                    ) as response:
                        a.status, a.final_url, a.headers = response.status, target.url, response.headers
                        a.body, a.truncated = b"", False
                        self._note_pause(gate, response, a)
                        location = response.headers.get("Location")
                        if response.status in REDIRECT_STATUSES and location:
                            return location
                        a.body, a.truncated = await read_capped(response, limit)
                        return None

    def _note_pause(self, gate: HostGate, response: aiohttp.ClientResponse, a: _Attempt) -> None:
        if response.status not in (429, 503):
            return
        seconds = parse_retry_after(response.headers.get("Retry-After"))
        if seconds is not None:
            a.retry_after = seconds
            gate.pause(seconds)
        elif response.status == 429:
            gate.pause(self.config.rate_limit_pause)

    async def _resolve(self, host: str) -> list[str]:
        """Addresses of host, cached briefly and looked up once however many probes ask at once.
        The cache holds raw answers: every use is vetted again."""
        cfg = self.config
        loop = asyncio.get_running_loop()
        hit = self._dns.get(host)
        if hit is not None and hit[0] > loop.time():
            return hit[1]
        task = self._dns_pending.get(host)
        if task is None:
            task = loop.create_task(resolve_host(host, cfg.resolver, cfg.connect_timeout))
            self._dns_pending[host] = task

            def remember(done: asyncio.Task[list[str]]) -> None:
                self._dns_pending.pop(host, None)
                if not done.cancelled() and done.exception() is None and cfg.dns_cache_ttl > 0:
                    self._dns[host] = (loop.time() + cfg.dns_cache_ttl, done.result())

            task.add_done_callback(remember)
        return await asyncio.shield(task)

    # ------------------------------------------------------------------------ many URLs

    async def probe_many(
        self, items: Iterable[tuple[K, str, PlatformRules | None]]
    ) -> AsyncIterator[tuple[K, ProbeResult]]:
        """(key, result) pairs as probes finish. Items are interleaved across hosts and at most
        a bounded window of them is in progress, so a batch dominated by one host cannot starve
        the others, and memory stays flat for large batches."""
        window = max(16, 4 * self.config.concurrency)
        queue = self._interleave(items)
        finished: asyncio.Queue[asyncio.Task[tuple[K, ProbeResult]]] = asyncio.Queue()
        running: set[asyncio.Task[tuple[K, ProbeResult]]] = set()

        def start_next(count: int) -> int:
            started = 0
            for key, url, rules in itertools.islice(queue, count):
                task = asyncio.ensure_future(self._keyed(key, url, rules))
                running.add(task)
                task.add_done_callback(running.discard)
                task.add_done_callback(finished.put_nowait)
                started += 1
            return started

        # A queue fed by done-callbacks rather than asyncio.wait(): wait() re-registers a
        # callback on every pending task each time it is called, quadratic in the window.
        outstanding = start_next(window)
        try:
            while outstanding:
                task = await finished.get()
                outstanding += start_next(1) - 1
                yield task.result()
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _keyed(self, key: K, url: str, rules: PlatformRules) -> tuple[K, ProbeResult]:
        return key, await self.probe(url, rules)

    @staticmethod
    def _interleave(
        items: Iterable[tuple[K, str, PlatformRules | None]],
    ) -> Iterator[tuple[K, str, PlatformRules]]:
        groups: dict[str, deque[tuple[K, str, PlatformRules]]] = {}
        for key, url, rules in items:
            rules = rules or DEFAULT_RULES
            try:
                group = host_key(detector_for(rules.detector).rewrite(URL(url)))
            except Exception:
                group = ""
            groups.setdefault(group, deque()).append((key, url, rules))
        queues = list(groups.values())
        while queues:
            for q in queues:
                yield q.popleft()
            queues = [q for q in queues if q]


# ------------------------------------------------------------------------ sync wrappers


def run_probes(
    items: Iterable[tuple[K, str, PlatformRules | None]], config: ProbeConfig | None = None
) -> list[tuple[K, ProbeResult]]:
    """probe_many from synchronous code (a django-q2 task, a command). Not inside a running loop."""

    async def main() -> list[tuple[K, ProbeResult]]:
        async with Prober(config) as prober:
            return [pair async for pair in prober.probe_many(items)]

    return asyncio.run(main())


def probe_urls(
    urls: Iterable[str],
    config: ProbeConfig | None = None,
    rules_for: Callable[[str], PlatformRules | None] | None = None,
) -> list[ProbeResult]:
    """Results in the order of ``urls``."""
    items: list[tuple[int, str, PlatformRules | None]] = [
        (i, u, rules_for(u) if rules_for else None) for i, u in enumerate(urls)
    ]
    results: list[Any] = [None] * len(items)
    for i, result in run_probes(items, config):
        results[i] = result
    return results
