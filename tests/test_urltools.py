"""Specification of takedown.urltools: normalisation, refusals and host matching.

Pure functions, so no database and no Django: these run as plain pytest.
"""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from takedown.urltools import (
    MAX_URL_LENGTH,
    NormalizedURL,
    OfficialAccounts,
    PlatformMatcher,
    UnsafeURL,
    host_matches,
    is_public_ip,
    normalize_url,
    official_matcher,
    registrable_domain,
)

VID = "dQw4w9WgXcQ"
WATCH = f"https://www.youtube.com/watch?v={VID}"


def norm(raw: str) -> str:
    return normalize_url(raw).url


# --------------------------------------------------------------------------------------------
# Generic normalisation
# --------------------------------------------------------------------------------------------

GENERIC = [
    # scheme and host case, trailing dot, whitespace
    ("HTTPS://Example.COM/Path", "https://example.com/Path"),
    ("HtTp://EXAMPLE.com", "http://example.com/"),
    ("https://example.com./a", "https://example.com/a"),
    ("  https://example.com/a \n", "https://example.com/a"),
    ("\u200bhttps://example.com/a\ufeff", "https://example.com/a"),
    ("https://exam\nple.com/a\tb", "https://example.com/ab"),
    # empty path
    ("https://example.com", "https://example.com/"),
    ("https://example.com?a=1", "https://example.com/?a=1"),
    # trailing slash kept as given on generic sites
    ("https://example.com/a/", "https://example.com/a/"),
    # www. is not stripped in general
    ("https://www.example.com/", "https://www.example.com/"),
    # http stays http on generic sites
    ("http://example.com/", "http://example.com/"),
    # scheme-less input is https; protocol-relative too
    ("example.com/a?b=1", "https://example.com/a?b=1"),
    ("youtube.com/channel/UCabc", "https://www.youtube.com/channel/UCabc"),
    ("youtube.com/watch?v=x", "https://www.youtube.com/watch?v=x"),
    ("//example.com/a", "https://example.com/a"),
    ("example.com:8080/a", "https://example.com:8080/a"),
    # browsers skip extra slashes and read backslashes as slashes
    ("https:///example.com/a", "https://example.com/a"),
    ("https:\\\\example.com\\a\\b", "https://example.com/a/b"),
    # default ports dropped, others kept
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("http://example.com:0080/a", "http://example.com/a"),
    ("https://example.com:80/a", "https://example.com:80/a"),
    ("http://example.com:443/a", "http://example.com:443/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://example.com:/a", "https://example.com/a"),
    # fragments dropped, client-side routes kept
    ("https://example.com/a#section", "https://example.com/a"),
    ("https://example.com/a#", "https://example.com/a"),
    ("https://example.com/#/video/1", "https://example.com/#/video/1"),
    ("https://example.com/#!/post/2", "https://example.com/#!/post/2"),
    ("https://example.com/#/v/%ed%95%9c", "https://example.com/#/v/%ED%95%9C"),
    # percent-encoding: upper-case hex, unreserved decoded, reserved kept, rest encoded
    ("https://example.com/%7euser/%2fx%3A", "https://example.com/~user/%2Fx%3A"),
    ("https://example.com/%41%62%2D%2e%5F", "https://example.com/Ab-._"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/100%", "https://example.com/100%25"),
    ("https://example.com/%zz", "https://example.com/%25zz"),
    ('https://example.com/<x>"{|}^`', "https://example.com/%3Cx%3E%22%7B%7C%7D%5E%60"),
    ("https://example.com/한국", "https://example.com/%ED%95%9C%EA%B5%AD"),
    ("https://example.com/%ed%95%9c%ea%b5%ad", "https://example.com/%ED%95%9C%EA%B5%AD"),
    ("https://example.com/?q=한국", "https://example.com/?q=%ED%95%9C%EA%B5%AD"),
    ("https://example.com/?q=a+b&r=a%2Bb&s=a%20b", "https://example.com/?q=a+b&r=a%2Bb&s=a%20b"),
    ("https://example.com/@user/(x)!$;,*'", "https://example.com/@user/(x)!$;,*'"),
    # dot segments, also when escaped
    ("https://example.com/a/./b/../c", "https://example.com/a/c"),
    ("https://example.com/a/b/..", "https://example.com/a/"),
    ("https://example.com/../../a", "https://example.com/a"),
    ("https://example.com/a/%2e%2E/b", "https://example.com/b"),
    ("https://example.com/a/.hidden/..x", "https://example.com/a/.hidden/..x"),
    ("https://example.com/a//b", "https://example.com/a//b"),
    # query order kept, empty pieces dropped, duplicates kept
    ("https://example.com/?b=2&a=1", "https://example.com/?b=2&a=1"),
    ("https://example.com/?a=1&&b=2&", "https://example.com/?a=1&b=2"),
    ("https://example.com/?a=1&a=2", "https://example.com/?a=1&a=2"),
    ("https://example.com/?", "https://example.com/"),
    ("https://example.com/?flag", "https://example.com/?flag"),
    # IDNA
    ("https://한국.kr/", "https://xn--3e0b707e.kr/"),
    ("https://BÜCHER.de/", "https://xn--bcher-kva.de/"),
    ("https://bücher.de/", "https://xn--bcher-kva.de/"),
    ("https://xn--bcher-kva.de/", "https://xn--bcher-kva.de/"),
    ("https://XN--BCHER-KVA.DE/", "https://xn--bcher-kva.de/"),
    ("https://예시.한국/", "https://xn--vv4b11d.xn--3e0b707e/"),
    ("https://example。com/", "https://example.com/"),
    ("https://ｅｘａｍｐｌｅ.com/", "https://example.com/"),
    ("https://faß.de/", "https://xn--fa-hia.de/"),
    ("https://xn--fa-hia.de/", "https://xn--fa-hia.de/"),
    ("https://%65xample.com/", "https://example.com/"),
    ("https://😀.com/", "https://xn--e28h.com/"),
    # underscores occur in real host names
    ("https://my_site.example.com/", "https://my_site.example.com/"),
]


@pytest.mark.parametrize(("raw", "expected"), GENERIC)
def test_it_normalises_generic_urls(raw: str, expected: str) -> None:
    assert norm(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), GENERIC)
