"""python manage.py verify_chain [--agency SLUG]: walk each agency's hash chain, report the first broken link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from takedown.chain import verify_chain
from takedown.models import Agency


class Command(BaseCommand):
    help = (
        "Check each agency's tamper-evident record: every entry's hashes and link, every check, notice "
        "event and case event it covers, the head and the heads of the days. Exits 1 at the first break, "
        "2 when the chain holds but covered rows are gone with no deletion record."
    )

    def add_arguments(self, parser):
        parser.add_argument("--agency", help="only this agency (slug)")

    def handle(self, *args, **opts):
        agencies = Agency.objects.order_by("slug")
        if opts["agency"]:
            agencies = agencies.filter(slug=opts["agency"])
            if not agencies.exists():
                raise CommandError(f"Unknown agency {opts['agency']!r}.")
        broken = unexplained = False
        for agency in agencies:
            report = verify_chain(agency)
            gone = (
                f"; {report.deleted} covered rows deleted since by retention or erasure"
                if report.deleted
                else ""
            )
            if report.gone:
                gone += (
                    f"; WARNING: {report.gone} covered rows gone with no deletion record "
                    f"(first: {report.first_gone}) - deleted outside retention and erasure"
                )
            unexplained = unexplained or bool(report.gone)
            if report.ok:
                self.stdout.write(f"{agency.slug}: {report.entries} entries, intact{gone}.")
            else:
                broken = True
                self.stdout.write(
                    f"{agency.slug}: BROKEN after {report.entries} good entries: {report.broken[0]}{gone}"
                )
        if broken:
            raise CommandError("The chain is broken: see above.", returncode=1)
        if unexplained:
            raise CommandError(
                "The chain holds, but covered rows are gone with no deletion record: see above.", returncode=2
            )
