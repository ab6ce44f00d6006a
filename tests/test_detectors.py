"""Verdict rules and platform detectors on pages built in memory: no network, no Django.

The page bodies are minimal reproductions of the platforms' own pages, with the source
keys of fixtures/platforms.json next to them.
"""

from __future__ import annotations

import json
import time

import pytest
from multidict import CIMultiDict
from yarl import URL

from takedown.probing import (
    DETECTORS,
    INCONCLUSIVE,
    LEGALLY_BLOCKED,
    LIVE,
    REMOVED,
    RESTRICTED,
    SOFT_REMOVED,
    PlatformRules,
    Refused,
    detector_for,
    ip_literal,
    parse_retry_after,
)
from takedown.probing.detectors.x import syndication_token
from takedown.probing.page import Page, normalize, text_of
from takedown.probing.verdicts import decide, wall_kind


def make_page(
    body: str | bytes = "",
    *,
    url: str = "https://example.org/item",
    requested: str | None = None,
    status: int = 200,
    content_type: str = "text/html; charset=utf-8",
    chain: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> Page:
    requested = requested or (chain[0] if chain else url)
    return Page(
        requested=URL(requested),
        url=URL(url),
        status=status,
        headers=CIMultiDict({"Content-Type": content_type, **(headers or {})}),
        body=body.encode() if isinstance(body, str) else body,
        chain=[URL(u) for u in (chain or [url])],
        rewritten=False,
    )


def verdict_of(page: Page, detector: str = "generic", **markers: list[str]) -> tuple[str, str]:
    return tuple(decide(page, PlatformRules(detector=detector, markers=markers), detector_for(detector)))[:2]


def as_json(value: object) -> dict[str, str]:
    return {"body": json.dumps(value), "content_type": "application/json"}


# ---------------------------------------------------------------------- the generic order


def test_it_puts_a_login_redirect_before_any_status_or_marker():
    page = make_page(
        "<p>Sorry, this page isn't available.</p>",
        status=404,
        url="https://www.instagram.com/p/abc/",
        chain=["https://www.instagram.com/p/abc/", "https://www.instagram.com/accounts/login/?next=/p/abc/"],
    )
    assert verdict_of(page, "instagram") == (INCONCLUSIVE, "redirect to login page")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://www.instagram.com/accounts/login/?next=/p/abc/", "login"),
        ("https://www.facebook.com/login.php?next=x", "login"),
        ("https://www.tiktok.com/login?redirect_url=x", "login"),
        ("https://x.com/i/flow/login", "login"),
        ("https://example.org/en/users/sign_in", "login"),
        ("https://nid.naver.com/nidlogin.login?url=x", "login"),
        ("https://www.instagram.com/challenge/?next=/p/abc/", "challenge"),
        ("https://consent.youtube.com/m?continue=x", "consent"),
        ("https://www.reddit.com/r/challenge/", None),
        ("https://example.org/blog/login-tips", None),
        ("https://example.org/loginx", None),
    ],
)
def test_it_recognises_login_consent_and_challenge_pages(url, kind):
    assert wall_kind(URL(url)) == kind


def test_it_puts_the_bot_layer_before_the_platform_row():
    page = make_page("<p>This video has been removed</p>", status=403, headers={"cf-mitigated": "challenge"})
    assert verdict_of(page, removed=["This video has been removed"])[0] == INCONCLUSIVE


def test_it_tries_the_platform_row_before_the_detector():
    page = make_page(
        '<script>var ytInitialPlayerResponse = {"playabilityStatus": {"status": "OK"}};</script>'
        '<div class="yt-error-box">Staff know this page means the video is gone.</div>'
        "<p>Staff know this page means the video is gone.</p>",
        url="https://www.youtube.com/watch?v=abc",
    )
    assert verdict_of(page, "youtube") == (LIVE, "youtube: OK")
    # A row marker tied to its container decides before the detector...
    assert verdict_of(page, "youtube", removed=["@div.yt-error-box staff know this page"])[0] == REMOVED
    # ...but the same words without a container are only looked for in the detector's error
    # places, and a paragraph of the page is not one of them.
    assert verdict_of(page, "youtube", removed=["staff know this page"])[0] == LIVE


def test_it_falls_back_to_the_generic_rules_for_an_unknown_detector():
    assert detector_for("no-such-platform") is DETECTORS["generic"]
    assert verdict_of(make_page("<p>An ordinary page with words on it.</p>"), "no-such-platform")[0] == LIVE


def test_it_reports_problems_in_platform_rules():
    rules = PlatformRules(
        detector="myspace",
        markers={
            "removed": ["gone"],
            "deleted": ["x"],
            "removed_redirects": ["(unclosed"],
            "restricted": "age",
        },
    )
    problems = " | ".join(rules.problems())
    assert "unknown detector 'myspace'" in problems
    assert "unknown marker kind 'deleted'" in problems
    assert "bad regex '(unclosed'" in problems
    assert "restricted: expected a list" in problems
    assert PlatformRules(detector="youtube", markers={"removed": ["gone"]}).problems() == []


def test_it_reads_a_bare_string_in_the_platform_row_as_one_marker():
    page = make_page("<p>a perfectly ordinary live page</p>")
    assert verdict_of(page, removed="This video was removed")[0] == LIVE  # not "T", "h", "i", ...
    assert verdict_of(page, removed=["a", "li"])[0] == LIVE  # too short to count
    assert "too short" in " ".join(PlatformRules(markers={"removed": ["a"]}).problems())


def test_it_ignores_a_bad_regex_in_the_platform_row_instead_of_failing():
    page = make_page(
        "<p>hello there, a live page</p>", chain=["https://e.org/a", "https://e.org/b"], url="https://e.org/b"
    )
    assert verdict_of(page, removed_redirects=["(unclosed", "/b$"])[0] == REMOVED


