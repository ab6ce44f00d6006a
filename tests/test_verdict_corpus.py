"""The verdict corpus: synthetic pages of every registry platform, judged by the real rules.

tests/corpus/manifest.json lists each page (tests/corpus/<platform>/<name>.html|json), the URL
it stands for, the HTTP status and redirects it came with, and its true class. The pages
are small reproductions of what the platforms' own pages show (the sources are in
fixtures/platforms.json), with fictional people only:
live, removed, legally blocked, soft-removed, restricted and inconclusive pages, and traps
(live pages whose user-written text quotes the platform's own removal texts).

Each page goes through what the prober does after fetching: the detector's URL rewrite
(the fetched address), ``decide`` with the platform row's markers from
fixtures/platforms.json, and for hosts without a detector the soft-404 comparison with the
host's answer for a random path (``baseline`` in the manifest; a plain 404 when absent, a
host with honest 404s). Network failures are judged by the real Prober with a resolver that
fails the way getaddrinfo does.

The confusion matrix is printed and written to test-artifacts/verdict-corpus.txt. One hard
assertion: no item whose true class is not ``removed`` is judged ``removed``.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from pathlib import Path

import pytest
from multidict import CIMultiDict
from yarl import URL

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
    detector_for,
)
from takedown.probing.page import Page
from takedown.probing.verdicts import decide, soft404

try:
    from tests.probe_servers import StubResolver
except ImportError:  # tests/ itself on sys.path rather than the project root
    from probe_servers import StubResolver

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
ARTIFACT = ROOT / "test-artifacts" / "verdict-corpus.txt"
CLASSES = (LIVE, REMOVED, LEGALLY_BLOCKED, SOFT_REMOVED, RESTRICTED, INCONCLUSIVE)
RANDOM_PATH = "/3f9c1e7a5b2d4c6e8f0a1b2c"  # what the prober's random path looks like
REGISTRY = {
    row["fields"]["slug"]: PlatformRules(
        detector=row["fields"]["detector"], markers=row["fields"]["markers"], registry=True
    )
    for row in json.loads((ROOT / "fixtures" / "platforms.json").read_text(encoding="utf-8"))
}
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))


def rules_for(platform: str) -> PlatformRules:
    return REGISTRY.get(platform, PlatformRules())


def _page(requested: URL, fetched: URL, item: dict, body: bytes) -> Page:
    chain = [fetched, *(URL(u) for u in item.get("redirects", []))]
    headers = CIMultiDict({"Content-Type": item.get("content_type", "text/html; charset=utf-8")})
    headers.update(item.get("headers", {}))
    return Page(
        requested=requested,
        url=chain[-1],
        status=item["status"],
        headers=headers,
        body=body,
        chain=chain,
        rewritten=fetched != requested,
    )


def judge_page(item: dict) -> tuple[str, str, str]:
    """(verdict, rule, fetched address) of one page fixture."""
    rules = rules_for(item["platform"])
    detector = detector_for(rules.detector)
    requested = URL(item["url"])
    fetched = detector.rewrite(requested)
    page = _page(requested, fetched, item, (CORPUS / item["file"]).read_bytes())
    finding = decide(page, rules, detector)
    if finding.verdict == LIVE and detector.name == "generic" and page.is_text:
        base = item.get("baseline") or {
            "status": 404,
            "body": "<title>404 Not Found</title><h1>Not Found</h1>",
        }
        random_url = requested.with_path(RANDOM_PATH).with_query(None)
        baseline = _page(
            random_url,
            random_url,
            {"status": base["status"], "redirects": base.get("redirects", [])},
            base["body"].replace("{path}", RANDOM_PATH).encode(),
        )
        finding = soft404(page, baseline)
    return finding.verdict, finding.rule, str(fetched)


# Network failures, through the real Prober: (id, url, platform, resolver table, true class[,
# ProbeConfig options]).
CONTROL = "control.example.net"
NETWORK = [
    ("network/youtube_nxdomain", "https://www.youtube.com/watch?v=AbCdEfGhIjK", "youtube", {CONTROL: ["93.184.216.34"]}, INCONCLUSIVE),
    ("network/x_nxdomain_no_control", "https://x.com/fan/status/1790000000000000001", "x", {}, INCONCLUSIVE),
    ("network/reddit_servfail", "https://www.reddit.com/comments/1abc2de/", "reddit",
     {CONTROL: ["93.184.216.34"], "www.reddit.com": socket.gaierror(socket.EAI_AGAIN, "Temporary failure")}, INCONCLUSIVE),
    ("network/unlisted_nxdomain_control_ok", "https://gone-leaks.example.com/v/1", "unlisted", {CONTROL: ["93.184.216.34"]}, REMOVED),
    ("network/unlisted_nxdomain_resolver_down", "https://gone-leaks.example.com/v/1", "unlisted",
     {CONTROL: socket.gaierror(socket.EAI_AGAIN, "Temporary failure")}, INCONCLUSIVE),
    ("network/unlisted_nxdomain_resolver_knows_nothing", "https://gone-leaks.example.com/v/1", "unlisted", {}, INCONCLUSIVE),
    # A filtering resolver answers NXDOMAIN for a blocked live site: with
    # TAKEDOWN_PROBE_NXDOMAIN_MEANS_REMOVED off, a vanished domain is no removal.
    ("network/unlisted_nxdomain_filtering_resolver", "https://live-leaks.example.com/v/1", "unlisted",
     {CONTROL: ["93.184.216.34"]}, INCONCLUSIVE, {"nxdomain_means_removed": False}),
]  # fmt: skip


def judge_network(url: str, platform: str, table: dict, options: dict | None = None) -> tuple[str, str]:
    config = ProbeConfig(resolver=StubResolver(table), dns_control=(CONTROL,), **(options or {}))

    async def scenario():
        async with Prober(config) as prober:
            return await prober.probe(url, rules_for(platform))

    result = asyncio.run(scenario())
    return result.verdict, result.rule


def matrix(rows: list[tuple[str, str, str, bool]]) -> str:
    counts = Counter((true, got) for _, true, got, _ in rows)
    width = max(len(c) for c in CLASSES) + 2
    lines = [
        "Verdict corpus: rows are true classes, columns the verdicts given",
        " " * width + "".join(c.rjust(17) for c in CLASSES) + "total".rjust(8),
    ]
    for true in CLASSES:
        cells = [counts[(true, got)] for got in CLASSES]
        lines.append(true.ljust(width) + "".join(str(n).rjust(17) for n in cells) + str(sum(cells)).rjust(8))
    right = sum(counts[(c, c)] for c in CLASSES)
    false_removed = sum(n for (true, got), n in counts.items() if got == REMOVED and true != REMOVED)
    removed_total = sum(n for (true, _), n in counts.items() if true == REMOVED)
    traps = [r for r in rows if r[3]]
    lines += [
        "",
        f"items: {len(rows)} ({len(traps)} traps quoting removal texts in user text); "
        f"platforms: {len({r[0].split('/')[0] for r in rows})}",
        f"agreement: {right}/{len(rows)} ({100 * right / len(rows):.1f}%)",
        f"false removed: {false_removed}; removals found: {counts[(REMOVED, REMOVED)]}/{removed_total}",
        f"traps judged live: {sum(1 for r in traps if r[2] == LIVE)}/{len(traps)}",
    ]
    misses = [f"  {i}: true {true}, given {got}" for i, true, got, _ in rows if true != got]
    if misses:
        lines += ["disagreements:", *misses]
    return "\n".join(lines) + "\n"


def test_it_covers_every_registry_platform_with_every_class():
    assert len(MANIFEST) >= 60
    assert set(REGISTRY) <= {item["platform"] for item in MANIFEST}
    assert {item["expected"] for item in MANIFEST} == set(CLASSES)
    assert sum(item["trap"] for item in MANIFEST) >= len(REGISTRY) - 4


@pytest.mark.parametrize(
    "item", [i for i in MANIFEST if "reddit.com" in i["url"] or i["platform"] == "x"], ids=lambda i: i["id"]
)
def test_it_fetches_well_formed_addresses_for_corpus_items(item):
    _, _, fetched = judge_page(item)
    url = URL(fetched)
    assert url.is_absolute() and url.scheme in ("http", "https")
    assert "//" not in url.raw_path and "" not in url.raw_path.split("/")[1:-1]


def test_it_judges_the_corpus_without_a_single_false_removal(capsys):
    rows = []
    for item in MANIFEST:
        verdict, rule, _ = judge_page(item)
        assert rule, f"{item['id']}: a verdict without the rule that decided it"
        rows.append((item["id"], item["expected"], verdict, item["trap"]))
    for ident, url, platform, table, expected, *options in NETWORK:
        verdict, rule = judge_network(url, platform, table, *options)
        assert rule, f"{ident}: a verdict without the rule that decided it"
        rows.append((ident, expected, verdict, False))
    report = matrix(rows)
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(report, encoding="utf-8")
    with capsys.disabled():
        print("\n" + report)
    false_removed = [i for i, true, got, _ in rows if got == REMOVED and true != REMOVED]
    assert false_removed == []
