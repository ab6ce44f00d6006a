"""URL normalisation, safety checks and platform matching.

Pure functions: no database, no network, no Django. Intake calls ``normalize_url`` on every
row of a 100k-row import, so the hot path is written for speed: precompiled regexes, no
per-call construction of big structures, and host-level work (IDNA, IP parsing, TLD lookup)
memoised, because hosts repeat far more than URLs do.

What "canonical" means here: two inputs that a browser would open as the same item get the
same ``NormalizedURL.url``, so the database can de-duplicate on it; two inputs that may be
different items never do. Where a site's own rules are known (YouTube, X, Telegram,
Instagram, Facebook, TikTok, Reddit) aliases are folded further; elsewhere we only apply the
RFC 3986 / WHATWG equivalences.

Safety: a URL is refused (``UnsafeURL``) unless it is an http(s) URL whose host is a public
DNS name or a public IP literal, however the IP is spelled. A public *name* can still resolve
to a private address: the probe must check every resolved address with ``is_public_ip``
before connecting, redirects included.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_network
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

__all__ = [
    "MAX_URL_LENGTH",
    "CellURLs",
    "NormalizedURL",
    "OfficialAccounts",
    "PlatformMatcher",
    "UnsafeURL",
    "host_matches",
    "is_public_ip",
    "is_short_link",
    "normalize_url",
    "official_matcher",
    "registrable_domain",
    "short_link_host",
    "split_cell",
]

MAX_URL_LENGTH = 2048


class UnsafeURL(ValueError):
    """Raised with a clear, user-facing reason (str(exc)) when a URL is refused."""


@dataclass(frozen=True, slots=True)
class NormalizedURL:
    url: str  # canonical form
    # Host of ``url``: lower-case, punycode, alias-folded ("www.youtube.com", "x.com", "t.me").
    host: str
    # When ``url`` is an item's catalogued canonical form, the URL as pasted (normalised but not
    # folded to the item): "x.com/artist/status/1" becomes x.com/i/status/1, and an allow-list
    # entry "x.com/artist" must still recognise the artist's own post.
    via: str | None = None

    def __str__(self) -> str:
        return self.url


# --------------------------------------------------------------------------------------------
# IP addresses
# --------------------------------------------------------------------------------------------

# Written out rather than using ipaddress.is_global/is_private: their answers changed between
# Python releases (3.11.10, 3.12.4, 3.13), and the probe and intake must agree on every host.
_V4_BLOCKED = (
    "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches localhost on Linux
    "10.0.0.0/8",
    "100.64.0.0/10",  # CGNAT; also Alibaba's metadata 100.100.100.200
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local, cloud metadata 169.254.169.254
    "172.16.0.0/12",
    "192.0.0.0/24",  # IETF protocol assignments (Oracle metadata 192.0.0.192)
    "192.0.2.0/24",  # TEST-NET-1
    "192.88.99.0/24",  # deprecated 6to4 relay anycast
    "192.168.0.0/16",
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # TEST-NET-2
    "203.0.113.0/24",  # TEST-NET-3
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
)
# Only 2000::/3 is allocated global unicast; these are the non-public blocks inside it. Every
# other IPv6 address (loopback, ULA fc00::/7 incl. fd00:ec2::254, link-local, multicast,
# discard 100::/64, SRv6 5f00::/16 ...) is refused by the 2000::/3 test.
_V6_BLOCKED = (
    "2001::/23",  # IETF protocol assignments incl. benchmarking 2001:2::/48, ORCHID
    "2001:db8::/32",  # documentation
    "3fff::/20",  # documentation (RFC 9637)
)


def _ranges(cidrs: Iterable[str]) -> tuple[list[int], list[int]]:
    nets = sorted((int(n.network_address), int(n.broadcast_address)) for n in map(ip_network, cidrs))
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in nets:
        if ends and lo <= ends[-1] + 1:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


_V4_STARTS, _V4_ENDS = _ranges(_V4_BLOCKED)
_V6_STARTS, _V6_ENDS = _ranges(_V6_BLOCKED)


def _v4_int_is_public(n: int) -> bool:
    i = bisect_right(_V4_STARTS, n) - 1
    return i < 0 or n > _V4_ENDS[i]


def embedded_ipv4(addr: IPv4Address | IPv6Address) -> IPv4Address | IPv6Address:
    """The IPv4 address an IPv6 address stands for where it is only a wrapper around one
    (IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96), else the
    address itself: whose network it is, and which CDN's range it is in, is the IPv4
    address's (is_public_ip judges the same forms by it)."""
    if addr.version == 4:
        return addr
    n = int(addr)
    if n >> 32 in (0xFFFF, 0xFFFF0000, 0x0064FF9B_00000000_00000000):
        return IPv4Address(n & 0xFFFFFFFF)
    return addr


def is_public_ip(addr: IPv4Address | IPv6Address) -> bool:
    """True only for a unicast address on the public internet.

    IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated,
    NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) are judged by the IPv4 address they
    lead to, because that is where a packet to them ends up.
    """
    n = int(addr)
    if addr.version == 4:
        return _v4_int_is_public(n)
    hi96 = n >> 32
    # ::/96 (IPv4-compatible, also covers :: and ::1), ::ffff:0:0/96 (mapped),
    # ::ffff:0:0:0/96 (translated), 64:ff9b::/96 (NAT64).
    if hi96 in (0, 0xFFFF, 0xFFFF0000, 0x0064FF9B_00000000_00000000):
        return _v4_int_is_public(n & 0xFFFFFFFF)
    if n >> 112 == 0x2002:  # 6to4
        return _v4_int_is_public((n >> 80) & 0xFFFFFFFF)
    if n >> 96 == 0x20010000:  # Teredo: server, then the client (stored inverted)
        return _v4_int_is_public((n >> 64) & 0xFFFFFFFF) and _v4_int_is_public(~n & 0xFFFFFFFF)
    if n >> 125 != 0b001:
        return False
    i = bisect_right(_V6_STARTS, n) - 1
    return i < 0 or n > _V6_ENDS[i]


_IPV4_PART_HEX = re.compile(r"0x[0-9a-f]*")
_IPV4_PART_OCT = re.compile(r"0[0-7]+")
_IPV4_PART_DEC = re.compile(r"0|[1-9][0-9]*")


def _parse_ipv4(host: str) -> int | None:
    """Parse like inet_aton and the WHATWG URL standard (what browsers and curl connect to):
    1 to 4 dot-separated parts, each decimal, octal (leading 0) or hex (0x); the last part
    fills the remaining bytes. So 2130706433, 0x7f000001, 0177.0.0.1, 127.1 are 127.0.0.1.
    """
    parts = host.split(".")
    if len(parts) > 4:
        return None
    nums: list[int] = []
    for p in parts:
        if _IPV4_PART_DEC.fullmatch(p):
            nums.append(int(p))
        elif _IPV4_PART_HEX.fullmatch(p):
            nums.append(int(p[2:], 16) if len(p) > 2 else 0)
        elif _IPV4_PART_OCT.fullmatch(p):
            nums.append(int(p, 8))
        else:
            return None
    last = nums.pop()
    if any(x > 255 for x in nums) or last >= 256 ** (4 - len(nums)):
        return None
    for i, x in enumerate(nums):
        last += x << (8 * (3 - i))
    return last


