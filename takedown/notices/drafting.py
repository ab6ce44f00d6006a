"""Drafting: open URLs grouped into draft notices, what a draft says, and whether it may go.

Everything here acts on drafts only (the workflow table in `states` says so); a draft's
context is plain data for the template, and `presend_problems` lists, one sentence each,
everything that stops it from going to legal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone, translation

from takedown import legal, rendering
from takedown.choices import Category, ChannelKind, LegalRoute, Locale, NoticeStatus, URLStatus
from takedown.errors import Conflict, Invalid
from takedown.models import Artist, InfringingURL, Notice, NoticeItem, URLCheck, User
from takedown.notices.states import (
    ACTIVE_NOTICE_STATES,
    SENT_STATES,
    check,
    get_notice,
    move,
    record_event,
)
from takedown.notices.templates import notice_template
from takedown.urltools import UnsafeURL, normalize_url, official_matcher


def default_locale(route: str) -> str:
    return Locale.KO if route in (LegalRoute.KR_TBA, LegalRoute.KR_NETWORK) else Locale.EN


def notices_prepare(
    *, user: User, url_ids: Sequence[int] | None = None, artist_id: int | None = None
) -> tuple[list[Notice], int]:
    """Group open URLs into draft notices per (artist, platform, legal route).

    Takes the given URLs (or all of an artist's) that are open and not already held by a
    draft, pending or approved notice; adds them to an existing draft for the same group or
    starts one. Returns the notices touched and how many URLs were left out because no
    platform matches their host (they have nobody to notify yet).
    """
    check("prepare", None, user)
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
        for key, members in groups.items():
            touched.extend(_fill_drafts(user, key, members))
    return touched, skipped


def _fill_drafts(user: User, key: tuple[int, int, str], members: list[InfringingURL]) -> list[Notice]:
    """Add one group's URLs to its drafts, at most TAKEDOWN_NOTICE_MAX_URLS per notice: the
    newest draft of the group is filled first, then new drafts are started."""
    artist_id, platform_id, route = key
    cap = settings.TAKEDOWN_NOTICE_MAX_URLS
    notice = (
        Notice.objects.filter(
            artist_id=artist_id, platform_id=platform_id, legal_route=route, status=NoticeStatus.DRAFT
        )
        .annotate(held=Count("items"))
        .filter(held__lt=cap)
        .order_by("pk")
        .first()
    )
    touched: list[Notice] = []
    rest = list(members)
    while rest:
        if notice is None:
            take, rest = rest[:cap], rest[cap:]
            notice = Notice.objects.create(
                agency_id=take[0].artist.agency_id,
                artist_id=artist_id,
                platform_id=platform_id,
                legal_route=route,
                locale=default_locale(route),
                created_by=user,
            )
            record_event(
                notice, user=user, from_status="", to_status=NoticeStatus.DRAFT, data={"urls": len(take)}
            )
        else:
            room = cap - notice.held
            take, rest = rest[:room], rest[room:]
            # Whoever adds items shapes what is sent: the event makes them a contributor,
            # who may then not approve it (notice_contributors).
            record_event(
                notice,
                user=user,
                from_status=NoticeStatus.DRAFT,
                to_status=NoticeStatus.DRAFT,
                reason="URLs added",
                data={"added": [u.pk for u in take]},
            )
        NoticeItem.objects.bulk_create(
            [NoticeItem(notice=notice, url=u) for u in take], ignore_conflicts=True
        )
        touched.append(notice)
        notice = None
    return touched


def notice_create(
    *, user: User, artist_id: int, platform_id: int, legal_route: str, locale: str | None = None
) -> Notice:
    """Start an empty draft by hand for an artist of the user's agency."""
    check("prepare", None, user)
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
        record_event(notice, user=user, from_status="", to_status=NoticeStatus.DRAFT)
    return notice


def notice_remove_items(*, notice_id: int, user: User, item_ids: Sequence[int]) -> int:
    """Take items out of a draft. Removing shapes what is sent, so it counts as contributing."""
    notice = get_notice(notice_id, user)
    check("remove_items", notice, user)
    with transaction.atomic():
        locked = Notice.objects.select_for_update().filter(pk=notice.pk, status=NoticeStatus.DRAFT)
        if not locked.exists():
            raise Conflict(f"Notice #{notice.pk} is not a draft any more; its items are frozen.")
        items = NoticeItem.objects.filter(notice=notice, pk__in=item_ids)
        urls = list(items.values_list("url_id", flat=True))
        removed, _ = items.delete()
        if removed:
            record_event(
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
    check("change_language", None, user)
    if locale not in Locale.values:
        raise Invalid(f"{locale!r} is not a notice language.")
    notice = get_notice(notice_id, user)
    if notice.locale == locale:
        return notice
    with transaction.atomic():
        return move(
            notice,
            user=user,
            expected=NoticeStatus.DRAFT,
            to=NoticeStatus.DRAFT,
            reason=f"Language changed: {notice.locale} → {locale}",
            data={"locale": [notice.locale, locale]},
            locale=locale,
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


def render_notice_now(
    notice: Notice, *, template=None, context: dict | None = None, preview: bool = False
) -> rendering.NoticeRender:
    """The notice rendered as it would be sent now: its template, its context, the one render
    pipeline (rendering.notice_render), used by submission and every preview. Raises
    Invalid when no template fits, rendering.TemplateError (MissingElements, PdfLimitExceeded)
    when the template cannot render it."""
    template = template or notice_template(notice)
    if template is None:
        raise Invalid(
            f"No active {notice.get_locale_display()} template for {notice.get_legal_route_display()}."
        )
    return rendering.notice_render(
        subject=template.subject,
        body=template.body,
        context=context if context is not None else notice_context(notice),
        author=notice.agency.name,
        lang=notice.locale,
        preview=preview,
    )