# ----------------------------------------------------------------------------- YouTube


def test_it_rewrites_youtube_short_forms_to_the_watch_page():
    yt = DETECTORS["youtube"]
    assert (
        str(yt.rewrite(URL("https://youtu.be/dQw4w9WgXcQ"))) == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    )
    assert str(yt.rewrite(URL("https://www.youtube.com/shorts/dQw4w9WgXcQ"))) == (
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    )
    assert yt.request_headers(URL("https://www.youtube.com/watch?v=x"))["Cookie"].startswith("SOCS=CAI")
    assert yt.request_headers(URL("https://example.org/")) == {}


def test_it_reads_a_terminated_youtube_channel_from_its_alert():
    alert = {
        "alertRenderer": {
            "type": "ERROR",
            "text": {
                "simpleText": (
                    "This account has been terminated for a violation of YouTube's Terms of Service."
                )
            },
        }
    }
    page = make_page(
        f'<script>var ytInitialData = {{"alerts": [{json.dumps(alert)}]}};</script>',
        url="https://www.youtube.com/@someone",
    )
    assert verdict_of(page, "youtube") == (REMOVED, "youtube: channel terminated")


def test_it_reads_a_playability_status_cut_off_by_the_body_limit():
    body = (
        '<script>var ytInitialPlayerResponse = {"responseContext": {}, "playabilityStatus": '
        '{"status": "ERROR", "reason": "Video unavailable"}, "streamingData": {"formats": [{"url": "ht'
    )
    page = make_page(body, url="https://www.youtube.com/watch?v=abc")
    assert verdict_of(page, "youtube") == (REMOVED, "youtube: ERROR (Video unavailable)")


# ----------------------------------------------------------------------------------- X


def test_it_computes_the_syndication_token_like_react_tweet():
    assert syndication_token("20") == "6dq1a2xwd93"


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/someone/status/1234567890123456789",
        "https://twitter.com/someone/status/1234567890123456789/photo/1",
        "https://mobile.twitter.com/i/web/status/1234567890123456789",
    ],
)
def test_it_fetches_x_posts_from_the_syndication_endpoint(url):
    rewritten = DETECTORS["x"].rewrite(URL(url))
    assert rewritten.host == "cdn.syndication.twimg.com"
    assert rewritten.path == "/tweet-result"
    assert rewritten.query["id"] == "1234567890123456789"
    assert rewritten.query["token"] == syndication_token("1234567890123456789")


def test_it_leaves_other_x_urls_alone_and_calls_their_shell_inconclusive():
    url = "https://x.com/someone"
    assert DETECTORS["x"].rewrite(URL(url)) == URL(url)
    page = make_page(
        "<noscript>JavaScript is not available.</noscript><p>Something went wrong, but don't fret</p>",
        url=url,
    )
    assert verdict_of(page, "x")[0] == INCONCLUSIVE


SYNDICATION = "https://cdn.syndication.twimg.com/tweet-result?id=1&token=x"


def _tombstone(text: str) -> dict:
    return {"__typename": "TweetTombstone", "tombstone": {"text": {"text": text, "entities": []}}}


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ({}, REMOVED),
        (_tombstone("This Post was deleted by the Post author. Learn more"), REMOVED),
        (_tombstone("This Post is from a suspended account. Learn more"), REMOVED),
        (_tombstone("This Post is from an account that no longer exists. Learn more"), REMOVED),
        (
            _tombstone(
                "You’re unable to view this Post because this account owner limits who can view their Posts. "
                "Learn more"
            ),
            SOFT_REMOVED,
        ),
        (
            _tombstone(
                "Age-restricted adult content. This content might not be appropriate for people under 18."
            ),
            RESTRICTED,
        ),
        (
            _tombstone(
                "This Tweet from @someone has been withheld in response to a report from the copyright holder. "
                "Learn more"
            ),
            REMOVED,
        ),
        (_tombstone("Something we have never seen before."), INCONCLUSIVE),
        ({"__typename": "TweetUnavailable", "reason": "Suspended"}, REMOVED),
        ({"__typename": "TweetUnavailable", "reason": "Protected"}, SOFT_REMOVED),
        ({"__typename": "TweetUnavailable", "reason": "NsfwLoggedOut"}, RESTRICTED),
        (
            {"__typename": "Tweet", "id_str": "1", "text": "hello", "withheld_in_countries": ["DE"]},
            LEGALLY_BLOCKED,
        ),
        ({"__typename": "Tweet", "id_str": "1", "text": "hello", "withheld_in_countries": ["XX"]}, REMOVED),
        ({"__typename": "Tweet", "id_str": "1", "text": "just setting up my twttr"}, LIVE),
    ],
)
def test_it_reads_x_syndication_answers(answer, verdict):
    page = make_page(
        url=SYNDICATION, requested="https://x.com/a/status/1", chain=[SYNDICATION], **as_json(answer)
    )
    assert verdict_of(page, "x")[0] == verdict


def test_it_reports_a_syndication_404_as_removed():
    page = make_page("", status=404, url=SYNDICATION, chain=[SYNDICATION], content_type="text/plain")
    assert verdict_of(page, "x") == (REMOVED, "http 404")


# ---------------------------------------------------------------------------- Telegram


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://t.me/somechannel/123", "https://t.me/somechannel/123?embed=1&mode=tme"),
        ("https://t.me/s/somechannel/123", "https://t.me/somechannel/123?embed=1&mode=tme"),
        ("https://telegram.me/somechannel/123/", "https://t.me/somechannel/123?embed=1&mode=tme"),
        ("https://t.me/somechannel", "https://t.me/somechannel"),
    ],
)
def test_it_fetches_telegram_posts_through_the_embed_widget(url, expected):
    assert str(DETECTORS["telegram"].rewrite(URL(url))) == expected


