"""Bulk intake of infringing URLs: one code path for the admin CSV upload, the CLI and the API.

The front door is `rows_from_csv` / `rows_from_json` (body -> rows, or IntakeError with the
reason), then `import_rows`; callers add only their own transport (HTTP status, form error,
exit code). Each rule lives here once: the size limits, the text both databases can store
(`text_problem`) and the per-row checks (`Intake`).

Rows are validated with plain code (a few microseconds each: normalising is the bulk of it)
and inserted with one set-based statement, so the cost per row stays near the database's
own. Duplicates, within the batch or against stored rows, are counted, never errors:
re-sending a batch creates nothing new.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from takedown import legal, rollups
from takedown.choices import Category, LegalRoute, Source, URLStatus
from takedown.models import Agency, Artist, InfringingURL, Platform, User
from takedown.urltools import (
    NormalizedURL,
    PlatformMatcher,
    UnsafeURL,
    normalize_url,
    official_matcher,
    split_cell,
)

COLUMNS = ("artist", "url", "category", "legal_route", "discovered_at", "note")
_CATEGORIES = frozenset(Category.values)
_ROUTES = frozenset(LegalRoute.values)
_NOTE_MAX = 2000

log = logging.getLogger(__name__)


class IntakeError(ValueError):
    """The batch as a whole cannot be read (not per-row): wrong format, too many rows.

    str(exc) is the user-facing reason; `field` names the part of the body at fault, if one
    is ("items").
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class ImportTooLarge(IntakeError):
    """Over TAKEDOWN_IMPORT_MAX_BYTES or TAKEDOWN_IMPORT_MAX_ROWS."""


class UnstorableText(IntakeError):
    """Rows hold text neither database can store: the batch is refused as a whole.

    `errors` names each such row and its first such field.
    """

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} row(s) contain text that cannot be stored; nothing was imported.")
        self.errors = errors


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportReport:
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Rows stored after reading the cell differently from how it was pasted (split into
    # several URLs, a URL taken out of a markdown link): same shape as errors.
    notes: list[RowError] = field(default_factory=list)
    atomic_aborted: bool = False

    def as_dict(self) -> dict:
        body = {
            "created": self.created,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": [e.as_dict() for e in self.errors],
        }
        if self.notes:  # additive: the documented four keys stay as they were
            body["notes"] = [n.as_dict() for n in self.notes]
        return body


# -- The front door: a body or file -> rows ---------------------------------------------------


def read_csv(data: bytes | str) -> list[dict[str, str]]:
    """Parse CSV text (UTF-8, BOM allowed) into rows keyed by lower-case column name."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise IntakeError(
                f"The file is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8' and retry."
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    if not text.strip():
        raise IntakeError("The file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        raise IntakeError(f"The CSV header cannot be read: {exc}") from None
    if "url" not in header:
        raise IntakeError("The CSV has no 'url' column. Expected columns: " + ", ".join(COLUMNS) + ".")
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise IntakeError(f"Unknown column(s): {', '.join(unknown)}. Expected columns: {', '.join(COLUMNS)}.")
    rows: list[dict[str, str]] = []
    width = len(header)
    try:
        for values in reader:
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            if len(values) < width:
                values = values + [""] * (width - len(values))
            rows.append(dict(zip(header, values, strict=False)))
    except csv.Error as exc:
        raise IntakeError(f"CSV line {reader.line_num}: {exc}") from None
    return rows


def text_problem(value: str) -> str | None:
    """Why neither database can store `value`, or None when both can.

    PostgreSQL refuses NUL in text, and UTF-8 has no lone surrogates (JSON can escape one as
    \\ud800). Every text field of every row, from every front door, is read through this.
    """
    if "\x00" in value:
        return "Contains a NUL character, which cannot be stored."
    if not value.isascii():  # O(1): ASCII text, most of every batch, skips the encode
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Contains an unpaired surrogate (invalid Unicode), which cannot be stored."
    return None


def check_body_size(size: int, *, whole: bool = True) -> None:
    """Raise ImportTooLarge when a request body of `size` bytes is over TAKEDOWN_IMPORT_MAX_BYTES.

    `whole=False` when `size` counts only what was read of the body (the limit + 1 at most).
    """
    limit = settings.TAKEDOWN_IMPORT_MAX_BYTES
    if size <= limit:
        return
    got = f"The body is {size} bytes" if whole else "The body is over the limit"
    raise ImportTooLarge(
        f"{got}; the limit is {limit} bytes ({limit / 1048576:.1f} MiB) and "
        f"{settings.TAKEDOWN_IMPORT_MAX_ROWS} rows per request. Split the batch."
    )


def check_upload_size(size: int) -> None:
    """The same limit for a file uploaded in the admin, in the admin's (translated) words."""
    limit = settings.TAKEDOWN_IMPORT_MAX_BYTES
    if size > limit:
        raise ImportTooLarge(
            gettext("The file is %(size)d bytes; the limit is %(limit)d bytes.")
            % {"size": size, "limit": limit}
        )


# In JSON, text neither database can store can only arrive escaped (\u0000, \ud800-\udfff): a
# cheap scan of the body decides whether the rows need a look.
_SUSPECT_JSON = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF][0-9a-fA-F]{2})")


