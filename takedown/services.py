"""Every state change, in one place each.

A status moves with a conditional UPDATE on the expected old value: zero rows means someone
else moved it first, and the caller gets `Conflict` rather than a silent overwrite. Each
transition of a notice writes its NoticeEvent in the same transaction; emails and tasks are
deferred to `transaction.on_commit`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone, translation

from takedown import legal, rendering
from takedown.choices import (
    Category,
    ChannelKind,
    LegalRoute,
    Locale,
    NoticeOutcome,
    NoticeStatus,
    URLStatus,
)
from takedown.models import (
    Artist,
    CounterNotice,
    InfringingURL,
    Job,
    Notice,
    NoticeEvent,
    NoticeItem,
    NoticeTemplate,
    URLCheck,
    User,
)
from takedown.roles import role_has
from takedown.urltools import UnsafeURL, normalize_url, official_matcher

log = logging.getLogger(__name__)

# A notice in one of these states holds its URLs: they are not drafted into another one.
ACTIVE_NOTICE_STATES = (NoticeStatus.DRAFT, NoticeStatus.PENDING, NoticeStatus.APPROVED)
SENT_STATES = (NoticeStatus.SENT, NoticeStatus.ACKNOWLEDGED, NoticeStatus.CLOSED)


class Conflict(Exception):
    """The object was not in the expected state any more (someone else acted first)."""


class NotAllowed(Exception):
    """The user's role does not allow this (or it is their own notice to review)."""


class Invalid(ValueError):
    """The request itself is wrong: a missing reason, an unknown outcome..."""


