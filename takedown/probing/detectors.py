"""Per-platform detectors: where a plain GET is not enough, one small class per platform.

A detector may ``rewrite`` the item URL to the endpoint that tells the truth (X syndication,
Telegram's embed widget, Reddit's JSON), add request headers for that platform, and
``classify`` the page that ends the chain. ``classify`` returns None when it has no opinion;
the generic HTTP rules then decide. The platform's own page texts live in the Platform row
(PlatformRules.markers) and are tried before the detector; the built-in texts here are the
sourced defaults from shared/PLATFORMS.md, used when the row has none that match.

Every fact is second-hand (see PLATFORMS.md, "Method"): where that file says *unverified* the
code says so too.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from yarl import URL

from takedown.probing.page import Page, first_json_value, normalize, text_of
from takedown.probing.types import (
    INCONCLUSIVE,
    LEGALLY_BLOCKED,
    LIVE,
    REMOVED,
    RESTRICTED,
    SOFT_REMOVED,
    Finding,
)
from takedown.probing.verdicts import match_markers, match_text

log = logging.getLogger(__name__)

MarkerTable = Sequence[tuple[str, Sequence[str]]]


class Detector:
    name: ClassVar[str] = "generic"
    # Built-in page texts, tried in order after the Platform row's markers.
    markers: ClassVar[MarkerTable] = ()
    # A larger body cap for platforms whose signal sits deep in a big page; None = config's.
    body_limit: ClassVar[int | None] = None

    def rewrite(self, url: URL) -> URL:
        return url

    def request_headers(self, url: URL) -> Mapping[str, str]:
        return {}

    def classify(self, page: Page) -> Finding | None:
        return match_markers(page, self.markers)


DETECTORS: dict[str, Detector] = {}


def register(cls: type[Detector]) -> type[Detector]:
    DETECTORS[cls.name] = cls()
    return cls


def detector_for(name: str) -> Detector:
    detector = DETECTORS.get(name)
    if detector is None:
        log.warning("unknown detector %r, using the generic rules", name)
        return DETECTORS["generic"]
    return detector


def _host(url: URL) -> str:
    return (url.raw_host or "").lower()


def _strings(value: Any, depth: int = 0) -> list[str]:
    if depth > 8:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v, depth + 1)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, depth + 1)]
    return []


def _keys(value: Any, depth: int = 0) -> set[str]:
    if depth > 8:
        return set()
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v, depth + 1)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v, depth + 1)}
    return set()


def _dig(value: Any, *path: str | int) -> Any:
    for step in path:
        if isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


@register
class Generic(Detector):
    name = "generic"


# ---------------------------------------------------------------------------------- YouTube


@register
class YouTube(Detector):
    """Every watch page answers 200 and contains "video unavailable" in a JS i18n blob
    [AA2]; the truth is ytInitialPlayerResponse.playabilityStatus in the raw HTML [Y7][Y8]."""

    name = "youtube"
    # Watch pages weigh ~1 MB and the player response follows a long head; how deep it sits
    # is *unverified*, so read more than the default 256 KB here.
    body_limit = 1024 * 1024
    _WATCH = re.compile(r"^/(?:watch|shorts/|live/|embed/|v/)")
    _HOSTS = ("youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com")

    def rewrite(self, url: URL) -> URL:
        host = _host(url)
        if host == "youtu.be" and len(url.path) > 1:
            return URL.build(scheme="https", host="www.youtube.com", path="/watch",
                             query={"v": url.path[1:].split("/")[0]})
        if host in self._HOSTS and (m := re.match(r"^/(?:shorts|live|embed|v)/([\w-]{6,})", url.path)):
            return URL.build(scheme="https", host="www.youtube.com", path="/watch", query={"v": m.group(1)})
        return url

    def request_headers(self, url: URL) -> Mapping[str, str]:
        if _host(url).endswith("youtube.com"):
            # SOCS=CAI skips the EU consent interstitial [Y14]; PREF hl=en forces English texts.
            return {"Cookie": "SOCS=CAI; PREF=hl=en&gl=US"}
        return {}

    def classify(self, page: Page) -> Finding | None:
        if not page.is_html:
            return None
        status = self._playability(page.text)
        if status is not None:
            return self._judge(status)
        if alert := self._channel_alert(page.text):
            return alert
        if self._WATCH.match(page.requested.path) or self._WATCH.match(page.url.path):
            return Finding(INCONCLUSIVE, "youtube: watch page without a playability status")
        return None

    @staticmethod
    def _playability(text: str) -> dict[str, Any] | None:
        start = max(text.find("ytInitialPlayerResponse"), 0)
        key = '"playabilityStatus"'
        i = text.find(key, start)
        if i < 0:
            return None
        value = first_json_value(text, i + len(key))
        return value if isinstance(value, dict) else None

    @staticmethod
    def _judge(status: dict[str, Any]) -> Finding:
        code = str(status.get("status") or "").upper()
        words = normalize(" ".join(_strings(status)))
        reason = next((s for s in _strings(status.get("reason")) if s.strip()), "")
        shown = f"youtube: {code}" + (f" ({reason.strip()[:120]})" if reason else "")
        if any("captcha" in k.lower() for k in _keys(status)) or "not a bot" in words:
            return Finding(INCONCLUSIVE, shown + ": bot wall")
        if "try again later" in words:
            return Finding(INCONCLUSIVE, shown + ": throttled")
        if code in ("OK", "LIVE_STREAM_OFFLINE"):
            return Finding(LIVE, shown)
        if "in your country" in words:  # [Y12][Y13][Y1]: copyright or uploader geo block
            return Finding(LEGALLY_BLOCKED, shown)
        if "private" in words:  # [Y5][Y4]
            return Finding(SOFT_REMOVED, shown)
        if code.startswith(("AGE_", "CONTENT_CHECK")) or "confirm your age" in words or (
            "inappropriate for some users" in words
        ):
            return Finding(RESTRICTED, shown)
        if code == "ERROR":  # "Video unavailable" + subreason: deleted, terminated, copyright
            return Finding(REMOVED, shown)
        if code == "UNPLAYABLE":
            removal = ("removed", "terminated", "no longer available", "copyright claim", "deleted")
            if any(w in words for w in removal):
                return Finding(REMOVED, shown)
            if "members" in words:
                return Finding(RESTRICTED, shown)
        return Finding(INCONCLUSIVE, shown)

    @staticmethod
    def _channel_alert(text: str) -> Finding | None:
        # Terminated or removed channels [Y6][Y3][Y17]: ytInitialData.alerts[].alertRenderer.
        pos = 0
        for _ in range(5):
            i = text.find('"alertRenderer"', pos)
            if i < 0:
                return None
            pos = i + 1
            alert = first_json_value(text, i + len('"alertRenderer"'))
            if not isinstance(alert, dict) or alert.get("type") != "ERROR":
                continue
            words = normalize(" ".join(_strings(alert)))
            if "terminated" in words or "was removed because" in words:
                return Finding(REMOVED, "youtube: channel " + ("terminated" if "terminated" in words else "removed"))
        return None


# ---------------------------------------------------------------------------------------- X


def syndication_token(tweet_id: str) -> str:
    """react-tweet's token: ((Number(id) / 1e15) * Math.PI).toString(36) without '0' and '.'.

    A note in one public repository says the endpoint did not check it in 2026 (*unverified*);
    it is computed faithfully anyway, JavaScript's number-to-radix-string algorithm included.
    """
    return _js_radix_string(float(int(tweet_id)) / 1e15 * math.pi, 36).replace("0", "").replace(".", "")


def _js_radix_string(value: float, radix: int) -> str:
    """V8's DoubleToRadixCString for a finite non-negative double."""
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    integer = math.floor(value)
    fraction = value - integer
    delta = max(0.5 * (math.nextafter(value, math.inf) - value), math.nextafter(0.0, 1.0))
    digits: list[str] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            digits.append(chars[digit])
            fraction -= digit
            if (fraction > 0.5 or (fraction == 0.5 and digit & 1)) and fraction + delta > 1:
                # round up, propagating the carry through the digits already written
                while True:
                    if not digits:
                        integer += 1
                        break
                    last = chars.index(digits.pop())
                    if last + 1 < radix:
                        digits.append(chars[last + 1])
                        break
                break
            if fraction < delta:
                break
    whole = ""
    n = int(integer)
    while True:
        n, r = divmod(n, radix)
        whole = chars[r] + whole
        if n == 0:
            break
    return whole + ("." + "".join(digits) if digits else "")


