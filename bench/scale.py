"""Benchmark: the read side's cost from 10 thousand to 1 (or 10) million URLs on PostgreSQL.

    python bench/scale.py [--sizes 10000,100000,1000000] [--with-10m] [--repeat 5]
                          [--import-rows 100000] [--no-import]
                          [--pg postgres://postgres@127.0.0.1:5432/takedown_scale]

The database named in --pg is dropped and re-created, migrated and set up (`manage.py setup`:
platforms, planner statistics) with 3 agencies of 10 artists each. First the import: --import-rows
URLs posted through `POST /api/v1/urls/import/` (JSON, in 50,000-row bodies, through Django's
test client in this process) against a raw COPY of the same rows into a lean table with the
same columns, a primary key and the unique (artist, normalised URL) constraint only; a raw COPY
of them into the URL table itself is printed too (what its indexes, foreign keys and trigger
cost, with no Python); then the table is emptied. Then for each size the URL table is grown to that size with COPY (realistic
distributions below), the rollup is brought up to date (`rollups.refresh`, timed), the tables
are vacuumed and analyzed, and each page is requested --repeat times (after one warm-up) as the
largest agency's manager, signed in with a verified second factor: the median time and the
query count are printed (the URL list's "last page" is its deepest full page: 100 rows at
every size). At the end each page's ratio of its largest size to its smallest, a
PASS/MISS per target, and one summary line; the exit status is 1 when a target is missed.

Data (seeded): agencies hold 60 / 30 / 10 % of the URLs; artists and platforms (the registry's
15 plus unmatched hosts) follow Zipf-like weights; discovery times are spread over two years,
denser lately; 12 % open, 4 % dismissed, 12 % notified and still live (a third of them overdue),
60 % removed (time to removal log-normal, median ~20 h), the rest blocked, soft-removed or
restricted; 5 % carry a note; each URL ends with a random 10-character id.

Targets (issue 13): every page at the largest size within 1.5x of its time at the smallest and
under 300 ms, searches under 150 ms; the same query count at every size; the API import at
least 0.5x the lean COPY.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import secrets
import statistics
import string
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
TABLE = "takedown_infringingurl"
SEARCH_TARGET_MS = 150
PAGE_TARGET_MS = 300
RATIO_TARGET = 1.5
IMPORT_TARGET = 0.5
BODY_ROWS = 50_000


def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    base = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    subprocess.run(["dropdb", *base, "--if-exists", name], check=True)
    subprocess.run(["createdb", *base, name], check=True)


def configure(url: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "0",
            "TAKEDOWN_API_RATE": "1000000/min",
            "TAKEDOWN_API_IMPORT_RATE": "1000000/min",
            "TAKEDOWN_VAR_DIR": str(ROOT / "var" / "bench-scale"),
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "takedown.settings",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()


# -- data -------------------------------------------------------------------------------------


def zipf(n: int, s: float = 1.1) -> list[float]:
    return [1 / (k + 1) ** s for k in range(n)]


class World:
    """The agencies, artists, platforms and the generator of URL rows."""

    def __init__(self, seed: int) -> None:
        from django.utils import timezone

        from takedown.choices import LegalRoute
        from takedown.models import Agency, Artist, Platform

        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.agencies = []
        self.artists: list[list] = []
        for i, share in enumerate((0.6, 0.3, 0.1)):
            agency = Agency.objects.create(
                name=f"Bench Agency {i}", slug=f"bench-{i}", email=f"legal{i}@bench.example",
                signatory_name="Bench Signatory",
            )  # fmt: skip
            self.agencies.append((agency, share))
            self.artists.append(
                [
                    Artist.objects.create(agency=agency, name=f"Bench Artist {i}-{k}", slug=f"artist-{i}-{k}")
                    for k in range(10)
                ]
            )
        self.platforms = list(Platform.objects.order_by("pk"))
        self.platform_weights = zipf(len(self.platforms) + 1)
        self.routes = [LegalRoute.PLATFORM_POLICY, LegalRoute.DSA, LegalRoute.DMCA, LegalRoute.KR_NETWORK]
        self.route_weights = [0.55, 0.2, 0.15, 0.1]
        self.serial = 0

    def columns(self) -> list[str]:
        from takedown.models import InfringingURL

        return [f.column for f in InfringingURL._meta.concrete_fields if not f.primary_key]

    def rows(self, count: int):
        """COPY rows in the column order of `columns()`."""
        from takedown.models import InfringingURL

        rng = self.rng
        fields = [f for f in InfringingURL._meta.concrete_fields if not f.primary_key]
        defaults = {f.attname: (None if f.null else f.get_default()) for f in fields}
        agency_weights = [share for _, share in self.agencies]
        platform_choices = [*self.platforms, None]
        statuses = [
            "open",
            "dismissed",
            "notified",
            "removed",
            "legally_blocked",
            "soft_removed",
            "restricted",
        ]
        status_weights = [0.12, 0.04, 0.12, 0.60, 0.04, 0.04, 0.04]
        alphabet = string.ascii_lowercase + string.digits
        span = 730 * 86400
        for _ in range(count):
            self.serial += 1
            a = rng.choices(range(3), agency_weights)[0]
            agency = self.agencies[a][0]
            artist = rng.choices(self.artists[a], zipf(10))[0]
            platform = rng.choices(platform_choices, self.platform_weights)[0]
            host = platform.hosts[0] if platform else f"site{rng.randrange(500)}.example"
            ident = "".join(rng.choices(alphabet, k=10))
            url = f"https://{host}/v/{ident}{self.serial}"
            # Denser lately: the square root of a uniform draw leans to the recent end.
            discovered = self.now - timedelta(seconds=span * (1 - math.sqrt(rng.random())) + 60)
            status = rng.choices(statuses, status_weights)[0]
            row = dict(defaults)
            notified = removed = overdue = deadline = None
            if status not in ("open", "dismissed"):
                notified = discovered + timedelta(seconds=rng.expovariate(1 / 86400))
                deadline = notified + timedelta(hours=48)
                if status == "notified" and rng.random() < 0.33:
                    overdue = deadline
                if status in ("removed", "legally_blocked", "soft_removed"):
                    removed = notified + timedelta(seconds=min(rng.lognormvariate(math.log(72000), 1.3), 3e7))
            row.update(
                agency_id=agency.pk, artist_id=artist.pk, url=url, normalized_url=url, host=host,
                platform_id=platform.pk if platform else None, category="synthetic_sexual",
                legal_route=rng.choices(self.routes, self.route_weights)[0], status=status,
                discovered_at=discovered, source="api", created_at=discovered, updated_at=discovered,
                notified_at=notified, deadline_at=deadline, overdue_since=overdue, removed_at=removed,
                note=f"reported by fan portal ticket {ident[:6]}" if rng.random() < 0.05 else "",
                reupload_count=1 if status == "open" and rng.random() < 0.05 else 0,
                streak_count=0, check_claim="", last_verdict="", streak_verdict="", escalation="",
                notice_facts="",
            )  # fmt: skip
            yield tuple(row[f.attname] for f in fields)


# Growing the table by more than this many rows drops its secondary indexes and foreign keys,
# COPYs, and builds them again: the way a large table is loaded, and at 10M rows hours faster
# than maintaining a trigram index row by row. The tables the pages read end up the same.
BULK_ROWS = 2_000_000


def copy_rows(world: World, count: int, bulk_rows: int = BULK_ROWS) -> None:
    from django.db import connection, transaction

    cols = ", ".join(world.columns())
    with transaction.atomic(), connection.cursor() as cursor:
        rebuild = _drop_secondary(cursor) if count > bulk_rows else []
        with cursor.cursor.copy(f"COPY {TABLE} ({cols}) FROM STDIN") as copy:
            for row in world.rows(count):
                copy.write_row(row)
        if rebuild:
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for statement in rebuild:
                cursor.execute(statement)


def _drop_secondary(cursor) -> list[str]:
    """Drop the URL table's indexes (but its primary key and unique key) and foreign keys;
    return the statements that build them again."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    keys = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass"
        " AND c.contype IN ('p', 'u'))",
        [TABLE],
    )
    indexes = cursor.fetchall()
    for name, _ in keys:
        cursor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}' for name, definition in keys
    ]


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            TABLE,
            "takedown_removalrollup",
            "takedown_artist",
            "takedown_agency",
            "takedown_platform",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