# --------------------------------------------------------------------------------------------
# Hosts
# --------------------------------------------------------------------------------------------

_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
# UTS #46 (browsers) keeps these, IDNA 2003 (Python's codec) maps them away: "faß.de" would
# become "fass.de", another registrant's domain. Such labels are punycoded directly instead.
_IDNA_DEVIATIONS = re.compile("[\u00df\u03c2\u200c\u200d]")
_HOSTNAME = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")

# Names that never reach a public site, with the reason given to the user. Other unknown
# TLDs are refused by the public-suffix-list check.
_SPECIAL_TLDS: Mapping[str, str] = {
    "localhost": "'localhost' names point at the local machine",
    "local": "'.local' names are local-network (mDNS) names",
    "internal": "'.internal' names are private-network names",
    "intranet": "'.intranet' names are private-network names",
    "lan": "'.lan' names are private-network names",
    "home": "'.home' names are private-network names",
    "corp": "'.corp' names are private-network names",
    "localdomain": "'.localdomain' names point at the local machine",
    "arpa": "'.arpa' names are DNS infrastructure, not web sites",
    "onion": "'.onion' addresses are only reachable through Tor",
    "test": "'.test' is reserved for testing",
    "example": "'.example' is reserved for documentation",
    "invalid": "'.invalid' is reserved as never valid",
    "alt": "'.alt' names are outside the public DNS",
}


def _shown(text: str) -> str:
    """Quote user input for a reason shown to a user: printable, and not a wall of text."""
    if len(text) > 80:
        text = text[:77] + "..."
    if not text.isprintable():
        text = text.encode("ascii", "backslashreplace").decode("ascii")
    return f"'{text}'"


@functools.cache
def _psl() -> PublicSuffixList:
    from publicsuffixlist import PublicSuffixList

    # source=None reads the list bundled in the installed package: never the network.
    # (publicsuffixlist only downloads when its updater module is run by hand.)
    return PublicSuffixList()


def _idna_encode(host: str) -> str:
    host = host.translate(_IDNA_DOTS)
    if _IDNA_DEVIATIONS.search(host) is None:
        return host.encode("idna").decode("ascii")
    labels = []
    for label in host.split("."):
        if label.isascii():
            labels.append(label)
        elif _IDNA_DEVIATIONS.search(label):
            label = unicodedata.normalize("NFC", label.lower())
            labels.append("xn--" + label.encode("punycode").decode("ascii"))
        else:
            labels.append(label.encode("idna").decode("ascii"))
    return ".".join(labels)


def _valid_punycode(host: str) -> bool:
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                decoded = label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                return False
            if not decoded or decoded.isascii():
                return False
    return True


@functools.lru_cache(maxsize=65536)
def _canonical_host(raw: str) -> tuple[str, str | None]:
    """(canonical host, None) or ("", reason). Cached, refusals included: a bad host in a big
    import tends to repeat."""
    if not raw:
        return "", "the URL has no host"
    h = unquote(raw) if "%" in raw else raw  # browsers percent-decode hosts: %6c%6fcalhost
    if h.startswith("["):
        return _canonical_ipv6(raw, h)
    h = h.lower()
    if h.endswith("."):
        h = h[:-1]
    if not h.isascii():
        try:
            h = _idna_encode(h)
        except UnicodeError:
            return "", f"{_shown(raw)} is not a valid internationalised domain name"
        if h.endswith("."):
            h = h[:-1]
    if not h or len(h) > 253 or _HOSTNAME.fullmatch(h) is None:
        return "", f"{_shown(raw)} is not a valid host name"
    tld = h.rpartition(".")[2]
    if _NUMERIC_LABEL.fullmatch(tld):
        # WHATWG: a host ending in a number is an IPv4 address or invalid, never a name.
        return _canonical_ipv4(raw, h)
    if "." not in h:
        if h == "localhost":
            return "", f"'{h}' is not a public host: {_SPECIAL_TLDS[h]}"
        return "", f"'{h}' is not a public host name: it has no domain (like 'example.com')"
    if tld in _SPECIAL_TLDS:
        return "", f"'{h}' is not a public host: {_SPECIAL_TLDS[tld]}"
    if "xn--" in h and not _valid_punycode(h):
        return "", f"{_shown(raw)} is not a valid internationalised domain name"
    if not _psl().is_public(tld, accept_unknown=False):
        return "", f"'{h}' is not a public host: '.{tld}' is not a top-level domain"
    return h, None


def _canonical_ipv4(raw: str, h: str) -> tuple[str, str | None]:
    n = _parse_ipv4(h)
    if n is None:
        return "", f"{_shown(raw)} is not a valid IP address or host name"
    ip = IPv4Address(n)
    if not _v4_int_is_public(n):
        return "", f"{ip} is not a public IP address (private, loopback, link-local or reserved)"
    return str(ip), None


def _canonical_ipv6(raw: str, h: str) -> tuple[str, str | None]:
    if not h.endswith("]"):
        return "", f"{_shown(raw)} is not a valid IPv6 address"
    inner, _, zone = h[1:-1].partition("%")
    try:
        ip = IPv6Address(inner)
    except ValueError:
        return "", f"{_shown(raw)} is not a valid IPv6 address"
    if not is_public_ip(ip):
        return "", f"{ip} is not a public IP address (private, loopback, link-local or reserved)"
    if zone:
        return "", "IPv6 zone identifiers (%...) only make sense on a local network"
    return f"[{_ipv6_text(int(ip))}]", None


def _ipv6_text(n: int) -> str:
    # RFC 5952 / WHATWG form, written out because ipaddress's str() of IPv4-mapped addresses
    # changed in Python 3.13 ("::ffff:8.8.8.8"), and stored canonical URLs must not drift.
    groups = [f"{(n >> (112 - 16 * i)) & 0xFFFF:x}" for i in range(8)]
    best, best_len, i = -1, 1, 0
    while i < 8:
        if groups[i] == "0":
            j = i
            while j < 8 and groups[j] == "0":
                j += 1
            if j - i > best_len:
                best, best_len = i, j - i
            i = j
        else:
            i += 1
    if best < 0:
        return ":".join(groups)
    return ":".join(groups[:best]) + "::" + ":".join(groups[best + best_len :])


# --------------------------------------------------------------------------------------------
# Paths and queries
# --------------------------------------------------------------------------------------------

# RFC 3986 pchar plus "/" and "?": everything else is percent-encoded (UTF-8), so "/한국" and
# "/%ED%95%9C%EA%B5%AD" are one URL.
_ALLOWED = r"A-Za-z0-9\-._~!$&'()*+,;=:@/?"
_NEEDS_FIX = re.compile(f"[^{_ALLOWED}]")
_FIX = re.compile(f"%[0-9A-Fa-f]{{2}}|[^{_ALLOWED}]")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_HEX = [f"%{b:02X}" for b in range(256)]


