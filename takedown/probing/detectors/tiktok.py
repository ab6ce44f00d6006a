"""TikTok: the status code in the page data."""

from __future__ import annotations

import re
from typing import Any

from takedown.probing.detectors.base import Detector, dig, host_of, in_script, register
from takedown.probing.page import Page, first_json_value, normalize
from takedown.probing.types import (
    INCONCLUSIVE,
    LEGALLY_BLOCKED,
    LIVE,
    REMOVED,
    RESTRICTED,
    SOFT_REMOVED,
    Finding,
)


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
        host = host_of(page.requested)
        if (
            host in ("vm.tiktok.com", "vt.tiktok.com")
            and host_of(page.url).endswith("tiktok.com")
            and (page.url.path in ("", "/"))
        ):
            return Finding(
                REMOVED, "tiktok: short link leads to the home page", "tiktok.shortlink.home"
            )  # [TT2]
        if not page.is_html:
            return None
        i = page.text.find(self._SCRIPT)
        if i >= 0 and in_script(page.text, i + 1):
            data = first_json_value(page.text, page.text.find(">", i) + 1)
            scope = dig(data, "__DEFAULT_SCOPE__") or {}
            video, user = scope.get("webapp.video-detail"), scope.get("webapp.user-detail")
            node = video if isinstance(video, dict) else user if isinstance(user, dict) else None
            if node is not None:
                return self._judge(node.get("statusCode"), video if node is video else None)
            if m := self._CODE_FALLBACK.search(page.text, i):  # truncated JSON
                code = int(m.group(1))
                if code in self._CODES and in_script(page.text, m.start()):
                    return self._judge(code, None)
        if "tiktok-verify-page" in page.text:
            return Finding(INCONCLUSIVE, "tiktok: captcha page", "tiktok.captcha")
        # The country ban page has no page data; with data, the text is someone's caption.
        if "govt. of india decided to block 59 apps" in normalize(page.title + " " + page.visible_text):
            return Finding(LEGALLY_BLOCKED, "tiktok: country ban page", "tiktok.country_ban_page")  # [SH1]
        return Finding(INCONCLUSIVE, "tiktok: no page data (challenge page?)", "tiktok.no_data")

    def _judge(self, code: Any, video: dict[str, Any] | None) -> Finding:
        if code in self._CODES:
            verdict, label = self._CODES[code]
            return Finding(verdict, f"tiktok statusCode {code} ({label})", f"tiktok.statusCode.{code}")
        if code == 0:
            if video is None:
                return Finding(LIVE, "tiktok statusCode 0", "tiktok.statusCode.0")
            item = dig(video, "itemInfo", "itemStruct") or {}
            if item.get("video"):
                return Finding(LIVE, "tiktok statusCode 0 with video", "tiktok.statusCode.0.video")
            if item.get("isContentClassified"):
                return Finding(
                    RESTRICTED, "tiktok: classified content, login needed", "tiktok.statusCode.0.classified"
                )
        return Finding(INCONCLUSIVE, f"tiktok statusCode {code}", f"tiktok.statusCode.{str(code)[:12]}")
