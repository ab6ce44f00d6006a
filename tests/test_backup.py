"""Backup and restore as the README says: `pg_dump -Fc` of a database holding frozen notices,
`pg_restore` into a fresh database, and every notice's PDF intact (its SHA-256) with every table's
row count equal. PostgreSQL only: the real pg_dump and pg_restore binaries are run."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

from takedown import notices
from tests.notices_setup import approve, import_urls

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump sees committed rows only

ROOT = Path(__file__).resolve().parent.parent
# The README's check after a restore: the number of frozen PDFs that no longer match their hash.
PDF_CHECK = (
    "SELECT count(*) FROM takedown_notice WHERE pdf IS NOT NULL AND encode(sha256(pdf), 'hex') <> pdf_sha256"
)


def _database_url(name: str) -> str:
    s = connection.settings_dict
    credentials = quote(s["USER"] or "", safe="") + (
        ":" + quote(s["PASSWORD"], safe="") if s["PASSWORD"] else ""
    )
    host = f"{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{name}" if credentials else f"postgres://{host}/{name}"


@pytest.fixture
def postgres_tools():
    if connection.vendor != "postgresql":
        pytest.skip(
            "backup and restore are tested on PostgreSQL: set DATABASE_URL=postgres://… (make test does)"
        )
    missing = [tool for tool in ("pg_dump", "pg_restore", "createdb", "dropdb") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"PostgreSQL client tools not installed: {', '.join(missing)}")


@pytest.fixture
def fresh_database(postgres_tools):
    name = f"{connection.settings_dict['NAME']}_restore_{os.getpid()}"
    url = _database_url(name)
    maintenance = _database_url("postgres")
    subprocess.run(["dropdb", "--if-exists", f"--maintenance-db={maintenance}", name], check=True)
    subprocess.run(["createdb", f"--maintenance-db={maintenance}", "--template=template0", name], check=True)
    yield url
    subprocess.run(["dropdb", "--if-exists", f"--maintenance-db={maintenance}", name], check=True)


def _counts(conn, tables: list[str]) -> dict[str, int]:
    with conn.cursor() as cursor:
        return {t: cursor.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _pdfs(conn) -> dict[int, tuple[str, str, str]]:
    """Notice id -> (hash of the stored bytes, the stored hash, the frozen text)."""
    with conn.cursor() as cursor:
        rows = cursor.execute(
            "SELECT id, pdf, pdf_sha256, rendered_text FROM takedown_notice WHERE pdf IS NOT NULL"
        ).fetchall()
    return {pk: (hashlib.sha256(bytes(pdf)).hexdigest(), sha, text) for pk, pdf, sha, text in rows}


def test_a_dump_restored_into_a_fresh_database_keeps_every_notice_pdf_and_row(
    fresh_database, tmp_path, agency, artist, other_artist, staff, legal, platforms, templates
):
    import_urls(
        agency,
        artist,
        [
            "https://www.youtube.com/watch?v=abcDEF12345",
            "https://x.com/someone/status/1234567890",
            "https://t.me/leakchan/101",
        ],
    )
    import_urls(other_artist.agency, other_artist, ["https://www.youtube.com/watch?v=rioVid00001"])
    drafts = {n.platform.slug: n for n in notices.notices_prepare(user=staff, artist_id=artist.pk)[0]}
    approve(drafts["youtube"], staff, legal)
    notices.notice_send(notice_id=drafts["youtube"].pk, user=legal, reference="YT-1")
    approve(drafts["x"], staff, legal)
    notices.notice_submit(notice_id=drafts["telegram"].pk, user=staff)

    source = _database_url(connection.settings_dict["NAME"])
    dump = tmp_path / "takedown.dump"
    subprocess.run(["pg_dump", "-Fc", "--no-owner", f"--file={dump}", source], check=True)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={fresh_database}", str(dump)], check=True
    )

    tables = connection.introspection.table_names()
    with psycopg.connect(source) as before, psycopg.connect(fresh_database) as after:
        assert _counts(after, tables) == _counts(before, tables)
        assert _counts(before, ["takedown_notice", "takedown_urlcheck"])["takedown_notice"] == 3
        original, restored = _pdfs(before), _pdfs(after)
        assert len(restored) == 3
        assert restored == original
        for computed, stored, text in restored.values():
            assert computed == stored
            assert "Luna Kang" in text
        assert after.execute(PDF_CHECK).fetchone()[0] == 0
    # The restored database is a complete installation: nothing left to migrate.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": fresh_database},
        check=True,
        capture_output=True,
    )