# -- the import ----------------------------------------------------------------------------------


def bench_import(world: World, rows: int) -> dict:
    """The API import of `rows` URLs against a COPY of the same rows into a lean table."""
    from django.db import connection, transaction
    from django.test import Client

    from takedown.models import User
    from takedown.tokens import token_issue

    api_user = User.objects.create_user(
        username="bench-api", agency=world.agencies[0][0], role="api", password=None
    )
    client = Client(HTTP_AUTHORIZATION=f"Token {token_issue(user=api_user).key}")

    artist = world.artists[0][0]
    rng = random.Random(7)
    bodies = []
    for start in range(0, rows, BODY_ROWS):
        bodies.append(
            json.dumps(
                {
                    "items": [
                        {
                            "artist": artist.slug,
                            "category": "synthetic_sexual",
                            "url": f"https://x.com/user{rng.randrange(10**6)}/status/{10**12 + start + k}",
                        }
                        for k in range(min(BODY_ROWS, rows - start))
                    ],
                }
            )
        )
    _empty_url_table()  # each of the three writes starts from an empty table and a checkpoint
    started = time.perf_counter()
    created = 0
    for body in bodies:
        response = client.post("/api/v1/urls/import/", body, content_type="application/json", secure=True)
        assert response.status_code in (200, 201), (response.status_code, response.content[:300])
        created += response.json()["created"]
    api_seconds = time.perf_counter() - started
    stored = _stored_rows(artist.pk)  # the rows the import wrote, as COPY will write them
    cols = world.columns()
    copy_sql = f"({', '.join(cols)}) FROM STDIN"
    # The same rows by COPY into the URL table itself, emptied first as it was for the API:
    # its indexes, foreign keys (checked at commit) and rollup trigger, with no Python at all.
    # What the schema costs is this figure against the lean one; what the import adds on top
    # of the schema is the API's against this one.
    _empty_url_table()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {TABLE} {copy_sql}") as copy:
            for row in stored:
                copy.write_row(row)
    table_seconds = time.perf_counter() - started
    _empty_url_table()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_lean (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY)")
        cursor.execute("ALTER TABLE bench_lean ADD PRIMARY KEY (id)")
        cursor.execute(
            "ALTER TABLE bench_lean ADD CONSTRAINT bench_lean_unique UNIQUE (artist_id, normalized_url)"
        )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY bench_lean {copy_sql}") as copy:
            for row in stored:
                copy.write_row(row)
    copy_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_lean")
    return {
        "rows": rows,
        "created": created,
        "api_rows_s": rows / api_seconds,
        "table_copy_rows_s": len(stored) / table_seconds,
        "copy_rows_s": len(stored) / copy_seconds,
        "ratio": (rows / api_seconds) / (len(stored) / copy_seconds),
    }


