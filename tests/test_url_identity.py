"""One item, one row: the URL-forms catalogue, re-normalising stored rows, short links."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from takedown import identity, importing, notices, rechecks, stats
from takedown.models import InfringingURL, URLCheck
from takedown.urltools import NormalizedURL, UnsafeURL, is_short_link, normalize_url
from tests.sites import Answer, Site

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = json.loads((ROOT / "fixtures" / "platforms.json").read_text(encoding="utf-8"))
ITEMS = [(entry["fields"]["slug"], item) for entry in REGISTRY for item in entry["url_forms"]["items"]]
VAR = re.compile(r"\{(_?[A-Za-z][A-Za-z0-9_]*)\}")
# Decoration (user names, slugs, language subdomains) is drawn from a plain alphabet that no
# platform reserves ("p", "reel", "i" ...): the real ones are anything the platform allows.
DECORATION = st.from_regex(r"u[a-z0-9]{3,12}", fullmatch=True)


def _draw_values(data: st.DataObject, item: dict) -> dict[str, str]:
    values = {}
    names = set(item["ids"])
    for form in item["forms"]:
        for text in [form["path"], *form["hosts"], *form.get("query", {}).values()]:
            names.update(VAR.findall(text) or ([text] if text in item["ids"] else []))
    for name in sorted(names):
        pattern = item["ids"].get(name)
        if name.startswith("_") and (pattern is None or re.fullmatch(pattern, "u000")):
            values[name] = data.draw(DECORATION, label=name)
        else:
            values[name] = data.draw(st.from_regex(pattern, fullmatch=True), label=name)
            assume(values[name] not in item.get("not", {}).get(name, ()))
            assume(not values[name].startswith(("xn--", "-")) and not values[name].endswith("-"))
    return values


def _fill(template: str, values: dict[str, str]) -> str:
    return VAR.sub(lambda m: values[m.group(1)], template)


def _form_urls(item: dict, values: dict[str, str]) -> list[str]:
    urls = []
    for form in item["forms"]:
        path = _fill(form["path"].removesuffix("/**"), values)
        query = "&".join(f"{k}={values[v]}" for k, v in form.get("query", {}).items())
        for host in form["hosts"]:
            urls.append(f"https://{_fill(host, values)}{path}" + (f"?{query}" if query else ""))
    return urls


def _expected(item: dict, values: dict[str, str]) -> str:
    lowered = {k: (v.lower() if k in item.get("lower", ()) else v) for k, v in values.items()}
    return _fill(item["canonical"], lowered)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), choice=st.sampled_from(ITEMS))
def test_it_folds_every_catalogued_form_of_an_item_to_one_canonical_url(data, choice):
    slug, item = choice
    values = _draw_values(data, item)
    expected = _expected(item, values)
    for url in _form_urls(item, values):
        assert normalize_url(url).url == expected, (slug, item["item"], url)
        # Pasted over http, with a trailing slash and tracking: still the same item.
        assert normalize_url(url.replace("https://", "http://", 1)).url == expected
    assert normalize_url(expected).url == expected  # the canonical form is a fixed point


URL_TEXT = st.text(alphabet=st.sampled_from("abcXYZ019-._~%/?#&=:@!$'()*+,; 한"), min_size=0, max_size=40)
HOSTS = sorted(
    {
        _fill(h, {"blog": "lunafan", "_lang": "de"})
        for _s, item in ITEMS
        for f in item["forms"]
        for h in f["hosts"]
    }
)


@settings(max_examples=500, deadline=None)
@given(host=st.sampled_from(HOSTS + ["example.com", "news.example.net"]), rest=URL_TEXT)
def test_it_is_idempotent_on_any_url_of_a_catalogued_host(host, rest):
    try:
        once = normalize_url(f"https://{host}/{rest}")
    except UnsafeURL:
        return
    twice = normalize_url(once.url)
    assert twice.url == once.url
    assert twice.host == once.host


def test_it_catalogues_the_url_forms_of_every_registry_platform_with_sources():
    for entry in REGISTRY:
        catalogue = entry["url_forms"]
        assert set(catalogue) >= {"items", "short_links"}, entry["fields"]["slug"]
        for item in catalogue["items"]:
            assert item["canonical"].startswith("https://")
            for form in item["forms"]:
                assert form["source"].startswith(("https://", "PLATFORMS.md [")), form
        for rule in catalogue["short_links"]:
            assert rule["source"].startswith("https://")
    platforms_with_items = {slug for slug, _item in ITEMS}
    # Search result pages and CDN-hosted sites have no item URLs of their own.
    assert {e["fields"]["slug"] for e in REGISTRY} - platforms_with_items == {"google_search", "cloudflare"}


SUB_ITEMS = {entry["fields"]["slug"]: entry["url_forms"].get("sub_items") for entry in REGISTRY}
SUB_ITEM_EXAMPLES = [
    (slug, parent, sub) for slug, spec in SUB_ITEMS.items() if spec for parent, sub in spec["examples"]
]


def _sub_item_markers(spec: dict, n: int) -> list[tuple[str, str]]:
    """(query, fragment) additions that make a URL name one comment or reply (numbered n) on
    this platform, as its catalogue says."""
    keys = [*spec.get("query", ()), *spec.get("kept_by_rule", ())]
    if spec.get("generic", True):
        keys += ["comment_id", "reply_comment_id", "commentNo"]
    markers = [(f"{k}={n}", "") for k in keys]
    if spec.get("generic", True):
        markers += [("", f"comment{n}"), ("", f"cmt_{n}")]
    return markers


def test_it_says_for_every_catalogued_platform_what_names_a_sub_item():
    for slug, _item in ITEMS:
        spec = SUB_ITEMS[slug]
        assert spec is not None and spec["why"] and spec["examples"], slug


@pytest.mark.parametrize(("slug", "parent", "sub"), SUB_ITEM_EXAMPLES)
def test_it_keeps_each_catalogued_sub_item_example_apart_from_its_item(slug, parent, sub):
    assert normalize_url(sub).url != normalize_url(parent).url, slug
    assert normalize_url(normalize_url(sub).url).url == normalize_url(sub).url


@settings(max_examples=200, deadline=None)
@given(data=st.data(), choice=st.sampled_from(ITEMS), n=st.integers(1, 10**12))
def test_it_never_folds_a_url_naming_a_sub_item_into_its_item(data, choice, n):
    # Any form of any item, plus what names a comment or reply on it: never the item's row,
    # and two different comments never one row.
    slug, item = choice
    values = _draw_values(data, item)
    expected = _expected(item, values)
    for url in _form_urls(item, values):
        parent = normalize_url(url).url
        for (query, fragment), (query2, fragment2) in zip(
            _sub_item_markers(SUB_ITEMS[slug], n), _sub_item_markers(SUB_ITEMS[slug], n + 1), strict=True
        ):

            def with_marker(q: str, f: str, url: str = url) -> str:
                out = url + (("&" if "?" in url else "?") + q if q else "")
                return out + ("#" + f if f else "")

            sub = normalize_url(with_marker(query, fragment)).url
            assert sub not in (parent, expected), (slug, url, query, fragment)
            assert sub != normalize_url(with_marker(query2, fragment2)).url
            assert normalize_url(sub).url == sub


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://x.com/i/status/1", "https://x.com/i/status/2"),
        ("https://blog.naver.com/luna/1", "https://blog.naver.com/luna/2"),
        ("https://blog.naver.com/luna/1", "https://blog.naver.com/sol/1"),
        ("https://www.tiktok.com/@a/video/1", "https://www.tiktok.com/@a/photo/1"),
        ("https://www.reddit.com/comments/x1/", "https://www.reddit.com/comments/x1/_/c1/"),
        ("https://www.facebook.com/watch/?v=1", "https://www.facebook.com/photo/?fbid=1"),
        (
            "https://gall.dcinside.com/board/view/?id=a&no=1",
            "https://gall.dcinside.com/mgallery/board/view/?id=a&no=1",
        ),
        ("https://www.xvideos.com/video12/", "https://www.xvideos.com/video.12/"),
        ("https://t.me/chan/1?comment=2", "https://t.me/chan/1"),
        ("https://www.instagram.com/reels/audio/123/", "https://www.instagram.com/p/audio/"),
    ],
)
def test_it_keeps_different_items_apart(a, b):
    assert normalize_url(a).url != normalize_url(b).url


@pytest.mark.parametrize(
    ("url", "short"),
    [
        ("https://t.co/AbCd", True),
        ("https://naver.me/xAbC", True),
        ("https://vm.tiktok.com/ZMabc/", True),
        ("https://www.tiktok.com/t/ZTabc/", True),
        ("https://www.reddit.com/r/kpop/s/AbCdEf", True),
        ("https://fb.watch/abc/", True),
        ("https://www.facebook.com/share/v/1AbCd/", True),
        ("https://v.redd.it/abc123", True),
        ("https://youtu.be/AbCdEfGhIjK", False),  # names its video: folded, not followed
        ("https://redd.it/abc12", False),
        ("https://www.reddit.com/r/kpop/", False),
        ("https://www.tiktok.com/@luna", False),
    ],
)
def test_it_knows_which_short_links_only_the_platform_can_resolve(url, short):
    assert is_short_link(normalize_url(url)) is short


# -- intake -----------------------------------------------------------------------------------


def _import(artist, *urls, **kw):
    rows = [{"artist": artist.slug, "url": u, "category": "synthetic_sexual"} for u in urls]
    return importing.import_rows(rows, agency=artist.agency, **kw)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forms",
    [
        [
            "https://blog.naver.com/lunafan01/223456789012",
            "https://m.blog.naver.com/lunafan01/223456789012",
            "https://blog.naver.com/PostView.naver?blogId=lunafan01&logNo=223456789012",
            "https://blog.naver.com/lunafan01?Redirect=Log&logNo=223456789012",
        ],
        [
            "https://x.com/i/web/status/1790000000000000001",
            "https://x.com/somefan/status/1790000000000000001",
            "https://twitter.com/OtherName/status/1790000000000000001/photo/2",
        ],
        [
            "https://www.reddit.com/r/kpop/comments/1abcde/title/",
            "https://sh.reddit.com/r/KPOP/comments/1abcde/",
            "https://redd.it/1abcde",
        ],
    ],
)
def test_it_stores_one_row_for_every_form_of_one_item(artist, platforms, forms):
    report = _import(artist, *forms)
    assert (report.created, report.duplicates, report.rejected) == (1, len(forms) - 1, 0)
    row = InfringingURL.objects.get()
    assert row.url == forms[0]  # kept as reported
    assert row.platform is not None


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), choice=st.sampled_from(ITEMS))
def test_it_lands_every_catalogued_form_on_the_same_row(artist, platforms, data, choice):
    _slug, item = choice
    values = _draw_values(data, item)
    urls = _form_urls(item, values)
    try:
        report = _import(artist, *urls)
        assert (report.created, report.rejected) == (1, 0), report.errors
        assert InfringingURL.objects.get().normalized_url == _expected(item, values)
        assert _import(artist, *urls).created == 0
    finally:
        InfringingURL.objects.all().delete()


@pytest.mark.django_db
def test_it_still_refuses_the_artists_own_post_once_folded(artist, platforms):
    # official_accounts holds x.com/luna_official: the canonical x.com/i/status/<id> no
    # longer names the account, the URL as pasted does.
    report = _import(artist, "https://twitter.com/Luna_Official/status/1790000000000000009")
    assert report.rejected == 1 and "allow-list" in report.errors[0].message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cell", "stored", "note"),
    [
        (
            "https://x.com/a/status/11https://x.com/b/status/22",
            ["https://x.com/i/status/11", "https://x.com/i/status/22"],
            "split into 2 URLs",
        ),
        (
            "https://example.com/v/1 https://example.net/v/2",
            ["https://example.com/v/1", "https://example.net/v/2"],
            "split into 2 URLs",
        ),
        (
            "https://example.com/v/1,https://example.net/v/2;https://example.org/v/3",
            ["https://example.com/v/1", "https://example.net/v/2", "https://example.org/v/3"],
            "split into 3 URLs",
        ),
        ("[the clip](https://example.com/v/1)", ["https://example.com/v/1"], "markdown link"),
        ("<https://example.com/v/1>", ["https://example.com/v/1"], "<...>"),
        ("https://example.com/v/1).", ["https://example.com/v/1"], "dropped punctuation after the URL: ').'"),
    ],
)
def test_it_splits_or_extracts_what_a_cell_holds_and_says_so(artist, platforms, cell, stored, note):
    report = _import(artist, cell)
    assert report.created == len(stored) and not report.errors
    assert sorted(InfringingURL.objects.values_list("normalized_url", flat=True)) == sorted(stored)
    (row_note,) = report.as_dict()["notes"]
    assert row_note["row"] == 1 and row_note["field"] == "url" and note in row_note["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cell",
    [
        "https://example.com/v/1 was reposted here",
        "see https://example.com/v/1",
        "https://example.com/my clip.html",
    ],
)
def test_it_refuses_a_cell_with_text_besides_the_url_saying_what_it_found(artist, platforms, cell):
    report = _import(artist, cell)
    assert report.created == 0 and report.rejected == 1
    message = report.errors[0].message
    assert "text besides the URL" in message and "'" in message
    assert InfringingURL.objects.count() == 0


@pytest.mark.django_db
def test_it_keeps_urls_that_hold_a_url_inside_whole(artist, platforms):
    cells = [
        "https://web.archive.org/web/2024/https://example.com/v/1",
        "https://example.com/out?to=https://example.net/v/2",
        "https://en.wikipedia.org/wiki/Luna_(singer)",
    ]
    report = _import(artist, *cells)
    assert report.created == 3 and "notes" not in report.as_dict()


@pytest.mark.django_db
def test_it_reports_a_bad_part_of_a_split_cell_and_stores_the_rest(artist, platforms):
    report = _import(artist, "https://example.com/v/1 https://localhost/v/2")
    assert report.created == 1 and report.rejected == 1
    assert report.errors[0].message.startswith("URL 2 of 2 (https://localhost/v/2):")


@pytest.mark.django_db
def test_it_reads_cells_the_same_way_through_the_api_csv_and_the_cli(artist, platforms, api_user, tmp_path):
    from tests.test_api_import import client_for

    client = client_for(api_user)
    csv_body = "artist,url,category\nluna-kang,https://example.com/a/1https://example.com/a/2,privacy\n"
    response = client.post("/api/v1/urls/import/", csv_body, content_type="text/csv")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 2 and body["notes"] == [
        {"row": 1, "field": "url", "message": "split into 2 URLs"}
    ]

    path = tmp_path / "urls.csv"
    path.write_text("url\n[x](https://example.com/b/1)\n", encoding="utf-8")
    from io import StringIO

    out = StringIO()
    call_command("import_urls", str(path), "--artist", "luna-kang", "--category", "privacy", stdout=out)
    assert "row 1: took the URL out of a markdown link" in out.getvalue()
    assert InfringingURL.objects.filter(normalized_url="https://example.com/b/1").exists()


@pytest.mark.django_db
def test_it_refuses_two_urls_in_the_admins_single_url_field(artist, platforms):
    intake = importing.Intake(agency=artist.agency, artist=artist)
    result = intake.check(1, {"url": "https://example.com/a https://example.com/b", "category": "privacy"})
    assert isinstance(result, importing.RowError)
    assert "holds 2 URLs" in result.message


# -- stored rows ------------------------------------------------------------------------------


def _stored(artist, url, normalized, **fields):
    return InfringingURL.objects.create(
        artist=artist,
        url=url,
        normalized_url=normalized,
        host=normalized.split("/")[2].partition(":")[0],
        category="synthetic_sexual",
        legal_route="take_it_down",
        **fields,
    )


@pytest.mark.django_db
def test_it_renormalises_stored_rows_and_links_those_that_became_one_item(artist, other_artist, platforms):
    # Rows stored under the old rules: each form was its own "item".
    a = _stored(artist, "https://x.com/luna_fan/status/5", "https://x.com/luna_fan/status/5")
    b = _stored(artist, "https://x.com/i/web/status/5", "https://x.com/i/status/5")
    c = _stored(artist, "https://m.blog.naver.com/fan/77", "https://m.blog.naver.com/fan/77")
    d = _stored(other_artist, "https://x.com/someone/status/5", "https://x.com/someone/status/5")
    URLCheck.objects.create(url=a, checked_at=timezone.now(), verdict="live")

    report = identity.urls_renormalize()
    assert (report.scanned, report.updated, report.linked, report.refused) == (4, 2, 1, 0)
    for row in (a, b, c, d):
        row.refresh_from_db()
    assert b.normalized_url == "https://x.com/i/status/5" and b.same_as is None
    assert a.same_as == b and a.normalized_url == "https://x.com/luna_fan/status/5"  # kept, not deleted
    assert a.checks.count() == 1 and a.next_check_at is None
    assert c.normalized_url == "https://blog.naver.com/fan/77" and c.host == "blog.naver.com"
    assert d.same_as is None and d.normalized_url == "https://x.com/i/status/5"  # another artist

    again = identity.urls_renormalize()
    assert (again.updated, again.linked) == (0, 0)


@pytest.mark.django_db
def test_it_sets_apart_a_row_an_old_rule_linked_into_another_item(artist, platforms):
    # An earlier rule folded the comment into its post, so renormalising linked the comment's
    # row away: never checked, never named. The current rules say it is its own item.
    post = _stored(
        artist,
        "https://www.facebook.com/permalink.php?story_fbid=123&id=100",
        "https://www.facebook.com/permalink.php?story_fbid=123&id=100",
    )
    comment_url = "https://m.facebook.com/story.php?story_fbid=123&id=100&comment_id=999"
    comment = _stored(
        artist, comment_url, "https://m.facebook.com/story.php?story_fbid=123&id=100", same_as=post
    )
    alias = _stored(
        artist,
        "https://m.facebook.com/story.php?story_fbid=123&id=100",
        "https://m.facebook.com/x",
        same_as=post,
    )
    short = _stored(artist, "https://fb.watch/abc/", "https://fb.watch/abc/", same_as=post)

    report = identity.urls_renormalize()
    assert (report.unlinked, report.linked) == (1, 0)
    assert "1 set apart again" in str(report)
    for row in (comment, alias, short):
        row.refresh_from_db()
    assert comment.same_as is None and comment.next_check_at is not None
    assert comment.normalized_url == "https://www.facebook.com/story.php?story_fbid=123&id=100&comment_id=999"
    assert alias.same_as == post and short.same_as == post  # the same item, and a followed short link

    again = identity.urls_renormalize()
    assert (again.unlinked, again.updated, again.linked) == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("b_first", [True, False])
def test_it_does_not_link_a_row_to_one_that_only_held_its_form_before_moving(artist, platforms, b_first):
    # b's stored form is what a now folds to, but b itself moves on to its own canonical form:
    # they are two items, and a gets the form once b has left it (whichever is older).
    def make_a():
        return _stored(artist, "https://m.blog.naver.com/fan/77", "https://m.blog.naver.com/fan/77")

    def make_b():
        return _stored(artist, "https://www.reddit.com/r/kpop/comments/bbb/", "https://blog.naver.com/fan/77")

    if b_first:
        b, a = make_b(), make_a()
    else:
        a, b = make_a(), make_b()
    report = identity.urls_renormalize()
    assert (report.updated, report.linked, report.left) == (2, 0, 0)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.normalized_url == "https://blog.naver.com/fan/77" and a.same_as is None
    assert b.normalized_url == "https://www.reddit.com/comments/bbb/" and b.same_as is None


@pytest.mark.django_db
def test_it_never_drafts_or_counts_a_linked_row(artist, platforms, staff):
    x = platforms["x"]
    item = _stored(artist, "https://x.com/i/status/5", "https://x.com/i/status/5", platform=x)
    alias = _stored(
        artist, "https://x.com/fan/status/5", "https://x.com/fan/status/5", platform=x, same_as=item
    )
    drafts, _skipped = notices.notices_prepare(user=staff, artist_id=artist.pk)
    (notice,) = drafts
    assert list(notice.items.values_list("url_id", flat=True)) == [item.pk]
    assert stats.removal_stats(artist.agency)["overall"]["urls"] == 1
    # A draft that already held the row (made before the link) cannot go out with it.
    notice.items.create(url=alias)
    problems = notices.presend_problems(notice)
    assert any("same item as" in p for p in problems)


@pytest.mark.django_db
def test_setup_and_the_command_renormalise(artist, platforms):
    row = _stored(artist, "https://m.blog.naver.com/fan/77", "https://m.blog.naver.com/fan/77")
    from io import StringIO

    out = StringIO()
    call_command("renormalize_urls", stdout=out)
    assert "1 re-normalised" in out.getvalue()
    row.refresh_from_db()
    assert row.normalized_url == "https://blog.naver.com/fan/77"


# -- short links ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_links_a_short_link_to_the_row_its_target_folds_to(artist, platforms):
    item = _stored(artist, "https://blog.naver.com/fan/77", "https://blog.naver.com/fan/77")
    short = _stored(artist, "https://naver.me/xAbC", "https://naver.me/xAbC")
    final = "https://m.blog.naver.com/PostView.naver?blogId=fan&logNo=77&referrerCode=1"
    assert identity.urls_link_followed([(short.pk, short.host, final), (item.pk, item.host, final)]) == 1
    short.refresh_from_db()
    assert short.same_as == item
    # Not a short link, or a target the artist does not have: nothing happens.
    other = _stored(artist, "https://naver.me/yyy", "https://naver.me/yyy")
    assert identity.urls_link_followed([(other.pk, other.host, "https://blog.naver.com/fan/78")]) == 0


@pytest.fixture
def site(settings):
    with Site() as s:
        settings.TAKEDOWN_PROBE_ALLOW_LOOPBACK = True
        settings.TAKEDOWN_PROBE_EXTRA_PORTS = [s.port]
        settings.TAKEDOWN_PROBE_TIMEOUT = 5
        settings.TAKEDOWN_PROBE_RESOLVE = {"naver.me": ["127.0.0.1"], "blog.example.net": ["127.0.0.1"]}
        yield s


@pytest.mark.django_db
def test_it_follows_a_short_link_at_its_first_check_and_links_it(artist, platforms, site):
    target = f"http://blog.example.net:{site.port}/fan/post/77"
    site.answers["/xAbC"] = Answer(301, "", headers={"Location": target})
    site.answers["/fan/post/77"] = Answer(200)
    item = _stored(artist, target, normalize_url(target).url)
    short_url = f"http://naver.me:{site.port}/xAbC"
    short = _stored(artist, short_url, normalize_url(short_url).url)
    assert is_short_link(NormalizedURL(short.normalized_url, short.host))
    short.next_check_at = timezone.now() - timedelta(seconds=1)
    short.save()

    rechecks.check_batch(limit=10, url_ids=[short.pk])
    short.refresh_from_db()
    assert short.same_as == item
    assert short.next_check_at is None  # the item's own checks speak for it
    check = short.checks.get()
    assert check.final_url == target and check.verdict == "live"


@pytest.mark.django_db
def test_it_shows_which_item_a_linked_row_is_in_the_api_and_the_admin(client, artist, staff, platforms):
    from django.urls import reverse

    a = _stored(artist, "https://x.com/luna_fan/status/6", "https://x.com/luna_fan/status/6")
    b = _stored(artist, "https://x.com/i/web/status/6", "https://x.com/i/status/6")
    identity.urls_renormalize()
    a.refresh_from_db()
    assert a.same_as == b
    client.force_login(staff)
    assert client.get(f"/api/v1/urls/{a.pk}/").json()["same_as"] == b.pk
    assert client.get(f"/api/v1/urls/{b.pk}/").json()["same_as"] is None
    page = client.get(reverse("admin:takedown_infringingurl_change", args=[a.pk])).content.decode()
    assert reverse("admin:takedown_infringingurl_change", args=[b.pk]) in page
