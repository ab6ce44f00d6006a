"""Telegram: the embed widget of a post."""

from __future__ import annotations

import re

from yarl import URL

from takedown.probing.detectors.base import Detector, host_of, register
from takedown.probing.page import Page, text_of
from takedown.probing.types import (
    INCONCLUSIVE,
    LEGALLY_BLOCKED,
    LIVE,
    REMOVED,
    SOFT_REMOVED,
    Finding,
)
from takedown.probing.verdicts import match_markers


@register
class Telegram(Detector):
    """Post pages answer best through the embed widget, server-rendered [TG1][TG2]."""

    name = "telegram"
    _HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me", "telegram.dog"})
    _POST = re.compile(r"^/(?:s/)?([A-Za-z][A-Za-z0-9_]{2,63})/(\d{1,12})/?$")
    markers = (
        (
            LEGALLY_BLOCKED,
            (
                "violated local laws",  # [TG10][TGC2]
                "isn't available in your country due to copyright",
            ),
        ),  # [TG9]
        (
            REMOVED,
            (
                "violated telegram's terms of service",  # [TG6][TG7]
                "was used to spread pornographic content",  # [TGC2][TG8]
                "due to copyright infringement",
            ),
        ),  # [TGC1]
    )
    _CONTACT = re.compile(r"^Telegram: Contact @(\w+)$")

    def rewrite(self, url: URL) -> URL:
        if host_of(url) in self._HOSTS and (m := self._POST.match(url.path)):
            return URL.build(
                scheme="https",
                host="t.me",
                path=f"/{m.group(1)}/{m.group(2)}",
                query={"embed": "1", "mode": "tme"},
            )
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
        if self._CONTACT.match(og_title) and description.startswith(
            "If you have Telegram, you can contact @"
        ):
            # The stock page of an unused username [TG5]: the channel is gone, and its name may
            # be re-registered by someone else later.
            return Finding(REMOVED, "telegram: name not in use (stock contact page)")
        if page.rewritten:
            return Finding(INCONCLUSIVE, "telegram: embed page with neither a post nor an error")
        return None
