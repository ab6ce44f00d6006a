"""From a fetched page to a verdict, strongest evidence first (docs/architecture.md, "Verdicts").

1. the edge/bot layer (a challenge or rate limit says nothing about the item);
2. redirects to a login, consent or challenge page (never a removal);
3. the status codes that mean the same on every site (404/410, 451, 5xx);
4. the platform's page-text markers and removal-redirect patterns (data, from the Platform row),
   each matched only in the place it belongs to (see "Marker zones" below);
5. the platform detector (structured data, truthful endpoints);
6. generic HTTP: 2xx with content is live, anything else is inconclusive; for hosts without a
   detector the prober then compares a 2xx answer with the host's answer for a random path
   (``soft404``).

Positive evidence. A false "removed" is the worst answer this product can give: the abuse
stays up while the agency believes it gone. So ``removed`` is only ever concluded from
something the platform itself controls and its users cannot write:

- the HTTP status of the item (404, 410) and the platform's own redirects
  (``removed_redirects``, a detector's redirect rules);
- structured data the platform fills in (YouTube ``playabilityStatus``, TikTok
  ``statusCode``, Reddit ``removed_by_category``, X syndication tombstones);
- text inside the platform's own error container (Telegram ``tgme_widget_message_error``,
  XVideos ``h1.inlineError``, Pornhub ``div.removed``); never text in titles, descriptions,
  captions, comments or post bodies, which users write and which may quote any removal text;
- on an unlisted host, a domain that does not exist, but only when the resolver answered for
  a control name in the same run (the prober) and the failure persists across the
  confirmations (rechecks).

A 200 page that is the very page the host serves for a random path that cannot exist (the
soft-404 test of Bar-Yossef et al., WWW 2004) is ``soft_removed``: we cannot tell deleted
from hidden. A page showing media, an embed, a canonical address or an og:title that the
random-path page lacks is never that page, however few words tell them apart; a redirect shared
with the random path is a removal only when it lands on the site's home, and any other shared
target (an age check, a disclaimer, a sign-up page) is a gate: ``inconclusive``.

Sub-items. A URL naming a comment or a reply that the fetched page cannot show (Telegram
``?comment=``, YouTube ``lc=``, Facebook ``comment_id``, Instagram ``/c/``) is ``removed`` when
its parent is, and otherwise ``inconclusive``: a live parent says nothing about one comment. A network failure (DNS, refused or reset connection, TLS, timeout) on a
registry platform's host says nothing about the item: ``inconclusive``, always.

Marker zones. A marker in a Platform row is ``"@<zone> <text>"``, or a bare ``"<text>"`` for
the ``error`` zone. Zones: ``error`` (the detector's error containers: ``Detector.error_text``),
a simple CSS selector (``div.removed``, ``#noVideo``, ``h1.inlineError``), a zone the detector
names (``playability``, ``alerts``, ``tombstone``), ``title`` (the whole title, or the title
up to a short site-name suffix), ``markup`` (the page's tags and scripts, raw: an attribute
such as ``class="geoBlocked"``, which user text cannot produce there) and ``page`` (any text
at all). ``page`` and ``title`` may only support ``inconclusive``; ``markup`` never supports
``removed``. ``PlatformRules.problems`` tells staff, and matching skips such a marker.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from html.parser import HTMLParser

from yarl import URL

from takedown.probing.page import Page, normalize, parse_selector
from takedown.probing.types import (
    INCONCLUSIVE,
    LEGALLY_BLOCKED,
    LIVE,
    MARKER_KINDS,
    REDIRECT_MARKER_KIND,
    REMOVED,
    RESTRICTED,
    SOFT_REMOVED,
    Finding,
    PlatformRules,
)

# Cloudflare challenge bodies [CF2]. Only on a 403/503: Cloudflare also injects
# /cdn-cgi/challenge-platform/scripts/jsd/main.js into ordinary live pages of sites that run
# its bot detection, so on a 200 that path alone means nothing.
_CHALLENGE_BODY = (
    "_cf_chl_opt",
    "/cdn-cgi/challenge-platform/",
    "jschl_vc",
    "jschl_answer",
    "cf-challenge-running",
    "cf-turnstile-response",
    "cf-error-details",
)
_CHALLENGE_TITLES = (
    "just a moment...",
    "attention required! | cloudflare",
    "are you a robot",
    "verify you are human",
)
# Too common in ordinary titles to mean anything on a success.
_ERROR_TITLES = ("access denied", "captcha", "security check")

# Login, consent and challenge pages that logged-out fetchers are sent to for live items
# (Instagram /accounts/login/, Facebook /login/?next=, TikTok /login, X /i/flow/login,
# YouTube consent.youtube.com, Instagram /challenge/).
_WALL_PATH = re.compile(
    r"^/(?:[a-z]{2}(?:[-_][a-z]{2})?/)?"  # optional locale, /en/login
    r"(?:(?:accounts?|auth|users?|members?|i/flow)/)?"
    r"(?:login|log-in|signin|sign-in|sign_in|logon|checkpoint|challenge|consent|captcha)(?=[/.?#]|$)",
    re.I,
)
_WALL_HOSTS = {
    "consent.youtube.com": "consent",
    "consent.google.com": "consent",
    "accounts.google.com": "login",
    # Korean portals' login hosts (members-only boards send logged-out readers there)
    "nid.naver.com": "login",
    "accounts.kakao.com": "login",
    "logins.daum.net": "login",
}


def wall_kind(url: URL) -> str | None:
    """'login', 'consent' or 'challenge' when url is such a page, else None."""
    host = (url.raw_host or "").lower()
    if host in _WALL_HOSTS:
        return _WALL_HOSTS[host]
    if host.startswith(("login.", "signin.", "auth.")):
        return "login"
    m = _WALL_PATH.match(url.path)
    if m is None:
        return None
    word = m.group(0).lower()
    if "consent" in word:
        return "consent"
    if "challenge" in word or "checkpoint" in word or "captcha" in word:
        return "challenge"
    return "login"


def edge_layer(page: Page) -> Finding | None:
    if (page.headers.get("cf-mitigated") or "").strip().lower() == "challenge":
        return Finding(INCONCLUSIVE, "bot challenge (cf-mitigated: challenge)", "edge.cf_mitigated")
    if page.status == 429:
        return Finding(INCONCLUSIVE, "http 429 (rate limited)", "status.429")
    title = page.title.casefold()
    titles = _CHALLENGE_TITLES + _ERROR_TITLES if page.status >= 400 else _CHALLENGE_TITLES
    if any(t in title for t in titles):
        return Finding(INCONCLUSIVE, f"bot challenge page (title {page.title!r})", "edge.challenge_title")
    if page.status in (403, 503) and page.is_text:
        if found := next((m for m in _CHALLENGE_BODY if m in page.text), None):
            return Finding(
                INCONCLUSIVE, f"bot challenge page ({found!r} in a {page.status})", "edge.challenge_body"
            )
    return None


def redirect_walls(page: Page) -> Finding | None:
    for hop in page.chain[1:]:
        if kind := wall_kind(hop):
            return Finding(INCONCLUSIVE, f"redirect to {kind} page", f"redirect.{kind}")
    return None


def status_rules(page: Page) -> Finding | None:
    if page.status in (404, 410):
        return Finding(REMOVED, f"http {page.status}", f"status.{page.status}")
    if page.status == 451:
        return Finding(LEGALLY_BLOCKED, "http 451", "status.451")
    if page.status >= 500:
        return Finding(INCONCLUSIVE, f"http {page.status}", "status.5xx")
    return None


MIN_MARKER_CHARS = 3  # a shorter marker would match almost any page

# Zones that are not CSS selectors; a detector may name more (Detector.zones).
ZONE_ERROR, ZONE_TITLE, ZONE_MARKUP, ZONE_PAGE = "error", "title", "markup", "page"
# What each generic zone may support: text anywhere on a page is written by users as often as
# by the platform, and a title is the item's own (user-written) title on every platform with
# user content, so both may only make us cautious; raw markup is no error message.
_ZONE_MAY_NOT = {
    ZONE_PAGE: frozenset({REMOVED, LEGALLY_BLOCKED, SOFT_REMOVED, RESTRICTED}),
    ZONE_TITLE: frozenset({REMOVED, LEGALLY_BLOCKED, SOFT_REMOVED, RESTRICTED}),
    ZONE_MARKUP: frozenset({REMOVED}),
}
_TITLE_SUFFIX = re.compile(r"^\s*(?:[|\-–—•:·]\s*)?[^|\-–—•:·]{0,40}$")


def as_list(value: object) -> tuple[str, ...]:
    """Marker values as a tuple of strings; a bare string in a row is one marker, not a list of
    one-character markers (which would match every page)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def parse_marker(marker: str) -> tuple[str, str]:
    """(zone, text) of a marker: ``"@zone text"``, or a bare text for the error zone."""
    marker = marker.strip()
    if marker.startswith("@"):
        zone, _, text = marker[1:].partition(" ")
        return zone.strip(), text.strip()
    return ZONE_ERROR, marker


