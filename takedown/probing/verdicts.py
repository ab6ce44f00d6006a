"""From a fetched page to a verdict, in the order PLATFORMS.md section 0 supports.

1. the edge/bot layer (a challenge or rate limit says nothing about the item);
2. redirects to a login, consent or challenge page (never a removal);
3. the status codes that mean the same on every site (404/410, 451, 5xx);
4. the platform's page-text markers and removal-redirect patterns (data, from the Platform row);
5. the platform detector (structured data, truthful endpoints);
6. generic HTTP: 2xx with content is live, anything else is inconclusive.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from yarl import URL

from takedown.probing.page import Page, normalize
from takedown.probing.types import (
    INCONCLUSIVE,
    LEGALLY_BLOCKED,
    LIVE,
    MARKER_KINDS,
    REDIRECT_MARKER_KIND,
    REMOVED,
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
        return Finding(INCONCLUSIVE, "bot challenge (cf-mitigated: challenge)")
    if page.status == 429:
        return Finding(INCONCLUSIVE, "http 429 (rate limited)")
    title = page.title.casefold()
    titles = _CHALLENGE_TITLES + _ERROR_TITLES if page.status >= 400 else _CHALLENGE_TITLES
    if any(t in title for t in titles):
        return Finding(INCONCLUSIVE, f"bot challenge page (title {page.title!r})")
    if page.status in (403, 503) and page.is_text:
        if found := next((m for m in _CHALLENGE_BODY if m in page.text), None):
            return Finding(INCONCLUSIVE, f"bot challenge page ({found!r} in a {page.status})")
    return None


def redirect_walls(page: Page) -> Finding | None:
    for hop in page.chain[1:]:
        if kind := wall_kind(hop):
            return Finding(INCONCLUSIVE, f"redirect to {kind} page")
    return None


def status_rules(page: Page) -> Finding | None:
    if page.status in (404, 410):
        return Finding(REMOVED, f"http {page.status}")
    if page.status == 451:
        return Finding(LEGALLY_BLOCKED, "http 451")
    if page.status >= 500:
        return Finding(INCONCLUSIVE, f"http {page.status}")
    return None


MIN_MARKER_CHARS = 3  # a shorter marker would match almost any page


def as_list(value: object) -> tuple[str, ...]:
    """Marker values as a tuple of strings; a bare string in a row is one marker, not a list of
    one-character markers (which would match every page)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(v for v in value if isinstance(v, str))
    return ()


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


def match_text(norm: str, table: Iterable[tuple[str, Sequence[str]]]) -> Finding | None:
    """The first (verdict, marker) whose marker is in ``norm`` (normalised text), in table order."""
    for verdict, markers in table:
        for original, needle in _normalized(as_list(markers)):
            if needle in norm:
                return Finding(verdict, f"marker: {original!r}")
    return None


def match_markers(page: Page, table: Iterable[tuple[str, Sequence[str]]]) -> Finding | None:
    table = tuple(table)
    return match_text(page.norm, table) if table and page.is_text else None


def marker_rules(page: Page, rules: PlatformRules) -> Finding | None:
    if not rules.markers:
        return None
    found = match_markers(page, ((k, as_list(rules.markers.get(k))) for k in MARKER_KINDS))
    if found:
        return found
    for pattern in _compiled(as_list(rules.markers.get(REDIRECT_MARKER_KIND))):
        for hop in page.chain[1:]:
            if pattern.search(str(hop)):
                return Finding(REMOVED, f"redirect to {hop} matches {pattern.pattern!r}")
    return None


def generic_rules(page: Page) -> Finding:
    if 200 <= page.status < 300:
        if not page.body:
            return Finding(INCONCLUSIVE, f"http {page.status} with an empty body")
        if page.is_media:
            return Finding(LIVE, f"http {page.status} ({page.content_type})")
        if page.is_html and len(page.visible_text) < 20 and "<script" in page.text.lower():
            return Finding(INCONCLUSIVE, "javascript-only page: nothing to see without a browser")
        return Finding(LIVE, f"http {page.status}")
    if page.status in (401, 403, 407):
        return Finding(INCONCLUSIVE, f"http {page.status} (access denied)")
    if 300 <= page.status < 400:
        return Finding(INCONCLUSIVE, f"http {page.status} without a usable location")
    return Finding(INCONCLUSIVE, f"http {page.status}")


def decide(page: Page, rules: PlatformRules, detector: object) -> Finding:
    for step in (edge_layer, redirect_walls, status_rules):
        if found := step(page):
            return found
    if found := marker_rules(page, rules):
        return found
    if found := detector.classify(page):  # type: ignore[attr-defined]
        return found
    return generic_rules(page)
