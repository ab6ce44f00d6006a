"""Create the fictional demo agency: artists, URLs, notices in every state, their checks, and a
demo user per role (takedown.demo says how the story is built and why it is true).

Passwords are generated and printed once; run again with --reset-passwords to get new ones.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from takedown import demo
from takedown.choices import ChannelKind
from takedown.models import InfringingURL, Notice


def _describe(notice: Notice) -> str:
    how = ""
    if notice.channel == ChannelKind.EMAIL:
        how = f", by email to {notice.recipient} (kept in memory)"
    elif notice.channel == ChannelKind.WEBFORM:
        how = ", by web form (reference invented)"
    if notice.outcome:
        how += f", {notice.get_outcome_display().lower()}"
    if notice.counter_notices.exists():
        how += ", with a counter-notice"
    if notice.revision_of_id:
        how += f", revision of #{notice.revision_of_id}"
    return f"  {notice}: {notice.get_status_display()}{how}"


class Command(BaseCommand):
    help = "Create the fictional demo agency, its artists, URLs, notices and checks, and one user per role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords", action="store_true", help="give the demo users new passwords"
        )

    def handle(self, *args, **opts):
        try:
            loaded = demo.demo_load(reset_passwords=opts["reset_passwords"])
        except demo.StoryError as exc:
            raise CommandError(str(exc)) from None
        agency = loaded.agency
        found = Notice.objects.filter(agency=agency).select_related("artist", "platform").order_by("pk")
        if loaded.totals is None:
            urls = InfringingURL.objects.filter(artist__agency=agency).count()
            self.stdout.write(
                f"Demo story exists already ({urls} URLs, {found.count()} notices): nothing added."
            )
        else:
            t = loaded.totals
            self.stdout.write(
                f"Demo URLs: {t.created} created, {t.duplicates} already there, "
                f"{t.rejected} refused (on purpose: an official account and a private address); "
                f"{t.checks} invented checks."
            )
            self.stdout.write(
                f"Demo notices of {agency.name}, all demo data: invented, and nothing was sent to any "
                "platform nor any URL requested:"
            )
            for notice in found:
                self.stdout.write(_describe(notice))
        if loaded.passwords:
            self.stdout.write("Demo users (passwords are shown once; --reset-passwords makes new ones):")
            for username, role, password in loaded.passwords:
                self.stdout.write(f"  {username:14} {role:8} {password}")
        else:
            self.stdout.write(
                "Demo users exist already (python manage.py load_demo --reset-passwords for new passwords)."
            )
