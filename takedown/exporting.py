"""CSV export of URLs and their outcomes, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from takedown.models import InfringingURL

# (CSV column, the value's lookup); hours_to_removal is derived from notified_at and removed_at.
COLUMNS = [
    ("id", "pk"),
    ("artist", "artist__name"),
    ("url", "url"),
    ("normalized_url", "normalized_url"),
    ("platform", "platform__name"),
    ("category", "category"),
    ("legal_route", "legal_route"),
    ("status", "status"),
    ("discovered_at", "discovered_at"),
    ("notified_at", "notified_at"),
    ("deadline_at", "deadline_at"),
    ("removed_at", "removed_at"),
    ("hours_to_removal", None),
    ("overdue_since", "overdue_since"),
    ("escalation", "escalation"),
    ("reupload_count", "reupload_count"),
    ("last_verdict", "last_verdict"),
    ("last_checked_at", "last_checked_at"),
    ("note", "note"),
]
HEADER = [name for name, _ in COLUMNS]
_LOOKUPS = [lookup for _, lookup in COLUMNS if lookup]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula: risky text gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_rows(urls: QuerySet[InfringingURL]) -> Iterator[list[str]]:
    for row in urls.order_by("pk").values(*_LOOKUPS).iterator(chunk_size=2000):
        notified, removed = row["notified_at"], row["removed_at"]
        hours = round((removed - notified).total_seconds() / 3600, 2) if notified and removed else None
        yield [safe_cell(row[lookup] if lookup else hours) for _, lookup in COLUMNS]


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """Encode rows as CSV lines lazily (for a streaming response), with a BOM for spreadsheets."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(HEADER)
    for row in rows:
        yield writer.writerow(row)
