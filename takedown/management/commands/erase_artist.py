"""python manage.py erase_artist SLUG --by USER [--agency SLUG] [--dry-run] [--no-input]"""

from __future__ import annotations

import getpass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.timezone import localtime

from takedown import erasure
from takedown.errors import Conflict, NotAllowed
from takedown.models import Artist, User


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind}: {n}" for kind, n in counts.items() if n) or "nothing"


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return ""


class Command(BaseCommand):
    help = (
        "Erase an artist's data at the artist's request: URLs, checks, evidence, unsent notices, "
        "rights records and their rows in background jobs. Keeps only the notices that were sent, "
        "as the law requires, with the artist pseudonymised around them; says exactly what it "
        "deletes, pseudonymises and keeps, and records the erasure (who, when, counts)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the artist's slug")
        parser.add_argument("--agency", help="agency slug, when the artist slug is ambiguous")
        parser.add_argument(
            "--by",
            required=True,
            help="user name of the person carrying out the request (a superuser, or a manager or "
            "legal reviewer of the artist's agency); recorded with the erasure",
        )
        parser.add_argument("--dry-run", action="store_true", help="say what it would do, change nothing")
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive", help="do not ask for confirmation"
        )

    def handle(self, *args, **opts):
        artist = self._artist(opts["slug"], opts["agency"])
        user = User.objects.filter(username=opts["by"]).first()
        if user is None:
            raise CommandError(f"No user {opts['by']!r}.")
        if not erasure.may_erase(user, artist):
            raise CommandError(
                f"{user.username} may not erase: a superuser, or a manager or legal reviewer of "
                f"{artist.agency.name}, carries out an erasure."
            )
        plan = erasure.erasure_plan(artist)
        self._describe(plan, user)
        if plan.blockers:
            message = "Cannot erase now: " + " ".join(plan.blockers)
            if opts["dry_run"]:
                self.stdout.write(message)
            else:
                raise CommandError(message + " Nothing was changed.")
        if opts["dry_run"]:
            self.stdout.write("Dry run: nothing was changed.")
            return
        if opts["interactive"]:
            answer = input(f"Type the artist's slug ({artist.slug}) to erase this for good: ")
            if answer.strip() != artist.slug:
                raise CommandError("Not confirmed: nothing was changed.")
        try:
            record = erasure.artist_erase(artist_id=artist.pk, user=user, operator=_operator())
        except (Conflict, NotAllowed) as exc:
            raise CommandError(f"{exc} Nothing was changed.") from None
        self.stdout.write(f"Erased. Recorded as erasure #{record.pk} (who, when and counts only).")

    def _artist(self, slug: str, agency: str | None) -> Artist:
        artists = Artist.objects.filter(slug=slug).select_related("agency")
        if agency:
            artists = artists.filter(agency__slug=agency)
        found = list(artists[:2])
        if not found:
            raise CommandError(f"No artist with slug {slug!r}.")
        if len(found) > 1:
            raise CommandError(f"Several agencies have an artist {slug!r}; add --agency.")
        return found[0]

    def _describe(self, plan: erasure.ErasurePlan, user: User) -> None:
        artist, write = plan.artist, self.stdout.write
        write(
            f"Erasure of {artist.name} ({artist.slug}) of {artist.agency.name}, carried out by {user.username}."
        )
        write(f"Deletes: {_counts(plan.deleted)}.")
        pseudonymised = dict(plan.pseudonymised)
        if pseudonymised.pop("artist rows", 0):
            write(
                f'Pseudonymises: the artist row, as "{erasure.pseudonym(artist)}" with no names, aliases, '
                f"official accounts or notes (the kept notices point at it); {_counts(pseudonymised)}."
            )
        else:
            write(f"Pseudonymises: {_counts(pseudonymised)}.")
        if not plan.kept:
            write("Keeps: nothing (no notice was ever sent for this artist).")
        else:
            write(f"Keeps {len(plan.kept)} sent notices, as the law requires:")
            for kept in plan.kept:
                write(
                    f"  notice #{kept.id} ({kept.status}), sent {localtime(kept.sent_at):%Y-%m-%d} to "
                    f"{kept.platform}, PDF SHA-256 {kept.pdf_sha256}: kept until {localtime(kept.keep_until):%Y-%m-%d}"
                )
            write(
                "  each exactly as sent (subject, text, HTML and PDF; recipient, reference, times, timeline "
                f"and counter-notices), because {erasure.WHY_KEPT}; each is kept "
                f"{settings.TAKEDOWN_RETAIN_ERASED_NOTICES_DAYS} days after its last event "
                "(TAKEDOWN_RETAIN_ERASED_NOTICES_DAYS), then deleted by the daily retention with the "
                "artist row."
            )
        write(f"Not reached: {erasure.NOT_REACHED}.")
