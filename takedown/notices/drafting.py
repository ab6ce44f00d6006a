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
from takedown.authority import ItemAuthority, item_authority, missing_documents
from takedown.choices import Category, ChannelKind, LegalRoute, Locale, NoticeStatus, URLStatus, Verdict
from takedown.errors import Conflict, Invalid
from takedown.models import (
    AbuseContact,
    Artist,
    Authorization,
    InfringingURL,
    Notice,
    NoticeItem,
    Platform,
    URLCheck,
    User,
)
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
    return Locale.KO if str(route) in legal.KOREAN_ROUTES else Locale.EN


def notices_prepare(
    *, user: User, url_ids: Sequence[int] | None = None, artist_id: int | None = None
) -> tuple[list[Notice], int]:
    """Group open URLs into draft notices per (artist, platform, legal route).

    Takes the given URLs (or all of an artist's) that are open and not already held by a
    draft, pending or approved notice; adds them to an existing draft for the same group or
    starts one. Never puts an item on a route that cannot carry its category
    (legal.may_carry). A URL on a host no platform covers goes to the host's first known
    abuse contact (takedown.contacts: the cached discovery or staff's own), grouped per
    contact. Returns the notices touched and how many URLs were left out: no platform and
    no contact known for their host (nobody to notify yet), or their route cannot carry them.
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
    groups: dict[tuple[int, int, str, int | None], list[InfringingURL]] = defaultdict(list)
    skipped = 0
    recipients: dict[tuple[int, str], tuple[Platform, AbuseContact] | None] = {}
    for url in urls:
        if not legal.may_carry(url.legal_route, url.category):
            skipped += 1
            continue
        if url.platform_id is not None:
            groups[(url.artist_id, url.platform_id, url.legal_route, None)].append(url)
            continue
        # A host no registry platform covers: its first discovered (or staff-given) contact.
        # Per agency: an agency's own contacts and set-asides are its alone.
        where = (url.agency_id, url.host)
        if where not in recipients:
            recipients[where] = _unlisted_recipient(url.host, url.agency_id)
        recipient = recipients[where]
        if recipient is None:
            skipped += 1
            continue
        platform, contact = recipient
        # The route suits the recipient (a CDN with a registry row takes its own routes; a
        # registrar or an unlisted CDN, bound by no statute, the policy route).
        from takedown.contacts.services import route_for

        route = route_for(platform, url, rung=contact.rung)
        if route is None:
            skipped += 1
            continue
        groups[(url.artist_id, platform.pk, route, contact.pk)].append(url)
    touched: list[Notice] = []
    with transaction.atomic():
        for key, members in groups.items():
            touched.extend(_fill_drafts(user, key, members))
    return touched, skipped


def _unlisted_recipient(host: str, agency_id: int) -> tuple[Platform, AbuseContact] | None:
    """(platform, contact) of the agency's first recipient known for an unlisted host (the
    cached discovery and its own contacts: drafting never goes to the network), or None."""
    from takedown.contacts.services import first_recipient, platform_for

    contact = first_recipient(host, agency_id=agency_id)
    if contact is None:
        return None
    return platform_for(contact), contact


def _fill_drafts(
    user: User | None,
    key: tuple[int, int, str, int | None],
    members: list[InfringingURL],
    *,
    ladder_rung: str = "",
) -> list[Notice]:
    """Add one group's URLs to its drafts, at most TAKEDOWN_NOTICE_MAX_URLS per notice: the
    newest draft of the group is filled first, then new drafts are started."""
    artist_id, platform_id, route, contact_id = key
    cap = settings.TAKEDOWN_NOTICE_MAX_URLS
    notice = (
        Notice.objects.filter(
            artist_id=artist_id,
            platform_id=platform_id,
            legal_route=route,
            contact_id=contact_id,
            ladder_rung=ladder_rung,
            status=NoticeStatus.DRAFT,
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
                contact_id=contact_id,
                ladder_rung=ladder_rung,
            )
            data = {"urls": len(take)}
            if ladder_rung:
                data["escalation"] = ladder_rung
            record_event(
                notice,
                user=user,
                from_status="",
                to_status=NoticeStatus.DRAFT,
                reason=f"Escalation: {ladder_rung}" if ladder_rung else "",
                data=data,
            )
        else:
            # Lock the draft: a submission in progress compares its items with what it rendered.
            if (
                not Notice.objects.select_for_update()
                .filter(pk=notice.pk, status=NoticeStatus.DRAFT)
                .exists()
            ):
                notice = None
                continue
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


def _latest_conclusive_checks(url_ids: list[int]) -> dict[int, URLCheck]:
    """Each URL's latest check whose verdict is conclusive (two queries, however many URLs)."""
    latest = (
        URLCheck.objects.filter(url=OuterRef("pk"))
        .exclude(verdict=Verdict.INCONCLUSIVE)
        .order_by("-checked_at", "-pk")
        .values("pk")[:1]
    )
    check_ids = (
        InfringingURL.objects.filter(pk__in=url_ids)
        .annotate(check_id=Subquery(latest))
        .exclude(check_id=None)
        .values_list("check_id", flat=True)
    )
    return {check.url_id: check for check in URLCheck.objects.filter(pk__in=list(check_ids))}


