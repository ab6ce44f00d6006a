"""python manage.py recheck [--due | --artist SLUG | --all]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from takedown import rechecks
from takedown.choices import URLStatus
from takedown.management.commands.import_urls import Progress
from takedown.models import Artist, InfringingURL


class Command(BaseCommand):
    help = "Check URLs now: those due (default), one artist's, or every URL that is not dismissed."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--due", action="store_true", help="URLs whose next check is due (default)")
        group.add_argument("--artist", help="every URL of this artist (slug)")
        group.add_argument("--all", action="store_true", help="every URL that is not dismissed")
        parser.add_argument("--agency", help="agency slug, when the artist slug is ambiguous")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        if opts["artist"] or opts["all"]:
            qs = InfringingURL.objects.exclude(status=URLStatus.DISMISSED)
            if opts["artist"]:
                artists = Artist.objects.filter(slug=opts["artist"])
                if opts["agency"]:
                    artists = artists.filter(agency__slug=opts["agency"])
                found = list(artists[:2])
                if not found:
                    raise CommandError(f"No artist with slug {opts['artist']!r}.")
                if len(found) > 1:
                    raise CommandError(f"Several agencies have an artist {opts['artist']!r}; add --agency.")
                qs = qs.filter(artist=found[0])
            ids = list(qs.order_by("pk").values_list("pk", flat=True))
        else:
            ids = None
        total = len(ids) if ids is not None else InfringingURL.objects.due_for_check().count()
        progress = None if opts["no_progress"] else Progress(total, stream=self.stderr, unit="URLs")

        def report(done: int) -> None:
            if progress:
                progress(min(done, total) if total else done)

        if ids is not None:
            outcomes = rechecks.check_urls(ids, progress=report)
        else:
            holder = rechecks.new_holder()
            outcomes = rechecks.run_checks(
                lambda n: rechecks.claim_due(limit=n, holder=holder), progress=report
            )
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.verdict] = counts.get(outcome.verdict, 0) + 1
        summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "nothing due"
        self.stdout.write(f"{len(outcomes)} checked: {summary}")