def marker_problem(kind: str, marker: str, detector: object | None) -> str | None:
    """Why a Platform row's marker cannot be used for ``kind``, or None."""
    zone, text = parse_marker(marker)
    if len(normalize(text).strip()) < MIN_MARKER_CHARS:
        return f"marker {marker!r} is too short to mean anything"
    named = getattr(detector, "zones", ()) or ()
    if zone not in (ZONE_ERROR, ZONE_TITLE, ZONE_MARKUP, ZONE_PAGE, *named) and parse_selector(zone) is None:
        return f"marker {marker!r}: unknown zone {zone!r} (error, title, markup, page, a simple CSS selector{', ' if named else ''}{', '.join(named)})"
    if kind in _ZONE_MAY_NOT.get(zone, ()):
        return f"marker {marker!r}: text in {zone!r} is not evidence of {kind!r}"
    if zone == ZONE_ERROR and detector is not None and not _has_error_box(detector):
        name = getattr(detector, "name", "?")
        return f"marker {marker!r}: detector {name!r} knows no error box; say where, e.g. '@div.error {text}'"
    return None


def _has_error_box(detector: object) -> bool:
    from takedown.probing.detectors.base import Detector

    overridden = type(detector).error_text is not Detector.error_text
    return overridden or bool(getattr(detector, "error_selectors", ()))


