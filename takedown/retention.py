"""Retention: how long URL checks are kept, and the notices kept after an artist's erasure.

A URL check is evidence of one look at a page; its title and excerpt are the page's own words,
which may name or describe the person depicted, while its hashes, status and verdict are
metadata. Once a check is older than `TAKEDOWN_RETAIN_CHECKS_DAYS` it is

- kept whole when it is the latest check of its URL (the URL's evidence as the admin, the API
  and the next notice show it), or when its URL is in an open notice (under review or with the
  platform: legal may need every observation until the notice ends);
- kept as metadata, without its title and excerpt, when the record rests on it: the run of
  identical verdicts that confirmed a status change (the confirming checks of a removal, read
  with the rules of takedown.rechecks), and the latest check before each notice listing the URL
  was submitted (what the notice said about the URL) and sent;
- deleted otherwise.

After an artist's erasure (takedown.erasure), the notices kept as evidence of what was asserted
are deleted `TAKEDOWN_RETAIN_ERASED_NOTICES_DAYS` after their last event, and the artist's
pseudonymous row with the last of them.

Both run daily (takedown.schedules) and from `manage.py apply_retention`; both are idempotent.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from takedown import chain, rechecks
from takedown.choices import CaseStatus, ChainKind, NoticeStatus, Verdict
from takedown.models import Artist, Erasure, InfringingURL, Notice, NoticeEvent, NoticeItem, URLCheck

# A notice in any other state is open: submitted and not yet ended (a draft asserts nothing yet;
# its URLs' latest checks, which it would use, are kept whole anyway).
NOT_OPEN = (NoticeStatus.DRAFT, NoticeStatus.REJECTED, NoticeStatus.CLOSED, NoticeStatus.WITHDRAWN)

# URLs whose checks are judged together: one query for their checks, one for their notices.
CHUNK = 500


@dataclass(frozen=True)
class Seen:
    """One check as the confirmation rules read it (takedown.rechecks.confirmations_needed)."""

    id: int
    checked_at: datetime
    verdict: str
    rule: str


@dataclass
class _Streak:
    streak_since: datetime | None = None


def confirming_checks(checks: Sequence[Seen], resets: Iterable[datetime] = ()) -> set[int]:
    """The checks each status change rested on: every run of identical conclusive verdicts that
    confirmed a verdict other than the last one confirmed (a URL starts out live), from the run's
    first check to the one that confirmed it, counted as takedown.rechecks.apply_result counts
    them: inconclusive checks neither count nor break a run, and sending a notice (at each of
    `resets`) starts the count afresh. `checks` are in the order they were made."""
    pending = sorted(resets)
    kept: set[int] = set()
    shown = Verdict.LIVE  # what the last confirmed run said
    verdict, run, confirmed = "", [], False
    streak = _Streak()
    for check in checks:
        while pending and pending[0] <= check.checked_at:
            pending.pop(0)
            verdict, run, confirmed = "", [], False
        if check.verdict == Verdict.INCONCLUSIVE:
            continue
        if check.verdict != verdict:
            verdict, run, confirmed = check.verdict, [], False
            streak.streak_since = check.checked_at
        run.append(check.id)
        if (
            not confirmed
            and len(run) >= rechecks.confirmations_needed(check)
            and rechecks.confirmation_spans_enough(streak, check)
        ):
            confirmed = True
            if verdict != shown:
                kept.update(run)
                shown = verdict
    return kept


def checks_before(checks: Sequence[Seen], moments: Iterable[datetime]) -> set[int]:
    """The latest check at or before each moment (what a notice submitted or sent then rested on)."""
    times = [c.checked_at for c in checks]
    kept = set()
    for moment in moments:
        at = bisect.bisect_right(times, moment)
        if at:
            kept.add(checks[at - 1].id)
    return kept


@dataclass
class _URLNotices:
    """What the notices listing one URL say about its checks."""

    open: bool = False
    moments: list[datetime] = field(default_factory=list)  # submitted and sent: what they rested on
    sent: list[datetime] = field(default_factory=list)  # each sending restarts the confirmation count


def _notices_of(url_ids: list[int]) -> dict[int, _URLNotices]:
    found: dict[int, _URLNotices] = defaultdict(_URLNotices)
    rows = NoticeItem.objects.filter(url_id__in=url_ids).values_list(
        "url_id", "notice__status", "notice__submitted_at", "notice__sent_at"
    )
    for url_id, status, submitted_at, sent_at in rows:
        entry = found[url_id]
        entry.open = entry.open or status not in NOT_OPEN
        entry.moments += [t for t in (submitted_at, sent_at) if t is not None]
        entry.sent += [sent_at] if sent_at is not None else []
    return found


def judge(checks: Sequence[Seen], notices: _URLNotices | None, cutoff: datetime) -> tuple[set[int], set[int]]:
    """One URL's checks (in order) -> (ids to delete, ids to strip of title and excerpt)."""
    old = {c.id for c in checks if c.checked_at < cutoff}
    if not old or (notices is not None and notices.open):
        return set(), set()
    needed = confirming_checks(checks, notices.sent if notices else ())
    if notices is not None:
        needed |= checks_before(checks, notices.moments)
    whole = {checks[-1].id}
    return old - whole - needed, (old & needed) - whole


