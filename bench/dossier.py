"""Benchmark: a case's evidence dossier at growing sizes — seconds per 1,000 URLs, peak memory.

    python bench/dossier.py [--urls 1000,2000,4000] [--checks 3] [--keep]

Builds a throwaway SQLite database under var/ (migrated, the platform registry loaded): one
agency with a self-signed certificate, URLs on 25 Telegram channels with --checks checks each
written through the chain, one sent notice per 500 URLs (a small frozen PDF), and one case per
size holding that many URLs. Each size is exported in a fresh process (`--one`), so that its
peaks are its own, and the script prints per size:

- seconds, and seconds per 1,000 URLs;
- the exporting process's Python heap peak (tracemalloc) and, apart, the two things that must
  grow with the case: the report's HTML (the PDF engine's input) and the signed PDF (its output);
  "rest" is the peak minus those two: what the export itself holds, which must stay flat;
- the PDF worker process's resident high-water mark (VmHWM): the engine's own needs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _django(db_path: str, private: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ["TAKEDOWN_PRIVATE_DIR"] = private
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "takedown.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(sizes: list[int], checks: int) -> dict[int, int]:
    """The data, once for the largest size; a case per size. Returns {size: case id}."""
    import hashlib
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from takedown import cases, chain, signing
    from takedown.models import (
        Agency,
        Artist,
        Case,
        CaseURL,
        InfringingURL,
        Notice,
        NoticeItem,
        Platform,
        URLCheck,
        User,
    )

    call_command("migrate", verbosity=0)
    from takedown.management.commands.setup import load_platforms

    load_platforms(ROOT / "fixtures" / "platforms.json")
    agency = Agency.objects.create(name="Bench Agency", slug="bench")
    signing.create_self_signed(agency.slug, agency.name)
    artist = Artist.objects.create(agency=agency, name="Bench Artist", slug="bench-artist")
    legal = User.objects.create(username="bench-legal", agency=agency, role="legal", is_staff=True)
    telegram = Platform.objects.get(slug="telegram")
    n = max(sizes)
    now = timezone.now()
    urls = [
        InfringingURL(
            artist=artist,
            url=f"https://t.me/benchchan{i % 25}/{i}",
            normalized_url=f"https://t.me/benchchan{i % 25}/{i}",
            host="t.me",
            platform=telegram,
            category="synthetic_sexual",
            legal_route="platform_policy",
            status="notified",
            discovered_at=now - timedelta(days=30, minutes=i),
            notified_at=now - timedelta(days=20),
        )
        for i in range(n)
    ]
    InfringingURL.objects.bulk_create(urls, batch_size=500)
    ids = list(InfringingURL.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, n, 2000):
        part = ids[start : start + 2000]
        with transaction.atomic():
            rows = [
                URLCheck(
                    url_id=pk,
                    checked_at=now - timedelta(days=c),
                    http_status=200,
                    final_url=f"https://t.me/x/{pk}",
                    body_sha256=hashlib.sha256(f"{pk}/{c}".encode()).hexdigest(),
                    title="Bench channel – Telegram",
                    verdict="live",
                    rule="status.200",
                )
                for pk in part
                for c in range(checks)
            ]
            URLCheck.objects.bulk_create(rows, batch_size=500)
            chain.chain_checks([(r.url_id, r.checked_at) for r in rows])
    pdf = b"%PDF-1.4\n% bench notice\n%%EOF\n"
    for start in range(0, n, 500):
        notice = Notice.objects.create(
            agency=agency, artist=artist, platform=telegram, legal_route="platform_policy", status="sent",
            created_by=legal, sent_at=now - timedelta(days=20), pdf=pdf, pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            reference=f"TG-{start}",
        )  # fmt: skip
        NoticeItem.objects.bulk_create(
            [NoticeItem(notice=notice, url_id=pk) for pk in ids[start : start + 500]]
        )
    cases.accounts_link(agency_id=agency.pk)
    made = {}
    for size in sizes:
        case = Case.objects.create(agency=agency, title=f"Bench {size}", status="open", legal_owner=legal)
        CaseURL.objects.bulk_create([CaseURL(case=case, url_id=pk) for pk in ids[:size]], batch_size=1000)
        made[size] = case.pk
    return made


def _children_hwm_kb() -> int:
    """The largest VmHWM among this process's children (the PDF workers)."""
    me, best = str(os.getpid()), 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[1] != me:
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]))
        except (OSError, IndexError, ValueError):
            continue
    return best


def one(case_id: int) -> dict:
    """Export one case in this process and measure it."""
    import tracemalloc

    from takedown import dossier
    from takedown.models import Case, User

    case = Case.objects.select_related("agency", "legal_owner").get(pk=case_id)
    user = User.objects.get(username="bench-legal")
    sizes = {}
    original_render, original_sign = dossier._render, dossier.signing.sign_pdf

    def render(html: str) -> bytes:
        sizes["html"] = len(html.encode())
        pdf = original_render(html)
        sizes["worker_hwm_kb"] = _children_hwm_kb()
        return pdf

    def sign(pdf: bytes, **kw) -> bytes:
        out = original_sign(pdf, **kw)
        sizes["pdf"] = len(out)
        return out

    dossier._render, dossier.signing.sign_pdf = render, sign
    tracemalloc.start()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        result = dossier.dossier_write(case=case, user=user, out=out, locale="ko")
        zip_bytes = out.tell()
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "urls": result.urls,
        "checks": result.checks,
        "seconds": seconds,
        "heap_peak": peak,
        "html": sizes["html"],
        "pdf": sizes["pdf"],
        "worker_hwm_kb": sizes["worker_hwm_kb"],
        "zip": zip_bytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--urls", default="1000,2000,4000")
    parser.add_argument("--checks", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--private", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _django(args.db, args.private)
        print(json.dumps(one(args.one)))
        return
    sizes = sorted(int(s) for s in args.urls.split(","))
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-dossier-", dir=var))
    db, private = str(work / "bench.sqlite3"), str(work / "private")
    _django(db, private)
    started = time.perf_counter()
    made = build(sizes, args.checks)
    print(f"built {max(sizes):,} URLs x {args.checks} checks in {time.perf_counter() - started:.1f} s")
    print(
        f"{'URLs':>7} {'s':>7} {'s/1k':>6} {'heap MB':>8} {'HTML MB':>8} {'PDF MB':>7} {'rest MB':>8} {'worker MB':>9}"
    )
    mb = 1 / (1 << 20)
    for size in sizes:
        run = subprocess.run(
            [sys.executable, __file__, "--one", str(made[size]), "--db", db, "--private", private],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        r = json.loads(run.stdout.strip().splitlines()[-1])
        rest = r["heap_peak"] - r["html"] - r["pdf"]
        print(
            f"{r['urls']:>7,} {r['seconds']:>7.1f} {r['seconds'] * 1000 / r['urls']:>6.1f} {r['heap_peak'] * mb:>8.1f} "
            f"{r['html'] * mb:>8.1f} {r['pdf'] * mb:>7.1f} {rest * mb:>8.1f} {r['worker_hwm_kb'] / 1024:>9.0f}"
        )
    if not args.keep:
        import shutil

        shutil.rmtree(work)


if __name__ == "__main__":
    main()
