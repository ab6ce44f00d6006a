"""Benchmark: bulk import through the HTTP API of a real server, against its floor and its peer.

    python bench/import.py [--rows 100000] [--peer-rows 10000] [--repeat 3] [--seed 1]
                           [--pg postgres://postgres@127.0.0.1:5432/takedown_bench] [--no-sqlite] [--no-pg]

For each database (PostgreSQL, then SQLite) the script creates a database of its own (the
PostgreSQL database named in --pg, dropped and re-created; a temporary SQLite file), migrates
it, and starts gunicorn (one sync worker, DEBUG off) on a loopback port. Then, on the same
table and the same rows, it measures:

- the API: `POST /api/v1/urls/import/` with the rows as JSON, timed from the first byte sent
  to the last byte of the answer (the client encodes the body before the clock starts);
- the floor: the rows the import would insert, prepared beforehand (normalised, matched,
  de-duplicated), written with PostgreSQL's COPY straight into the table (SQLite: one
  executemany INSERT in one transaction, for reference);
- the peer, the common way: a DRF `ModelSerializer(many=True)` endpoint that validates each
  row (artist lookup, normalisation, duplicate check) and saves it with `Model.objects.create`.
  It is served by the same gunicorn process, from a URLconf that exists only in this script,
  and it is slow (~1k rows/s), so it runs on the first --peer-rows rows and its rate is
  reported per second of those.

The table is emptied before each measurement; API and floor take the best of --repeat runs.
Prints a table of rows/s and the ratios (targets: API >= 0.40 x COPY, API >= 20 x peer).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
ARTIST = "bench-artist"
# The fields of the CheckedRow Intake.check returns for a valid row, in this order.
ROW_COLUMNS = (
    "artist_id", "url", "normalized_url", "host", "platform_id", "category", "legal_route", "discovered_at", "note",
)  # fmt: skip


# -- the rows ---------------------------------------------------------------------------------


def make_rows(n: int, seed: int) -> list[dict]:
    sys.path.insert(0, str(BENCH))
    from normalize import _generate  # the same intake-like URL mix as bench/normalize.py

    return [
        {"artist": ARTIST, "url": u, "category": "synthetic_sexual", "legal_route": "platform_policy"}
        for u in _generate(n, seed)
    ]


# -- helper modes, run in subprocesses with DATABASE_URL set ------------------------------------


def _django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "takedown.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def setup_database(database_url: str, rows_file: str, prepared_file: str) -> None:
    """Migrate, load the registry, create the bench agency, artist and API token; prepare rows."""
    _django(database_url)
    from django.core.management import call_command

    from takedown import importing
    from takedown.models import Agency, Artist, User
    from takedown.tokens import token_issue

    call_command("setup", verbosity=0)
    agency = Agency.objects.create(name="Bench Agency", slug="bench")
    Artist.objects.create(agency=agency, name="Bench Artist", slug=ARTIST)
    user = User.objects.create_user(username="bench-api", agency=agency, role="api", password=None)
    token = token_issue(user=user).key

    # The floor's input: exactly what the import inserts, computed here, outside any clock.
    rows = json.loads(Path(rows_file).read_text())
    intake = importing.Intake(agency=agency)
    seen: set[tuple] = set()
    prepared = []
    for index, row in enumerate(rows, start=1):
        result = intake.check(index, row)
        if isinstance(result, importing.RowError):
            continue
        assert result._fields == ROW_COLUMNS
        if (result.artist_id, result.normalized_url) in seen:
            continue
        seen.add((result.artist_id, result.normalized_url))
        values = result._asdict()
        values["discovered_at"] = values["discovered_at"].isoformat()
        prepared.append(values)
    # The import's own per-batch values (agency, source, adder, times, each NOT NULL default):
    # a copy of them here drifted from the import and wrote rows the table refuses.
    constants = importing._constant_columns(
        agency_id=agency.pk, source="api", user_id=user.pk, now=datetime.now(UTC)
    )
    constants = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in constants.items()}
    Path(prepared_file).write_text(json.dumps({"rows": prepared, "constants": constants}))
    print(json.dumps({"token": token}))


_app = None


def application(environ, start_response):
    """The WSGI app gunicorn serves (`import:application`), built on the first request."""
    global _app
    if _app is None:
        _app = _build_application()
    return _app(environ, start_response)


def _build_application():
    """The product's URLs plus the peer endpoint, which exists only here."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "takedown.settings")
    sys.path.insert(0, str(ROOT))
    import types

    import django

    django.setup()
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.db import transaction
    from django.urls import include, path
    from rest_framework import serializers, status
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from takedown.importing import platform_matcher
    from takedown.models import Artist, InfringingURL
    from takedown.urltools import UnsafeURL, normalize_url

    matcher, platforms = platform_matcher()

    class PeerURLSerializer(serializers.ModelSerializer):
        """The common way: field-by-field validation, a duplicate check and a save per row."""

        artist = serializers.SlugRelatedField(slug_field="slug", queryset=Artist.objects.all())

        class Meta:
            model = InfringingURL
            fields = ["artist", "url", "category", "legal_route", "discovered_at", "note"]

        def validate(self, attrs):
            try:
                norm = normalize_url(attrs["url"])
            except UnsafeURL as exc:
                raise serializers.ValidationError({"url": str(exc)}) from None
            if InfringingURL.objects.filter(artist=attrs["artist"], normalized_url=norm.url).exists():
                raise serializers.ValidationError({"url": "Already recorded."})
            slug = matcher.match(norm.host)
            attrs.update(
                normalized_url=norm.url, host=norm.host, platform=platforms.get(slug) if slug else None
            )
            return attrs

    class PeerImportView(APIView):
        permission_classes = [IsAuthenticated]
        throttle_classes: list = []

        def post(self, request):
            serializer = PeerURLSerializer(data=request.data["items"], many=True)
            serializer.is_valid(raise_exception=True)
            with transaction.atomic():
                created = serializer.save(source="api", added_by=request.user)
            return Response({"created": len(created)}, status=status.HTTP_201_CREATED)

    urls = types.ModuleType("takedown_bench_urls")
    urls.urlpatterns = [path("bench/peer/", PeerImportView.as_view()), path("", include("takedown.urls"))]
    sys.modules[urls.__name__] = urls
    settings.ROOT_URLCONF = urls.__name__
    return get_wsgi_application()


