"""Which RDAP server answers for an address or a domain (RFC 9224), and whose network an
address is on (published CDN ranges): data shipped with the code, refreshed by a command.

Pure: no database, no network. The files are IANA's own (dns.json, ipv4.json, ipv6.json,
asn.json) and a small cdn.json; `data/SOURCES.md` says where each came from and when.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from pathlib import Path

from takedown.urltools import embedded_ipv4

SHIPPED = Path(__file__).resolve().parent / "data"
KINDS = ("dns", "ipv4", "ipv6", "asn")


class BootstrapError(Exception):
    """A bootstrap or ranges file is missing or not what RFC 9224 describes."""


@dataclass(frozen=True)
class Cdn:
    slug: str
    name: str
    platform: str  # the registry platform it corresponds to, if any
    abuse_form: str
    abuse_form_source: str
    source: str
    published: str
    networks: tuple


@dataclass(frozen=True)
class Bootstrap:
    """The four registries and the CDN ranges, with their publication dates."""

    services: dict  # kind -> list of (entries, urls)
    published: dict  # kind -> publication date as stated in the file
    cdns: tuple[Cdn, ...]
    directory: str

    # ------------------------------------------------------------------ lookups

    def rdap_for_address(self, address: str) -> str | None:
        """The base URL of the RDAP server for this address (longest prefix wins)."""
        addr = embedded_ipv4(ip_address(address))
        kind = "ipv4" if isinstance(addr, IPv4Address) else "ipv6"
        best, best_len = None, -1
        for entries, urls in self.services.get(kind, ()):
            for entry in entries:
                try:
                    net = ip_network(entry if "/" in entry else f"{entry}.0.0.0/8", strict=False)
                except ValueError:
                    continue
                if addr.version == net.version and addr in net and net.prefixlen > best_len:
                    best, best_len = urls, net.prefixlen
        return _prefer_https(best)

    def rdap_for_domain(self, domain: str) -> str | None:
        """The base URL of the RDAP server for this domain (the longest matching label suffix)."""
        labels = domain.lower().rstrip(".").split(".")
        table = {entry.lower(): urls for entries, urls in self.services.get("dns", ()) for entry in entries}
        for i in range(len(labels)):
            urls = table.get(".".join(labels[i:]))
            if urls:
                return _prefer_https(urls)
        return None

    def cdn_for(self, address: str) -> Cdn | None:
        addr: IPv4Address | IPv6Address = embedded_ipv4(ip_address(address))
        for cdn in self.cdns:
            if any(addr.version == net.version and addr in net for net in cdn.networks):
                return cdn
        return None


def _prefer_https(urls: list[str] | None) -> str | None:
    if not urls:
        return None
    for url in urls:
        if url.startswith("https://"):
            return url if url.endswith("/") else url + "/"
    url = urls[0]
    return url if url.endswith("/") else url + "/"


def parse_registry(kind: str, raw: bytes | str) -> tuple[list, str]:
    """(services, publication) of one RFC 9224 file; BootstrapError when it is not one."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BootstrapError(f"{kind}.json is not JSON: {exc}") from None
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, list) or not all(
        isinstance(s, list)
        and len(s) >= 2
        and all(isinstance(x, str) for x in s[-2])
        and all(isinstance(u, str) and u.startswith(("https://", "http://")) for u in s[-1])
        for s in services
    ):
        raise BootstrapError(f"{kind}.json has no list of [entries, URLs] services (RFC 9224 §3).")
    # The object tags file has three members per service; the four used here have two.
    return [(s[-2], s[-1]) for s in services], str(data.get("publication", ""))


def parse_cdns(raw: bytes | str) -> tuple[Cdn, ...]:
    try:
        data = json.loads(raw)
        cdns = []
        for slug, entry in data.items():
            cdns.append(
                Cdn(
                    slug=slug,
                    name=entry["name"],
                    platform=entry.get("platform", ""),
                    abuse_form=entry.get("abuse_form", ""),
                    abuse_form_source=entry.get("abuse_form_source", ""),
                    source=entry.get("source", ""),
                    published=entry.get("published", ""),
                    networks=tuple(ip_network(r) for r in entry["ranges"]),
                )
            )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BootstrapError(f"cdn.json is not a map of CDN → name and ranges: {exc}") from None
    return tuple(cdns)


def load(directory: str | Path | None = None) -> Bootstrap:
    """The registries from ``directory`` where a file is there, else the shipped copy."""
    return _load(str(directory or ""))


@functools.lru_cache(maxsize=8)
def _load(directory: str) -> Bootstrap:
    services, published = {}, {}
    for kind in KINDS:
        path = _pick(directory, f"{kind}.json")
        services[kind], published[kind] = parse_registry(kind, path.read_bytes())
    cdns = parse_cdns(_pick(directory, "cdn.json").read_bytes())
    return Bootstrap(services=services, published=published, cdns=cdns, directory=directory)


def _pick(directory: str, name: str) -> Path:
    if directory and (Path(directory) / name).is_file():
        return Path(directory) / name
    return SHIPPED / name


def forget() -> None:
    """Drop the loaded files (after a refresh wrote new ones)."""
    _load.cache_clear()