@dataclass
class RetentionReport:
    checks_deleted: int = 0
    checks_stripped: int = 0
    notices_deleted: int = 0
    artists_deleted: int = 0

    def __str__(self) -> str:
        return (
            f"checks: {self.checks_deleted} deleted, {self.checks_stripped} kept without title and excerpt; "
            f"erased artists' notices: {self.notices_deleted} deleted, {self.artists_deleted} artists gone"
        )


def _in_chunks(ids: Sequence[int], size: int = CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def checks_retain(*, now: datetime, days: int, dry_run: bool = False) -> tuple[int, int]:
    """Apply the check retention (see the module); returns (deleted, stripped). 0 days: nothing."""
    if days <= 0:
        return 0, 0
    cutoff = now - timedelta(days=days)
    url_ids = list(
        URLCheck.objects.filter(checked_at__lt=cutoff)
        # Legal hold: a URL in a case not yet closed keeps every check and its words.
        .exclude(url__case_links__case__status__in=[CaseStatus.PROPOSED, CaseStatus.OPEN])
        .order_by("url_id")
        .values_list("url_id", flat=True)
        .distinct()
    )
    deleted = stripped = 0
    for chunk in _in_chunks(url_ids):
        by_url: dict[int, list[Seen]] = defaultdict(list)
        rows = (
            URLCheck.objects.filter(url_id__in=chunk)
            .order_by("url_id", "checked_at", "id")
            .values_list("url_id", "id", "checked_at", "verdict", "rule")
        )
        for url_id, *seen in rows:
            by_url[url_id].append(Seen(*seen))
        notices = _notices_of(chunk)
        to_delete: list[int] = []
        to_strip: list[int] = []
        for url_id, checks in by_url.items():
            gone, bare = judge(checks, notices.get(url_id), cutoff)
            to_delete += gone
            to_strip += bare
        stripping = URLCheck.objects.filter(pk__in=to_strip).exclude(title="", excerpt="")
        if dry_run:
            deleted += len(to_delete)
            stripped += stripping.count()
            continue
        with transaction.atomic():
            for ids in _in_chunks(to_delete):
                named = chain.record_deletions(reason="retention", checks=URLCheck.objects.filter(pk__in=ids))
                deleted += URLCheck.objects.filter(pk__in=named[ChainKind.CHECK]).delete()[0]
            stripped += stripping.update(title="", excerpt="")
    return deleted, stripped


def erased_notice_keep_until(last_event_at: datetime, days: int | None = None) -> datetime:
    """Until when a notice sent for an erased artist is kept: its last event (sending, a
    counter-notice, closing, withdrawal) plus the retention period."""
    days = settings.TAKEDOWN_RETAIN_ERASED_NOTICES_DAYS if days is None else days
    return last_event_at + timedelta(days=days)


def with_last_event(notices):
    """Notices annotated with `last_event_at`: their latest event, or when they were sent."""
    return notices.annotate(last_event_at=Coalesce(Max("events__at"), "sent_at", "created_at"))


def erased_notices_expire(*, now: datetime, days: int, dry_run: bool = False) -> tuple[int, int]:
    """Delete the notices an erasure kept once their time has come, and the artist's pseudonymous
    row with the last of them; returns (notices deleted, artists deleted)."""
    notices_deleted = artists_deleted = 0
    for erasure in Erasure.objects.filter(finished_at__isnull=True).order_by("pk"):
        kept_ids = [entry["id"] for entry in erasure.kept.get("notices", [])]
        kept = with_last_event(Notice.objects.filter(pk__in=kept_ids, artist_id=erasure.artist_ref))
        expired = [n.pk for n in kept if erased_notice_keep_until(n.last_event_at, days) <= now]
        # Anything else on the row (kept notices still in their time, or URLs and notices added to
        # the pseudonymous artist since the erasure) keeps it.
        others = Notice.objects.filter(artist_id=erasure.artist_ref).exclude(pk__in=expired).exists()
        others = others or InfringingURL.objects.filter(artist_id=erasure.artist_ref).exists()
        notices_deleted += len(expired)
        artists_deleted += int(not others)
        if dry_run:
            continue
        with transaction.atomic():
            chain.record_deletions(
                reason="retention of an erased artist's notices",
                notice_events=NoticeEvent.objects.filter(notice_id__in=expired),
            )
            Notice.objects.filter(pk__in=expired).delete()
            if not others:
                Artist.objects.filter(pk=erasure.artist_ref).delete()
                Erasure.objects.filter(pk=erasure.pk).update(finished_at=now)
    return notices_deleted, artists_deleted


def retention_apply(*, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Apply both retention rules with the configured periods (see the module)."""
    now = now or timezone.now()
    report = RetentionReport()
    report.checks_deleted, report.checks_stripped = checks_retain(
        now=now, days=settings.TAKEDOWN_RETAIN_CHECKS_DAYS, dry_run=dry_run
    )
    report.notices_deleted, report.artists_deleted = erased_notices_expire(
        now=now, days=settings.TAKEDOWN_RETAIN_ERASED_NOTICES_DAYS, dry_run=dry_run
    )
    return report


def retention_tick() -> str:
    """django-q2's daily entry point (takedown.schedules)."""
    return str(retention_apply())
