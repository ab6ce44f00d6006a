"""A URL's status: the moves it may make, and who makes them.

Only triage (open ↔ dismissed) is done by hand; sending, withdrawing and rechecks move the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from takedown.choices import URLStatus
from takedown.errors import Invalid, NotAllowed
from takedown.models import InfringingURL, User
from takedown.roles import role_has


def urls_set_status(*, url_ids: Sequence[int], to: str, allowed_from: Iterable[str], user: User) -> int:
    """Move the given URLs of the user's agency from one of `allowed_from` to `to`.

    Only triage moves (open ↔ dismissed) are made by hand; checks move the rest. URLs in any
    other state, or of another agency, are left alone. Returns how many moved.
    """
    if to not in (URLStatus.DISMISSED, URLStatus.OPEN):
        raise Invalid("Only triage moves (open ↔ dismissed) are made by hand; checks move the rest.")
    if not role_has(user, "change_infringingurl"):
        raise NotAllowed("Your role cannot change URLs.")
    qs = InfringingURL.objects.visible_to(user).filter(pk__in=url_ids, status__in=list(allowed_from))
    with transaction.atomic():
        return qs.update(status=to, updated_at=timezone.now())