@register
class X(Detector):
    """x.com serves the same JavaScript shell for every state [X1][X2]; tombstones are only in
    the APIs. Post URLs are fetched from the syndication endpoint instead [RT1]. Its answers
    are a side channel: sensitive posts come back "not found" when logged out and valid posts
    have been reported as tombstoned [RT2][RT3] — which is why a state changes only after
    consecutive conclusive checks."""

    name = "x"
    syndication = "https://cdn.syndication.twimg.com/tweet-result"
    _HOSTS = frozenset({"x.com", "www.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com",
                        "mobile.x.com"})
    _STATUS = re.compile(r"^/(?:[A-Za-z0-9_]{1,50}|i(?:/web)?)/status(?:es)?/(\d{1,25})(?:/|$)")
    markers = (
        (RESTRICTED, ("age-restricted",)),
        (SOFT_REMOVED, ("this account owner limits who can view their posts",)),
        (REMOVED, ("has been withheld in response to a report from the copyright holder",)),
        (LEGALLY_BLOCKED, ("has been withheld in",)),
        (REMOVED, ("was deleted by the post author", "was deleted by the tweet author",
                   "is from a suspended account", "is from an account that no longer exists",
                   "violated the x rules", "violated the twitter rules")),
    )
    _UNAVAILABLE = {"suspended": REMOVED, "protected": SOFT_REMOVED, "nsfwloggedout": RESTRICTED,
                    "nsfwviewerhasnostatedage": RESTRICTED, "withheld": LEGALLY_BLOCKED}

    def rewrite(self, url: URL) -> URL:
        if _host(url) in self._HOSTS and (m := self._STATUS.match(url.path)):
            tweet_id = m.group(1)
            return URL(self.syndication).with_query(id=tweet_id, lang="en", token=syndication_token(tweet_id))
        return url

    def classify(self, page: Page) -> Finding | None:
        if not page.url.path.endswith("/tweet-result"):
            return Finding(INCONCLUSIVE, "x: the page is the same JavaScript shell for every state")
        data = page.json
        if data == {}:
            return Finding(REMOVED, "x syndication: not found (empty answer)")
        if not isinstance(data, dict):
            return Finding(INCONCLUSIVE, "x syndication: not a JSON object")
        kind = data.get("__typename")
        if kind == "TweetTombstone":
            text = " ".join(_strings(data.get("tombstone"))) or "(no text)"
            found = match_text(normalize(text), self.markers)
            return Finding(found.verdict if found else INCONCLUSIVE, f"x tombstone: {text[:160]}")
        if kind == "TweetUnavailable":
            reason = str(data.get("reason") or "")
            return Finding(self._UNAVAILABLE.get(reason.lower(), INCONCLUSIVE), f"x unavailable: {reason}")
        withheld = data.get("withheld_in_countries") or []
        if data.get("withheld_copyright") or {"XX", "XY"} & set(withheld):
            return Finding(REMOVED, "x: withheld everywhere / copyright")
        if withheld:  # depends on the checker's exit country [XW3]
            return Finding(LEGALLY_BLOCKED, f"x: withheld in {', '.join(map(str, withheld[:10]))}")
        if kind == "Tweet" or "id_str" in data:
            return Finding(LIVE, "x syndication: post returned")
        return Finding(INCONCLUSIVE, "x syndication: unrecognised answer")


