"""python manage.py export_dossier CASE_ID --output FILE.zip [--locale ko] [--user USERNAME]"""

from __future__ import annotations

import hashlib
import os
import tempfile

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from takedown import cases, dossier
from takedown.errors import Invalid
from takedown.models import Case, User
from takedown.roles import role_has


class Command(BaseCommand):
    help = "Write a case's signed evidence dossier (ZIP) to a file."

    def add_arguments(self, parser):
        parser.add_argument("case_id", type=int)
        parser.add_argument("--output", required=True, help="the ZIP file to write")
        parser.add_argument("--locale", choices=["en", "ko"], default="en", help="the report's language")
        parser.add_argument(
            "--user", help="who exports it (a legal reviewer of the case's agency); default: the case's owner"
        )

    def handle(self, *args, **opts):
        case = Case.objects.select_related("agency", "legal_owner").filter(pk=opts["case_id"]).first()
        if case is None:
            raise CommandError(f"No case #{opts['case_id']}.")
        if opts["user"]:
            user = User.objects.filter(username=opts["user"]).first()
            if user is None or not (user.is_superuser or user.agency_id == case.agency_id):
                raise CommandError(f"No user {opts['user']!r} in the case's agency.")
        else:
            user = case.legal_owner
            if user is None:
                raise CommandError("The case has no owner yet: name who exports it with --user.")
        if not role_has(user, "export_dossier"):
            raise CommandError(f"{user.username} may not export dossiers (legal reviewers do).")
        target = os.path.abspath(opts["output"])
        folder = os.path.dirname(target)
        if not os.path.isdir(folder):
            raise CommandError(f"No such directory: {folder}")
        if os.path.lexists(target):
            # An earlier export there may be the one a case's timeline names: never replaced.
            raise CommandError(f"{target} exists: name a new file with --output.")
        fd, partial = tempfile.mkstemp(dir=folder, suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as fh:
                result = dossier.dossier_write(case=case, user=user, out=fh, locale=opts["locale"])
            with open(partial, "rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
            # The record and the move stand or fall together: a move that fails leaves no
            # export on the timeline, and a record that fails to commit takes the file back out,
            # so a file at --output is always one the case's timeline names, and the reverse.
            moved = False
            try:
                with transaction.atomic():
                    cases.case_record_export(
                        case,
                        user=user,
                        sha256=digest,
                        size=os.path.getsize(partial),
                        urls=result.urls,
                        locale=opts["locale"],
                    )
                    os.replace(partial, target)
                    moved = True
            except BaseException:
                if moved and os.path.exists(target):
                    os.unlink(target)
                raise
        except OSError as exc:
            raise CommandError(f"Could not write {target}: {exc.strerror or exc}") from None
        except Invalid as exc:
            raise CommandError(str(exc)) from None
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        self.stdout.write(
            f"Case #{case.pk}: {result.urls} URLs, {result.checks} checks, {result.notices} notices, "
            f"{result.entries} chain entries → {target} (report.pdf SHA-256 {result.files['report.pdf']})."
        )