def test_it_is_idempotent(raw: str, expected: str) -> None:
    assert norm(expected) == expected


# --------------------------------------------------------------------------------------------
# Tracking parameters
# --------------------------------------------------------------------------------------------

TRACKING_EVERYWHERE = [
    "utm_source=x", "utm_medium=x", "utm_campaign=x", "utm_term=x", "utm_content=x",
    "utm_id=x", "UTM_Source=x", "utm%5Fsource=x", "fbclid=x", "gclid=x", "dclid=x",
    "gbraid=x", "wbraid=x", "msclkid=x", "igshid=x", "igsh=x", "mc_cid=x", "mc_eid=x",
    "_ga=x", "_gl=x", "yclid=x", "twclid=x", "ttclid=x", "mkt_tok=x", "_hsenc=x",
    "ref_src=x", "FBCLID=x", "__cft__[0]=x", "__cft__%5B0%5D=x", "__xts__[0]=x",
]  # fmt: skip


@pytest.mark.parametrize("param", TRACKING_EVERYWHERE)
def test_it_drops_tracking_parameters(param: str) -> None:
    assert norm(f"https://example.com/a?id=7&{param}&b=2") == "https://example.com/a?id=7&b=2"


@pytest.mark.parametrize(
    "param",
    # meaningful on some sites, so only dropped on the platforms where they are tracking
    ["si=1", "feature=share", "s=20", "t=10", "ref=abc", "source=x", "context=3", "single"],
)
def test_it_keeps_parameters_that_are_tracking_only_on_some_platforms(param: str) -> None:
    assert norm(f"https://example.com/?{param}") == f"https://example.com/?{param}"


PLATFORM_TRACKING = [
    ("https://www.youtube.com/@Artist/videos?si=abc&feature=share&view=0",
     "https://www.youtube.com/@artist/videos?view=0"),
    ("https://www.youtube.com/playlist?list=PL123&si=abc&pp=xyz",
     "https://www.youtube.com/playlist?list=PL123"),
    ("https://open.spotify.com/track/1?si=abc", "https://open.spotify.com/track/1"),
    ("https://x.com/search?q=%23tag&src=typed_query&s=20&t=abc",
     "https://x.com/search?q=%23tag"),
    ("https://www.instagram.com/artist/?igsh=abc&igshid=def&hl=ko",
     "https://www.instagram.com/artist/"),
    ("https://www.facebook.com/permalink.php?story_fbid=1&id=2&mibextid=x&ref=share&__tn__=K",
     "https://www.facebook.com/permalink.php?story_fbid=1&id=2"),
    ("https://www.tiktok.com/@artist?is_from_webapp=1&sender_device=pc&_t=x&_r=1&lang=ko",
     "https://www.tiktok.com/@artist?lang=ko"),
    ("https://vm.tiktok.com/ZMabc/?_r=1", "https://vm.tiktok.com/ZMabc/"),
    ("https://www.reddit.com/r/kpop/?share_id=x&utm_name=y&rdt=1&sort=new",
     "https://www.reddit.com/r/kpop/?sort=new"),
    ("https://t.me/channel?embed=1&mode=tme", "https://t.me/channel"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), PLATFORM_TRACKING)
def test_it_drops_platform_specific_tracking(raw: str, expected: str) -> None:
    assert norm(raw) == expected


# --------------------------------------------------------------------------------------------
# Platform aliases
# --------------------------------------------------------------------------------------------

