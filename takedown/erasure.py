"""Erasing an artist's data at the artist's request, keeping only what the law requires.

Deleted: the artist's URLs with every check (the evidence: statuses, titles, excerpts, hashes),
the notices never sent (drafts, notices in review, rejected ones) with their timelines, every
notice's list of URLs, the rights records, the background jobs run for the artist and the artist's
rows in other jobs; the admin's history of these objects loses their names.

Kept: each notice that was sent, exactly as sent (subject, text, HTML and the PDF whose SHA-256
still verifies; recipient, reference, times, its timeline and counter-notices), because it is the
evidence of what the agency asserted to the platform: it answers a counter-notice (DMCA §512(g)),
a claim of misrepresentation (§512(f)) or a claim under another route, and the right to erasure
does not reach what is needed to establish or defend legal claims (GDPR Art. 17(3)(e)). It is
kept `TAKEDOWN_RETAIN_ERASED_NOTICES_DAYS` after its last event, then deleted by the daily
retention (takedown.retention). Around those bytes, what can be pseudonymised is: the artist's row
(which the notices point at) becomes "Erased artist <id>" without names, aliases, accounts or
notes, and the artist's names and URLs in the timelines' reasons and counter-notice summaries are
replaced.

One transaction, the artist's row locked first; its own audit row (`Erasure`) holds who, when and
how much, never what.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from takedown import chain, jobs
from takedown.choices import ChainKind, NoticeStatus, Role
from takedown.errors import Conflict, NotAllowed
from takedown.models import (
    Artist,
    Authorization,
    AuthorizationDocument,
    Case,
    CaseEvent,
    CaseURL,
    CounterNotice,
    Erasure,
    InfringingURL,
    Job,
    Notice,
    NoticeEvent,
    NoticeItem,
    RightsRecord,
    URLCheck,
    User,
    private_storage,
)
from takedown.retention import erased_notice_keep_until, with_last_event

# Notices that never left the agency: nothing was asserted to anyone, so nothing is kept.
UNSENT = (NoticeStatus.DRAFT, NoticeStatus.PENDING, NoticeStatus.REJECTED, NoticeStatus.CANCELLED)

WHY_KEPT = (
    "a sent notice is the evidence of what the agency asserted to the platform, needed to answer "
    "a counter-notice (DMCA §512(g)), a claim of misrepresentation (§512(f)) or a claim under "
    "another route; erasure does not reach what is needed for legal claims (GDPR Art. 17(3)(e))"
)
NOT_REACHED = (
    "copies outside this database: backups until they age out, the mail servers and platforms "
    "that received the notices, and server logs"
)
ERASED_URL = "[erased URL]"
ERASED_ENTRY = "[erased]"


def pseudonym(artist: Artist) -> str:
    return f"Erased artist {artist.pk}"


@dataclass
class KeptNotice:
    id: int
    status: str
    platform: str
    sent_at: datetime
    pdf_sha256: str
    keep_until: datetime

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "sent_at": self.sent_at.isoformat(),
            "keep_until": timezone.localdate(self.keep_until).isoformat(),
        }


@dataclass
class ErasurePlan:
    """What an erasure of one artist deletes, pseudonymises and keeps (and what stops it now)."""

    artist: Artist
    url_ids: set[int]
    rewrites: _Rewrites
    deleted: dict[str, int] = field(default_factory=dict)
    pseudonymised: dict[str, int] = field(default_factory=dict)
    kept: list[KeptNotice] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)

    @property
    def keeps_artist_row(self) -> bool:
        return bool(self.kept)


def may_erase(user: User, artist: Artist) -> bool:
    """Superusers, and the managers and legal reviewers of the artist's agency."""
    if not user.is_active:
        return False
    return user.is_superuser or (
        user.agency_id == artist.agency_id and user.role in (Role.MANAGER, Role.LEGAL)
    )


# -- what the artist's data is ----------------------------------------------------------------


def _url_texts(artist: Artist) -> set[str]:
    texts: set[str] = set()
    for url, normalized in InfringingURL.objects.filter(artist=artist).values_list("url", "normalized_url"):
        texts.update(t.strip() for t in (url, normalized) if t.strip())
    return texts


