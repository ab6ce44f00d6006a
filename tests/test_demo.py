"""The demo agency: a story built through the services and the recheck engine, true in every
timestamp, state and route.

The demo is built once for the module (a dozen PDFs and some five hundred checks) inside a
transaction rolled back at the end; each test runs in its own savepoint within it.
"""

from __future__ import annotations

import io
from datetime import timedelta
from itertools import pairwise
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from takedown import authority, notices, rendering
from takedown.choices import Category, ChannelKind, LegalRoute, NoticeStatus, URLStatus, Verdict
from takedown.demo import DEMO_OUTBOX
from takedown.lifecycle import GONE
from takedown.models import (
    Agency,
    Artist,
    Authorization,
    AuthorizationDocument,
    CounterNotice,
    InfringingURL,
    Notice,
    NoticeEvent,
    NoticeItem,
    Platform,
    URLCheck,
    User,
)

pytestmark = pytest.mark.django_db

SEXUAL = {Category.REAL_INTIMATE, Category.SYNTHETIC_SEXUAL}
SENT_OR_AFTER = (*notices.SENT_STATES, NoticeStatus.WITHDRAWN)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """`manage.py setup --demo` once for the module, rolled back when the module is done; its
    authorization documents go to a directory of the module's own."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    private = tmp_path_factory.mktemp("demo-private")
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=fast, TAKEDOWN_PRIVATE_DIR=private),
        transaction.atomic(),
    ):
        out = io.StringIO()
        call_command("setup", "--demo", stdout=out, stderr=io.StringIO())
        agency = Agency.objects.get(slug="starlight")
        yield SimpleNamespace(output=out.getvalue(), agency=agency, ended=timezone.now(), private=private)
        transaction.set_rollback(True)


def _urls(demo):
    return list(InfringingURL.objects.filter(artist__agency=demo.agency).order_by("pk"))


def _notices(demo):
    return list(Notice.objects.filter(agency=demo.agency).select_related("platform").order_by("pk"))


def _user(name: str) -> User:
    return User.objects.get(username=name)


# -- time -------------------------------------------------------------------------------------


def test_it_dates_every_url_discovered_then_created_then_notified_then_removed(demo):
    urls = _urls(demo)
    assert 45 <= len(urls) <= 60
    for url in urls:
        times = [url.discovered_at, url.created_at, url.notified_at, url.removed_at, demo.ended]
        present = [t for t in times if t is not None]
        assert present == sorted(present), url.normalized_url
        withdrawn = NoticeItem.objects.filter(url=url, notice__status=NoticeStatus.WITHDRAWN).exists()
        if url.removed_at is not None and not withdrawn:  # a retracted notice no longer counts
            assert url.notified_at is not None, url.normalized_url
        if url.deadline_at is not None:  # cleared when the notice is withdrawn
            assert url.deadline_at > url.notified_at
    # The story spans weeks, not seconds.
    assert max(u.created_at for u in urls) - min(u.discovered_at for u in urls) > timedelta(weeks=6)


def test_it_keeps_each_notice_timeline_in_order_and_its_dates_on_its_events(demo):
    for notice in _notices(demo):
        events = list(notice.events.order_by("at", "pk"))
        assert [e.pk for e in events] == sorted(e.pk for e in events), f"#{notice.pk} events out of order"
        assert events[0].at == notice.created_at and events[0].to_status == NoticeStatus.DRAFT
        assert events[-1].to_status == notice.status
        assert events[-1].at <= demo.ended
        moves = [e for e in events if e.from_status != e.to_status]
        for before, after in pairwise(moves):
            assert after.from_status == before.to_status, f"#{notice.pk}: {before} then {after}"
        at = {e.to_status: e.at for e in moves}.get  # the (last) moment each state was reached
        assert notice.submitted_at == at(NoticeStatus.PENDING)
        assert notice.reviewed_at == (at(NoticeStatus.APPROVED) or at(NoticeStatus.REJECTED))
        assert notice.sent_at == at(NoticeStatus.SENT)
        assert notice.acknowledged_at == at(NoticeStatus.ACKNOWLEDGED)
        assert notice.closed_at == at(NoticeStatus.CLOSED)
        if notice.sent_at:
            assert notice.deadline_at == notice.sent_at + timedelta(hours=notices.deadline_hours(notice))
        if notice.revision_of_id:
            assert notice.created_at >= notice.revision_of.reviewed_at
    for counter in CounterNotice.objects.filter(notice__agency=demo.agency).select_related("notice"):
        assert counter.notice.sent_at <= counter.received_at <= counter.created_at <= demo.ended


def test_it_dates_checks_at_intake_and_after_sending_only(demo):
    for url in _urls(demo):
        checks = list(url.checks.order_by("checked_at", "pk"))
        assert checks, f"{url.normalized_url} has no evidence from intake"
        assert checks[0].checked_at == url.created_at  # the evidence taken at intake
        sent = (
            NoticeItem.objects.filter(url=url, notice__sent_at__isnull=False)
            .order_by("notice__sent_at")
            .values_list("notice__sent_at", flat=True)
            .first()
        )
        for check in checks[1:]:  # later checks only once a notice listing it was sent
            assert sent is not None and check.checked_at > sent
        assert checks[-1].checked_at <= demo.ended


def test_it_freezes_each_submitted_notice_with_the_pdf_of_its_day(demo):
    submitted = [n for n in _notices(demo) if n.submitted_at]
    assert len(submitted) >= 10
    for notice in submitted:
        pdf = bytes(notice.pdf)
        assert rendering.sha256_hex(pdf) == notice.pdf_sha256
        created = PdfReader(io.BytesIO(pdf)).metadata.creation_date
        assert created.date() == timezone.localtime(notice.submitted_at).date(), f"#{notice.pk}"


# -- states that are earned ---------------------------------------------------------------------


def test_it_notifies_a_url_only_by_sending_a_notice_that_lists_it(demo):
    for url in _urls(demo):
        sent = NoticeItem.objects.filter(url=url, notice__status__in=SENT_OR_AFTER).select_related("notice")
        if url.notified_at is None:
            # Withdrawing a notice takes back what it notified (its URLs are open again).
            sent = sent.exclude(notice__status=NoticeStatus.WITHDRAWN)
            assert not sent.exists()
            assert url.status in (URLStatus.OPEN, URLStatus.DISMISSED)
            continue
        (item,) = sent
        assert item.notice.sent_at == url.notified_at
        if item.notice.status == NoticeStatus.WITHDRAWN:
            assert url.status in (URLStatus.OPEN, URLStatus.DISMISSED) and url.deadline_at is None
        else:
            assert item.notice.deadline_at == url.deadline_at


def test_it_removes_a_url_only_through_its_checks(demo):
    gone = [u for u in _urls(demo) if u.status in GONE]
    assert {u.status for u in gone} >= {URLStatus.REMOVED, URLStatus.SOFT_REMOVED}
    for url in gone:
        verdict = url.status  # a gone status is named after the verdict that confirmed it
        seen = list(url.checks.filter(verdict=verdict).order_by("checked_at"))
        assert len(seen) >= settings.TAKEDOWN_CONFIRMATIONS, url.normalized_url
        assert seen[0].checked_at > url.notified_at
        if url.status == URLStatus.REMOVED:
            # Removed when a check first saw it gone; nothing saw it gone before.
            assert seen[0].checked_at == url.removed_at
        assert url.last_verdict == verdict and url.overdue_since is None


def test_it_marks_overdue_only_what_a_check_saw_live_past_its_deadline(demo):
    overdue = [u for u in _urls(demo) if u.overdue_since is not None]
    assert overdue
    for url in overdue:
        assert url.status == URLStatus.NOTIFIED and url.escalation
        assert url.overdue_since > url.deadline_at
        assert url.checks.filter(checked_at=url.overdue_since).exists()


def test_it_never_requests_an_invented_url(demo):
    urls = InfringingURL.objects.filter(artist__agency=demo.agency)
    assert not urls.filter(next_check_at__isnull=False).exists()
    checks = URLCheck.objects.filter(url__artist__agency=demo.agency)
    assert checks.count() > len(_urls(demo))
    assert not checks.exclude(rule__startswith="demo.").exists()
    assert not checks.exclude(excerpt__startswith="Invented for the demo").exists()
    assert checks.filter(verdict=Verdict.INCONCLUSIVE).exists()


# -- notices ------------------------------------------------------------------------------------


def test_it_has_a_notice_in_every_state(demo):
    found = _notices(demo)
    states = {n.status for n in found}
    # Every state a notice reaches in a working installation; the delivery troubles (failed,
    # in doubt) need a mail server that the demo does not have.
    assert states == set(NoticeStatus.values) - set(notices.DELIVERY_STATES) - {NoticeStatus.CANCELLED}
    sent = [n for n in found if n.status in notices.SENT_STATES]
    assert {n.channel for n in sent if n.status == NoticeStatus.SENT} == {
        ChannelKind.EMAIL,
        ChannelKind.WEBFORM,
    }
    assert {n.outcome for n in found if n.status == NoticeStatus.CLOSED} == {
        "removed",
        "partially_removed",
        "refused",
    }
    rejected = [n for n in found if n.status == NoticeStatus.REJECTED]
    assert any(Notice.objects.filter(revision_of=n).exists() for n in rejected)
    assert CounterNotice.objects.filter(notice__agency=demo.agency).exists()
    assert len([n for n in found if n.status == NoticeStatus.PENDING]) >= 2


def test_it_keeps_four_eyes_staff_drafts_and_legal_reviews(demo):
    staff, legal = _user("demo-staff"), _user("demo-legal")
    for notice in _notices(demo):
        assert notice.created_by == staff
        if notice.reviewed_by_id:
            assert notice.reviewed_by == legal
            assert legal.pk not in notices.notice_contributors(notice)
        assert set(notice.events.exclude(actor=None).values_list("actor__role", flat=True)) <= {
            "staff",
            "legal",
        }


def test_it_routes_each_item_truthfully(demo):
    for url in _urls(demo):
        route, category = url.legal_route, url.category
        if route in (LegalRoute.TAKE_IT_DOWN, LegalRoute.KR_TBA):
            assert category in SEXUAL, url.normalized_url
        elif route == LegalRoute.DMCA:
            assert category == Category.COPYRIGHT, url.normalized_url
            assert url.work is not None and url.work.artist_id == url.artist_id, url.normalized_url
        elif route == LegalRoute.KR_NETWORK:
            assert category in (Category.PRIVACY, Category.IMPERSONATION), url.normalized_url
        else:
            assert route == LegalRoute.PLATFORM_POLICY, url.normalized_url
    items = NoticeItem.objects.filter(notice__agency=demo.agency).select_related("notice", "url")
    assert all(item.url.legal_route == item.notice.legal_route for item in items)


def test_it_rests_every_item_of_every_notice_on_a_record(demo):
    agency = demo.agency
    assert agency.signatory_name_ko == "한지윤" and agency.signatory_title_ko == "법무팀장"
    assert agency.dsa_member_state
    items = NoticeItem.objects.filter(notice__agency=agency).select_related("notice", "url__artist")
    assert items
    for item in items:
        notice, url = item.notice, item.url
        on = timezone.localtime(notice.created_at).date()
        auths = Authorization.objects.filter(artist=url.artist)
        found = authority.item_authority(url, notice.legal_route, on, auths)
        assert not found.problem, found.problem
        if url.category == Category.REAL_INTIMATE and notice.legal_route == LegalRoute.TAKE_IT_DOWN:
            assert url.notice_facts.strip(), url.normalized_url
        if url.category == Category.COPYRIGHT:
            assert url.work is not None and url.work.owner, url.normalized_url


def test_it_names_the_member_a_group_item_depicts(demo):
    group = Artist.objects.get(agency=demo.agency, is_group=True)
    members = set(group.authorizations.values_list("person_name", flat=True))
    assert len(members) >= 2 and group.name not in members
    urls = InfringingURL.objects.filter(artist=group).select_related("depicted_person")
    assert urls
    assert all(u.depicted_person and u.depicted_person.artist_id == group.pk for u in urls)
    solo = Artist.objects.filter(agency=demo.agency, is_group=False)
    assert not InfringingURL.objects.filter(artist__in=solo, depicted_person__isnull=False).exists()


def test_it_files_each_authorization_before_the_story_with_its_documents_as_pdf(demo, settings):
    settings.TAKEDOWN_PRIVATE_DIR = demo.private
    first = min(u.discovered_at for u in _urls(demo))
    authorizations = Authorization.objects.filter(artist__agency=demo.agency)
    assert authorizations.count() == 5
    for auth in authorizations:
        assert auth.valid_from < timezone.localtime(first).date()
        assert not authority.missing_documents(auth), auth.person_name
        for document in auth.documents.all():
            with document.file.open("rb") as f:
                content = f.read()
            assert content.startswith(b"%PDF-") and b"/Image" not in content
            assert document.uploaded_by.role == "legal" and document.uploaded_at <= first


def test_it_never_claims_an_email_reached_a_platform(demo):
    addresses = set(Platform.objects.exclude(channel_email="").values_list("channel_email", flat=True))
    emailed = [n for n in _notices(demo) if n.channel == ChannelKind.EMAIL]
    assert emailed
    for notice in emailed:
        assert notice.recipient == DEMO_OUTBOX and notice.message_id
        sent = notice.events.get(to_status=NoticeStatus.SENT)
        assert sent.reason.startswith(f"Emailed to {DEMO_OUTBOX}; the mail server accepted it")
        assert notice.events.filter(reason__startswith="Demo data: there is no mail server").exists()
    claims = NoticeEvent.objects.filter(notice__agency=demo.agency, reason__startswith="Emailed to")
    assert not [e.reason for e in claims if any(a in e.reason for a in addresses)]
    for notice in _notices(demo):
        if notice.channel == ChannelKind.WEBFORM:
            assert "invented" in notice.reference


def test_it_says_which_notices_are_demo_data(demo):
    assert "all demo data" in demo.output and "nothing was sent to any platform" in demo.output
    for notice in _notices(demo):
        assert f"#{notice.pk} " in demo.output
    assert "2 refused" in demo.output


# -- what each demo role sees at first login --------------------------------------------------


def test_the_approval_queue_has_work_legal_may_review(client, demo):
    client.force_login(_user("demo-legal"))
    response = client.get(reverse("admin:takedown_notice_queue"))
    assert response.status_code == 200
    waiting = list(response.context["notices"])
    assert len(waiting) >= 2
    assert response.context["shaped_by_me"] == set()


@pytest.mark.parametrize("username", ["demo-staff", "demo-legal", "demo-manager"])
def test_every_demo_role_sees_notices_in_many_states_and_the_outcomes(client, demo, username):
    client.force_login(_user(username))
    listing = client.get(reverse("admin:takedown_notice_changelist"))
    assert listing.status_code == 200
    assert listing.context["cl"].result_count >= 10
    home = client.get(reverse("admin:index"))
    assert home.status_code == 200
    dashboard = client.get(reverse("admin:dashboard"))
    assert dashboard.status_code == 200
    figures = dashboard.context["figures"]
    assert figures["overall"]["removed"] >= 10 and figures["overall"]["overdue"] >= 1
    removing = [p for p in figures["platforms"] if p["removed"]]
    assert len(removing) >= 5
    assert all(p["median_hours"] and 0 < p["rate_percent"] <= 100 for p in removing)
    assert sum(figures["weekly"]["removals"]) >= 10


def test_every_demo_notice_opens_with_its_timeline_and_frozen_pdf(client, demo):
    client.force_login(_user("demo-legal"))
    for notice in _notices(demo):
        page = client.get(reverse("admin:takedown_notice_change", args=[notice.pk]))
        assert page.status_code == 200, f"#{notice.pk}"
        if notice.pdf_sha256:
            pdf = client.get(reverse("admin:takedown_notice_pdf", args=[notice.pk]))
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


# -- once only --------------------------------------------------------------------------------


def test_it_adds_nothing_when_run_again(demo):
    def counts():
        return (
            InfringingURL.objects.count(),
            Notice.objects.count(),
            NoticeEvent.objects.count(),
            URLCheck.objects.count(),
            User.objects.count(),
            Authorization.objects.count(),
            AuthorizationDocument.objects.count(),
        )

    before = counts()
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert counts() == before
    assert "Demo story exists already" in out.getvalue()


# -- the legal case ---------------------------------------------------------------------------


def test_it_has_a_case_with_urls_checks_and_sent_notices_whose_dossier_verifies(demo, settings):
    from takedown import chain, dossier
    from takedown.dossier_verify import verify_dossier
    from takedown.models import Case, NoticeItem, URLCheck

    case = Case.objects.get(agency=demo.agency)
    assert (
        case.status == "open"
        and case.legal_owner == _user("demo-legal")
        and case.created_by == _user("demo-staff")
    )
    urls = list(case.urls.all())
    assert len(urls) >= 3 and all(u.account_id for u in urls)
    assert URLCheck.objects.filter(url__in=urls).exists()
    assert NoticeItem.objects.filter(url__in=urls, notice__status__in=notices.SENT_STATES).exists()
    assert "Dossier signing certificate (self-signed, demo)" in demo.output
    assert chain.verify_chain(demo.agency).ok
    settings.TAKEDOWN_PRIVATE_DIR = demo.private  # where setup wrote the demo's certificate
    data = dossier.dossier_bytes(case=case, user=_user("demo-legal"), locale="ko")
    assert verify_dossier(data, database=True).ok
