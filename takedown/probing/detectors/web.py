"""Platforms whose own texts, status codes and redirects are enough."""

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
    RESTRICTED,
    SOFT_REMOVED,
    Finding,
)


@register
class Instagram(Detector):
    name = "instagram"
    markers = (
        (
            INCONCLUSIVE,
            (
                "<title>login • instagram</title>",
                "please wait a few minutes before you try again",
                "checkpoint_required",
                "challenge_required",
                "feedback_required",
            ),
        ),  # [IG2][IG4]
        (
            REMOVED,
            (
                "sorry, this page isn't available.",
                "the link you followed may be broken, or the page may have been removed.",
            ),
        ),  # [IG1]
        (SOFT_REMOVED, ("this account is private",)),  # [AA1] mostly JS-rendered
    )


@register
class Facebook(Detector):
    """Facebook uses one message for deleted and audience-changed content [JD5]: soft_removed."""

    name = "facebook"
    markers = (
        (INCONCLUSIVE, ("you must log in to continue", '{"__dr":"cometerrorroot.react"}')),  # [FB2][GD3]
        (
            SOFT_REMOVED,
            (
                "this content isn't available right now",
                "this content is no longer available",
                "the content you requested cannot be displayed right now",
                "uiinterstitialcontent",
                "the link you followed may be broken",
            ),
        ),  # [GD3][AA1][Y19]
    )


@register
class Pornhub(Detector):
    name = "pornhub"
    markers = (
        (INCONCLUSIVE, ("leastfactor", 'document.cookie="rnkey=')),  # JS cookie wall [PH1]
        (LEGALLY_BLOCKED, ('class="geoblocked"', "this content is unavailable in your country")),
        (
            REMOVED,
            (
                "video has been removed at the request of",
                "this video has been removed",
                "this video has been disabled",
                "this video is currently unavailable",
            ),
        ),  # [PH1][PH5]
        (
            SOFT_REMOVED,
            (
                "flagged for verification in accordance with our trust and safety policy",
                "unavailable pending review",
                'id="iconlocked"',
            ),
        ),
        (RESTRICTED, ("upgrade to pornhub premium to enjoy this video",)),
    )

    def classify(self, page: Page) -> Finding | None:
        if found := super().classify(page):
            return found
        wanted = page.requested.query.get("viewkey")
        if wanted and page.url.query.get("viewkey") != wanted:
            # deleted or login required, yt-dlp cannot tell either [PH3][PH6]
            return Finding(INCONCLUSIVE, "pornhub: redirected away from the video")
        return None


@register
class XVideos(Detector):
    name = "xvideos"
    markers = (
        (
            REMOVED,
            (
                "this video has been deleted",
                "sorry, this video is not available.",
                "we received a request to have this video deleted",
                "sorry but the page you requested was not found",
            ),
        ),  # [XV1][XV2][XV3]
    )

    def classify(self, page: Page) -> Finding | None:
        if found := super().classify(page):
            return found
        if page.requested.path.startswith("/video") and not page.url.path.startswith("/video"):
            if re.match(r"^(?:www\.)?xvideos\d", host_of(page.url)):
                return Finding(INCONCLUSIVE, "xvideos: sent to a country domain")  # [XV1]
            return Finding(REMOVED, "xvideos: redirected to a non-video page")
        return None


@register
class DCInside(Detector):
    """Deleted posts end at /error/deleted/, adult galleries at /error/adult/ [DC1][DC2]; whether
    by HTTP redirect or script location.replace is *unverified*, so both are read."""

    name = "dcinside"
    _SCRIPT_TARGET = re.compile(r"""location\.(?:replace\(|href\s*=)\s*['"]([^'"]{1,300})['"]""")

    def classify(self, page: Page) -> Finding | None:
        targets = [str(u) for u in page.chain[1:]]
        if page.is_html:
            targets += self._SCRIPT_TARGET.findall(page.text[:65536])
        for target in targets:
            if "/error/deleted" in target:
                return Finding(REMOVED, "dcinside: deleted-post error page")
            if "/error/adult" in target:
                return Finding(RESTRICTED, "dcinside: adult gallery")
            if "error.php" in target:
                return Finding(INCONCLUSIVE, "dcinside: mobile error page")  # [DC3]
        if "/board/view" in page.requested.path and page.is_html:
            if "title_subject" in page.text and "write_div" in page.text:  # [DC4]
                return Finding(LIVE, "dcinside: post shown")
            return Finding(INCONCLUSIVE, "dcinside: no post on the page")
        return None


@register
class Naver(Detector):
    """Blog post URLs are a frame shell; PostView.naver has the post [NV3]. The 30-day
    temporary measure (임시조치) wording is *unverified*: staff add it as a marker."""

    name = "naver"
    markers = ((REMOVED, ("삭제되었거나 없는 게시글입니다",)),)  # cafe [NV1]
    _BLOG = re.compile(r"^/([\w-]+)/(\d+)/?$")

    def rewrite(self, url: URL) -> URL:
        if host_of(url) == "blog.naver.com" and (m := self._BLOG.match(url.path)):
            return URL.build(
                scheme="https",
                host="blog.naver.com",
                path="/PostView.naver",
                query={"blogId": m.group(1), "logNo": m.group(2)},
            )
        return url
