"""The database side of the statistics' rollup and of search: triggers and trigram indexes.

`install` is idempotent. Migration 0015 calls it, and so does every `migrate` (post_migrate):
SQLite drops a table's triggers whenever a migration rebuilds the table, and a database
restored without them would silently stop counting. `installed` says whether they are there
(a system check and the tests ask).
"""

from __future__ import annotations

URL = "takedown_infringingurl"
CHANGE = "takedown_rollupchange"
TRIGGERS = ("takedown_url_rollup_insert", "takedown_url_rollup_update", "takedown_url_rollup_delete")
# A change to any of these moves a URL between rollup cells or changes what a cell counts.
COUNTED = (
    "status",
    "notified_at",
    "removed_at",
    "overdue_since",
    "reupload_count",
    "platform_id",
    "legal_route",
    "artist_id",
    "agency_id",
    "discovered_at",
    "same_as_id",
)

_PG_DIFFERS = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in COUNTED)

PG_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION takedown_rollup_mark() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- One row per artist and minute of discovery: a 100,000-row import adds a handful.
        IF TG_OP = 'INSERT' THEN
            INSERT INTO {CHANGE} (artist_id, discovered_at, claimed)
            SELECT DISTINCT artist_id, date_trunc('minute', discovered_at), false FROM new_rows;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO {CHANGE} (artist_id, discovered_at, claimed)
            SELECT DISTINCT artist_id, date_trunc('minute', discovered_at), false FROM old_rows;
        ELSE
            INSERT INTO {CHANGE} (artist_id, discovered_at, claimed)
            SELECT DISTINCT c.artist_id, date_trunc('minute', c.discovered_at), false
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            CROSS JOIN LATERAL (VALUES (o.artist_id, o.discovered_at), (n.artist_id, n.discovered_at))
                AS c (artist_id, discovered_at)
            WHERE {_PG_DIFFERS};
        END IF;
        RETURN NULL;
    END $$
    """,
    f"""CREATE OR REPLACE TRIGGER takedown_url_rollup_insert AFTER INSERT ON {URL}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION takedown_rollup_mark()""",
    f"""CREATE OR REPLACE TRIGGER takedown_url_rollup_update AFTER UPDATE ON {URL}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION takedown_rollup_mark()""",
    f"""CREATE OR REPLACE TRIGGER takedown_url_rollup_delete AFTER DELETE ON {URL}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION takedown_rollup_mark()""",
    # Search (admin ?q=, API ?q=): icontains is UPPER(column) LIKE UPPER('%text%'); a trigram
    # index on the same expression answers it without reading the table.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS url_search_url ON {URL} USING gin (UPPER(normalized_url) gin_trgm_ops)",
    # Only rows with a note: most have none, and an empty note still costs every insert a GIN
    # entry. The searches name `note <> ''` beside the match (models.url_text_match).
    f"CREATE INDEX IF NOT EXISTS url_search_note ON {URL} USING gin (UPPER(note) gin_trgm_ops) "
    "WHERE NOT (note = '')",
]
PG_UNINSTALL = [
    "DROP INDEX IF EXISTS url_search_note",
    "DROP INDEX IF EXISTS url_search_url",
    *(f"DROP TRIGGER IF EXISTS {name} ON {URL}" for name in reversed(TRIGGERS)),
    "DROP FUNCTION IF EXISTS takedown_rollup_mark()",
]

_SQLITE_DIFFERS = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COUNTED)
_MARK = f"INSERT INTO {CHANGE} (artist_id, discovered_at, claimed) VALUES"
SQLITE_UNINSTALL = [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS]
# Dropped and created again: the definition follows COUNTED.
SQLITE_INSTALL = [
    *SQLITE_UNINSTALL,
    f"""CREATE TRIGGER takedown_url_rollup_insert AFTER INSERT ON {URL}
        BEGIN {_MARK} (NEW.artist_id, NEW.discovered_at, 0); END""",
    f"""CREATE TRIGGER takedown_url_rollup_update AFTER UPDATE ON {URL} WHEN {_SQLITE_DIFFERS}
        BEGIN {_MARK} (OLD.artist_id, OLD.discovered_at, 0); {_MARK} (NEW.artist_id, NEW.discovered_at, 0); END""",
    f"""CREATE TRIGGER takedown_url_rollup_delete AFTER DELETE ON {URL}
        BEGIN {_MARK} (OLD.artist_id, OLD.discovered_at, 0); END""",
]


def _table_exists(connection, table: str) -> bool:
    with connection.cursor() as cursor:
        return table in connection.introspection.table_names(cursor)


def install(connection) -> bool:
    """Create (or replace) the triggers and search indexes; False when the tables are not there yet."""
    statements = {"postgresql": PG_INSTALL, "sqlite": SQLITE_INSTALL}.get(connection.vendor)
    if statements is None or not (_table_exists(connection, URL) and _table_exists(connection, CHANGE)):
        return False
    if connection.vendor == "postgresql" and _all_present(connection):
        # PostgreSQL keeps them across migrations; re-creating them inside a transaction that
        # has written URL rows (setup after loading data) would fail on pending trigger events.
        return True
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    return True


def _all_present(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = %s AND indexname = ANY(%s)",
            [URL, ["url_search_url", "url_search_note"]],
        )
        indexes = cursor.fetchone()[0]
    return indexes == 2 and installed(connection)


def uninstall(connection) -> None:
    statements = {"postgresql": PG_UNINSTALL, "sqlite": SQLITE_UNINSTALL}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def mark_existing(connection) -> None:
    """Name every stored URL as changed: the next refresh counts them all."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CHANGE} (artist_id, discovered_at, claimed) "
            f"SELECT DISTINCT artist_id, discovered_at, %s FROM {URL}",
            [False],
        )


def installed(connection) -> bool:
    """Whether the three triggers are on the URL table."""
    if connection.vendor == "postgresql":
        sql = "SELECT count(*) FROM pg_trigger WHERE tgname = ANY(%s) AND NOT tgisinternal"
        params = [list(TRIGGERS)]
    elif connection.vendor == "sqlite":
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (%s, %s, %s)"
        params = list(TRIGGERS)
    else:
        return False
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] == len(TRIGGERS)
