"""Telegram: the embed widget of a post."""

from __future__ import annotations

import re

from yarl import URL

from takedown.probing.detectors.base import Detector, host_of, register
from takedown.probing.page import Page
from takedown.probing.types import (
    INCONCLUSIVE,
    LEGALLY_BLOCKED,
    LIVE,
    REMOVED,
    SOFT_REMOVED,
    Finding,
)
from takedown.probing.verdicts import match_scoped


@register
class Telegram(Detector):
    """Post pages answer best through the embed widget, server-rendered [TG1][TG2]."""

    name = "telegram"
    # The widget's error box: Telegram's own words. A post's text (tgme_widget_message_text)
    # may quote any of them.
    error_selectors = (".tgme_widget_message_error",)
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
    # t.me/<channel>/<post>?comment=<id>: the widget shows the post, never its comments.
    sub_item_params = ("comment",)
    sub_item_note = "comments cannot be read through the embed widget"
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
        if found := match_scoped(page, self.markers, self, "telegram"):
            return found
        text = page.text
        message = self.error_text(page)[:160]
        if message:
            lowered = message.casefold()
            if "not found" in lowered:
                return Finding(REMOVED, f"telegram: {message}", "telegram.embed_error.not_found")
            if "private" in lowered:
                return Finding(SOFT_REMOVED, f"telegram: {message}", "telegram.embed_error.private")
            return Finding(INCONCLUSIVE, f"telegram: {message}", "telegram.embed_error.other")
        if "tgme_widget_message " in text and "data-post=" in text:
            return Finding(LIVE, "telegram: post shown in the embed widget", "telegram.embed_post")
        og_title = page.meta("og:title") or ""
        description = page.meta("og:description") or ""
        wanted = page.requested.path.strip("/").split("/")[0].lower()
        m = self._CONTACT.match(og_title)
        if (
            m
            and m.group(1).lower() == wanted
            and description.startswith("If you have Telegram, you can contact @")
            # A channel's own title and description are user text: a live channel has a
            # member count (tgme_page_extra) that the stock contact page of a free name lacks.
            and "tgme_page_extra" not in text
        ):
            # The stock page of an unused username [TG5]: the channel is gone, and its name may
            # be re-registered by someone else later.
            return Finding(REMOVED, "telegram: name not in use (stock contact page)", "telegram.contact_page")
        if page.rewritten:
            return Finding(
                INCONCLUSIVE, "telegram: embed page with neither a post nor an error", "telegram.embed_empty"
            )
        return None
