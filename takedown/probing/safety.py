"""Where a probe may connect: http(s), an allowed port, public addresses only.

Every hop of every probe goes through ``vet`` before a socket is opened. A hostname is
resolved once, here, and every A and AAAA record must be public; aiohttp then gets exactly
those addresses from ``VettedResolver`` (it never resolves on its own), so a DNS answer
that changes between the check and the connect — DNS rebinding — has nothing to slip into.
Host header and TLS SNI stay the hostname because aiohttp is still given the hostname URL.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from types import MappingProxyType

from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from takedown.probing.types import ProbeConfig, Resolver
from takedown.urltools import is_public_ip

IPAddress = IPv4Address | IPv6Address


class Refused(Exception):
    """The request must not be made; str() says why."""


class NameNotFound(Exception):
    """The name does not exist (NXDOMAIN): a site that no longer exists."""


class ResolutionFailed(Exception):
    """A resolver failure that says nothing about the site (SERVFAIL, timeout, no network)."""


@dataclass(frozen=True)
class Target:
    url: URL
    host: str  # as aiohttp will look it up: url.raw_host (IDNA-encoded)
    port: int
    addresses: tuple[str, ...]

    @property
    def host_key(self) -> str:
        return host_key(self.url)


def host_key(url: URL) -> str:
    """What politeness limits count by: the host, with its port when not the scheme's default."""
    host = (url.raw_host or "").lower()
    return host if url.is_default_port() else f"{host}:{url.port}"


# WHATWG "ends in a number": such a host is an IPv4 address to a browser (and to inet_aton),
# never a DNS name, however it is spelled.
_NUMBER = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")


def _ipv4_number(part: str) -> int | None:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if not part.isdigit() or not part.isascii():
        return None
    if len(part) > 1 and part[0] == "0":
        return int(part, 8) if set(part) <= set("01234567") else None
    return int(part)


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL host names literally, or None for a DNS name.

    IPv4 is read the way inet_aton and browsers read it (decimal, octal, hex, 1 to 4 parts),
    so that 2130706433, 0x7f.1 and 0177.0.0.1 are all seen as 127.0.0.1; anything but the
    canonical dotted quad is then refused outright: no public site needs another spelling.
    """
    if ":" in host:
        if "%" in host:
            raise Refused("scoped IPv6 literal")
        try:
            return IPv6Address(host)
        except ValueError:
            raise Refused(f"malformed IPv6 literal {host!r}") from None
    try:
        return IPv4Address(host)  # the canonical dotted quad, the common case
    except ValueError:
        pass
    bare = host[:-1] if host.endswith(".") else host
    parts = bare.split(".")
    if not _NUMBER.fullmatch(parts[-1]):
        return None
    numbers = [_ipv4_number(p) for p in parts] if len(parts) <= 4 else [None]
    if any(n is None for n in numbers):
        raise Refused(f"malformed IPv4 literal {host!r}")
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):  # type: ignore[operator]
        raise Refused(f"malformed IPv4 literal {host!r}")
    value = last + sum(n << (8 * (3 - i)) for i, n in enumerate(head))  # type: ignore[operator]
    address = IPv4Address(value)
    if str(address) != host:
        raise Refused(f"non-canonical IPv4 literal {host!r} (means {address})")
    return address


# Plain loopback only: not ::ffff:127.0.0.1 and friends, whose is_loopback answer changed in
# Python 3.13 — the test-only loophole must stay exactly this narrow.
def is_plain_loopback(address: IPAddress) -> bool:
    if address.version == 4:
        return int(address) >> 24 == 127
    return address == IPv6Address("::1")


def address_allowed(address: IPAddress, config: ProbeConfig) -> bool:
    if str(address) in config.treat_as_public:
        return True
    if config.allow_loopback and is_plain_loopback(address):
        return True
    return is_public_ip(address)


def check_shape(url: URL, config: ProbeConfig) -> None:
    """Refuse what no resolution can make safe: scheme, credentials, port, missing host."""
    if url.scheme not in ("http", "https"):
        raise Refused(f"scheme {url.scheme or '(none)'!r} is not http or https")
    if url.raw_user is not None or url.raw_password is not None:
        raise Refused("credentials in URL")
    if not url.raw_host:
        raise Refused("no host")
    if url.port not in config.allowed_ports:
        raise Refused(f"port {url.port} is not allowed")


async def system_resolve(host: str) -> list[str]:
    """Every A and AAAA record of host (getaddrinfo, both families)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve_host(host: str, resolver: Resolver | None, timeout: float) -> list[str]:
    try:
        async with asyncio.timeout(timeout):
            return await (resolver or system_resolve)(host)
    except socket.gaierror as exc:
        # EAI_NONAME is NXDOMAIN (or no such name); EAI_AGAIN, EAI_FAIL and the rest are the
        # resolver's trouble, not the site's.
        if exc.errno == socket.EAI_NONAME:
            raise NameNotFound(f"dns: {host} does not exist") from exc
        raise ResolutionFailed(f"dns: {exc.strerror or exc}") from exc
    except TimeoutError:
        raise ResolutionFailed("dns: timeout") from None
    except OSError as exc:
        raise ResolutionFailed(f"dns: {exc}") from exc


async def vet(url: URL, config: ProbeConfig, resolve: Resolver) -> Target:
    """A Target to connect to, or Refused (no connection may be made) / NameNotFound /
    ResolutionFailed. ``resolve`` is called only for DNS names."""
    check_shape(url, config)
    host = url.raw_host
    assert host is not None
    literal = ip_literal(host)
    if literal is not None:
        if not address_allowed(literal, config):
            raise Refused(f"address {literal} is not public")
        return Target(url, host, url.port or 0, (str(literal),))
    if not all(c.isascii() and (c.isalnum() or c in "-._") for c in host):
        raise Refused(f"invalid host name {host!r}")
    addresses: list[str] = []
    for raw in await resolve(host.rstrip(".")):
        try:
            address = ip_address(raw)
        except ValueError:
            raise Refused(f"{host} resolved to a malformed address {raw!r}") from None
        if not address_allowed(address, config):
            raise Refused(f"{host} resolves to non-public address {address}")
        addresses.append(str(address))
    if not addresses:
        raise ResolutionFailed(f"dns: no address for {host}")
    return Target(url, host, url.port or 0, tuple(addresses))


# The addresses vetted for the request being made in this task. A context variable rather
# than shared state: concurrent probes each see only what they vetted themselves.
_vetted: contextvars.ContextVar[Mapping[str, tuple[str, ...]]] = contextvars.ContextVar(
    "probe_vetted", default=MappingProxyType({})
)


@contextmanager
def connecting_to(target: Target) -> Iterator[None]:
    token = _vetted.set({target.host: target.addresses})
    try:
        yield
    finally:
        _vetted.reset(token)


class VettedResolver(AbstractResolver):
    """Answers aiohttp's lookups with the vetted addresses only; an unvetted name fails."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = _vetted.get().get(host)
        if not addresses:
            raise OSError(f"refused: {host} was not vetted for this request")
        results: list[ResolveResult] = []
        for address in addresses:
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family in (0, socket.AF_UNSPEC) or family == fam:
                results.append(
                    ResolveResult(
                        hostname=host,
                        host=address,
                        port=port,
                        family=fam,
                        proto=0,
                        flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                    )
                )
        if not results:
            raise OSError(f"no vetted {family.name} address for {host}")
        return results

    async def close(self) -> None:
        return None
