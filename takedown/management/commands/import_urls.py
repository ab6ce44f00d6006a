"""python manage.py import_urls FILE.csv --artist SLUG [--agency SLUG]"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError

from takedown import importing
from takedown.choices import Category, LegalRoute, Source
from takedown.models import Agency, Artist


class Progress:
    """A one-line progress bar on stderr (redrawn in place on a terminal)."""

    def __init__(self, total: int, stream=sys.stderr, width: int = 30, unit: str = "rows") -> None:
        self.total = max(total, 1)
        self.unit = unit
        self.stream = stream
        self.width = width
        self.start = time.monotonic()
        self.tty = stream.isatty()
        self.last_pct = -1

    def __call__(self, done: int) -> None:
        pct = int(done * 100 / self.total)
        if pct == self.last_pct:
            return
        self.last_pct = pct
        filled = int(self.width * done / self.total)
        rate = done / max(time.monotonic() - self.start, 1e-6)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} {self.unit} {pct:3d}% {rate:,.0f} {self.unit}/s"
        if self.tty:
            self.stream.write("\r" + line)
            if done >= self.total:
                self.stream.write("\n")
        elif pct % 10 == 0 or done >= self.total:
            self.stream.write(line + "\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Import infringing URLs from a CSV file (columns: " + ", ".join(importing.COLUMNS) + ")."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file, UTF-8 (BOM allowed); - for standard input")
        parser.add_argument("--artist", help="slug of the artist every row is for (else an 'artist' column)")
        parser.add_argument("--agency", help="agency slug (needed when the artist slug is ambiguous)")
        parser.add_argument(
            "--category",
            default="",
            choices=[""] + list(Category.values),
            help="category for rows that leave it empty",
        )
        parser.add_argument(
            "--route",
            default="",
            choices=[""] + list(LegalRoute.values),
            help="legal route for rows that leave it empty (else the platform's default)",
        )
        parser.add_argument("--atomic", action="store_true", help="store nothing if any row is rejected")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        try:
            self._import(opts)
        except (OperationalError, InterfaceError) as exc:
            # A server that is down, restarted or killed our connection: say so plainly.
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(
                f"The database could not be reached or went away ({reason}). Rows stored before "
                "that stay stored; run the same command again when the database is back: stored "
                "rows count as duplicates, nothing is stored twice."
            ) from None

    def _import(self, opts: dict) -> None:
        artist, agency = self._resolve(opts.get("artist"), opts.get("agency"))
        try:
            data = sys.stdin.buffer.read() if opts["file"] == "-" else open(opts["file"], "rb").read()
        except OSError as exc:
            raise CommandError(f"Cannot read {opts['file']}: {exc.strerror}") from None
        try:
            rows = importing.rows_from_csv(data)
        except importing.UnstorableText as exc:
            self._write_errors(exc.errors)
            raise CommandError(str(exc)) from None
        except importing.IntakeError as exc:
            raise CommandError(str(exc)) from None
        progress = None if opts["no_progress"] else Progress(len(rows), stream=self.stderr)
        try:
            report = importing.import_rows(
                rows,
                agency=agency,
                artist=artist,
                source=Source.CLI,
                default_category=opts["category"],
                default_route=opts["route"],
                atomic=opts["atomic"],
                progress=progress,
            )
        except importing.IntakeError as exc:
            raise CommandError(str(exc)) from None
        for note in report.notes[:50]:
            self.stdout.write(f"row {note.row}: {note.message}")
        self._write_errors(report.errors)
        if report.atomic_aborted:
            self.stderr.write("Nothing stored (--atomic and some rows were rejected).")
        self.stdout.write(
            f"{report.created} created, {report.duplicates} duplicates, {report.rejected} rejected"
        )
        if report.atomic_aborted:
            raise CommandError("import aborted")

    def _write_errors(self, errors: list[importing.RowError]) -> None:
        for err in errors[:50]:
            self.stderr.write(f"row {err.row} ({err.field or '-'}): {err.message}")
        if len(errors) > 50:
            self.stderr.write(f"... and {len(errors) - 50} more rejected rows")

    def _resolve(self, artist_slug: str | None, agency_slug: str | None) -> tuple[Artist | None, Agency]:
        agency = None
        if agency_slug:
            agency = Agency.objects.filter(slug=agency_slug).first()
            if agency is None:
                raise CommandError(f"No agency with slug {agency_slug!r}.")
        if artist_slug:
            qs = Artist.objects.select_related("agency").filter(slug=artist_slug)
            if agency:
                qs = qs.filter(agency=agency)
            matches = list(qs[:2])
            if not matches:
                raise CommandError(f"No artist with slug {artist_slug!r}.")
            if len(matches) > 1:
                raise CommandError(f"Several agencies have an artist {artist_slug!r}; add --agency.")
            return matches[0], matches[0].agency
        if agency is None:
            agencies = list(Agency.objects.all()[:2])
            if len(agencies) != 1:
                raise CommandError("Give --artist (or --agency when the file has an 'artist' column).")
            agency = agencies[0]
        return None, agency