EMBED = "https://t.me/somechannel/123?embed=1&mode=tme"


@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        ('<div class="tgme_widget_message_error">Post not found</div>', REMOVED),  # [TG1]
        ('<div class="tgme_widget_message_error">Channel is private</div>', SOFT_REMOVED),
        (
            '<div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="somechannel/123">'
            '<div class="tgme_widget_message_text">hello</div></div>',
            LIVE,
        ),
        (
            '<div class="tgme_widget_message_error">'
            "This channel can’t be displayed because it violated Telegram's Terms of Service.</div>",
            REMOVED,
        ),
        (
            '<div class="tgme_widget_message_error">'
            "This channel can't be displayed because it was used to spread pornographic content.</div>",
            REMOVED,
        ),
        (
            '<div class="tgme_widget_message_error">This channel cannot be displayed because it violated local laws.</div>',
            LEGALLY_BLOCKED,
        ),
        (
            '<div class="tgme_widget_message_error">This post isn\'t available in your country due to copyright.</div>',
            LEGALLY_BLOCKED,
        ),
    ],
)
def test_it_reads_telegram_embed_pages(body, verdict):
    page = make_page(f"<html><body>{body}</body></html>", url=EMBED, requested="https://t.me/somechannel/123")
    assert verdict_of(page, "telegram")[0] == verdict


def test_it_reads_an_unused_telegram_name_as_removed_but_not_a_live_user():
    head = (
        '<meta property="og:title" content="{title}"><meta property="og:description" '
        'content="If you have Telegram, you can contact @somechannel right away.">'
    )
    gone = make_page(
        head.format(title="Telegram: Contact @somechannel") + "<p>Send Message</p>",
        url="https://t.me/somechannel",
    )
    assert verdict_of(gone, "telegram")[0] == REMOVED
    user = make_page(
        head.format(title="Some Person") + "<p>Send Message to this person</p>",
        url="https://t.me/somechannel",
    )
    assert verdict_of(user, "telegram")[0] == LIVE


# ------------------------------------------------------------------------------ Reddit


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.reddit.com/r/pics/comments/abc123/a_title/",
            "https://www.reddit.com/r/pics/comments/abc123/a_title/.json?raw_json=1",
        ),
        (
            "https://old.reddit.com/r/pics/comments/abc123/a_title/def456/",
            "https://www.reddit.com/r/pics/comments/abc123/a_title/def456/.json?raw_json=1",
        ),
        ("https://redd.it/abc123", "https://www.reddit.com/comments/abc123/.json?raw_json=1"),
        ("https://www.reddit.com/r/pics/", "https://www.reddit.com/r/pics/about.json?raw_json=1"),
        ("https://www.reddit.com/u/someone", "https://www.reddit.com/user/someone/about.json?raw_json=1"),
    ],
)
def test_it_fetches_reddit_items_from_their_json(url, expected):
    assert str(DETECTORS["reddit"].rewrite(URL(url))) == expected


def _listing(post: dict, comment: dict | None = None) -> list:
    comments = [{"kind": "t1", "data": comment}] if comment else []
    return [
        {"kind": "Listing", "data": {"children": [{"kind": "t3", "data": post}]}},
        {"kind": "Listing", "data": {"children": comments}},
    ]


POST_JSON = "https://www.reddit.com/r/pics/comments/abc123/a_title/.json?raw_json=1"
COMMENT_JSON = "https://www.reddit.com/r/pics/comments/abc123/a_title/def456/.json?raw_json=1"


@pytest.mark.parametrize(
    ("url", "answer", "verdict"),
    [
        (POST_JSON, _listing({"title": "t", "selftext": "hi", "removed_by_category": None}), LIVE),
        (POST_JSON, _listing({"selftext": "[removed]", "removed_by_category": "moderator"}), REMOVED),
        (POST_JSON, _listing({"selftext": "", "removed_by_category": "copyright_takedown"}), REMOVED),
        (POST_JSON, _listing({"selftext": "", "removed_by_category": "automod_filtered"}), SOFT_REMOVED),
        (
            POST_JSON,
            _listing({"selftext": "[deleted]", "author": "[deleted]", "removed_by_category": None}),
            REMOVED,
        ),
        (
            COMMENT_JSON,
            _listing({"selftext": "post is fine"}, {"body": "[ Removed by Reddit ]", "author": "[deleted]"}),
            REMOVED,
        ),
        # The same words typed by someone who is still there are no evidence.
        (
            POST_JSON,
            _listing({"selftext": "[deleted]", "author": "fan_acct", "removed_by_category": None}),
            INCONCLUSIVE,
        ),
        (
            COMMENT_JSON,
            _listing({"selftext": "ok"}, {"body": "[ Removed by Reddit ]", "author": "fan_acct"}),
            INCONCLUSIVE,
        ),
        # A live post whose comments quote a removal stays live: comments are not the post.
        (
            POST_JSON,
            _listing(
                {"selftext": "a post", "author": "op"},
                {"body": "[ Removed by Reddit ]", "author": "[deleted]"},
            ),
            LIVE,
        ),
        (
            COMMENT_JSON,
            _listing({"selftext": "[removed]", "removed_by_category": "moderator"}, {"body": "a reply"}),
            LIVE,
        ),
        ("https://www.reddit.com/r/x/about.json", {"kind": "t5", "data": {"display_name": "x"}}, LIVE),
        ("https://www.reddit.com/user/y/about.json", {"kind": "t2", "data": {"is_suspended": True}}, REMOVED),
    ],
)
def test_it_reads_reddit_json(url, answer, verdict):
    page = make_page(url=url, **as_json(answer))
    assert verdict_of(page, "reddit")[0] == verdict