@functools.lru_cache(maxsize=1024)
def _parsed(markers: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    """(original, zone, normalised text) of the usable markers."""
    out = []
    for m in markers:
        zone, text = parse_marker(m)
        needle = (_WS_RAW.sub(" ", text).casefold() if zone == ZONE_MARKUP else normalize(text)).strip()
        if len(needle) >= MIN_MARKER_CHARS:
            out.append((m, zone, needle))
    return tuple(out)


_WS_RAW = re.compile(r"\s+")


@functools.lru_cache(maxsize=512)
def _normalized(markers: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = ((m, normalize(m).strip()) for m in markers)
    return tuple((m, n) for m, n in pairs if len(n) >= MIN_MARKER_CHARS)


@functools.lru_cache(maxsize=512)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p, re.I))
        except re.error:
            continue  # PlatformRules.problems() reports it to staff; a bad row must not stop a batch
    return tuple(out)


def match_text(norm: str, table: Iterable[tuple[str, Sequence[str]]], rule: str = "text") -> Finding | None:
    """The first (verdict, marker) whose marker is in ``norm``, text already confined to one
    platform-owned field (a tombstone, an error message), in table order."""
    for verdict, markers in table:
        for original, needle in _normalized(as_list(markers)):
            if needle in norm:
                return Finding(verdict, f"marker: {original!r}", f"{rule}.{verdict}")
    return None


