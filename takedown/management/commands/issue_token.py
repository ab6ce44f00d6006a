"""python manage.py issue_token USERNAME [--revoke]

Issues an API token for a user and prints the key once (only the key, on stdout, so that it can
be piped into a secret store). Issuing again replaces the old key, which stops working at once;
`--revoke` deletes the token without issuing a new one.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from takedown.models import User


class Command(BaseCommand):
    help = "Issue (or replace) a user's API token and print the key once; --revoke deletes it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="Delete the user's token; issue none.")

    def handle(self, *args, username: str, revoke: bool, **options) -> None:
        user = User.objects.select_related("agency").filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        with transaction.atomic():
            deleted, _ = Token.objects.filter(user=user).delete()
            if revoke:
                if not deleted:
                    raise CommandError(f"{username} has no token to revoke.")
                self.stderr.write(f"Revoked the API token of {username}.")
                return
            if not user.is_active:
                raise CommandError(f"{username} is deactivated; activate the user before issuing a token.")
            token = Token.objects.create(user=user)
        where = user.agency.name if user.agency else "every agency (superuser)"
        note = " It replaces the previous key, which no longer works." if deleted else ""
        self.stderr.write(
            f"API token for {username} ({user.get_role_display()}, {where}). Store it now: it is not shown "
            f"again.{note}"
        )
        self.stdout.write(token.key)
