"""Account extractors, one per platform: who posted an item, from the URL (as pasted and
canonical) and a checked page's title; nothing fetched, and None where the URL does not say."""

from __future__ import annotations

import pytest

from takedown.probing.accounts import AccountRef, account_of, platforms_with_extractors
from takedown.urltools import normalize_url


def _account(slug: str, url: str, title: str = "") -> AccountRef | None:
    norm = normalize_url(url)
    return account_of(slug, [norm.via or url, norm.url], title)


@pytest.mark.parametrize(
    "slug, url, title, expected",
    [
        ("x", "https://twitter.com/DeepFaker99/status/1001?s=20", 'Deep Faker on X: "..." / X',
         AccountRef("user", "deepfaker99", "Deep Faker")),
        ("x", "https://mobile.twitter.com/SomeOne/status/5/photo/1", "", AccountRef("user", "someone")),
        ("x", "https://x.com/i/web/status/55", "", None),
        ("x", "https://x.com/search?q=luna", "", None),
        ("telegram", "https://t.me/s/LeakChan/7", "Leak Channel – Telegram", AccountRef("channel", "leakchan", "Leak Channel")),
        ("telegram", "https://t.me/leakchan/8", "Telegram: Contact @leakchan", AccountRef("channel", "leakchan")),
        ("telegram", "https://t.me/+AbCdEf123", "", None),
        ("telegram", "https://t.me/joinchat/AbCdEf", "", None),
        ("youtube", "https://www.youtube.com/@Fakes.Daily/videos", "", AccountRef("channel", "@fakes.daily")),
        ("youtube", "https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv", "", AccountRef("channel", "UCabcdefghijklmnopqrstuv")),
        ("youtube", "https://www.youtube.com/c/SomeName", "", AccountRef("channel", "c/somename")),
        ("youtube", "https://youtu.be/dQw4w9WgXcQ", "", None),
        ("tiktok", "https://www.tiktok.com/@user.name/video/7234567890", "", AccountRef("user", "user.name")),
        ("tiktok", "https://vm.tiktok.com/ZMabc/", "", None),
        ("instagram", "https://www.instagram.com/SomeUser/reel/ABC/", "", AccountRef("user", "someuser")),
        ("instagram", "https://www.instagram.com/stories/someuser/123/", "", AccountRef("user", "someuser")),
        ("instagram", "https://www.instagram.com/p/ABCdef/", "", None),
        ("threads", "https://www.threads.net/@poster/post/ABC", "", AccountRef("user", "poster")),
        ("reddit", "https://www.reddit.com/r/FakeSub/comments/abc123/slug/", "", AccountRef("subreddit", "fakesub")),
        ("reddit", "https://old.reddit.com/user/Bob/comments/abc/x/", "", AccountRef("user", "bob")),
        ("reddit", "https://www.reddit.com/comments/abc123/", "", None),
        ("facebook", "https://www.facebook.com/some.page/posts/123", "", AccountRef("page", "some.page")),
        ("facebook", "https://www.facebook.com/groups/leakgroup/posts/9", "", AccountRef("group", "leakgroup")),
        ("facebook", "https://www.facebook.com/watch/?v=1", "", None),
        ("naver", "https://m.blog.naver.com/PostView.naver?blogId=MyBlog&logNo=2233", "", AccountRef("blog", "myblog")),
        ("naver", "https://blog.naver.com/myblog/22334455", "", AccountRef("blog", "myblog")),
        ("naver", "https://cafe.naver.com/fakecafe/123", "", AccountRef("cafe", "fakecafe")),
        ("daum_kakao", "https://cafe.daum.net/somecafe/abc/1", "", AccountRef("cafe", "somecafe")),
        ("dcinside", "https://gall.dcinside.com/mgallery/board/view/?id=deep&no=5", "", AccountRef("gallery", "deep")),
        ("dcinside", "https://m.dcinside.com/board/kpop/123", "", AccountRef("gallery", "kpop")),
        ("pornhub", "https://www.pornhub.com/model/some-model", "", AccountRef("user", "some-model")),
        ("xvideos", "https://www.xvideos.com/profiles/uploader1", "", AccountRef("user", "uploader1")),
    ],
)  # fmt: skip
def test_it_finds_the_account_behind_an_item(slug, url, title, expected):
    assert _account(slug, url, title) == expected


def test_it_has_an_extractor_for_each_platform_where_urls_name_accounts():
    assert set(platforms_with_extractors()) >= {
        "x", "telegram", "youtube", "tiktok", "instagram", "threads", "reddit", "facebook", "naver",
        "daum_kakao", "dcinside", "pornhub", "xvideos",
    }  # fmt: skip
    assert account_of("google_search", ["https://www.google.com/search?q=x"]) is None
    assert account_of(None, ["https://example.com/u/1"]) is None


def test_a_title_written_by_users_never_names_another_account():
    # The name comes from the title only in the platform's own pattern, and the handle from the URL.
    ref = _account("x", "https://x.com/real_poster/status/1", 'Luna Official on X? no: "Luna Official on X"')
    assert ref.handle == "real_poster"