YOUTUBE = [
    f"https://youtu.be/{VID}",
    f"https://youtu.be/{VID}/",
    f"https://youtu.be/{VID}?si=AbCdEf&t=42",
    f"youtu.be/{VID}",
    f"http://youtu.be/{VID}",
    f"https://m.youtube.com/watch?v={VID}",
    f"https://youtube.com/watch?v={VID}",
    f"https://www.youtube.com/watch?v={VID}",
    f"https://www.youtube.com/watch?v={VID}&feature=share",
    f"https://www.youtube.com/watch?feature=share&v={VID}",
    f"https://www.youtube.com/watch?v={VID}&t=1m30s",
    f"https://www.youtube.com/watch?v={VID}&list=PL123&index=4&pp=abc",
    f"https://www.youtube.com/watch?v={VID}#t=30",
    f"https://WWW.YOUTUBE.COM/watch?v={VID}&utm_source=x",
    f"https://www.youtube.com:443/watch?v={VID}",
    f"https://www.youtube.com/shorts/{VID}",
    f"https://youtube.com/shorts/{VID}?feature=share",
    f"https://m.youtube.com/shorts/{VID}",
    f"https://www.youtube.com/embed/{VID}?start=10",
    f"https://www.youtube-nocookie.com/embed/{VID}",
    f"https://www.youtube.com/live/{VID}?si=x",
    f"https://www.youtube.com/v/{VID}",
    f"https://music.youtube.com/watch?v={VID}&si=x",
]


@pytest.mark.parametrize("raw", YOUTUBE)
def test_it_folds_youtube_video_aliases(raw: str) -> None:
    result = normalize_url(raw)
    assert result == NormalizedURL(WATCH, "www.youtube.com")


PLATFORM_ALIASES = [
    # YouTube pages that are not a video keep their path on www.youtube.com
    ("https://m.youtube.com/channel/UCabcDEF", "https://www.youtube.com/channel/UCabcDEF"),
    ("https://youtube.com/@SomeArtist", "https://www.youtube.com/@someartist"),
    ("https://www.youtube.com/embed/videoseries?list=PL1",
     "https://www.youtube.com/embed/videoseries?list=PL1"),
    ("https://www.youtube.com/watch?v=tooshort", "https://www.youtube.com/watch?v=tooshort"),
    ("https://music.youtube.com/playlist?list=PL1", "https://music.youtube.com/playlist?list=PL1"),
    # X / Twitter
    ("https://twitter.com/SomeUser/status/1234567890?s=20&t=AbC",
     "https://x.com/i/status/1234567890"),
    ("https://www.twitter.com/someuser/status/1234567890", "https://x.com/i/status/1234567890"),
    ("https://mobile.twitter.com/someuser/status/1234567890",
     "https://x.com/i/status/1234567890"),
    ("http://x.com/SomeUser/statuses/1234567890", "https://x.com/i/status/1234567890"),
    ("https://www.x.com/someuser/status/1234567890/", "https://x.com/i/status/1234567890"),
    ("https://mobile.x.com/someuser/status/1234567890/photo/1",
     "https://x.com/i/status/1234567890"),
    ("https://x.com/someuser/status/1234567890/video/1?ref_src=twsrc",
     "https://x.com/i/status/1234567890"),
    ("https://twitter.com/#!/SomeUser/status/1234567890", "https://x.com/i/status/1234567890"),
    ("https://twitter.com/i/web/status/1234567890", "https://x.com/i/status/1234567890"),
    ("https://twitter.com/SomeUser", "https://x.com/someuser"),
    ("https://twitter.com/SomeUser/", "https://x.com/someuser"),
    ("https://x.com/SomeUser/media", "https://x.com/someuser/media"),
    ("https://x.com/hashtag/BTS?src=hashtag_click", "https://x.com/hashtag/BTS"),
    # Telegram
    ("https://telegram.me/SomeChannel/123", "https://t.me/somechannel/123"),
    ("https://www.t.me/somechannel/123/", "https://t.me/somechannel/123"),
    ("https://telegram.dog/somechannel/123", "https://t.me/somechannel/123"),
    ("http://t.me/somechannel/123?single", "https://t.me/somechannel/123"),
    ("https://t.me/somechannel/123?embed=1&single", "https://t.me/somechannel/123"),
    ("https://t.me/s/somechannel/123", "https://t.me/somechannel/123"),
    ("https://t.me/somechannel/123?comment=456", "https://t.me/somechannel/123?comment=456"),
    ("https://t.me/+AbCdEfGh", "https://t.me/+AbCdEfGh"),
    ("https://t.me/joinchat/AbCdEfGh", "https://t.me/joinchat/AbCdEfGh"),
    ("https://t.me/c/1234567/89", "https://t.me/c/1234567/89"),
    # Instagram
    ("https://instagram.com/p/CxYz_12-AB", "https://www.instagram.com/p/CxYz_12-AB/"),
    ("https://www.instagram.com/p/CxYz_12-AB/", "https://www.instagram.com/p/CxYz_12-AB/"),
    ("https://m.instagram.com/p/CxYz_12-AB//", "https://www.instagram.com/p/CxYz_12-AB/"),
    ("https://www.instagram.com/p/CxYz_12-AB/?igsh=abc&img_index=2",
     "https://www.instagram.com/p/CxYz_12-AB/"),
    ("https://www.instagram.com/reel/CxYz_12-AB/?igshid=x", "https://www.instagram.com/p/CxYz_12-AB/"),
    ("https://www.instagram.com/some.user/p/CxYz_12-AB/", "https://www.instagram.com/p/CxYz_12-AB/"),
    ("https://instagr.am/p/CxYz_12-AB", "https://www.instagram.com/p/CxYz_12-AB/"),
    ("https://instagram.com/Some.User", "https://www.instagram.com/some.user/"),
    ("https://www.instagram.com/", "https://www.instagram.com/"),
    # Facebook
    ("https://m.facebook.com/story.php?story_fbid=1&id=2", "https://www.facebook.com/permalink.php?story_fbid=1&id=2"),
    ("https://web.facebook.com/some.page/posts/123", "https://www.facebook.com/some.page/posts/123"),
    ("https://facebook.com/some.page", "https://www.facebook.com/some.page"),
    ("http://mbasic.facebook.com/photo.php?fbid=9", "https://www.facebook.com/photo/?fbid=9"),
    # TikTok
    ("https://m.tiktok.com/@artist/video/7123456789012345678?is_from_webapp=1&lang=en",
     "https://www.tiktok.com/@_/video/7123456789012345678"),
    ("https://tiktok.com/@artist/video/7123456789012345678/",
     "https://www.tiktok.com/@_/video/7123456789012345678"),
    ("https://vm.tiktok.com/ZMeAbCdEf/", "https://vm.tiktok.com/ZMeAbCdEf/"),
    # Reddit
    ("https://old.reddit.com/r/kpop/comments/abc123/some_title/",
     "https://www.reddit.com/comments/abc123/"),
    ("https://np.reddit.com/r/KPOP/comments/ABC123/some_title",
     "https://www.reddit.com/comments/abc123/"),
    ("https://reddit.com/r/kpop/comments/abc123/?share_id=x",
     "https://www.reddit.com/comments/abc123/"),
    ("https://new.reddit.com/r/kpop/comments/abc123/some_title/def456/?context=3",
     "https://www.reddit.com/comments/abc123/_/def456/"),
    ("https://www.reddit.com/r/kpop/comments/abc123/comment/def456/",
     "https://www.reddit.com/comments/abc123/_/def456/"),
    ("https://m.reddit.com/u/SomeOne", "https://www.reddit.com/user/someone/"),
    ("https://www.reddit.com/r/kpop", "https://www.reddit.com/r/kpop/"),
    ("https://www.reddit.com/r/kpop/.rss", "https://www.reddit.com/r/kpop/.rss"),
    ("https://www.reddit.com/comments/abc123", "https://www.reddit.com/comments/abc123/"),
    # a non-default port is another origin: no folding
    ("https://m.youtube.com:8443/watch?v=" + VID, "https://m.youtube.com:8443/watch?v=" + VID),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), PLATFORM_ALIASES)
