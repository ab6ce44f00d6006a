"""Platforms whose own texts, status codes and redirects are enough."""

from __future__ import annotations

import re

from yarl import URL

from takedown.probing.detectors.base import Detector, host_of, in_script, register
from takedown.probing.page import Page, script_blocks
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
    """Removed items answer 404 [IG1]; the 200 variant shows its text in the dialog-404 box."""

    name = "instagram"
    error_selectors = (".dialog-404",)
    # /p/<code>/c/<comment>/ serves the post's page; the comment is drawn by JavaScript.
    sub_item_path = re.compile(r"^/(?:[\w.]+/)?(?:p|reel|reels|tv)/[\w-]+/c/\w+")
    markers = (
        (
            INCONCLUSIVE,
            (
                "@title Login • Instagram",
                "@page please wait a few minutes before you try again",
                "@page checkpoint_required",
                "@page challenge_required",
                "@page feedback_required",
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
    """Facebook uses one message for deleted and audience-changed content [JD5]: soft_removed.
    Its words sit in the legacy interstitial box or in the error route's props.title [GD3]."""

    name = "facebook"
    error_selectors = (".uiInterstitialContent",)
    # ?comment_id= / ?reply_comment_id= point at a comment on the page fetched; logged out we
    # see the post at most.
    sub_item_params = ("comment_id", "reply_comment_id")
    _PROPS_TITLE = re.compile(r'"props":\{"title":"((?:[^"\\]|\\.){1,200})"')
    markers = (
        (
            INCONCLUSIVE,
            ("@page you must log in to continue", '@markup {"__dr":"cometerrorroot.react"}'),
        ),  # [FB2][GD3]
        (
            SOFT_REMOVED,
            (
                "this content isn't available right now",
                "this content is no longer available",
                "the content you requested cannot be displayed right now",
                '@markup class="uiinterstitialcontent"',
                "the link you followed may be broken",
            ),
        ),  # [GD3][AA1][Y19]
    )

    def error_text(self, page: Page) -> str:
        titles = [
            m.group(1) for m in self._PROPS_TITLE.finditer(page.text) if in_script(page.text, m.start())
        ]
        return " ".join([super().error_text(page), *titles])


@register
class Pornhub(Detector):
    name = "pornhub"
    # yt-dlp's error-container regex [PH3]: div.removed, .userMessageSection, section.noVideo.
    error_selectors = ("div.removed", ".userMessageSection", ".noVideo", ".geoBlocked")
    markers = (
        (INCONCLUSIVE, ("@markup leastfactor", '@markup document.cookie="rnkey=')),  # JS cookie wall [PH1]
        (LEGALLY_BLOCKED, ('@markup class="geoblocked"', "this content is unavailable in your country")),
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
                '@markup id="iconlocked"',
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
            return Finding(
                INCONCLUSIVE, "pornhub: redirected away from the video", "pornhub.redirect.no_viewkey"
            )
        return None


@register
class XVideos(Detector):
    name = "xvideos"
    error_selectors = (".inlineError",)  # <h1 class="inlineError"> [XV3]
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
                return Finding(
                    INCONCLUSIVE, "xvideos: sent to a country domain", "xvideos.redirect.country"
                )  # [XV1]
            if len(page.chain) > 1:  # XVideos' own redirect, not a page we were given
                return Finding(
                    REMOVED, "xvideos: redirected to a non-video page", "xvideos.redirect.non_video"
                )
        return None


@register
class DCInside(Detector):
    """Deleted posts end at /error/deleted/, adult galleries at /error/adult/ [DC1][DC2]; whether
    by HTTP redirect or script location.replace is *unverified*, so both are read."""

    name = "dcinside"
    _SCRIPT_TARGET = re.compile(r"""location\.(?:replace\(|href\s*=)\s*['"]([^'"]{1,300})['"]""")

    def classify(self, page: Page) -> Finding | None:
        targets = [(str(u), "redirect") for u in page.chain[1:]]
        if page.is_html:
            # Only the page's own scripts: a post's text may spell out such a line.
            for block in script_blocks(page.text[:262144]):
                targets += [(t, "script") for t in self._SCRIPT_TARGET.findall(block)]
        for target, how in targets:
            if "/error/deleted" in target:
                return Finding(REMOVED, "dcinside: deleted-post error page", f"dcinside.{how}.error_deleted")
            if "/error/adult" in target:
                return Finding(RESTRICTED, "dcinside: adult gallery", f"dcinside.{how}.error_adult")
            if "error.php" in target:
                return Finding(
                    INCONCLUSIVE, "dcinside: mobile error page", f"dcinside.{how}.error_php"
                )  # [DC3]
        if "/board/view" in page.requested.path and page.is_html:
            if "title_subject" in page.text and "write_div" in page.text:  # [DC4]
                return Finding(LIVE, "dcinside: post shown", "dcinside.post_shown")
            return Finding(INCONCLUSIVE, "dcinside: no post on the page", "dcinside.no_post")
        return None


@register
class Naver(Detector):
    """Blog post URLs are a frame shell; PostView.naver has the post [NV3]. The 30-day
    temporary measure (임시조치) wording is *unverified*: staff add it as a marker."""

    name = "naver"
    markers = ((REMOVED, ("삭제되었거나 없는 게시글입니다",)),)  # cafe [NV1]
    _BLOG = re.compile(r"^/([\w-]+)/(\d+)/?$")
    # Where the cafe's deleted-article message sits is *unverified* [NV1]: read it in the
    # page's own alert() calls and its error box, never in an article's text.
    error_selectors = (".error_content", "#errorContent")
    _ALERT = re.compile(r"""alert\(\s*(['"])(.{1,200}?)\1""")

    def error_text(self, page: Page) -> str:
        alerts = [m.group(2) for block in script_blocks(page.text) for m in self._ALERT.finditer(block)]
        return " ".join([super().error_text(page), *alerts])

    def rewrite(self, url: URL) -> URL:
        if host_of(url) == "blog.naver.com" and (m := self._BLOG.match(url.path)):
            return URL.build(
                scheme="https",
                host="blog.naver.com",
                path="/PostView.naver",
                query={"blogId": m.group(1), "logNo": m.group(2)},
            )
        return url