# -- the orchestration ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database_url: str, workdir: Path) -> None:
        self.port = free_port()
        self.log = workdir / f"gunicorn-{self.port}.log"
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
            "PYTHONPATH": f"{BENCH}{os.pathsep}{ROOT}",
        }
        self.process = subprocess.Popen(
            [str(Path(PYTHON).parent / "gunicorn"), "import:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1", "--timeout", "900", "--chdir", str(ROOT)],
            env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait(self, token: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log.read_text()}")
            try:
                status, _ = request(self.port, "GET", "/api/v1/platforms/", token)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def request(port: int, method: str, path: str, token: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    headers = {"Authorization": f"Token {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def timed_post(port: int, path: str, token: str, body: bytes) -> tuple[float, dict]:
    start = time.perf_counter()
    status, data = request(port, "POST", path, token, body)
    elapsed = time.perf_counter() - start
    if status not in (200, 201):
        raise SystemExit(f"POST {path} -> {status}: {data[:500]!r}")
    return elapsed, json.loads(data)


class PostgresTable:
    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def empty(self) -> None:
        self.conn.execute("TRUNCATE takedown_infringingurl CASCADE")
        self.conn.execute("VACUUM ANALYZE takedown_infringingurl")

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM takedown_infringingurl").fetchone()[0]

    def floor(self, prepared: dict) -> float:
        """COPY of the prepared rows into the table, committed."""
        columns = [*ROW_COLUMNS, *prepared["constants"]]
        constant = tuple(prepared["constants"].values())
        tuples = [(*(r[c] for c in ROW_COLUMNS), *constant) for r in prepared["rows"]]
        sql = f"COPY takedown_infringingurl ({', '.join(columns)}) FROM STDIN"
        start = time.perf_counter()
        with self.conn.transaction(), self.conn.cursor() as cursor, cursor.copy(sql) as copy:
            for row in tuples:
                copy.write_row(row)
        return time.perf_counter() - start


class SQLiteTable:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=60)

    def empty(self) -> None:
        self.conn.execute("DELETE FROM takedown_infringingurl")

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM takedown_infringingurl").fetchone()[0]

    def floor(self, prepared: dict) -> float:
        """One executemany INSERT of the prepared rows in one transaction (reference only)."""

        def sqlite_value(value):
            # Django's SQLite backend stores aware datetimes as naive UTC text.
            if isinstance(value, str) and len(value) >= 19 and value[10] == "T" and value[4] == "-":
                return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            return value

        columns = [*ROW_COLUMNS, *prepared["constants"]]
        constant = tuple(sqlite_value(v) for v in prepared["constants"].values())
        tuples = [
            (*(sqlite_value(r[c]) if c == "discovered_at" else r[c] for c in ROW_COLUMNS), *constant)
            for r in prepared["rows"]
        ]
        sql = f"INSERT INTO takedown_infringingurl ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        start = time.perf_counter()
        self.conn.execute("BEGIN")
        self.conn.executemany(sql, tuples)
        self.conn.execute("COMMIT")
        return time.perf_counter() - start


def prepare_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run_database(
    label: str, database_url: str, table_factory, rows: list[dict], args, workdir: Path
) -> list[dict]:
    rows_file = workdir / "rows.json"
    prepared_file = workdir / f"prepared-{label}.json"
    rows_file.write_text(json.dumps(rows))
    out = subprocess.run(
        [PYTHON, __file__, "--setup", database_url, str(rows_file), str(prepared_file)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    token = json.loads(out.stdout.strip().splitlines()[-1])["token"]
    prepared = json.loads(prepared_file.read_text())
    distinct = len(prepared["rows"])
    table = table_factory()
    body = json.dumps({"items": rows}).encode()
    peer_rows = rows[: args.peer_rows]
    peer_body = json.dumps({"items": peer_rows}).encode()

    server = Server(database_url, workdir)
    try:
        server.wait(token)
        results = []
        best = None
        for _ in range(args.repeat):
            table.empty()
            elapsed, answer = timed_post(server.port, "/api/v1/urls/import/", token, body)
            assert answer["created"] == distinct and table.count() == distinct, (answer, distinct)
            best = elapsed if best is None else min(best, elapsed)
        results.append({"db": label, "method": "api", "rows": len(rows), "seconds": best})

        best = None
        for _ in range(args.repeat):
            table.empty()
            elapsed = table.floor(prepared)
            assert table.count() == distinct
            best = elapsed if best is None else min(best, elapsed)
        results.append({"db": label, "method": "floor", "rows": distinct, "seconds": best})

        table.empty()
        elapsed, answer = timed_post(server.port, "/bench/peer/", token, peer_body)
        assert answer["created"] == len(peer_rows) == table.count(), answer
        results.append({"db": label, "method": "peer", "rows": len(peer_rows), "seconds": elapsed})
        table.empty()
        return results
    finally:
        server.stop()


NAMES = {
    ("PostgreSQL", "floor"): "COPY of the prepared rows (floor)",
    ("SQLite", "floor"): "executemany INSERT of the prepared rows",
    ("PostgreSQL", "api"): "API: POST /api/v1/urls/import/, end to end",
    ("SQLite", "api"): "API: POST /api/v1/urls/import/, end to end",
    ("PostgreSQL", "peer"): "DRF ModelSerializer(many=True), row by row",
    ("SQLite", "peer"): "DRF ModelSerializer(many=True), row by row",
}


def report(results: list[dict], args) -> None:
    print()
    print(f"{'database':<11} {'method':<58} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'API ×':>7}")
    print("-" * 106)
    for db in ("PostgreSQL", "SQLite"):
        mine = {r["method"]: r for r in results if r["db"] == db}
        if not mine:
            continue
        api_rate = mine["api"]["rows"] / mine["api"]["seconds"]
        for method in ("floor", "api", "peer"):
            r = mine[method]
            rate = r["rows"] / r["seconds"]
            times = "" if method == "api" else f"{api_rate / rate:.2f}"
            note = f", {r['rows']:,}-row sample" if method == "peer" else ""
            print(
                f"{db:<11} {NAMES[db, method] + note:<58} {r['rows']:>8} {r['seconds']:>8.2f} {rate:>9,.0f} {times:>7}"
            )
    print()
    print("'API ×' = API rows/s divided by that row's rows/s. The floor counts the distinct rows it writes;")
    print(f"the peer ran on the first {args.peer_rows} rows (it is ~100x slower).")
    pg = {r["method"]: r["rows"] / r["seconds"] for r in results if r["db"] == "PostgreSQL"}
    if pg:
        vs_copy, vs_peer = pg["api"] / pg["floor"], pg["api"] / pg["peer"]
        print(f"PostgreSQL: API = {vs_copy:.2f} x COPY (target >= 0.40: {'met' if vs_copy >= 0.40 else 'MISSED'}), "
              f"{vs_peer:.0f} x the common way (target >= 20: {'met' if vs_peer >= 20 else 'MISSED'})")  # fmt: skip
    lite = {r["method"]: r["rows"] / r["seconds"] for r in results if r["db"] == "SQLite"}
    if lite:
        print(f"SQLite:     API = {lite['api'] / lite['floor']:.2f} x executemany INSERT, "
              f"{lite['api'] / lite['peer']:.0f} x the common way")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--peer-rows", type=int, default=10_000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the API and the floor; the best is kept"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/takedown_bench")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)

    rows = make_rows(args.rows, args.seed)
    print(f"{len(rows)} rows ({len({r['url'] for r in rows})} distinct URLs), seed {args.seed}; "
          f"API and floor best of {args.repeat}; peer on {args.peer_rows} rows")  # fmt: skip
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="takedown-bench-") as tmp:
        workdir = Path(tmp)
        if not args.no_pg:
            prepare_postgres(args.pg)
            results += run_database(
                "PostgreSQL", args.pg, lambda: PostgresTable(args.pg), rows, args, workdir
            )
        if not args.no_sqlite:
            path = workdir / "bench.sqlite3"
            results += run_database(
                "SQLite", f"sqlite:///{path}", lambda: SQLiteTable(path), rows, args, workdir
            )
    report(results, args)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--setup":
        setup_database(*sys.argv[2:5])
    else:
        main()