def _build_pct_table() -> dict[str, str]:
    # Every spelling of every %XX -> its canonical form (unreserved decoded, hex upper-cased):
    # one dict lookup per escape instead of int() and chr().
    table = {}
    for b in range(256):
        canon = chr(b) if chr(b) in _UNRESERVED else _HEX[b]
        hi, lo = f"{b:02x}"
        for a, c in itertools.product({hi, hi.upper()}, {lo, lo.upper()}):
            table[f"%{a}{c}"] = canon
    return table


_PCT = _build_pct_table()


def _fix_one(m: re.Match[str]) -> str:
    t = m.group()
    r = _PCT.get(t)
    if r is not None:
        return r
    # a stray "%" or a character that must be escaped; lone surrogates raise UnicodeError
    return "".join([_HEX[b] for b in t.encode("utf-8")])


def _fix_escapes(s: str) -> str:
    return _FIX.sub(_fix_one, s) if _NEEDS_FIX.search(s) else s


_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)")


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    segments = path.split("/")
    for seg in segments[1:]:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    result = "/" + "/".join(out)
    if segments[-1] in (".", "..") and result != "/":
        result += "/"
    return result


def _normalize_path(path: str) -> str:
    if not path:
        return "/"
    if "\\" in path:
        path = path.replace("\\", "/")  # WHATWG: a backslash is a slash in http(s) paths
    path = _fix_escapes(path)
    if "/." in path and _DOT_SEGMENT.search(path):
        path = _remove_dot_segments(path)
    return path


# Dropped everywhere: pure click/share tracking, never part of what a page shows.
_TRACKING = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid", "_ga", "_gl",
        "mkt_tok", "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "oly_anon_id",
        "oly_enc_id", "vero_id", "wickedid", "rb_clickid", "_openstat", "ref_src", "ref_url",
    }
)  # fmt: skip
# Facebook's __cft__[0] / __xts__[0] arrive with the brackets escaped or not.
_TRACKING_PREFIXES = ("utm_", "__cft__", "__xts__")


def _clean_query(query: str, drop: frozenset[str]) -> list[str]:
    # Order is kept, not sorted: some sites (and signed URLs) depend on parameter order, and
    # sorting would buy little since the same link is normally pasted in the same order.
    out = []
    for p in _fix_escapes(query).split("&"):
        if p:
            k = p.partition("=")[0].lower()
            if k not in drop and not k.startswith(_TRACKING_PREFIXES):
                out.append(p)
    return out


# --------------------------------------------------------------------------------------------
# Platform aliases
# --------------------------------------------------------------------------------------------

# A folder gets (host, path, query params, fragment) after generic normalisation and returns
# the canonical (host, path, params).
_Folded = tuple[str, str, list[str]]
_Folder = Callable[[str, str, list[str], "str | None"], _Folded]

_YT_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_YT_SHORT = re.compile(r"/([A-Za-z0-9_-]{11})/?")
_YT_PATH_ID = re.compile(r"/(?:shorts|embed|live|v|e)/([A-Za-z0-9_-]{11})(?:/.*)?")
_YT_NOT_IDS = frozenset({"videoseries", "live_stream"})  # 11 characters, but not videos
_YT_WWW = frozenset({"youtube.com", "m.youtube.com", "www.youtube.com"})


def _fold_youtube(host: str, path: str, params: list[str], fragment: str | None) -> _Folded:
    # A video is its ID: every player, share link and playlist context of it is one item, so
    # the canonical form keeps only v= (time offsets, list=, index= all point at the same
    # video). Any other page keeps its path and non-tracking parameters on www.youtube.com.
    # music.youtube.com and youtube-nocookie.com play the same IDs, so their videos fold too;
    # their other pages are not www pages and keep their host.
    vid = None
    if host == "youtu.be":
        m = _YT_SHORT.fullmatch(path)
        if m is None:
            return host, path, params
        vid = m.group(1)
    elif path == "/watch" or path == "/watch/":
        for p in params:
            if p.startswith("v="):
                if _YT_ID.fullmatch(p, 2):
                    vid = p[2:]
                break
    else:
        m = _YT_PATH_ID.fullmatch(path)
        if m is not None and m.group(1) not in _YT_NOT_IDS:
            vid = m.group(1)
    if vid is not None:
        return "www.youtube.com", "/watch", ["v=" + vid]
    if host in _YT_WWW:
        host = "www.youtube.com"
    if path.startswith("/@"):  # handles are case-insensitive
        head, sep, tail = path[1:].partition("/")
        path = "/" + head.lower() + sep + tail
    return host, path, params


_X_STATUS = re.compile(r"/([A-Za-z0-9_]{1,50})/status(?:es)?/([0-9]{1,25})(?:/.*)?")
_X_WEB_STATUS = re.compile(r"/i/web/status(?:es)?/([0-9]{1,25})(?:/.*)?")


def _fold_x(host: str, path: str, params: list[str], fragment: str | None) -> _Folded:
    if fragment and fragment.startswith("!/") and path == "/":
        # 2010-era "twitter.com/#!/user/status/1" links: the route is in the fragment.
        path = _normalize_path(fragment[1:].partition("?")[0])
    m = _X_WEB_STATUS.fullmatch(path)
    if m is not None:
        return "x.com", "/i/status/" + m.group(1), []
    m = _X_STATUS.fullmatch(path)
    if m is not None:
        # A post is user + ID: /photo/1, /video/1 and every query parameter show the same
        # post. User names are case-insensitive on X.
        return "x.com", f"/{m.group(1).lower()}/status/{m.group(2)}", []
    if len(path) > 1:
        path = path.rstrip("/") or "/"
        head, sep, tail = path[1:].partition("/")
        path = "/" + head.lower() + sep + tail
    return "x.com", path, params


def _fold_instagram(host: str, path: str, params: list[str], fragment: str | None) -> _Folded:
    # Media items (/p/, /reel/, /reels/, /tv/, /<user>/p/ ...) are folded by the catalogue in
    # fixtures/platforms.json; here only the host and the case of the first segment.
    if len(path) > 1:
        path = path.rstrip("/")
        head, sep, tail = path[1:].partition("/")
        path = "/" + head.lower() + sep + tail + "/" if head else "/"
    return "www.instagram.com", path, params


def _fold_facebook(host: str, path: str, params: list[str], fragment: str | None) -> _Folded:
    return "www.facebook.com", path, params


_TT_ITEM = re.compile(r"/@[^/]+/(?:video|photo)/[0-9]+")


def _fold_tiktok(host: str, path: str, params: list[str], fragment: str | None) -> _Folded:
    m = _TT_ITEM.match(path)
    if m is not None and (len(path) == m.end() or path[m.end()] == "/"):
        return "www.tiktok.com", m.group(), []
    return "www.tiktok.com", path, params


_REDDIT_ID = re.compile(r"[a-z0-9]{1,13}")


