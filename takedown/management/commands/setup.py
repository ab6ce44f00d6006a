"""Bring a database up to date: migrate, load the platform registry, sync schedules.

Idempotent: run it on every deploy.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from takedown import identity, notices, rollups
from takedown.models import Platform
from takedown.schedules import sync_schedules


def load_platforms(path: Path, *, update: bool = False) -> tuple[int, int]:
    """Create the registry's platforms that are missing; with `update`, overwrite the others.

    Without `update`, rows staff have corrected in the admin are kept as they are.
    """
    entries = json.loads(path.read_text(encoding="utf-8"))
    created = updated = 0
    with transaction.atomic():
        for entry in entries:
            fields = dict(entry["fields"])
            slug = fields.pop("slug")
            platform = Platform.objects.filter(slug=slug).first()
            if platform is None:
                platform = Platform(slug=slug, **fields)
                created += 1
            elif update:
                for key, value in fields.items():
                    setattr(platform, key, value)
                updated += 1
            else:
                continue
            platform.full_clean()
            platform.save()
    return created, updated


class Command(BaseCommand):
    help = "Migrate, load the platform registry and default data; with --demo, the demo agency too."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo", action="store_true", help="also create the fictional demo agency and users"
        )
        parser.add_argument(
            "--update-platforms",
            action="store_true",
            help="overwrite platform rows with the shipped registry (loses corrections made in the admin)",
        )

    def handle(self, *args, **opts):
        verbosity = opts["verbosity"]
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
        path = Path(settings.BASE_DIR) / "fixtures" / "platforms.json"
        try:
            created, updated = load_platforms(path, update=opts["update_platforms"])
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"Cannot load {path}: {exc}") from None
        self.stdout.write(f"Platform registry: {created} added, {updated} updated.")
        # A release may fold more URL forms of an item: stored rows follow (takedown.identity).
        self.stdout.write(f"URLs: {identity.urls_renormalize()}.")
        self.stdout.write(f"Notice templates: {notices.templates_load_defaults()} defaults added.")
        created, updated = sync_schedules()
        self.stdout.write(f"Schedules: {created} created, {updated} updated.")
        # A fresh database's small tables are never analyzed by autovacuum (under its 50-row
        # threshold) and PostgreSQL then plans the agency joins badly: analyze them now.
        rollups.analyze()
        self.stdout.write("Planner statistics refreshed.")
        if opts["demo"]:
            call_command("load_demo", verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)
            from takedown.demo import AGENCY
            from takedown.signing import create_self_signed

            _key, cert, made = create_self_signed(AGENCY["slug"], AGENCY["name"])
            self.stdout.write(
                f"Dossier signing certificate (self-signed, demo): {cert} {'created' if made else 'kept'}."
            )
