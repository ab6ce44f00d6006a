"""The probe against real HTTP servers on loopback: verdicts, evidence, safety, politeness.

No Django and no database: run alone with ``python -m pytest tests/test_probing.py -p no:django``.
Each test runs its own event loop (asyncio.run) with its servers inside it.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import itertools
import json
import os
import socket
from contextlib import AsyncExitStack
from datetime import UTC

import pytest
from aiohttp import web

from takedown.probing import (
    INCONCLUSIVE,
    LEGALLY_BLOCKED,
    LIVE,
    REMOVED,
    RESTRICTED,
    SOFT_REMOVED,
    PlatformRules,
    ProbeConfig,
    Prober,
    ProbeResult,
    probe_urls,
    run_probes,
)

try:
    from tests.probe_servers import (
        StubResolver,
        Traffic,
        canary,
        endless,
        free_port,
        page,
        redirect,
        serve,
        silent,
    )
except ImportError:  # tests/ itself on sys.path rather than the project root
    from probe_servers import StubResolver, Traffic, canary, endless, free_port, page, redirect, serve, silent


def loopback(*servers: object, **overrides: object) -> ProbeConfig:
    """Config for tests against loopback servers: loopback allowed, their ports allowed."""
    ports = frozenset({80, 443, *(s.port for s in servers)})  # type: ignore[attr-defined]
    settings: dict[str, object] = {
        "allow_loopback": True,
        "allowed_ports": ports,
        "connect_timeout": 2.0,
        "total_timeout": 5.0,
        # One more request per host; the tests of the soft-404 comparison turn it on.
        "soft404": False,
    }
    settings.update(overrides)
    return ProbeConfig(**settings)  # type: ignore[arg-type]


async def probe(url: str, config: ProbeConfig, rules: PlatformRules | None = None) -> ProbeResult:
    async with Prober(config) as prober:
        return await prober.probe(url, rules or PlatformRules())


def probe_path(routes: dict, path: str, rules: PlatformRules | None = None, **overrides: object):
    """Serve ``routes``, probe ``path`` on it, return (result, traffic)."""

    async def scenario():
        async with serve(routes) as server:
            result = await probe(server.url(path), loopback(server, **overrides), rules)
            return result, server.traffic

    return asyncio.run(scenario())


# --------------------------------------------------------------------------- verdicts


def test_it_reports_a_page_as_live_with_its_evidence():
    body = (
        "<html><head><title>  A   fan\n page </title><style>p{color:red}</style></head>"
        "<body><script>var secret = 1;</script><p>Hello&nbsp;there,\n\n  world &amp; friends.</p></body></html>"
    )
    result, traffic = probe_path(
        {"/item": page(body, headers={"Server": "test", "X-Other": "dropped"})}, "/item"
    )

    assert result.verdict == LIVE
    assert result.reason == "http 200"
    assert result.http_status == 200
    assert result.final_url.endswith("/item")
    assert result.redirect_chain == [result.url]
    assert result.body_sha256 == hashlib.sha256(body.encode()).hexdigest()
    assert result.title == "A fan page"
    assert result.excerpt == "Hello there, world & friends."
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert result.headers["server"] == "test"
    assert "x-other" not in result.headers
    assert result.error == ""
    assert result.checked_at.tzinfo == UTC
    assert result.elapsed_ms >= 0
    sent = traffic.headers[0]
    assert sent["User-Agent"].startswith("takedown-recheck/")
    assert "Cookie" not in sent


@pytest.mark.parametrize("status", [404, 410])
def test_it_reports_not_found_and_gone_as_removed(status):
    result, _ = probe_path({"/item": page("<p>nothing here at all, sorry</p>", status=status)}, "/item")
    assert (result.verdict, result.reason) == (REMOVED, f"http {status}")


def test_it_reports_451_as_legally_blocked():
    result, _ = probe_path({"/item": page("<p>Unavailable For Legal Reasons</p>", status=451)}, "/item")
    assert (result.verdict, result.reason) == (LEGALLY_BLOCKED, "http 451")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_it_reports_server_errors_as_inconclusive(status):
    result, _ = probe_path({"/item": page("<p>oops, the server broke down</p>", status=status)}, "/item")
    assert (result.verdict, result.reason) == (INCONCLUSIVE, f"http {status}")


@pytest.mark.parametrize("status", [401, 403, 405, 400])
def test_it_reports_refusals_to_serve_as_inconclusive(status):
    result, _ = probe_path({"/item": page("<p>no, not for you today</p>", status=status)}, "/item")
    assert result.verdict == INCONCLUSIVE
    assert result.reason.startswith(f"http {status}")


def test_it_reports_an_empty_body_as_inconclusive():
    result, _ = probe_path({"/item": page("")}, "/item")
    assert result.verdict == INCONCLUSIVE
    assert "empty body" in result.reason


def test_it_reports_a_javascript_only_shell_as_inconclusive():
    shell = '<html><head><title>App</title></head><body><div id="root"></div><script src="/app.js"></script></body></html>'
    result, _ = probe_path({"/item": page(shell)}, "/item")
    assert result.verdict == INCONCLUSIVE
    assert "javascript-only" in result.reason


def test_it_follows_a_chain_of_five_redirects():
    routes = {f"/r{i}": redirect(f"/r{i + 1}", status) for i, status in enumerate([301, 302, 303, 307, 308])}
    routes["/r5"] = page("<p>arrived at the final page</p>")
    result, traffic = probe_path(routes, "/r0")
    assert result.verdict == LIVE
    assert [u.rsplit("/", 1)[1] for u in result.redirect_chain] == ["r0", "r1", "r2", "r3", "r4", "r5"]
    assert result.final_url.endswith("/r5")
    assert traffic.count == 6


def test_it_gives_up_after_five_redirects():
    routes = {f"/r{i}": redirect(f"/r{i + 1}") for i in range(10)}
    result, traffic = probe_path(routes, "/r0")
    assert result.verdict == INCONCLUSIVE
    assert result.reason == "too many redirects (more than 5)"
    assert traffic.count == 6  # the first URL and five hops; the sixth target is never fetched
    assert result.redirect_chain[-1].endswith("/r6")
    assert result.http_status == 302


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("/accounts/login/?next=/p/abc/", "login"),
        ("/login/?next=%2Fpost%2F1", "login"),
        ("/i/flow/login", "login"),
        ("/challenge/?next=/p/abc/", "challenge"),
        ("https://consent.youtube.com/m?continue=https://www.youtube.com/watch", "consent"),
    ],
)
def test_it_never_takes_a_redirect_to_a_login_page_for_a_removal(location, kind):
    # The login page would even answer 404: it is not fetched, and it would not matter.
    routes = {"/p/abc/": redirect(location), "/{tail:.*}": page("not found", status=404)}
    result, traffic = probe_path(routes, "/p/abc/")
    assert result.verdict == INCONCLUSIVE
    assert result.reason == f"redirect to {kind} page"
    assert traffic.count == 1


def test_it_matches_removal_redirect_patterns_from_the_platform_row():
    rules = PlatformRules(markers={"removed_redirects": [r"/error/deleted/"]})
    routes = {
        "/board/view/": redirect("/error/deleted/somegall"),
        "/error/deleted/somegall": page("<p>some friendly error page text</p>"),
    }
    result, _ = probe_path(routes, "/board/view/?id=somegall&no=1", rules)
    assert result.verdict == REMOVED
    assert "/error/deleted/" in result.reason


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("이 게시글은 권리침해 신고에 따라 임시조치 되었습니다.", "임시조치"),  # Naver / Daum 30-day measure
        ("해당 게시물은 블라인드 처리되었습니다.", "블라인드 처리"),
    ],
)
def test_it_reads_korean_temporary_measure_pages_in_their_own_encoding(text, marker):
    body = f'<html><head><title>카페</title></head><body><div class="error_content"><p>{text}</p></div></body></html>'
    rules = PlatformRules(detector="naver", markers={"soft_removed": [marker], "removed": ["삭제된 게시글"]})
    result, _ = probe_path(
        {"/post": page(body.encode("euc-kr"), content_type="text/html; charset=EUC-KR")}, "/post", rules
    )
    assert result.verdict == SOFT_REMOVED
    assert result.reason == f"marker {marker!r} in error"
    assert result.rule == "marker.soft_removed@error"
    assert result.excerpt == text


def test_it_prefers_inconclusive_markers_over_removal_markers():
    rules = PlatformRules(
        markers={"removed": ["@div.notice has been removed"], "inconclusive": ["@page please log in"]}
    )
    body = '<div class="notice">Please log in to see why this post has been removed.</div>'
    result, _ = probe_path({"/post": page(body)}, "/post", rules)
    assert result.verdict == INCONCLUSIVE


def test_it_matches_markers_across_escapes_and_curly_apostrophes():
    rules = PlatformRules(markers={"removed": ["@h2 Sorry, this page isn't available."]})
    body = "<h2>Sorry, this page isn&#39;t\n   available.</h2>"
    result, _ = probe_path({"/p/x/": page(body)}, "/p/x/", rules)
    assert result.verdict == REMOVED
    rules = PlatformRules(markers={"soft_removed": ["@p removed by Reddit's filters"]})
    result, _ = probe_path(
        {"/p/x/": page("<p>Sorry, this post was removed by Reddit’s filters.</p>")}, "/p/x/", rules
    )
    assert result.verdict == SOFT_REMOVED


def youtube_watch_page(playability: dict) -> str:
    return (
        "<html><head><title>Some video - YouTube</title></head><body>"
        # Every English watch page carries this i18n string: it must not read as a removal.
        '<script>var ytcfg = {"download_unplayable": "video unavailable offline"};</script>'
        '<script>var ytInitialPlayerResponse = {"responseContext": {"serviceTrackingParams": []}, '
        f'"playabilityStatus": {json.dumps(playability)}, "videoDetails": {{"videoId": "abc"}}}};</script>'
        '<div id="watch">Some description of the video for people without JavaScript.</div></body></html>'
    )


def _subreason(text: str) -> dict:
    return {"playerErrorMessageRenderer": {"subreason": {"runs": [{"text": text}]}}}


@pytest.mark.parametrize(
    ("playability", "verdict"),
    [
        ({"status": "OK", "playableInEmbed": True}, LIVE),
        (
            {
                "status": "ERROR",
                "reason": "Video unavailable",
                "errorScreen": _subreason("This video has been removed by the uploader"),
            },
            REMOVED,
        ),
        (
            {
                "status": "ERROR",
                "reason": "Video unavailable",
                "errorScreen": _subreason(
                    "This video is no longer available because the YouTube account associated with this "
                    "video has been terminated."
                ),
            },
            REMOVED,
        ),
        (
            {
                "status": "LOGIN_REQUIRED",
                "reason": "This video is private",
                "messages": ["This is a private video. Please sign in to verify that you may see it."],
            },
            SOFT_REMOVED,
        ),
        (
            {
                "status": "LOGIN_REQUIRED",
                "reason": {"simpleText": "Sign in to confirm your age"},
                "desktopLegacyAgeGateReason": 1,
            },
            RESTRICTED,
        ),
        ({"status": "AGE_VERIFICATION_REQUIRED", "reason": "Age-restricted"}, RESTRICTED),
        ({"status": "LOGIN_REQUIRED", "reason": "Sign in to confirm you’re not a bot"}, INCONCLUSIVE),
        (
            {
                "status": "UNPLAYABLE",
                "reason": "Video unavailable",
                "errorScreen": _subreason("The uploader has not made this video available in your country"),
            },
            LEGALLY_BLOCKED,
        ),
    ],
)
def test_it_reads_the_youtube_playability_status(playability, verdict):
    rules = PlatformRules(detector="youtube")
    result, _ = probe_path({"/watch": page(youtube_watch_page(playability))}, "/watch?v=abc", rules)
    assert result.verdict == verdict, result.reason
    assert result.reason.startswith("youtube: ")


def test_it_does_not_call_a_youtube_page_without_player_data_live():
    rules = PlatformRules(detector="youtube")
    result, _ = probe_path(
        {"/watch": page("<p>Something went wrong, a page with no player at all</p>")}, "/watch?v=abc", rules
    )
    assert result.verdict == INCONCLUSIVE


@pytest.mark.parametrize(
    ("detector", "path", "body", "content_type", "verdict"),
    [
        ("x", "/tweet-result?id=1&token=x", "{}", "application/json", REMOVED),
        (
            "x",
            "/tweet-result?id=20&token=x",
            '{"__typename": "Tweet", "id_str": "20", "text": "hi"}',
            "application/json",
            LIVE,
        ),
        (
            "x",
            "/someone/status/1",
            "<noscript>JavaScript is not available.</noscript><p>Something went wrong</p>",
            "text/html",
            INCONCLUSIVE,
        ),
        (
            "telegram",
            "/somechannel/123?embed=1",
            '<div class="tgme_widget_message_error">Post not found</div>',
            "text/html",
            REMOVED,
        ),
        (
            "reddit",
            "/comments/abc/.json",
            '[{"data": {"children": [{"data": {"selftext": "[removed]", "removed_by_category": "moderator"}}]}}]',
            "application/json",
            REMOVED,
        ),
        (
            "tiktok",
            "/@someone/video/1",
            '<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">'
            '{"__DEFAULT_SCOPE__": {"webapp.video-detail": {"statusCode": 10216}}}</script>',
            "text/html",
            SOFT_REMOVED,
        ),
    ],
)
def test_it_hands_platform_answers_to_their_detector(detector, path, body, content_type, verdict):
    route = path.split("?")[0]
    result, _ = probe_path(
        {route: page(body, content_type=content_type)}, path, PlatformRules(detector=detector)
    )
    assert result.verdict == verdict, result.reason


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (
            403,
            {"cf-mitigated": "challenge", "Server": "cloudflare"},
            "<html><head><title>Just a moment...</title></head><body><script>window._cf_chl_opt={cvId:'3'};"
            "</script><script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script></body></html>",
        ),
        (
            503,
            {"Server": "cloudflare"},
            "<html><body><form id='challenge-form'><input name='jschl_vc' value='1'></form>"
            "<p>Checking your browser before accessing the site.</p></body></html>",
        ),
        (
            200,
            {},
            "<html><head><title>Just a moment...</title></head><body><p>Checking your browser</p></body></html>",
        ),
        (
            403,
            {"Server": "cloudflare"},
            "<html><head><title>Attention Required! | Cloudflare</title></head><body><p>Sorry, you have been "
            "blocked</p><div id='cf-error-details'></div></body></html>",
        ),
    ],
)
def test_it_treats_a_bot_challenge_as_inconclusive_even_with_removal_markers(status, headers, body):
    rules = PlatformRules(markers={"removed": ["checking your browser", "you have been blocked"]})
    result, _ = probe_path({"/item": page(body, status=status, headers=headers)}, "/item", rules)
    assert result.verdict == INCONCLUSIVE
    assert "challenge" in result.reason


def test_it_does_not_mistake_cloudflare_bot_detection_on_a_live_page_for_a_challenge():
    body = (
        "<html><head><title>My post</title></head><body><p>The actual post content is right here.</p>"
        "<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script></body></html>"
    )
    result, _ = probe_path({"/item": page(body, headers={"Server": "cloudflare"})}, "/item")
    assert result.verdict == LIVE


def test_it_reports_429_as_inconclusive_with_the_retry_after():
    result, _ = probe_path({"/item": page("slow down", status=429, headers={"Retry-After": "120"})}, "/item")
    assert (result.verdict, result.reason) == (INCONCLUSIVE, "http 429 (rate limited)")
    assert result.retry_after == 120.0
    assert result.headers["retry-after"] == "120"


def test_it_gives_up_on_a_server_that_never_answers():
    async def scenario():
        async with silent() as server:
            loop = asyncio.get_running_loop()
            started = loop.time()
            result = await probe(f"http://127.0.0.1:{server.port}/item", loopback(server, total_timeout=0.4))
            return result, loop.time() - started, server.accepted

    result, took, accepted = asyncio.run(scenario())
    assert accepted == 1
    assert result.verdict == INCONCLUSIVE
    assert result.reason == "timeout"
    assert result.http_status is None
    assert took < 2.0


def test_it_reports_a_refused_connection_as_inconclusive():
    port = free_port()
    result = asyncio.run(
        probe(f"http://127.0.0.1:{port}/", loopback(total_timeout=2.0, allowed_ports=frozenset({port})))
    )
    assert result.verdict == INCONCLUSIVE
    assert result.reason.startswith("connection error")


def test_it_reads_no_more_than_the_body_limit():
    async def scenario():
        async with serve({"/big": endless()}) as server:
            result = await probe(server.url("/big"), loopback(server, body_limit=64 * 1024))
            return result

    result = asyncio.run(scenario())
    assert result.truncated
    assert result.body_bytes == 64 * 1024
    assert result.body_sha256 == hashlib.sha256(b"x" * 64 * 1024).hexdigest()
    assert result.verdict == LIVE
    assert len(result.excerpt) == 300


def test_it_caps_what_a_compressed_body_expands_to():
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MB from ~64 KB
    handler = page(bomb, content_type="text/plain", headers={"Content-Encoding": "gzip"})
    result, _ = probe_path({"/bomb": handler}, "/bomb", body_limit=128 * 1024)
    assert result.truncated
    assert result.body_bytes == 128 * 1024
    assert result.body_sha256 == hashlib.sha256(b"\0" * 128 * 1024).hexdigest()


def test_it_keeps_only_a_hash_of_images_and_videos():
    image = b"\xff\xd8\xff\xe0" + os.urandom(20_000)
    for content_type in ("image/jpeg", "video/mp4"):
        result, _ = probe_path({"/media": page(image, content_type=content_type)}, "/media")
        assert result.verdict == LIVE
        assert result.body_sha256 == hashlib.sha256(image).hexdigest()
        assert (result.title, result.excerpt) == ("", "")
        assert "bytes" not in result.as_dict()  # the result carries no body at all


def test_it_keeps_no_cookies_between_urls():
    async def set_cookie(request: web.Request) -> web.Response:
        response = web.Response(text="<p>here is a cookie for you, keep it</p>", content_type="text/html")
        response.set_cookie("session", "abc")
        return response

    async def scenario():
        async with serve({"/a": set_cookie, "/b": page("<p>do you have a cookie for me?</p>")}) as server:
            async with Prober(loopback(server)) as prober:
                await prober.probe(server.url("/a"))
                await prober.probe(server.url("/b"))
            return server.traffic

    traffic = asyncio.run(scenario())
    assert "Cookie" not in traffic.headers[1]


def test_it_ignores_proxy_settings_in_the_environment(monkeypatch):
    async def scenario():
        async with (
            canary(("127.0.0.1",)) as proxy,
            serve({"/": page("<p>reached directly, no proxy</p>")}) as server,
        ):
            for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
                monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
            monkeypatch.delenv("NO_PROXY", raising=False)
            monkeypatch.delenv("no_proxy", raising=False)
            result = await probe(server.url("/"), loopback(server))
            return result, proxy.accepted

    result, proxy_hits = asyncio.run(scenario())
    assert result.verdict == LIVE
    assert proxy_hits == 0


def test_it_reports_a_vanished_domain_as_removed_only_when_the_resolver_answered_for_a_control_name():
    # The stub stands in for getaddrinfo only: it raises the same socket.gaierror, so the real
    # resolve_host / vet / _vanished_domain path classifies it.
    resolver = StubResolver(
        {
            "control.example": ["93.184.216.34"],
            "flaky.example": socket.gaierror(socket.EAI_AGAIN, "Temporary failure"),
        }
    )
    config = ProbeConfig(resolver=resolver, dns_control=("control.example",))
    gone = asyncio.run(probe("https://gone.example/video/1", config))
    assert (gone.verdict, gone.rule) == (REMOVED, "dns.nxdomain.confirmed")
    assert "control.example" in gone.reason
    flaky = asyncio.run(probe("https://flaky.example/video/1", config))
    assert (flaky.verdict, flaky.rule) == (INCONCLUSIVE, "dns.failure")
    assert flaky.reason.startswith("dns:")


@pytest.mark.parametrize(
    "control",
    [
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),  # a resolver that knows nothing
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
        TimeoutError(),
    ],
)
def test_it_never_reads_a_resolver_outage_as_a_removal(control):
    resolver = StubResolver({"control.example": control})
    config = ProbeConfig(resolver=resolver, dns_control=("control.example",))

    async def scenario():
        async with Prober(config) as prober:
            return [await prober.probe(f"https://gone{n}.example/video/1") for n in range(3)]

    results = asyncio.run(scenario())
    assert {(r.verdict, r.rule) for r in results} == {(INCONCLUSIVE, "dns.nxdomain.control_failed")}
    assert resolver.lookups.count("control.example") == 1  # once per run, not per URL


@pytest.mark.parametrize("detector", ["generic", "youtube", "x"])
def test_it_never_reads_a_vanished_registry_host_as_a_removal(detector):
    resolver = StubResolver({"control.example": ["93.184.216.34"]})
    config = ProbeConfig(resolver=resolver, dns_control=("control.example",))
    rules = PlatformRules(detector=detector, registry=True)
    for url in ("https://www.youtube.com/watch?v=abcdefghijk", "https://x.com/someone/status/1234567890"):
        result = asyncio.run(probe(url, config, rules))
        assert result.verdict == INCONCLUSIVE
        assert result.rule in ("dns.nxdomain.registry_host", "dns.nxdomain.redirect_target")


def test_it_keeps_refused_reset_and_tls_failures_inconclusive():
    async def scenario():
        async with canary(("127.0.0.1",)) as reset, serve({"/": page("<p>plain http</p>")}) as plain:
            config = loopback(reset, plain)
            rules = PlatformRules(detector="generic", registry=True)
            port = free_port()
            refused = await probe(
                f"http://127.0.0.1:{port}/", loopback(allowed_ports=frozenset({port})), rules
            )
            closed = await probe(f"http://127.0.0.1:{reset.port}/", config, rules)
            tls = await probe(f"https://127.0.0.1:{plain.port}/", config, rules)
            return refused, closed, tls

    refused, closed, tls = asyncio.run(scenario())
    assert (refused.verdict, refused.rule) == (INCONCLUSIVE, "net.connection")
    assert closed.verdict == INCONCLUSIVE and closed.rule.startswith("net.")
    assert tls.verdict == INCONCLUSIVE and tls.rule.startswith("net.")


# ------------------------------------------------------------------------------ SSRF

PUBLIC_V4, PUBLIC_V6 = "93.184.216.34", "2606:4700::6810:84e5"
STUB_TABLE = {
    "public.example": [PUBLIC_V4],
    "rebind.example": ["127.0.0.1"],
    "localhost.example": ["127.0.0.1"],
    "mixed.example": [PUBLIC_V4, "10.0.0.7"],
    "mixed6.example": [PUBLIC_V6, "::1"],
    "metadata.example": ["169.254.169.254"],
    "nat64.example": ["64:ff9b::7f00:1"],
    "cgnat.example": ["100.64.12.1"],
}

# (url, a fragment of the reason); {port} is the canary's port, which is an allowed port, so
# that each refusal is for the address and not for the port.
SSRF_CASES = [
    ("http://127.0.0.1:{port}/", "address 127.0.0.1 is not public"),
    ("https://127.0.0.1:{port}/", "address 127.0.0.1 is not public"),
    ("http://127.0.0.2:{port}/", "address 127.0.0.2 is not public"),
    ("http://2130706433:{port}/", "non-canonical IPv4 literal"),
    ("http://0177.0.0.1:{port}/", "non-canonical IPv4 literal"),
    ("http://0x7f.0.0.1:{port}/", "non-canonical IPv4 literal"),
    ("http://0x7f000001:{port}/", "non-canonical IPv4 literal"),
    ("http://017700000001:{port}/", "non-canonical IPv4 literal"),
    ("http://127.1:{port}/", "non-canonical IPv4 literal"),
    ("http://127.0.1:{port}/", "non-canonical IPv4 literal"),
    ("http://127.0.0.1.:{port}/", "non-canonical IPv4 literal"),
    ("http://0:{port}/", "non-canonical IPv4 literal"),
    ("http://0.0.0.0:{port}/", "address 0.0.0.0 is not public"),
    (
        "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{port}/",
        "address 127.0.0.1 is not public",
    ),  # full-width
    ("http://[::1]:{port}/", "address ::1 is not public"),
    ("http://[::]:{port}/", "is not public"),
    ("http://[::ffff:127.0.0.1]:{port}/", "is not public"),
    ("http://[::ffff:7f00:1]:{port}/", "is not public"),
    ("http://[0:0:0:0:0:ffff:7f00:1]:{port}/", "is not public"),
    ("http://[::127.0.0.1]:{port}/", "is not public"),  # IPv4-compatible
    ("http://[2002:7f00:1::]:{port}/", "is not public"),  # 6to4
    ("http://[64:ff9b::7f00:1]:{port}/", "is not public"),  # NAT64
    ("http://[fe80::1]/", "is not public"),
    ("http://[fe80::1%25eth0]/", "scoped IPv6 literal"),
    ("http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 is not public"),
    ("http://[::ffff:169.254.169.254]/latest/meta-data/", "is not public"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "is not public"),
    ("http://100.100.100.200/latest/meta-data/", "is not public"),
    ("http://10.0.0.1/", "address 10.0.0.1 is not public"),
    ("http://172.16.0.1/", "address 172.16.0.1 is not public"),
    ("http://172.31.255.254/", "is not public"),
    ("http://192.168.1.1/", "address 192.168.1.1 is not public"),
    ("http://100.64.0.1/", "address 100.64.0.1 is not public"),
    ("http://224.0.0.1/", "is not public"),
    ("http://user@127.0.0.1:{port}/", "credentials in URL"),
    ("http://public.example@127.0.0.1:{port}/", "credentials in URL"),
    ("http://user:secret@public.example/", "credentials in URL"),
    ("ftp://127.0.0.1:{port}/", "scheme 'ftp'"),
    ("file:///etc/passwd", "scheme 'file'"),
    ("gopher://127.0.0.1:{port}/_INFO", "scheme 'gopher'"),
    ("javascript:alert(1)", "scheme 'javascript'"),
    ("data:text/html,hello", "scheme 'data'"),
    ("http:///no-host", "no host"),
    ("http://public.example:6379/", "port 6379 is not allowed"),
    ("http://public.example:5432/", "port 5432 is not allowed"),
    ("http://public.example:22/", "port 22 is not allowed"),
    ("http://127.0.0.1:6379/", "port 6379 is not allowed"),
    ("http://rebind.example:{port}/", "resolves to non-public address 127.0.0.1"),
    ("HTTP://LOCALHOST.EXAMPLE:{port}/", "resolves to non-public address 127.0.0.1"),
    ("http://mixed.example:{port}/", "resolves to non-public address 10.0.0.7"),
    ("http://mixed6.example:{port}/", "resolves to non-public address ::1"),
    ("http://metadata.example/", "resolves to non-public address 169.254.169.254"),
    ("http://nat64.example:{port}/", "resolves to non-public address 64:ff9b::7f00:1"),
    ("http://cgnat.example/", "resolves to non-public address 100.64.12.1"),
]


async def _refused_without_contact(
    url_template: str, *, allow_loopback: bool
) -> tuple[ProbeResult, int, int]:
    async with canary() as trap:
        config = ProbeConfig(
            allow_loopback=allow_loopback,
            allowed_ports=frozenset({80, 443, trap.port}),
            resolver=StubResolver(STUB_TABLE),
            connect_timeout=1.0,
            total_timeout=2.0,
        )
        async with Prober(config) as prober:
            result = await prober.probe(url_template.format(port=trap.port))
        return result, prober.requests_sent, trap.accepted


@pytest.mark.parametrize(("url", "why"), SSRF_CASES, ids=[c[0] for c in SSRF_CASES])
def test_it_refuses_non_public_targets_without_connecting(url, why):
    result, requests, accepted = asyncio.run(_refused_without_contact(url, allow_loopback=False))
    assert result.verdict == INCONCLUSIVE
    assert result.error.startswith("refused: ")
    assert why in result.reason
    assert result.http_status is None
    assert (requests, accepted) == (0, 0)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://0.0.0.0:{port}/",
        "http://metadata.example/",
    ],
)
def test_it_still_refuses_private_and_metadata_addresses_when_loopback_is_allowed(url):
    result, requests, accepted = asyncio.run(_refused_without_contact(url, allow_loopback=True))
    assert result.error.startswith("refused: ")
    assert (requests, accepted) == (0, 0)


def test_it_refuses_localhost_as_the_system_resolver_answers_it():
    result = asyncio.run(probe("http://localhost/", ProbeConfig()))
    assert result.error.startswith("refused: localhost resolves to non-public address")


REDIRECT_TARGETS = {
    "loopback": "http://127.0.0.1:{port}/",
    "decimal": "http://2130706433:{port}/",
    "ipv6": "http://[::1]:{port}/",
    "mapped": "http://[::ffff:127.0.0.1]:{port}/",
    "scheme-relative": "//127.0.0.1:{port}/x",
    "name": "http://rebind.example:{port}/",
    "metadata": "http://169.254.169.254/latest/meta-data/",
    "private": "http://10.0.0.1/",
    "file": "file:///etc/passwd",
    "port": "http://public.example:6379/",
}


@pytest.mark.parametrize("name", REDIRECT_TARGETS)
def test_it_refuses_a_redirect_from_a_public_host_to_a_private_one(name):
    async def scenario():
        async with canary() as trap:
            target = REDIRECT_TARGETS[name].format(port=trap.port)
            # The "public" site: a server on 127.0.0.2 that the stub resolver gives for
            # public.example, declared public for this test only. Every other loopback
            # address stays refused.
            async with serve({"/post": redirect(target)}, host="127.0.0.2") as site:
                config = ProbeConfig(
                    allowed_ports=frozenset({80, 443, site.port, trap.port}),
                    treat_as_public=frozenset({"127.0.0.2"}),
                    resolver=StubResolver({**STUB_TABLE, "public.example": ["127.0.0.2"]}),
                    total_timeout=2.0,
                )
                async with Prober(config) as prober:
                    result = await prober.probe(f"http://public.example:{site.port}/post")
                return result, site.traffic, prober.requests_sent, trap.accepted

    result, traffic, requests, accepted = asyncio.run(scenario())
    assert traffic.count == 1
    assert traffic.headers[0]["Host"].startswith("public.example:")  # Host kept, vetted IP dialled
    assert result.http_status == 302
    assert result.verdict == INCONCLUSIVE
    assert result.error.startswith("refused: redirect to ")
    assert len(result.redirect_chain) == 2
    assert (requests, accepted) == (1, 0)


def test_it_vets_every_lookup_so_a_rebinding_name_cannot_reach_loopback():
    async def scenario():
        async with canary(("127.0.0.1",)) as trap:
            # Same port on two loopback addresses: the real site on .2, the canary on .1.
            async with serve(
                {"/": page("<p>the public site answers here</p>")}, host="127.0.0.2", port=trap.port
            ):
                resolver = StubResolver({"rebinding.example": [["127.0.0.2"], ["127.0.0.1"]]})
                config = ProbeConfig(
                    allowed_ports=frozenset({trap.port}),
                    treat_as_public=frozenset({"127.0.0.2"}),
                    resolver=resolver,
                    dns_cache_ttl=0,
                    soft404=False,  # one more lookup per host
                )
                async with Prober(config) as prober:
                    first = await prober.probe(f"http://rebinding.example:{trap.port}/")
                    second = await prober.probe(f"http://rebinding.example:{trap.port}/")
                return first, second, resolver.lookups, trap.accepted

    first, second, lookups, accepted = asyncio.run(scenario())
    assert first.verdict == LIVE
    assert second.error == "refused: rebinding.example resolves to non-public address 127.0.0.1"
    assert lookups == ["rebinding.example", "rebinding.example"]  # ours only: aiohttp never looks up
    assert accepted == 0


# ----------------------------------------------------------------------- politeness


async def _servers(stack: AsyncExitStack, count: int, routes: dict, shared: Traffic | None = None) -> list:
    return [await stack.enter_async_context(serve(routes, shared=shared)) for _ in range(count)]


def test_it_respects_the_global_and_per_host_limits():
    async def scenario():
        everyone = Traffic()
        async with AsyncExitStack() as stack:
            servers = await _servers(
                stack, 4, {"/{n}": page("<p>a slow but live page</p>", delay=0.08)}, everyone
            )
            # Grouped by host on purpose: the prober interleaves them itself.
            items = [((s.port, n), s.url(f"/{n}"), None) for s in servers for n in range(10)]
            async with Prober(loopback(*servers, concurrency=6, per_host=2)) as prober:
                results = [pair async for pair in prober.probe_many(items)]
            return results, servers, everyone

    results, servers, everyone = asyncio.run(scenario())
    assert len(results) == 40
    assert {key for key, _ in results} == {(s.port, n) for s in servers for n in range(10)}
    assert all(result.verdict == LIVE for _, result in results)
    assert everyone.max_in_flight == 6
    assert [s.traffic.max_in_flight for s in servers] == [2, 2, 2, 2]


def test_it_spaces_requests_to_one_host():
    async def scenario():
        async with serve({"/{n}": page("<p>a live page, served quickly</p>")}) as server:
            items = [(n, server.url(f"/{n}"), None) for n in range(4)]
            async with Prober(loopback(server, per_host=4, per_host_spacing=0.15)) as prober:
                results = [pair async for pair in prober.probe_many(items)]
            return results, server.traffic

    results, traffic = asyncio.run(scenario())
    starts = sorted(t for t, _ in traffic.started)
    assert len(results) == 4
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.14


def _rate_limited_once(retry_after: str):
    calls = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(request.path)
        if len(calls) == 1:
            return web.Response(status=429, text="slow down", headers={"Retry-After": retry_after})
        return web.Response(text="<p>a live page after the pause</p>", content_type="text/html")

    return handler


def test_it_pauses_a_host_that_sends_retry_after():
    async def scenario():
        async with AsyncExitStack() as stack:
            limited = await stack.enter_async_context(serve({"/{n}": _rate_limited_once("1")}))
            other = await stack.enter_async_context(
                serve({"/{n}": page("<p>another host, never paused</p>")})
            )
            items = [("limited", limited.url(f"/{n}"), None) for n in range(3)]
            items += [("other", other.url(f"/{n}"), None) for n in range(3)]
            async with Prober(loopback(limited, other, per_host=1)) as prober:
                results = [pair async for pair in prober.probe_many(items)]
            return results, limited.traffic, other.traffic

    results, limited, other = asyncio.run(scenario())
    limited_results = [r for key, r in results if key == "limited"]
    assert sorted(r.verdict for r in limited_results) == [INCONCLUSIVE, LIVE, LIVE]
    assert [r.retry_after for r in limited_results if r.verdict == INCONCLUSIVE] == [1.0]
    first, second, _ = sorted(t for t, _ in limited.started)
    assert second - first >= 0.95
    assert max(t for t, _ in other.started) - first < 0.5  # the other host did not wait


def test_it_defers_a_host_that_asks_for_a_long_pause_instead_of_sleeping():
    async def scenario():
        async with serve({"/{n}": _rate_limited_once("3600")}) as server:
            items = [(n, server.url(f"/{n}"), None) for n in range(4)]
            loop = asyncio.get_running_loop()
            started = loop.time()
            async with Prober(loopback(server, per_host=1)) as prober:
                results = [pair async for pair in prober.probe_many(items)]
            return results, server.traffic, loop.time() - started

    results, traffic, took = asyncio.run(scenario())
    assert traffic.count == 1
    deferred = [r for _, r in results if r.reason.startswith("deferred:")]
    assert len(deferred) == 3
    assert all(r.verdict == INCONCLUSIVE and r.retry_after > 3500 for r in deferred)
    assert took < 2.0


def test_it_probes_synchronously_in_input_order():
    config = ProbeConfig(
        resolver=StubResolver({"control.example": [PUBLIC_V4]}), dns_control=("control.example",)
    )
    urls = ["ftp://example.org/", "https://gone.example/x", "http://127.0.0.1/"]
    results = probe_urls(urls, config)
    assert [r.url for r in results] == urls
    assert [r.verdict for r in results] == [INCONCLUSIVE, REMOVED, INCONCLUSIVE]
    pairs = run_probes([("a", urls[0], None), ("b", urls[1], PlatformRules(detector="x"))], config)
    assert sorted(key for key, _ in pairs) == ["a", "b"]


# ------------------------------------------------------------------------ soft-404


def _site_page(title: str, main: str) -> str:
    nav = " ".join(f"Category{i}" for i in range(60))
    footer = " ".join(["About Contact Terms Privacy Advertise"] * 60)
    return (
        f"<html><head><title>{title}</title></head><body><header>FanTube, videos of everyone</header>"
        f"<nav>{nav}</nav><main>{main}</main><footer>{footer}</footer></body></html>"
    )


async def _not_found_everywhere(request: web.Request) -> web.Response:
    # A 200 "not found" page for every path, echoing the path and a per-request number.
    body = _site_page(
        "FanTube", f"<h1>Not found</h1><p>We looked for {request.path} (request {id(request)}).</p>"
    )
    return web.Response(text=body, content_type="text/html")


def _soft404_run(routes: dict, paths: list[str], rules: PlatformRules | None = None):
    async def scenario():
        async with serve(routes) as server:
            async with Prober(loopback(server, soft404=True)) as prober:
                items = [(p, server.url(p), rules) for p in paths]
                results = dict([pair async for pair in prober.probe_many(items)])
            return results, server.traffic

    return asyncio.run(scenario())


def test_it_reads_a_200_page_that_a_random_path_also_gets_as_soft_removed():
    results, traffic = _soft404_run(
        {"/{tail:.*}": _not_found_everywhere}, ["/v/1", "/v/2", "/videos/abc-def"]
    )
    assert {(r.verdict, r.rule) for r in results.values()} == {(SOFT_REMOVED, "soft404.same_as_random_path")}
    random_paths = [p for _, p in traffic.started if not p.startswith("/v")]
    assert len(random_paths) == 1  # once per host per run, however many items
    assert traffic.count == 4


def test_it_keeps_live_pages_that_share_a_big_template_live():
    async def item(request: web.Request) -> web.Response:
        n = request.match_info["n"]
        main = (
            f"<h1>Clip {n}</h1><p>Concert clip number {n} of a fictional band, filmed from the balcony.</p>"
        )
        return web.Response(text=_site_page(f"Clip {n} - FanTube", main), content_type="text/html")

    routes = {"/v/{n}": item, "/{tail:.*}": _not_found_everywhere}
    results, _ = _soft404_run(routes, ["/v/1", "/v/2"])
    assert {(r.verdict, r.rule) for r in results.values()} == {(LIVE, "soft404.differs_from_random_path")}


def test_it_reads_a_redirect_to_where_random_paths_go_as_soft_removed():
    routes = {
        "/": page(_site_page("FanTube", "<h1>Latest videos</h1>")),
        "/v/{n}": redirect("/"),
        "/{tail:.*}": redirect("/"),
    }
    results, _ = _soft404_run(routes, ["/v/9"])
    assert (results["/v/9"].verdict, results["/v/9"].rule) == (
        SOFT_REMOVED,
        "soft404.same_redirect_as_random_path",
    )


def test_it_keeps_a_page_live_when_random_paths_get_a_real_404():
    routes = {"/v/{n}": page("<p>a clip page</p>"), "/{tail:.*}": page("<h1>Not Found</h1>", status=404)}
    results, _ = _soft404_run(routes, ["/v/1"])
    assert (results["/v/1"].verdict, results["/v/1"].rule) == (LIVE, "status.2xx.distinct_from_random_path")


def test_it_compares_only_hosts_without_a_detector():
    routes = {"/{tail:.*}": _not_found_everywhere}
    results, traffic = _soft404_run(
        routes, ["/view_video.php"], PlatformRules(detector="pornhub", registry=True)
    )
    assert results["/view_video.php"].verdict == LIVE
    assert traffic.count == 1


def test_it_fetches_the_random_path_under_the_same_safety_rules():
    routes = {
        "/v/{n}": page("<p>a clip page</p>"),
        "/{tail:.*}": redirect("http://169.254.169.254/latest/meta-data/"),
    }
    results, traffic = _soft404_run(routes, ["/v/1"])
    result = results["/v/1"]
    assert (result.verdict, result.rule) == (LIVE, "status.2xx")
    assert "no soft-404 baseline (refused" in result.reason
    assert traffic.count == 2


def test_it_never_reads_an_application_shell_served_for_every_path_as_soft_removed():
    shell = (
        "<html><head><title>FanApp</title></head><body><header>FanApp: clips, photos, news and more for fans</header>"
        '<div id="root"></div><script src="/static/app.js"></script></body></html>'
    )
    results, _ = _soft404_run({"/{tail:.*}": page(shell)}, ["/v/1", "/"])
    assert (results["/v/1"].verdict, results["/v/1"].rule) == (INCONCLUSIVE, "soft404.same_app_shell")
    assert (results["/"].verdict, results["/"].rule) == (LIVE, "status.2xx.home_page")


def test_it_keeps_two_short_different_pages_apart():
    routes = {"/v/{n}": page("<p>a clip page</p>"), "/{tail:.*}": page("<p>Not found</p>")}
    results, _ = _soft404_run(routes, ["/v/1"])
    assert (results["/v/1"].verdict, results["/v/1"].rule) == (LIVE, "soft404.differs_from_random_path")


def _media_site(main_for: dict[str, str]):
    """A big shared template: the item pages given, and a short "File not found" page for every
    other path (a soft-404 host)."""

    async def handler(request: web.Request) -> web.Response:
        main = main_for.get(request.path, "<h1>File not found</h1>")
        return web.Response(text=_site_page("FanTube", main), content_type="text/html")

    return {"/{tail:.*}": handler}


@pytest.mark.parametrize(
    "main",
    [
        '<img src="/media/4821.jpg" alt="">',  # an image with no caption is the whole item
        '<video controls><source src="https://cdn.example.net/clips/4821.mp4" type="video/mp4"></video>',
        '<iframe src="https://player.example.net/embed/4821"></iframe>',
    ],
    ids=["image", "video", "embed"],
)
def test_it_keeps_an_uncaptioned_media_page_on_a_big_template_live(main):
    results, _ = _soft404_run(_media_site({"/v/4821": main}), ["/v/4821", "/v/gone"])
    assert (results["/v/4821"].verdict, results["/v/4821"].rule) == (LIVE, "soft404.own_media_or_identity")
    assert "media" in results["/v/4821"].reason
    # The same template without the media is still the host's "not found" page.
    assert (results["/v/gone"].verdict, results["/v/gone"].rule) == (
        SOFT_REMOVED,
        "soft404.same_as_random_path",
    )


def test_it_keeps_a_page_distinct_by_its_og_video_and_canonical_apart_from_a_random_path():
    head = (
        '<meta property="og:video" content="https://cdn.example.net/v/77.mp4">'
        '<link rel="canonical" href="https://fans.example.net/watch/clip-77">'
    )
    results, _ = _soft404_run(_media_site({"/v/77": head}), ["/v/77"])
    assert (results["/v/77"].verdict, results["/v/77"].rule) == (LIVE, "soft404.own_media_or_identity")


def test_it_does_not_count_a_canonical_link_that_echoes_the_address_as_the_item():
    async def handler(request: web.Request) -> web.Response:
        # A soft-404 page that names whatever was asked for as its canonical address.
        main = f'<link rel="canonical" href="{request.url}"><h1>File not found</h1>'
        return web.Response(text=_site_page("FanTube", main), content_type="text/html")

    results, _ = _soft404_run({"/{tail:.*}": handler}, ["/v/5"])
    assert (results["/v/5"].verdict, results["/v/5"].rule) == (SOFT_REMOVED, "soft404.same_as_random_path")


@pytest.mark.parametrize(
    "gate", ["/age-verification", "/disclaimer", "/register", "/signup", "/join", "/?gate=1"]
)
def test_it_never_reads_a_gate_every_visitor_is_sent_to_as_soft_removed(gate):
    # An unlisted adult site or members-only forum sends every visitor, to a live item or to a
    # random path, to the same gate (served 200): that says nothing about the item.
    routes = {
        gate.split("?")[0]: page(_site_page("FanTube", "<h1>Are you 18? Members only: join now</h1>")),
        "/v/{n}": redirect(gate),
        "/{tail:.*}": redirect(gate),
    }
    results, _ = _soft404_run(routes, ["/v/9"])
    assert (results["/v/9"].verdict, results["/v/9"].rule) == (
        INCONCLUSIVE,
        "soft404.same_gate_as_random_path",
    )


def test_it_reads_a_vanished_domain_as_inconclusive_when_told_not_to_trust_nxdomain():
    resolver = StubResolver({"control.example": ["93.184.216.34"]})
    config = ProbeConfig(resolver=resolver, dns_control=("control.example",), nxdomain_means_removed=False)
    gone = asyncio.run(probe("https://gone.example/video/1", config))
    assert (gone.verdict, gone.rule) == (INCONCLUSIVE, "dns.nxdomain.not_trusted")
