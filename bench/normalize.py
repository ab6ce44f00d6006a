"""Benchmark: normalize_url against a bare urlsplit + urlunsplit on the same URLs.

    python bench/normalize.py [--n 100000] [--seed 1] [--repeat 5]

The URLs are generated deterministically to look like an intake batch: platform share links
with tracking parameters, aliases, Korean IDNA hosts, generic sites with utm_*. Prints µs per
URL (median and best of --repeat runs, the two sides interleaved) and the ratio of the medians.
No assertions: it informs, it does not gate.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from takedown.urltools import UnsafeURL, normalize_url

ID_CHARS = string.ascii_letters + string.digits + "-_"
TRACKING = ["utm_source=twitter", "utm_medium=social", "utm_campaign=spring", "fbclid=IwAR0x",
            "gclid=Cj0KCQ", "igsh=MWQ1ZGUxMzBk", "si=AbCdEfGhIj", "feature=share", "s=20",
            "t=AbCdEfGh", "_ga=2.1.2.3"]  # fmt: skip
KOREAN_HOSTS = ["한국.kr", "예시.한국", "연예.kr", "뉴스.한국", "갤러리.co.kr"]
GENERIC_HOSTS = ["news.example.com", "www.example.org", "blog.example.co.kr", "dcinside.com",
                 "gall.dcinside.com", "cafe.naver.com", "blog.naver.com", "www.pornhub.com",
                 "xvideos.com", "www.bbc.co.uk", "m.news.nate.com", "theqoo.net"]  # fmt: skip


def _generate(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)

    def ident(k: int) -> str:
        return "".join(rng.choices(ID_CHARS, k=k))

    def digits(k: int) -> str:
        return str(rng.randrange(10 ** (k - 1), 10**k))

    def tracking() -> str:
        return "&".join(rng.sample(TRACKING, rng.randrange(0, 3)))

    def q(*params: str) -> str:
        parts = [p for p in params if p]
        return "?" + "&".join(parts) if parts else ""

    makers: list[Callable[[], str]] = [
        lambda: f"https://www.youtube.com/watch{q('v=' + ident(11), tracking())}",
        lambda: f"https://youtu.be/{ident(11)}{q(tracking())}",
        lambda: f"https://m.youtube.com/shorts/{ident(11)}{q('feature=share')}",
        lambda: f"https://youtube.com/@{ident(8)}/videos",
        lambda: f"https://twitter.com/{ident(9)}/status/{digits(19)}{q('s=20', tracking())}",
        lambda: f"https://x.com/{ident(9)}/status/{digits(19)}/photo/1",
        lambda: f"https://t.me/{ident(10)}/{digits(4)}{q(rng.choice(['', 'single']))}",
        lambda: f"https://www.instagram.com/p/{ident(11)}/{q('igsh=' + ident(12))}",
        lambda: f"https://instagram.com/reel/{ident(11)}",
        lambda: f"https://old.reddit.com/r/{ident(6)}/comments/{ident(6).lower()}/some_title/",
        lambda: f"https://www.tiktok.com/@{ident(8)}/video/{digits(19)}?is_from_webapp=1&sender_device=pc",
        lambda: f"https://m.facebook.com/story.php?story_fbid={digits(15)}&id={digits(10)}&mibextid=x",
        lambda: f"https://{rng.choice(GENERIC_HOSTS)}/{ident(6)}/{ident(10)}.html{q('id=' + digits(5), tracking())}",
        lambda: f"http://{rng.choice(GENERIC_HOSTS)}:80/board/view?no={digits(7)}&page=1#comments",
        lambda: f"https://{rng.choice(KOREAN_HOSTS)}/게시판/{digits(6)}{q(tracking())}",
        lambda: f"https://{rng.choice(GENERIC_HOSTS)}/search?q=%ec%95%84%ec%9d%b4%eb%8f%8c+{ident(4)}",
        # Forms folded by the URL-forms catalogue (fixtures/platforms.json)
        lambda: f"https://m.blog.naver.com/{ident(8)}/{digits(12)}",
        lambda: f"https://blog.naver.com/PostView.naver?blogId={ident(8)}&logNo={digits(12)}&from=search",
        lambda: f"https://x.com/i/web/status/{digits(19)}",
        lambda: f"https://sh.reddit.com/r/{ident(6)}/comments/{ident(6).lower()}/",
        lambda: f"https://redd.it/{ident(6).lower()}",
        lambda: f"https://de.pornhub.com/view_video.php?viewkey=ph{ident(12)}{q(tracking())}",
        lambda: f"https://www.xvideos.com/video{digits(8)}/{ident(12)}",
        lambda: f"https://gall.dcinside.com/board/view/?id={ident(6)}&no={digits(6)}&page=1",
        lambda: f"https://{ident(6).lower()}.tistory.com/m/{digits(3)}",
        lambda: f"https://www.threads.net/@{ident(8)}/post/{ident(11)}",
    ]
    return [rng.choice(makers)() for _ in range(n)]


def _baseline(urls: list[str]) -> None:
    for u in urls:
        urlunsplit(urlsplit(u))


def _normalize(urls: list[str]) -> None:
    for u in urls:
        try:
            normalize_url(u)
        except UnsafeURL:
            pass


def _timings(fn: Callable[[list[str]], None], urls: list[str], repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(urls)
        runs.append(time.perf_counter() - t0)
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of URLs (default 100000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5, help="repetitions; the best is kept")
    args = parser.parse_args(argv)

    urls = _generate(args.n, args.seed)
    refused = sum(1 for u in urls if _refused(u))
    distinct = len(set(urls))
    # Warm-up so both sides start equal: host caches filled, PSL loaded, urlsplit imported.
    _normalize(urls[:1000])
    _baseline(urls[:1000])

    # Interleaved, so that a busy spell on a shared machine hits both sides alike.
    base_runs: list[float] = []
    norm_runs: list[float] = []
    for _ in range(args.repeat):
        base_runs += _timings(_baseline, urls, 1)
        norm_runs += _timings(_normalize, urls, 1)
    us = 1e6 / args.n
    base, norm = statistics.median(base_runs) * us, statistics.median(norm_runs) * us
    best_base, best_norm = min(base_runs) * us, min(norm_runs) * us
    print(f"urls:                      {args.n} ({distinct} distinct, {refused} refused), seed {args.seed}")
    print(f"baseline urlsplit+unsplit: {base:.2f} µs/url median, {best_base:.2f} best of {args.repeat}")
    print(f"normalize_url:             {norm:.2f} µs/url median, {best_norm:.2f} best of {args.repeat}")
    print(f"ratio normalize/baseline:  {norm / base:.2f}x (medians)")
    print(
        f"summary: normalize_url {norm:.2f} µs/url median = {norm / base:.2f}x urlsplit+urlunsplit "
        f"({base:.2f} µs); {args.n} URLs in {min(norm_runs):.3f} s at best"
    )


def _refused(u: str) -> bool:
    try:
        normalize_url(u)
    except UnsafeURL:
        return True
    return False


if __name__ == "__main__":
    main()
