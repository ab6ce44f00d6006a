"""The escalation ladder: a URL still live past its deadline gets the next notice drafted, up
the ladder, for legal review; legal may skip a step with a reason.

Ladder for a host no registry platform covers: the CDN in front of it, the network hosting
it, the registrar, a site-operator contact staff recorded themselves (a discovered security.txt
contact is information only: the site's operator chose it), then search-engine delisting. The first notice goes to the first
of these that is known; the ladder carries on from the next. A registry platform's URL goes
from the platform to search-engine delisting. Each step is an `EscalationStep` (on the URL's
page): its notice goes through the same drafting, review and delivery as every notice, and
sending it starts that recipient's clock (lifecycle.urls_escalated).
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation

from takedown.choices import NoticeStatus, URLStatus
from takedown.contacts import services as contacts
from takedown.errors import Conflict, Invalid, NotAllowed
from takedown.lifecycle import GONE
from takedown.models import (
    AbuseContact,
    Agency,
    EscalationStep,
    HostLookup,
    InfringingURL,
    Notice,
    NoticeItem,
    Platform,
    User,
)
from takedown.notices.states import SENT_STATES, record_event
from takedown.roles import role_has

log = logging.getLogger(__name__)

Rung = EscalationStep.Rung
LADDER_UNLISTED = (Rung.CDN, Rung.HOST, Rung.REGISTRAR, Rung.SITE, Rung.SEARCH)
LADDER_PLATFORM = (Rung.SEARCH,)
SEARCH_PLATFORM = "google_search"
# A rung without a recipient is on the timeline when its absence is worth saying (no abuse desk
# found for the network or the registrar); a site without a CDN or a security.txt is normal.
WORTH_SAYING = {Rung.HOST, Rung.REGISTRAR, Rung.SEARCH}  # fmt: skip
# A discovery asks three or four servers, each within the probe's timeout: a few hosts per
# contacts tick, and the tick's time budget besides.
DISCOVERIES_PER_TICK = 3
# Steps still waiting for legal (a draft, or a rejected notice waiting for its revision): one at
# a time per URL.
UNDECIDED = (EscalationStep.State.DRAFTED, EscalationStep.State.REJECTED)
# Steps the ladder asks again (their row is reused): nobody to write to then, a notice cancelled
# before sending, a URL that stopped needing it and is overdue again.
ASK_AGAIN = (EscalationStep.State.NO_RECIPIENT, EscalationStep.State.CANCELLED, EscalationStep.State.CLOSED)
# Notice states in which a step's notice is still on its way (skipping it would race it).
IN_FLIGHT = (
    NoticeStatus.PENDING,
    NoticeStatus.APPROVED,
    NoticeStatus.SENDING,
    NoticeStatus.DELIVERY_FAILED,
    NoticeStatus.DELIVERY_UNKNOWN,
)


def ladder_for(url: InfringingURL) -> tuple[str, ...]:
    return (
        LADDER_PLATFORM
        if url.platform_id is not None and url.platform.slug != contacts.UNLISTED_SLUG
        else LADDER_UNLISTED
    )


def _recipient(url: InfringingURL, rung: str):
    """(platform, contact, route) for this rung, or (None, None, why not)."""
    if rung == Rung.SEARCH:
        platform = Platform.objects.filter(slug=SEARCH_PLATFORM, is_active=True).first()
        if platform is None:
            return None, None, "no search engine in the platform registry"
        route = contacts.route_for(platform, url)
        if route is None:
            return None, None, f"{platform.name} has no channel for this item's route"
        return platform, None, route
    contact = next(
        (c for c in contacts.recipients(url.host, agency_id=url.agency_id) if c.rung == rung), None
    )
    if contact is None:
        return None, None, f"no {_label(rung)} contact known for {url.host}"
    platform = contacts.platform_for(contact)
    route = contacts.route_for(platform, url, rung=contact.rung)
    if route is None:
        return None, None, f"{platform.name} has no channel for this item's route"
    return platform, contact, route


def escalation_draft(*, url_id: int, now: datetime | None = None) -> EscalationStep | None:
    """Draft the next step up the ladder for an overdue URL, for legal review.

    Does nothing (returns None) when the URL is not notified and overdue, when a step is
    already drafted and undecided, or when the ladder is exhausted (the URL's `escalation`
    then names what is left: KCSC, police). Rungs without a recipient are passed over, on the
    timeline where that says something. Safe to call twice at once: one step per rung per URL.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # One drafter per URL at a time (two sweeps, the tick and a skip, a removal): the status
        # is read under the row lock, so a URL removed or withdrawn meanwhile is not drafted.
        url = InfringingURL.objects.select_for_update().filter(pk=url_id).first()
        if url is None or url.status != URLStatus.NOTIFIED or url.overdue_since is None:
            return None
        steps = list(url.escalation_steps.all())
        if any(s.state in UNDECIDED for s in steps):
            return None
        # A rung that had no recipient is asked again: a contact may have been found or added
        # since (its step is then reused for the draft); so is one whose notice was cancelled.
        again = {s.rung: s for s in steps if s.state in ASK_AGAIN}
        taken = {s.rung for s in steps if s.rung not in again} | _rungs_notified(url)
        notified = _addresses_notified(url)
        for rung in ladder_for(url):
            if rung in taken:
                continue
            platform, contact, route_or_why = _recipient(url, rung)
            if platform is None:
                if rung in WORTH_SAYING and rung not in again:
                    EscalationStep.objects.create(
                        url=url, rung=rung, state=EscalationStep.State.NO_RECIPIENT, reason=route_or_why,
                        created_at=now,
                    )  # fmt: skip
                elif rung in again and again[rung].state != EscalationStep.State.NO_RECIPIENT:
                    # A cancelled or closed step with nobody to write to now: it says so, and
                    # is asked again only once a contact turns up (not at every tick).
                    _record(url, rung, again[rung], now, state=EscalationStep.State.NO_RECIPIENT,
                            reason=route_or_why)  # fmt: skip
                continue
            address = _address(platform, contact, route_or_why)
            if address in notified:
                # One mailbox on two rungs (a host whose abuse desk is also its registrar's): a
                # second notice to it is not a step up the ladder.
                _record(url, rung, again.get(rung), now, state=EscalationStep.State.SKIPPED,
                        reason=f"same recipient as {notified[address]}", contact=contact, platform=platform)  # fmt: skip
                continue
            return _draft(url, rung, platform, contact, route_or_why, now, reuse=again.get(rung))
    return None