@pytest.mark.parametrize(
    ("status", "reason", "verdict"),
    [(403, "private", RESTRICTED), (403, "quarantined", RESTRICTED), (404, "banned", REMOVED)],
)
def test_it_reads_reddit_subreddit_states(status, reason, verdict):
    page = make_page(
        url="https://www.reddit.com/r/x/about.json",
        status=status,
        **as_json({"reason": reason, "message": "Forbidden", "error": status}),
    )
    assert verdict_of(page, "reddit")[0] == verdict


def test_it_does_not_take_a_reddit_block_page_for_a_live_post():
    page = make_page(
        "<p>Your request has been blocked due to a network policy. Log in to continue.</p>",
        url=POST_JSON,
        requested="https://www.reddit.com/r/pics/comments/abc123/a_title/",
    )
    page.rewritten = True
    assert verdict_of(page, "reddit")[0] == INCONCLUSIVE


# ------------------------------------------------------------------------------ TikTok


def tiktok_page(scope: dict) -> str:
    data = json.dumps({"__DEFAULT_SCOPE__": scope})
    return (
        f'<html><head><title>TikTok</title></head><body><script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" '
        f'type="application/json">{data}</script></body></html>'
    )


@pytest.mark.parametrize(
    ("scope", "verdict"),
    [
        (
            {
                "webapp.video-detail": {
                    "statusCode": 0,
                    "itemInfo": {"itemStruct": {"id": "1", "video": {"id": "1"}}},
                }
            },
            LIVE,
        ),
        ({"webapp.video-detail": {"statusCode": 10204, "statusMsg": "item doesn't exist"}}, REMOVED),
        ({"webapp.video-detail": {"statusCode": 10216}}, SOFT_REMOVED),
        ({"webapp.video-detail": {"statusCode": 10222}}, SOFT_REMOVED),
        ({"webapp.video-detail": {"statusCode": 10231}}, LEGALLY_BLOCKED),
        (
            {
                "webapp.video-detail": {
                    "statusCode": 0,
                    "itemInfo": {"itemStruct": {"isContentClassified": True}},
                }
            },
            RESTRICTED,
        ),
        ({"webapp.user-detail": {"statusCode": 10221}}, REMOVED),
        ({"webapp.video-detail": {"statusCode": 99999}}, INCONCLUSIVE),
    ],
)
def test_it_reads_the_tiktok_status_code(scope, verdict):
    page = make_page(tiktok_page(scope), url="https://www.tiktok.com/@someone/video/1")
    assert verdict_of(page, "tiktok")[0] == verdict


def test_it_calls_a_tiktok_page_without_data_inconclusive():
    page = make_page(
        '<html><body><div id="tiktok-verify-page">Verify to continue</div></body></html>',
        url="https://www.tiktok.com/@someone/video/1",
    )
    assert verdict_of(page, "tiktok") == (INCONCLUSIVE, "tiktok: captcha page")
    page = make_page(
        "<html><body><p>Please wait while we check your browser</p></body></html>",
        url="https://www.tiktok.com/@someone/video/1",
    )
    assert verdict_of(page, "tiktok")[0] == INCONCLUSIVE


def test_it_reads_a_tiktok_short_link_landing_on_the_home_page_as_removed():
    page = make_page(
        "<p>TikTok - Make Your Day, the home page</p>",
        url="https://www.tiktok.com/?_r=1",
        chain=["https://vm.tiktok.com/ZMabc/", "https://www.tiktok.com/?_r=1"],
    )
    assert verdict_of(page, "tiktok")[0] == REMOVED


# ----------------------------------------------------------- platforms with built-in texts


@pytest.mark.parametrize(
    ("detector", "body", "verdict"),
    [
        ("instagram", "<title>Login • Instagram</title><p>Log in to see photos and videos</p>", INCONCLUSIVE),
        (
            "instagram",
            '<div class="dialog-404"><h2>Sorry, this page isn&#39;t available.</h2></div>',
            REMOVED,
        ),
        (
            "facebook",
            '<script>{"props":{"title":"This content isn\\u0027t available right now"}}</script>'
            "<p>When this happens, it's usually because the owner only shared it with a small group</p>",
            SOFT_REMOVED,
        ),
        ("facebook", "<p>You must log in to continue.</p>", INCONCLUSIVE),
        ("pornhub", '<div class="removed"><span>This video has been removed</span></div>', REMOVED),
        (
            "pornhub",
            '<div class="geoBlocked">This content is unavailable in your country</div>',
            LEGALLY_BLOCKED,
        ),
        (
            "pornhub",
            '<div class="userMessageSection"><p>Video has been flagged for verification in accordance with'
            " our trust and safety policy</p></div>",
            SOFT_REMOVED,
        ),
        ("xvideos", '<h1 class="inlineError">Sorry, this video is not available.</h1>', REMOVED),
        ("naver", "<script>alert('삭제되었거나 없는 게시글입니다.');history.back();</script>", REMOVED),
    ],
)
def test_it_knows_the_sourced_texts_of_each_platform(detector, body, verdict):
    assert verdict_of(make_page(f"<html><body>{body}</body></html>"), detector)[0] == verdict