# --------------------------------------------------------------------------------- Telegram


@register
class Telegram(Detector):
    """Post pages answer best through the embed widget, server-rendered [TG1][TG2]."""

    name = "telegram"
    _HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me", "telegram.dog"})
    _POST = re.compile(r"^/(?:s/)?([A-Za-z][A-Za-z0-9_]{2,63})/(\d{1,12})/?$")
    markers = (
        (LEGALLY_BLOCKED, ("violated local laws",  # [TG10][TGC2]
                           "isn't available in your country due to copyright")),  # [TG9]
        (REMOVED, ("violated telegram's terms of service",  # [TG6][TG7]
                   "was used to spread pornographic content",  # [TGC2][TG8]
                   "due to copyright infringement")),  # [TGC1]
    )
    _CONTACT = re.compile(r"^Telegram: Contact @(\w+)$")

    def rewrite(self, url: URL) -> URL:
        if _host(url) in self._HOSTS and (m := self._POST.match(url.path)):
            return URL.build(scheme="https", host="t.me", path=f"/{m.group(1)}/{m.group(2)}",
                             query={"embed": "1", "mode": "tme"})
        return url

    def classify(self, page: Page) -> Finding | None:
        if not page.is_html:
            return None
        if found := match_markers(page, self.markers):
            return found
        text = page.text
        i = text.find("tgme_widget_message_error")
        if i >= 0:
            start = text.find(">", i) + 1
            end = text.find("</div", start)
            message = text_of(text[start : end if end > 0 else start + 300])[:160]
            lowered = message.casefold()
            if "not found" in lowered:
                return Finding(REMOVED, f"telegram: {message}")
            if "private" in lowered:
                return Finding(SOFT_REMOVED, f"telegram: {message}")
            return Finding(INCONCLUSIVE, f"telegram: {message}")
        if "tgme_widget_message " in text and "data-post=" in text:
            return Finding(LIVE, "telegram: post shown in the embed widget")
        og_title = page.meta("og:title") or ""
        description = page.meta("og:description") or ""
        if self._CONTACT.match(og_title) and description.startswith("If you have Telegram, you can contact @"):
            # The stock page of an unused username [TG5]: the channel is gone, and its name may
            # be re-registered by someone else later.
            return Finding(REMOVED, "telegram: name not in use (stock contact page)")
        if page.rewritten:
            return Finding(INCONCLUSIVE, "telegram: embed page with neither a post nor an error")
        return None


