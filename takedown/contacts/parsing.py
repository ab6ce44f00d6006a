"""Reading what registries and sites answer: RDAP objects (RFC 9083) and security.txt (RFC 9116).

Pure functions of bytes. Anything malformed gives nothing (or `Malformed`), never a guess.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from takedown.probing.safety import Refused, ip_literal
from takedown.urltools import is_public_ip

MAX_DEPTH = 4  # entities nest (ARIN: network → org → abuse POC); deeper is not a real answer


class Malformed(Exception):
    """Not an RDAP object we can read."""


@dataclass(frozen=True)
class Party:
    """An entity found in an RDAP answer: its name, email addresses and links."""

    handle: str
    name: str
    emails: tuple[str, ...]
    links: tuple[str, ...]


def _clean_email(value: object) -> str:
    """A deliverable public address, or "": a server's answer must not steer our mail into the
    operator's own network (localhost, an address literal, a single-label or internal name)."""
    if not isinstance(value, str) or len(value) > 254:
        return ""
    value = value.strip().removeprefix("mailto:").strip()
    if not value.isprintable() or any(c.isspace() for c in value):
        return ""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    domain = value.rpartition("@")[2].lower().rstrip(".")
    if domain.startswith("[") or not _public_domain(domain):
        return ""
    return value.lower()


def _public_domain(domain: str) -> bool:
    """Under a suffix the ICANN section of the Public Suffix List lists (unknown TLDs such as
    "internal" or "localhost" are not), and more than that suffix."""
    from django.conf import settings

    tld = domain.rpartition(".")[2]
    if "." in domain and tld in getattr(settings, "TAKEDOWN_CONTACTS_EXTRA_SUFFIXES", ()):
        return True
    return _icann().privatesuffix(domain) is not None


@functools.cache
def _icann():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=True, accept_unknown=False)


