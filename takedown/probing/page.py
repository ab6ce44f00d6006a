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