# ----------------------------------------------------------------------------------- Reddit


@register
class Reddit(Detector):
    """The .json endpoints carry removed_by_category [RD1][RD3]. Reddit is reported to want a
    session for unauthenticated JSON now [Y21]: a block page stays inconclusive."""

    name = "reddit"
    _HOSTS = frozenset({"reddit.com", "www.reddit.com", "old.reddit.com", "new.reddit.com", "np.reddit.com",
                        "m.reddit.com", "sh.reddit.com"})
    _POST = re.compile(r"^(/(?:r/[\w-]+/)?comments/\w+(?:/[^/]*(?:/\w+)?)?)/?$")
    _SUB = re.compile(r"^/r/([\w-]+)/?$")
    _USER = re.compile(r"^/(?:u|user)/([\w-]+)/?$")
    _REMOVED_CATEGORIES = frozenset({"moderator", "deleted", "author", "reddit", "anti_evil_ops",
                                     "community_ops", "content_takedown", "copyright_takedown"})

    def rewrite(self, url: URL) -> URL:
        host = _host(url)
        path = None
        if host == "redd.it" and re.fullmatch(r"/\w+/?", url.path):
            path = f"/comments/{url.path.strip('/')}/.json"
        elif host in self._HOSTS:
            if m := self._POST.match(url.path):
                path = m.group(1) + "/.json"
            elif m := self._SUB.match(url.path):
                path = f"/r/{m.group(1)}/about.json"
            elif m := self._USER.match(url.path):
                path = f"/user/{m.group(1)}/about.json"
        if path is None:
            return url
        return URL.build(scheme="https", host="www.reddit.com", path=path, query={"raw_json": "1"})

    def classify(self, page: Page) -> Finding | None:
        data = page.json
        if isinstance(data, list) and data:
            post = _dig(data, 0, "data", "children", 0, "data")
            comment = _dig(data, 1, "data", "children", 0, "data")
            # A comment permalink (/comments/<post>/<slug>/<comment>) is about the comment.
            wants_comment = len([p for p in page.url.path.split("/comments/", 1)[-1].split("/") if p]) >= 4
            thing = comment if wants_comment and isinstance(comment, dict) else post
            if isinstance(thing, dict):
                return self._thing(thing)
        elif isinstance(data, dict):
            inner = data.get("data") if isinstance(data.get("data"), dict) else {}
            reason = str(data.get("reason") or "").lower()
            if reason in ("private", "quarantined", "gated"):  # [RD3][RD8]
                return Finding(RESTRICTED, f"reddit: subreddit {reason}")
            if reason == "banned":
                return Finding(REMOVED, "reddit: subreddit banned")
            if data.get("kind") == "t2":
                if inner.get("is_suspended"):
                    return Finding(REMOVED, "reddit: account suspended")
                return Finding(LIVE, "reddit: account exists")
            if data.get("kind") == "t5":
                if inner.get("quarantine"):
                    return Finding(RESTRICTED, "reddit: subreddit quarantined")
                return Finding(LIVE, "reddit: subreddit exists")
        if page.rewritten:
            return Finding(INCONCLUSIVE, "reddit: no usable JSON (blocked or login required)")
        return None

    def _thing(self, thing: dict[str, Any]) -> Finding:
        category = thing.get("removed_by_category")
        if category == "automod_filtered":
            return Finding(SOFT_REMOVED, "reddit: held by the automatic filter")
        if category:
            return Finding(REMOVED, f"reddit: removed_by_category={category}")
        text = str(thing.get("selftext") or thing.get("body") or "").strip().casefold()
        if text in ("[removed]", "[deleted]") or text.startswith("[ removed by reddit"):
            return Finding(REMOVED, f"reddit: content {text[:60]}")
        if thing.get("quarantine"):
            return Finding(RESTRICTED, "reddit: quarantined")
        return Finding(LIVE, "reddit: content present")