def _fold_reddit(host: str, path: str, params: list[str], fragment: str | None) -> _Folded:
    segs = path.strip("/").split("/")
    if segs[0] in ("r", "u", "user") and len(segs) > 1:
        if segs[0] == "u":
            segs[0] = "user"  # /u/x is /user/x; sub and user names ignore case
        segs[1] = segs[1].lower()
        # /r/<sub>/comments/<id>/<slug>/<comment>/: the slug is decoration (Reddit accepts
        # any), so a post is sub + id and a comment adds its id.
        if len(segs) >= 4 and segs[2] == "comments" and _REDDIT_ID.fullmatch(segs[3].lower()):
            base = f"/{segs[0]}/{segs[1]}/comments/{segs[3].lower()}/"
            if len(segs) >= 6 and _REDDIT_ID.fullmatch(segs[5].lower()):
                return "www.reddit.com", f"{base}comment/{segs[5].lower()}/", []
            return "www.reddit.com", base, []
    elif segs[0] == "comments" and len(segs) >= 2 and _REDDIT_ID.fullmatch(segs[1].lower()):
        if len(segs) >= 4 and _REDDIT_ID.fullmatch(segs[3].lower()):
            return "www.reddit.com", f"/comments/{segs[1].lower()}/_/{segs[3].lower()}/", []
        return "www.reddit.com", f"/comments/{segs[1].lower()}/", []
    path = "/" + "/".join(segs)
    if path != "/" and "." not in segs[-1]:  # Reddit's own links end in "/"; .json/.rss don't
        path += "/"
    return "www.reddit.com", path, params


_TG_KEEP_ON_POST = ("comment=", "thread=")


def _fold_telegram(host: str, path: str, params: list[str], fragment: str | None) -> _Folded:
    segs = path.strip("/").split("/")
    if segs[0] == "s" and len(segs) > 1:
        segs.pop(0)  # /s/<channel>/<id> is the web preview of the same post
    if segs[0] and segs[0][0] != "+" and segs[0] != "joinchat":
        segs[0] = segs[0].lower()  # channel names ignore case; invite hashes do not
    path = "/" + "/".join(segs)
    if len(segs) >= 2 and segs[-1].isdigit():
        # On a post, ?single / ?embed only change the presentation; a comment or thread
        # parameter names another message, so those stay.
        params = [p for p in params if p.startswith(_TG_KEEP_ON_POST)]
    return "t.me", path, params


def _keep_host(host: str, path: str, params: list[str], fragment: str | None) -> _Folded:
    return host, path, params


def _drop(*extra: str) -> frozenset[str]:
    return _TRACKING | frozenset(extra)


_YT_DROP = _drop("si", "feature", "pp", "ab_channel", "t", "start", "embeds_referring_euri")
_X_DROP = _drop("s", "t", "src", "cxt", "ref")
_IG_DROP = _drop("img_index", "hl", "ig_rid", "ig_mid")
_FB_DROP = _drop(
    "mibextid", "__tn__", "ref", "fref", "hc_ref", "rdid", "share_url", "sfnsn", "paipv",
    "eav", "_rdr", "notif_id", "notif_t", "ref_notif_type", "acontext",
    "comment_tracking",  # where a click came from; comment_id names the comment itself
)  # fmt: skip
_TT_DROP = _drop(
    "is_from_webapp", "sender_device", "is_copy_url", "web_id", "_r", "_t", "_d", "u_code",
    "preview_pb", "sec_user_id", "share_app_id", "share_item_id", "share_link_id",
    "timestamp", "tt_from", "checksum", "social_sharing", "source", "user_id", "refer",
    "enter_from", "enter_method",
)  # fmt: skip
_RD_DROP = _drop(
    "share_id", "ref", "ref_source", "ref_campaign", "context", "rdt", "correlation_id",
    "_branch_match_id", "_branch_referrer", "post_fullname", "post_index",
)  # fmt: skip
_TG_DROP = _drop("single", "embed", "mode", "userpic", "dark", "color", "width")
_SPOTIFY_DROP = _drop("si", "context", "nd", "dl_branch")

# (folder, parameters it drops, what names a sub-item: filled in from the catalogue below)
_PlatformRule = tuple[_Folder, frozenset[str], "_SubItems | None"]


def _rules(hosts: Iterable[str], folder: _Folder, drop: frozenset[str]) -> dict[str, _PlatformRule]:
    return {h: (folder, drop, None) for h in hosts}


# Only these hosts are folded; elsewhere "www." is kept, since it can be a different site.
_PLATFORMS: Mapping[str, _PlatformRule] = {
    **_rules(
        ("youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtu.be",
         "youtube-nocookie.com", "www.youtube-nocookie.com"),
        _fold_youtube, _YT_DROP,
    ),
    **_rules(
        ("x.com", "www.x.com", "mobile.x.com", "m.x.com", "twitter.com", "www.twitter.com",
         "mobile.twitter.com", "m.twitter.com"),
        _fold_x, _X_DROP,
    ),
    **_rules(
        ("t.me", "www.t.me", "telegram.me", "www.telegram.me", "telegram.dog", "www.telegram.dog"),
        _fold_telegram, _TG_DROP,
    ),
    **_rules(
        ("instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am", "www.instagr.am"),
        _fold_instagram, _IG_DROP,
    ),
    **_rules(
        ("facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com",
         "mbasic.facebook.com", "touch.facebook.com", "mobile.facebook.com"),
        _fold_facebook, _FB_DROP,  # not fb.com: where its paths lead is undocumented
    ),
    **_rules(("tiktok.com", "www.tiktok.com", "m.tiktok.com"), _fold_tiktok, _TT_DROP),
    **_rules(("vm.tiktok.com", "vt.tiktok.com"), _keep_host, _TT_DROP),
    **_rules(
        ("reddit.com", "www.reddit.com", "old.reddit.com", "new.reddit.com", "np.reddit.com",
         "m.reddit.com", "i.reddit.com", "amp.reddit.com", "sh.reddit.com"),
        _fold_reddit, _RD_DROP,
    ),
    **_rules(("open.spotify.com",), _keep_host, _SPOTIFY_DROP),
}  # fmt: skip