def _label(rung: str) -> str:
    with translation.override("en"):  # stored reasons are in English, as everywhere
        return str(Rung(rung).label).lower() if rung in Rung.values else rung


def _address(platform: Platform, contact: AbuseContact | None, route: str) -> str:
    channel = contact.channel(route) if contact is not None else platform.channel_for(route)
    return ((channel.email or channel.url) if channel is not None else "").strip().lower()


def _addresses_notified(url: InfringingURL) -> dict[str, str]:
    """The addresses a sent notice listing this URL went to, each with who it was (a rung, or
    the platform's name for a first notice to a registry platform)."""
    seen: dict[str, str] = {}
    for row in NoticeItem.objects.filter(url=url, notice__status__in=SENT_STATES).values(
        "notice__recipient", "notice__ladder_rung", "notice__contact__rung", "notice__platform__name"
    ):
        address = (row["notice__recipient"] or "").strip().lower()
        rung = row["notice__ladder_rung"] or row["notice__contact__rung"]
        if address:
            seen.setdefault(address, _label(rung) if rung else row["notice__platform__name"])
    return seen


def _record(url, rung, reuse, now, *, state, reason, contact=None, platform=None) -> EscalationStep:
    step = reuse or EscalationStep(url=url, rung=rung)
    step.state, step.reason, step.created_at = state, reason, now
    step.contact, step.platform, step.notice = contact, platform, None
    step.decided_by, step.decided_at = None, now
    step.save()
    return step


def _rungs_notified(url: InfringingURL) -> set[str]:
    """The rungs whose recipients a sent notice listing this URL went to (an unlisted host's
    first notice goes to its first contact, which the ladder must not ask again)."""
    return set(
        NoticeItem.objects.filter(
            url=url, notice__status__in=SENT_STATES, notice__contact__isnull=False
        ).values_list("notice__contact__rung", flat=True)
    )


def _draft(url, rung, platform, contact, route, now, reuse: EscalationStep | None = None) -> EscalationStep:
    from takedown.notices.drafting import _fill_drafts

    try:
        with transaction.atomic():
            key = (url.artist_id, platform.pk, route, contact.pk if contact else None)
            notices = _fill_drafts(None, key, [url], ladder_rung=rung)
            step = reuse or EscalationStep(url=url, rung=rung)
            if reuse is not None:
                # Kept on the timeline: why this rung was not drafted, or not sent, before.
                step.reason = f"Earlier ({reuse.created_at:%Y-%m-%d %H:%M} UTC): {reuse.reason}"[:2000]
                step.decided_by, step.decided_at = None, None
            step.state = EscalationStep.State.DRAFTED
            step.contact, step.platform = contact, platform
            step.notice = notices[0] if notices else None
            step.created_at = now
            step.save()
            return step
    except IntegrityError:
        raise Conflict(
            f"The {rung} step of URL #{url.pk} was drafted at the same moment elsewhere."
        ) from None