def _evidence(check: URLCheck | None) -> dict:
    """What the notice may say about an item's evidence: only a conclusive check counts, and
    its page digest only when the check saw the item live (a 404 page's or a gate's digest
    says nothing about the item)."""
    if check is None:
        return {
            "checked": False,
            "date": "",
            "http_status": None,
            "verdict": "",
            "verdict_label": "",
            "sha256": "",
        }
    live = check.verdict == Verdict.LIVE
    return {
        "checked": True,
        "date": timezone.localtime(check.checked_at).date().isoformat(),
        "http_status": check.http_status,
        "verdict": check.verdict,
        "verdict_label": str(Verdict(check.verdict).label),
        "sha256": check.body_sha256 if live else "",
    }


def _work(work) -> dict:
    return {
        "title": work.title,
        "kind": work.get_kind_display(),
        "description": work.description,
        "url": work.original_url,
        "registration": work.registration,
        "owner": work.owner,
        "owner_is_agency": work.owner_kind == work.OwnerKind.AGENCY,
    }


def _authorization(auth: Authorization) -> dict:
    return {
        "reference": f"AUTH-{auth.pk:06d}",
        "person": auth.person_name,
        "person_ko": auth.person_name_ko,
        "scope": auth.scope,
        "valid_from": auth.valid_from.isoformat(),
        "valid_until": auth.valid_until.isoformat() if auth.valid_until else "",
        # Kinds (power_of_attorney, id_copy): each template names them in its own language.
        "documents": sorted({d.kind for d in auth.documents.all()}),
    }


def _channel(notice: Notice) -> dict:
    channel = notice.route_channel
    if channel is None:
        return {
            "kind": "",
            "address": "",
            "label": "",
            "designated_agent": False,
            "requires_documents": False,
            "attaches_documents": False,
        }
    return {
        "kind": channel.kind,
        "address": channel.address,
        "label": channel.label,
        "designated_agent": channel.designated_agent and notice.legal_route == LegalRoute.DMCA,
        "requires_documents": channel.requires_documents,
        # Documents travel with the packet staff submit on a web form; email delivery does not
        # attach them (presend_problems refuses that case).
        "attaches_documents": channel.requires_documents and channel.kind == ChannelKind.WEBFORM,
    }


def notice_authorities(notice: Notice, *, on: date | None = None) -> list[tuple[NoticeItem, ItemAuthority]]:
    """Each item of the notice with the record it rests on (authority.item_authority)."""
    on = on or timezone.localdate()
    items = list(
        NoticeItem.objects.filter(notice=notice)
        .select_related("url", "url__artist", "url__work", "url__depicted_person")
        .order_by("url__discovered_at", "url_id")
    )
    authorizations = list(notice.artist.authorizations.prefetch_related("documents"))
    return [(item, item_authority(item.url, notice.legal_route, on, authorizations)) for item in items]


def _person(authority: ItemAuthority, artist: Artist) -> dict | None:
    if authority.about_work and authority.basis != "authorization":
        return None
    if authority.authorization is not None:
        return {
            "name": authority.authorization.person_name,
            "name_ko": authority.authorization.person_name_ko,
        }
    if artist.is_group:
        return None
    return {"name": artist.name, "name_ko": artist.name_ko}