# For allow-list patterns and hosts given by hand: a pattern "twitter.com" must cover x.com
# URLs. Bare platform domains ("youtube.com") are left alone, they already cover www.
_ALIAS_HOST: Mapping[str, str] = {
    **dict.fromkeys(
        ("twitter.com", "www.twitter.com", "mobile.twitter.com", "m.twitter.com", "www.x.com",
         "mobile.x.com", "m.x.com"),
        "x.com",
    ),
    **dict.fromkeys(
        ("www.t.me", "telegram.me", "www.telegram.me", "telegram.dog", "www.telegram.dog"), "t.me"
    ),
    **dict.fromkeys(("instagr.am", "www.instagr.am"), "instagram.com"),
    "m.instagram.com": "www.instagram.com",
    "m.youtube.com": "www.youtube.com",
    **dict.fromkeys(
        ("m.facebook.com", "web.facebook.com", "mbasic.facebook.com", "touch.facebook.com",
         "mobile.facebook.com"),
        "www.facebook.com",
    ),
    "m.tiktok.com": "www.tiktok.com",
    **dict.fromkeys(
        ("old.reddit.com", "new.reddit.com", "np.reddit.com", "m.reddit.com", "i.reddit.com",
         "amp.reddit.com", "sh.reddit.com"),
        "www.reddit.com",
    ),
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# The item catalogue: every public URL form of one item, folded to one canonical URL
# --------------------------------------------------------------------------------------------

# The registry file ships beside the code, and the forms are read from it rather than from
# Platform rows on purpose: a canonical form is a database key (unique per artist), so it may
# only change with a release that also re-normalises stored rows (the `renormalize_urls`
# command, run by `setup`), never because someone edited a platform in the admin.
CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "platforms.json"

_VAR = re.compile(r"\{(_?[A-Za-z][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class _SubItems:
    """What makes a URL on a platform name a sub-item (a comment, a reply) rather than the item
    it hangs off. Such a URL is never folded to its parent: the notice would name the wrong
    item and the probe would check the wrong page. It is kept as pasted, normalised
    generically (a split row is a nuisance; a merged one hides a distinct item)."""

    keys: frozenset[str]  # lower-case query keys
    # Also any query key that says "comment" or "reply" with an id (not a flag like "true"),
    # and fragments that name a comment.
    generic: bool
    path: re.Pattern[str] | None  # matched at the start of the path...
    path_hint: str  # ...if it holds this text (a substring test costs far less than a match)
    # Looked for in the lower-cased raw query first: most URLs carry none of the keys, and
    # substring tests are much cheaper than splitting every parameter (or a re.I search). A
    # hit inside a value only costs the exact check.
    hints: tuple[str, ...]
    fragment: re.Pattern[str] | None  # a fragment that names a sub-item, kept in the URL


# A comment or reply, however a platform spells its anchor: "#comment123", "#cmt_45",
# "#reply-6". Plain section anchors ("#comments", "#comment_box") name no sub-item.
_SUB_ITEM_FRAGMENT = re.compile(r"(?:comment|cmt|reply)[-_]?(?:id)?[-_=]?[0-9]+", re.I)


def _compile_sub_items(spec: Mapping[str, Any]) -> _SubItems:
    path = spec.get("path")
    fragment = spec.get("fragment")
    generic = spec.get("generic", True)
    if fragment is None and generic:
        fragment_re: re.Pattern[str] | None = _SUB_ITEM_FRAGMENT
    else:
        fragment_re = re.compile(fragment, re.I) if fragment else None
    keys = frozenset(k.lower() for k in spec.get("query", ()))
    return _SubItems(
        keys=keys,
        generic=generic,
        path=re.compile(path) if path else None,
        path_hint=spec.get("path_hint", ""),
        hints=tuple(sorted(keys)) + (("comment", "reply") if generic else ()),
        fragment=fragment_re,
    )


def _sub_item(
    sub: _SubItems, path: str, query: str | None, params: list[str], fragment: str | None
) -> str | None:
    """None if (path, params, fragment) names no sub-item; else the fragment to keep ("" for
    none). `query` is the raw query `params` were read from."""
    kept = ""
    if fragment and sub.fragment is not None and sub.fragment.fullmatch(fragment):
        kept = _fix_escapes(fragment)
    elif sub.path is None or sub.path_hint not in path or sub.path.match(path) is None:
        if not query:
            return None
        q = query.lower()
        for hint in sub.hints:
            if hint in q:
                break
        else:
            return None
        for p in params:
            k, _, v = p.partition("=")
            k = k.lower()
            if k in sub.keys:
                break
            # "comment_id=999" picks a comment; "commentFocus=true" only scrolls to the list.
            if sub.generic and ("comment" in k or "reply" in k) and not v.isalpha():
                break
        else:
            return None
    return kept


@dataclass(frozen=True, slots=True)
class _Item:
    platform: str
    name: str
    canonical: str
    lower: frozenset[str]
    excluded: Mapping[str, frozenset[str]]
    # Query parameters that make the URL name something else (a Telegram comment): no fold.
    distinct_if: tuple[str, ...]
    host: str | None  # the canonical host, unless it holds a variable ("{blog}.tistory.com")
    sub: _SubItems | None  # what names a sub-item on this platform; None if nothing can


@dataclass(frozen=True, slots=True)
class _Form:
    item: _Item
    path: re.Pattern[str]
    query: tuple[tuple[str, str, re.Pattern[str]], ...]  # ("v=", var, value pattern)
    host_var: str | None  # "{blog}.tistory.com": the first label is a variable
    simple: bool  # path variables only: the common case, on the fast path


def _compile_path(template: str, ids: Mapping[str, str]) -> re.Pattern[str]:
    tail = ""
    if template.endswith("/**"):
        template, tail = template[:-3], "(?:/.*)?"
    else:
        tail = "/?"
    out, pos = [], 0
    for m in _VAR.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        name = m.group(1)
        pattern = ids.get(name, "[^/]+")
        out.append(f"({pattern})" if name.startswith("_") else f"(?P<{name}>{pattern})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out) + tail, re.S)


def compile_catalogue(entries: Iterable[Mapping[str, Any]]) -> tuple[dict, dict, dict, dict]:
    """(forms by host, forms by parent of a wildcard host, short-link rules by host, sub-item
    rules by host or parent of a wildcard host) from the registry's `url_forms`. Done once at
    import: the per-URL cost is a dict lookup and a few precompiled regex matches."""
    by_host: dict[str, list[_Form]] = {}
    by_parent: dict[str, list[_Form]] = {}
    short: dict[str, list[re.Pattern[str] | None]] = {}
    subs: dict[str, _SubItems] = {}
    for entry in entries:
        slug = entry["fields"]["slug"]
        catalogue = entry.get("url_forms") or {}
        sub: _SubItems | None = _compile_sub_items(catalogue.get("sub_items", {}))
        if sub is not None and not (sub.hints or sub.path or sub.fragment):
            sub = None  # nothing can name a sub-item here (Telegram's rule keeps its own)
        for spec in catalogue.get("items", ()):
            ids = spec.get("ids", {})
            canonical_host = spec["canonical"].removeprefix("https://").partition("/")[0]
            item = _Item(
                platform=slug,
                name=spec["item"],
                canonical=spec["canonical"],
                lower=frozenset(spec.get("lower", ())),
                excluded={k: frozenset(v) for k, v in spec.get("not", {}).items()},
                distinct_if=tuple(f"{k}=" for k in spec.get("distinct_if", ())),
                host=None if "{" in canonical_host else canonical_host,
                sub=sub,
            )
            for form in spec["forms"]:
                if not form.get("source"):
                    raise ValueError(f"{slug}: the form {form['path']} has no source")
                path = _compile_path(form["path"], ids)
                query = tuple(
                    (f"{key}=", var, re.compile(ids.get(var, "[^&]+")))
                    for key, var in form.get("query", {}).items()
                )
                simple = not (query or item.lower or item.excluded or item.distinct_if)
                for host in form["hosts"]:
                    m = _VAR.match(host)
                    if sub is not None:
                        subs[host[m.end() + 1 :] if m is not None else host] = sub
                    if m is not None:
                        parent = host[m.end() + 1 :]
                        by_parent.setdefault(parent, []).append(_Form(item, path, query, m.group(1), False))
                    else:
                        by_host.setdefault(host, []).append(_Form(item, path, query, None, simple))
        for rule in catalogue.get("short_links", ()):
            glob = rule.get("path")
            pattern = re.compile(re.escape(glob).replace(r"\*", "[^/]+") + "(?:/.*)?") if glob else None
            for host in rule["hosts"]:
                short.setdefault(host, []).append(pattern)
    freeze = lambda d: {k: tuple(v) for k, v in d.items()}  # noqa: E731
    return freeze(by_host), freeze(by_parent), freeze(short), subs


def _load_catalogue() -> tuple[dict, dict, dict, dict]:
    return compile_catalogue(json.loads(CATALOGUE_PATH.read_text(encoding="utf-8")))


_FORMS, _WILD_FORMS, _SHORT_LINKS, _SUB_ITEMS = _load_catalogue()
# Each platform host carries its sub-item rule, so the hot path pays no extra lookup for it.
_PLATFORMS = {h: (folder, drop, _SUB_ITEMS.get(h)) for h, (folder, drop, _sub) in _PLATFORMS.items()}


def _forms_for(host: str) -> tuple[_Form, ...] | None:
    forms = _FORMS.get(host)
    if forms is None and "." in host:
        forms = _WILD_FORMS.get(host.partition(".")[2])
    return forms


def _fold_item(forms: tuple[_Form, ...], host: str, path: str, params: list[str]) -> tuple[str, str] | None:
    """(canonical URL, its host) of the item (host, path, params) is a catalogued form of,
    or None."""
    for form in forms:
        m = form.path.fullmatch(path)
        if m is None:
            continue
        item = form.item
        if form.simple:
            return item.canonical.format_map(m.groupdict()), item.host  # type: ignore[return-value]
        if item.distinct_if and any(p.startswith(item.distinct_if) for p in params):
            return None
        values = m.groupdict()
        for key, var, pattern in form.query:
            for p in params:
                if p.startswith(key):
                    value = p[len(key) :]
                    if pattern.fullmatch(value):
                        values[var] = value
                    break
            if var not in values:
                break
        else:
            if form.host_var is not None:
                label = host.partition(".")[0]
                if not form.host_var.startswith("_"):
                    values[form.host_var] = label
            for var in item.lower:
                if var in values:
                    values[var] = values[var].lower()
            if any(values.get(k) in v for k, v in item.excluded.items()):
                continue
            url = item.canonical.format_map(values)
            return url, item.host or url[8:].partition("/")[0]
    return None


def short_link_host(host: str) -> bool:
    """True if some URLs on `host` are catalogued short links (a cheap first filter)."""
    return host in _SHORT_LINKS


def is_short_link(norm: NormalizedURL) -> bool:
    """True for a catalogued short link only its platform can resolve (t.co, naver.me,
    vm.tiktok.com ...): stored as given, and followed by the first check."""
    rules = _SHORT_LINKS.get(norm.host)
    if rules is None:
        return False
    path = norm.url.split("/", 3)[3] if norm.url.count("/") >= 3 else ""
    path = "/" + path.partition("?")[0].partition("#")[0]
    return any(p is None or p.fullmatch(path) for p in rules)


# --------------------------------------------------------------------------------------------
# normalize_url
# --------------------------------------------------------------------------------------------

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT_THEN_PATH = re.compile(r"[0-9]*(?:[/?#\\]|$)")
_SPLIT = re.compile(r"([^/\\?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.S)
_INVISIBLE_EDGES = "\u200b\u200c\u200d\u2060\ufeff"  # survive str.strip() in pasted links
_TAB_NEWLINE = re.compile(r"[\t\n\r]")


def _split_scheme(s: str) -> tuple[str, str]:
    m = _SCHEME.match(s)
    if m is not None:
        scheme = m.group(1).lower()
        after = s[m.end() :]
        if scheme == "http" or scheme == "https":
            return scheme, after.lstrip("/\\")
        # "example.com:8080/x" is a scheme-less host and port, not a scheme "example.com".
        if not (("." in scheme or scheme == "localhost") and _PORT_THEN_PATH.match(after)):
            raise UnsafeURL(f"only http and https URLs are accepted, not '{scheme}:'")
    if s[0] in "/\\":
        if len(s) < 2 or s[1] not in "/\\":
            raise UnsafeURL("not a full URL: it has no host")
        s = s.lstrip("/\\")
    # Scheme-less input ("youtube.com/watch?v=x", "//cdn.example/x") is taken as https, the
    # scheme every listed platform and nearly every site serves.
    return "https", s


def normalize_url(raw: str) -> NormalizedURL:
    """Return the canonical form of ``raw``, or raise ``UnsafeURL`` saying why it is refused.

    Accepts http(s) URLs, and scheme-less ones as https. Refuses other schemes, credentials,
    hosts that are not public (localhost, single-label, .local/.internal and other special
    names, unknown TLDs, non-public IPs in any spelling), bad ports and URLs over 2048
    characters.
    """
    scheme, rest = _scheme_and_rest(_pasted(raw))
    authority, path, query, fragment = _SPLIT.match(rest).groups()  # type: ignore[union-attr]
    if "@" in authority:
        raise UnsafeURL("URLs with a user name or password (user@host) are not accepted")
    authority, port = _split_port(authority)
    port = _port_number(port, scheme)
    host, reason = _canonical_host(authority)
    if reason is not None:
        raise UnsafeURL(reason)
    try:
        path = _normalize_path(path)
        rule = _PLATFORMS.get(host) if port is None else None
        if rule is not None:
            return _on_platform(rule, host, path, query, fragment)
        return _elsewhere(scheme, host, port, path, query, fragment)
    except UnicodeError:
        raise UnsafeURL("the URL contains characters that are not valid text") from None


def _pasted(raw: str) -> str:
    """The URL as typed, without what pasting adds: edge whitespace, invisible characters at
    the ends, tabs and line breaks; refused if empty or too long."""
    if not isinstance(raw, str):
        raise UnsafeURL("the URL must be text")
    s = raw.strip()
    if s and (s[0] in _INVISIBLE_EDGES or s[-1] in _INVISIBLE_EDGES):
        s = s.strip(_INVISIBLE_EDGES).strip()
    if not s:
        raise UnsafeURL("the URL is empty")
    if len(s) > MAX_URL_LENGTH:
        raise UnsafeURL(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if "\t" in s or "\n" in s or "\r" in s:
        s = _TAB_NEWLINE.sub("", s)  # WHATWG drops them anywhere: a link wrapped in an email
    return s


def _scheme_and_rest(s: str) -> tuple[str, str]:
    if s.startswith("https://"):
        scheme, rest = "https", s[8:]
    elif s.startswith("http://"):
        scheme, rest = "http", s[7:]
    else:
        scheme, rest = _split_scheme(s)
    if rest and rest[0] in "/\\":
        rest = rest.lstrip("/\\")  # browsers skip any run of slashes after "https:"
    return scheme, rest


def _split_port(authority: str) -> tuple[str, str | None]:
    """(host, port as written or None)."""
    if authority.startswith("["):
        end = authority.find("]") + 1
        if end and len(authority) > end:
            if authority[end] != ":":
                raise UnsafeURL(f"{_shown(authority)} is not a valid host")
            return authority[:end], authority[end + 1 :]
        return authority, None
    if ":" in authority:
        authority, _, port = authority.partition(":")
        return authority, port
    return authority, None


def _port_number(port: str | None, scheme: str) -> str | None:
    """The port to keep in the URL: None for the scheme's default, or for "example.com:"."""
    if not port:
        return None
    if not (port.isascii() and port.isdigit()):
        raise UnsafeURL(f"the port {_shown(port)} is not a number between 1 and 65535")
    n = int(port)
    if not 0 < n < 65536:
        raise UnsafeURL(f"the port {n} is not between 1 and 65535")
    return None if n == (443 if scheme == "https" else 80) else str(n)


def _on_platform(
    rule: _PlatformRule, host: str, path: str, query: str | None, fragment: str | None
) -> NormalizedURL:
    """A URL on a platform with its own rules: its aliases, its ids and its tracking."""
    folder, drop, sub = rule
    params = _clean_query(query, drop) if query else []
    kept = _sub_item(sub, path, query, params, fragment) if sub is not None else None
    scheme = "https"
    if kept is not None:
        # A sub-item: only the host is the platform's; path and query stay as pasted.
        host = folder(host, path, params, None)[0]
        return _assembled(scheme, host, None, path, params, kept or None)
    host, path, params = folder(host, path, params, fragment)
    forms = _forms_for(host)
    if forms is not None:
        folded = _fold_item(forms, host, path, params)
        if folded is not None:
            return _folded(folded, scheme, host, path, params)
    return _assembled(scheme, host, None, path, params, None)


def _elsewhere(
    scheme: str, host: str, port: str | None, path: str, query: str | None, fragment: str | None
) -> NormalizedURL:
    """A URL on any other site (or on a platform's host with a port): tracking dropped,
    items folded when the catalogue knows the host's URL forms."""
    params = _clean_query(query, _TRACKING) if query else []
    forms = _forms_for(host) if port is None else None
    kept = None
    if forms is not None:
        sub = forms[0].item.sub  # a host's forms are all one platform's
        kept = _sub_item(sub, path, query, params, fragment) if sub is not None else None
        if kept is None:
            folded = _fold_item(forms, host, path, params)
            if folded is not None:
                return _folded(folded, scheme, host, path, params)
    # Fragments are dropped (anchors, #t=30), except client-side routes ("#/video/1",
    # "#!/post/2"): on those single-page sites the fragment *is* the item. On a
    # catalogued platform, a fragment that names a comment is kept too.
    if kept:
        fragment = kept
    elif fragment and fragment[0] in "/!":
        fragment = _fix_escapes(fragment)
    else:
        fragment = None
    return _assembled(scheme, host, port, path, params, fragment)


def _assembled(
    scheme: str, host: str, port: str | None, path: str, params: list[str], fragment: str | None
) -> NormalizedURL:
    url = f"{scheme}://{host}:{port}{path}" if port else f"{scheme}://{host}{path}"
    if params:
        url += "?" + "&".join(params)
    if fragment:
        url += "#" + fragment
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"the URL is longer than {MAX_URL_LENGTH} characters once encoded")
    return NormalizedURL(url, host)


def _folded(folded: tuple[str, str], scheme: str, host: str, path: str, params: list[str]) -> NormalizedURL:
    canonical, canonical_host = folded
    via = f"{scheme}://{host}{path}?" + "&".join(params) if params else f"{scheme}://{host}{path}"
    return NormalizedURL(canonical, canonical_host, None if via == canonical else via)


# --------------------------------------------------------------------------------------------
# Domains and platform matching
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _match_form(host: str) -> str:
    """Lower-case, punycode, no trailing dot: how hosts and patterns are compared."""
    h = host.strip().lower().rstrip(".")
    if not h.isascii():
        try:
            h = _idna_encode(h)
        except UnicodeError:
            pass
    return h


def _is_ip_literal(h: str) -> bool:
    # WHATWG: a host whose last label is a number is an IPv4 address (or invalid), not a name.
    return h.startswith("[") or _NUMERIC_LABEL.fullmatch(h.rpartition(".")[2]) is not None


@functools.lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """The registrable domain (eTLD+1) of ``host`` per the bundled Public Suffix List,
    private section included (so "a.blogspot.com" stays "a.blogspot.com", as browsers see
    it). IP literals, and hosts that are themselves a public suffix, are returned unchanged.
    """
    h = _match_form(host)
    if _is_ip_literal(h):
        return h
    return _psl().privatesuffix(h) or h


class PlatformMatcher:
    """Host -> platform slug, by exact host or else the nearest listed parent domain."""

    __slots__ = ("_hosts",)

    def __init__(self, hosts: Mapping[str, str]) -> None:
        self._hosts = {_match_form(h): slug for h, slug in hosts.items()}

    def match(self, host: str) -> str | None:
        h = _match_form(host)
        get = self._hosts.get
        slug = get(h)
        if slug is not None or _is_ip_literal(h):
            return slug  # IP literals have no parents
        # Walking up by whole labels is what keeps "notyoutube.com" off "youtube.com".
        i = h.find(".")
        while i >= 0:
            h = h[i + 1 :]
            slug = get(h)
            if slug is not None:
                return slug
            i = h.find(".")
        return None


@functools.lru_cache(maxsize=4096)
def _pattern_form(pattern: str) -> str:
    p = pattern.strip()
    if "://" in p:
        p = p.partition("://")[2]
    p = p.partition("/")[0]
    if not p.startswith("["):
        p = p.partition(":")[0]
    p = _match_form(p.lstrip("*."))
    return _ALIAS_HOST.get(p, p)


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    """True if ``host`` is one of ``patterns`` or a subdomain of one.

    Patterns are domains ("bts.com", "*.bts.com" and "https://bts.com/" are all read as
    bts.com); platform aliases are folded, so "twitter.com" covers x.com.
    """
    h = _match_form(host)
    h = _ALIAS_HOST.get(h, h)
    for pattern in patterns:
        p = _pattern_form(pattern)
        if p and (h == p or h.endswith("." + p)):
            return True
    return False


# --------------------------------------------------------------------------------------------
# Official accounts: what an artist's own allow-list covers
# --------------------------------------------------------------------------------------------


class OfficialAccounts:
    """An artist's allow-list, split into hosts and URL prefixes for fast matching.

    Intake refuses a URL it covers, and the pre-send checks refuse a notice that lists one.
    """

    __slots__ = ("hosts", "prefixes")

    def __init__(self, entries: Iterable[str]) -> None:
        hosts: list[str] = []
        prefixes: list[str] = []
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            if "/" not in entry.split("://", 1)[-1].rstrip("/"):
                # A bare domain (or a site root): everything on it is official.
                hosts.append(entry.split("://", 1)[-1].rstrip("/").lower())
                continue
            try:
                norm = normalize_url(entry)
            except UnsafeURL:
                continue
            prefixes.append(norm.url.rstrip("/"))
        self.hosts = tuple(hosts)
        self.prefixes = tuple(prefixes)

    def covers(self, norm: NormalizedURL) -> str | None:
        """The host or URL prefix of the allow-list that covers `norm`, or None."""
        if self.hosts and host_matches(norm.host, self.hosts):
            return norm.host
        # An item folded to its canonical form (x.com/i/status/1) is checked as pasted too
        # (x.com/artist/status/1): the canonical form no longer names the account.
        for url in (norm.url, norm.via) if norm.via else (norm.url,):
            for prefix in self.prefixes:
                # Path boundary: x.com/artist covers x.com/artist/status/1, not x.com/artistfan.
                if url == prefix or url.startswith(prefix + "/") or url.startswith(prefix + "?"):
                    return prefix
        return None


class HasOfficialAccounts(Protocol):
    """What `official_matcher` reads of an artist (takedown.models.Artist has it)."""

    official_accounts: list[str] | None


def official_matcher(artist: HasOfficialAccounts) -> OfficialAccounts:
    """The matcher of one artist's allow-list (its `official_accounts`)."""
    return OfficialAccounts(artist.official_accounts or ())


# --------------------------------------------------------------------------------------------
# Cells: what a pasted CSV cell or form field holds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CellURLs:
    urls: tuple[str, ...]
    # What was done to the cell, for the row report ("split into 2 URLs ..."); None if nothing.
    note: str | None = None


# Anything a plain URL cell does not hold: whitespace, brackets, quotes, a second "://",
# "www." after a list separator, or prose punctuation at the end. Cells without any of these
# skip the slow path; the checks are plain string methods and one character class, because a
# regex alternation over every position costs more than normalising the URL.
_CELL_ODD_CHAR = re.compile(r"[\s<>\[\]\"]")
_CELL_LIST_WWW = re.compile(r"[,;|]www\.", re.I)
_CELL_ODD_END = frozenset(").,;:!?']")


def _cell_is_plain(s: str) -> bool:
    if s[-1] in _CELL_ODD_END or _CELL_ODD_CHAR.search(s) is not None:
        return False
    first = s.find("://")
    if first >= 0 and s.find("://", first + 3) >= 0:
        return False
    return not ("www." in s[1:] and _CELL_LIST_WWW.search(s) is not None)


_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*)>?\s*\)")
_ANGLE = re.compile(r"<([^<>\s]+)>")
# A second URL starts here: a scheme not inside a query value or an archive-style path
# ("?u=https://", "/web/2020/https://"), or "www." after a list separator.
_RUN_TOGETHER = re.compile(r"(?<=[^=/?&#%:(])(?=https?://)|[,;|]+(?=https?://|www\.)", re.I)
_TRAILING = ".,;:!?'\""
_LEADING = "(\"'"


def _trim(piece: str) -> tuple[str, str]:
    """(piece without prose punctuation around it, what was removed at the end)."""
    piece = piece.lstrip(_LEADING)
    end = len(piece)
    while end:
        c = piece[end - 1]
        if c in _TRAILING:
            end -= 1
        elif c == ")" and piece.count("(", 0, end) < piece.count(")", 0, end):
            end -= 1  # "(see https://x.com/a)" - a ")" the URL did not open
        elif c == "]" and piece.count("[", 0, end) < piece.count("]", 0, end):
            end -= 1
        else:
            break
    return piece[:end], piece[end:]


_URL_START = re.compile(r"https?://|www\.", re.I)


def _looks_like_url(piece: str) -> bool:
    if _URL_START.match(piece):
        return True  # meant as a URL: if it is refused, normalize_url says why
    try:
        normalize_url(piece)
    except UnsafeURL:
        return False
    return "/" in piece or "." in piece


def _unwrapped(s: str) -> tuple[str, list[str]]:
    """The URL inside a markdown link "[text](url)" or "<url>" that is the whole cell, and a
    note saying so."""
    m = _MARKDOWN_LINK.fullmatch(s)
    if m is not None:
        return m.group(2), ["took the URL out of a markdown link [text](url)"]
    m = _ANGLE.fullmatch(s)
    if m is not None:
        return m.group(1), ["took the URL out of <...>"]
    return s, []


def _cell_pieces(s: str) -> list[str]:
    """The cell cut at whitespace and where a second URL starts."""
    pieces: list[str] = []
    for token in s.split():
        pieces.extend(p for p in _RUN_TOGETHER.split(token) if p)
    return pieces


def _urls_among(pieces: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(the URLs, the pieces that are not URLs, the punctuation cut from after the URLs)."""
    urls: list[str] = []
    other: list[str] = []
    trimmed: list[str] = []
    for piece in pieces:
        inner = _MARKDOWN_LINK.fullmatch(piece) or _ANGLE.fullmatch(piece)
        if inner is not None:
            piece = inner.group(inner.lastindex or 1)
        url, cut = _trim(piece)
        if not url.strip(",;|"):
            continue  # a lone separator
        if _looks_like_url(url):
            urls.append(url)
            if cut:
                trimmed.append(cut)
        else:
            other.append(piece)
    return urls, other, trimmed


def split_cell(raw: str) -> CellURLs:
    """The URL(s) a pasted cell holds, and what was done to find them.

    A markdown link "[text](url)" or "<url>" gives its URL; prose punctuation after a URL
    ("url)." or "url,") is dropped; URLs run together ("https://a/1https://b/2") or separated
    by spaces, commas, semicolons or "|" are split. Each of these says so in `note`: nothing is
    merged or cut silently. A cell that holds a URL and other text raises UnsafeURL saying what
    was found. A cell with none of these passes through unchanged (the fast path).
    """
    s = raw.strip()
    if not s or _cell_is_plain(s):
        return CellURLs((s,))
    s, notes = _unwrapped(s)
    urls, other, trimmed = _urls_among(_cell_pieces(s))
    if other:
        if not urls:
            return CellURLs((raw.strip(),))  # no URL at all: normalize_url says what is wrong
        found = ", ".join(_shown(o) for o in other[:3]) + (" ..." if len(other) > 3 else "")
        raise UnsafeURL(
            f"the cell holds text besides the URL ({found}); put only the URL in it "
            "(write a space inside a URL as %20)"
        )
    if len(urls) > 1:
        trimmed = [t for t in trimmed if t.strip(",;|")]  # separators between URLs, not prose
    if trimmed:
        notes.append("dropped punctuation after the URL: " + " ".join(_shown(t) for t in trimmed))
    if len(urls) > 1:
        notes.append(f"split into {len(urls)} URLs")
    if not urls:
        return CellURLs((raw.strip(),))
    return CellURLs(tuple(urls), "; ".join(notes) or None)
