"""Accounts behind URLs, and cases: URLs grouped for legal action against who posted them.

Staff propose a case (`case_create`); a legal reviewer takes it on (`case_take`) and owns it:
only legal reviewers change, close or export it. Every change writes a `CaseEvent`, which
enters the agency's hash chain (takedown.chain) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from takedown import chain
from takedown.choices import CaseStatus, Role
from takedown.errors import Conflict, Invalid, NotAllowed
from takedown.models import (
    Account,
    Artist,
    Case,
    CaseEvent,
    CaseURL,
    InfringingURL,
    Platform,
    URLCheck,
    User,
)
from takedown.probing.accounts import account_of
from takedown.roles import role_has
from takedown.urltools import UnsafeURL, normalize_url

# -- Accounts ----------------------------------------------------------------------------------

LINK_CHUNK = 2000


def _pasted_and_canonical(url: str, normalized: str) -> list[str]:
    try:
        via = normalize_url(url).via
    except UnsafeURL:
        via = None
    return [via or url, normalized]


def _latest_titles(ids: list[int]) -> dict[int, str]:
    titles: dict[int, str] = {}
    rows = URLCheck.objects.filter(url_id__in=ids).exclude(title="").order_by("url_id", "-checked_at", "-id")
    for url_id, title in rows.values_list("url_id", "title"):
        titles.setdefault(url_id, title)
    return titles


def accounts_link(*, agency_id: int, url_ids: Iterable[int] | None = None) -> int:
    """Link the agency's URLs without an account to the account their platform's extractor finds.

    Reads the URL as pasted, its canonical form and the newest title a check recorded; fetches
    nothing. Returns how many URLs were linked. Chunked: memory does not grow with the agency.
    """
    slugs = dict(Platform.objects.values_list("pk", "slug"))
    base = InfringingURL.objects.filter(
        artist__agency_id=agency_id, account__isnull=True, platform__isnull=False
    )
    if url_ids is not None:
        base = base.filter(pk__in=list(url_ids))
    linked, after = 0, 0
    while True:
        rows = list(
            base.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", "url", "normalized_url", "platform_id", "discovered_at")[:LINK_CHUNK]
        )
        if not rows:
            return linked
        after = rows[-1][0]
        titles = _latest_titles([r[0] for r in rows])
        found: dict[tuple[int, str, str], list[tuple[int, object, str]]] = {}
        for pk, url, normalized, platform_id, seen in rows:
            ref = account_of(
                slugs.get(platform_id), _pasted_and_canonical(url, normalized), titles.get(pk, "")
            )
            if ref is not None:
                found.setdefault((platform_id, ref.kind, ref.handle[:200]), []).append((pk, seen, ref.name))
        with transaction.atomic():
            for (platform_id, kind, handle), urls in found.items():
                linked += _link(agency_id, platform_id, kind, handle, urls)


def _link(
    agency_id: int, platform_id: int, kind: str, handle: str, urls: list[tuple[int, object, str]]
) -> int:
    seen = [s for _, s, _ in urls]
    names = [n[:200] for _, _, n in urls if n]
    account, created = Account.objects.get_or_create(
        agency_id=agency_id,
        platform_id=platform_id,
        kind=kind,
        handle=handle,
        defaults={"first_seen": min(seen), "last_seen": max(seen), "names_seen": sorted(set(names))[:20]},
    )
    if not created:
        changed = {
            "first_seen": min(account.first_seen, *seen),
            "last_seen": max(account.last_seen, *seen),
            "names_seen": sorted(set(account.names_seen) | set(names))[:20],
        }
        Account.objects.filter(pk=account.pk).update(**changed)
    return InfringingURL.objects.filter(pk__in=[pk for pk, _, _ in urls], account__isnull=True).update(
        account=account
    )


def repeat_offenders(user: User, *, limit: int = 50):
    """The agency's accounts with the most items, across artists and over time."""
    return (
        Account.objects.visible_to(user)
        .with_url_counts()
        .filter(url_count__gt=0)
        .select_related("platform")
        .order_by("-url_count", "-last_seen", "pk")[:limit]
    )


# -- Cases -------------------------------------------------------------------------------------


def _need(user: User, codename: str, doing: str) -> None:
    if not role_has(user, codename):
        raise NotAllowed(_("Your role may not %(doing)s.") % {"doing": doing})


# What each kind of timeline line means, for people (the stored kind stays a stable code).
EVENT_LABELS = {
    "proposed": gettext_lazy("Proposed"),
    "taken": gettext_lazy("Taken on"),
    "changed": gettext_lazy("Changed"),
    "urls_added": gettext_lazy("URLs added"),
    "urls_removed": gettext_lazy("URLs removed"),
    "urls_erased": gettext_lazy("URLs erased"),
    "closed": gettext_lazy("Closed"),
    "dossier_exported": gettext_lazy("Dossier exported"),
}


def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))


