"""One fetched response as the verdict rules see it, and the text helpers they share.

Pages come from hostile sites, so every scan here is linear in the body size: no regex that
can backtrack over the whole document once per candidate position.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from html.parser import HTMLParser
from typing import Any

from yarl import URL

EXCERPT_CHARS = 300
TITLE_CHARS = 300

_WS = re.compile(r"\s+")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00a0": " ",
        "\u200b": "",
    }
)
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_CT_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9_.:-]+)", re.I)
_TAG = re.compile(r"<[^<>]*>")
_TITLE_OPEN = re.compile(r"<title\b[^<>]*>", re.I)
_TEXT_TYPES = (
    "application/json",
    "application/xhtml+xml",
    "application/xml",
    "application/javascript",
    "application/x-javascript",
)
_MEDIA_PREFIXES = ("image/", "video/", "audio/")


def normalize(text: str) -> str:
    """The form markers are compared in: HTML and JSON escapes undone, curly quotes folded,
    whitespace collapsed, case folded (Instagram ships isn&#39;t, X and Reddit use ’)."""
    text = html.unescape(text)
    if "\\u" in text:
        text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = text.replace("\\/", "/").translate(_FOLD)
    return _WS.sub(" ", text).casefold()


def fold(text: str, limit: int) -> str:
    return _WS.sub(" ", html.unescape(text)).strip()[:limit]


def _block_pattern(names: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"<!--|<(" + "|".join(names) + r")\b", re.I)


_HIDDEN = _block_pattern(("script", "style", "template", "svg", "head", "noscript", "iframe"))
_SCRIPT_ONLY = _block_pattern(("script",))
_HIDDEN_BUT_NOSCRIPT = _block_pattern(("script", "style", "template", "svg", "head", "iframe"))


def drop_blocks(markup: str, opener: re.Pattern[str]) -> str:
    """markup without comments and the blocks ``opener`` finds; an unclosed one runs to the end,
    as in a browser."""
    lower = markup.lower()
    out: list[str] = []
    pos = 0
    while (m := opener.search(markup, pos)) is not None:
        out.append(markup[pos : m.start()])
        if m.group(1) is None:
            end = lower.find("-->", m.end())
            pos = -1 if end < 0 else end + 3
        else:
            end = lower.find("</" + m.group(1).lower(), m.end())
            pos = -1 if end < 0 else lower.find(">", end)
            pos = -1 if pos < 0 else pos + 1
        if pos < 0:
            return " ".join(out)
    out.append(markup[pos:])
    return " ".join(out)


def text_of(markup: str, *, keep_noscript: bool = False) -> str:
    kept = drop_blocks(markup, _HIDDEN_BUT_NOSCRIPT if keep_noscript else _HIDDEN)
    return _WS.sub(" ", html.unescape(_TAG.sub(" ", kept))).strip()


def first_json_value(text: str, start: int) -> Any | None:
    """The JSON value beginning at the first '{' or '[' from ``start``, or None."""
    decoder = json.JSONDecoder()
    i = start
    while i < len(text) and text[i] not in "{[":
        if not text[i].isspace() and text[i] not in "=:":
            return None
        i += 1
    try:
        return decoder.raw_decode(text, i)[0]
    except (ValueError, IndexError):
        return None


# A CSS-ish simple selector: tag, .class, #id, or a tag with classes and/or an id
# (div.tgme_widget_message_error, h1.inlineError, section#noVideo). No combinators: a marker
# is tied to the one element the platform puts it in.
SELECTOR = re.compile(r"^(?P<tag>[a-z][a-z0-9-]*)?(?P<rest>(?:[.#][A-Za-z_][\w-]*)*)$")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


def parse_selector(selector: str) -> tuple[str | None, frozenset[str], str | None] | None:
    """(tag, classes, id) of a simple selector, or None when it is not one."""
    m = SELECTOR.match(selector)
    if m is None or not selector:
        return None
    parts = re.findall(r"([.#])([A-Za-z_][\w-]*)", m.group("rest"))
    ids = [name for sign, name in parts if sign == "#"]
    if len(ids) > 1 or (m.group("tag") is None and not parts):
        return None
    classes = frozenset(name.lower() for sign, name in parts if sign == ".")
    return m.group("tag"), classes, (ids[0] if ids else None)


class _Collector(HTMLParser):
    """Text inside the elements matching any of the selectors (scripts and styles excluded)."""

    def __init__(self, selectors: Sequence[tuple[str | None, frozenset[str], str | None]]) -> None:
        super().__init__(convert_charrefs=True)
        self.selectors = selectors
        self.stack: list[tuple[str, bool]] = []
        self.inside = 0  # open matching elements
        self.hidden = 0  # open script/style elements
        self.parts: list[str] = []

    def _matches(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        values = {k.lower(): v or "" for k, v in attrs}
        classes = set(values.get("class", "").lower().split())
        ident = values.get("id")
        return any(
            (t is None or t == tag) and c <= classes and (i is None or i == ident)
            for t, c, i in self.selectors
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        matched = self._matches(tag, attrs)
        self.stack.append((tag, matched))
        self.inside += matched
        self.hidden += tag in ("script", "style")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        return None

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, max(-1, len(self.stack) - 64), -1):
            if self.stack[i][0] == tag:
                for name, matched in self.stack[i:]:
                    self.inside -= matched
                    self.hidden -= name in ("script", "style")
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if self.inside and not self.hidden:
            self.parts.append(data)


def select_text(markup: str, selectors: Sequence[str]) -> str:
    """The text of every element matching one of ``selectors`` (simple selectors), joined."""
    parsed = [p for s in selectors if (p := parse_selector(s)) is not None]
    if not parsed or not markup:
        return ""
    collector = _Collector(parsed)
    try:
        collector.feed(markup)
        collector.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    return _WS.sub(" ", " ".join(collector.parts)).strip()


def script_blocks(text: str, limit: int = 4 * 1024 * 1024) -> list[str]:
    """The contents of the page's <script> elements: markup the platform wrote, where user text
    only ever appears escaped inside string literals."""
    lower = text[:limit].lower()
    out, pos = [], 0
    while (start := lower.find("<script", pos)) >= 0:
        body = lower.find(">", start)
        if body < 0:
            break
        end = lower.find("</script", body)
        out.append(text[body + 1 : end if end >= 0 else len(lower)])
        if end < 0:
            break
        pos = end + 8
    return out


class Page:
    """A response that ended the chain, with lazily computed views of its body."""

    def __init__(
        self,
        *,
        requested: URL,
        url: URL,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        chain: Sequence[URL],
        truncated: bool = False,
        rewritten: bool = False,
    ) -> None:
        self.requested = requested  # the URL we were asked about
        self.url = url  # the URL that gave this response
        self.status = status
        self.headers = headers  # case-insensitive (CIMultiDictProxy) when it comes from aiohttp
        self.body = body
        self.chain = tuple(chain)  # fetched URL first, then every redirect target
        self.truncated = truncated
        self.rewritten = rewritten  # fetched a detector's endpoint rather than the item URL

    @cached_property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    @cached_property
    def is_media(self) -> bool:
        return self.content_type.startswith(_MEDIA_PREFIXES)

    @cached_property
    def is_text(self) -> bool:
        ct = self.content_type
        if not ct:
            return b"\x00" not in self.body[:1024]
        return ct.startswith("text/") or ct in _TEXT_TYPES or ct.endswith(("+json", "+xml"))

    @cached_property
    def is_html(self) -> bool:
        if self.content_type in ("text/html", "application/xhtml+xml"):
            return True
        return not self.content_type and self.body[:512].lstrip()[:1] == b"<"

    @cached_property
    def text(self) -> str:
        if not self.is_text or not self.body:
            return ""
        charset = None
        if m := _CT_CHARSET.search(self.headers.get("Content-Type") or ""):
            charset = m.group(1)
        elif self.is_html and (m := _CHARSET.search(self.body[:4096])):
            charset = m.group(1).decode("ascii")
        try:
            codec = codecs.lookup(charset or "utf-8").name
        except LookupError:
            codec = "utf-8"
        return self.body.decode(codec, errors="replace")

    @cached_property
    def norm(self) -> str:
        return normalize(self.text)

    def has(self, *needles: str) -> str | None:
        """The first needle found in the normalised body (needles given already normalised)."""
        return next((n for n in needles if n in self.norm), None)

    @cached_property
    def title(self) -> str:
        if not self.is_html:
            return ""
        m = _TITLE_OPEN.search(self.text)
        if m is None:
            return ""
        end = self.text.lower().find("</title", m.end())
        return fold(self.text[m.end() : end if end >= 0 else m.end() + 4 * TITLE_CHARS], TITLE_CHARS)

    @cached_property
    def visible_text(self) -> str:
        """What a browser without JavaScript would show in the body."""
        if not self.is_html:
            return _WS.sub(" ", self.text).strip()
        return text_of(self.text)

    @cached_property
    def excerpt(self) -> str:
        if not self.is_text:
            return ""
        if not self.is_html:
            return _WS.sub(" ", self.text).strip()[:EXCERPT_CHARS]
        return text_of(self.text, keep_noscript=True)[:EXCERPT_CHARS]

    def select(self, selectors: Sequence[str]) -> str:
        """Text of the elements matching the selectors, cached per selector set."""
        key = tuple(selectors)
        cache = self.__dict__.setdefault("_selected", {})
        if key not in cache:
            cache[key] = select_text(self.text, key) if self.is_html else ""
        return cache[key]

    @cached_property
    def markup(self) -> str:
        """The page's tags and script bodies, raw (not unescaped), whitespace collapsed and case
        folded; text nodes left out. What users write reaches a page as escaped text (a quote
        may stay a bare quote in a text node, never inside a tag) or as an escaped string in a
        script's JSON (a quote becomes \\"), so an attribute like class="geoBlocked" found
        here is the platform's own markup."""
        if not self.is_text:
            return ""
        if not self.is_html:
            return _WS.sub(" ", self.text).casefold()
        parts = [*_TAG.findall(drop_blocks(self.text, _SCRIPT_ONLY)), *script_blocks(self.text)]
        return _WS.sub(" ", " ".join(parts)).casefold()

    @cached_property
    def json(self) -> Any | None:
        if not self.is_text:
            return None
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def meta(self, name: str) -> str | None:
        """content of <meta property|name="name">, first occurrence, unescaped."""
        pattern = re.compile(
            r"""<meta\s[^<>]*?(?:property|name)\s*=\s*["']""" + re.escape(name) + r"""["'][^<>]*>""", re.I
        )
        m = pattern.search(self.text)
        if m is None:
            return None
        c = re.search(r"""content\s*=\s*(["'])(.*?)\1""", m.group(0), re.I | re.S)
        return html.unescape(c.group(2)) if c else None
