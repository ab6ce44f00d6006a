"""The demo agency: three fictional artists, ~50 URLs, a dozen notices in every state and a
demo user per role, as eight weeks of work built through the same services and checks as
real work (`manage.py load_demo`, which `manage.py setup --demo` runs).

- `cases`: the story as data (the agency, artists, users, and the cases of work);
- `story`: playing it (the story clock, the services, the recheck engine).

How the story is built:

- URLs arrive through intake (`importing.import_rows`), as a staff CSV upload or the API
  crawler's batch; notices are drafted, submitted (pre-send checks, the real PDF), reviewed,
  sent, acknowledged, closed, withdrawn and revised through `takedown.notices`. demo-staff
  drafts and demo-legal reviews, so the four-eyes rule holds without exception.
- What a notice asserts rests on records made before the story starts: each person's
  authorization of the agency (for ORBIT-7, a group, one per member), and its documents (위임장,
  masked ID copy) uploaded by demo-legal through `authority.authorization_document_add` as
  one-line PDFs that say they are invented. After each import, staff's record of each item
  follows: the work a copyright item copies, the member a group's item depicts, the facts of an
  authentic intimate item.
- A URL is notified only by sending a notice, and leaves that state only through its check
  history: each check is an invented observation (a `ProbeResult` whose rule starts with
  "demo." and whose evidence says it was invented) recorded by the recheck engine itself
  (`rechecks.claim_due` and `record_results`) at the moment the engine's own plan says it is
  due; `takedown.lifecycle` moves the URL once a verdict is confirmed.
- Time: each step runs under a story clock (`story.StoryClock`), which stands in for
  `django.utils.timezone.now` while the story is built, so that everything the services,
  model defaults and `auto_now` fields stamp reads the moment the step is said to happen:
  eight weeks ago for the first notices, yesterday for the newest. The clock only moves
  forwards (a step dated before the previous one stops the build), and the story ends at the
  moment the build started, so nothing is dated in the future. Dating each step as it runs,
  rather than shifting timestamps afterwards, keeps what the services derive from the time
  consistent with it: deadlines from sending, the recheck plan, removal times from sightings,
  and the date printed in each frozen PDF. The real clock is back as soon as the story is
  written.
- Nothing leaves the machine. A web-form notice's platform reference says it was invented.
  There is no mail server in the demo: an email notice is queued by the real Send, then
  re-addressed (a line on its timeline says so) to the demo's own outbox under the reserved
  .example domain, and delivered into Django's in-memory (locmem) backend. The invented URLs
  are never requested: the engine's next check is cleared once the story ends.

The story is written once per database: with URLs in the demo agency already, nothing is added.
"""

from __future__ import annotations

import functools
import random
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from takedown import authority, notices
from takedown.demo.cases import (
    AGENCY,
    ARTISTS,
    AUTHORIZATION_SCOPE,
    AUTHORIZED_DAYS_BEFORE,
    CASES,
    DEMO_OUTBOX,
    MEMBERS,
    STORY_WEEKS,
    USERS,
)
from takedown.demo.story import Story, StoryClock, StoryError, Totals
from takedown.models import (
    Agency,
    Artist,
    Authorization,
    InfringingURL,
    Platform,
    RightsRecord,
    User,
)

__all__ = ["DEMO_OUTBOX", "DemoLoaded", "StoryError", "demo_load"]


@dataclass
class DemoLoaded:
    """What `demo_load` did: the agency, the story's totals (None: it was there already) and
    the demo users given a new password, as (username, role, password)."""

    agency: Agency
    totals: Totals | None
    passwords: list[tuple[str, str, str]] = field(default_factory=list)


@transaction.atomic
def demo_load(*, reset_passwords: bool = False) -> DemoLoaded:
    """Create the demo agency, its artists and users, and play its story once.

    Idempotent: existing rows are kept, and the story is played only while the demo agency
    has no URL. Users get a generated password when created (or all of them with
    `reset_passwords`). Raises StoryError when the platform registry is empty or the story
    cannot be played; nothing is written then.
    """
    if not Platform.objects.exists():
        raise StoryError("The platform registry is empty: run `manage.py setup --demo` instead.")
    notices.templates_load_defaults()
    end = timezone.now()
    start = timezone.localtime(end) - timedelta(weeks=STORY_WEEKS, days=1)
    with StoryClock(start).installed() as clock:
        agency = _agency()
        users, passwords = _users(agency, reset=reset_passwords)
        _authorizations(agency, since=start.date() - timedelta(days=AUTHORIZED_DAYS_BEFORE))
        _authorization_documents(agency, users["demo-legal"])
        if InfringingURL.objects.filter(artist__agency=agency).exists():
            return DemoLoaded(agency, None, passwords)
        story = Story(agency, users, clock, end, random.Random(20260519))
        story.play(CASES)
        _legal_case(agency, users)
    # The demo's URLs are invented: never send requests for them to the real platforms.
    InfringingURL.objects.filter(artist__agency=agency).update(next_check_at=None)
    return DemoLoaded(agency, story.totals, passwords)


