"""Every state change, in one place each.

A status moves with a conditional UPDATE on the expected old value: zero rows means someone
else moved it first, and the caller gets a conflict rather than a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from takedown.choices import URLStatus
from takedown.models import InfringingURL, User


class Conflict(Exception):
    """The object was not in the expected state any more (someone else acted first)."""


class NotAllowed(Exception):
    """The user's role or agency does not allow this."""


def urls_set_status(
    *, url_ids: Sequence[int], to: str, allowed_from: Iterable[str], user: User
) -> int:
    """Move the given URLs of the user's agency from one of `allowed_from` to `to`.

    URLs in any other state, or of another agency, are left alone. Returns how many moved.
    """
    if to not in (URLStatus.DISMISSED, URLStatus.OPEN):
        raise ValueError("Only triage moves (open ↔ dismissed) are made by hand; checks move the rest.")
    qs = InfringingURL.objects.visible_to(user).filter(pk__in=url_ids, status__in=list(allowed_from))
    with transaction.atomic():
        return qs.update(status=to, updated_at=timezone.now())
