"""YouTube: the playability status embedded in the watch page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from yarl import URL

from takedown.probing.detectors.base import Detector, host_of, keys_in, register, strings_in
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
        host = host_of(url)
        if host == "youtu.be" and len(url.path) > 1:
            return URL.build(
                scheme="https", host="www.youtube.com", path="/watch", query={"v": url.path[1:].split("/")[0]}
            )
        if host in self._HOSTS and (m := re.match(r"^/(?:shorts|live|embed|v)/([\w-]{6,})", url.path)):
            return URL.build(scheme="https", host="www.youtube.com", path="/watch", query={"v": m.group(1)})
        return url

    def request_headers(self, url: URL) -> Mapping[str, str]:
        if host_of(url).endswith("youtube.com"):
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
        words = normalize(" ".join(strings_in(status)))
        reason = next((s for s in strings_in(status.get("reason")) if s.strip()), "")
        shown = f"youtube: {code}" + (f" ({reason.strip()[:120]})" if reason else "")
        if any("captcha" in k.lower() for k in keys_in(status)) or "not a bot" in words:
            return Finding(INCONCLUSIVE, shown + ": bot wall")
        if "try again later" in words:
            return Finding(INCONCLUSIVE, shown + ": throttled")
        if code in ("OK", "LIVE_STREAM_OFFLINE"):
            return Finding(LIVE, shown)
        if "in your country" in words:  # [Y12][Y13][Y1]: copyright or uploader geo block
            return Finding(LEGALLY_BLOCKED, shown)
        if "private" in words:  # [Y5][Y4]
            return Finding(SOFT_REMOVED, shown)
        if (
            code.startswith(("AGE_", "CONTENT_CHECK"))
            or "confirm your age" in words
            or ("inappropriate for some users" in words)
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
            words = normalize(" ".join(strings_in(alert)))
            if "terminated" in words or "was removed because" in words:
                return Finding(
                    REMOVED, "youtube: channel " + ("terminated" if "terminated" in words else "removed")
                )
        return None