def test_it_reads_redirects_away_from_the_item():
    viewkey = "https://www.pornhub.com/view_video.php?viewkey=abc"
    away = make_page(
        "<p>the home page, lots of videos</p>",
        url="https://www.pornhub.com/",
        chain=[viewkey, "https://www.pornhub.com/"],
    )
    assert verdict_of(away, "pornhub")[0] == INCONCLUSIVE  # deleted or login: yt-dlp cannot tell either
    video = "https://www.xvideos.com/video.abc123/some_title"
    home = make_page(
        "<p>the home page, lots of videos</p>",
        url="https://www.xvideos.com/",
        chain=[video, "https://www.xvideos.com/"],
    )
    assert verdict_of(home, "xvideos")[0] == REMOVED


@pytest.mark.parametrize(
    ("body", "chain", "verdict"),
    [
        (
            "<p>an error page</p>",
            ["https://gall.dcinside.com/board/view/?id=g&no=1", "https://gall.dcinside.com/error/deleted/g"],
            REMOVED,
        ),
        (
            "<script>location.replace('https://gall.dcinside.com/error/deleted/g');</script>",
            ["https://gall.dcinside.com/board/view/?id=g&no=1"],
            REMOVED,
        ),
        (
            "<p>adults only</p>",
            ["https://gall.dcinside.com/board/view/?id=g&no=1", "https://gall.dcinside.com/error/adult/g"],
            RESTRICTED,
        ),
        (
            '<header><span class="title_subject">A post</span></header><div class="write_div">text</div>',
            ["https://gall.dcinside.com/board/view/?id=g&no=1"],
            LIVE,
        ),
        ("<p>a gallery list</p>", ["https://gall.dcinside.com/board/view/?id=g&no=1"], INCONCLUSIVE),
    ],
)
def test_it_reads_dc_inside_error_paths(body, chain, verdict):
    assert verdict_of(make_page(body, url=chain[-1], chain=chain), "dcinside")[0] == verdict


def test_it_fetches_naver_blog_posts_from_postview():
    rewritten = DETECTORS["naver"].rewrite(URL("https://blog.naver.com/someone/223456789"))
    assert str(rewritten) == "https://blog.naver.com/PostView.naver?blogId=someone&logNo=223456789"


# ------------------------------------------------------------------------ text and parsing


def test_it_normalises_text_for_matching():
    assert normalize("Sorry,&nbsp;this  page isn&#39;t\n available") == "sorry, this page isn't available"
    assert normalize("Reddit’s \\u0027filters\\u0027") == "reddit's 'filters'"


def test_it_strips_hostile_markup_in_linear_time():
    hostile = "<script" * 40_000 + "<" * 40_000 + "<!--" * 40_000 + "<title" * 40_000
    started = time.perf_counter()
    text_of(hostile)
    page = make_page(hostile)
    _ = (page.title, page.excerpt, page.norm)
    assert time.perf_counter() - started < 2.0


def test_it_decodes_legacy_korean_encodings_from_the_meta_tag():
    body = '<meta charset="euc-kr"><p>삭제된 게시글입니다</p>'.encode("euc-kr")
    page = make_page(body, content_type="text/html")
    assert "삭제된 게시글입니다" in page.excerpt


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 5 ", 5.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_it_parses_retry_after(value, seconds):
    assert parse_retry_after(value) == seconds


def test_it_parses_a_future_retry_after_date():
    from email.utils import formatdate

    assert 80 < parse_retry_after(formatdate(time.time() + 90, usegmt=True)) <= 90


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("93.184.216.34", "93.184.216.34"),
        ("2606:4700::1", "2606:4700::1"),
        ("example.org", None),
        ("1.2.3.example", None),
    ],
)
def test_it_reads_ip_literals(host, address):
    found = ip_literal(host)
    assert (str(found) if found else None) == address


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "127.1",
        "1.2.3.4.5",
        "08.1.2.3",
        "256.1.1.1",
        "example.123",
        "::zz",
        "fe80::1%eth0",
    ],
)
def test_it_refuses_ambiguous_ip_literals(host):
    with pytest.raises(Refused):
        ip_literal(host)


# ------------------------------------------------- positive evidence: traps and fetched URLs

FIXTURE_ROWS = json.loads(
    (__import__("pathlib").Path(__file__).resolve().parent.parent / "fixtures" / "platforms.json").read_text(
        encoding="utf-8"
    )
)


def _quotable(detector: str) -> list[str]:
    """Every text the registry and the detector would read as anything but inconclusive."""
    from takedown.probing.verdicts import as_list, parse_marker

    texts = []
    for row in FIXTURE_ROWS:
        if row["fields"]["detector"] != detector:
            continue
        for kind, values in row["fields"]["markers"].items():
            if kind not in ("inconclusive", "removed_redirects"):
                texts += [parse_marker(v)[1] for v in as_list(values)]
    for kind, values in DETECTORS[detector].markers:
        if kind != INCONCLUSIVE:
            texts += [parse_marker(v)[1] for v in values]
    return texts


def _html_quoting(title: str, quote: str, extra: str = "") -> str:
    escaped = quote.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        f"<html><head><title>{escaped[:80]} - fan upload</title>"
        f'<meta name="description" content="{escaped.replace(chr(34), "&quot;")}"></head><body>'
        f'<h1 class="title">{escaped[:120]}</h1><div class="caption">{escaped}</div>'
        f'<div class="comment">{escaped}</div>{extra}</body></html>'
    )