def test_it_folds_platform_aliases(raw: str, expected: str) -> None:
    assert norm(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), PLATFORM_ALIASES)
def test_it_is_idempotent_on_platform_urls(raw: str, expected: str) -> None:
    assert norm(expected) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (f"https://youtu.be/{VID}", "https://youtu.be/aaaaaaaaaaa"),
        (f"https://www.youtube.com/watch?v={VID}", f"https://www.youtube.com/watch?v={VID[:-1]}R"),
        (f"https://www.youtube.com/shorts/{VID}", "https://www.youtube.com/channel/" + VID),
        ("https://x.com/a/status/1", "https://x.com/a/status/2"),
        ("https://x.com/a/status/1", "https://x.com/a/status/11"),
        ("https://t.me/chan/1", "https://t.me/chan/2"),
        ("https://t.me/chan/1?comment=2", "https://t.me/chan/1"),
        ("https://t.me/+AbCdEf", "https://t.me/+abcdef"),
        ("https://www.instagram.com/p/AbC/", "https://www.instagram.com/p/abc/"),
        ("https://www.tiktok.com/@a/video/1", "https://www.tiktok.com/@a/video/2"),
        ("https://www.reddit.com/r/a/comments/x1/", "https://www.reddit.com/r/a/comments/x2/"),
        ("https://www.reddit.com/r/a/comments/x1/", "https://www.reddit.com/r/a/comments/x1/t/c1/"),
        ("https://www.facebook.com/a", "https://www.facebook.com/b"),
        ("https://example.com/Path", "https://example.com/path"),
        ("https://example.com/", "https://www.example.com/"),
        ("https://example.com/a", "https://example.com/a/"),
        ("https://example.com/?a=1&b=2", "https://example.com/?b=2&a=1"),
        ("https://example.com/#/a", "https://example.com/#/b"),
        ("https://example.com/a%2Fb", "https://example.com/a/b"),
        ("https://vm.tiktok.com/ZMabc/", "https://www.tiktok.com/ZMabc/"),
    ],
)
def test_it_keeps_distinct_items_distinct(a: str, b: str) -> None:
    assert norm(a) != norm(b)