def zone_text(page: Page, zone: str, detector: object | None) -> str:
    """The normalised text of one zone of the page ("" when the page has no such place)."""
    if not page.is_text:
        return ""
    if zone == ZONE_PAGE:
        return page.norm
    if zone == ZONE_MARKUP:
        return page.markup
    if zone == ZONE_TITLE:
        return normalize(page.title).strip()
    if detector is not None:
        if zone == ZONE_ERROR:
            return normalize(detector.error_text(page))  # type: ignore[attr-defined]
        if zone in (getattr(detector, "zones", ()) or ()):
            return normalize(detector.zone_text(page, zone))  # type: ignore[attr-defined]
    if parse_selector(zone) is not None:
        return normalize(page.select((zone,)))
    return ""


def _hit(zone: str, text: str, needle: str) -> bool:
    if zone == ZONE_TITLE:
        # The whole title, or the title up to a short site-name suffix ("Page Not Found |
        # Facebook"): never a word inside a longer (user-written) title.
        return text == needle or (text.startswith(needle) and bool(_TITLE_SUFFIX.match(text[len(needle) :])))
    return needle in text


def match_scoped(
    page: Page, table: Iterable[tuple[str, Sequence[str]]], detector: object | None, source: str
) -> Finding | None:
    """The first marker of ``table`` found in its own zone, in table order."""
    if not page.is_text:
        return None
    texts: dict[str, str] = {}
    for verdict, markers in table:
        for original, zone, needle in _parsed(as_list(markers)):
            if verdict in _ZONE_MAY_NOT.get(zone, ()):
                continue  # kept out by problems(); a row saved before the rule must not decide
            if zone not in texts:
                texts[zone] = zone_text(page, zone, detector)
            if texts[zone] and _hit(zone, texts[zone], needle):
                _, text = parse_marker(original)
                return Finding(verdict, f"marker {text!r} in {zone}", f"{source}.{verdict}@{zone}")
    return None


def match_markers(
    page: Page, table: Iterable[tuple[str, Sequence[str]]], detector: object | None = None
) -> Finding | None:
    table = tuple(table)
    return match_scoped(page, table, detector, "marker") if table else None


def marker_rules(page: Page, rules: PlatformRules, detector: object | None = None) -> Finding | None:
    if not rules.markers:
        return None
    found = match_scoped(page, ((k, as_list(rules.markers.get(k))) for k in MARKER_KINDS), detector, "marker")
    if found:
        return found
    for pattern in _compiled(as_list(rules.markers.get(REDIRECT_MARKER_KIND))):
        for hop in page.chain[1:]:
            if pattern.search(str(hop)):
                return Finding(
                    REMOVED, f"redirect to {hop} matches {pattern.pattern!r}", "redirect.removal_pattern"
                )
    return None


def generic_rules(page: Page) -> Finding:
    if 200 <= page.status < 300:
        if not page.body:
            return Finding(INCONCLUSIVE, f"http {page.status} with an empty body", "status.2xx.empty")
        if page.is_media:
            return Finding(LIVE, f"http {page.status} ({page.content_type})", "status.2xx.media")
        if page.is_html and len(page.visible_text) < 20 and "<script" in page.text.lower():
            return Finding(
                INCONCLUSIVE, "javascript-only page: nothing to see without a browser", "status.2xx.js_shell"
            )
        return Finding(LIVE, f"http {page.status}", "status.2xx")
    if page.status in (401, 403, 407):
        return Finding(INCONCLUSIVE, f"http {page.status} (access denied)", f"status.{page.status}")
    if 300 <= page.status < 400:
        return Finding(INCONCLUSIVE, f"http {page.status} without a usable location", "status.3xx")
    return Finding(INCONCLUSIVE, f"http {page.status}", "status.other")


def decide(page: Page, rules: PlatformRules, detector: object) -> Finding:
    return parent_only(page, _decide(page, rules, detector), detector)


def _decide(page: Page, rules: PlatformRules, detector: object) -> Finding:
    for step in (edge_layer, redirect_walls, status_rules):
        if found := step(page):
            return found
    if found := marker_rules(page, rules, detector):
        return found
    if found := detector.classify(page):  # type: ignore[attr-defined]
        return found
    return generic_rules(page)


