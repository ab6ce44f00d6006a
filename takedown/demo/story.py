"""Playing the demo's cases: each step through the services at its moment on a story clock,
and between steps the checks the recheck engine plans, fed invented observations.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.core.mail.backends.locmem import EmailBackend as InMemoryEmail
from django.utils import timezone

from takedown import importing, lifecycle, notices, rechecks
from takedown.choices import ChannelKind, NoticeStatus, Source, URLStatus, Verdict
from takedown.demo.cases import DEMO_OUTBOX, REFUSED_ROWS, Case, Link
from takedown.models import Agency, Authorization, InfringingURL, Notice, RightsRecord, User
from takedown.notices.states import record_event
from takedown.probing import ProbeResult


class StoryError(RuntimeError):
    """The story cannot be played as written (a bug in the cases, not in the data)."""


# -- the story clock ----------------------------------------------------------------------------


class _AnyDatetime(type):
    """Keeps `isinstance(x, datetime)` true for Django's own checks while the clock stands in."""

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, datetime)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, datetime)


class StoryClock:
    """The time every `timezone.now()` reads while installed; it only moves forwards."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, to: datetime) -> None:
        if to < self.now:
            raise StoryError(f"The demo story goes back in time: {to} comes after {self.now}.")
        self.now = to

    @contextmanager
    def installed(self) -> Iterator[StoryClock]:
        clock = self

        class StoryTime(datetime, metaclass=_AnyDatetime):
            @classmethod
            def now(cls, tz=None):
                return clock.now.astimezone(tz) if tz is not None else timezone.make_naive(clock.now)

        # django.utils.timezone.now() reads `datetime.now` from its module: replacing that one
        # name reaches the services, the fields' defaults (which hold the function itself) and
        # auto_now alike. The demo is built in one thread, and the PDF workers are other processes.
        real = timezone.datetime
        timezone.datetime = StoryTime
        try:
            yield self
        finally:
            timezone.datetime = real


# -- building it --------------------------------------------------------------------------------


@dataclass
class Totals:
    """What intake made of the demo's rows, and how many checks the engine recorded."""

    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    checks: int = 0