# Issue 10: each left URL names a sub-item (a comment, a reply, another video) of the right
# one, or a different item outright; folding them together names the wrong item in a notice.
SUB_ITEMS_FOLDED_BEFORE = [
    ("https://www.facebook.com/story.php?story_fbid=123&id=100&comment_id=999",
     "https://www.facebook.com/story.php?story_fbid=123&id=100"),
    ("https://m.facebook.com/story.php?story_fbid=123&id=100&comment_id=999&reply_comment_id=5",
     "https://www.facebook.com/story.php?story_fbid=123&id=100&comment_id=999"),
    ("https://www.facebook.com/page/videos/123/?comment_id=55", "https://www.facebook.com/watch/?v=123"),
    ("https://www.facebook.com/page/videos/10153231379946729/10156000000000001/",
     "https://www.facebook.com/page/videos/10153231379946729/10156000000000002/"),
    ("https://www.facebook.com/page/videos/10153231379946729/10156000000000001/",
     "https://www.facebook.com/watch/?v=10153231379946729"),
    ("https://www.instagram.com/p/ABC/c/17900000000/", "https://www.instagram.com/p/ABC/"),
    ("https://www.instagram.com/p/ABC/c/17900000000/", "https://www.instagram.com/p/ABC/c/17900000001/"),
    ("https://www.instagram.com/luna/reel/ABC/c/17900000000/r/17900000002/",
     "https://www.instagram.com/p/ABC/c/17900000000/"),
    (f"https://www.youtube.com/watch?v={VID}&lc=UgzKp0aVAbCdEfGh4AaABAg", f"https://www.youtube.com/watch?v={VID}"),
    (f"https://m.youtube.com/watch?v={VID}&lc=UgzKp0aVAbCdEfGh4AaABAg",
     f"https://www.youtube.com/watch?v={VID}&lc=UgzKp0aVAbCdEfGh4AaABAg.9xYz"),
    ("https://www.tiktok.com/@luna/video/7300000000000000001?comment_id=7300000000000000002",
     "https://www.tiktok.com/@luna/video/7300000000000000001"),
    ("https://luna.tistory.com/12#comment345", "https://luna.tistory.com/12"),
    ("https://blog.naver.com/PostView.naver?blogId=luna&logNo=220000000001&commentNo=5",
     "https://blog.naver.com/luna/220000000001"),
    ("https://gall.dcinside.com/board/view/?id=a&no=1#comment_123", "https://gall.dcinside.com/board/view/?id=a&no=1"),
]  # fmt: skip


@pytest.mark.parametrize(("sub", "parent"), SUB_ITEMS_FOLDED_BEFORE)
def test_it_never_folds_a_comment_or_reply_into_its_item(sub: str, parent: str) -> None:
    assert norm(sub) != norm(parent)
    assert norm(norm(sub)) == norm(sub)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # yt-dlp reads the LAST number of /videos/<a>/<b>/ as the video.
        ("https://www.facebook.com/page/videos/10153231379946729/10156000000000001/",
         "https://www.facebook.com/watch/?v=10156000000000001"),
        ("https://m.facebook.com/page/videos/vb.100/123/?type=3", "https://www.facebook.com/watch/?v=123"),
        ("https://www.facebook.com/page/videos/123/", "https://www.facebook.com/watch/?v=123"),
        # A comment is kept as pasted, on the platform's host, without tracking.
        ("https://m.facebook.com/story.php?story_fbid=123&id=100&comment_id=999&mibextid=x&comment_tracking=%7B%7D",
         "https://www.facebook.com/story.php?story_fbid=123&id=100&comment_id=999"),
        (f"https://youtube.com/watch?v={VID}&lc=Ugz1&t=30&si=x",
         f"https://www.youtube.com/watch?v={VID}&lc=Ugz1"),
        ("https://instagram.com/p/ABC/c/17900000000/?igsh=x", "https://www.instagram.com/p/ABC/c/17900000000/"),
        # Not sub-items: a timestamp, a section anchor, a presentation parameter, a carousel slide.
        (f"https://www.youtube.com/watch?v={VID}&t=30", f"https://www.youtube.com/watch?v={VID}"),
        ("https://luna.tistory.com/12#comments", "https://luna.tistory.com/12"),
        ("https://gall.dcinside.com/board/view/?id=a&no=1&page=2#comment_box",
         "https://gall.dcinside.com/board/view/?id=a&no=1"),
        ("https://cafe.naver.com/lunacafe/12?commentFocus=true", "https://cafe.naver.com/lunacafe/12"),
        ("https://t.me/Chan/5?single", "https://t.me/chan/5"),
        ("https://t.me/Chan/5?comment=7", "https://t.me/chan/5?comment=7"),
        ("https://www.instagram.com/p/ABC/?img_index=2", "https://www.instagram.com/p/ABC/"),
        ("https://www.facebook.com/story.php?story_fbid=123&id=100&comment_tracking=%7B%7D",
         "https://www.facebook.com/permalink.php?story_fbid=123&id=100"),
    ],
)  # fmt: skip
def test_it_folds_what_is_the_item_and_keeps_what_names_a_sub_item(raw: str, expected: str) -> None:
    assert norm(raw) == expected


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        (f"https://youtu.be/{VID}", "www.youtube.com"),
        ("https://mobile.twitter.com/a", "x.com"),
        ("https://telegram.me/a", "t.me"),
        ("https://instagram.com/a", "www.instagram.com"),
        ("https://m.facebook.com/a", "www.facebook.com"),
        ("https://m.tiktok.com/@a", "www.tiktok.com"),
        ("https://old.reddit.com/r/a", "www.reddit.com"),
        ("https://News.Example.co.uk./a", "news.example.co.uk"),
        ("https://한국.kr/", "xn--3e0b707e.kr"),
        ("http://8.8.8.8:8080/", "8.8.8.8"),
        ("http://[2001:4860:4860::8888]/", "[2001:4860:4860::8888]"),
    ],
)
def test_it_reports_the_canonical_host(raw: str, host: str) -> None:
    assert normalize_url(raw).host == host