def parent_only(page: Page, finding: Finding, detector: object) -> Finding:
    """A URL naming a sub-item the fetched page cannot show (a comment, a reply) is judged by
    its parent page only where that is positive evidence: a comment cannot outlive the post
    it was written under, so the post's removal removes it; a live post says nothing about
    one comment under it, which may be gone while the post stays."""
    sub = detector.sub_item(page.requested)  # type: ignore[attr-defined]
    if sub is None or finding.verdict == INCONCLUSIVE:
        return finding
    if finding.verdict == REMOVED:
        return finding._replace(reason=f"{finding.reason} (the {sub} goes with the page it belongs to)")
    name = getattr(detector, "name", "generic")
    return Finding(
        INCONCLUSIVE,
        f"{name}: {detector.sub_item_note}; the page it belongs to is "  # type: ignore[attr-defined]
        f"{finding.verdict} ({finding.reason})",
        f"{name}.{sub}.unreadable",
    )


# ------------------------------------------------------------------------------ soft-404

SHINGLE = 3
# Two answers are "the same page" when, after the echoed path, digits and case are taken out,
# at most SOFT404_MAX_DIFF word 3-shingles differ between them, and at most one in
# SOFT404_MAX_SHARE of all their shingles: about two changed words (one word changes up to
# three shingles), i.e. a request id or a date, never a real item's text. Mainly an absolute
# count, so that a live page whose small content sits in a big shared template (90% template
# is common) still differs by all of its content; the share keeps two short, different pages
# ("a clip page" and "not found") apart: under ten shingles, only identical pages match.
SOFT404_MAX_DIFF = 6
SOFT404_MAX_SHARE = 10
_WORD = re.compile(r"[^\W\d_]+")
_APP_SHELL = (
    'id="root"',
    'id="app"',
    'id="__next"',
    'id="__nuxt"',
    "data-reactroot",
    "ng-version",
    "<app-root",
)


def _echoes(url: URL) -> list[str]:
    """What a "not found" page may echo back of the URL asked for."""
    from urllib.parse import unquote

    # Whole URLs and paths only: a path's words ("videos") are often the template's words too.
    out = [str(url), url.path, unquote(url.raw_path_qs), url.path.rstrip("/")]
    out += [v for v in url.query.values() if len(v) >= 6]
    return sorted({normalize(e).strip() for e in out if e.strip()}, key=len, reverse=True)


def page_shape(page: Page) -> frozenset[tuple[str, ...]]:
    """Word shingles of the page's title and visible text, echoes of its URL taken out (cached
    on the page: a host's random-path page is compared with every item of the run)."""
    cached = page.__dict__.get("_shape")
    if cached is not None:
        return cached
    text = normalize(page.title + " \n " + page.visible_text)
    for echo in _echoes(page.requested):
        if echo:
            text = text.replace(echo, " ")
    words = _WORD.findall(text)
    if len(words) < SHINGLE:
        shape = frozenset({tuple(words)})
    else:
        shape = frozenset(tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))
    page.__dict__["_shape"] = shape
    return shape