def case_get(case_id: int, user: User) -> Case:
    """A case of the user's agency (another agency's is DoesNotExist, as if it did not exist)."""
    return Case.objects.visible_to(user).select_related("agency", "legal_owner").get(pk=case_id)


def _lock_unclosed(case: Case) -> Case:
    """The case's row, locked for the caller's transaction; a closed case is refused (its
    contents are evidence as they stood when it was closed)."""
    locked = (
        Case.objects.select_for_update(of=("self",)).select_related("agency", "legal_owner").get(pk=case.pk)
    )
    if locked.status == CaseStatus.CLOSED:
        raise Conflict(_("Case #%(id)s is closed.") % {"id": case.pk})
    return locked


def case_record(
    case: Case, *, user: User | None, kind: str, detail: str = "", data: dict | None = None
) -> CaseEvent:
    """One line of the case's timeline and its link in the chain (the caller holds the transaction)."""
    event = CaseEvent.objects.create(case=case, actor=user, kind=kind, detail=detail, data=data or {})
    chain.chain_case_event(event, case.agency_id)
    return event


def _urls_for(user: User, agency_id: int, url_ids: Iterable[int], account_ids: Iterable[int]) -> list[int]:
    url_ids, account_ids = list(url_ids), list(account_ids)
    qs = InfringingURL.objects.visible_to(user).filter(artist__agency_id=agency_id)
    wanted = qs.filter(Q(pk__in=url_ids) | Q(account_id__in=account_ids))
    found = list(wanted.values_list("pk", flat=True))
    missing = set(url_ids) - set(found)
    if missing:
        raise Invalid(_("Unknown URL ids: %(ids)s.") % {"ids": ", ".join(map(str, sorted(missing)[:20]))})
    visible_accounts = set(
        Account.objects.visible_to(user).filter(pk__in=account_ids).values_list("pk", flat=True)
    )
    if set(account_ids) - visible_accounts:
        raise Invalid(_("Unknown account ids."))
    return found


def _add_urls(case: Case, user: User, ids: list[int]) -> list[int]:
    have = set(CaseURL.objects.filter(case=case, url_id__in=ids).values_list("url_id", flat=True))
    new = [i for i in ids if i not in have]
    CaseURL.objects.bulk_create([CaseURL(case=case, url_id=i, added_by=user) for i in new], batch_size=1000)
    artists = set(InfringingURL.objects.filter(pk__in=new).values_list("artist_id", flat=True).distinct())
    case.artists.add(*artists)
    return sorted(new)


def case_create(
    *,
    user: User,
    title: str,
    url_ids: Iterable[int] = (),
    account_ids: Iterable[int] = (),
    artist_ids: Iterable[int] = (),
    notes: str = "",
) -> Case:
    """Propose a case of URLs (given, and every URL of the given accounts).

    A legal reviewer who creates one owns it at once; staff propose and legal takes it on.
    Raises NotAllowed, Invalid (no title, unknown ids: nothing is written).
    """
    _need(user, "add_case", _("propose cases"))
    title = (title or "").strip()
    if not title:
        raise Invalid(_("A case needs a title."))
    if user.agency_id is None:
        raise Invalid(_("A superuser belongs to no agency: create cases as a member of one."))
    artists = list(
        Artist.objects.visible_to(user).filter(pk__in=list(artist_ids)).values_list("pk", flat=True)
    )
    if len(artists) != len(set(artist_ids)):
        raise Invalid(_("Unknown artist ids."))
    with transaction.atomic():
        ids = _urls_for(user, user.agency_id, url_ids, account_ids)
        owner = user if user.role == Role.LEGAL else None
        case = Case.objects.create(
            agency_id=user.agency_id,
            title=title[:300],
            notes=notes,
            created_by=user,
            legal_owner=owner,
            status=CaseStatus.OPEN if owner else CaseStatus.PROPOSED,
        )
        case.artists.add(*artists)
        added = _add_urls(case, user, ids)
        case_record(
            case,
            user=user,
            kind="proposed",
            data={"urls": len(added), "url_ids": added, "accounts": sorted(set(account_ids))},
        )
        if owner:
            case_record(case, user=user, kind="taken", data={"owner": user.pk})
    return case


def case_take(*, user: User, case_id: int) -> Case:
    """A legal reviewer takes on a proposed case and owns it. Raises NotAllowed, Conflict."""
    case = case_get(case_id, user)
    _need(user, "change_case", _("take on cases"))
    with transaction.atomic():
        moved = Case.objects.filter(pk=case.pk, status=CaseStatus.PROPOSED).update(
            status=CaseStatus.OPEN, legal_owner=user
        )
        if not moved:
            raise Conflict(_("Case #%(id)s was already taken on.") % {"id": case.pk})
        case.refresh_from_db()
        case_record(case, user=user, kind="taken", data={"owner": user.pk})
    return case


CHANGEABLE = ("title", "notes", "law_firm_reference", "police_reference")