def escalation_skip(*, step_id: int, user: User, reason: str) -> EscalationStep | None:
    """Legal passes over a drafted step, with a reason; the URL leaves that step's draft and the
    next step is drafted. Refused while the step's notice is under review or being delivered.
    Returns the next step drafted, if any."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why this step is skipped (it goes on the URL's timeline).")
    if not role_has(user, "review_notice"):
        raise NotAllowed("Only legal reviewers decide to skip an escalation step.")
    step = EscalationStep.objects.visible_to(user).select_related("notice", "url").filter(pk=step_id).first()
    if step is None:
        raise Invalid("No such escalation step in your agency.")
    with transaction.atomic():
        locked = EscalationStep.objects.select_for_update().filter(
            pk=step.pk, state__in=(*UNDECIDED, EscalationStep.State.CANCELLED)
        )
        if not locked.exists():
            raise Conflict("This step is no longer waiting for a decision.")
        # Every notice of this rung that lists the URL (the step's own, or a revision of it after
        # a rejection): one on its way refuses the skip; drafts lose the URL.
        live = Notice.objects.filter(
            ladder_rung=step.rung, items__url=step.url, status__in=(NoticeStatus.DRAFT, *IN_FLIGHT)
        ).order_by("pk")
        for notice in live:
            if notice.status in IN_FLIGHT:
                raise Conflict(
                    f"Notice #{notice.pk} of this step is {notice.get_status_display().lower()}: reject or cancel it first."
                )
        for notice in live:
            _leave_draft(notice, step.url, user, reason)
        locked.update(
            state=EscalationStep.State.SKIPPED, reason=reason, decided_by=user, decided_at=timezone.now()
        )
    return escalation_draft(url_id=step.url_id)


def _leave_draft(notice: Notice, url: InfringingURL, user: User, reason: str) -> None:
    if not Notice.objects.select_for_update().filter(pk=notice.pk, status=NoticeStatus.DRAFT).exists():
        raise Conflict(f"Notice #{notice.pk} changed while the step was skipped; try again.")
    NoticeItem.objects.filter(notice=notice, url=url).delete()
    record_event(
        notice,
        user=user,
        from_status=NoticeStatus.DRAFT,
        to_status=NoticeStatus.DRAFT,
        reason=f"Escalation step skipped: {reason}",
        data={"removed": [url.pk]},
    )


def _overdue_to_climb():
    """Overdue URLs the ladder may draft for: no undecided step, and a rung left to ask."""
    return (
        InfringingURL.objects.items()
        .filter(status=URLStatus.NOTIFIED, overdue_since__isnull=False)
        .exclude(escalation_steps__state__in=UNDECIDED)
        .filter(~Exists(_walked_to_the_end()) | Exists(_reopened()))
        .order_by("overdue_since", "pk")
    )


def _unlisted() -> Q:
    return Q(platform__isnull=True) | Q(platform__slug=contacts.UNLISTED_SLUG)


def escalations_sweep(*, limit: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """The housekeeping tick's part: draft the next step for overdue URLs without an undecided
    one. Database only: discovery (the network) is the contacts tick's (contacts_discover_due),
    and an unlisted host never looked up waits for it rather than skip to delisting."""
    now = now or timezone.now()
    limit = limit or settings.TAKEDOWN_LADDER_BATCH
    # A lookup only counts once a source has answered: one cut short by the time budget, or
    # failed, says nothing about the host's desks, and the ladder must not skip them.
    answered = HostLookup.objects.filter(host=OuterRef("host"), answered_at__isnull=False)
    never_looked_up = _unlisted() & ~Exists(answered)
    drafted = 0
    for url_id in _overdue_to_climb().exclude(never_looked_up).values_list("pk", flat=True)[:limit]:
        try:
            if escalation_draft(url_id=url_id, now=now) is not None:
                drafted += 1
        except Conflict:
            continue
    return {"drafted": drafted}


def contacts_discover_due(
    *, budget_seconds: float | None = None, limit: int | None = None, now: datetime | None = None
) -> dict[str, int]:
    """The contacts tick: discover the contacts of overdue URLs' unlisted hosts with no fresh
    lookup, one host after another, within ``budget_seconds`` (TAKEDOWN_DISCOVERY_BUDGET_SECONDS)
    in all: a slow registry costs this tick its budget, never the delivery or the rollups (a
    separate task). A discovery cut short by the budget is recorded as unknown (asked again
    within the hour, and the ladder keeps waiting for that host); hosts not reached wait for
    the next tick. A host is started only while the budget left covers one discovery's time
    (discovery_timeout), except the tick's first, which gets what the budget allows."""
    started = time.monotonic()
    now = now or timezone.now()
    budget = float(budget_seconds or settings.TAKEDOWN_DISCOVERY_BUDGET_SECONDS)
    each = discovery_timeout()
    limit = limit or DISCOVERIES_PER_TICK
    fresh = HostLookup.objects.filter(host=OuterRef("host"), expires_at__gt=now)
    hosts = list(
        _overdue_to_climb()
        .filter(_unlisted())
        .exclude(Exists(fresh))
        .order_by()
        .values_list("host", flat=True)
        .distinct()[:limit]
    )
    looked_up = deferred = 0
    for n, host in enumerate(hosts):
        left = budget - (time.monotonic() - started)
        if left < 1 or (n and left < each):
            deferred = len(hosts) - n
            break
        try:
            contacts.host_discover(target=host, now=now, timeout=min(left, each))
            looked_up += 1
        except Invalid as exc:
            log.warning("no discovery for %s: %s", host, exc)
            contacts.lookup_failed(host, str(exc), now=now)
        except Exception as exc:  # one host's failure must not stop the tick for the others
            log.exception("discovery for %s failed", host)
            contacts.lookup_failed(host, f"discovery failed ({type(exc).__name__})", now=now)
    return {"looked_up": looked_up, "deferred": deferred}


