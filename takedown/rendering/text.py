"""A rendered notice body as plain text, for the email and the required-element check.

Block elements become line breaks, table rows lines (cells joined by " | "), list
items "- " or "1. ", and links are followed by their address.
"""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCK_TAGS = frozenset(
    "address article aside blockquote dd div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody thead "
    "tfoot tr ul caption".split()
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template"})
# Blocks followed by a blank line in the text version.
_SPACED_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "p", "table", "blockquote"})


class _TextConverter(HTMLParser):
    """Block elements to line breaks, table rows to lines (cells joined by " | "),
    list items to "- " or "1. ", links followed by their address."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip = 0
        self.pre = 0
        self.in_cell = False  # a line break inside a table cell is a space
        self.lists: list[list[int | None]] = []  # per open list: [counter or None]
        self.cells_in_row = 0
        self.links: list[str | None] = []

    def _break(self, blank: bool = False) -> None:
        if self.in_cell:
            self.current.append(" ")
            return
        line = "".join(self.current)
        line = line.rstrip() if self.pre else " ".join(line.split())
        if line:
            self.lines.append(line)
        if blank and self.lines and self.lines[-1] != "":
            self.lines.append("")
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
            return
        if tag in ("tr", "table", "thead", "tbody", "tfoot"):
            self.in_cell = False
        if tag == "br":
            self._break()
        elif tag in _SPACED_TAGS:
            self._break(blank=True)
        elif tag in _BLOCK_TAGS:
            self._break()
        if tag == "pre":
            self.pre += 1
        elif tag in ("ul", "ol"):
            self.lists.append([0 if tag == "ol" else None])
        elif tag == "li":
            counter = self.lists[-1] if self.lists else [None]
            if counter[0] is None:
                self.current.append("- ")
            else:
                counter[0] += 1
                self.current.append(f"{counter[0]}. ")
        elif tag == "tr":
            self.cells_in_row = 0
        elif tag in ("td", "th"):
            if self.cells_in_row:
                self.current.append(" | ")
            self.cells_in_row += 1
            self.in_cell = True
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(self.skip - 1, 0)
            return
        if tag in ("td", "th", "tr", "table", "thead", "tbody", "tfoot"):
            self.in_cell = False
        if tag == "a" and self.links:
            href = self.links.pop()
            shown = "".join(self.current)
            if href and not href.startswith(("#", "mailto:")) and href not in shown:
                self.current.append(f" <{href}>")
        if tag == "pre":
            self.pre = max(self.pre - 1, 0)
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in _SPACED_TAGS:
            self._break(blank=True)
        elif tag in _BLOCK_TAGS:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)

    def text(self) -> str:
        self.in_cell = False
        self._break()
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def html_to_text(html: str) -> str:
    """The plain-text version of a rendered notice body.

    One source for both forms: legal approves one wording, and the required-element
    markers checked on the text are in the PDF too.
    """
    converter = _TextConverter()
    converter.feed(html)
    converter.close()
    return converter.text()