def _item_context(item, authority, *, notice, check, categories) -> dict:
    url = item.url
    ground = legal.item_ground(
        notice.legal_route, url.category, locale=notice.locale, member_state=notice.agency.dsa_member_state
    )
    evidence = _evidence(check)
    return {
        "url": url.normalized_url,
        "category": url.category,
        "category_label": categories.get(url.category, url.category),
        "discovered_at": timezone.localtime(url.discovered_at).date().isoformat(),
        "title": check.title if check else "",
        # Kept for templates written before the evidence record: empty unless conclusive and live.
        "body_sha256": evidence["sha256"],
        "http_status": evidence["http_status"],
        "evidence": evidence,
        "about": "work" if authority.about_work else "person",
        "work": _work(authority.work) if authority.work is not None else None,
        "person": _person(authority, notice.artist),
        "ground": {"provision": ground.provision, "source_url": ground.source_url} if ground else None,
        "facts": url.notice_facts.strip(),
    }


def _signatory_and_agency(agency) -> tuple[dict, dict]:
    return (
        {
            "name": agency.signatory_name,
            "title": agency.signatory_title,
            "name_ko": agency.signatory_name_ko,
            "title_ko": agency.signatory_title_ko,
            "email": agency.email,
            "phone": agency.phone,
        },
        {
            "name": agency.name,
            "name_ko": agency.name_ko,
            "address": agency.address,
            "email": agency.email,
            "phone": agency.phone,
            "website": agency.website,
        },
    )


def _authority_summary(pairs, agency) -> tuple[list[dict], list[dict], list[dict]]:
    """The works, the persons' authorizations and the authorities the notice rests on, each once."""
    works: dict[int, dict] = {}
    authorizations: dict[int, dict] = {}
    authorities: dict[tuple[str, str], dict] = {}
    for _item, authority in pairs:
        if authority.work is not None:
            works.setdefault(authority.work.pk, _work(authority.work))
        if authority.authorization is not None:
            auth = authorizations.setdefault(
                authority.authorization.pk, _authorization(authority.authorization)
            )
            authorities.setdefault(
                ("authorization", auth["reference"]),
                {"basis": "authorization", "holder": auth["person"], "reference": auth["reference"]},
            )
        elif authority.basis == "owner":
            authorities.setdefault(("owner", ""), {"basis": "owner", "holder": agency.name, "reference": ""})
    return list(works.values()), list(authorizations.values()), list(authorities.values())


def notice_context(notice: Notice, *, today: date | None = None) -> dict:
    """The plain-data context a notice template sees: no model instances, no settings.

    Each item carries only what is recorded for it: its ground for the route, the work it
    copies (with the owner), the person it depicts by their authorization, and evidence from
    a conclusive check. Nothing is filled in where the record is missing.
    """
    agency, artist = notice.agency, notice.artist
    local_today = today or timezone.localdate()
    pairs = notice_authorities(notice, on=local_today)
    checks = _latest_conclusive_checks([item.url_id for item, _authority in pairs])
    locale = notice.locale
    clock = legal.ROUTE_CLOCKS[notice.legal_route]
    with translation.override(locale):
        route_label = str(LegalRoute(notice.legal_route).label)
        categories = {c.value: str(c.label) for c in Category}
    signatory, agency_data = _signatory_and_agency(agency)
    works, authorizations, authorities = _authority_summary(pairs, agency)
    state = legal.DSA_MEMBER_STATES.get(agency.dsa_member_state)
    return {
        "agency": agency_data,
        "signatory": signatory,
        "artist": {
            "name": artist.name,
            "name_ko": artist.name_ko,
            "aliases": list(artist.aliases or []),
            "is_group": artist.is_group,
        },
        "platform": {
            "name": notice.recipient_name,
            "slug": notice.platform.slug,
            "channel_url": notice.platform.channel_url,
            "channel_email": notice.platform.channel_email,
        },
        "channel": _channel(notice),
        "recipient": _recipient(notice),
        "route": {
            "code": notice.legal_route,
            "label": route_label,
            "clock": {
                "rule": clock.rule,
                "basis": notice.deadline_basis,
                "counter_notice": clock.counter_notice,
            },
        },
        "dsa": {"code": agency.dsa_member_state, "member_state": state.name if state else ""},
        "works": works,
        "authorizations": authorizations,
        "authorities": authorities,
        "items": [
            _item_context(
                item, authority, notice=notice, check=checks.get(item.url_id), categories=categories
            )
            for item, authority in pairs
        ],
        "notice": {"reference": notice_reference(notice), "date": local_today.isoformat(), "locale": locale},
    }