def _empty_url_table() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE} CASCADE")
        cursor.execute("TRUNCATE takedown_rollupchange, takedown_removalrollup")
        cursor.execute("CHECKPOINT")  # the API's rows are not flushed on the next COPY's clock


def _stored_rows(artist_id: int) -> list[tuple]:
    from takedown.models import InfringingURL

    fields = [f.attname for f in InfringingURL._meta.concrete_fields if not f.primary_key]
    return list(InfringingURL.objects.filter(artist_id=artist_id).order_by().values_list(*fields))


# -- the pages -----------------------------------------------------------------------------------


def sign_in(agency):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from takedown.models import User

    user = User.objects.create_user(username=f"manager-{agency.slug}", agency=agency, role="manager",
                                    is_staff=True, password=None)  # fmt: skip
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def search_term(agency) -> str:
    """A fragment of one stored URL's random id: a handful of matches, as a person searching has."""
    from takedown.models import InfringingURL

    url = (
        InfringingURL.objects.filter(agency=agency)
        .order_by("-id")
        .values_list("normalized_url", flat=True)[:1][0]
    )
    return url.rsplit("/", 1)[1][:8]


def pages(agency) -> dict[str, str]:
    from django.urls import reverse

    term = search_term(agency)
    changelist = reverse("admin:takedown_infringingurl_changelist")
    return {
        "admin home": reverse("admin:index"),
        "api stats": "/api/v1/stats/",
        "admin dashboard": reverse("admin:dashboard"),
        "admin URL list": changelist,
        "admin URL list, last page": changelist + "?p=LAST",
        "admin URL search": f"{changelist}?q={term}",
        "API list ?q=": f"/api/v1/urls/?q={term}",
    }


