"""YouTube: the playability status embedded in the watch page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from yarl import URL

from takedown.probing.detectors.base import Detector, host_of, in_script, keys_in, register, strings_in
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
    # The player status and the channel alerts: YouTube writes these; titles and descriptions
    # (which quote removal texts often enough) are other fields of the same page.
    zones = ("playability", "alerts")
    # watch?v=<id>&lc=<comment>: the watch page says nothing about one comment under it.
    sub_item_params = ("lc",)
    _ASSIGN = re.compile(r"ytInitialPlayerResponse\s*=\s*(?=\{)")

    def rewrite(self, url: URL) -> URL:
        host = host_of(url)
        if host == "youtu.be" and len(url.path) > 1:
            return URL.build(
                scheme="https", host="www.youtube.com", path="/watch", query={"v": url.path[1:].split("/")[0]}
            )
        embeds = ("youtube-nocookie.com", "www.youtube-nocookie.com")
        if host in (*self._HOSTS, *embeds) and (
            m := re.match(r"^/(?:shorts|live|embed|v)/([\w-]{6,})", url.path)
        ):
            return URL.build(scheme="https", host="www.youtube.com", path="/watch", query={"v": m.group(1)})
        video = url.query.get("v", "")
        if host in self._HOSTS and url.path.rstrip("/") == "/watch" and re.fullmatch(r"[\w-]{6,20}", video):
            # The desktop watch page with nothing but the id: the mobile and music pages are
            # other documents, and share parameters change nothing about the video.
            return URL.build(scheme="https", host="www.youtube.com", path="/watch", query={"v": video})
        return url

    def request_headers(self, url: URL) -> Mapping[str, str]:
        if host_of(url).endswith("youtube.com"):
            # SOCS=CAI skips the EU consent interstitial [Y14]; PREF hl=en forces English texts.
            return {"Cookie": "SOCS=CAI; PREF=hl=en&gl=US"}
        return {}

    def zone_text(self, page: Page, zone: str) -> str:
        if not page.is_html:
            return ""
        if zone == "playability":
            status = self._playability(page.text)
            return " ".join([*keys_in(status), *strings_in(status)]) if status else ""
        if zone == "alerts":
            return " ".join(s for alert in self._alerts(page.text) for s in strings_in(alert))
        return ""

    def error_text(self, page: Page) -> str:
        return " ".join(self.zone_text(page, z) for z in self.zones)

    def classify(self, page: Page) -> Finding | None:
        if not page.is_html:
            return None
        status = self._playability(page.text)
        if status is not None:
            return self._judge(status)
        if alert := self._channel_alert(page.text):
            return alert
        if self._WATCH.match(page.requested.path) or self._WATCH.match(page.url.path):
            return Finding(
                INCONCLUSIVE,
                "youtube: watch page without a playability status",
                "youtube.playability.missing",
            )
        return None

    @classmethod
    def _playability(cls, text: str) -> dict[str, Any] | None:
        """ytInitialPlayerResponse.playabilityStatus, from the player response the page's own
        script assigns; a description that quotes such JSON is escaped inside another field."""
        for m in cls._ASSIGN.finditer(text):
            if not in_script(text, m.start()):
                continue
            response = first_json_value(text, m.end())
            if isinstance(response, dict):
                status = response.get("playabilityStatus")
                return status if isinstance(status, dict) else None
            # A truncated page: the status comes first in the response, so read it alone.
            key = '"playabilityStatus"'
            i = text.find(key, m.end())
            if i >= 0 and in_script(text, i):
                value = first_json_value(text, i + len(key))
                return value if isinstance(value, dict) else None
            return None
        return None

    @staticmethod
    def _judge(status: dict[str, Any]) -> Finding:
        code = str(status.get("status") or "").upper()
        words = normalize(" ".join(strings_in(status)))
        reason = next((s for s in strings_in(status.get("reason")) if s.strip()), "")
        shown = f"youtube: {code}" + (f" ({reason.strip()[:120]})" if reason else "")
        rule = f"youtube.playability.{code or 'NONE'}"
        if any("captcha" in k.lower() for k in keys_in(status)) or "not a bot" in words:
            return Finding(INCONCLUSIVE, shown + ": bot wall", rule + ".bot_wall")
        if "try again later" in words:
            return Finding(INCONCLUSIVE, shown + ": throttled", rule + ".throttled")
        if code in ("OK", "LIVE_STREAM_OFFLINE"):
            return Finding(LIVE, shown, rule)
        if "in your country" in words:  # [Y12][Y13][Y1]: copyright or uploader geo block
            return Finding(LEGALLY_BLOCKED, shown, rule + ".country")
        if "private" in words:  # [Y5][Y4]
            return Finding(SOFT_REMOVED, shown, rule + ".private")
        if (
            code.startswith(("AGE_", "CONTENT_CHECK"))
            or "confirm your age" in words
            or ("inappropriate for some users" in words)
        ):
            return Finding(RESTRICTED, shown, rule + ".age")
        if code == "ERROR":  # "Video unavailable" + subreason: deleted, terminated, copyright
            return Finding(REMOVED, shown, rule)
        if code == "UNPLAYABLE":
            removal = ("removed", "terminated", "no longer available", "copyright claim", "deleted")
            if any(w in words for w in removal):
                return Finding(REMOVED, shown, rule + ".removal_text")
            if "members" in words:
                return Finding(RESTRICTED, shown, rule + ".members")
        return Finding(INCONCLUSIVE, shown, rule)

    @staticmethod
    def _alerts(text: str) -> list[dict[str, Any]]:
        # ytInitialData.alerts[].alertRenderer [Y6][Y3][Y17], in the page's own script only.
        found: list[dict[str, Any]] = []
        pos = 0
        for _ in range(5):
            i = text.find('"alertRenderer"', pos)
            if i < 0:
                break
            pos = i + 1
            if not in_script(text, i):
                continue
            alert = first_json_value(text, i + len('"alertRenderer"'))
            if isinstance(alert, dict):
                found.append(alert)
        return found

    @classmethod
    def _channel_alert(cls, text: str) -> Finding | None:
        for alert in cls._alerts(text):
            if alert.get("type") != "ERROR":
                continue
            words = normalize(" ".join(strings_in(alert)))
            if "terminated" in words or "was removed because" in words:
                kind = "terminated" if "terminated" in words else "removed"
                return Finding(REMOVED, f"youtube: channel {kind}", f"youtube.alert.ERROR.{kind}")
        return None
