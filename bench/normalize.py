"""Benchmark: normalize_url against a bare urlsplit + urlunsplit on the same URLs.

    python bench/normalize.py [--n 100000] [--seed 1] [--repeat 5]

The URLs are generated deterministically to look like an intake batch: platform share links
with tracking parameters, aliases, Korean IDNA hosts, generic sites with utm_*. Prints µs per
URL (best of --repeat runs) for each and their ratio. No assertions: it informs, it does not
gate.
"""

from __future__ import annotations

import argparse
import random
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


def _best_of(fn: Callable[[list[str]], None], urls: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(urls)
        best = min(best, time.perf_counter() - t0)
    return best


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

    base = _best_of(_baseline, urls, args.repeat)
    norm = _best_of(_normalize, urls, args.repeat)
    us_base = base / args.n * 1e6
    us_norm = norm / args.n * 1e6
    print(f"urls:                      {args.n} ({distinct} distinct, {refused} refused), seed {args.seed}")
    print(f"baseline urlsplit+unsplit: {us_base:.2f} µs/url  (best of {args.repeat})")
    print(f"normalize_url:             {us_norm:.2f} µs/url  (best of {args.repeat})")
    print(f"ratio normalize/baseline:  {us_norm / us_base:.2f}x")
    print(
        f"summary: normalize_url {us_norm:.2f} µs/url = {us_norm / us_base:.2f}x urlsplit+urlunsplit "
        f"({us_base:.2f} µs); {args.n} URLs in {norm:.3f} s"
    )


def _refused(u: str) -> bool:
    try:
        normalize_url(u)
    except UnsafeURL:
        return True
    return False


if __name__ == "__main__":
    main()