# --------------------------------------------------------------------------------------------
# IP literals
# --------------------------------------------------------------------------------------------

PUBLIC_IP_URLS = [
    ("http://8.8.8.8/", "http://8.8.8.8/"),
    ("http://8.8.8.8:8080/x", "http://8.8.8.8:8080/x"),
    ("http://134744072/", "http://8.8.8.8/"),
    ("http://0x8.0x8.0x8.0x8/", "http://8.8.8.8/"),
    ("http://010.010.010.010/", "http://8.8.8.8/"),
    ("http://8.526344/", "http://8.8.8.8/"),
    ("http://1.1.1.1./", "http://1.1.1.1/"),
    ("http://[2001:4860:4860::8888]/", "http://[2001:4860:4860::8888]/"),
    ("http://[2001:4860:4860:0:0:0:0:8888]:8080/", "http://[2001:4860:4860::8888]:8080/"),
    ("http://[::ffff:8.8.8.8]/", "http://[::ffff:808:808]/"),
    ("http://[2001:DB9:0:0:1:0:0:1]/", "http://[2001:db9::1:0:0:1]/"),
    ("http://[2606:4700:0:0:0:0:0:0]/", "http://[2606:4700::]/"),
]


@pytest.mark.parametrize(("raw", "expected"), PUBLIC_IP_URLS)
def test_it_accepts_public_ip_literals(raw: str, expected: str) -> None:
    assert norm(raw) == expected


NON_PUBLIC_IP_URLS = [
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.1/",
    "http://0x7f000001/",
    "http://0X7F000001/",
    "http://127.1/",
    "http://127.0.1/",
    "http://0x7f.0.0.1/",
    "http://0177.0x0.1/",
    "http://017700000001/",
    "http://10.1/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://100.100.100.200/",
    "http://169.254.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0xa9fea9fe/",
    "http://0.0.0.0/",
    "http://0/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://192.0.2.1/",
    "http://198.18.0.1/",
    "http://%31%32%37.0.0.1/",
    "http://１２７.０.０.１/",
    "http://[::1]/",
    "http://[::]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[::127.0.0.1]/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
    "http://[2001:db8::1]/",
    "http://[ff02::1]/",
    "http://[::1]:8080/",
]


@pytest.mark.parametrize("raw", NON_PUBLIC_IP_URLS)
def test_it_refuses_non_public_ips_in_any_encoding(raw: str) -> None:
    with pytest.raises(UnsafeURL, match="not a public IP address"):
        normalize_url(raw)


# --------------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------------