def rows_from_json(body: bytes) -> list:
    """The rows of a JSON body `{"items": [...]}` (UTF-8, BOM allowed), for `import_rows`.

    Raises IntakeError when the body is not such an object or holds no rows, UnstorableText
    when a row holds text that cannot be stored. Rows that are not objects are left to
    `import_rows`, which rejects each with its row number.
    """
    body = body.removeprefix(codecs.BOM_UTF8)
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise IntakeError(f"Malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    except (UnicodeDecodeError, RecursionError):
        raise IntakeError("Malformed JSON: the body is not UTF-8 JSON text.") from None
    if not isinstance(data, dict) or "items" not in data:
        raise IntakeError('Send an object with the rows in "items": {"items": [{...}, ...]}.')
    rows = data["items"]
    if not isinstance(rows, list):
        raise IntakeError(f"Must be a list of row objects, not {type(rows).__name__}.", field="items")
    return _batch(rows, suspect=b"\\u" in body and _SUSPECT_JSON.search(body) is not None)


def rows_from_csv(data: bytes | str) -> list[dict[str, str]]:
    """The rows of a CSV body or file (UTF-8, BOM allowed; `COLUMNS`), for `import_rows`.

    Raises IntakeError when it cannot be read (see `read_csv`) or holds no rows, UnstorableText
    when a row holds text that cannot be stored.
    """
    rows = read_csv(data)
    # Decoded bytes hold no lone surrogate (the decoder is strict): NUL is all they can carry.
    suspect = b"\x00" in data if isinstance(data, bytes) else text_problem(data) is not None
    return _batch(rows, suspect=suspect)


def _batch(rows: list, *, suspect: bool) -> list:
    if not rows:
        raise IntakeError("No rows to import.")
    if suspect:
        errors = _unstorable_rows(rows)
        if errors:
            raise UnstorableText(errors)
    return rows


def _unstorable_rows(rows: Sequence[object]) -> list[RowError]:
    """Each row holding text that cannot be stored, with the first such field."""
    errors = []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            continue
        for name in COLUMNS:
            value = row.get(name)
            problem = text_problem(value) if isinstance(value, str) else None
            if problem:
                errors.append(RowError(index, name, problem))
                break
    return errors


# -- Row by row ------------------------------------------------------------------------------


def platform_matcher() -> tuple[PlatformMatcher, dict[str, Platform]]:
    platforms = {p.slug: p for p in Platform.objects.filter(is_active=True)}
    hosts = {h.lower(): p.slug for p in platforms.values() for h in p.hosts}
    return PlatformMatcher(hosts), platforms


def _parse_discovered(raw: str, now: datetime) -> datetime:
    raw = raw.strip()
    if not raw:
        return now
    try:
        if len(raw) == 10:
            d = date.fromisoformat(raw)
            value = datetime(d.year, d.month, d.day, tzinfo=timezone.get_current_timezone())
        else:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if value.tzinfo is None:
                value = value.replace(tzinfo=timezone.get_current_timezone())
    except ValueError:
        raise ValueError(
            f"{raw!r} is not a date; use ISO 8601, e.g. 2026-05-19 or 2026-05-19T14:30:00+09:00"
        ) from None
    if value > now + timedelta(days=1):
        raise ValueError(f"{raw!r} is in the future")
    if value.year < 1995:
        raise ValueError(f"{raw!r} is before the web had such content")
    return value


class CheckedRow(NamedTuple):
    """A valid row: the values stored, in the insert's column order.

    A tuple, so a batch of them goes to the database (executemany, COPY) as it is.
    """

    artist_id: int
    url: str
    normalized_url: str
    host: str
    platform_id: int | None
    category: str
    legal_route: str
    discovered_at: datetime
    note: str


class _Refused(Exception):
    """One field of a row is refused; `Intake._check` turns it into the row's RowError."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _storable(field: str, text: str) -> str:
    problem = text_problem(text)
    if problem:
        raise _Refused(field, problem)
    return text


class Intake:
    """Per-row validation for one agency's batch: everything but the insert.

    Built once per batch (two queries: the agency's artists and the platform registry), then
    `check` costs only Python work per row. The admin's single-URL form uses it too.
    """

    def __init__(
        self,
        *,
        agency: Agency,
        artist: Artist | None = None,
        default_category: str = "",
        default_route: str = "",
        now: datetime | None = None,
    ) -> None:
        if default_category and default_category not in _CATEGORIES:
            raise IntakeError(f"Unknown default category {default_category!r}.")
        if default_route and default_route not in _ROUTES:
            raise IntakeError(f"Unknown default legal route {default_route!r}.")
        if artist is not None and artist.agency_id != agency.pk:
            raise IntakeError("The artist belongs to another agency.")
        self.artist = artist
        self.default_category = default_category
        self.default_route = default_route
        self.now = now or timezone.now()
        artists = [artist] if artist is not None else list(Artist.objects.filter(agency=agency))
        self.by_key: dict[str, Artist] = {}
        for a in artists:
            self.by_key[str(a.pk)] = a
            self.by_key[a.slug] = a
        # The keys a row can name as they are, with nothing to strip or refuse: most rows.
        self._exact_keys = {k: a for k, a in self.by_key.items() if k == k.strip() and not text_problem(k)}
        self.officials = {a.pk: official_matcher(a) for a in artists if a.official_accounts}
        self.matcher, self.platforms = platform_matcher()
        # legal.default_route per (platform, category): it reads the platform's channels, the
        # same for every row of an import (a tenth of the per-row work on a large import).
        self._default_routes: dict[tuple[int | None, str], str] = {}
        # The platform of each host seen in this batch: a batch holds few hosts.
        self._host_platforms: dict[str, Platform | None] = {}

    def check_row(
        self, index: int, row: Mapping[str, object]
    ) -> tuple[list[RowError | CheckedRow], str | None]:
        """Every URL the row's cell holds, each as a RowError or a CheckedRow; and how the cell
        was read ("split into 2 URLs", "took the URL out of a markdown link"), or None when it
        was taken as it is."""
        if not isinstance(row, Mapping):
            return [RowError(index, "", "Each item must be an object with the import columns.")], None
        raw_url = row.get("url")
        if not isinstance(raw_url, str) or not raw_url.strip() or text_problem(raw_url):
            return [self._check(index, row, raw_url)], None
        try:
            cell = split_cell(raw_url)
        except UnsafeURL as exc:
            return [RowError(index, "url", str(exc))], None
        if len(cell.urls) == 1:
            return [self._check(index, row, cell.urls[0])], cell.note
        n = len(cell.urls)
        results: list[RowError | CheckedRow] = []
        for i, url in enumerate(cell.urls, start=1):
            result = self._check(index, row, url)
            if type(result) is RowError and result.field == "url":
                result = RowError(index, "url", f"URL {i} of {n} ({url}): {result.message}")
            results.append(result)
        return results, cell.note

    def check(self, index: int, row: Mapping[str, object]) -> RowError | CheckedRow:
        """A RowError or a CheckedRow, for a row that must hold one URL (the admin's single-URL
        form)."""
        results, _note = self.check_row(index, row)
        if len(results) > 1:
            return RowError(
                index,
                "url",
                f"The field holds {len(results)} URLs; add them one at a time, or import them as a list.",
            )
        return results[0]

    def _check(self, index: int, row: Mapping[str, object], raw_url: object) -> RowError | CheckedRow:
        """One URL of a row, field by field in the order rejections are reported."""
        try:
            artist = self._artist(row)
            url, norm = self._url(artist, raw_url)
            category = self._category(row)
            platform = self._platform(norm)
            route = self._route(row, platform, category)
            discovered = self._discovered(row)
            note = self._note(row)
        except _Refused as refused:
            return RowError(index, refused.field, refused.message)
        # .id, not .pk: the pk property costs a lookup through the model's meta, per row.
        return CheckedRow(
            artist.id,
            url,
            norm.url,
            norm.host,
            platform.id if platform else None,
            category,
            route,
            discovered,
            note,
        )

    def _artist(self, row: Mapping[str, object]) -> Artist:
        key = row.get("artist")
        if type(key) is str:
            artist = self._exact_keys.get(key)
            if artist is not None:
                return artist
        key = "" if key is None else _storable("artist", str(key)).strip()
        if key:
            artist = self.by_key.get(key)
            if artist is None:
                raise _Refused("artist", f"No artist {key!r} in your agency.")
            return artist
        if self.artist is not None:
            return self.artist
        raise _Refused("artist", "This field is required.")

    def _url(self, artist: Artist, raw_url: object) -> tuple[str, NormalizedURL]:
        if not isinstance(raw_url, str) or not raw_url.strip():
            raise _Refused("url", "This field is required.")
        _storable("url", raw_url)
        try:
            norm = normalize_url(raw_url)
        except UnsafeURL as exc:
            raise _Refused("url", str(exc)) from None
        official = self.officials.get(artist.id)
        if official is not None:
            hit = official.covers(norm)
            if hit:
                raise _Refused("url", f"{hit} is on {artist.name}'s official allow-list.")
        return raw_url.strip(), norm

    def _category(self, row: Mapping[str, object]) -> str:
        category = row.get("category")
        if type(category) is str and category in _CATEGORIES:
            return category
        category = _storable("category", str(category or "")).strip() or self.default_category
        if category in _CATEGORIES:
            return category
        if not category:
            raise _Refused("category", "This field is required.")
        raise _Refused(
            "category", f"Unknown category {category!r}; one of: {', '.join(sorted(_CATEGORIES))}."
        )

    def _platform(self, norm: NormalizedURL) -> Platform | None:
        host = norm.host
        try:
            return self._host_platforms[host]
        except KeyError:
            pass
        slug = self.matcher.match(host)
        platform = self._host_platforms[host] = self.platforms.get(slug) if slug else None
        return platform

    def _route(self, row: Mapping[str, object], platform: Platform | None, category: str) -> str:
        route = row.get("legal_route")
        if route:
            route = _storable("legal_route", str(route)).strip()
        route = route or self.default_route
        if not route:
            key = (platform.pk if platform is not None else None, category)
            found = self._default_routes.get(key)
            if found is None:
                found = self._default_routes[key] = legal.default_route(platform, category)
            return found
        if route not in _ROUTES:
            raise _Refused(
                "legal_route", f"Unknown legal route {route!r}; one of: {', '.join(sorted(_ROUTES))}."
            )
        if not legal.may_carry(route, category):
            raise _Refused("legal_route", legal.carry_refusal(route, category))
        return route

    def _discovered(self, row: Mapping[str, object]) -> datetime:
        raw = row.get("discovered_at")
        if not raw:
            return self.now  # as _parse_discovered("") would
        if isinstance(raw, datetime):
            return raw
        try:
            return _parse_discovered(_storable("discovered_at", str(raw or "")), self.now)
        except ValueError as exc:
            raise _Refused("discovered_at", str(exc)) from None

    def _note(self, row: Mapping[str, object]) -> str:
        note = row.get("note")
        if not note:
            return ""
        note = str(note).strip()
        if len(note) > _NOTE_MAX:
            raise _Refused("note", f"At most {_NOTE_MAX} characters.")
        return _storable("note", note)


def import_rows(
    rows: Iterable[Mapping[str, object]],
    *,
    agency: Agency,
    source: str = Source.ADMIN,
    user: User | None = None,
    artist: Artist | None = None,
    default_category: str = "",
    default_route: str = "",
    atomic: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate and store a batch of URL rows for one agency.

    Each row has the columns of `COLUMNS`; `artist` (id or slug, within `agency`) may be left
    out when `artist` is given. Valid rows are stored even when others are rejected, unless
    `atomic`, in which case one rejected row stores nothing. Row numbers in errors count data
    rows from 1. Raises ImportTooLarge over TAKEDOWN_IMPORT_MAX_ROWS and IntakeError for a
    batch that cannot be read at all. The number of queries does not depend on the number
    of rows.
    """
    rows = rows if isinstance(rows, Sequence) else list(rows)
    limit = settings.TAKEDOWN_IMPORT_MAX_ROWS
    if len(rows) > limit:
        raise ImportTooLarge(f"{len(rows)} rows is over the limit of {limit} rows per import.")
    intake = Intake(
        agency=agency, artist=artist, default_category=default_category, default_route=default_route
    )
    report = ImportReport()
    errors = report.errors
    seen: set[tuple[int, str]] = set()
    valid: list[CheckedRow] = []
    notes = report.notes
    check_row = intake.check_row
    for index, row in enumerate(rows, start=1):
        if progress is not None and index % 1000 == 0:
            progress(index)
        results, note = check_row(index, row)
        if note is not None:
            notes.append(RowError(index, "url", note))
        for result in results:
            if type(result) is RowError:
                errors.append(result)
                continue
            dedup = (result.artist_id, result.normalized_url)
            if dedup in seen:
                report.duplicates += 1
                continue
            seen.add(dedup)
            valid.append(result)

    report.rejected = len(errors)
    if atomic and errors:
        report.atomic_aborted = True
        return report
    if valid:
        created = _insert(
            valid, agency_id=agency.pk, source=source, user_id=user.pk if user else None, now=intake.now
        )
        report.created = created
        report.duplicates += len(valid) - created
        if created >= ANALYZE_AFTER_ROWS:
            # A large import on a fresh database: the planner needs statistics of the tables
            # it joins before autovacuum would give them (never, for tables under 50 rows).
            transaction.on_commit(lambda: rollups.analyze_after_import(created))
    if progress is not None:
        progress(len(rows))
    return report


_ROW_COLUMNS = CheckedRow._fields
# An import storing this many rows refreshes the planner's statistics (rollups.analyze_after_import).
ANALYZE_AFTER_ROWS = 10_000


def _constant_columns(
    *, agency_id: int, source: str, user_id: int | None, now: datetime
) -> dict[str, object]:
    """Values shared by every row of a batch: the given ones, then each NOT NULL field's default.

    Raw SQL does not see Django's defaults, so they are filled in here from the model.
    """
    values: dict[str, object] = {
        # Every artist of a batch is the agency's (Intake looks them up within it).
        "agency_id": agency_id,
        "status": URLStatus.OPEN,
        "source": source,
        "added_by_id": user_id,
        "created_at": now,
        "updated_at": now,
        # Evidence at intake: the first check records what the URL showed when reported.
        "next_check_at": now,
    }
    for f in InfringingURL._meta.concrete_fields:
        if f.primary_key or f.null or f.attname in _ROW_COLUMNS or f.attname in values:
            continue
        values[f.attname] = f.get_default()
    return values


# PostgreSQL aborts one of two transactions that wait on each other (40P01) or that cannot be
# serialised (40001); the aborted one is safe to run again from the start.
_RETRY_SQLSTATES = frozenset({"40P01", "40001"})
INSERT_ATTEMPTS = 5


def _retryable(exc: DatabaseError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in _RETRY_SQLSTATES


def _insert(
    valid: list[CheckedRow], *, agency_id: int, source: str, user_id: int | None, now: datetime
) -> int:
    """Insert rows, skipping (artist, normalized_url) conflicts; return how many were created.

    On PostgreSQL a deadlock or serialization failure is retried, up to INSERT_ATTEMPTS times
    with a growing, jittered pause, when the insert owns its transaction; inside a caller's
    transaction the error is raised, as the whole transaction has to start again.
    """
    attempts = 1 if connection.in_atomic_block else INSERT_ATTEMPTS
    attempt = 1
    while True:
        try:
            with transaction.atomic():
                return _insert_once(valid, agency_id=agency_id, source=source, user_id=user_id, now=now)
        except DatabaseError as exc:
            if attempt >= attempts or not _retryable(exc):
                raise
            log.warning("import insert attempt %s of %s failed (%s); retrying", attempt, attempts, exc)
            # Jittered, so that the transactions that collided do not collide again in step.
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
            attempt += 1


def _insert_once(
    valid: list[CheckedRow], *, agency_id: int, source: str, user_id: int | None, now: datetime
) -> int:
    table = InfringingURL._meta.db_table
    qn = connection.ops.quote_name
    constants = _constant_columns(agency_id=agency_id, source=source, user_id=user_id, now=now)
    if connection.vendor == "postgresql":
        return _insert_postgresql(valid, constants, table)
    cols = ", ".join(qn(c) for c in (*_ROW_COLUMNS, *constants))
    adapt = connection.ops.adapt_datetimefield_value
    constant = tuple(adapt(v) if isinstance(v, datetime) else v for v in constants.values())
    params = [
        (
            r.artist_id,
            r.url,
            r.normalized_url,
            r.host,
            r.platform_id,
            r.category,
            r.legal_route,
            adapt(r.discovered_at),
            r.note,
            *constant,
        )
        for r in valid
    ]
    placeholders = ", ".join(["%s"] * (len(_ROW_COLUMNS) + len(constants)))
    sql = (
        f"INSERT INTO {qn(table)} ({cols}) VALUES ({placeholders}) "
        f"ON CONFLICT ({qn('artist_id')}, {qn('normalized_url')}) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        # sqlite3 sums the changes of every statement of an executemany.
        return cursor.rowcount


def _constant_sql(constants: Mapping[str, object]) -> tuple[str, list[object]]:
    """The batch's shared values as typed parameters of the INSERT's select list.

    Each is cast to its column's type without a length (an untyped NULL would be taken as
    text, and a cast to varchar(n) would cut a long value where the column refuses it).
    """
    fields = {f.attname: f for f in InfringingURL._meta.concrete_fields}
    casts = []
    params = []
    for name, value in constants.items():
        field = fields[name]
        casts.append(f"CAST(%s AS {field.db_type(connection).partition('(')[0]})")
        params.append(field.get_db_prep_save(value, connection))
    return ", ".join(casts), params


def _insert_postgresql(valid: list[CheckedRow], constants: Mapping[str, object], table: str) -> int:
    # COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING:
    # near COPY's own speed, and the conflict rule stays in the database. Only the columns
    # that vary by row travel through COPY; the batch's shared values (more than half the columns)
    # are parameters of the INSERT, written by the database, not formatted per row.
    qn = connection.ops.quote_name
    row_cols = ", ".join(qn(c) for c in _ROW_COLUMNS)
    cols = ", ".join(qn(c) for c in (*_ROW_COLUMNS, *constants))
    shared, params = _constant_sql(constants)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE takedown_import ON COMMIT DROP AS "
            f"SELECT {row_cols} FROM {qn(table)} WITH NO DATA"
        )
        raw = cursor.cursor
        # The driver's own cursor: its errors (a dropped connection) are raised as Django's, as
        # every other query's are.
        with (
            connection.wrap_database_errors,
            raw.copy(f"COPY takedown_import ({row_cols}) FROM STDIN") as copy,
        ):
            write = copy.write_row
            for r in valid:
                write(r)
        # In the unique key's order: two imports sharing URLs then wait on each other's rows in
        # the same order, and one queues behind the other instead of deadlocking with it
        # (in arrival order, 8 overlapping imports of 50,000 URLs deadlocked 9 times in 16).
        cursor.execute(
            f"INSERT INTO {qn(table)} ({cols}) SELECT {row_cols}, {shared} FROM takedown_import "
            f"ORDER BY {qn('artist_id')}, {qn('normalized_url')} "
            f"ON CONFLICT ({qn('artist_id')}, {qn('normalized_url')}) DO NOTHING",
            params,
        )
        created = cursor.rowcount
        # ON COMMIT DROP does not fire when the import runs inside an outer transaction.
        cursor.execute("DROP TABLE takedown_import")
        return created
