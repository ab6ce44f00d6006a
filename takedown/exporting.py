"""CSV export of URLs and their outcomes, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from takedown.models import InfringingURL

HEADER = [
    "id",
    "artist",
    "url",
    "normalized_url",
    "platform",
    "category",
    "legal_route",
    "status",
    "discovered_at",
    "notified_at",
    "deadline_at",
    "removed_at",
    "hours_to_removal",
    "overdue_since",
    "escalation",
    "reupload_count",
    "last_verdict",
    "last_checked_at",
    "note",
]
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
    fields = (
        "pk",
        "artist__name",
        "url",
        "normalized_url",
        "platform__name",
        "category",
        "legal_route",
        "status",
        "discovered_at",
        "notified_at",
        "deadline_at",
        "removed_at",
        "overdue_since",
        "escalation",
        "reupload_count",
        "last_verdict",
        "last_checked_at",
        "note",
    )
    for row in urls.order_by("pk").values_list(*fields).iterator(chunk_size=2000):
        values = dict(zip(fields, row, strict=True))
        hours = None
        if values["removed_at"] and values["notified_at"]:
            hours = round((values["removed_at"] - values["notified_at"]).total_seconds() / 3600, 2)
        yield [
            safe_cell(v)
            for v in (
                values["pk"],
                values["artist__name"],
                values["url"],
                values["normalized_url"],
                values["platform__name"],
                values["category"],
                values["legal_route"],
                values["status"],
                values["discovered_at"],
                values["notified_at"],
                values["deadline_at"],
                values["removed_at"],
                hours,
                values["overdue_since"],
                values["escalation"],
                values["reupload_count"],
                values["last_verdict"],
                values["last_checked_at"],
                values["note"],
            )
        ]


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """Encode rows as CSV lines lazily (for a streaming response), with a BOM for spreadsheets."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(HEADER)
    for row in rows:
        yield writer.writerow(row)