def measure(client, path: str, repeat: int) -> tuple[float, int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    if "LAST" in path:
        # The deepest full page: the last page of a small list holds a few rows, and would
        # compare a short page's rendering with a full one's, not the cost of going deep.
        paginator = client.get(path.split("?")[0], secure=True).context["cl"].paginator
        last = paginator.num_pages
        if last > 1 and len(paginator.page(last)) < paginator.per_page:
            last -= 1
        path = path.replace("LAST", str(last))
    response = client.get(path, secure=True)  # warm-up
    assert response.status_code == 200, (path, response.status_code)
    times = []
    queries = 0
    for _ in range(repeat):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path, secure=True)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
        queries = len(captured.captured_queries)
    return statistics.median(times) * 1000, queries


# -- main ------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--with-10m", action="store_true", help="add 10,000,000 URLs (hours, ~15 GB)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--no-import", action="store_true")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--bulk-rows", type=int, default=BULK_ROWS,
        help="a growth step of more rows than this rebuilds the indexes instead of maintaining them",
    )  # fmt: skip
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/takedown_scale")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if args.with_10m:
        sizes = sorted({*sizes, 10_000_000})

    recreate_database(args.pg)
    configure(args.pg)
    from django.core.management import call_command

    from takedown import rollups

    call_command("setup", verbosity=0, stdout=io.StringIO())
    world = World(args.seed)
    agency = world.agencies[0][0]
    client = sign_in(agency)
    failures: list[str] = []

    if not args.no_import:
        result = bench_import(world, args.import_rows)
        ok = result["ratio"] >= IMPORT_TARGET
        print(
            f"import {result['rows']:,} URLs: API {result['api_rows_s']:,.0f} rows/s, lean COPY "
            f"{result['copy_rows_s']:,.0f} rows/s, ratio {result['ratio']:.2f} "
            f"({'PASS' if ok else 'MISS'} >= {IMPORT_TARGET}); COPY into the URL table "
            f"{result['table_copy_rows_s']:,.0f} rows/s ({result['table_copy_rows_s'] / result['copy_rows_s']:.2f} "
            f"of the lean COPY, the API {result['api_rows_s'] / result['table_copy_rows_s']:.2f} of it)",
            flush=True,
        )
        if not ok:
            failures.append("import")

    results: dict[str, dict[int, tuple[float, int]]] = {}
    loaded = 0
    for size in sizes:
        started = time.perf_counter()
        copy_rows(world, size - loaded, args.bulk_rows)
        loaded = size
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        cells = rollups.refresh()
        refresh_s = time.perf_counter() - started
        vacuum_analyze()
        print(
            f"\n{size:,} URLs: loaded in {load_s:.1f} s; rollup caught up in {refresh_s:.1f} s ({cells:,} cells)"
        )
        print(f"  {'page':<28} {'ms':>8} {'queries':>8}", flush=True)
        for name, path in pages(agency).items():
            ms, queries = measure(client, path, args.repeat)
            results.setdefault(name, {})[size] = (ms, queries)
            print(f"  {name:<28} {ms:8.1f} {queries:8d}", flush=True)

    smallest, largest = sizes[0], sizes[-1]
    print(f"\n{'page':<28} " + " ".join(f"{s:>10,}" for s in sizes) + f" {'ratio':>7}  verdict")
    worst = 0.0
    for name, by_size in results.items():
        ratio = by_size[largest][0] / by_size[smallest][0]
        worst = max(worst, ratio)
        limit = SEARCH_TARGET_MS if "q=" in name or "search" in name else PAGE_TARGET_MS
        counts = {q for _, q in by_size.values()}
        problems = []
        if ratio > RATIO_TARGET:
            problems.append(f"ratio > {RATIO_TARGET}")
        if by_size[largest][0] > limit:
            problems.append(f"> {limit} ms")
        if len(counts) > 1:
            problems.append("query count varies")
        if problems:
            failures.append(name)
        print(
            f"{name:<28} "
            + " ".join(f"{by_size[s][0]:10.1f}" for s in sizes)
            + f" {ratio:7.2f}  "
            + ("PASS" if not problems else "MISS: " + ", ".join(problems))
        )
    print(
        f"\nsummary: {len(results) - len([f for f in failures if f != 'import'])}/{len(results)} pages within "
        f"target, worst ratio {worst:.2f} ({largest:,} vs {smallest:,} URLs)"
        + ("" if args.no_import else f", import {'PASS' if 'import' not in failures else 'MISS'}")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