def case_update(*, user: User, case_id: int, legal_owner_id: int | None = None, **fields) -> Case:
    """Change a case's title, notes, references or owner (legal reviewers only)."""
    case = case_get(case_id, user)
    _need(user, "change_case", _("change cases"))
    unknown = set(fields) - set(CHANGEABLE)
    if unknown:
        raise Invalid(_("Unknown fields: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    changes = {k: str(v).strip() for k, v in fields.items() if str(v).strip() != getattr(case, k)}
    if "title" in changes and not changes["title"]:
        raise Invalid(_("A case needs a title."))
    if legal_owner_id is not None and legal_owner_id != case.legal_owner_id:
        owner = User.objects.filter(
            pk=legal_owner_id, agency_id=case.agency_id, role=Role.LEGAL, is_active=True
        )
        if not owner.exists():
            raise Invalid(_("The owner must be an active legal reviewer of the agency."))
        changes["legal_owner_id"] = legal_owner_id
    if case.status == CaseStatus.CLOSED:
        raise Conflict(_("Case #%(id)s is closed.") % {"id": case.pk})
    if not changes:
        return case
    with transaction.atomic():
        case = _lock_unclosed(case)
        if case.status == CaseStatus.PROPOSED and "legal_owner_id" in changes:
            changes["status"] = CaseStatus.OPEN
        Case.objects.filter(pk=case.pk).update(**changes)
        case.refresh_from_db()
        case_record(case, user=user, kind="changed", data={k: str(v) for k, v in changes.items()})
    return case


def case_add_urls(
    *, user: User, case_id: int, url_ids: Iterable[int] = (), account_ids: Iterable[int] = ()
) -> int:
    """Add URLs (and every URL of accounts) to a case: staff to a proposed one, legal to any open one."""
    case = case_get(case_id, user)
    if case.status == CaseStatus.CLOSED:
        raise Conflict(_("Case #%(id)s is closed.") % {"id": case.pk})
    if case.status == CaseStatus.OPEN:
        _need(user, "change_case", _("change cases"))
    else:
        _need(user, "add_case", _("propose cases"))
    with transaction.atomic():
        case = _lock_unclosed(case)
        ids = _urls_for(user, case.agency_id, url_ids, account_ids)
        added = _add_urls(case, user, ids)
        if added:  # the ids themselves enter the chain, not only how many
            case_record(case, user=user, kind="urls_added", data={"urls": len(added), "url_ids": added})
    return len(added)


def case_remove_urls(*, user: User, case_id: int, url_ids: Iterable[int]) -> int:
    case = case_get(case_id, user)
    _need(user, "change_case", _("change cases"))
    if case.status == CaseStatus.CLOSED:
        raise Conflict(_("Case #%(id)s is closed.") % {"id": case.pk})
    with transaction.atomic():
        case = _lock_unclosed(case)
        rows = CaseURL.objects.filter(case=case, url_id__in=list(url_ids))
        ids = sorted(rows.values_list("url_id", flat=True))
        rows.delete()
        if ids:
            case_record(case, user=user, kind="urls_removed", data={"urls": len(ids), "url_ids": ids})
    return len(ids)


def case_close(*, user: User, case_id: int, reason: str) -> Case:
    """Close an open case with a reason (legal reviewers). Raises NotAllowed, Invalid, Conflict."""
    case = case_get(case_id, user)
    _need(user, "change_case", _("close cases"))
    if not (reason or "").strip():
        raise Invalid(_("Say why the case is closed."))
    with transaction.atomic():
        if not Case.objects.filter(pk=case.pk, status=CaseStatus.OPEN).update(
            status=CaseStatus.CLOSED, closed_at=timezone.now()
        ):
            raise Conflict(_("Only an open case can be closed."))
        case.refresh_from_db()
        case_record(case, user=user, kind="closed", detail=reason.strip())
    return case


def case_record_export(
    case: Case,
    *,
    user: User | None,
    sha256: str,
    size: int,
    urls: int,
    locale: str,
    job_id: int | None = None,
) -> CaseEvent:
    """Put a dossier export on the case's timeline and in the chain: who exported what, and the
    ZIP's own SHA-256, so a copy handed to a court can later be matched to this moment."""
    data = {"sha256": sha256, "bytes": size, "urls": urls, "locale": locale}
    if job_id is not None:
        data["job"] = job_id
    with transaction.atomic():
        return case_record(case, user=user, kind="dossier_exported", data=data)


def case_period(case: Case) -> tuple[object, object]:
    """First and last time anything in the case was seen (discovered or checked)."""
    urls = InfringingURL.objects.filter(case_links__case=case)
    agg = urls.aggregate(first=Min("discovered_at"), last=Max("last_checked_at"), found=Max("discovered_at"))
    last = max([x for x in (agg["last"], agg["found"]) if x is not None], default=None)
    return agg["first"], last