class _Identity(HTMLParser):
    """What makes a content page distinct beyond its words: the media and embeds it shows,
    its canonical address and its og:title (an image or a video with no caption is the whole
    item on many hosts, and differs from a "not found" page by a few template words only)."""

    _SRC = {
        "img": ("src",),
        "video": ("src", "poster"),
        "source": ("src",),
        "iframe": ("src",),
        "embed": ("src",),
    }
    _META = ("og:image", "og:image:url", "og:video", "og:video:url", "og:title")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "").strip() for k, v in attrs}
        for attr in self._SRC.get(tag, ()):
            if values.get(attr):
                self.found.append(("media", values[attr]))
        if tag == "link" and "canonical" in values.get("rel", "").lower().split() and values.get("href"):
            self.found.append(("canonical", values["href"]))
        if tag == "meta":
            name = (values.get("property") or values.get("name") or "").lower()
            if name in self._META and values.get("content"):
                self.found.append((name, values["content"]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def page_identity(page: Page) -> frozenset[tuple[str, str]]:
    """(kind, value) of the page's media sources, canonical link and og fields, echoes of its
    URL taken out and query strings of sources dropped (cache busters change per request)."""
    cached = page.__dict__.get("_identity")
    if cached is not None:
        return cached
    parser = _Identity()
    if page.is_html:
        try:
            parser.feed(page.text)
            parser.close()
        except (AssertionError, ValueError):  # html.parser gives up on some broken markup
            pass
    echoes = [e for e in _echoes(page.requested) if len(e) > 1]
    out = set()
    for kind, value in parser.found[:2000]:
        if value.lower().startswith("data:"):
            continue  # an inline placeholder, the same on every page
        value = normalize(value).strip()
        if kind == "og:title":
            value = " ".join(_WORD.findall(value))  # as in the shingles: a number is no title
        else:
            value = value.split("?", 1)[0].split("#", 1)[0]
        for echo in echoes:
            value = value.replace(echo, " ")
        value = value.strip()
        if value:
            out.add((kind.removesuffix(":url"), value[:300]))
    identity = frozenset(out)
    page.__dict__["_identity"] = identity
    return identity


def soft404(page: Page, baseline: Page) -> Finding:
    """Compare a 2xx answer with the host's answer for a random path that cannot exist."""
    if page.chain[0].path in ("", "/") and not page.chain[0].query_string:
        # The home page is where random paths are often sent: comparing it says nothing.
        return Finding(LIVE, f"http {page.status} (the host's home page)", "status.2xx.home_page")
    if len(page.chain) > 1 and len(baseline.chain) > 1 and page.url == baseline.url:
        if page.url.path not in ("", "/") or page.url.query_string:
            # A gate every visitor is sent to (an age check, a disclaimer, a sign-up page,
            # an interstitial): the host sends live items there as well as random paths.
            return Finding(
                INCONCLUSIVE,
                f"redirected to {page.url}, where the host sends a random path too: "
                "a gate every visitor passes, not the item",
                "soft404.same_gate_as_random_path",
            )
        # The site's home, where hosts send what they no longer have; only for an item URL
        # with a path of its own (a bare host was compared as the home page above).
        return Finding(
            SOFT_REMOVED,
            f"redirected to the home page {page.url}, where the host sends a random path too",
            "soft404.same_redirect_as_random_path",
        )
    if not 200 <= baseline.status < 300:
        return Finding(
            LIVE,
            f"http {page.status}; a random path on this host answers {baseline.status}",
            "status.2xx.distinct_from_random_path",
        )
    if page.is_text and baseline.is_text:
        if own := page_identity(page) - page_identity(baseline):
            kind, value = sorted(own)[0]
            return Finding(
                LIVE,
                f"http {page.status}; shows what the host's page for a random path lacks "
                f"({kind} {value[:120]}{'' if len(own) == 1 else f' and {len(own) - 1} more'})",
                "soft404.own_media_or_identity",
            )
        mine, theirs = page_shape(page), page_shape(baseline)
        differing = len(mine ^ theirs)
        same = differing <= min(SOFT404_MAX_DIFF, len(mine | theirs) // SOFT404_MAX_SHARE)
        if same and any(m in page.markup for m in _APP_SHELL):
            # A JavaScript application serves one shell for every path and draws the item
            # in the browser: the same page says nothing about the item.
            return Finding(
                INCONCLUSIVE,
                f"http {page.status}: the same application shell as a random path on this host",
                "soft404.same_app_shell",
            )
        if same:
            return Finding(
                SOFT_REMOVED,
                f"http {page.status}, but the same page as a random path on this host "
                f"({differing} of {len(mine | theirs)} shingles differ)",
                "soft404.same_as_random_path",
            )
        return Finding(
            LIVE,
            f"http {page.status}; differs from the host's page for a random path ({differing} shingles)",
            "soft404.differs_from_random_path",
        )
    return Finding(LIVE, f"http {page.status}", "status.2xx")