def _legal_case(agency: Agency, users: dict[str, User]) -> None:
    """The accounts behind the demo's URLs, and a case against the two that posted most, which
    staff propose and legal take on (its checks and sent notices come from the story)."""
    from takedown import cases

    cases.accounts_link(agency_id=agency.pk)
    top = [a.pk for a in cases.repeat_offenders(users["demo-staff"], limit=2)]
    if not top:
        return
    case = cases.case_create(
        user=users["demo-staff"],
        title="Deepfake posts by the demo's most active accounts",
        account_ids=top,
        notes="Fictional demo case: accounts grouped for the law firm.",
    )
    cases.case_take(user=users["demo-legal"], case_id=case.pk)
    cases.case_update(
        user=users["demo-legal"],
        case_id=case.pk,
        law_firm_reference="DEMO-LF-001",
        police_reference="DEMO-P-001",
    )


def _agency() -> Agency:
    agency, _ = Agency.objects.get_or_create(slug=AGENCY["slug"], defaults=AGENCY)
    for spec in ARTISTS:
        artist, _ = Artist.objects.get_or_create(
            agency=agency,
            slug=spec["slug"],
            defaults={
                "is_group": spec.get("is_group", False),
                **{k: spec[k] for k in ("name", "name_ko", "aliases", "official_accounts")},
            },
        )
        for title, kind in spec["works"]:
            RightsRecord.objects.get_or_create(
                artist=artist, title=title, defaults={"owner": agency.name, "kind": kind}
            )
    return agency


def _authorizations(agency: Agency, *, since: date) -> None:
    """Each person's authorization of the agency, for the routes their artist's cases take: a
    solo artist's own, a group's one per member (MEMBERS)."""
    for artist in Artist.objects.filter(agency=agency):
        routes = sorted({str(case.route) for case in CASES if case.artist == artist.slug})
        people = MEMBERS.get(artist.slug, [(artist.name, artist.name_ko)])
        for name, name_ko in people:
            Authorization.objects.get_or_create(
                artist=artist,
                person_name=name,
                defaults={
                    "person_name_ko": name_ko,
                    "scope": AUTHORIZATION_SCOPE,
                    "routes": routes,
                    "valid_from": since,
                },
            )


def _authorization_documents(agency: Agency, legal: User) -> None:
    """The documents some channels ask for (위임장, masked ID copy), uploaded by legal through
    the real service: a one-line PDF that says it is invented, never an image of anyone."""
    authorizations = Authorization.objects.filter(artist__agency=agency).prefetch_related("documents")
    for auth in authorizations:
        have = {document.kind for document in auth.documents.all()}
        for kind in authority.REQUIRED_DOCUMENTS:
            if kind in have:
                continue
            authority.authorization_document_add(
                user=legal,
                authorization_id=auth.pk,
                kind=kind,
                name=f"demo-{kind}.pdf",
                content=_invented_pdf(kind),
            )


@functools.cache
def _invented_pdf(kind: str) -> bytes:
    # Trusted, constant HTML: rendered in this process, not in the notice renderer's sandbox.
    from weasyprint import HTML

    text = (
        f"Demo document ({kind.replace('_', ' ')}): invented, no real person. Nothing here identifies anyone."
    )
    return HTML(string=f"<p>{text}</p>").write_pdf()


def _users(agency: Agency, *, reset: bool) -> tuple[dict[str, User], list[tuple[str, str, str]]]:
    users, passwords = {}, []
    for username, role, is_staff, first, last in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                agency=agency,
                role=role,
                is_staff=is_staff,
                first_name=first,
                last_name=last,
                email=f"{username}@starlight.example",
            )
        elif not reset:
            users[username] = user
            continue
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save()
        users[username] = user
        passwords.append((username, role, password))
    return users, passwords