def _live_page_quoting(detector: str, quote: str) -> Page:
    """A live page of the detector's platform whose user-written fields quote ``quote``."""
    if detector == "youtube":
        player = {
            "playabilityStatus": {"status": "OK"},
            "videoDetails": {"title": quote[:90], "shortDescription": quote},
        }
        extra = f"<script>var ytInitialPlayerResponse = {json.dumps(player)};</script>"
        return make_page(_html_quoting("v", quote, extra), url="https://www.youtube.com/watch?v=AbCdEfGhIjK")
    if detector == "x":
        body = {"__typename": "Tweet", "id_str": "1", "text": quote, "user": {"name": quote[:50]}}
        return make_page(url="https://cdn.syndication.twimg.com/tweet-result?id=1&lang=en", **as_json(body))
    if detector == "tiktok":
        data = {
            "__DEFAULT_SCOPE__": {
                "webapp.video-detail": {
                    "statusCode": 0,
                    "itemInfo": {"itemStruct": {"desc": quote, "video": {"duration": 9}}},
                }
            }
        }
        extra = f'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{json.dumps(data)}</script>'
        return make_page(
            _html_quoting("t", quote, extra), url="https://www.tiktok.com/@fan/video/7300000000000000001"
        )
    if detector == "telegram":
        escaped = quote.replace("&", "&amp;").replace("<", "&lt;")
        body = (
            '<div class="tgme_widget_message js-widget_message" data-post="chan/1">'
            f'<div class="tgme_widget_message_text">{escaped}</div></div>'
        )
        return make_page(body, url="https://t.me/chan/1?embed=1&mode=tme", requested="https://t.me/chan/1")
    if detector == "reddit":
        listing = [
            {
                "kind": "Listing",
                "data": {
                    "children": [
                        {"kind": "t3", "data": {"title": quote[:100], "selftext": quote, "author": "op"}}
                    ]
                },
            },
            {
                "kind": "Listing",
                "data": {"children": [{"kind": "t1", "data": {"body": quote, "author": "someone"}}]},
            },
        ]
        return make_page(
            url="https://www.reddit.com/r/x/comments/abc123/t/.json?raw_json=1", **as_json(listing)
        )
    if detector == "dcinside":
        escaped = quote.replace("&", "&amp;").replace("<", "&lt;")
        body = f'<span class="title_subject">{escaped[:80]}</span><div class="write_div">{escaped}</div>'
        return make_page(body, url="https://gall.dcinside.com/board/view/?id=kpop&no=1")
    urls = {
        "instagram": "https://www.instagram.com/p/Cabc/",
        "facebook": "https://www.facebook.com/fan/posts/1",
        "pornhub": "https://www.pornhub.com/view_video.php?viewkey=ph1",
        "xvideos": "https://www.xvideos.com/video.abc1/clip",
        "naver": "https://cafe.naver.com/ArticleRead.nhn?clubid=1&articleid=2",
        "generic": "https://clips.example.net/v/1",
    }
    return make_page(_html_quoting("p", quote), url=urls[detector])


@pytest.mark.parametrize("detector", sorted(DETECTORS))
def test_it_keeps_a_live_page_live_when_its_user_text_quotes_the_platforms_own_markers(detector):
    texts = _quotable(detector) or ["This page has been removed", "404 not found"]
    rows = [row for row in FIXTURE_ROWS if row["fields"]["detector"] == detector] or [None]
    for row in rows:
        markers = row["fields"]["markers"] if row else {}
        rules = PlatformRules(detector=detector, markers=markers, registry=row is not None)
        for quote in [" ".join(texts), *texts]:
            page = _live_page_quoting(detector, quote)
            verdict = decide(page, rules, detector_for(detector))
            assert verdict.verdict == LIVE, (quote, verdict)
            assert verdict.rule


STORED_FORMS = {
    "youtube": [
        "https://www.youtube.com/watch?v=AbCdEfGhIjK",
        "https://youtu.be/AbCdEfGhIjK",
        "https://youtu.be/AbCdEfGhIjK/?t=12",
        "https://www.youtube.com/shorts/AbCdEfGhIjK/",
        "https://m.youtube.com/live/AbCdEfGhIjK?feature=share",
        "https://www.youtube.com/embed/AbCdEfGhIjK",
        "https://m.youtube.com/watch?v=AbCdEfGhIjK&feature=share",
        "https://www.youtube-nocookie.com/embed/AbCdEfGhIjK?rel=0",
        "https://www.youtube.com/@someone",
    ],
    "x": [
        "https://x.com/someone/status/1790000000000000001",
        "https://twitter.com/someone/status/1790000000000000001/photo/1",
        "https://mobile.twitter.com/someone/statuses/1790000000000000001/",
        "https://x.com/i/web/status/1790000000000000001",
        "https://x.com/someone",
    ],
    "reddit": [
        "https://www.reddit.com/r/pics/comments/abc123/a_title/",
        "https://www.reddit.com/comments/abc123//",
        "https://www.reddit.com/comments/abc123/",
        "https://www.reddit.com/comments/abc123",
        "https://old.reddit.com/r/pics/comments/abc123/a_title/def456/",
        "https://www.reddit.com/r/pics/comments/abc123//def456/",
        "https://www.reddit.com/r/pics/comments/abc123/comment/def456/",
        "https://np.reddit.com//r/pics//comments/abc123/a_title",
        "https://redd.it/abc123/",
        "https://www.reddit.com/r/pics/",
        "https://www.reddit.com/user/someone/",
    ],
    "telegram": ["https://t.me/somechannel/123", "https://t.me/s/somechannel/123/", "https://telegram.me/somechannel/9"],
    "naver": ["https://blog.naver.com/someone/223000000001", "https://cafe.naver.com/ArticleRead.nhn?clubid=1&articleid=2"],
    "tiktok": ["https://www.tiktok.com/@someone/video/7300000000000000001", "https://vm.tiktok.com/ZMabc123/"],
    "instagram": ["https://www.instagram.com/p/Cabc123/", "https://www.instagram.com/reel/Cabc123/"],
    "facebook": ["https://www.facebook.com/someone/posts/pfbid0abc", "https://fb.watch/abc123/"],
    "pornhub": ["https://www.pornhub.com/view_video.php?viewkey=ph5f0000001"],
    "xvideos": ["https://www.xvideos.com/video.abc123/some_title"],
    "dcinside": ["https://gall.dcinside.com/board/view/?id=kpop&no=123456"],
    "generic": ["https://clips.example.net/v/1?a=b", "http://clips.example.com/"],
}  # fmt: skip