def discovery_timeout() -> float:
    """How long one host's discovery may take: a name resolution and one slow answer (the
    probe's connect and total timeouts). Its requests run one after another, each within the
    probe's timeout; one host's registries all hanging is cut short here, as unknown."""
    return float(settings.TAKEDOWN_PROBE_CONNECT_TIMEOUT + settings.TAKEDOWN_PROBE_TIMEOUT)


def _walked_to_the_end():
    """A URL whose ladder reached its last rung (search-engine delisting) and was decided there:
    nothing is left to draft, so it must not hold a place in the batch."""
    return EscalationStep.objects.filter(url=OuterRef("pk"), rung=Rung.SEARCH).exclude(
        state__in=(*UNDECIDED, EscalationStep.State.CANCELLED, EscalationStep.State.CLOSED)
    )


def _reopened():
    """...unless a rung is to be asked again: one that had no recipient has one now, or one
    whose notice was cancelled or whose URL stopped needing it (and is overdue again)."""
    found = AbuseContact.objects.usable_by(OuterRef("url__agency_id")).filter(
        host=OuterRef("url__host"), rung=OuterRef("rung")
    )
    return EscalationStep.objects.filter(url=OuterRef("pk")).filter(
        (Q(state=EscalationStep.State.NO_RECIPIENT) & Exists(found))
        | Q(state__in=(EscalationStep.State.CANCELLED, EscalationStep.State.CLOSED))
    )


# -- keeping the steps in step with their notices and URLs -------------------------------


def steps_follow_notice(notice: Notice, to_status: str, reason: str = "") -> int:
    """A ladder notice was rejected or cancelled: its undecided steps say so. A rejected one
    waits for its revision (notice_revise points the step at it) or a skip; a cancelled one is
    drafted again by the next sweep. Returns the steps changed."""
    state = {
        NoticeStatus.REJECTED: EscalationStep.State.REJECTED,
        NoticeStatus.CANCELLED: EscalationStep.State.CANCELLED,
    }.get(to_status)
    if not notice.ladder_rung or state is None:
        return 0
    return EscalationStep.objects.filter(
        url__notice_items__notice=notice, rung=notice.ladder_rung, state__in=UNDECIDED
    ).update(
        state=state,
        notice=notice,
        reason=(f"Notice #{notice.pk} {to_status}" + (f": {reason}" if reason else ""))[:2000],
        decided_at=timezone.now(),
    )


def steps_follow_revision(old: Notice, new: Notice) -> int:
    """A rejected ladder notice was revised: its steps wait for the revision now."""
    if not old.ladder_rung:
        return 0
    return EscalationStep.objects.filter(
        url__notice_items__notice=new, rung=old.ladder_rung, state=EscalationStep.State.REJECTED
    ).update(state=EscalationStep.State.DRAFTED, notice=new, decided_at=None)