class PresendFailed(Invalid):
    """Pre-send checks found problems; `problems` lists each, ready to show."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# -- URLs ------------------------------------------------------------------------------------


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


# -- notices: drafting -------------------------------------------------------------------------


def default_locale(route: str) -> str:
    return Locale.KO if route in (LegalRoute.KR_TBA, LegalRoute.KR_NETWORK) else Locale.EN


def _event(
    notice: Notice,
    *,
    user: User | None,
    from_status: str,
    to_status: str,
    reason: str = "",
    data: dict | None = None,
) -> NoticeEvent:
    return NoticeEvent.objects.create(
        notice=notice,
        actor=user,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
    )


def notices_prepare(
    *, user: User, url_ids: Sequence[int] | None = None, artist_id: int | None = None
) -> tuple[list[Notice], int]:
    """Group open URLs into draft notices per (artist, platform, legal route).

    Takes the given URLs (or all of an artist's) that are open and not already held by a
    draft, pending or approved notice; adds them to an existing draft for the same group or
    starts one. Returns the notices touched and how many URLs were left out because no
    platform matches their host (they have nobody to notify yet).
    """
    if not role_has(user, "add_notice"):
        raise NotAllowed("Your role cannot draft notices.")
    qs = (
        InfringingURL.objects.visible_to(user)
        .items()  # a row linked to another as the same item is noticed through that one
        .filter(status=URLStatus.OPEN)
        .exclude(notice_items__notice__status__in=ACTIVE_NOTICE_STATES)
    )
    if url_ids is not None:
        qs = qs.filter(pk__in=url_ids)
    if artist_id is not None:
        qs = qs.filter(artist_id=artist_id)
    urls = list(qs.select_related("artist").order_by("discovered_at", "pk"))
    groups: dict[tuple[int, int, str], list[InfringingURL]] = defaultdict(list)
    skipped = 0
    for url in urls:
        if url.platform_id is None:
            skipped += 1
            continue
        groups[(url.artist_id, url.platform_id, url.legal_route)].append(url)
    touched: list[Notice] = []
    with transaction.atomic():
        for (artist_id_, platform_id, route), members in groups.items():
            notice = (
                Notice.objects.filter(
                    artist_id=artist_id_,
                    platform_id=platform_id,
                    legal_route=route,
                    status=NoticeStatus.DRAFT,
                )
                .order_by("pk")
                .first()
            )
            if notice is None:
                notice = Notice.objects.create(
                    agency_id=members[0].artist.agency_id,
                    artist_id=artist_id_,
                    platform_id=platform_id,
                    legal_route=route,
                    locale=default_locale(route),
                    created_by=user,
                )
                _event(
                    notice,
                    user=user,
                    from_status="",
                    to_status=NoticeStatus.DRAFT,
                    data={"urls": len(members)},
                )
            else:
                # Whoever adds items shapes what is sent: the event makes them a contributor,
                # who may then not approve it (notice_contributors).
                _event(
                    notice,
                    user=user,
                    from_status=NoticeStatus.DRAFT,
                    to_status=NoticeStatus.DRAFT,
                    reason="URLs added",
                    data={"added": [u.pk for u in members]},
                )
            NoticeItem.objects.bulk_create(
                [NoticeItem(notice=notice, url=u) for u in members], ignore_conflicts=True
            )
            touched.append(notice)
    return touched, skipped


def notice_create(
    *, user: User, artist_id: int, platform_id: int, legal_route: str, locale: str | None = None
) -> Notice:
    """Start an empty draft by hand for an artist of the user's agency."""
    if not role_has(user, "add_notice"):
        raise NotAllowed("Your role cannot draft notices.")
    artist = Artist.objects.visible_to(user).filter(pk=artist_id).first()
    if artist is None:
        raise Invalid("No such artist in your agency.")
    with transaction.atomic():
        notice = Notice.objects.create(
            agency_id=artist.agency_id,
            artist=artist,
            platform_id=platform_id,
            legal_route=legal_route,
            locale=locale or default_locale(legal_route),
            created_by=user,
        )
        _event(notice, user=user, from_status="", to_status=NoticeStatus.DRAFT)
    return notice


def notice_remove_items(*, notice_id: int, user: User, item_ids: Sequence[int]) -> int:
    """Take items out of a draft. Removing shapes what is sent, so it counts as contributing."""
    if not role_has(user, "delete_noticeitem"):
        raise NotAllowed("Your role cannot change notices.")
    notice = _get(notice_id, user)
    with transaction.atomic():
        locked = Notice.objects.select_for_update().filter(pk=notice.pk, status=NoticeStatus.DRAFT)
        if not locked.exists():
            raise Conflict(f"Notice #{notice.pk} is not a draft any more; its items are frozen.")
        items = NoticeItem.objects.filter(notice=notice, pk__in=item_ids)
        urls = list(items.values_list("url_id", flat=True))
        removed, _ = items.delete()
        if removed:
            _event(
                notice,
                user=user,
                from_status=NoticeStatus.DRAFT,
                to_status=NoticeStatus.DRAFT,
                reason="URLs removed",
                data={"removed": urls},
            )
    return removed


def notice_change_language(*, notice_id: int, user: User, locale: str) -> Notice:
    """Change a draft's language, which chooses the template and the words that are sent: it
    is on the timeline and counts its author as a contributor (four-eyes)."""
    if not role_has(user, "change_notice"):
        raise NotAllowed("Your role cannot change notices.")
    if locale not in Locale.values:
        raise Invalid(f"{locale!r} is not a notice language.")
    notice = _get(notice_id, user)
    if notice.locale == locale:
        return notice
    with transaction.atomic():
        return _move(
            notice,
            user=user,
            expected=NoticeStatus.DRAFT,
            to=NoticeStatus.DRAFT,
            reason=f"Language changed: {notice.locale} → {locale}",
            data={"locale": [notice.locale, locale]},
            locale=locale,
        )


def notice_contributors(notice: Notice) -> set[int]:
    """Everyone who shaped what this notice sends: who drafted it, added or removed its items,
    or submitted it, on this notice and the rejected ones it revises.

    Read from the audit events (every draft-shaping transition ends in draft or pending), so
    no path that writes an event can bypass it.
    """
    ids = {notice.created_by_id, notice.submitted_by_id}
    current: Notice | None = notice
    seen: set[int] = set()
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        ids.update(
            NoticeEvent.objects.filter(
                notice=current, to_status__in=[NoticeStatus.DRAFT, NoticeStatus.PENDING]
            ).values_list("actor_id", flat=True)
        )
        ids.add(current.created_by_id)
        current = current.revision_of
    ids.discard(None)
    return ids


def may_review(notice: Notice, user: User) -> bool:
    """The four-eyes rule in one place: a legal reviewer who did not shape the notice."""
    return role_has(user, "review_notice") and user.pk not in notice_contributors(notice)


def choose_template(
    *, agency_id: int | None, route: str, locale: str, platform_id: int | None
) -> NoticeTemplate | None:
    """The active template for the agency, route and locale.

    The agency's own copies win over the shipped defaults (its legal team chose that wording);
    within each, the platform's own wins over the generic one. Another agency's templates are
    never candidates.
    """
    candidates = (
        NoticeTemplate.objects.usable_by(agency_id)
        .filter(legal_route=route, locale=locale, is_active=True)
        .filter(Q(platform_id=platform_id) | Q(platform__isnull=True))
        .order_by(F("agency_id").asc(nulls_last=True), F("platform_id").asc(nulls_last=True), "-version")
    )
    return candidates.first()


def notice_template(notice: Notice) -> NoticeTemplate | None:
    return choose_template(
        agency_id=notice.agency_id,
        route=notice.legal_route,
        locale=notice.locale,
        platform_id=notice.platform_id,
    )


def notice_context(notice: Notice, *, today: date | None = None) -> dict:
    """The plain-data context a notice template sees: no model instances, no settings."""
    agency, artist, platform = notice.agency, notice.artist, notice.platform
    latest = URLCheck.objects.filter(url=OuterRef("url_id")).order_by("-checked_at", "-pk")
    items = (
        NoticeItem.objects.filter(notice=notice)
        .select_related("url")
        .annotate(
            check_sha=Subquery(latest.values("body_sha256")[:1]),
            check_status=Subquery(latest.values("http_status")[:1]),
            check_title=Subquery(latest.values("title")[:1]),
        )
        .order_by("url__discovered_at", "url_id")
    )
    locale = notice.locale
    local_today = today or timezone.localdate()
    with translation.override(locale):
        route_label = str(LegalRoute(notice.legal_route).label)
        categories = {c.value: str(c.label) for c in Category}
    return {
        "agency": {
            "name": agency.name,
            "name_ko": agency.name_ko,
            "address": agency.address,
            "email": agency.email,
            "phone": agency.phone,
            "website": agency.website,
        },
        "signatory": {
            "name": agency.signatory_name,
            "title": agency.signatory_title,
            "email": agency.email,
            "phone": agency.phone,
        },
        "artist": {"name": artist.name, "name_ko": artist.name_ko, "aliases": list(artist.aliases or [])},
        "platform": {
            "name": platform.name,
            "slug": platform.slug,
            "channel_url": platform.channel_url,
            "channel_email": platform.channel_email,
        },
        "route": {"code": notice.legal_route, "label": route_label},
        "works": [
            {"title": r.title, "description": r.description, "url": r.original_url}
            for r in artist.rights.order_by("title")
        ],
        "items": [
            {
                "url": item.url.normalized_url,
                "category": item.url.category,
                "category_label": categories.get(item.url.category, item.url.category),
                "discovered_at": timezone.localtime(item.url.discovered_at).date().isoformat(),
                "title": item.check_title or "",
                "body_sha256": item.check_sha or "",
                "http_status": item.check_status,
            }
            for item in items
        ],
        "notice": {"reference": notice_reference(notice), "date": local_today.isoformat(), "locale": locale},
    }


def notice_reference(notice: Notice) -> str:
    return f"TD-{notice.pk:06d}"


def presend_problems(
    notice: Notice, *, context: dict | None = None, now: datetime | None = None
) -> list[str]:
    """Everything that stops this notice from going to legal, one clear sentence each."""
    now = now or timezone.now()
    problems: list[str] = []
    context = context if context is not None else notice_context(notice)
    platform = notice.platform
    items = list(notice.items.select_related("url"))
    if not items:
        problems.append("The notice lists no URLs.")
    missing = legal.missing_elements(notice.legal_route, context)
    if notice.legal_route == LegalRoute.DMCA and not context["works"]:
        problems.append(
            f"The DMCA route needs a rights record: add the work {notice.artist.name}'s agency owns "
            "(Artists → Rights records), or choose another route."
        )
        missing = [code for code in missing if code != "copyrighted_work"]
    problems.extend(legal.describe(notice.legal_route, missing))
    official = official_matcher(notice.artist)
    for item in items:
        # The URL as reported names the account even where its canonical form does not
        # (x.com/<artist>/status/1 is stored as x.com/i/status/1).
        try:
            norm = normalize_url(item.url.url)
        except UnsafeURL:
            norm = normalize_url(item.url.normalized_url)
        hit = official.covers(norm)
        if hit:
            problems.append(
                f"{item.url.normalized_url} is on {notice.artist.name}'s official allow-list ({hit})."
            )
        if item.url.same_as_id is not None:
            problems.append(
                f"{item.url.normalized_url} is the same item as URL #{item.url.same_as_id}: "
                "remove it from this notice, the item is noticed once."
            )
        if item.url.status != URLStatus.OPEN:
            problems.append(
                f"{item.url.normalized_url} is {item.url.get_status_display().lower()}, not open."
            )
    days = settings.TAKEDOWN_RENOTIFY_DAYS
    if days and items:
        recent = (
            NoticeItem.objects.filter(
                notice__platform=platform,
                notice__status__in=SENT_STATES,
                notice__sent_at__gte=now - timedelta(days=days),
                url__normalized_url__in=[i.url.normalized_url for i in items],
            )
            .exclude(notice=notice)
            .values_list("url__normalized_url", "notice_id")
        )
        for url, other in recent:
            problems.append(
                f"{url} was already notified to {platform.name} in notice #{other} in the last {days} days."
            )
    if (
        platform.channel_kind == ChannelKind.NONE
        or (platform.channel_kind == ChannelKind.EMAIL and not platform.channel_email)
        or (platform.channel_kind == ChannelKind.WEBFORM and not platform.channel_url)
    ):
        problems.append(
            f"{platform.name} has no reporting channel in the platform registry; record one first."
        )
    if notice_template(notice) is None:
        problems.append(
            f"No active {notice.get_locale_display()} template for {notice.get_legal_route_display()}."
        )
    return problems


# -- notices: the workflow ---------------------------------------------------------------------


def _get(notice_id: int, user: User) -> Notice:
    return Notice.objects.visible_to(user).select_related("agency", "artist", "platform").get(pk=notice_id)


def _move(
    notice: Notice,
    *,
    user: User | None,
    expected: str,
    to: str,
    reason: str = "",
    data: dict | None = None,
    **fields,
) -> Notice:
    """The one conditional UPDATE every transition goes through."""
    moved = Notice.objects.filter(pk=notice.pk, status=expected).update(status=to, **fields)
    if not moved:
        current = Notice.objects.filter(pk=notice.pk).values_list("status", flat=True).first()
        raise Conflict(f"Notice #{notice.pk} is {current}, not {expected}: someone else acted on it first.")
    _event(notice, user=user, from_status=expected, to_status=to, reason=reason, data=data)
    notice.refresh_from_db()
    return notice


def notice_submit(*, notice_id: int, user: User) -> Notice:
    """Run the pre-send checks, render and freeze the notice, and put it in legal's queue.

    Raises PresendFailed with every problem found, NotAllowed, Conflict, or
    rendering.TemplateError when the template cannot render this notice.
    """
    if not role_has(user, "change_notice"):
        raise NotAllowed("Your role cannot submit notices.")
    notice = _get(notice_id, user)
    if notice.status != NoticeStatus.DRAFT:
        raise Conflict(f"Notice #{notice.pk} is {notice.status}; only a draft can be submitted.")
    context = notice_context(notice)
    problems = presend_problems(notice, context=context)
    if problems:
        raise PresendFailed(problems)
    template = notice_template(notice)
    rendered = rendering.render_notice(template.subject, template.body, context)
    missing = legal.missing_from_text(notice.legal_route, notice.locale, rendered.text, context)
    if missing:
        raise PresendFailed(
            [
                f"The template {template} renders without: {line}"
                for line in legal.describe(notice.legal_route, missing)
            ]
        )
    pdf = rendering.render_pdf(
        rendered, title=rendered.subject, author=notice.agency.name, lang=notice.locale, context=context
    )
    with transaction.atomic():
        return _move(
            notice,
            user=user,
            expected=NoticeStatus.DRAFT,
            to=NoticeStatus.PENDING,
            template=template,
            submitted_at=timezone.now(),
            submitted_by=user,
            rendered_subject=rendered.subject,
            rendered_html=rendered.html,
            rendered_text=rendered.text,
            pdf=pdf,
            pdf_sha256=rendering.sha256_hex(pdf),
            data={"template": template.pk, "version": template.version},
        )


def _require_reviewer(user: User, notice: Notice) -> None:
    if not role_has(user, "review_notice"):
        raise NotAllowed("Only a legal reviewer can do this.")


def _review(*, notice_id: int, user: User, to: str, verb: str, reason: str = "", **fields) -> Notice:
    """pending → approved or rejected, by a legal reviewer who did not shape the notice
    (notice_contributors); the event records which frozen PDF was reviewed.

    The contributors cannot change while the notice is pending (items are frozen at
    submission), so checking them before the conditional UPDATE is race-free.
    """
    notice = _get(notice_id, user)
    _require_reviewer(user, notice)
    if not may_review(notice, user):
        raise NotAllowed(
            f"You drafted, submitted or changed the URLs of this notice; another legal reviewer must {verb} it."
        )
    with transaction.atomic():
        return _move(
            notice,
            user=user,
            expected=NoticeStatus.PENDING,
            to=to,
            reason=reason,
            reviewed_by=user,
            reviewed_at=timezone.now(),
            data={"pdf_sha256": notice.pdf_sha256},
            **fields,
        )


def notice_approve(*, notice_id: int, user: User) -> Notice:
    """Approve the frozen notice. Nobody approves a notice they drafted."""
    return _review(notice_id=notice_id, user=user, to=NoticeStatus.APPROVED, verb="approve")


def notice_reject(*, notice_id: int, user: User, reason: str) -> Notice:
    """Reject with a reason (required); the drafter can revise it into a new draft."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("A rejection needs a reason.")
    return _review(
        notice_id=notice_id,
        user=user,
        to=NoticeStatus.REJECTED,
        verb="review",
        reason=reason,
        rejection_reason=reason,
    )


def notice_revise(*, notice_id: int, user: User) -> Notice:
    """Start a new draft from a rejected notice, with the same URLs that are still open."""
    if not role_has(user, "add_notice"):
        raise NotAllowed("Your role cannot draft notices.")
    old = _get(notice_id, user)
    if old.status != NoticeStatus.REJECTED:
        raise Conflict(f"Notice #{old.pk} is {old.status}; only a rejected notice can be revised.")
    with transaction.atomic():
        if Notice.objects.filter(revision_of=old).exists():
            raise Conflict(f"Notice #{old.pk} has been revised already.")
        new = Notice.objects.create(
            agency=old.agency,
            artist=old.artist,
            platform=old.platform,
            legal_route=old.legal_route,
            locale=old.locale,
            created_by=user,
            revision_of=old,
        )
        urls = old.items.filter(url__status=URLStatus.OPEN).values_list("url_id", flat=True)
        NoticeItem.objects.bulk_create([NoticeItem(notice=new, url_id=u) for u in urls])
        _event(
            new,
            user=user,
            from_status="",
            to_status=NoticeStatus.DRAFT,
            reason=f"Revision of #{old.pk}: {old.rejection_reason}",
        )
    return new


def deadline_hours(notice: Notice) -> int:
    return (
        notice.platform.response_deadline_hours
        or legal.ROUTE_DEADLINE_HOURS.get(notice.legal_route)
        or settings.TAKEDOWN_DEFAULT_DEADLINE_HOURS
    )


def _mark_sent(notice: Notice, *, user: User | None, sent_at: datetime, reason: str, **fields) -> Notice:
    """approved → sent: start the route's clock and schedule the URLs' first recheck."""
    deadline = sent_at + timedelta(hours=deadline_hours(notice))
    notice = _move(
        notice,
        user=user,
        expected=NoticeStatus.APPROVED,
        to=NoticeStatus.SENT,
        reason=reason,
        sent_at=sent_at,
        deadline_at=deadline,
        sent_by=user,
        **fields,
    )
    first_check = sent_at + timedelta(minutes=settings.TAKEDOWN_FIRST_CHECK_MINUTES)
    InfringingURL.objects.filter(notice_items__notice=notice, status=URLStatus.OPEN).update(
        status=URLStatus.NOTIFIED,
        notified_at=sent_at,
        deadline_at=deadline,
        next_check_at=first_check,
        streak_verdict="",
        streak_count=0,
        updated_at=timezone.now(),
    )
    return notice


def notice_send(*, notice_id: int, user: User, reference: str = "") -> Notice:
    """Send an approved notice through its platform's channel.

    Email: queue delivery by SMTP with the frozen PDF attached (after commit); the notice
    becomes sent when the mail server accepts it. Web form: legal submits the packet on the
    platform's form and records the platform's reference here; the notice becomes sent now.
    """
    notice = _get(notice_id, user)
    _require_reviewer(user, notice)
    if notice.status != NoticeStatus.APPROVED:
        raise Conflict(f"Notice #{notice.pk} is {notice.status}; only an approved notice can be sent.")
    platform = notice.platform
    if platform.channel_kind == ChannelKind.EMAIL:
        with transaction.atomic():
            updated = Notice.objects.filter(pk=notice.pk, status=NoticeStatus.APPROVED).update(
                channel=ChannelKind.EMAIL, recipient=platform.channel_email, sent_by=user, delivery_error=""
            )
            if not updated:
                raise Conflict(f"Notice #{notice.pk} changed while you were sending it.")
            _event(
                notice,
                user=user,
                from_status=NoticeStatus.APPROVED,
                to_status=NoticeStatus.APPROVED,
                reason=f"Email delivery to {platform.channel_email} queued.",
            )
            transaction.on_commit(lambda: enqueue_delivery(notice.pk))
        notice.refresh_from_db()
        return notice
    if platform.channel_kind == ChannelKind.WEBFORM:
        reference = (reference or "").strip()
        if not reference:
            raise Invalid(
                f"{platform.name} takes notices through its web form: submit the packet there, then record "
                "the reference number the platform gives you."
            )
        with transaction.atomic():
            return _mark_sent(
                notice,
                user=user,
                sent_at=timezone.now(),
                reason=f"Submitted on {platform.name}'s web form, reference {reference}.",
                channel=ChannelKind.WEBFORM,
                recipient=platform.channel_url,
                reference=reference,
            )
    raise Invalid(f"{platform.name} has no reporting channel in the platform registry.")


def enqueue_delivery(notice_id: int, *, delay_seconds: int = 0) -> None:
    from django_q.models import Schedule
    from django_q.tasks import async_task, schedule

    if delay_seconds:
        schedule(
            "takedown.tasks.deliver_notice_email",
            notice_id,
            schedule_type=Schedule.ONCE,
            next_run=timezone.now() + timedelta(seconds=delay_seconds),
            name=None,
        )
    else:
        async_task("takedown.tasks.deliver_notice_email", notice_id, task_name=f"deliver-notice-{notice_id}")


def notice_deliver_email(*, notice_id: int, connection=None) -> str:
    """Send an approved email-channel notice once; called by the delivery task.

    Claims the delivery with a lease so that two workers never send the same notice, sends
    the frozen subject, text, HTML and PDF, and marks it sent with the Message-ID. On an SMTP
    error records it on the notice, and re-queues with backoff until the attempts run out.
    Returns what happened: "sent", "retry", "failed" or "skipped".
    """
    from django.core.mail import EmailMultiAlternatives
    from django.core.mail.message import make_msgid

    now = timezone.now()
    lease = now - timedelta(seconds=settings.TAKEDOWN_DELIVERY_LEASE_SECONDS)
    claimed = (
        Notice.objects.filter(pk=notice_id, status=NoticeStatus.APPROVED, channel=ChannelKind.EMAIL)
        .filter(Q(delivery_started_at__isnull=True) | Q(delivery_started_at__lt=lease))
        .update(delivery_started_at=now, delivery_attempts=F("delivery_attempts") + 1)
    )
    if not claimed:
        return "skipped"
    notice = Notice.objects.select_related("agency", "platform", "sent_by").get(pk=notice_id)
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1] or "localhost"
    message_id = make_msgid(idstring=notice_reference(notice), domain=domain)
    message = EmailMultiAlternatives(
        subject=notice.rendered_subject,
        body=notice.rendered_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.recipient],
        reply_to=[notice.agency.email] if notice.agency.email else None,
        headers={
            "Message-ID": message_id,
            "X-Takedown-Reference": notice_reference(notice),
            "X-Takedown-PDF-SHA256": notice.pdf_sha256,
        },
        connection=connection,
    )
    message.attach_alternative(notice.rendered_html, "text/html")
    message.attach(f"{notice_reference(notice)}.pdf", bytes(notice.pdf), "application/pdf")
    try:
        message.send()
    except Exception as exc:  # any SMTP or socket failure: recorded, retried, never lost
        error = f"{type(exc).__name__}: {exc}"
        attempts = notice.delivery_attempts
        final = attempts >= settings.TAKEDOWN_DELIVERY_MAX_ATTEMPTS
        Notice.objects.filter(pk=notice_id).update(delivery_error=error, delivery_started_at=None)
        _event(
            notice,
            user=None,
            from_status=NoticeStatus.APPROVED,
            to_status=NoticeStatus.APPROVED,
            reason=f"Email delivery attempt {attempts} failed: {error}"
            + ("" if not final else " (giving up)"),
        )
        if final:
            log.error("notice %s: email delivery failed for good: %s", notice_id, error)
            return "failed"
        delay = 60 * 5 ** (attempts - 1)
        transaction.on_commit(lambda: enqueue_delivery(notice_id, delay_seconds=delay))
        return "retry"
    with transaction.atomic():
        _mark_sent(
            notice,
            user=notice.sent_by,
            sent_at=timezone.now(),
            reason=f"Emailed to {notice.recipient}.",
            message_id=message_id,
            delivery_error="",
            delivery_started_at=None,
        )
    return "sent"


def notice_acknowledge(*, notice_id: int, user: User, reference: str = "") -> Notice:
    """The platform confirmed receipt (and perhaps gave a case number)."""
    notice = _get(notice_id, user)
    _require_reviewer(user, notice)
    fields = {"acknowledged_at": timezone.now()}
    if reference.strip():
        fields["reference"] = reference.strip()
    with transaction.atomic():
        return _move(
            notice,
            user=user,
            expected=NoticeStatus.SENT,
            to=NoticeStatus.ACKNOWLEDGED,
            reason=reference.strip(),
            **fields,
        )


def notice_close(*, notice_id: int, user: User, outcome: str, reason: str = "") -> Notice:
    """Close a sent or acknowledged notice with its outcome: removed, partially removed, refused."""
    if outcome not in NoticeOutcome.values:
        raise Invalid(f"Unknown outcome {outcome!r}; one of: {', '.join(NoticeOutcome.values)}.")
    notice = _get(notice_id, user)
    _require_reviewer(user, notice)
    if notice.status not in (NoticeStatus.SENT, NoticeStatus.ACKNOWLEDGED):
        raise Conflict(f"Notice #{notice.pk} is {notice.status}; only a sent notice can be closed.")
    with transaction.atomic():
        return _move(
            notice,
            user=user,
            expected=notice.status,
            to=NoticeStatus.CLOSED,
            reason=reason,
            outcome=outcome,
            closed_at=timezone.now(),
            data={"outcome": outcome},
        )


def notice_withdraw(*, notice_id: int, user: User, reason: str) -> Notice:
    """Retract a sent notice (reason required). Its still-notified URLs go back to open."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("A withdrawal needs a reason.")
    notice = _get(notice_id, user)
    _require_reviewer(user, notice)
    if notice.status not in (NoticeStatus.SENT, NoticeStatus.ACKNOWLEDGED):
        raise Conflict(f"Notice #{notice.pk} is {notice.status}; only a sent notice can be withdrawn.")
    with transaction.atomic():
        notice = _move(notice, user=user, expected=notice.status, to=NoticeStatus.WITHDRAWN, reason=reason)
        InfringingURL.objects.filter(notice_items__notice=notice, status=URLStatus.NOTIFIED).update(
            status=URLStatus.OPEN,
            next_check_at=None,
            deadline_at=None,
            overdue_since=None,
            updated_at=timezone.now(),
        )
    return notice


def add_business_days(start: date, days: int) -> date:
    current = start
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def notice_record_counter(
    *, notice_id: int, user: User, received_at: datetime, summary: str, counter_party: str = ""
) -> CounterNotice:
    """Record a counter-notice against a sent notice, with its 10–14 business-day restore window."""
    if not (summary or "").strip():
        raise Invalid("Summarise the counter-notice.")
    notice = _get(notice_id, user)
    _require_reviewer(user, notice)
    if notice.status not in SENT_STATES:
        raise Conflict(
            f"Notice #{notice.pk} is {notice.status}; counter-notices are recorded on sent notices."
        )
    received_day = timezone.localtime(received_at).date()
    with transaction.atomic():
        counter = CounterNotice.objects.create(
            notice=notice,
            received_at=received_at,
            counter_party=counter_party.strip(),
            summary=summary.strip(),
            restore_earliest=add_business_days(received_day, 10),
            restore_latest=add_business_days(received_day, 14),
            recorded_by=user,
        )
        _event(
            notice,
            user=user,
            from_status=notice.status,
            to_status=notice.status,
            reason=f"Counter-notice received {received_day.isoformat()}: restore possible "
            f"{counter.restore_earliest.isoformat()}–{counter.restore_latest.isoformat()}.",
        )
    return counter


# -- templates ---------------------------------------------------------------------------------


def template_save(
    *,
    user: User | None,
    base: NoticeTemplate | None,
    name: str,
    legal_route: str,
    locale: str,
    platform_id: int | None,
    subject: str,
    body: str,
) -> NoticeTemplate:
    """Validate and store a template as a new version of the user's agency; the agency's
    previous active version for the same route, locale and platform is retired.

    Editing a shipped default makes the agency's own copy (copy-on-write): the default stays
    as it is for every other agency. Only a superuser (the installation's operator, no agency)
    changes the shared defaults. Notices keep the exact version they were rendered with.
    Raises NotAllowed, rendering.TemplateError with what is wrong (syntax and line, an
    undefined name, a missing required element), or rendering.PdfLimitExceeded naming the
    bound (time, pages, memory) that the sample PDF went past.
    """
    if user is not None and not role_has(user, "change_noticetemplate"):
        raise NotAllowed("Only legal reviewers edit notice templates.")
    agency_id = None if user is None or user.is_superuser else user.agency_id
    if user is not None and not user.is_superuser and agency_id is None:
        raise NotAllowed("Only a member of an agency edits its notice templates.")
    if base is not None and base.agency_id not in (None, agency_id) and not (user and user.is_superuser):
        raise NotAllowed("That template belongs to another agency.")
    if base is not None and user is not None and user.is_superuser:
        agency_id = base.agency_id
    rendering.validate_template(subject, body, route=legal_route, locale=locale)
    with transaction.atomic():
        if base is not None and base.agency_id is None and agency_id is not None:
            # The copy says whose it is; "Default: …" would read as the shared one.
            name = (name or base.name).removeprefix("Default: ")
            if user is not None and user.agency is not None and not name.startswith(f"{user.agency.name}: "):
                name = f"{user.agency.name}: {name}"
        same = NoticeTemplate.objects.filter(
            agency_id=agency_id, legal_route=legal_route, locale=locale, platform_id=platform_id
        )
        latest = same.order_by("-version").values_list("version", flat=True).first() or 0
        if base is not None:
            # A copy continues its default's numbering: "v2" reads as the edit of v1.
            latest = max(latest, base.version)
        same.filter(is_active=True).update(is_active=False)
        return NoticeTemplate.objects.create(
            agency_id=agency_id,
            name=name or (base.name if base else f"{legal_route} ({locale})"),
            legal_route=legal_route,
            locale=locale,
            platform_id=platform_id,
            version=latest + 1,
            subject=subject,
            body=body,
            is_active=True,
            created_by=user,
        )


def templates_load_defaults() -> int:
    """Create the shipped default templates that are missing; edited ones are left alone."""
    created = 0
    with transaction.atomic():
        for default in rendering.load_default_templates():
            exists = NoticeTemplate.objects.filter(
                agency__isnull=True, legal_route=default.route, locale=default.locale, platform__isnull=True
            ).exists()
            if exists:
                continue
            NoticeTemplate.objects.create(
                name=f"Default: {LegalRoute(default.route).label} ({default.locale})",
                legal_route=default.route,
                locale=default.locale,
                platform=None,
                version=1,
                subject=default.subject,
                body=default.body,
            )
            created += 1
    return created


# -- background jobs ---------------------------------------------------------------------------


def job_start(*, kind: str, user: User, agency_id: int, total: int, params: dict) -> Job:
    """Record a job and queue its task after commit; the admin follows it on the job's page."""
    with transaction.atomic():
        job = Job.objects.create(kind=kind, user=user, agency_id=agency_id, total=total, params=params)
        transaction.on_commit(lambda: _queue_job(job.pk))
    return job


def _queue_job(job_id: int) -> None:
    from django_q.tasks import async_task

    async_task("takedown.tasks.run_job", job_id, task_name=f"job-{job_id}")


def job_run(*, job_id: int) -> str:
    """Run a queued job once (a second call on the same job does nothing)."""
    from takedown import importing, rechecks
    from takedown.models import Agency

    if not Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(state=Job.State.RUNNING):
        return "skipped"
    job = Job.objects.select_related("user").get(pk=job_id)

    def progress(done: int) -> None:
        Job.objects.filter(pk=job_id).update(done=done)

    try:
        if job.kind == Job.Kind.IMPORT:
            p = job.params
            artist = None
            if p.get("artist_id"):
                from takedown.models import Artist

                artist = Artist.objects.get(pk=p["artist_id"], agency_id=job.agency_id)
            report = importing.import_rows(
                p["rows"],
                agency=Agency.objects.get(pk=job.agency_id),
                artist=artist,
                source=p.get("source", "csv"),
                user=job.user,
                default_category=p.get("default_category", ""),
                default_route=p.get("default_route", ""),
                progress=progress,
            )
            result = report.as_dict()
            # The rows were only needed to run: do not keep a second copy of the data.
            Job.objects.filter(pk=job_id).update(params={k: v for k, v in p.items() if k != "rows"})
        else:
            ids = [int(i) for i in job.params["url_ids"]]
            counts: dict[str, int] = {}
            for outcome in rechecks.check_urls(ids, progress=progress):
                counts[outcome.verdict] = counts.get(outcome.verdict, 0) + 1
            result = {"verdicts": counts}
    except Exception as exc:
        log.exception("job %s failed", job_id)
        Job.objects.filter(pk=job_id).update(
            state=Job.State.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now()
        )
        return "failed"
    Job.objects.filter(pk=job_id).update(
        state=Job.State.DONE, result=result, done=job.total, finished_at=timezone.now()
    )
    return "done"
