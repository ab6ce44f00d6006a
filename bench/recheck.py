"""Recheck throughput against Little's law and against LinkChecker, measured in one run.

    .venv/bin/python bench/recheck.py [--urls 10000] [--hosts 20] [--latency 0.1]

Loopback HTTP servers (one per port on 127.0.0.1, in a separate process so that their CPU
is not charged to the checker) answer every request after ``--latency`` seconds: 200 pages,
and 404s for every fifth URL. The same URL list is then checked three ways:

- probe:  ``run_probes`` over all URLs with the project's configured limits
          (``rechecks.probe_config()``, loopback and the bench ports allowed);
- engine: the same URLs as due InfringingURL rows in a throwaway SQLite database,
          ``rechecks.run_due`` until none is due: claims, probes and bulk writes included;
- LinkChecker (PyPI ``linkchecker``, pinned below) at its best configuration per
          ../shared/BENCHMARKS.md: ``--threads 50``, ``maxrequestspersecond`` raised (the
          servers send the ``LinkChecker`` header that lifts its per-host limit), ``-r 1
          --check-extern`` over a local HTML page listing the URLs. It runs from its own venv,
          var/bench-venv, which this script creates on first use.

LinkChecker's rate grows with the URL count: until a host's first answer (with the header)
arrives, it waits 0.1-0.6 s between requests to that host while holding a lock all its
threads share, which costs it ~7 s at start over 20 hosts (~140 checks/s at 2,000 URLs as
in BENCHMARKS.md, ~260 at 10,000).

Little's law: at most min(concurrency, per_host x hosts) requests in flight, each taking
``latency``, so no checker can exceed that / latency checks per second. CPU ms per check is
user+sys time of the checking process (getrusage; LinkChecker's from wait4 on its process).
Targets, printed as PASS/MISS: at least 70% of the bound (soft-404 comparison on), at least 5x LinkChecker.
The machines are shared and noisy; compare ratios, not absolute figures.
"""

from __future__ import annotations

import argparse
import collections
import html
import json
import os
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LINKCHECKER = "linkchecker==10.6.0"
LC_VERSION = LINKCHECKER.split("==")[1]
LC_VENV = ROOT / "var" / "bench-venv"
LC_THREADS = 50
# 1/rate to 6/rate seconds between two requests to one host, slept while holding a global
# lock (aggregator.wait_for_host): the higher, the better it does. 10 is its default.
LC_RATE = 100_000
REMOVED_EVERY = 5  # every fifth URL answers 404
TARGET_BOUND = 0.70  # with the soft-404 comparison on
TARGET_PEER = 5.0


# ----------------------------------------------------------------------------- servers


