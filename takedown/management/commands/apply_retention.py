"""python manage.py apply_retention [--dry-run]"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from takedown.retention import retention_apply


class Command(BaseCommand):
    help = (
        "Delete URL checks older than TAKEDOWN_RETAIN_CHECKS_DAYS that the record does not need "
        "(keeping the latest of each URL, those of URLs in open notices, and, without title and "
        "excerpt, those a status change or a notice rests on), and the notices kept after an "
        "artist's erasure once TAKEDOWN_RETAIN_ERASED_NOTICES_DAYS have passed. Runs daily by itself."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")

    def handle(self, *args, **opts):
        days = settings.TAKEDOWN_RETAIN_CHECKS_DAYS
        if not days:
            self.stdout.write("TAKEDOWN_RETAIN_CHECKS_DAYS is 0: every check is kept.")
        report = retention_apply(dry_run=opts["dry_run"])
        prefix = "Dry run, nothing changed. " if opts["dry_run"] else ""
        self.stdout.write(f"{prefix}Retention: {report}.")
