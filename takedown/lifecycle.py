"""A URL's status: every move it may make, declared once, and the functions that make them.

                 triage (by hand)
        open  <------------------->  dismissed
        |  ^
  sent  |  |  notice withdrawn; re-upload of a gone item
        v  |
      notified --------------------------+
        |   ^                            |  a confirmed verdict (rechecks):
        |   |  restriction lifted        |    removed, legally blocked, soft-removed
        v   |                            v
      restricted ------------------>  removed | legally_blocked | soft_removed
                  confirmed verdict          (one to another as verdicts change)

An open URL may also be confirmed gone straight away (it was already down when it was
checked at intake), and a restricted one goes back to open if no notice was ever sent.

Nothing else changes a URL's status: sending and withdrawing a notice (takedown.notices),
confirmed rechecks (takedown.rechecks), triage in the admin, and the demo data all go
through `MOVES`, so the admin's descriptions and the recheck planner read the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from takedown.choices import URLStatus, Verdict
from takedown.errors import Invalid, NotAllowed
from takedown.models import InfringingURL, User
from takedown.roles import role_has

OPEN, NOTIFIED, DISMISSED, RESTRICTED = (
    URLStatus.OPEN,
    URLStatus.NOTIFIED,
    URLStatus.DISMISSED,
    URLStatus.RESTRICTED,
)
GONE = (URLStatus.REMOVED, URLStatus.LEGALLY_BLOCKED, URLStatus.SOFT_REMOVED)

# A confirmed verdict moves a URL to this status (live moves it back: see `after_verdict`).
VERDICT_STATUS = {
    Verdict.REMOVED: URLStatus.REMOVED,
    Verdict.LEGALLY_BLOCKED: URLStatus.LEGALLY_BLOCKED,
    Verdict.SOFT_REMOVED: URLStatus.SOFT_REMOVED,
    Verdict.RESTRICTED: URLStatus.RESTRICTED,
}

# (from, to) -> why it may happen. Anything not here is refused.
MOVES: dict[tuple[str, str], str] = {
    (OPEN, DISMISSED): "triage",
    (DISMISSED, OPEN): "triage",
    (OPEN, NOTIFIED): "sent",
    (NOTIFIED, OPEN): "withdrawn",
    **{
        (source, target): "confirmed"
        for source in (OPEN, NOTIFIED, RESTRICTED, *GONE)
        for target in (*GONE, RESTRICTED)
        if source != target
    },
    **{(gone, OPEN): "reupload" for gone in GONE},
    (RESTRICTED, NOTIFIED): "lifted",
    (RESTRICTED, OPEN): "lifted",
}


def may_move(source: str, target: str) -> bool:
    return (source, target) in MOVES


def check_move(source: str, target: str) -> str:
    """The reason the move is allowed, or Invalid naming both states."""
    reason = MOVES.get((source, target))
    if reason is None:
        raise Invalid(f"A URL cannot go from {source} to {target}.")
    return reason


def after_verdict(url: InfringingURL, verdict: str) -> str:
    """The status a confirmed verdict leaves this URL in (its own status if nothing moves)."""
    target = VERDICT_STATUS.get(verdict)
    if target is None and verdict == Verdict.LIVE:
        if url.status in GONE:
            target = OPEN  # back after removal: a re-upload, it needs a new notice
        elif url.status == RESTRICTED:
            target = NOTIFIED if url.notified_at else OPEN
    if target is None or target == url.status or not may_move(url.status, target):
        return url.status
    return target


def would_move(url: InfringingURL, verdict: str) -> bool:
    """Would confirming this verdict change the URL's status? (What a recheck is confirming.)"""
    return after_verdict(url, verdict) != url.status


def confirm(url: InfringingURL, verdict: str, now: datetime) -> str:
    """Apply a confirmed verdict to a URL in memory (the caller saves it); returns the move."""
    target = after_verdict(url, verdict)
    if target == url.status:
        return ""
    reason = check_move(url.status, target)
    if reason == "reupload":
        # Back after removal: a new item to notify, with no notice behind it yet.
        url.reupload_count += 1
        url.removed_at = None
        url.notified_at = None
        url.deadline_at = None
    url.status = target
    if target == URLStatus.REMOVED:
        url.removed_at = url.streak_since or now
    if target in GONE:
        url.overdue_since = None
        url.escalation = ""
    return reason


def _bulk(qs: QuerySet, source: str, target: str, **fields) -> int:
    check_move(source, target)
    leaving = list(qs.filter(status=source).values_list("pk", flat=True)) if source == NOTIFIED else []
    moved = qs.filter(status=source).update(status=target, updated_at=timezone.now(), **fields)
    if leaving:
        urls_left_notified(leaving)
    return moved


def urls_left_notified(url_ids: Sequence[int]) -> None:
    """URLs no longer notified leave the escalation ladder's unsent drafts, and their open
    steps close (takedown.escalation), in the caller's transaction."""
    from takedown.escalation import escalations_settle

    escalations_settle(url_ids)


def urls_set_status(*, url_ids: Sequence[int], to: str, allowed_from: Iterable[str], user: User) -> int:
    """Triage by hand: move the given URLs of the user's agency between open and dismissed.

    Only triage moves are made by hand; notices and checks move the rest. URLs in any other
    state, or of another agency, are left alone. Returns how many moved.
    """
    sources = [s for s in allowed_from if MOVES.get((s, to)) == "triage"]
    if not sources:
        raise Invalid("Only triage moves (open ↔ dismissed) are made by hand; checks move the rest.")
    if not role_has(user, "change_infringingurl"):
        raise NotAllowed("Your role cannot change URLs.")
    qs = InfringingURL.objects.visible_to(user).filter(pk__in=url_ids)
    with transaction.atomic():
        return sum(_bulk(qs, source, to) for source in sources)


def urls_notified(
    urls: QuerySet, *, sent_at: datetime, deadline_at: datetime, first_check_at: datetime
) -> int:
    """A notice listing these URLs was sent: the open ones become notified and its clock starts."""
    return _bulk(
        urls,
        OPEN,
        NOTIFIED,
        notified_at=sent_at,
        deadline_at=deadline_at,
        next_check_at=first_check_at,
        streak_verdict="",
        streak_count=0,
    )


def urls_escalated(urls: QuerySet, *, deadline_at: datetime, first_check_at: datetime) -> int:
    """An escalation notice listing these URLs (notified elsewhere, still live past that
    deadline) was sent: the new recipient's clock replaces the old one. Nothing moves: the URL
    stays notified, from its first notice."""
    return urls.filter(status=NOTIFIED).update(
        deadline_at=deadline_at,
        overdue_since=None,
        escalation="",
        next_check_at=first_check_at,
        updated_at=timezone.now(),
    )


def urls_withdrawn(urls: QuerySet) -> int:
    """The notice listing these URLs was retracted: the still-notified ones are open again, and
    a restricted one no longer has a notice behind it (if it comes back, it is open, not notified)."""
    urls.filter(status=RESTRICTED).update(
        notified_at=None, deadline_at=None, overdue_since=None, updated_at=timezone.now()
    )
    return _bulk(
        urls, NOTIFIED, OPEN, notified_at=None, next_check_at=None, deadline_at=None, overdue_since=None
    )
