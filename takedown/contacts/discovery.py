"""Who can take a site's content down: discovery for one host, without the database.

For a host that no registry platform covers: the addresses it resolves to (vetted like every
probe), whether they are a CDN's published ranges (then the CDN is the first recipient), the
abuse contact of each network from RDAP (RFC 9082/9083, server chosen by the IANA bootstrap
registries, RFC 9224), the registrar and its abuse contact from the domain's RDAP, and the
site's own security.txt (RFC 9116). Each finding keeps its source, the URL asked and the
SHA-256 of the raw answer. A source that misbehaves (timeout, 429, malformed JSON, a redirect
to a private address) is a step whose outcome is "unknown", never an exception.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from ipaddress import ip_address

from yarl import URL

from takedown.contacts import parsing
from takedown.contacts.bootstrap import Bootstrap
from takedown.contacts.fetching import Answer, SafeClient
from takedown.probing.safety import NameNotFound, Refused, ResolutionFailed, resolve_host, vet
from takedown.probing.types import ProbeConfig
from takedown.urltools import embedded_ipv4, registrable_domain

# The order a notice for a host no registry platform covers goes up the ladder: the CDN in front
# of the site, the network that hosts it, the domain's registrar. The site's own security.txt
# contact comes last: the site's operator (often the one who posted the content) chose it, so it
# is shown for information and is a recipient only when staff record it themselves.
RUNGS = ("cdn", "host", "registrar", "site")

CDN_RANGES, RDAP_NETWORK, RDAP_DOMAIN, SECURITY_TXT = (
    "cdn_ranges",
    "rdap_network",
    "rdap_domain",
    "security_txt",
)
FOUND, NONE, UNKNOWN = "found", "none", "unknown"
MAX_ADDRESSES = 3  # round-robin records of one site sit in one or two networks
RDAP_ACCEPT = "application/rdap+json, application/json;q=0.9"


@dataclass(frozen=True)
class Found:
    rung: str
    name: str
    email: str
    url: str
    source: str
    source_url: str
    sha256: str
    note: str = ""


@dataclass(frozen=True)
class Step:
    source: str
    url: str
    outcome: str  # found, none, unknown
    detail: str
    sha256: str = ""


@dataclass
class Discovery:
    host: str
    origin: str
    addresses: list[str] = field(default_factory=list)
    contacts: list[Found] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_dict(self) -> dict:
        data = asdict(self)
        data["checked_at"] = self.checked_at.isoformat()
        return data


def origin_of(target: str) -> URL:
    """The site's origin from a URL or a bare host name (https then)."""
    target = target.strip()
    if "://" not in target and not re.fullmatch(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]", target):
        raise ValueError(f"{target[:100]!r} is not a host name or an http(s) URL")
    url = URL(target if "://" in target else f"https://{target}/")
    if url.raw_user is not None or url.raw_password is not None:
        raise ValueError(f"{target[:100]!r} carries credentials: not a host name or an http(s) URL")
    if url.scheme not in ("http", "https") or not url.raw_host:
        raise ValueError(f"{target[:100]!r} is not a host name or an http(s) URL")
    return url.with_path("/").with_query(None).with_fragment(None).with_user(None)


def _why(answer: Answer) -> str:
    if answer.status == 429:
        return "rate limited (HTTP 429)"
    return answer.error or f"HTTP {answer.status}"


def _parties(
    found: list[Found], parties, *, rung: str, name: str, source: str, answer: Answer, note: str = ""
):
    for party in parties:
        found.append(
            Found(
                rung=rung,
                name=(name or party.name or party.handle)[:200],
                email=party.emails[0] if party.emails else "",
                url=party.links[0] if party.links else "",
                source=source,
                source_url=answer.final_url[:500],
                sha256=answer.sha256,
                note=note,
            )
        )


