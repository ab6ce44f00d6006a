"""Benchmark: concurrent, overlapping API imports through gunicorn on PostgreSQL, against COPY.

    python bench/load.py [--duration 60] [--clients 32] [--min-rows 2000] [--max-rows 50000]
                         [--pool 100000] [--bodies 48] [--web-workers N] [--seed 1]
                         [--pg postgres://postgres@127.0.0.1:5432/takedown_load]

The PostgreSQL database named in --pg is dropped and re-created, migrated, and given one
agency, artist and API token. gunicorn serves the project as `make serve` does (its
gunicorn.conf.py; DEBUG off, throttles lifted) on a loopback port. Before the clock starts
the script builds --bodies JSON bodies of 2,000-50,000 rows each (sizes uniform in
[--min-rows, --max-rows]), every body a random sample of one pool of --pool URLs (the
intake-like mix of bench/normalize.py), so that bodies overlap. Then --clients threads post
them in turn to `POST /api/v1/urls/import/` for --duration seconds; a request in flight at
the end is waited for.

Printed: requests by status (5xx must be 0), duplicate rows in the table (must be 0: the
unique key is checked again with a GROUP BY), rows/s (rows the server read, validated and
stored or counted as duplicates, over the wall time of the run), latency p50/p95/max, and
the baseline measured in the same run: the rows now in the table, copied out, the table
emptied, and COPY'd back in one transaction (the floor of writing them); the ratio is the
load's rows/s to COPY's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
ARTIST = "load-artist"
TABLE = "takedown_infringingurl"


def setup_database(database_url: str) -> None:
    """Subprocess mode: migrate, create the agency, artist and an API token; print the token."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "takedown.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from takedown.models import Agency, Artist, User
    from takedown.tokens import token_issue

    call_command("setup", verbosity=0)
    agency = Agency.objects.create(name="Load Agency", slug="load")
    Artist.objects.create(agency=agency, name="Load Artist", slug=ARTIST)
    user = User.objects.create_user(username="load-api", agency=agency, role="api", password=None)
    print(json.dumps({"token": token_issue(user=user).key}))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with the project's gunicorn.conf.py, as `make serve` runs it."""

    def __init__(self, database_url: str, workdir: Path, workers: int | None) -> None:
        self.port = free_port()
        self.log = workdir / "gunicorn.log"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "TAKEDOWN_VAR_DIR": str(workdir / "var"),
            "TAKEDOWN_API_RATE": "1000000/min",
            "TAKEDOWN_API_IMPORT_RATE": "1000000/min",
            "LOG_LEVEL": "WARNING",
            "WEB_BIND": f"127.0.0.1:{self.port}",
            "WEB_LOG_LEVEL": "warning",
        }
        if workers:
            env["WEB_WORKERS"] = str(workers)
        self.process = subprocess.Popen(
            [str(Path(PYTHON).parent / "gunicorn"), "--config", "gunicorn.conf.py", "--access-logfile", "/dev/null"],
            cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait(self, token: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log.read_text()}")
            try:
                if request(self.port, "GET", "/api/v1/platforms/", token)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def request(port: int, method: str, path: str, token: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Authorization": f"Token {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def make_bodies(args) -> list[tuple[int, bytes]]:
    sys.path.insert(0, str(BENCH))
    from normalize import _generate  # the intake-like URL mix of bench/normalize.py

    pool = _generate(args.pool, args.seed)
    rng = random.Random(args.seed)
    bodies = []
    for _ in range(args.bodies):
        n = rng.randint(args.min_rows, args.max_rows)
        items = [{"artist": ARTIST, "url": u, "category": "synthetic_sexual"} for u in rng.sample(pool, n)]
        bodies.append((n, json.dumps({"items": items}).encode()))
    return bodies


def run_load(port: int, token: str, bodies: list[tuple[int, bytes]], args) -> tuple[list[dict], float]:
    results: list[dict] = []
    lock = threading.Lock()
    start = time.perf_counter()
    stop_at = start + args.duration
    turn = iter(range(10**9))

    def client() -> None:
        while time.perf_counter() < stop_at:
            with lock:
                rows, body = bodies[next(turn) % len(bodies)]
            sent = time.perf_counter()
            try:
                status, data = request(port, "POST", "/api/v1/urls/import/", token, body)
            except OSError as exc:
                status, data = 0, str(exc).encode()
            answer: dict = {}
            try:
                answer = json.loads(data) if data else {}
            except ValueError:
                pass
            with lock:
                results.append(
                    {"status": status, "rows": rows, "seconds": time.perf_counter() - sent, "answer": answer}
                )

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - start


def table_checks(url: str) -> tuple[int, int]:
    """(rows in the table, rows beyond one per artist and normalised URL)."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
        extra = conn.execute(
            f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {TABLE} "
            "GROUP BY artist_id, normalized_url HAVING count(*) > 1) d"
        ).fetchone()[0]
    return rows, int(extra)


def copy_baseline(url: str) -> tuple[int, float]:
    """The stored rows copied out, the table emptied and the rows COPY'd back: (rows, seconds)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        buffer = bytearray()
        with conn.cursor().copy(f"COPY {TABLE} TO STDOUT") as copy:
            for chunk in copy:
                buffer += chunk
        rows = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
        conn.execute(f"TRUNCATE {TABLE} CASCADE")
        conn.execute(f"VACUUM ANALYZE {TABLE}")
        start = time.perf_counter()
        with conn.transaction(), conn.cursor().copy(f"COPY {TABLE} FROM STDIN") as copy:
            view = memoryview(buffer)
            for i in range(0, len(view), 1 << 20):
                copy.write(view[i : i + (1 << 20)])
        return rows, time.perf_counter() - start


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def report(
    results: list[dict], wall: float, table_rows: int, extra: int, baseline: tuple[int, float], args
) -> bool:
    by_status: dict[int, int] = {}
    for r in results:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    ok = [r for r in results if r["status"] in (200, 201)]
    processed = sum(r["answer"].get("created", 0) + r["answer"].get("duplicates", 0) for r in ok)
    created = sum(r["answer"].get("created", 0) for r in ok)
    rejected = sum(r["answer"].get("rejected", 0) for r in ok)
    server_errors = sum(n for status, n in by_status.items() if status >= 500 or status == 0)
    latencies = [r["seconds"] for r in results]
    rate = processed / wall
    copy_rows, copy_seconds = baseline
    copy_rate = copy_rows / copy_seconds

    print()
    print(f"{args.clients} clients for {args.duration:g} s (last answer after {wall:.1f} s); "
          f"bodies of {args.min_rows:,}-{args.max_rows:,} rows from a pool of {args.pool:,} URLs")  # fmt: skip
    print(f"requests: {len(results)}  by status: {dict(sorted(by_status.items()))}")
    print(f"5xx (or no answer): {server_errors}")
    print(f"rows sent {sum(r['rows'] for r in results):,}; answered: created {created:,}, "
          f"duplicates {processed - created:,}, rejected {rejected:,}")  # fmt: skip
    print(f"table: {table_rows:,} rows (created reported: {created:,}); duplicate rows: {extra}")
    print(f"throughput: {rate:,.0f} rows/s (created + duplicates over the wall time)")
    print(f"latency: p50 {statistics.median(latencies):.2f} s, p95 {percentile(latencies, 95):.2f} s, "
          f"max {max(latencies):.2f} s")  # fmt: skip
    print(f"baseline: COPY of the {copy_rows:,} stored rows into the same table: {copy_rate:,.0f} rows/s")
    print(f"ratio: load / COPY = {rate / copy_rate:.2f}")
    passed = server_errors == 0 and extra == 0 and table_rows == created
    print("PASS" if passed else "FAIL", "(0 5xx, 0 duplicate rows, every created row in the table)")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--min-rows", type=int, default=2000)
    parser.add_argument("--max-rows", type=int, default=50_000)
    parser.add_argument("--pool", type=int, default=100_000, help="distinct URLs the bodies are drawn from")
    parser.add_argument("--bodies", type=int, default=48, help="distinct bodies, posted in turn")
    parser.add_argument(
        "--web-workers", type=int, default=None, help="gunicorn workers (default: its config's)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/takedown_load")
    args = parser.parse_args(argv)
    if not 0 < args.min_rows <= args.max_rows <= args.pool:
        parser.error("need 0 < --min-rows <= --max-rows <= --pool")

    recreate_database(args.pg)
    out = subprocess.run(
        [PYTHON, __file__, "--setup", args.pg], check=True, capture_output=True, text=True, cwd=ROOT
    )
    token = json.loads(out.stdout.strip().splitlines()[-1])["token"]
    print(f"building {args.bodies} bodies ...", flush=True)
    bodies = make_bodies(args)
    with tempfile.TemporaryDirectory(prefix="takedown-load-") as tmp:
        server = Server(args.pg, Path(tmp), args.web_workers)
        try:
            server.wait(token)
            print(f"load: {args.clients} clients, {args.duration:g} s ...", flush=True)
            results, wall = run_load(server.port, token, bodies, args)
        finally:
            server.stop()
    table_rows, extra = table_checks(args.pg)
    baseline = copy_baseline(args.pg)
    return 0 if report(results, wall, table_rows, extra, baseline, args) else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--setup":
        setup_database(sys.argv[2])
    else:
        sys.exit(main())
