"""python manage.py verify_dossier FILE.zip [--offline]"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from takedown.dossier_verify import verify_dossier


class Command(BaseCommand):
    help = (
        "Check a dossier: every file against the manifest, the report's signature and the file list it "
        "signs, the chain entries; and, unless --offline, against this installation's chain. Exits 1 on any problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--offline", action="store_true", help="only what the ZIP itself proves")

    def handle(self, *args, **opts):
        if not os.path.isfile(opts["file"]):
            raise CommandError(f"No such file: {opts['file']}")
        result = verify_dossier(opts["file"], database=not opts["offline"])
        for note in result.notes:
            self.stdout.write(f"note: {note}")
        if not result.ok:
            for problem in result.problems:
                self.stdout.write(f"PROBLEM: {problem}")
            raise CommandError(f"{len(result.problems)} problem(s): the dossier does not hold.", returncode=1)
        self.stdout.write("OK: files, signature and chain hold.")