def serve(hosts: int, latency: float) -> None:
    """The loopback servers (run in a child process): print the ports, serve until stdin closes."""
    import asyncio

    from aiohttp import web

    filler = " ".join(["Fan account repost, do not share. Original upload by the artist's label."] * 20)

    def page(title: str, body: str) -> bytes:
        return (
            f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>{body}</p></body></html>"
        ).encode()

    not_found = page("404 Not Found", "The page you requested does not exist.")
    # LinkChecker lifts its per-host rate limit only for servers that send this header.
    headers = {"LinkChecker": "bench", "Content-Type": "text/html; charset=utf-8"}
    item = re.compile(r"/item/(\d+)")

    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        m = item.fullmatch(request.path)
        if m and int(m[1]) % REMOVED_EVERY:
            return web.Response(body=page(f"Item {m[1]}", filler), headers=headers)
        return web.Response(status=404, body=not_found, headers=headers)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        ports = []
        for _ in range(hosts):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            await web.SockSite(runner, sock, backlog=1024).start()
            ports.append(sock.getsockname()[1])
        print(json.dumps(ports), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent goes
        await runner.cleanup()

    asyncio.run(main())


def start_servers(hosts: int, latency: float) -> tuple[subprocess.Popen, list[int]]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--hosts", str(hosts), "--latency", str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit("the loopback servers did not start")
    return proc, json.loads(line)


# ------------------------------------------------------------------------------ helpers


def cpu_self() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


@dataclass
class Row:
    name: str
    checks: int
    wall: float  # seconds
    cpu: float  # seconds, user + sys
    bound: float  # checks/s
    note: str

    @property
    def rate(self) -> float:
        return self.checks / self.wall if self.wall else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.checks if self.checks else 0.0


def tally(verdicts) -> str:
    counts = collections.Counter(verdicts)
    return " ".join(f"{k} {v}" for k, v in sorted(counts.items()))


# ------------------------------------------------------------------------ our checker


def setup_django(ports: list[int], workdir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["TAKEDOWN_PROBE_ALLOW_LOOPBACK"] = "1"
    os.environ["TAKEDOWN_PROBE_EXTRA_PORTS"] = ",".join(map(str, ports))
    os.environ["DEBUG"] = "0"  # DEBUG would keep every query in memory
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    os.environ["DJANGO_SETTINGS_MODULE"] = "takedown.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def bench_probe(urls: list[str], config) -> tuple[Row, list]:
    from takedown.probing import run_probes

    items = [(i, u, None) for i, u in enumerate(urls)]
    cpu0, t0 = cpu_self(), time.perf_counter()
    results = run_probes(items, config)
    wall, cpu = time.perf_counter() - t0, cpu_self() - cpu0
    verdicts = [r.verdict for _, r in results]
    return Row("ours: probe (run_probes)", len(results), wall, cpu, 0, tally(verdicts)), results


def bench_engine(urls: list[str], config) -> tuple[Row, dict]:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from takedown import rechecks
    from takedown.choices import URLStatus
    from takedown.models import Agency, Artist, InfringingURL, URLCheck

    now = timezone.now()
    agency = Agency.objects.create(name="Bench agency", slug="bench")
    artist = Artist.objects.create(agency=agency, name="Bench artist", slug="bench-artist")
    # Straight into the table: intake refuses loopback URLs by design.
    InfringingURL.objects.bulk_create(
        [
            InfringingURL(
                artist=artist,
                url=u,
                normalized_url=u,
                host="127.0.0.1",
                category="impersonation",
                legal_route="platform_policy",
                status=URLStatus.NOTIFIED,
                notified_at=now - timedelta(minutes=10),
                deadline_at=now + timedelta(hours=72),
                next_check_at=now - timedelta(seconds=1),
            )
            for u in urls
        ],
        batch_size=1000,
    )

    # Time the database part (claims and writes) to split the wall time; the engine is unchanged.
    split = {"db": 0.0, "batches": 0}
    real_claim, real_record = rechecks.claim_due, rechecks.record_results

    def timed(fn, count=False):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                split["db"] += time.perf_counter() - t
                if count:
                    split["batches"] += 1

        return wrapper

    rechecks.claim_due = timed(real_claim, count=True)
    rechecks.record_results = timed(real_record)
    try:
        cpu0, t0 = cpu_self(), time.perf_counter()
        done = rechecks.run_due(budget_seconds=3600, config=config)
        wall, cpu = time.perf_counter() - t0, cpu_self() - cpu0
    finally:
        rechecks.claim_due, rechecks.record_results = real_claim, real_record
    split["wall"] = wall
    due = InfringingURL.objects.due_for_check().count()
    checks = URLCheck.objects.count()
    verdicts = URLCheck.objects.values_list("verdict", flat=True)
    note = f"{tally(verdicts)}; {split['batches']} batches; still due {due}"
    if checks != done or checks != len(urls):
        note += f"; !! {checks} URLCheck rows for {done} outcomes"
    connection.close()
    return Row("ours: engine (run_due, SQLite)", checks, wall, cpu, 0, note), split


# ---------------------------------------------------------------------------- LinkChecker


def world_traversable(path: Path) -> bool:
    """Whether user nobody could reach ``path`` (LinkChecker drops to it when run as root)."""
    path = path.resolve()
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents] if p.exists())


