"""Abuse contacts in the database: the per-host cache of discovery, staff's own contacts, and
who a notice for an unlisted host goes to."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from takedown import legal
from takedown.choices import ChannelKind, LegalRoute
from takedown.contacts import bootstrap, discovery
from takedown.contacts.fetching import SafeClient
from takedown.errors import Invalid, NotAllowed
from takedown.models import AbuseContact, ContactSetAside, HostLookup, Platform, User
from takedown.probing.types import ProbeConfig
from takedown.roles import role_has

RUNG_ORDER = {rung: i for i, rung in enumerate(discovery.RUNGS)}
UNLISTED_SLUG = "unlisted-host"
UNKNOWN_TTL = timedelta(hours=1)


def discovery_config() -> ProbeConfig:
    """The probe's own configuration (rechecks.probe_config): the same vetting, pinned names,
    ports and timeouts for RDAP servers and security.txt as for the pages we check."""
    from takedown.rechecks import probe_config

    return probe_config()


def bootstrap_data() -> bootstrap.Bootstrap:
    return bootstrap.load(settings.TAKEDOWN_CONTACTS_DATA_DIR)


def host_of(target: str) -> str:
    try:
        return discovery.origin_of(target).raw_host.lower().rstrip(".")  # type: ignore[union-attr]
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def host_discover(
    *,
    target: str,
    force: bool = False,
    config: ProbeConfig | None = None,
    now: datetime | None = None,
    timeout: float | None = None,
) -> HostLookup:
    """Discover the abuse contacts of ``target``'s host (a URL or a host name), unless a lookup
    younger than TAKEDOWN_CONTACTS_TTL_HOURS is cached (``force`` asks again). A discovery that
    takes longer than ``timeout`` seconds is cut short and recorded as unknown.

    The discovered contacts of the host are replaced in one transaction: those found again are
    refreshed, those not found are no longer current (a sent notice may still name them);
    staff's own contacts are never touched. Raises Invalid for a target that is not a host or
    an http(s) URL; what servers do is recorded in the lookup's steps.
    """
    host = host_of(target)
    now = now or timezone.now()
    cached = HostLookup.objects.filter(host=host, expires_at__gt=now).first()
    if cached is not None and not force:
        return cached
    found = discovery.run(target, config=config or discovery_config(), data=bootstrap_data(), timeout=timeout)
    return _store(found, now)


def _store(found: discovery.Discovery, now: datetime) -> HostLookup:
    ttl = timedelta(hours=settings.TAKEDOWN_CONTACTS_TTL_HOURS)
    if any(step.outcome == discovery.UNKNOWN for step in found.steps):
        # Something did not answer (a resolver or network outage, a registry rate-limiting us, a
        # name pointed somewhere we refuse to go): ask again soon rather than keep it for a week.
        ttl = min(ttl, UNKNOWN_TTL)
    settled = _settled_sources(found)
    answered = any(step.outcome in (discovery.FOUND, discovery.NONE) for step in found.steps)
    with transaction.atomic():
        # One discovery of a host stores at a time: two overlapping ones (the contacts tick and
        # staff's "look up again") would otherwise both insert the same discovered contact.
        HostLookup.objects.get_or_create(host=found.host, defaults={"looked_up_at": now, "expires_at": now})
        lookup = HostLookup.objects.select_for_update().get(host=found.host)
        lookup.addresses = found.addresses
        lookup.steps = [s.__dict__ for s in found.steps]
        lookup.looked_up_at = now
        lookup.expires_at = now + ttl
        if answered:
            lookup.answered_at = now
        lookup.save()
        discovered = AbuseContact.objects.filter(host=found.host).exclude(source=AbuseContact.Source.STAFF)
        kept: list[int] = []
        for f in found.contacts:
            row, _ = discovered.update_or_create(
                rung=f.rung,
                source=f.source,
                email=f.email,
                url=f.url,
                defaults={
                    "host": found.host,
                    "name": f.name or found.host,
                    "source_url": f.source_url,
                    "raw_sha256": f.sha256,
                    "found_at": now,
                    "note": f.note,
                    "is_current": True,
                },
            )
            kept.append(row.pk)
        # Only a source that answered this time (found or none) retires what it said before; a
        # contact whose source did not answer stays as it was.
        discovered.filter(source__in=settled).exclude(pk__in=kept).update(is_current=False)
        # What an agency's staff corrected or set aside stays so for that agency alone
        # (ContactSetAside): the discovered row itself is a shared fact.
    return lookup


def lookup_failed(host: str, why: str, *, now: datetime | None = None) -> HostLookup:
    """Record a lookup that could not run as "unknown" for an hour (the contacts tick then moves
    on to other hosts); the host's contacts are left as they were, and a host no source has
    answered for yet stays not looked up (answered_at), so the ladder keeps waiting for it."""
    now = now or timezone.now()
    step = discovery.Step("discovery", host, discovery.UNKNOWN, why[:500])
    lookup, _ = HostLookup.objects.update_or_create(
        host=host.lower()[:255],
        defaults={"steps": [step.__dict__], "looked_up_at": now, "expires_at": now + UNKNOWN_TTL},
    )
    return lookup


def _settled_sources(found: discovery.Discovery) -> set[str]:
    """The sources whose every step this time came back found or none."""
    outcomes: dict[str, set[str]] = {}
    for step in found.steps:
        outcomes.setdefault(step.source, set()).add(step.outcome)
    settled = {source for source, seen in outcomes.items() if discovery.UNKNOWN not in seen}
    if outcomes.get("dns") == {discovery.FOUND}:
        # The addresses are known: a CDN not among them is no longer in front of the site.
        settled.add(discovery.CDN_RANGES)
    return settled


def host_contacts(host: str, *, agency_id: int | None = None) -> list[AbuseContact]:
    """A host's current contacts for one agency, in ladder order (CDN, host, registrar, site):
    its own staff's and the discovered ones it has not set aside; within a step, staff's own
    before discovered ones. Without an agency: the discovered facts alone."""
    rows = list(AbuseContact.objects.usable_by(agency_id).filter(host=host.lower()))
    return sorted(rows, key=lambda c: (RUNG_ORDER.get(c.rung, 99), not c.by_staff, c.pk))


def recipients(host: str, *, agency_id: int | None = None) -> list[AbuseContact]:
    """The contacts an agency's notice may go to, in ladder order: a security.txt contact is
    the site operator's own choice and only information (staff may record it as theirs to use
    it)."""
    return [
        c for c in host_contacts(host, agency_id=agency_id) if c.source != AbuseContact.Source.SECURITY_TXT
    ]


def first_recipient(
    host: str, *, agency_id: int | None = None, after: tuple[str, ...] = ()
) -> AbuseContact | None:
    """The contact an agency's notice for this host goes to first: the first rung not in
    ``after``."""
    for contact in recipients(host, agency_id=agency_id):
        if contact.rung not in after:
            return contact
    return None


def _staff_agency(user: User, old: AbuseContact | None) -> int:
    """The agency a staff decision belongs to: the user's (a superuser correcting an agency's
    own contact acts for that agency)."""
    if old is not None and old.agency_id is not None:
        return old.agency_id
    if user.agency_id is None:
        raise Invalid("Contacts recorded by staff belong to an agency: sign in as a member of one.")
    return user.agency_id


def contact_save(
    *,
    user: User,
    host: str,
    rung: str,
    name: str,
    email: str = "",
    url: str = "",
    note: str = "",
    contact_id: int | None = None,
) -> AbuseContact:
    """Staff add a contact for a host, or correct one. Both belong to the staff member's agency:
    a corrected discovered contact becomes the agency's own (kept over rediscovery) and is set
    aside for that agency only; other agencies keep using the discovered one and never see
    this agency's contacts. Raises NotAllowed, Invalid (no address, unknown rung, a contact
    the user cannot see)."""
    if not role_has(user, "change_abusecontact"):
        raise NotAllowed("Your role cannot add or correct abuse contacts.")
    if rung not in AbuseContact.Rung.values:
        raise Invalid(f"{rung!r} is not a recipient kind ({', '.join(AbuseContact.Rung.values)}).")
    old = None
    if contact_id is not None:
        old = AbuseContact.objects.visible_to(user).filter(pk=contact_id).first()
        if old is None:
            raise Invalid("No such contact.")
    contact = AbuseContact(
        agency_id=_staff_agency(user, old),
        host=host,
        rung=rung,
        name=(name or "").strip(),
        email=(email or "").strip(),
        url=(url or "").strip(),
        source=AbuseContact.Source.STAFF,
        note=note,
        added_by=user,
        found_at=timezone.now(),
    )
    try:
        contact.full_clean()
    except ValidationError as exc:
        messages = getattr(exc, "message_dict", None) or {"": exc.messages}
        raise Invalid(
            "; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in messages.items())
        ) from None
    with transaction.atomic():
        if old is not None:
            if old.host != contact.host.strip().lower().rstrip("."):
                raise Invalid(f"Contact #{old.pk} is for {old.host}, not {contact.host}.")
            if old.by_staff and not old.notices.exists():
                for field in ("host", "rung", "name", "email", "url", "note"):
                    setattr(old, field, getattr(contact, field))
                old.added_by = user
                old.save()
                return old
            if old.by_staff:
                # The agency's own contact, already named by a sent notice: kept for the record.
                old.is_current = False
                old.save(update_fields=["is_current"])
            else:
                _set_aside(
                    old, agency_id=contact.agency_id, user=user, reason=f"Corrected by staff: {contact}"
                )
            contact.note = (note + "\n" if note else "") + f"Corrects: {old}"
        contact.save()
        if old is not None:
            _drafts_follow(old, contact, agency_id=contact.agency_id, user=user)
    return contact


def contact_set_aside(*, user: User, contact_id: int, reason: str) -> AbuseContact:
    """Staff set a discovered contact aside for their agency (a desk that never answers, a
    wrong address): its notices and escalations no longer go there; other agencies' do.
    Raises NotAllowed, Invalid (no reason, not a discovered contact the user can see)."""
    if not role_has(user, "change_abusecontact"):
        raise NotAllowed("Your role cannot add or correct abuse contacts.")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why this contact is set aside.")
    contact = AbuseContact.objects.visible_to(user).filter(pk=contact_id).first()
    if contact is None or contact.by_staff:
        raise Invalid("Only a discovered contact is set aside; correct your agency's own instead.")
    with transaction.atomic():
        _set_aside(contact, agency_id=_staff_agency(user, None), user=user, reason=reason)
    return contact


def _drafts_follow(old: AbuseContact, new: AbuseContact, *, agency_id: int, user: User) -> int:
    """The agency's unsent drafts to a contact its staff just corrected are re-addressed to the
    correction when it is the same kind of recipient on the same registry row (the route and
    template stay right); others keep the old contact and are refused at submission, approval and
    sending (drafting.recipient_problem). Pending and approved notices are not changed here:
    legal approved those exact bytes, and approval and sending refuse them. Returns how many."""
    from takedown.choices import NoticeStatus
    from takedown.models import Notice
    from takedown.notices.states import record_event

    if new.rung != old.rung or platform_for(new) != platform_for(old):
        return 0
    moved = 0
    drafts = Notice.objects.select_for_update().filter(
        agency_id=agency_id, contact=old, status=NoticeStatus.DRAFT
    )
    for notice in drafts:
        if not Notice.objects.filter(pk=notice.pk, status=NoticeStatus.DRAFT, contact=old).update(
            contact=new
        ):
            continue
        moved += 1
        record_event(
            notice,
            user=user,
            from_status=NoticeStatus.DRAFT,
            to_status=NoticeStatus.DRAFT,
            reason=f"Re-addressed to {new}: staff corrected {old}.",
            data={"contact_from": old.pk, "contact_to": new.pk},
        )
    return moved


def _set_aside(contact: AbuseContact, *, agency_id: int, user: User, reason: str) -> None:
    ContactSetAside.objects.get_or_create(
        contact=contact, agency_id=agency_id, defaults={"by": user, "reason": reason[:1000]}
    )


def unlisted_platform() -> Platform:
    """The registry row that notices to discovered contacts hang on (a notice names a platform;
    its channel is the contact's). Created on first use, never a channel of its own."""
    platform, _ = Platform.objects.get_or_create(
        slug=UNLISTED_SLUG,
        defaults={
            "name": "Unlisted host",
            "hosts": [],
            "channel_kind": ChannelKind.NONE,
            "default_route": LegalRoute.PLATFORM_POLICY,
            "notes": "Notices to hosting providers, CDNs, site operators and registrars found by "
            "abuse-contact discovery. Each notice's recipient is its contact.",
        },
    )
    return platform


def platform_for(contact: AbuseContact) -> Platform:
    """A CDN contact's notice hangs on the CDN's registry row where there is one (Cloudflare),
    the others on the unlisted-host row."""
    if contact.rung == AbuseContact.Rung.CDN:
        data = bootstrap_data()
        for cdn in data.cdns:
            if cdn.name == contact.name and cdn.platform:
                platform = Platform.objects.filter(slug=cdn.platform).first()
                if platform is not None:
                    return platform
    return unlisted_platform()


# Recipients that no statute a notice route invokes binds: a registrar does not host the item
# (TAKE IT DOWN binds covered platforms, DMCA §512(c) and DSA Art. 16 hosting services, the
# Korean acts Korean service providers; a foreign registrar is none of these; ICANN's RAA
# §3.18 obliges it to take and investigate abuse reports under its own terms), and a CDN or
# reverse proxy with no registry row only passes the item on. They are written to on the
# platform-policy route, which claims no statutory clock.
POLICY_ONLY_RUNGS = frozenset({AbuseContact.Rung.REGISTRAR.value, AbuseContact.Rung.CDN.value})


def route_for(platform: Platform, url, *, rung: str = "") -> str | None:
    """The legal route a notice about ``url`` takes to a recipient that hangs on ``platform``.

    A registry platform (the search engine, a CDN with a registry row such as Cloudflare)
    takes the URL's own route where it has a channel for it, else its own route for the
    category (legal.default_route) where it has a channel for that; None when it has neither.
    On the unlisted-host row, a registrar or a CDN (``rung``, see POLICY_ONLY_RUNGS) takes the
    platform-policy route; the hosting provider's or site's abuse desk takes the URL's own
    route where it may carry the item, else the category's route for a host no platform
    covers. The route is never simply the one the URL was first notified on.
    """
    route, category = str(url.legal_route), str(url.category)
    if platform.slug == UNLISTED_SLUG:
        if str(rung) in POLICY_ONLY_RUNGS:
            return LegalRoute.PLATFORM_POLICY.value
        return route if legal.may_carry(route, category) else legal.default_route(None, category)
    if platform.channel_for(route) is not None and legal.may_carry(route, category):
        return route
    fallback = legal.default_route(platform, category)
    if platform.channel_for(fallback) is not None and legal.may_carry(fallback, category):
        return fallback
    return None


# -- refreshing the shipped data ----------------------------------------------------------

IANA = "https://data.iana.org/rdap/"
CLOUDFLARE = "https://www.cloudflare.com/"


def data_refresh(
    *,
    directory: Path | None = None,
    config: ProbeConfig | None = None,
    iana: str = IANA,
    cloudflare: str = CLOUDFLARE,
) -> dict[str, str]:
    """Download the IANA bootstrap files and the CDN ranges into ``directory`` (default
    TAKEDOWN_CONTACTS_DATA_DIR) through the same safe client; a file is replaced only once it
    parses. Returns each file's publication date, or why it was kept."""
    directory = Path(directory or settings.TAKEDOWN_CONTACTS_DATA_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    config = replace(config or discovery_config(), total_timeout=60.0)
    current = bootstrap.load(directory)  # what this directory serves now (shipped copy where empty)
    report: dict[str, str] = {}

    async def fetch_all() -> None:
        async with SafeClient(config, body_limit=8 * 1024 * 1024) as client:
            for kind in bootstrap.KINDS:
                answer = await client.get(f"{iana}{kind}.json", accept="application/json")
                if not answer.ok:
                    report[kind] = f"kept ({answer.error})"
                    continue
                try:
                    _services, published = bootstrap.parse_registry(kind, answer.body)
                except bootstrap.BootstrapError as exc:
                    report[kind] = f"kept ({exc})"
                    continue
                if not _services:
                    # An emptied registry (a broken mirror) would route nothing: keep ours.
                    report[kind] = f"kept ({kind}.json lists no services)"
                    continue
                _write(directory / f"{kind}.json", answer.body)
                report[kind] = published
            # Cloudflare's two lists; both must answer, or a half list would drop ranges.
            answers = [
                await client.get(f"{cloudflare}{suffix}", accept="text/plain")
                for suffix in ("ips-v4", "ips-v6")
            ]
            ranges = [line for a in answers for line in a.body.decode(errors="replace").split()]
            failed = [a.error or f"HTTP {a.status}" for a in answers if not a.ok]
            if failed or not ranges:
                report["cdn:cloudflare"] = f"kept ({'; '.join(failed) or 'empty list'})"
            cdns = {"cloudflare": None if failed or not ranges else ranges}
            _write_cdns(directory, current, cdns, report)

    asyncio.run(fetch_all())
    bootstrap.forget()
    return report


def _write(path: Path, body: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(body)
    tmp.replace(path)


def _write_cdns(directory: Path, current: bootstrap.Bootstrap, fetched: dict, report: dict) -> None:
    data = {}
    for cdn in current.cdns:
        ranges = fetched.get(cdn.slug) or [str(n) for n in cdn.networks]
        data[cdn.slug] = {
            "name": cdn.name,
            "platform": cdn.platform,
            "abuse_form": cdn.abuse_form,
            "abuse_form_source": cdn.abuse_form_source,
            "source": cdn.source,
            "published": timezone.localdate().isoformat() if fetched.get(cdn.slug) else cdn.published,
            "ranges": ranges,
        }
        if fetched.get(cdn.slug):
            report[f"cdn:{cdn.slug}"] = f"{len(ranges)} ranges"
    body = json.dumps(data, indent=2).encode()
    try:
        bootstrap.parse_cdns(body)
    except bootstrap.BootstrapError as exc:
        for slug in (k for k, v in fetched.items() if v):
            report[f"cdn:{slug}"] = f"kept ({exc})"
        return
    _write(directory / "cdn.json", body)