# ----------------------------------------------------------------------------------- TikTok


@register
class TikTok(Detector):
    """Pages answer 200; the status code is in __UNIVERSAL_DATA_FOR_REHYDRATION__ [TT1][TT2].
    Without cookies a JS challenge page with no data is often served first: inconclusive."""

    name = "tiktok"
    _CODES = {
        10204: (REMOVED, "item not available"),
        10216: (SOFT_REMOVED, "private post"),
        10222: (SOFT_REMOVED, "private account"),
        10221: (REMOVED, "user not found"),
        10231: (LEGALLY_BLOCKED, "region locked"),
    }
    _SCRIPT = 'id="__UNIVERSAL_DATA_FOR_REHYDRATION__"'
    _CODE_FALLBACK = re.compile(r'"webapp\.(?:video|user)-detail":\{"statusCode":(\d+)')

    def classify(self, page: Page) -> Finding | None:
        host = _host(page.requested)
        if host in ("vm.tiktok.com", "vt.tiktok.com") and _host(page.url).endswith("tiktok.com") and (
            page.url.path in ("", "/")
        ):
            return Finding(REMOVED, "tiktok: short link leads to the home page")  # [TT2]
        if not page.is_html:
            return None
        if "tiktok-verify-page" in page.text:
            return Finding(INCONCLUSIVE, "tiktok: captcha page")
        if "govt. of india decided to block 59 apps" in page.norm:
            return Finding(LEGALLY_BLOCKED, "tiktok: country ban page")  # [SH1]
        i = page.text.find(self._SCRIPT)
        if i >= 0:
            data = first_json_value(page.text, page.text.find(">", i) + 1)
            scope = _dig(data, "__DEFAULT_SCOPE__") or {}
            video, user = scope.get("webapp.video-detail"), scope.get("webapp.user-detail")
            node = video if isinstance(video, dict) else user if isinstance(user, dict) else None
            if node is not None:
                return self._judge(node.get("statusCode"), video if node is video else None)
            if m := self._CODE_FALLBACK.search(page.text):  # truncated JSON
                code = int(m.group(1))
                if code in self._CODES:
                    return self._judge(code, None)
        return Finding(INCONCLUSIVE, "tiktok: no page data (challenge page?)")

    def _judge(self, code: Any, video: dict[str, Any] | None) -> Finding:
        if code in self._CODES:
            verdict, label = self._CODES[code]
            return Finding(verdict, f"tiktok statusCode {code} ({label})")
        if code == 0:
            if video is None:
                return Finding(LIVE, "tiktok statusCode 0")
            item = _dig(video, "itemInfo", "itemStruct") or {}
            if item.get("video"):
                return Finding(LIVE, "tiktok statusCode 0 with video")
            if item.get("isContentClassified"):
                return Finding(RESTRICTED, "tiktok: classified content, login needed")
        return Finding(INCONCLUSIVE, f"tiktok statusCode {code}")


# ------------------------------------------------------- platforms that need only their texts


@register
class Instagram(Detector):
    name = "instagram"
    markers = (
        (INCONCLUSIVE, ("<title>login • instagram</title>", "please wait a few minutes before you try again",
                        "checkpoint_required", "challenge_required", "feedback_required")),  # [IG2][IG4]
        (REMOVED, ("sorry, this page isn't available.",
                   "the link you followed may be broken, or the page may have been removed.")),  # [IG1]
        (SOFT_REMOVED, ("this account is private",)),  # [AA1] mostly JS-rendered
    )


