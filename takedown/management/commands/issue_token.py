"""python manage.py issue_token USERNAME [--days N] [--note TEXT] [--revoke]

Issues an API token for a user and prints the key once (only the key, on stdout, so that it can
be piped into a secret store); the database keeps only its hash. Issuing again revokes the
user's earlier keys, which stop working at once; `--revoke` revokes them without issuing one.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from takedown import tokens
from takedown.models import User


class Command(BaseCommand):
    help = "Issue a user's API token (revoking earlier ones) and print the key once; --revoke only revokes."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="Revoke the user's tokens; issue none.")
        parser.add_argument(
            "--days", type=int, default=None, help="Lifetime in days (default TAKEDOWN_TOKEN_DAYS)."
        )
        parser.add_argument("--note", default="", help="What the token is for (shown in the admin).")

    def handle(self, *args, username: str, revoke: bool, days: int | None, note: str, **options) -> None:
        user = User.objects.select_related("agency").filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if revoke:
            if not tokens.token_revoke_all(user=user, revoked_by=None):
                raise CommandError(f"{username} has no active token to revoke.")
            self.stderr.write(f"Revoked the API tokens of {username}.")
            return
        had_one = user.api_tokens.filter(revoked_at__isnull=True).exists()
        try:
            issued = tokens.token_issue(user=user, days=days, note=note, replace=True)
        except tokens.TokenRefused as exc:
            raise CommandError(str(exc)) from None
        note_text = " It replaces the previous key, which no longer works." if had_one else ""
        self.stderr.write(
            f"API token for {username} ({user.get_role_display()}, {user.agency.name}), valid until "
            f"{issued.token.expires_at:%Y-%m-%d %H:%M %Z}. Store it now: it is not shown again.{note_text}"
        )
        self.stdout.write(issued.key)
