"""Who posted an item: one account extractor per platform, beside its detector (no database).

An extractor reads the URL as pasted (which may name the account even when the canonical form
no longer does: x.com/<user>/status/1 folds to x.com/i/status/1) and the canonical form, and
where the platform puts a display name in the page title a check already recorded, that name.
Nothing is fetched for this: a URL that does not name its account (a YouTube watch page, an
Instagram /p/ link) gives None.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True, slots=True)
class AccountRef:
    kind: str  # "user", "channel", "subreddit", "blog", "gallery", "cafe", "page"
    handle: str  # lower-cased where the platform ignores case
    name: str = ""  # a display name seen in a checked page's title


Extractor = Callable[[list[tuple[str, str, list[str], dict[str, list[str]]]], str], AccountRef | None]
_EXTRACTORS: dict[str, Extractor] = {}


def extractor(slug: str) -> Callable[[Extractor], Extractor]:
    def register(fn: Extractor) -> Extractor:
        _EXTRACTORS[slug] = fn
        return fn

    return register


def _parts(url: str) -> tuple[str, str, list[str], dict[str, list[str]]]:
    split = urlsplit(url)
    segs = [s for s in split.path.split("/") if s]
    return split.hostname or "", split.path, segs, parse_qs(split.query)


def account_of(platform_slug: str | None, urls: list[str], title: str = "") -> AccountRef | None:
    """The account that posted the item at `urls` (as pasted first, then canonical), or None."""
    fn = _EXTRACTORS.get(platform_slug or "")
    if fn is None:
        return None
    forms = [_parts(u) for u in urls if u]
    return fn(forms, title or "")


def platforms_with_extractors() -> list[str]:
    return sorted(_EXTRACTORS)


_X_RESERVED = frozenset(
    {"i", "home", "explore", "search", "hashtag", "intent", "share", "settings", "notifications", "messages"}
)
_X_NAME = re.compile(r"^(.{1,100}?) (?:on X|on Twitter)\b")
_X_USER = re.compile(r"[A-Za-z0-9_]{1,50}")


@extractor("x")
def _x(forms, title):
    for _host, _path, segs, _q in forms:
        if segs and _X_USER.fullmatch(segs[0]) and segs[0].lower() not in _X_RESERVED:
            m = _X_NAME.match(title)
            return AccountRef("user", segs[0].lower(), m.group(1) if m else "")
    return None


_TG_RESERVED = frozenset({"joinchat", "addstickers", "share", "proxy", "socks", "iv", "c"})
_TG_NAME = re.compile(r"^(?:Telegram: (?:Contact|View) @\S+|(.{1,200}?) – Telegram)$")


@extractor("telegram")
def _telegram(forms, title):
    for _host, _path, segs, _q in forms:
        if segs and segs[0] == "s":
            segs = segs[1:]
        if segs and not segs[0].startswith("+") and segs[0].lower() not in _TG_RESERVED:
            m = _TG_NAME.match(title)
            return AccountRef("channel", segs[0].lower(), (m.group(1) or "") if m else "")
    return None


@extractor("youtube")
def _youtube(forms, title):
    for _host, _path, segs, _q in forms:
        if not segs:
            continue
        if segs[0].startswith("@") and len(segs[0]) > 1:
            return AccountRef("channel", segs[0].lower())
        if segs[0] == "channel" and len(segs) > 1:
            return AccountRef("channel", segs[1])  # UC… ids are case-sensitive
        if segs[0] in ("c", "user") and len(segs) > 1:
            return AccountRef("channel", f"{segs[0]}/{segs[1].lower()}")
    return None


@extractor("tiktok")
def _tiktok(forms, title):
    for _host, _path, segs, _q in forms:
        if segs and segs[0].startswith("@") and segs[0] != "@_" and len(segs[0]) > 1:
            return AccountRef("user", segs[0][1:].lower())
    return None


_IG_MEDIA = frozenset({"p", "reel", "reels", "tv"})
_IG_RESERVED = _IG_MEDIA | {"stories", "explore", "accounts", "direct"}


@extractor("instagram")
def _instagram(forms, title):
    for _host, _path, segs, _q in forms:
        if len(segs) > 1 and segs[0] == "stories":
            return AccountRef("user", segs[1].lower())
        if segs and segs[0].lower() not in _IG_RESERVED and (len(segs) == 1 or segs[1] in _IG_MEDIA):
            return AccountRef("user", segs[0].lower())
    return None


@extractor("threads")
def _threads(forms, title):
    for _host, _path, segs, _q in forms:
        if segs and segs[0].startswith("@") and len(segs[0]) > 1:
            return AccountRef("user", segs[0][1:].lower())
    return None


@extractor("reddit")
def _reddit(forms, title):
    for _host, _path, segs, _q in forms:
        if len(segs) > 1 and segs[0] in ("user", "u"):
            return AccountRef("user", segs[1].lower())
    for _host, _path, segs, _q in forms:
        if len(segs) > 1 and segs[0] == "r":
            return AccountRef("subreddit", segs[1].lower())
    return None


_FB_RESERVED = frozenset(
    {"watch", "photo.php", "story.php", "permalink.php", "groups", "share", "reel", "login"}
)


@extractor("facebook")
def _facebook(forms, title):
    for _host, _path, segs, query in forms:
        if segs and segs[0] == "groups" and len(segs) > 1:
            return AccountRef("group", segs[1].lower())
        if segs and segs[0] in ("profile.php", "permalink.php", "story.php") and query.get("id"):
            return AccountRef("user", query["id"][0])
        if segs and segs[0].lower() not in _FB_RESERVED and not segs[0].endswith(".php"):
            return AccountRef("page", segs[0].lower())
    return None


@extractor("naver")
def _naver(forms, title):
    for host, _path, segs, query in forms:
        if host.endswith("blog.naver.com"):
            if query.get("blogId"):
                return AccountRef("blog", query["blogId"][0].lower())
            if segs and not segs[0].endswith((".naver", ".nhn")):
                return AccountRef("blog", segs[0].lower())
        if host.endswith("cafe.naver.com") and segs and not segs[0].endswith((".naver", ".nhn")):
            return AccountRef("cafe", segs[0].lower())
    return None


@extractor("daum_kakao")
def _daum(forms, title):
    for host, _path, segs, _q in forms:
        if host.endswith("cafe.daum.net") and segs:
            return AccountRef("cafe", segs[0].lower())
        if host.endswith("tistory.com") and host.count(".") >= 2:
            return AccountRef("blog", host.split(".")[0])
    return None


@extractor("dcinside")
def _dcinside(forms, title):
    # A post's author on DC Inside is often an anonymous IP fragment: the gallery is what the
    # URL names for sure, and galleries are where a campaign recurs.
    for host, _path, segs, query in forms:
        if query.get("id"):
            return AccountRef("gallery", query["id"][0].lower())
        if host.startswith("m.") and len(segs) > 1 and segs[0] in ("board", "mini"):
            return AccountRef("gallery", segs[1].lower())
    return None


@extractor("pornhub")
def _pornhub(forms, title):
    for _host, _path, segs, _q in forms:
        if len(segs) > 1 and segs[0] in ("model", "users", "channels", "pornstar"):
            return AccountRef("user" if segs[0] != "channels" else "channel", segs[1].lower())
    return None


@extractor("xvideos")
def _xvideos(forms, title):
    for _host, _path, segs, _q in forms:
        if len(segs) > 1 and segs[0] in ("profiles", "channels", "amateur-channels", "models"):
            return AccountRef("user", segs[1].lower())
    return None