def redactor(artist: Artist, url_texts: set[str]) -> Callable[[str], str]:
    """A function that replaces the artist's names, aliases, official accounts and URLs in free
    text: names become the pseudonym, accounts and URLs "[erased URL]"."""
    people = [
        n
        for pair in Authorization.objects.filter(artist=artist).values_list("person_name", "person_name_ko")
        for n in pair
    ]
    names = {
        n.strip()
        for n in (artist.name, artist.name_ko, *(artist.aliases or []), *people)
        if len(n.strip()) >= 2
    }
    accounts = {a.strip() for a in artist.official_accounts or [] if len(a.strip()) >= 3}
    replacement = {n.casefold(): pseudonym(artist) for n in names}
    replacement.update({t.casefold(): ERASED_URL for t in accounts | url_texts})
    # URLs are matched whole (however many the artist has); names and accounts as words, where
    # a word ends at anything but a Latin letter or digit (Korean particles follow a name directly).
    url_like = r"https?://[^\s'\"<>]*[^\s'\"<>.,;:!?)\]]"
    terms = sorted(names | accounts, key=len, reverse=True)
    words = [rf"(?<![A-Za-z0-9]){re.escape(t)}(?![A-Za-z0-9])" for t in terms]
    pattern = re.compile("|".join([url_like, *words]), re.IGNORECASE)

    def replace(match: re.Match) -> str:
        found = match.group(0)
        return replacement.get(found.casefold(), found)

    def redact(text: str) -> str:
        return pattern.sub(replace, text) if text else text

    return redact


@dataclass
class _Rewrites:
    """Row by row, what erasure changes outside the rows it deletes outright."""

    jobs_deleted: list[int] = field(default_factory=list)
    jobs: dict[int, dict] = field(default_factory=dict)  # job id -> fields
    events: dict[int, str] = field(default_factory=dict)  # kept notices' event id -> reason
    counters: dict[int, dict] = field(default_factory=dict)  # counter-notice id -> fields
    running_jobs: list[Job] = field(default_factory=list)


def _job_rewrite(job: Job, artist: Artist, url_ids: set[int], redact: Callable[[str], str]) -> dict:
    """A job's params, result and error without the artist's rows, URL ids, names and URLs."""
    keys = {artist.slug, str(artist.pk)}
    params = dict(job.params or {})
    if "rows" in params:
        params["rows"] = [r for r in params["rows"] if str(r.get("artist", "")).strip() not in keys]
    if "url_ids" in params:
        params["url_ids"] = [i for i in params["url_ids"] if i not in url_ids]
    result = dict(job.result or {})
    for key in ("errors", "notes"):
        if isinstance(result.get(key), list):
            result[key] = [{**e, "message": redact(str(e.get("message", "")))} for e in result[key]]
    fields = {"params": params, "result": result, "error": redact(job.error)}
    return {k: v for k, v in fields.items() if v != getattr(job, k)}


def _cases_that_held(artist: Artist, url_ids: set[int]) -> set[int]:
    held = set(
        Case.objects.filter(Q(artists=artist) | Q(case_urls__url__artist=artist)).values_list("pk", flat=True)
    )
    # URLs taken out of a case since: its timeline names them (proposed, urls_added).
    for case_id, data in CaseEvent.objects.filter(case__agency_id=artist.agency_id).values_list(
        "case_id", "data"
    ):
        if case_id not in held and url_ids & set((data or {}).get("url_ids") or []):
            held.add(case_id)
    return held


def _rewrites(artist: Artist, url_ids: set[int], redact: Callable[[str], str]) -> _Rewrites:
    found = _Rewrites()
    # A stored dossier of a case that holds or ever held the artist (or one of the artist's URLs)
    # names the artist: it goes (the case's timeline keeps that it was exported, and the digest).
    cases_held = _cases_that_held(artist, url_ids)
    for job in Job.objects.filter(agency_id=artist.agency_id).order_by("pk"):
        own = (job.params or {}).get("artist_id") == artist.pk  # run for this artist alone
        own = own or (job.kind == Job.Kind.DOSSIER and (job.params or {}).get("case_id") in cases_held)
        fields = _job_rewrite(job, artist, url_ids, redact)
        if (own or fields) and job.state in (Job.State.QUEUED, Job.State.RUNNING):
            found.running_jobs.append(job)
        elif own:
            found.jobs_deleted.append(job.pk)
        elif fields:
            found.jobs[job.pk] = fields
    kept = Notice.objects.filter(artist=artist, sent_at__isnull=False)
    for pk, reason in (
        NoticeEvent.objects.filter(notice__in=kept).exclude(reason="").values_list("pk", "reason")
    ):
        if redact(reason) != reason:
            found.events[pk] = redact(reason)
    for pk, summary, party in CounterNotice.objects.filter(notice__in=kept).values_list(
        "pk", "summary", "counter_party"
    ):
        if (redact(summary), redact(party)) != (summary, party):
            found.counters[pk] = {"summary": redact(summary), "counter_party": redact(party)}
    return found