@pytest.mark.parametrize("detector", sorted(DETECTORS))
def test_it_fetches_a_well_formed_address_for_every_stored_form(detector):
    assert detector in STORED_FORMS, "every detector needs its stored forms here"
    for stored in STORED_FORMS[detector]:
        fetched = detector_for(detector).rewrite(URL(stored))
        assert fetched.is_absolute() and fetched.scheme in ("http", "https"), (stored, fetched)
        assert fetched.raw_host and not fetched.raw_host.startswith(".")
        segments = fetched.raw_path.split("/")
        assert segments[0] == "" and "" not in segments[1:-1], f"empty path segment: {stored} -> {fetched}"
        assert URL(str(fetched)) == fetched  # survives being written down and read back
        assert all(v for v in fetched.query.values()), (stored, fetched)


def test_it_fetches_youtube_videos_at_the_desktop_watch_page_whatever_the_form():
    youtube = detector_for("youtube")
    forms = [
        "https://youtu.be/AbCdEfGhIjK?si=share",
        "https://m.youtube.com/watch?v=AbCdEfGhIjK&feature=share",
        "https://music.youtube.com/watch?v=AbCdEfGhIjK",
        "https://www.youtube.com/shorts/AbCdEfGhIjK",
        "https://www.youtube-nocookie.com/embed/AbCdEfGhIjK",
    ]
    assert {str(youtube.rewrite(URL(f))) for f in forms} == {"https://www.youtube.com/watch?v=AbCdEfGhIjK"}


def test_it_fetches_reddit_posts_at_one_json_path_whatever_the_slashes():
    reddit = detector_for("reddit")
    forms = [
        "https://www.reddit.com/comments/abc123//",
        "https://www.reddit.com/comments/abc123/",
        "https://www.reddit.com/comments/abc123",
        "https://redd.it/abc123",
    ]
    assert {str(reddit.rewrite(URL(f))) for f in forms} == {
        "https://www.reddit.com/comments/abc123/.json?raw_json=1"
    }
    assert str(reddit.rewrite(URL("https://www.reddit.com/r/pics/comments/abc123/comment/def456/"))) == (
        "https://www.reddit.com/r/pics/comments/abc123/_/def456/.json?raw_json=1"
    )


@pytest.mark.parametrize(
    ("kind", "marker", "problem"),
    [
        ("removed", "@page this video has been removed", "not evidence of 'removed'"),
        ("soft_removed", "@page this video is private", "not evidence of 'soft_removed'"),
        ("removed", "@title Page not found", "not evidence of 'removed'"),
        ("soft_removed", "@title Page not found", "not evidence of 'soft_removed'"),
        ("removed", '@markup class="removed"', "not evidence of 'removed'"),
        ("removed", "@div..bad this is gone", "unknown zone"),
        ("removed", "@div.removed ok", "too short"),
    ],
)
def test_it_tells_staff_which_markers_cannot_be_evidence(kind, marker, problem):
    problems = PlatformRules(markers={kind: [marker]}).problems()
    assert len(problems) == 1 and problem in problems[0]


def test_it_accepts_scoped_markers_and_ships_a_registry_without_problems():
    rules = PlatformRules(
        detector="youtube",
        markers={
            "removed": [
                "@playability This video has been removed",
                "@div.removed gone for good",
                "Post not found",
            ],
            "inconclusive": ["@page please log in", '@markup id="login_form"'],
            "legally_blocked": ['@markup <meta name="kcsc" content="blocking">'],
            "restricted": ["@.age-gate confirm your age"],
        },
    )
    assert rules.problems() == []
    for row in FIXTURE_ROWS:
        fields = row["fields"]
        assert PlatformRules(detector=fields["detector"], markers=fields["markers"]).problems() == [], fields[
            "slug"
        ]


def test_it_never_lets_an_unscoped_page_marker_decide_a_removal_even_from_an_old_row():
    # A row saved before the zone rules: "@page" for removed is skipped, not obeyed.
    page = make_page("<p>This clip was removed for violating our terms</p>")
    assert verdict_of(page, "generic", removed=["@page this clip was removed"])[0] == LIVE
    assert verdict_of(page, "generic", removed=["this clip was removed"])[0] == LIVE
    page = make_page('<div class="clip-error">This clip was removed for violating our terms</div>')
    found = decide(
        page,
        PlatformRules(markers={"removed": ["@div.clip-error this clip was removed"]}),
        detector_for("generic"),
    )
    assert (found.verdict, found.rule) == (REMOVED, "marker.removed@div.clip-error")


def test_it_reads_the_youtube_player_response_only_from_the_pages_own_script():
    quoted = 'ytInitialPlayerResponse = {"playabilityStatus":{"status":"ERROR","reason":"Video unavailable"}}'
    page = make_page(
        f'<div class="comment">{quoted}</div>'
        '<script>var ytInitialPlayerResponse = {"playabilityStatus": {"status": "OK"}};</script>',
        url="https://www.youtube.com/watch?v=abc",
    )
    assert verdict_of(page, "youtube") == (LIVE, "youtube: OK")


