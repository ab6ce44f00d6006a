"""Bring stored URLs to the current canonical forms; link rows that are now one item."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from takedown.identity import urls_renormalize


class Command(BaseCommand):
    help = (
        "Re-normalise every stored URL with the current URL-forms catalogue; rows of one artist "
        "that now name the same item are linked (same_as), never deleted. Idempotent."
    )

    def handle(self, *args, **opts):
        self.stdout.write(str(urls_renormalize()))
