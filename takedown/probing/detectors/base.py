"""The detector interface and registry, and helpers for reading platform JSON."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from yarl import URL

from takedown.probing.page import Page
from takedown.probing.types import Finding
from takedown.probing.verdicts import match_scoped

log = logging.getLogger(__name__)

MarkerTable = Sequence[tuple[str, Sequence[str]]]


class Detector:
    name: ClassVar[str] = "generic"
    # Built-in page texts, tried in order after the Platform row's markers.
    markers: ClassVar[MarkerTable] = ()
    # A larger body cap for platforms whose signal sits deep in a big page; None = config's.
    body_limit: ClassVar[int | None] = None
    # The elements the platform puts its own error and removal messages in: markers of the
    # "error" zone are looked for there and nowhere else (verdicts, "Marker zones").
    error_selectors: ClassVar[tuple[str, ...]] = ()
    # Zones this detector can extract (structured fields), usable as "@<zone> <text>".
    zones: ClassVar[tuple[str, ...]] = ()
    # Query parameters and path parts by which a URL names a sub-item (a comment, a reply)
    # that the page this detector fetches does not show: such a URL is judged by its parent
    # only where the parent's state decides it (verdicts.parent_only).
    sub_item_params: ClassVar[tuple[str, ...]] = ()
    sub_item_path: ClassVar[re.Pattern[str] | None] = None
    sub_item_kind: ClassVar[str] = "comment"
    sub_item_note: ClassVar[str] = "a comment cannot be read on the page fetched"

    def sub_item(self, url: URL) -> str | None:
        """What sub-item ``url`` names that the fetched page cannot show, or None."""
        if any(url.query.get(p) for p in self.sub_item_params):
            return self.sub_item_kind
        if self.sub_item_path is not None and self.sub_item_path.search(url.path):
            return self.sub_item_kind
        return None

    def rewrite(self, url: URL) -> URL:
        return url

    def request_headers(self, url: URL) -> Mapping[str, str]:
        return {}

    def error_text(self, page: Page) -> str:
        """Text the platform itself wrote in its error places on this page."""
        return page.select(self.error_selectors) if self.error_selectors else ""

    def zone_text(self, page: Page, zone: str) -> str:
        return ""

    def classify(self, page: Page) -> Finding | None:
        return match_scoped(page, self.markers, self, self.name)


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


def in_script(text: str, pos: int) -> bool:
    """Whether position ``pos`` of the markup lies inside a <script> element."""
    lower_open = text.rfind("<script", 0, pos)
    return lower_open >= 0 and text.rfind("</script", 0, pos) < lower_open


def host_of(url: URL) -> str:
    return (url.raw_host or "").lower()


def strings_in(value: Any, depth: int = 0) -> list[str]:
    if depth > 8:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v, depth + 1)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v, depth + 1)]
    return []


def keys_in(value: Any, depth: int = 0) -> set[str]:
    if depth > 8:
        return set()
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v, depth + 1)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v, depth + 1)}
    return set()


def dig(value: Any, *path: str | int) -> Any:
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