REFUSED = [
    ("", "empty"),
    ("   ", "empty"),
    ("javascript:alert(1)", "only http and https"),
    ("JavaScript:alert(1)", "only http and https"),
    ("ftp://example.com/file", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("data:text/html,<script>", "only http and https"),
    ("mailto:someone@example.com", "only http and https"),
    ("ws://example.com/", "only http and https"),
    ("intranet:8080/x", "only http and https"),
    ("https://user@example.com/", "user name or password"),
    ("https://user:pw@example.com/", "user name or password"),
    ("https://@example.com/", "user name or password"),
    ("https://example.com@127.0.0.1/", "user name or password"),
    ("https:///", "no host"),
    ("https://?a=1", "no host"),
    ("/just/a/path", "no host"),
    ("http://localhost/", "local machine"),
    ("http://LOCALHOST:8000/", "local machine"),
    ("localhost:8000/admin", "local machine"),
    ("http://localhost./", "local machine"),
    ("http://%6c%6f%63%61%6c%68%6f%73%74/", "local machine"),
    ("http://api.localhost/", "local machine"),
    ("http://printer.local/", "mDNS"),
    ("http://metadata.google.internal/", "private-network"),
    ("http://nas.lan/", "private-network"),
    ("http://intranet/", "no domain"),
    ("http://intranet.corp/", "private-network"),
    ("http://wiki/", "no domain"),
    ("http://example.test/", "reserved for testing"),
    ("http://abc.onion/", "Tor"),
    ("http://1.0.0.127.in-addr.arpa/", "DNS infrastructure"),
    ("http://example.notatld/", "not a top-level domain"),
    ("http://foo.123/", "not a valid IP address or host name"),
    ("http://1.2.3.256/", "not a valid IP address or host name"),
    ("http://1.2.3.4.5/", "not a valid IP address or host name"),
    ("http://08.1.1.1/", "not a valid IP address or host name"),
    ("http://4294967296/", "not a valid IP address or host name"),
    ("http://[::1/", "not a valid IPv6"),
    ("http://[::g]/", "not a valid IPv6"),
    ("http://[2001:4860:4860::8888%25eth0]/", "zone"),
    ("http://exa mple.com/", "not a valid host"),
    ("http://exa<mple.com/", "not a valid host"),
    ("http://a..b.com/", "not a valid host"),
    ("http://" + "a" * 64 + ".com/", "not a valid host"),
    ("http://xn--zz.com/", "internationalised"),
    ("https://example.com:0/", "between 1 and 65535"),
    ("https://example.com:65536/", "between 1 and 65535"),
    ("https://example.com:99999999/", "between 1 and 65535"),
    ("https://example.com:-1/", "between 1 and 65535"),
    ("https://example.com:8o/", "between 1 and 65535"),
    ("https://example.com:80:80/", "between 1 and 65535"),
    ("https://example.com/" + "a" * MAX_URL_LENGTH, "longer than 2048"),
    ("https://example.com/" + "한" * 400, "longer than 2048 characters once encoded"),
    ("https://example.com/\ud800", "not valid text"),
    ("https://\ud83d\ude00.com/", "internationalised"),
    ("https://ex\u2028ample.com/", "internationalised"),
]


@pytest.mark.parametrize(("raw", "reason"), REFUSED)
def test_it_refuses_unsafe_urls_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(UnsafeURL) as exc:
        normalize_url(raw)
    assert reason in str(exc.value)
    assert str(exc.value).isprintable()


def test_it_refuses_non_text() -> None:
    with pytest.raises(UnsafeURL):
        normalize_url(b"https://example.com/")  # type: ignore[arg-type]


def test_it_accepts_a_url_of_exactly_the_maximum_length() -> None:
    raw = "https://example.com/" + "a" * (MAX_URL_LENGTH - len("https://example.com/"))
    assert norm(raw) == raw


def test_it_keeps_refusals_as_value_errors() -> None:
    assert issubclass(UnsafeURL, ValueError)


# --------------------------------------------------------------------------------------------
# is_public_ip
# --------------------------------------------------------------------------------------------

PUBLIC_IPS = [
    "8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.0", "172.15.255.255",
    "172.32.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255",
    "2001:4860:4860::8888", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
    "2002:808:808::1", "2001:0:808:808:0:0:f7f7:f7f7",
]  # fmt: skip

NON_PUBLIC_IPS = [
    "0.0.0.0", "0.1.2.3", "10.0.0.1", "100.64.0.0", "100.127.255.255", "127.0.0.1",
    "127.255.255.254", "169.254.0.1", "169.254.169.254", "172.16.0.0", "172.31.255.255",
    "192.0.0.192", "192.0.2.1", "192.88.99.1", "192.168.0.1", "198.18.0.0", "198.19.255.255",
    "198.51.100.1", "203.0.113.1", "224.0.0.1", "239.255.255.250", "240.0.0.1",
    "255.255.255.255",
    "::", "::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1",
    "::ffff:169.254.169.254", "::127.0.0.1", "::ffff:0:7f00:1", "64:ff9b::7f00:1",
    "64:ff9b::a00:1", "64:ff9b:1::1", "2002:7f00:1::", "2002:a9fe:a9fe::1",
    "2002:c0a8:101::1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001:0:7f00:1:0:0:f7f7:f7f7",  # Teredo, server 127.0.0.1
    "fe80::1", "fe80::1%eth0", "fec0::1", "fc00::1", "fd00:ec2::254", "fd12:3456::1",
    "ff02::1", "ff05::2", "100::1", "2001:db8::1", "2001:2::1", "2001:10::1", "3fff::1",
    "5f00::1", "4000::1",
]  # fmt: skip


@pytest.mark.parametrize("addr", PUBLIC_IPS)
def test_it_judges_public_ips_public(addr: str) -> None:
    assert is_public_ip(ip_address(addr)) is True


@pytest.mark.parametrize("addr", NON_PUBLIC_IPS)
def test_it_judges_non_public_ips_non_public(addr: str) -> None:
    assert is_public_ip(ip_address(addr)) is False


# --------------------------------------------------------------------------------------------
# registrable_domain, PlatformMatcher, host_matches
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("bbc.co.uk", "bbc.co.uk"),
        ("www.youtube.com", "youtube.com"),
        ("a.b.c.example.com", "example.com"),
        ("WWW.Example.COM.", "example.com"),
        ("blog.naver.com", "naver.com"),
        ("gall.dcinside.co.kr", "dcinside.co.kr"),
        ("www.xn--3e0b707e.kr", "xn--3e0b707e.kr"),
        ("예시.한국", "xn--vv4b11d.xn--3e0b707e"),
        ("someone.blogspot.com", "someone.blogspot.com"),
        ("user.github.io", "user.github.io"),
        ("co.uk", "co.uk"),
        ("8.8.8.8", "8.8.8.8"),
        ("[2001:4860:4860::8888]", "[2001:4860:4860::8888]"),
    ],
)
def test_it_finds_the_registrable_domain(host: str, expected: str) -> None:
    assert registrable_domain(host) == expected