def _log_entries(artist: Artist, url_ids: set[int]):
    """The admin's history entries of the artist's objects (their names are in object_repr)."""
    objects = {
        Artist: [artist.pk],
        RightsRecord: RightsRecord.objects.filter(artist=artist).values_list("pk", flat=True),
        InfringingURL: url_ids,
        Notice: Notice.objects.filter(artist=artist).values_list("pk", flat=True),
        NoticeItem: NoticeItem.objects.filter(notice__artist=artist).values_list("pk", flat=True),
        CounterNotice: CounterNotice.objects.filter(notice__artist=artist).values_list("pk", flat=True),
        # The people an artist's authorizations name are in their admin history too.
        Authorization: Authorization.objects.filter(artist=artist).values_list("pk", flat=True),
        AuthorizationDocument: AuthorizationDocument.objects.filter(authorization__artist=artist).values_list(
            "pk", flat=True
        ),
    }
    condition = Q(pk__in=[])
    for model, ids in objects.items():
        ids = [str(i) for i in ids]
        if ids:
            condition |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    return LogEntry.objects.filter(condition)


# -- the plan ---------------------------------------------------------------------------------


def erasure_plan(artist: Artist) -> ErasurePlan:
    """What erasing this artist deletes, pseudonymises and keeps, counted; changes nothing."""
    notices = Notice.objects.filter(artist=artist)
    unsent = notices.filter(sent_at__isnull=True, status__in=UNSENT)
    sent = list(
        with_last_event(notices.filter(sent_at__isnull=False).select_related("platform")).order_by("pk")
    )
    url_ids = set(InfringingURL.objects.filter(artist=artist).values_list("pk", flat=True))
    rewrites = _rewrites(artist, url_ids, redactor(artist, _url_texts(artist)))
    plan = ErasurePlan(artist=artist, url_ids=url_ids, rewrites=rewrites)
    plan.deleted = {
        "URLs": len(url_ids),
        "URL checks": URLCheck.objects.filter(url__artist=artist).count(),
        "their places in cases": CaseURL.objects.filter(url__artist=artist).count(),
        "unsent notices": unsent.count(),
        "their timeline events": NoticeEvent.objects.filter(notice__in=unsent).count(),
        "notice items": NoticeItem.objects.filter(Q(notice__artist=artist) | Q(url__artist=artist)).count(),
        "rights records": RightsRecord.objects.filter(artist=artist).count(),
        "authorization documents (위임장, ID copies) and their files": AuthorizationDocument.objects.filter(
            authorization__artist=artist
        ).count(),
        "authorizations": 0 if sent else Authorization.objects.filter(artist=artist).count(),
        "background jobs": len(rewrites.jobs_deleted),
        "artist rows": 0 if sent else 1,
    }
    plan.pseudonymised = {
        "artist rows": 1 if sent else 0,
        # The record the kept notices' authority rests on: its dates and routes, not the person.
        "authorizations (dates and routes kept, names removed)": (
            Authorization.objects.filter(artist=artist).count() if sent else 0
        ),
        "other background jobs": len(rewrites.jobs),
        "kept timeline reasons": len(rewrites.events),
        "kept counter-notices": len(rewrites.counters),
        "admin history entries": _log_entries(artist, url_ids).count(),
    }
    plan.kept = [
        KeptNotice(
            n.pk,
            n.status,
            n.platform.name,
            n.sent_at,
            n.pdf_sha256,
            erased_notice_keep_until(n.last_event_at),
        )
        for n in sent
    ]
    plan.blockers = [
        f"Notice #{n.pk} is {n.status}: it may be on its way to {n.platform.name}. Send or settle it first."
        for n in notices.filter(sent_at__isnull=True).exclude(status__in=UNSENT).select_related("platform")
    ] + [
        f"Background job #{j.pk} ({j.get_kind_display()}) is {j.state} with this artist's data: "
        "let it finish first."
        for j in rewrites.running_jobs
    ]
    return plan


# -- doing it ---------------------------------------------------------------------------------