def base_python() -> str:
    """An interpreter for LinkChecker's venv whose standard library stays readable after the
    drop to nobody (a pyenv under /root is not)."""
    candidates = [getattr(sys, "_base_executable", sys.executable), sys.executable]
    candidates += [p for p in (shutil.which("python3"), "/usr/bin/python3") if p]
    for exe in candidates:
        try:
            prefix = subprocess.run(
                [exe, "-c", "import sys, venv; print(sys.base_prefix)"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            continue
        if os.geteuid() != 0 or world_traversable(Path(prefix)):
            return exe
    raise SystemExit("no Python with a world-readable standard library for LinkChecker's venv")


def ensure_linkchecker() -> Path:
    exe = LC_VENV / "bin" / "linkchecker"
    if exe.exists():
        out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
        if LC_VERSION in out:
            return exe
    print(f"installing {LINKCHECKER} into {LC_VENV.relative_to(ROOT)} ...", flush=True)
    shutil.rmtree(LC_VENV, ignore_errors=True)
    subprocess.run([base_python(), "-m", "venv", str(LC_VENV)], check=True)
    subprocess.run([LC_VENV / "bin" / "python", "-m", "pip", "install", "-qq", LINKCHECKER], check=True)
    return exe


def bench_linkchecker(exe: Path, urls: list[str], threads: int, rate: float) -> Row:
    workdir = Path(tempfile.mkdtemp(prefix="bench-lc-"))
    try:
        workdir.chmod(0o755)  # LinkChecker running as root reads these as nobody
        page = workdir / "urls.html"
        links = "\n".join(f'<li><a href="{html.escape(u)}">{i}</a></li>' for i, u in enumerate(urls))
        page.write_text(
            f"<!doctype html><html><head><title>urls</title></head><body><ul>\n{links}\n</ul></body></html>"
        )
        config = workdir / "linkcheckerrc"
        config.write_text(f"[checking]\nthreads={threads}\nmaxrequestspersecond={rate}\n")
        for f in (page, config):
            f.chmod(0o644)
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env["HOME"] = str(workdir)
        cmd = [
            str(exe),
            "-f",
            str(config),
            "--threads",
            str(threads),
            "-r",
            "1",
            "--check-extern",
            "--no-status",
            "-o",
            "text",
            page.as_uri(),
        ]
        with open(workdir / "out.txt", "w") as out:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=workdir)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        text = (workdir / "out.txt").read_text(errors="replace")
        # "That's it. 10001 links in 10001 URLs checked. 0 warnings found. 2000 errors found."
        m = re.search(
            r"(\d+) links? in (\d+) URLs? checked\. (\d+) warnings? found\. (\d+) errors? found", text
        )
        if not m:
            print(text[-3000:])
            raise SystemExit(f"LinkChecker gave no summary (exit {proc.returncode})")
        links, _, warnings, errors = map(int, m.groups())
        note = f"{links} links checked (page + URLs), {errors} errors, {warnings} warnings"
        return Row(
            f"LinkChecker {LC_VERSION} best", len(urls), wall, usage.ru_utime + usage.ru_stime, 0, note
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------------------------- main


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1, help="server latency, seconds")
    parser.add_argument("--no-linkchecker", action="store_true", help="skip the peer (quick runs)")
    parser.add_argument("--lc-rate", type=float, default=LC_RATE, help="LinkChecker maxrequestspersecond")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.hosts, args.latency)
        return

    lc_exe = None if args.no_linkchecker else ensure_linkchecker()
    servers, ports = start_servers(args.hosts, args.latency)
    workdir = Path(tempfile.mkdtemp(prefix="bench-recheck-", dir=ROOT / "var"))
    try:
        urls = [f"http://127.0.0.1:{ports[i % len(ports)]}/item/{i}" for i in range(args.urls)]
        removed = sum(1 for i in range(args.urls) if i % REMOVED_EVERY == 0)
        setup_django(ports, workdir)
        from django.conf import settings

        from takedown import rechecks

        config = rechecks.probe_config()
        in_flight = min(config.concurrency, config.per_host * args.hosts)
        bound = in_flight / args.latency
        lc_bound = LC_THREADS / args.latency  # one request in flight per thread

        print(
            f"recheck bench: {args.urls} URLs over {args.hosts} loopback hosts "
            f"(127.0.0.1:{min(ports)}-{max(ports)}), {args.latency * 1000:.0f} ms latency, "
            f"{args.urls - removed} x 200 + {removed} x 404; {os.cpu_count()} CPUs, "
            f"load {os.getloadavg()[0]:.2f}"
        )
        print(
            f"our limits: concurrency {config.concurrency}, per host {config.per_host}, spacing "
            f"{config.per_host_spacing * 1000:.0f} ms, batch {settings.TAKEDOWN_CHECK_BATCH} -> bound "
            f"min({config.concurrency}, {config.per_host}x{args.hosts}) / {args.latency:g} s = {bound:.0f} checks/s"
        )
        print(
            f"soft-404 comparison {'on' if config.soft404 else 'off'} (one random-path request per host "
            f"per run, for hosts without a detector)"
        )
        rows = []
        probe, results = bench_probe(urls, config)
        probe.bound = bound
        rows.append(probe)
        engine, split = bench_engine(urls, config)
        engine.bound = bound
        rows.append(engine)
        peer = None
        if lc_exe:
            print(
                f"LinkChecker: --threads {LC_THREADS}, maxrequestspersecond {args.lc_rate:g} ...", flush=True
            )
            peer = bench_linkchecker(lc_exe, urls, LC_THREADS, args.lc_rate)
            peer.bound = lc_bound
            rows.append(peer)
    finally:
        servers.stdin.close()
        try:
            servers.wait(timeout=10)
        except subprocess.TimeoutExpired:
            servers.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(
        f"{'checker':<34} {'checks':>6} {'wall s':>7} {'checks/s':>9} {'bound':>6} {'ratio':>6} {'CPU ms/check':>13}"
    )
    for r in rows:
        print(
            f"{r.name:<34} {r.checks:>6} {r.wall:>7.2f} {r.rate:>9.1f} {r.bound:>6.0f} "
            f"{r.rate / r.bound:>6.2f} {r.cpu_ms:>13.3f}"
        )
    print()
    for r in rows:
        print(f"  {r.name}: {r.note}")
    print(
        f"  engine: claims + reads + writes {split['db']:.2f} s of {split['wall']:.2f} s wall "
        f"({1000 * split['db'] / max(1, engine.checks):.3f} ms/check), overlapping the probing"
    )
    if peer:
        print(f"  LinkChecker bound: {LC_THREADS} threads / {args.latency:g} s = {lc_bound:.0f} checks/s")
    times = sorted(r.elapsed_ms for _, r in results)
    if times:
        pct = {p: times[min(len(times) - 1, len(times) * p // 100)] for p in (50, 95, 99)}
        print(
            f"  probe response times (server latency {1000 * args.latency:.0f} ms, queueing excluded): "
            f"p50 {pct[50]} ms, p95 {pct[95]} ms, p99 {pct[99]} ms, max {times[-1]} ms"
        )

    print("\ntargets")
    for r in (probe, engine):
        ratio = r.rate / r.bound
        print(
            f"  {r.name:<32} >= {TARGET_BOUND:.0%} of bound: {ratio:6.2f}   {verdict(ratio >= TARGET_BOUND)}"
        )
    if peer:
        for r in (probe, engine):
            x = r.rate / peer.rate
            print(f"  {r.name:<32} >= {TARGET_PEER:g}x LinkChecker: {x:5.1f}x   {verdict(x >= TARGET_PEER)}")
        if TARGET_PEER * peer.rate > bound:
            print(
                f"  note: {TARGET_PEER:g}x LinkChecker is {TARGET_PEER * peer.rate:.0f} checks/s, above the "
                f"{bound:.0f} checks/s that our configured limits allow: unreachable at this setting"
            )


if __name__ == "__main__":
    main()