async def _network(client: SafeClient, data: Bootstrap, address: str, result: Discovery) -> None:
    cdn = data.cdn_for(address)
    if cdn is not None:
        digest = hashlib.sha256(f"{cdn.slug} {cdn.published} {address}".encode()).hexdigest()
        if not any(c.source == CDN_RANGES and c.name == cdn.name for c in result.contacts):
            result.contacts.append(
                Found(
                    rung="cdn",
                    name=cdn.name,
                    email="",
                    url=cdn.abuse_form,
                    source=CDN_RANGES,
                    source_url=cdn.source,
                    sha256=digest,
                    note=f"{address} is in {cdn.name}'s published ranges ({cdn.published}); the "
                    "hosting provider behind it is not visible, and the CDN forwards reports to it.",
                )
            )
        result.steps.append(Step(CDN_RANGES, cdn.source, FOUND, f"{address}: {cdn.name}", digest))
        return
    base = data.rdap_for_address(address)
    if base is None:
        result.steps.append(Step(RDAP_NETWORK, "", UNKNOWN, f"{address}: no RDAP server in the bootstrap"))
        return
    answer = await client.get(f"{base}ip/{embedded_ipv4(ip_address(address))}", accept=RDAP_ACCEPT)
    if not answer.ok:
        result.steps.append(
            Step(RDAP_NETWORK, answer.url, UNKNOWN, f"{address}: {_why(answer)}", answer.sha256)
        )
        return
    try:
        network = parsing.read_network(answer.body)
    except parsing.Malformed as exc:
        result.steps.append(Step(RDAP_NETWORK, answer.url, UNKNOWN, f"{address}: {exc}", answer.sha256))
        return
    label = network.holder or network.network
    if not network.abuse:
        result.steps.append(
            Step(RDAP_NETWORK, answer.final_url, NONE, f"{address}: {label}, no abuse contact", answer.sha256)
        )
        return
    _parties(result.contacts, network.abuse, rung="host", name=label, source=RDAP_NETWORK, answer=answer,
             note=f"abuse contact of network {network.network} for {address}")  # fmt: skip
    result.steps.append(Step(RDAP_NETWORK, answer.final_url, FOUND, f"{address}: {label}", answer.sha256))


def _registered_domain(host: str) -> str:
    """The domain a registrar registered: the ICANN section of the Public Suffix List (the
    private section's "duckdns.org" or "azurewebsites.net" subdomains are no registry's)."""
    return parsing._icann().privatesuffix(host) or registrable_domain(host)


async def _registrar(client: SafeClient, data: Bootstrap, host: str, result: Discovery) -> None:
    domain = _registered_domain(host)
    base = data.rdap_for_domain(domain)
    if base is None:
        result.steps.append(
            Step(RDAP_DOMAIN, "", UNKNOWN, f"{domain}: no RDAP server for its TLD in the bootstrap")
        )
        return
    answer = await client.get(f"{base}domain/{domain}", accept=RDAP_ACCEPT)
    if not answer.ok:
        result.steps.append(
            Step(RDAP_DOMAIN, answer.url, UNKNOWN, f"{domain}: {_why(answer)}", answer.sha256)
        )
        return
    try:
        reply = parsing.read_domain(answer.body)
    except parsing.Malformed as exc:
        result.steps.append(Step(RDAP_DOMAIN, answer.url, UNKNOWN, f"{domain}: {exc}", answer.sha256))
        return
    if not reply.abuse:
        detail = f"{domain}: registrar {reply.registrar or 'not named'}, no abuse contact"
        result.steps.append(Step(RDAP_DOMAIN, answer.final_url, NONE, detail, answer.sha256))
        return
    note = f"registrar of {domain}" + (f" (IANA ID {reply.iana_id})" if reply.iana_id else "")
    _parties(result.contacts, reply.abuse, rung="registrar", name=reply.registrar, source=RDAP_DOMAIN,
             answer=answer, note=note)  # fmt: skip
    result.steps.append(
        Step(RDAP_DOMAIN, answer.final_url, FOUND, f"{domain}: {reply.registrar}", answer.sha256)
    )


def security_txt_url(origin: URL) -> str:
    """RFC 9116 §3: the file is fetched over https only. An https origin keeps its port; an
    http one is asked on https's own port (its plain port speaks no TLS)."""
    if origin.scheme == "https":
        return str(origin.with_path("/.well-known/security.txt"))
    return str(
        URL.build(scheme="https", host=origin.raw_host or "", path="/.well-known/security.txt", encoded=True)
    )