def _recipient(notice: Notice) -> dict:
    """Who the notice goes to and where the address came from (empty source: the registry)."""
    contact = notice.contact
    if contact is None:
        return {
            "name": notice.platform.name,
            "kind": "platform",
            "address": "",
            "source": "",
            "source_url": "",
        }
    with translation.override(notice.locale):
        kind = str(contact.get_rung_display())
        source = str(contact.get_source_display())
    return {
        "name": contact.name,
        "kind": kind,
        "address": contact.email or contact.url,
        "source": source,
        "source_url": contact.source_url,
        "found_at": timezone.localtime(contact.found_at).date().isoformat(),
    }


def notice_reference(notice: Notice) -> str:
    return f"TD-{notice.pk:06d}"


def authority_problems(notice: Notice) -> list[str]:
    """What the items' authority lacks today (an authorization revoked or expired since the
    notice was approved): asked again before anything leaves."""
    return [authority.problem for _item, authority in notice_authorities(notice) if authority.problem]


def recipient_problem(notice: Notice) -> str | None:
    """Why the notice's discovered or staff contact is no longer one its agency writes to: no
    longer found by discovery, corrected or set aside by the agency's staff (a ContactSetAside),
    or replaced by a newer contact of the agency's own. None for a registry platform's channel."""
    if notice.contact_id is None:
        return None
    if AbuseContact.objects.usable_by(notice.agency_id).filter(pk=notice.contact_id).exists():
        return None
    contact = notice.contact
    return (
        f"{contact.name} <{contact.email or contact.url}> is no longer your agency's address for "
        f"{contact.host} (corrected, set aside, or no longer found): prepare the notice again for the "
        "host's current contact, or record a corrected one."
    )


def standing_problems(notice: Notice) -> list[str]:
    """What is asked again at approval and before anything leaves, beyond the authority: the
    recipient is still one the agency writes to, and every URL of an escalation notice is still
    live past its deadline with its step for this rung drafted (not withdrawn, removed or
    skipped since submission). Empty when the notice may go on."""
    problems = []
    if problem := recipient_problem(notice):
        problems.append(problem)
    if notice.ladder_rung:
        for item in notice.items.select_related("url"):
            if problem := _ladder_problem(notice, item.url):
                problems.append(problem)
    return problems


def _item_problems(notice: Notice, pairs) -> list[str]:
    """What the record lacks for each item: a route that cannot carry it, the work it copies,
    the authority it rests on, the facts TAKE IT DOWN asks for."""
    problems: list[str] = []
    route = notice.legal_route
    for item, authority in pairs:
        url = item.url
        if not legal.may_carry(route, url.category):
            problems.append(
                f"{url.normalized_url} is a {url.category} item: {legal.carry_refusal(route, url.category)}"
            )
            continue
        if authority.problem:
            problems.append(authority.problem)
        if (
            route == LegalRoute.TAKE_IT_DOWN
            and url.category == Category.REAL_INTIMATE
            and not url.notice_facts.strip()
        ):
            problems.append(
                f"{url.normalized_url} is an authentic intimate image: state in its 'Facts for the notice' "
                "how it is known to have been published without consent (47 U.S.C. §223a(a)(1)(B)(iii))."
            )
    return problems


def _channel_problems(notice: Notice, pairs) -> list[str]:
    platform = notice.platform
    label = notice.get_legal_route_display()
    channel = notice.route_channel
    if problem := recipient_problem(notice):
        return [problem]
    if channel is None:
        return [
            f"{platform.name} has no reporting channel for the {label} route in the platform registry; record one first."
        ]
    problems = []
    if channel.requires_documents:
        seen: set[int] = set()
        for _item, authority in pairs:
            auth = authority.authorization
            if auth is None or auth.pk in seen:
                continue
            seen.add(auth.pk)
            lacking = missing_documents(auth)
            if lacking:
                problems.append(
                    f"{platform.name} asks for the authorization's documents: upload {', '.join(lacking)} "
                    f"for {auth.person_name}."
                )
    return problems