MATCHER = PlatformMatcher(
    {
        "youtube.com": "youtube",
        "youtu.be": "youtube",
        "x.com": "x",
        "t.me": "telegram",
        "music.youtube.com": "youtube_music",
        "Pornhub.COM.": "pornhub",
        "한국.kr": "korea",
        "8.8.8.8": "google_dns",
    }
)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("youtube.com", "youtube"),
        ("www.youtube.com", "youtube"),
        ("m.youtube.com", "youtube"),
        ("a.b.c.youtube.com", "youtube"),
        ("WWW.YOUTUBE.COM.", "youtube"),
        ("music.youtube.com", "youtube_music"),
        ("x.music.youtube.com", "youtube_music"),
        ("youtu.be", "youtube"),
        ("x.com", "x"),
        ("t.me", "telegram"),
        ("www.pornhub.com", "pornhub"),
        ("xn--3e0b707e.kr", "korea"),
        ("8.8.8.8", "google_dns"),
        # lookalikes and unrelated hosts
        ("notyoutube.com", None),
        ("youtube.com.evil.com", None),
        ("youtube.co", None),
        ("myx.com", None),
        ("tt.me", None),
        ("com", None),
        ("example.com", None),
        ("8.8.8", None),
        ("1.8.8.8.8", None),
        ("[::1]", None),
    ],
)
def test_it_matches_platforms_by_host_or_parent_domain(host: str, expected: str | None) -> None:
    assert MATCHER.match(host) == expected


@pytest.mark.parametrize(
    ("host", "patterns", "expected"),
    [
        ("bts.com", ["bts.com"], True),
        ("www.bts.com", ["bts.com"], True),
        ("a.b.bts.com", ["bts.com"], True),
        ("WWW.BTS.COM.", ["bts.com"], True),
        ("www.bts.com", ["*.bts.com"], True),
        ("www.bts.com", ["https://bts.com/"], True),
        ("www.bts.com", ["BTS.com:443"], True),
        ("www.bts.com", ["example.com", "bts.com"], True),
        ("x.com", ["twitter.com"], True),
        ("twitter.com", ["x.com"], True),
        ("t.me", ["telegram.me"], True),
        ("music.youtube.com", ["youtube.com"], True),
        ("xn--3e0b707e.kr", ["한국.kr"], True),
        ("notbts.com", ["bts.com"], False),
        ("bts.com.evil.net", ["bts.com"], False),
        ("bts.com", ["www.bts.com"], False),
        ("bts.com", [], False),
        ("bts.com", [""], False),
    ],
)
def test_it_matches_hosts_against_allow_lists(host: str, patterns: list[str], expected: bool) -> None:
    assert host_matches(host, patterns) is expected


OFFICIAL = ["https://x.com/luna_official", "luna-kang.example.net", " ", "https://www.youtube.com/@LunaKang/"]


@pytest.mark.parametrize(
    ("raw", "hit"),
    [
        ("https://x.com/luna_official", "https://x.com/luna_official"),
        ("https://twitter.com/luna_official/status/1", "https://x.com/luna_official"),
        ("https://x.com/luna_official?s=20", "https://x.com/luna_official"),
        ("https://x.com/luna_officialfan/status/1", None),
        ("https://shop.luna-kang.example.net/p/1", "shop.luna-kang.example.net"),
        ("https://luna-kang.example.net.evil.com/", None),
        ("https://www.youtube.com/@LunaKang/videos", "https://www.youtube.com/@lunakang"),
        ("https://www.youtube.com/@LunaKangFan", None),
    ],
)
def test_it_tells_what_an_artists_official_accounts_cover(raw: str, hit: str | None) -> None:
    assert OfficialAccounts(OFFICIAL).covers(normalize_url(raw)) == hit


def test_it_builds_the_official_matcher_of_an_artist_without_any() -> None:
    class Artist:
        official_accounts = None

    matcher = official_matcher(Artist())
    assert (matcher.hosts, matcher.prefixes) == ((), ())
    assert matcher.covers(normalize_url("https://x.com/luna_official")) is None


def test_it_returns_a_frozen_value() -> None:
    result = normalize_url("https://example.com/")
    with pytest.raises(AttributeError):
        result.url = "x"  # type: ignore[misc]
    assert str(result) == "https://example.com/"


def test_it_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from takedown import urltools

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    urltools._psl.cache_clear()  # force the public suffix list to be loaded again
    urltools.registrable_domain.cache_clear()
    urltools._canonical_host.cache_clear()
    assert registrable_domain("www.example.co.kr") == "example.co.kr"
    assert norm("https://news.example.kr/") == "https://news.example.kr/"