def test_it_asks_staff_where_a_bare_marker_goes_when_the_detector_has_no_error_box():
    (problem,) = PlatformRules(
        detector="generic", markers={"soft_removed": ["임시조치된 게시물입니다"]}
    ).problems()
    assert "knows no error box" in problem and "@div.error" in problem
    assert PlatformRules(detector="telegram", markers={"removed": ["Post not found"]}).problems() == []


# ------------------------------------------------------------------ sub-items (comments, replies)

_TG_POST = (
    '<div class="tgme_widget_message js-widget_message" data-post="somechannel/123">'
    '<div class="tgme_widget_message_text">hello</div></div>'
)
_YT_WATCH = (
    '<script>var ytInitialPlayerResponse = {{"playabilityStatus": {{"status": "{status}"}}}};</script>'
)


@pytest.mark.parametrize(
    ("detector", "requested", "fetched", "body", "status", "expected"),
    [
        # The parent is live (or hidden, or blocked): nothing is known about the comment.
        ("telegram", "https://t.me/somechannel/123?comment=5", EMBED, _TG_POST, 200,
         (INCONCLUSIVE, "telegram.comment.unreadable")),
        ("telegram", "https://t.me/somechannel/123?comment=5", EMBED,
         '<div class="tgme_widget_message_error">Channel is private</div>', 200,
         (INCONCLUSIVE, "telegram.comment.unreadable")),
        ("youtube", "https://www.youtube.com/watch?v=AbCdEfGhIjK&lc=UgzAbCdEf", "https://www.youtube.com/watch?v=AbCdEfGhIjK",
         _YT_WATCH.format(status="OK"), 200, (INCONCLUSIVE, "youtube.comment.unreadable")),
        ("facebook", "https://www.facebook.com/fanpage/posts/pfbid0Abc?comment_id=1234567", None,
         "<html><title>Fan page</title><body><p>A post about a concert, with photos.</p></body></html>", 200,
         (INCONCLUSIVE, "facebook.comment.unreadable")),
        ("instagram", "https://www.instagram.com/p/CxYzAbCdEf/c/17900000000000000/", None,
         "<html><title>Fan on Instagram</title><body><p>A photo of a concert stage.</p></body></html>", 200,
         (INCONCLUSIVE, "instagram.comment.unreadable")),
        # The parent is gone: a comment cannot outlive the post it was written under.
        ("telegram", "https://t.me/somechannel/123?comment=5", EMBED,
         '<div class="tgme_widget_message_error">Post not found</div>', 200,
         (REMOVED, "telegram.embed_error.not_found")),
        ("youtube", "https://www.youtube.com/watch?v=AbCdEfGhIjK&lc=UgzAbCdEf", "https://www.youtube.com/watch?v=AbCdEfGhIjK",
         "", 404, (REMOVED, "status.404")),
        ("instagram", "https://www.instagram.com/p/CxYzAbCdEf/c/17900000000000000/", None, "", 404,
         (REMOVED, "status.404")),
        # Without a sub-item the same pages are judged as before.
        ("telegram", "https://t.me/somechannel/123", EMBED, _TG_POST, 200, (LIVE, "telegram.embed_post")),
        ("instagram", "https://www.instagram.com/p/CxYzAbCdEf/", None,
         "<html><title>Fan on Instagram</title><body><p>A photo of a concert stage.</p></body></html>", 200,
         (LIVE, "status.2xx")),
    ],
)  # fmt: skip
def test_it_judges_a_comment_the_page_cannot_show_only_by_its_parents_removal(
    detector, requested, fetched, body, status, expected
):
    page = make_page(f"<html><body>{body}</body></html>" if body else "", url=fetched or requested,
                     requested=requested, status=status)  # fmt: skip
    found = decide(page, PlatformRules(detector=detector), detector_for(detector))
    assert (found.verdict, found.rule) == expected
    if expected[0] == REMOVED:  # every removed row above names a comment
        assert "the comment goes with the page it belongs to" in found.reason
    if expected[0] == INCONCLUSIVE:
        assert "cannot be read" in found.reason


def test_it_keeps_the_comment_parameter_out_of_the_telegram_embed_address():
    # The widget has no comment view: the post is fetched, and the verdict says what it covers.
    fetched = DETECTORS["telegram"].rewrite(URL("https://t.me/somechannel/123?comment=5"))
    assert str(fetched) == "https://t.me/somechannel/123?embed=1&mode=tme"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        # Reddit's listing of a comment permalink lacks the comment: only the post can decide.
        (_listing({"selftext": "post is fine"}), (INCONCLUSIVE, "reddit.comment_not_listed")),
        (_listing({"selftext": "post is fine"}, {"id": "zzz999", "body": "another comment"}),
         (INCONCLUSIVE, "reddit.comment_not_listed")),
        ([_listing({"selftext": "post is fine"})[0],
          {"kind": "Listing", "data": {"children": [{"kind": "more", "data": {"id": "def456", "count": 3}}]}}],
         (INCONCLUSIVE, "reddit.comment_not_listed")),
        (_listing({"selftext": "", "removed_by_category": "moderator"}),
         (REMOVED, "reddit.removed_by_category.moderator")),
        # The comment itself, when shown, decides.
        (_listing({"selftext": "post is fine"}, {"id": "def456", "body": "", "removed_by_category": "moderator"}),
         (REMOVED, "reddit.removed_by_category.moderator")),
        (_listing({"selftext": "post is fine"}, {"id": "def456", "body": "a fine comment"}),
         (LIVE, "reddit.content_present")),
    ],
)  # fmt: skip
def test_it_judges_a_reddit_comment_permalink_on_the_comment(answer, expected):
    page = make_page(url=COMMENT_JSON, **as_json(answer))
    found = decide(page, PlatformRules(detector="reddit"), detector_for("reddit"))
    assert (found.verdict, found.rule) == expected
