"""Benchmark: what each part of the URL table costs an import, with no Python in the way.

    python bench/url_table_cost.py [--rows 100000] [--repeat 2]
                                   [--pg postgres://postgres@127.0.0.1:5432/takedown_table_cost]

The database named in --pg is dropped, re-created and migrated. --rows import-like rows (one
artist, URLs on one platform, no note, no links: what the API import stores) are prepared in a
plain table; then each variant below is timed as one `INSERT … SELECT` of them into the
emptied URL table, its deferred foreign-key checks included (`SET CONSTRAINTS ALL
IMMEDIATE`), inside a transaction that is rolled back, so every variant starts from the same
schema. The baseline, in the same run, is the same insert into a table with the same columns
and only the primary key and the unique (artist, normalised URL) key: the denominator of issue
13's import target. Prints each variant's best time and its ratio to the baseline.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from scale import configure, recreate_database

TABLE = "takedown_infringingurl"
# What the read side's targets need: the list order within an agency, the URL's trigram index
# (search), and the unique key (de-duplication).
READ_NEEDS = {f"{TABLE}_pkey", "url_unique_per_artist", "url_agency_recent", "url_search_url"}


def prepare(cursor, rows: int) -> None:
    from django.utils import timezone

    from takedown.models import Agency, Artist, Platform

    agency = Agency.objects.create(
        name="Cost Agency", slug="cost", email="legal@cost.example", signatory_name="Cost Signatory"
    )
    artist = Artist.objects.create(agency=agency, name="Cost Artist", slug="cost-artist")
    platform = Platform.objects.get(slug="x")
    now = timezone.now()
    cursor.execute(f"CREATE TABLE bench_rows AS SELECT * FROM {TABLE} WITH NO DATA")
    cursor.execute(
        """INSERT INTO bench_rows (id, artist_id, agency_id, url, normalized_url, host, platform_id,
                category, legal_route, status, discovered_at, source, note, notice_facts, created_at,
                updated_at, next_check_at, check_claim, last_verdict, streak_verdict, streak_count,
                reupload_count, escalation)
            SELECT nextval(pg_get_serial_sequence(%s, 'id')), %s, %s, u, u, 'x.com', %s,
                'synthetic_sexual', 'platform_policy', 'open', %s, 'api', '', '', %s, %s, %s, '',
                '', '', 0, 0, ''
            FROM (SELECT 'https://x.com/i/status/' || (10^12 + g)::bigint AS u
                  FROM generate_series(1, %s) g) s""",
        [TABLE, artist.pk, agency.pk, platform.pk, now, now, now, now, rows],
    )
    cursor.execute("CREATE TABLE bench_lean (LIKE bench_rows)")
    cursor.execute("ALTER TABLE bench_lean ADD PRIMARY KEY (id)")
    cursor.execute("ALTER TABLE bench_lean ADD UNIQUE (artist_id, normalized_url)")


def variants(cursor) -> dict[str, list[str]]:
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'", [TABLE]
    )
    keys = [f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"' for (name,) in cursor.fetchall()]
    cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [TABLE])
    extra = [f'DROP INDEX "{name}"' for (name,) in cursor.fetchall() if name not in READ_NEEDS]
    return {
        "the URL table as it is": [],
        "only the indexes the read side needs": extra,
        "the same, without foreign keys": extra + keys,
        "the same, without the trigram index and the rollup trigger": [
            *extra,
            *keys,
            "DROP INDEX url_search_url",
            f"DROP TRIGGER takedown_url_rollup_insert ON {TABLE}",
        ],
    }


def timed(cursor, setup: list[str], target: str) -> float:
    from django.db import connection

    cursor.execute(f"TRUNCATE {TABLE}, bench_lean CASCADE")
    cursor.execute("CHECKPOINT")
    connection.set_autocommit(False)
    try:
        for statement in setup:
            cursor.execute(statement)
        started = time.perf_counter()
        cursor.execute(f"INSERT INTO {target} SELECT * FROM bench_rows")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return time.perf_counter() - started
    finally:
        connection.rollback()
        connection.set_autocommit(True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/takedown_table_cost")
    args = parser.parse_args()
    recreate_database(args.pg)
    configure(args.pg)
    from django.core.management import call_command
    from django.db import connection

    call_command("setup", verbosity=0, stdout=io.StringIO())
    with connection.cursor() as cursor:
        prepare(cursor, args.rows)
        lean = min(timed(cursor, [], "bench_lean") for _ in range(args.repeat))
        print(f"{args.rows:,} rows; a table with only the primary and unique keys: {lean:.2f} s")
        print(f"  {'URL table':<62} {'s':>6} {'of lean':>8}")
        for name, setup in variants(cursor).items():
            times = [timed(cursor, setup, TABLE) for _ in range(args.repeat)]
            best = min(times)
            spread = f" (median {statistics.median(times):.2f})" if args.repeat > 2 else ""
            print(f"  {name:<62} {best:6.2f} {lean / best:8.3f}{spread}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