def artist_erase(*, artist_id: int, user: User, operator: str = "", now: datetime | None = None) -> Erasure:
    """Erase an artist's data as `erasure_plan` describes it, in one transaction, and record it.

    Raises NotAllowed for a user who may not, Conflict while a notice may be on its way or a
    job with the artist's data is still to run (nothing is changed then).
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Locked first: intake for this artist waits, and finds it gone (or renamed) after.
        artist = Artist.objects.select_for_update().get(pk=artist_id)
        if not may_erase(user, artist):
            raise NotAllowed(
                "Only a superuser, or a manager or legal reviewer of the artist's agency, can erase."
            )
        plan = erasure_plan(artist)
        if plan.blockers:
            raise Conflict(" ".join(plan.blockers))
        _apply(plan, user)
        return Erasure.objects.create(
            agency_id=artist.agency_id,
            artist_ref=artist_id,
            performed_by=user,
            operator=operator[:100],
            at=now,
            deleted=plan.deleted,
            kept={
                "notices": [k.as_dict() for k in plan.kept],
                "pseudonymised": plan.pseudonymised,
                "why": WHY_KEPT if plan.kept else "",
            },
            finished_at=None if plan.kept else now,
        )


def _record_in_cases(artist: Artist, user: User | None) -> None:
    """Each case that held the artist's URLs says, in its timeline and chain, which ones left it."""
    from takedown.cases import case_record

    held: dict[int, list[int]] = {}
    for case_id, url_id in CaseURL.objects.filter(url__artist=artist).values_list("case_id", "url_id"):
        held.setdefault(case_id, []).append(url_id)
    for case in Case.objects.filter(pk__in=held).order_by("pk"):
        ids = sorted(held[case.pk])
        case_record(case, user=user, kind="urls_erased", data={"urls": len(ids), "url_ids": ids})


def _delete_dossier_files(storage, names: list[str]) -> None:
    """The stored ZIPs and what crashed runs left of them (`<zip>.<run>.partial`)."""
    import glob

    for name in names:
        path = storage.path(name)
        for found in [path, *glob.glob(glob.escape(path) + ".*.partial")]:
            if os.path.exists(found):
                os.unlink(found)


def _apply(plan: ErasurePlan, user: User | None = None) -> None:
    artist, rewrites = plan.artist, plan.rewrites
    _log_entries(artist, plan.url_ids).update(object_repr=ERASED_ENTRY, change_message="")
    going = Job.objects.filter(pk__in=rewrites.jobs_deleted)
    dossiers = [jobs.dossier_path(j) for j in going if j.kind == Job.Kind.DOSSIER]
    going.delete()
    storage = private_storage()
    transaction.on_commit(lambda: _delete_dossier_files(storage, dossiers))
    for pk, fields in rewrites.jobs.items():
        Job.objects.filter(pk=pk).update(**fields)
    for pk, reason in rewrites.events.items():
        NoticeEvent.objects.filter(pk=pk).update(reason=reason)
    for pk, fields in rewrites.counters.items():
        CounterNotice.objects.filter(pk=pk).update(**fields)
    NoticeItem.objects.filter(Q(notice__artist=artist) | Q(url__artist=artist)).delete()
    unsent = Notice.objects.filter(artist=artist, sent_at__isnull=True, status__in=UNSENT)
    named = chain.record_deletions(
        reason="erasure",
        checks=URLCheck.objects.filter(url__artist=artist),
        notice_events=NoticeEvent.objects.filter(notice__in=unsent),
    )
    NoticeEvent.objects.filter(pk__in=named[ChainKind.NOTICE_EVENT]).delete()
    unsent.delete()
    URLCheck.objects.filter(pk__in=named[ChainKind.CHECK]).delete()
    # The artist's URLs leave the cases that held them, and the artist leaves those cases.
    _record_in_cases(artist, user)
    CaseURL.objects.filter(url__artist=artist).delete()
    Case.artists.through.objects.filter(artist=artist).delete()
    InfringingURL.objects.filter(artist=artist).update(same_as=None)
    InfringingURL.objects.filter(artist=artist).delete()
    RightsRecord.objects.filter(artist=artist).delete()
    documents = AuthorizationDocument.objects.filter(authorization__artist=artist)
    files = [(d.file.storage, d.file.name) for d in documents if d.file]
    documents.delete()
    # The files go once the erasure is committed: a rolled-back erasure keeps them.
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in files])
    if plan.keeps_artist_row:
        Authorization.objects.filter(artist=artist).update(
            person_name=pseudonym(artist), person_name_ko="", scope=""
        )
    else:
        Authorization.objects.filter(artist=artist).delete()
    if not plan.keeps_artist_row:
        artist.delete()
        return
    Artist.objects.filter(pk=artist.pk).update(
        name=pseudonym(artist),
        name_ko="",
        slug=f"erased-{artist.pk}",
        aliases=[],
        official_accounts=[],
        notes="",
    )