def notice_documents(notice: Notice, pairs=None) -> list:
    """The authorization documents this notice's channel asks for (위임장, masked ID copy): the
    latest of each required kind, of every authorization its items rest on. Frozen at submission
    (their ids and SHA-256 go into the submission's event) and attached to the email as they were."""
    from takedown.authority import REQUIRED_DOCUMENTS

    channel = notice.route_channel
    if channel is None or not channel.requires_documents:
        return []
    pairs = pairs if pairs is not None else notice_authorities(notice)
    documents, seen = [], set()
    for _item, authority in pairs:
        auth = authority.authorization
        if auth is None or auth.pk in seen:
            continue
        seen.add(auth.pk)
        for kind in REQUIRED_DOCUMENTS:
            latest = auth.documents.filter(kind=kind).order_by("-uploaded_at", "-pk").first()
            if latest is not None:
                documents.append(latest)
    return documents


def presend_problems(
    notice: Notice, *, context: dict | None = None, now: datetime | None = None
) -> list[str]:
    """Everything that stops this notice from going to legal, one clear sentence each."""
    now = now or timezone.now()
    problems: list[str] = []
    context = context if context is not None else notice_context(notice)
    platform = notice.platform
    pairs = notice_authorities(notice, on=date.fromisoformat(context["notice"]["date"]))
    items = [item for item, _authority in pairs]
    if not items:
        problems.append("The notice lists no URLs.")
    problems.extend(_item_problems(notice, pairs))
    # Per-item problems above already say what each item lacks; the elements say the rest.
    per_item = {"copyrighted_work", "infringing_urls", "rights_substantiation", "representative_authority"}
    missing = legal.missing_elements(notice.legal_route, context)
    if problems and items:
        missing = [code for code in missing if code not in per_item]
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
        if notice.ladder_rung:
            if problem := _ladder_problem(notice, item.url):
                problems.append(problem)
        elif item.url.status != URLStatus.OPEN:
            problems.append(
                f"{item.url.normalized_url} is {item.url.get_status_display().lower()}, not open."
            )
    days = settings.TAKEDOWN_RENOTIFY_DAYS
    if days and items:
        same_recipient = (
            {"notice__contact": notice.contact_id}
            if notice.contact_id is not None
            else {"notice__platform": platform, "notice__contact__isnull": True}
        )
        recent = (
            NoticeItem.objects.filter(
                **same_recipient,
                notice__status__in=SENT_STATES,
                notice__sent_at__gte=now - timedelta(days=days),
                url__normalized_url__in=[i.url.normalized_url for i in items],
            )
            .exclude(notice=notice)
            .values_list("url__normalized_url", "notice_id")
        )
        for url, other in recent:
            problems.append(
                f"{url} was already notified to {notice.recipient_name} in notice #{other} in the last {days} days."
            )
    problems.extend(_channel_problems(notice, pairs))
    if notice_template(notice) is None:
        problems.append(
            f"No active {notice.get_locale_display()} template for {notice.get_legal_route_display()}."
        )
    return problems


def _ladder_problem(notice: Notice, url: InfringingURL) -> str | None:
    """An escalation notice lists only URLs that a notice elsewhere left live past its deadline
    (not withdrawn to open, not removed or dismissed since) whose step for this rung is still
    drafted (not skipped by legal, not sent already)."""
    from takedown.models import EscalationStep

    if url.status != URLStatus.NOTIFIED or url.overdue_since is None:
        state = url.get_status_display().lower()
        return f"{url.normalized_url} is {state}, not live past a deadline: remove it from this escalation notice."
    step = url.escalation_steps.filter(rung=notice.ladder_rung).first()
    if step is None or step.state != EscalationStep.State.DRAFTED:
        decided = step.get_state_display() if step is not None else "not drafted"
        rung = EscalationStep.Rung(notice.ladder_rung).label.lower()
        return f"The {rung} step of {url.normalized_url} is {decided}: remove it from this escalation notice."
    return None


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