def _clean_link(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("https://") or len(value) > 500:
        return ""
    if any(c.isspace() for c in value):
        return ""
    # A link whose host is an address literal must be a public one, judged like the probe's
    # (an IPv4-mapped or NAT64 address by the IPv4 address inside it). The authority ends at
    # the first of / ? # and \ (browsers read a backslash as a slash in an https URL), and the
    # host follows any user part; a percent-escape in the host is refused (browsers decode it,
    # so https://%31%30.0.0.1/ is 10.0.0.1).
    rest = value[len("https://") :]
    end = min((i for i in (rest.find(c) for c in "/?#\\") if i >= 0), default=len(rest))
    host = rest[:end].rpartition("@")[2]
    if not host or "%" in host:
        return ""
    host = host[1:].partition("]")[0] if host.startswith("[") else host.rpartition(":")[0] or host
    try:
        literal = ip_literal(host)
    except Refused:  # a malformed or non-canonical literal (0x0a000001): no public site's
        return ""
    return value if literal is None or is_public_ip(literal) else ""


def _vcard(entity: dict) -> tuple[str, list[str], list[str]]:
    """(fn, emails, urls) of an entity's jCard (RFC 7095): ["vcard", [[name, params, type, value]...]]."""
    card = entity.get("vcardArray")
    name, emails, urls = "", [], []
    if not (isinstance(card, list) and len(card) == 2 and isinstance(card[1], list)):
        return name, emails, urls
    for prop in card[1]:
        if not (isinstance(prop, list) and len(prop) >= 4 and isinstance(prop[0], str)):
            continue
        key, value = prop[0].lower(), prop[3]
        if key == "fn" and isinstance(value, str) and not name:
            # No control characters: the name is printed by `manage.py contacts` and shown.
            name = " ".join("".join(c if c.isprintable() else " " for c in value).split())[:200]
        elif key == "email" and (email := _clean_email(value)):
            emails.append(email)
        elif key == "url" and (link := _clean_link(value)):
            urls.append(link)
    return name, emails, urls


def _party(entity: dict) -> Party:
    name, emails, urls = _vcard(entity)
    for link in _list(entity.get("links")):
        # An entity's own RDAP links (self, related RDAP objects) are not a place to report.
        if isinstance(link, dict) and "rdap" not in str(link.get("type", "")):
            if href := _clean_link(link.get("href")):
                urls.append(href)
    handle = entity.get("handle") if isinstance(entity.get("handle"), str) else ""
    return Party(handle[:100], name, tuple(dict.fromkeys(emails)), tuple(dict.fromkeys(urls)))


def _walk(obj: dict, depth: int = 0):
    """(roles, entity) for every entity under obj, parents before children."""
    if depth >= MAX_DEPTH:
        return
    for entity in _list(obj.get("entities")):
        if not isinstance(entity, dict):
            continue
        roles = {r.lower() for r in _list(entity.get("roles")) if isinstance(r, str)}
        yield roles, entity
        yield from _walk(entity, depth + 1)


def _list(value: object) -> list:
    """A field that RFC 9083 says is an array (absent: empty); anything else is malformed."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"an array field holds {type(value).__name__}")
    return value


def load_object(raw: bytes) -> dict:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Malformed("the answer is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("objectClassName"), str):
        raise Malformed("the answer is not an RDAP object (no objectClassName)")
    return data


@dataclass(frozen=True)
class NetworkAnswer:
    network: str  # the network's name or handle ("NET-203-0-113-0-1", "KT-NET")
    holder: str  # the organisation the network is registered to
    abuse: tuple[Party, ...]


def read_network(raw: bytes) -> NetworkAnswer:
    return _guarded(_read_network, raw)


def read_domain(raw: bytes) -> DomainAnswer:
    return _guarded(_read_domain, raw)


def _guarded(reader, raw: bytes):
    """A shape no reader foresaw is a malformed answer, never an exception of its own."""
    try:
        return reader(raw)
    except Malformed:
        raise
    except (TypeError, AttributeError, ValueError, KeyError, RecursionError) as exc:
        raise Malformed(f"the answer is not an RDAP object we can read ({type(exc).__name__})") from None


def _read_network(raw: bytes) -> NetworkAnswer:
    """The abuse contacts of an "ip network" object: entities with the `abuse` role, at any
    depth (APNIC and KRNIC list an IRT at the top; ARIN nests the abuse POC under the org)."""
    data = load_object(raw)
    if data["objectClassName"] != "ip network":
        raise Malformed(f"expected an ip network, got {data['objectClassName']!r}")
    holder = ""
    abuse = []
    for roles, entity in _walk(data):
        if "registrant" in roles and not holder:
            holder = _vcard(entity)[0]
        if "abuse" in roles:
            party = _party(entity)
            if party.emails or party.links:
                abuse.append(party)
    name = data.get("name") if isinstance(data.get("name"), str) else ""
    handle = data.get("handle") if isinstance(data.get("handle"), str) else ""
    return NetworkAnswer(network=(name or handle)[:200], holder=holder, abuse=tuple(abuse))


@dataclass(frozen=True)
class DomainAnswer:
    domain: str
    registrar: str
    iana_id: str
    abuse: tuple[Party, ...]  # the registrar's abuse contact (ICANN RDAP profile)


def _read_domain(raw: bytes) -> DomainAnswer:
    data = load_object(raw)
    if data["objectClassName"] != "domain":
        raise Malformed(f"expected a domain, got {data['objectClassName']!r}")
    registrar, iana_id, abuse = "", "", []
    for roles, entity in _walk(data):
        if "registrar" in roles and not registrar:
            registrar = _vcard(entity)[0] or str(entity.get("handle") or "")[:200]
            for pid in _list(entity.get("publicIds")):
                if isinstance(pid, dict) and "iana" in str(pid.get("type", "")).lower():
                    iana_id = str(pid.get("identifier", ""))[:20]
            for sub_roles, sub in _walk(entity):
                if "abuse" in sub_roles:
                    party = _party(sub)
                    if party.emails or party.links:
                        abuse.append(party)
    name = data.get("ldhName") if isinstance(data.get("ldhName"), str) else ""
    return DomainAnswer(domain=name.lower()[:255], registrar=registrar, iana_id=iana_id, abuse=tuple(abuse))


def security_txt_expires(raw: bytes) -> datetime | None:
    """The file's Expires: time (RFC 9116 §2.5.5: an RFC 3339 date-time; the RFC 5322 form,
    "Thu, 31 Dec 2026 23:59:59 +0000", that some files still carry from the drafts, is read
    too), or None when it has no Expires: field. The first field counts (the RFC allows one).
    Raises Malformed for a field that is neither: the file's data is then not to be trusted."""
    for line in raw.decode("utf-8", errors="replace").splitlines():
        field, _, value = line.strip().removeprefix("- ").partition(":")
        if field.strip().lower() != "expires":
            continue
        value = value.strip()
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                raise Malformed(f"Expires: {value[:60]!r} is not a date") from None
        return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return None


def read_security_txt(raw: bytes) -> tuple[list[str], list[str]]:
    """(emails, https links) of the Contact: fields (RFC 9116 §2.5.3), in the file's order.

    A signed file's dash-escaping is undone; comments and other fields are ignored. A body
    that is HTML (a site answering every path with its home page) has no fields.
    """
    text = raw.decode("utf-8", errors="replace")
    if "<html" in text[:1000].lower():
        return [], []
    emails, links = [], []
    for line in text.splitlines():
        line = line.strip().removeprefix("- ")
        if line.startswith("#") or ":" not in line:
            continue
        field, _, value = line.partition(":")
        if field.strip().lower() != "contact":
            continue
        value = value.strip()
        if value.lower().startswith("mailto:"):
            if email := _clean_email(value[7:]):
                emails.append(email)
        elif link := _clean_link(value):
            links.append(link)
    return list(dict.fromkeys(emails)), list(dict.fromkeys(links))