@dataclass
class Story:
    """Plays the cases in time order, running the checks the engine plans in between."""

    agency: Agency
    users: dict[str, User]
    clock: StoryClock
    end: datetime
    rng: random.Random
    links: dict[int, Link] = field(default_factory=dict)  # URL id -> what the world does to it
    case_urls: dict[str, list[int]] = field(default_factory=dict)
    case_notice: dict[str, int] = field(default_factory=dict)
    totals: Totals = field(default_factory=Totals)

    @property
    def staff(self) -> User:
        return self.users["demo-staff"]

    @property
    def legal(self) -> User:
        return self.users["demo-legal"]

    def moment(self, days_ago: int, hhmm: str) -> datetime:
        hour, minute = (int(part) for part in hhmm.split(":"))
        day = timezone.localtime(self.end).date() - timedelta(days=days_ago)
        return timezone.make_aware(datetime.combine(day, time(hour, minute)))

    def play(self, cases: tuple[Case, ...]) -> None:
        steps = sorted(
            (
                (self.moment(days, hhmm), order, case, action, args)
                for order, case in enumerate(cases)
                for days, hhmm, action, args in case.steps
            ),
            key=lambda step: step[:2],
        )
        for at, _, case, action, args in steps:
            if at >= self.end:
                raise StoryError(f"The demo step {case.name}/{action} is dated after the story ends.")
            self.check_until(at)
            self.clock.advance(at)
            getattr(self, f"do_{action}")(case, **args)
        self.check_until(self.end)
        self.clock.advance(self.end)

    # -- the recheck engine, fed invented observations

    def check_until(self, until: datetime) -> None:
        """Run every check the engine plans up to `until`, each at the moment it is due."""
        demo = InfringingURL.objects.filter(pk__in=list(self.links))
        while True:
            due = (
                demo.filter(next_check_at__lte=until)
                .order_by("next_check_at")
                .values_list("next_check_at", flat=True)
                .first()
            )
            if due is None:
                return
            # Claimed and recorded as a worker would, one due moment at a time.
            self.clock.advance(due)
            rows = list(
                demo.filter(next_check_at__lte=due).values_list("pk", "normalized_url", "notified_at")
            )
            token, claimed = rechecks.claim_due(limit=len(rows), now=due, url_ids=[r[0] for r in rows])
            results = [
                (pk, self.observe(pk, url, notified, due)) for pk, url, notified in rows if pk in claimed
            ]
            rechecks.record_results(token, results, now=due, rng=self.rng)
            self.totals.checks += len(results)

    def observe(self, pk: int, url: str, notified_at: datetime | None, at: datetime) -> ProbeResult:
        """What the invented platform shows at `at`: the item until it takes it down, then not."""
        link = self.links[pk]
        gone = link.gone_after is not None and notified_at is not None
        if gone and at >= notified_at + timedelta(hours=link.gone_after):
            verdict = link.gone_as
        elif self.rng.random() < 0.08:
            verdict = Verdict.INCONCLUSIVE  # a rate-limited answer now and then, as in real checks
        else:
            verdict = Verdict.LIVE
        return _observation(url, verdict, at, self.rng)

    # -- the actions of the cases

    def notice(self, case: Case) -> Notice:
        return Notice.objects.select_related("platform").get(pk=self.case_notice[case.name])

    def do_import(self, case: Case, refused: bool = False) -> None:
        user = self.users["demo-api" if case.source == Source.API else "demo-staff"]
        rows = [
            {
                "artist": case.artist,
                "url": link.url,
                "category": link.category,
                "legal_route": case.route,
                "discovered_at": self.clock.now - timedelta(hours=self.rng.uniform(2, 72)),
                "note": link.note,
            }
            for link in case.links
        ]
        report = importing.import_rows(
            rows + (REFUSED_ROWS if refused else []), agency=self.agency, source=case.source, user=user
        )
        self.totals.created += report.created
        self.totals.duplicates += report.duplicates
        self.totals.rejected += report.rejected
        by_url = {link.url: link for link in case.links}
        stored = InfringingURL.objects.filter(artist__agency=self.agency, url__in=list(by_url))
        ids = []
        for pk, url in stored.values_list("pk", "url"):
            self.links[pk] = by_url[url]
            ids.append(pk)
        self.case_urls[case.name] = sorted(ids)
        self.record_what_each_item_rests_on(case, ids)

    def record_what_each_item_rests_on(self, case: Case, ids: list[int]) -> None:
        """What staff record on each new item before drafting (intake takes no such column):
        the work a copyright item copies, the member a group's item depicts, the facts of an
        authentic intimate item."""
        works = {
            w.title: w
            for w in RightsRecord.objects.filter(artist__slug=case.artist, artist__agency=self.agency)
        }
        people = {
            a.person_name: a
            for a in Authorization.objects.filter(artist__slug=case.artist, artist__agency=self.agency)
        }
        for pk in ids:
            link = self.links[pk]
            fields = {}
            if link.work:
                fields["work"] = works[link.work]
            if link.member:
                fields["depicted_person"] = people[link.member]
            if link.facts:
                fields["notice_facts"] = link.facts
            if fields:
                InfringingURL.objects.filter(pk=pk).update(**fields)

    def do_prepare(self, case: Case) -> None:
        drafted, skipped = notices.notices_prepare(user=self.staff, url_ids=self.case_urls[case.name])
        if len(drafted) != 1 or skipped:
            raise StoryError(f"The demo case {case.name} should make one notice, not {len(drafted)}.")
        self.case_notice[case.name] = drafted[0].pk

    def do_language(self, case: Case, locale: str) -> None:
        notices.notice_change_language(notice_id=self.case_notice[case.name], user=self.staff, locale=locale)

    def do_submit(self, case: Case) -> None:
        notices.notice_submit(notice_id=self.case_notice[case.name], user=self.staff)

    def do_approve(self, case: Case) -> None:
        notices.notice_approve(notice_id=self.case_notice[case.name], user=self.legal)

    def do_reject(self, case: Case, reason: str) -> None:
        notices.notice_reject(notice_id=self.case_notice[case.name], user=self.legal, reason=reason)

    def do_revise(self, case: Case) -> None:
        revision = notices.notice_revise(notice_id=self.case_notice[case.name], user=self.staff)
        self.case_notice[case.name] = revision.pk

    def do_send(self, case: Case) -> None:
        notice = self.notice(case)
        if notice.platform.channel_kind == ChannelKind.EMAIL:
            self.email_to_demo_outbox(notice)
            return
        reference = f"DEMO-{notice.platform.slug.upper()}-{notice.pk:04d} (invented: nothing was submitted)"
        notices.notice_send(notice_id=notice.pk, user=self.legal, reference=reference)

    def email_to_demo_outbox(self, notice: Notice) -> None:
        """Send through the email channel, delivered into memory instead of to the platform.

        Send refuses an installation that has no mail server (the demo's), so the demo stands
        an SMTP configuration in for that one call; the queued email is then re-addressed to the
        demo's own outbox, the timeline says so, and it is delivered with an in-memory backend,
        so the "Emailed to" line names where it truly went. Nothing is sent to any platform.
        """
        from django.test.utils import override_settings

        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"):
            notices.notice_send(notice_id=notice.pk, user=self.legal)
        Notice.objects.filter(pk=notice.pk, status=NoticeStatus.SENDING).update(recipient=DEMO_OUTBOX)
        record_event(
            notice,
            user=None,
            from_status=NoticeStatus.SENDING,
            to_status=NoticeStatus.SENDING,
            reason=f"Demo data: there is no mail server in the demo. The email is re-addressed to "
            f"{DEMO_OUTBOX} and kept in memory; nothing is sent to {notice.platform.name}.",
        )
        outcome = notices.notice_deliver_email(notice_id=notice.pk, connection=InMemoryEmail())
        if outcome != "sent":
            raise StoryError(f"The demo's email notice #{notice.pk} was not delivered: {outcome}.")

    def do_acknowledge(self, case: Case) -> None:
        notice = self.notice(case)
        reference = f"DEMO-ACK-{notice.pk:04d} (invented)"
        notices.notice_acknowledge(notice_id=notice.pk, user=self.legal, reference=reference)

    def do_close(self, case: Case, outcome: str, reason: str) -> None:
        notices.notice_close(
            notice_id=self.case_notice[case.name], user=self.legal, outcome=outcome, reason=reason
        )

    def do_withdraw(self, case: Case, reason: str) -> None:
        notices.notice_withdraw(notice_id=self.case_notice[case.name], user=self.legal, reason=reason)

    def do_counter(self, case: Case, summary: str, counter_party: str) -> None:
        notices.notice_record_counter(
            notice_id=self.case_notice[case.name],
            user=self.legal,
            received_at=self.clock.now - timedelta(hours=3),
            summary=summary,
            counter_party=counter_party,
        )

    def do_dismiss(self, case: Case) -> None:
        lifecycle.urls_set_status(
            url_ids=self.case_urls[case.name],
            to=URLStatus.DISMISSED,
            allowed_from=[URLStatus.OPEN],
            user=self.staff,
        )


# What each invented observation shows: (HTTP status, the text the evidence quotes).
_SEEN = {
    Verdict.LIVE: (200, "The reported item is shown."),
    Verdict.REMOVED: (404, "This content is not available."),
    Verdict.SOFT_REMOVED: (200, "This post is hidden under a temporary measure (임시조치)."),
    Verdict.INCONCLUSIVE: (429, "Too many requests."),
}


def _observation(url: str, verdict: str, at: datetime, rng: random.Random) -> ProbeResult:
    """An invented check result: its rule, reason and evidence say that no request was made."""
    status, text = _SEEN[verdict]
    return ProbeResult(
        url=url,
        probe_url=url,
        final_url=url,
        http_status=status,
        redirect_chain=[url],
        headers={"content-type": "text/html; charset=utf-8"},
        body_sha256=hashlib.sha256(f"{url} {verdict}".encode()).hexdigest(),
        body_bytes=0,
        truncated=False,
        title="Demo page (invented)",
        excerpt=f"Invented for the demo; no request was made. {text}",
        verdict=verdict,
        reason=f"http {status} (invented for the demo)",
        rule=f"demo.{verdict}",
        error="",
        elapsed_ms=rng.randint(120, 900),
        retry_after=None,
        checked_at=at,
    )