async def _security_txt(client: SafeClient, origin: URL, result: Discovery) -> None:
    url = security_txt_url(origin)
    answer = await client.get(url, accept="text/plain", https_only=True)
    if answer.status == 404:
        result.steps.append(Step(SECURITY_TXT, url, NONE, "no security.txt", answer.sha256))
        return
    if not answer.ok:
        result.steps.append(Step(SECURITY_TXT, url, UNKNOWN, _why(answer), answer.sha256))
        return
    emails, links = parsing.read_security_txt(answer.body)
    if not emails and not links:
        result.steps.append(Step(SECURITY_TXT, answer.final_url, NONE, "no Contact: field", answer.sha256))
        return
    try:
        expires = parsing.security_txt_expires(answer.body)
    except parsing.Malformed as exc:
        # An Expires: nobody can read cannot say the file is current: its contacts are not used.
        detail = f"{exc} (RFC 9116 §2.5.5): the file cannot be trusted, its contacts are not used"
        result.steps.append(Step(SECURITY_TXT, answer.final_url, NONE, detail, answer.sha256))
        return
    if expires is not None and expires <= result.checked_at:
        # RFC 9116 §2.5.5: an expired file's data is not to be used; the site said so itself.
        detail = f"expired on {expires:%Y-%m-%d %H:%M} UTC (RFC 9116): its contacts are not used"
        result.steps.append(Step(SECURITY_TXT, answer.final_url, NONE, detail, answer.sha256))
        return
    for email in emails:
        result.contacts.append(
            Found("site", result.host, email, "", SECURITY_TXT, answer.final_url, answer.sha256)
        )
    for link in links:
        result.contacts.append(
            Found("site", result.host, "", link, SECURITY_TXT, answer.final_url, answer.sha256)
        )
    detail = f"{len(emails) + len(links)} contact(s)"
    if expires is None:
        detail += "; no valid Expires: field (RFC 9116 requires one)"
    result.steps.append(Step(SECURITY_TXT, answer.final_url, FOUND, detail, answer.sha256))


async def discover(target: str, *, config: ProbeConfig, data: Bootstrap) -> Discovery:
    """Everything discovery finds for the host of ``target`` (a URL or a host name).

    Raises ValueError only for a target that is not a host or an http(s) URL; everything the
    network or a server does is a step of the result.
    """
    origin = origin_of(target)
    host = (origin.raw_host or "").lower().rstrip(".")
    result = Discovery(host=host, origin=str(origin))

    async def resolve(name: str) -> list[str]:
        return await resolve_host(name, config.resolver, config.connect_timeout)

    try:
        vetted = await vet(origin, config, resolve)
    except Refused as exc:
        result.steps.append(Step("dns", host, UNKNOWN, f"refused: {exc}"))
        return result
    except (NameNotFound, ResolutionFailed) as exc:
        result.steps.append(Step("dns", host, UNKNOWN, str(exc)))
        return result
    result.addresses = sorted(vetted.addresses, key=lambda a: (":" in a, a))
    result.steps.append(Step("dns", host, FOUND, ", ".join(result.addresses)))
    async with SafeClient(config) as client:
        # One after another: three or four small requests, and a stable order of findings.
        # Each coroutine is made only when its turn comes, so a discovery cut short by its time
        # budget leaves none behind unawaited.
        steps = [
            functools.partial(_network, client, data, a, result) for a in result.addresses[:MAX_ADDRESSES]
        ]
        if not _is_ip(host):
            steps.append(functools.partial(_registrar, client, data, host, result))
        steps.append(functools.partial(_security_txt, client, origin, result))
        for step in steps:
            await step()
    result.contacts = _dedupe(result.contacts)
    return result


def _is_ip(host: str) -> bool:
    return host.startswith("[") or host.replace(".", "").isdigit() or ":" in host


def _dedupe(found: list[Found]) -> list[Found]:
    seen, kept = set(), []
    for f in sorted(found, key=lambda f: RUNGS.index(f.rung)):
        key = (f.rung, f.email, f.url)
        if key not in seen:
            seen.add(key)
            kept.append(f)
    return kept


def run(target: str, *, config: ProbeConfig, data: Bootstrap, timeout: float | None = None) -> Discovery:
    """discover() from synchronous code (a command, a task, a request), cut short after
    ``timeout`` seconds: then one "unknown" step says so and nothing found is kept (a partial
    answer would retire contacts whose source was merely not reached)."""

    async def bounded() -> Discovery:
        try:
            async with asyncio.timeout(timeout):
                return await discover(target, config=config, data=data)
        except TimeoutError:
            origin = origin_of(target)
            host = (origin.raw_host or "").lower().rstrip(".")
            why = f"no complete answer within the time budget ({timeout:.0f} s); asked again later"
            return Discovery(host=host, origin=str(origin), steps=[Step("discovery", host, UNKNOWN, why)])

    return asyncio.run(bounded())
