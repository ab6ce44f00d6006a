"""What goes into a probe and what comes out of it: plain data, no I/O."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from takedown.choices import Verdict

LIVE = Verdict.LIVE.value
REMOVED = Verdict.REMOVED.value
LEGALLY_BLOCKED = Verdict.LEGALLY_BLOCKED.value
SOFT_REMOVED = Verdict.SOFT_REMOVED.value
RESTRICTED = Verdict.RESTRICTED.value
INCONCLUSIVE = Verdict.INCONCLUSIVE.value

# Page-text marker kinds, in the order they are tried: a page that shows both a wall and a
# removal text did not show us the item, and a false "removed" closes a case while the abuse
# stays up, so the cautious verdicts win.
MARKER_KINDS = (INCONCLUSIVE, LEGALLY_BLOCKED, REMOVED, SOFT_REMOVED, RESTRICTED)
REDIRECT_MARKER_KIND = "removed_redirects"

Resolver = Callable[[str], Awaitable[list[str]]]


class Finding(NamedTuple):
    """A verdict, the human sentence behind it, and the rule that decided it.

    ``rule`` is a stable identifier ("status.404", "youtube.playability.ERROR",
    "dns.nxdomain.confirmed", "soft404.same_as_random_path", "marker.removed@<zone>") stored
    with the evidence, so that every verdict can be traced to the one rule that produced it.
    """

    verdict: str
    reason: str
    rule: str = ""


@dataclass(frozen=True)
class PlatformRules:
    """Per-platform verdict data, copied from the Platform row so staff can fix it without a release.

    ``markers`` maps a verdict ("removed", "soft_removed", "restricted", "legally_blocked",
    "inconclusive") to page texts, matched case-insensitively after HTML unescaping and
    whitespace/apostrophe folding, and "removed_redirects" to regexes searched in every redirect
    target of the chain.
    """

    detector: str = "generic"
    markers: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # The URL belongs to a registry platform (a Platform row): a network failure on its host
    # is never read as a removal, whatever the resolver says.
    registry: bool = False

    @property
    def on_registry(self) -> bool:
        return self.registry or self.detector != "generic"

    def problems(self) -> list[str]:
        """What is wrong with this data (for a model's clean()); empty when usable as is."""
        from takedown.probing.detectors import DETECTORS
        from takedown.probing.verdicts import marker_problem

        found = []
        if self.detector not in DETECTORS:
            found.append(f"unknown detector {self.detector!r} (known: {', '.join(sorted(DETECTORS))})")
        for key, values in self.markers.items():
            if key not in (*MARKER_KINDS, REDIRECT_MARKER_KIND):
                found.append(f"unknown marker kind {key!r}")
                continue
            if isinstance(values, str) or not all(isinstance(v, str) and v.strip() for v in values):
                found.append(f"{key}: expected a list of non-empty strings")
                continue
            if key != REDIRECT_MARKER_KIND:
                for v in values:
                    if problem := marker_problem(key, v, DETECTORS.get(self.detector)):
                        found.append(f"{key}: {problem}")
            if key == REDIRECT_MARKER_KIND:
                for pattern in values:
                    try:
                        re.compile(pattern)
                    except re.error as exc:
                        found.append(f"{key}: bad regex {pattern!r}: {exc}")
        return found


DEFAULT_RULES = PlatformRules()


@dataclass(frozen=True)
class ProbeConfig:
    allow_loopback: bool = False  # tests and benchmarks only; never private ranges or metadata
    allowed_ports: frozenset[int] = frozenset({80, 443})
    max_redirects: int = 5
    body_limit: int = 256 * 1024
    connect_timeout: float = 5.0
    total_timeout: float = 15.0  # per request (hop), not counting time queued for politeness
    # Honest and identifiable; deployments should append their contact URL ("+https://...").
    user_agent: str = "takedown-recheck/1.0 (removal verification)"
    concurrency: int = 80  # requests in flight, all hosts
    per_host: int = 4  # requests in flight to one host
    per_host_spacing: float = 0.0  # seconds between request starts to one host
    max_retry_wait: float = 60.0  # a Retry-After longer than this defers the host instead of waiting
    rate_limit_pause: float = 5.0  # pause after a 429 that gave no Retry-After
    dns_cache_ttl: float = 30.0
    resolver: Resolver | None = None  # async host -> addresses; None = the system resolver
    # Test hook: addresses to treat as public, so that a loopback server can stand in for a
    # public host while allow_loopback stays off and every other loopback address is refused.
    treat_as_public: frozenset[str] = frozenset()
    # Names that must resolve: looked up once per run through the same resolver. Unless one of
    # them answered, a vanished domain is a resolver problem, never a removal.
    dns_control: tuple[str, ...] = ("www.iana.org", "www.wikipedia.org")
    # Read a vanished domain of an unlisted host (NXDOMAIN, control name answered) as removed.
    # Safe only behind an unfiltered resolver: filtering resolvers (Quad9, ISP and corporate
    # filters) answer NXDOMAIN for the adult sites they block, and the control name proves
    # only that the resolver answers. Off: such a domain is inconclusive.
    nxdomain_means_removed: bool = True
    # Compare 2xx answers of hosts without a detector with the host's answer for a random path
    # (one fetch per host per run): the same page is a "not found" page served with 200.
    soft404: bool = True


@dataclass
class ProbeResult:
    url: str  # as asked
    probe_url: str  # first URL fetched: ``url`` or the detector's truthful endpoint for it
    final_url: str  # last URL that answered
    http_status: int | None
    # Every URL of the chain in order, from ``probe_url``; a redirect target that was refused
    # or not followed (login page, too many hops) is the last entry.
    redirect_chain: list[str]
    headers: dict[str, str]
    body_sha256: str  # of the bytes read (at most the body limit)
    body_bytes: int
    truncated: bool  # the body was longer than the limit
    title: str
    excerpt: str
    verdict: str
    reason: str
    rule: str  # the rule that decided the verdict (Finding.rule)
    error: str
    elapsed_ms: int
    retry_after: float | None
    checked_at: datetime

    @property
    def conclusive(self) -> bool:
        return self.verdict != INCONCLUSIVE

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["checked_at"] = self.checked_at.isoformat()
        return data