def escalations_settle(url_ids, *, now: datetime | None = None) -> int:
    """URLs that left "notified" (removed, blocked, restricted, withdrawn): they leave the
    unsent drafts of the ladder, and their open steps are closed with the URL's status as the
    outcome. A ladder notice already under review or approved keeps its items (legal reviewed
    those bytes) and is refused at approval and at sending (drafting.standing_problems): it is
    rejected or cancelled, never sent for a URL that left "notified". Returns the steps closed."""
    now = now or timezone.now()
    open_steps = (*UNDECIDED, EscalationStep.State.CANCELLED)
    urls = list(
        InfringingURL.objects.filter(pk__in=list(url_ids))
        .exclude(status=URLStatus.NOTIFIED)
        .filter(escalation_steps__state__in=open_steps)
        .values_list("pk", "status")
        .distinct()
    )
    closed = 0
    for url_id, status in urls:
        with transaction.atomic():
            drafts = (
                Notice.objects.select_for_update()
                .filter(status=NoticeStatus.DRAFT, items__url_id=url_id)
                .exclude(ladder_rung="")
                .order_by("pk")
            )
            for notice in drafts:
                NoticeItem.objects.filter(notice=notice, url_id=url_id).delete()
                record_event(
                    notice,
                    user=None,
                    from_status=NoticeStatus.DRAFT,
                    to_status=NoticeStatus.DRAFT,
                    reason=f"URL #{url_id} is {status}: it left this escalation draft.",
                    data={"removed": [url_id]},
                )
            closed += EscalationStep.objects.filter(url_id=url_id, state__in=open_steps).update(
                state=EscalationStep.State.CLOSED, reason=f"The URL is {status}.", decided_at=now
            )
    return closed


# -- read side ----------------------------------------------------------------------------


def recipient_figures(agency: Agency | None) -> list[dict]:
    """Per recipient of an unlisted host's notice or an escalation step: notices sent, URLs
    listed, URLs removed since, removal rate, median hours to removal, steps skipped."""
    items = NoticeItem.objects.filter(notice__status__in=SENT_STATES).filter(
        Q(notice__contact__isnull=False) | ~Q(notice__ladder_rung="")
    )
    # Legal's skips: a rung passed over by the system (same recipient as an earlier one) is not
    # a judgement on its recipient.
    steps = EscalationStep.objects.filter(state=EscalationStep.State.SKIPPED, decided_by__isnull=False)
    if agency is not None:
        items = items.filter(notice__agency=agency)
        steps = steps.filter(url__artist__agency=agency)
    rows: dict[tuple[str, str], dict] = {}
    hours: dict[tuple[str, str], list[float]] = defaultdict(list)
    notices: dict[tuple[str, str], set[int]] = defaultdict(set)
    for item in items.values(
        "notice_id", "notice__sent_at", "notice__contact__name", "notice__contact__host", "notice__platform__name",
        "notice__ladder_rung", "notice__recipient", "url__status", "url__removed_at",
    ):  # fmt: skip
        name = item["notice__contact__name"] or item["notice__platform__name"]
        key = (name, item["notice__recipient"])
        row = rows.setdefault(
            key,
            {"recipient": name, "address": item["notice__recipient"], "host": item["notice__contact__host"] or "",
             "urls": 0, "removed": 0, "skipped": 0},
        )  # fmt: skip
        notices[key].add(item["notice_id"])
        row["urls"] += 1
        removed_at, sent_at = item["url__removed_at"], item["notice__sent_at"]
        if item["url__status"] in GONE and removed_at and sent_at and removed_at >= sent_at:
            row["removed"] += 1
            hours[key].append((removed_at - sent_at).total_seconds() / 3600)
    for step in steps.select_related("contact", "platform"):
        key = next((k for k in rows if k[0] == step.recipient), (step.recipient, ""))
        rows.setdefault(
            key,
            {
                "recipient": step.recipient or "-",
                "address": "",
                "host": "",
                "urls": 0,
                "removed": 0,
                "skipped": 0,
            },
        )["skipped"] += 1
    out = []
    for key, row in rows.items():
        row["notices"] = len(notices[key])
        row["removal_rate"] = round(row["removed"] / row["urls"], 3) if row["urls"] else None
        row["median_hours"] = round(statistics.median(hours[key]), 1) if hours[key] else None
        out.append(row)
    return sorted(out, key=lambda r: (-r["urls"], r["recipient"]))
