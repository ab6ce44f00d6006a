"""python manage.py rebuild_rollups"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection

from takedown import rollup_sql, rollups


class Command(BaseCommand):
    help = (
        "Recompute the statistics' rollup from the URLs (after a restore, or to check it), put the "
        "triggers that keep it current back if they are missing, and refresh the planner's statistics."
    )

    def handle(self, *args, **opts):
        if not rollup_sql.installed(connection):
            rollup_sql.install(connection)
            self.stdout.write("The rollup's triggers were missing: installed again.")
        cells = rollups.rebuild()
        self.stdout.write(f"Rollup rebuilt: {cells} cells.")