@register
class Facebook(Detector):
    """Facebook uses one message for deleted and audience-changed content [JD5]: soft_removed."""

    name = "facebook"
    markers = (
        (INCONCLUSIVE, ("you must log in to continue", '{"__dr":"cometerrorroot.react"}')),  # [FB2][GD3]
        (SOFT_REMOVED, ("this content isn't available right now", "this content is no longer available",
                        "the content you requested cannot be displayed right now", "uiinterstitialcontent",
                        "the link you followed may be broken")),  # [GD3][AA1][Y19]
    )


@register
class Pornhub(Detector):
    name = "pornhub"
    markers = (
        (INCONCLUSIVE, ("leastfactor", 'document.cookie="rnkey=')),  # JS cookie wall [PH1]
        (LEGALLY_BLOCKED, ('class="geoblocked"', "this content is unavailable in your country")),
        (REMOVED, ("video has been removed at the request of", "this video has been removed",
                   "this video has been disabled", "this video is currently unavailable")),  # [PH1][PH5]
        (SOFT_REMOVED, ("flagged for verification in accordance with our trust and safety policy",
                        "unavailable pending review", 'id="iconlocked"')),
        (RESTRICTED, ("upgrade to pornhub premium to enjoy this video",)),
    )

    def classify(self, page: Page) -> Finding | None:
        if found := super().classify(page):
            return found
        wanted = page.requested.query.get("viewkey")
        if wanted and page.url.query.get("viewkey") != wanted:
            # deleted or login required, yt-dlp cannot tell either [PH3][PH6]
            return Finding(INCONCLUSIVE, "pornhub: redirected away from the video")
        return None


@register
class XVideos(Detector):
    name = "xvideos"
    markers = (
        (REMOVED, ("this video has been deleted", "sorry, this video is not available.",
                   "we received a request to have this video deleted",
                   "sorry but the page you requested was not found")),  # [XV1][XV2][XV3]
    )

    def classify(self, page: Page) -> Finding | None:
        if found := super().classify(page):
            return found
        if page.requested.path.startswith("/video") and not page.url.path.startswith("/video"):
            if re.match(r"^(?:www\.)?xvideos\d", _host(page.url)):
                return Finding(INCONCLUSIVE, "xvideos: sent to a country domain")  # [XV1]
            return Finding(REMOVED, "xvideos: redirected to a non-video page")
        return None


@register
class DCInside(Detector):
    """Deleted posts end at /error/deleted/, adult galleries at /error/adult/ [DC1][DC2]; whether
    by HTTP redirect or script location.replace is *unverified*, so both are read."""

    name = "dcinside"
    _SCRIPT_TARGET = re.compile(r"""location\.(?:replace\(|href\s*=)\s*['"]([^'"]{1,300})['"]""")

    def classify(self, page: Page) -> Finding | None:
        targets = [str(u) for u in page.chain[1:]]
        if page.is_html:
            targets += self._SCRIPT_TARGET.findall(page.text[:65536])
        for target in targets:
            if "/error/deleted" in target:
                return Finding(REMOVED, "dcinside: deleted-post error page")
            if "/error/adult" in target:
                return Finding(RESTRICTED, "dcinside: adult gallery")
            if "error.php" in target:
                return Finding(INCONCLUSIVE, "dcinside: mobile error page")  # [DC3]
        if "/board/view" in page.requested.path and page.is_html:
            if "title_subject" in page.text and "write_div" in page.text:  # [DC4]
                return Finding(LIVE, "dcinside: post shown")
            return Finding(INCONCLUSIVE, "dcinside: no post on the page")
        return None


@register
class Naver(Detector):
    """Blog post URLs are a frame shell; PostView.naver has the post [NV3]. The 30-day
    temporary measure (임시조치) wording is *unverified*: staff add it as a marker."""

    name = "naver"
    markers = ((REMOVED, ("삭제되었거나 없는 게시글입니다",)),)  # cafe [NV1]
    _BLOG = re.compile(r"^/([\w-]+)/(\d+)/?$")

    def rewrite(self, url: URL) -> URL:
        if _host(url) == "blog.naver.com" and (m := self._BLOG.match(url.path)):
            return URL.build(scheme="https", host="blog.naver.com", path="/PostView.naver",
                             query={"blogId": m.group(1), "logNo": m.group(2)})
        return url
