"""The notice workflow: drafting, pre-send checks, freezing, review, delivery, audit."""

from __future__ import annotations

import email.header
import io
import socket
import threading
from datetime import datetime, timedelta

import pypdf
import pytest
from django.db import connection
from django.utils import timezone

from takedown import importing, notices, rendering
from takedown.models import InfringingURL, Notice, NoticeEvent, NoticeTemplate, RightsRecord

pytestmark = pytest.mark.django_db


def _import(agency, artist, urls, category="synthetic_sexual", route=""):
    report = importing.import_rows(
        [{"url": u, "category": category, "legal_route": route} for u in urls], agency=agency, artist=artist
    )
    assert report.rejected == 0, report.errors
    return list(InfringingURL.objects.filter(artist=artist).order_by("pk"))


@pytest.fixture
def telegram_urls(agency, artist, platforms, templates):
    return _import(agency, artist, ["https://t.me/leakchan/101", "https://t.me/leakchan/102"])


@pytest.fixture
def draft(staff, telegram_urls):
    (notice,), skipped = notices.notices_prepare(user=staff, artist_id=telegram_urls[0].artist_id)
    assert skipped == 0
    return notice


def test_it_groups_open_urls_per_platform_and_route(agency, artist, staff, platforms, templates):
    _import(
        agency,
        artist,
        [
            "https://t.me/a/1",
            "https://t.me/a/2",
            "https://youtu.be/abcDEF12345",
            "https://unknown.example.net/x",
        ],
    )
    _import(agency, artist, ["https://t.me/a/3"], route="dsa")
    drafts, skipped = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert skipped == 1
    groups = sorted((n.platform.slug, n.legal_route, n.items.count()) for n in drafts)
    assert groups == [
        ("telegram", "dsa", 1),
        ("telegram", "platform_policy", 2),
        ("youtube", "platform_policy", 1),
    ]
    assert all(n.status == "draft" and n.created_by == staff for n in drafts)
    # URLs held by a draft are not drafted twice; a new URL joins the existing draft.
    _import(agency, artist, ["https://t.me/a/4"])
    again, _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert [n.pk for n in again] == [
        n.pk for n in drafts if n.legal_route == "platform_policy" and n.platform.slug == "telegram"
    ]
    assert again[0].items.count() == 3


def test_it_uses_korean_for_korean_routes(agency, artist, staff, platforms, templates):
    _import(agency, artist, ["https://blog.naver.com/someone/223344556677"])
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert notice.legal_route == "kr_tba_22_5"
    assert notice.locale == "ko"


def test_it_lets_neither_api_clients_nor_managers_draft(api_user, manager, telegram_urls):
    for user in (api_user, manager):
        with pytest.raises(notices.NotAllowed):
            notices.notices_prepare(user=user, artist_id=telegram_urls[0].artist_id)


def test_it_submits_a_frozen_pdf_with_hangul_names_and_every_url(draft, staff):
    notice = notices.notice_submit(notice_id=draft.pk, user=staff)
    assert notice.status == "pending"
    assert notice.pdf_sha256 == rendering.sha256_hex(bytes(notice.pdf))
    assert notice.template.legal_route == "platform_policy"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(bytes(notice.pdf))).pages)
    folded = " ".join(text.split())
    assert "Luna Kang" in folded
    for url in ("https://t.me/leakchan/101", "https://t.me/leakchan/102"):
        assert url in folded.replace(" ", "") or url in folded
    assert "t.me/leakchan/101" in notice.rendered_text
    assert notice.rendered_subject
    events = list(notice.events.values_list("from_status", "to_status", "actor__username"))
    assert events == [("", "draft", "staff"), ("draft", "pending", "staff")]


def test_it_renders_korean_notices_with_hangul(agency, artist, staff, platforms, templates):
    _import(agency, artist, ["https://blog.naver.com/someone/223344556677"])
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    notice = notices.notice_submit(notice_id=notice.pk, user=staff)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(bytes(notice.pdf))).pages)
    assert "강루나" in text
    assert "스타라이트" in text


def test_it_blocks_submission_with_every_presend_problem(agency, artist, staff, platforms, templates):
    agency.signatory_name = ""
    agency.address = ""
    agency.save()
    urls = _import(
        agency, artist, ["https://www.youtube.com/watch?v=abcDEF12345"], category="copyright", route="dmca"
    )
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    # The artist's official channel was added after intake.
    artist.official_accounts = ["youtube.com"]
    artist.save()
    with pytest.raises(notices.PresendFailed) as exc:
        notices.notice_submit(notice_id=notice.pk, user=staff)
    text = " | ".join(exc.value.problems)
    assert "rights record" in text
    assert "signatory" in text.lower()
    assert "address" in text.lower()
    assert "official allow-list" in text
    notice.refresh_from_db()
    assert notice.status == "draft"
    assert not notice.pdf_sha256
    assert urls[0].pk in notice.items.values_list("url_id", flat=True)


def test_it_blocks_a_platform_without_channel(agency, artist, staff, platforms, templates):
    _import(agency, artist, ["https://gall.dcinside.com/board/view/?id=x&no=1"])
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    with pytest.raises(notices.PresendFailed, match="no reporting channel"):
        notices.notice_submit(notice_id=notice.pk, user=staff)


def test_it_passes_dmca_checks_with_a_rights_record(agency, artist, staff, platforms, templates):
    RightsRecord.objects.create(artist=artist, title="Moonrise concept photo", owner=agency.name)
    _import(
        agency, artist, ["https://www.youtube.com/watch?v=abcDEF12345"], category="copyright", route="dmca"
    )
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    notice = notices.notice_submit(notice_id=notice.pk, user=staff)
    assert "Moonrise concept photo" in notice.rendered_text
    assert "perjury" in notice.rendered_text.lower()


def test_it_refuses_renotifying_a_url_within_the_window(draft, staff, legal, artist, agency, settings):
    notice = notices.notice_submit(notice_id=draft.pk, user=staff)
    notices.notice_approve(notice_id=notice.pk, user=legal)
    # Pretend it went out by email yesterday.
    Notice.objects.filter(pk=notice.pk).update(status="sent", sent_at=timezone.now() - timedelta(days=1))
    InfringingURL.objects.filter(artist=artist).update(status="open")
    (second,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    problems = notices.presend_problems(second)
    assert any("already notified to Telegram" in p for p in problems)
    settings.TAKEDOWN_RENOTIFY_DAYS = 0
    assert not any("already notified" in p for p in notices.presend_problems(second))


def test_it_refuses_self_approval(telegram_urls, staff, legal):
    (own,), _ = notices.notices_prepare(user=legal, artist_id=telegram_urls[0].artist_id)
    notices.notice_submit(notice_id=own.pk, user=legal)
    with pytest.raises(notices.NotAllowed, match="another legal reviewer"):
        notices.notice_approve(notice_id=own.pk, user=legal)
    with pytest.raises(notices.NotAllowed, match="legal reviewer"):
        notices.notice_approve(notice_id=own.pk, user=staff)
    assert Notice.objects.get(pk=own.pk).status == "pending"


def test_it_hides_other_agencies_notices_from_reviewers(draft, staff, outsider):
    notices.notice_submit(notice_id=draft.pk, user=staff)
    outsider.role = "legal"
    outsider.save()
    with pytest.raises(Notice.DoesNotExist):
        notices.notice_approve(notice_id=draft.pk, user=outsider)


def test_it_requires_a_reason_to_reject_and_revises_into_a_new_draft(draft, staff, legal):
    notices.notice_submit(notice_id=draft.pk, user=staff)
    with pytest.raises(notices.Invalid):
        notices.notice_reject(notice_id=draft.pk, user=legal, reason="  ")
    rejected = notices.notice_reject(notice_id=draft.pk, user=legal, reason="Cite the victim's consent form")
    assert rejected.rejection_reason == "Cite the victim's consent form"
    new = notices.notice_revise(notice_id=draft.pk, user=staff)
    assert new.status == "draft" and new.revision_of_id == draft.pk
    assert set(new.items.values_list("url_id", flat=True)) == set(
        draft.items.values_list("url_id", flat=True)
    )
    with pytest.raises(notices.Conflict):
        notices.notice_revise(notice_id=draft.pk, user=staff)
    assert list(draft.events.values_list("to_status", flat=True)) == ["draft", "pending", "rejected"]


def test_it_conflicts_when_the_state_moved_underneath(draft, staff, legal, legal2):
    notices.notice_submit(notice_id=draft.pk, user=staff)
    notices.notice_approve(notice_id=draft.pk, user=legal)
    with pytest.raises(notices.Conflict, match="approved, not pending"):
        notices.notice_reject(notice_id=draft.pk, user=legal2, reason="too late")
    with pytest.raises(notices.Conflict):
        notices.notice_submit(notice_id=draft.pk, user=staff)


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_concurrent_reviewers_win(
    agency, artist, staff, legal, legal2, platforms, templates
):
    _import(agency, artist, ["https://t.me/leakchan/1"])
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    notices.notice_submit(notice_id=notice.pk, user=staff)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(name, call):
        barrier.wait()
        try:
            call()
            outcomes[name] = "won"
        except notices.Conflict:
            outcomes[name] = "conflict"
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=act, args=("approve", lambda: notices.notice_approve(notice_id=notice.pk, user=legal))
        ),
        threading.Thread(
            target=act,
            args=("reject", lambda: notices.notice_reject(notice_id=notice.pk, user=legal2, reason="no")),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes.values()) == ["conflict", "won"]
    notice.refresh_from_db()
    winner = "approved" if outcomes["approve"] == "won" else "rejected"
    assert notice.status == winner
    assert list(notice.events.filter(from_status="pending").values_list("to_status", flat=True)) == [winner]


# -- delivery -------------------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Keep(Message):
        def handle_message(self, message):
            received.append(message)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def _approved(draft, staff, legal):
    notices.notice_submit(notice_id=draft.pk, user=staff)
    return notices.notice_approve(notice_id=draft.pk, user=legal)


def test_it_emails_the_frozen_notice_with_its_pdf_to_a_real_smtp_server(
    draft, staff, legal, smtp_server, settings, django_capture_on_commit_callbacks
):
    port, received = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    notice = _approved(draft, staff, legal)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notice = notices.notice_send(notice_id=notice.pk, user=legal)
    assert len(callbacks) == 1  # the delivery task is queued after commit, not run inline
    assert notice.status == "approved" and notice.recipient == "abuse@telegram.org"
    assert notices.notice_deliver_email(notice_id=notice.pk) == "sent"
    assert notices.notice_deliver_email(notice_id=notice.pk) == "skipped"  # never twice
    (message,) = received
    assert message["To"] == "abuse@telegram.org"
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert " ".join(subject.split()) == notice.rendered_subject
    notice.refresh_from_db()
    assert message["Message-ID"] == notice.message_id
    pdfs = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1
    assert rendering.sha256_hex(pdfs[0].get_payload(decode=True)) == notice.pdf_sha256
    assert notice.status == "sent" and notice.sent_at and notice.deadline_at
    assert notice.deadline_at - notice.sent_at == timedelta(hours=settings.TAKEDOWN_DEFAULT_DEADLINE_HOURS)
    for url in InfringingURL.objects.filter(notice_items__notice=notice):
        assert url.status == "notified"
        assert url.notified_at == notice.sent_at
        assert url.next_check_at > notice.sent_at
    assert list(notice.events.values_list("to_status", flat=True)) == [
        "draft",
        "pending",
        "approved",
        "approved",
        "sent",
    ]


def test_it_records_a_delivery_failure_and_retries_a_bounded_number_of_times(
    draft, staff, legal, settings, django_capture_on_commit_callbacks
):
    from django_q.models import Schedule

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    settings.TAKEDOWN_DELIVERY_MAX_ATTEMPTS = 2
    notice = _approved(draft, staff, legal)
    notices.notice_send(notice_id=notice.pk, user=legal)
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.notice_deliver_email(notice_id=notice.pk) == "retry"
    notice.refresh_from_db()
    assert "Connection refused" in notice.delivery_error or "Errno" in notice.delivery_error
    assert notice.status == "approved"
    assert Schedule.objects.filter(func="takedown.tasks.deliver_notice_email").count() == 1
    assert notices.notice_deliver_email(notice_id=notice.pk) == "failed"
    notice.refresh_from_db()
    assert notice.delivery_attempts == 2
    assert notice.events.filter(reason__contains="giving up").exists()


def test_it_sends_through_a_web_form_with_the_platforms_reference(
    agency, artist, staff, legal, platforms, templates
):
    _import(agency, artist, ["https://x.com/someone/status/1234567890"])
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert notice.legal_route == "take_it_down"
    _approved(notice, staff, legal)
    with pytest.raises(notices.Invalid, match="reference"):
        notices.notice_send(notice_id=notice.pk, user=legal)
    notice = notices.notice_send(notice_id=notice.pk, user=legal, reference="TIDA-2026-0042")
    assert notice.status == "sent" and notice.reference == "TIDA-2026-0042"
    assert notice.deadline_at - notice.sent_at == timedelta(hours=48)
    url = InfringingURL.objects.get(artist=artist)
    assert url.deadline_at == notice.deadline_at


def test_it_closes_withdraws_and_records_counter_notices(draft, staff, legal):
    _approved(draft, staff, legal)
    Notice.objects.filter(pk=draft.pk).update(channel="email")
    notice = notices.mark_sent(
        Notice.objects.get(pk=draft.pk), user=legal, sent_at=timezone.now(), reason="t"
    )
    notices.notice_acknowledge(notice_id=notice.pk, user=legal, reference="CASE-1")
    counter = notices.notice_record_counter(
        notice_id=notice.pk,
        user=legal,
        received_at=timezone.make_aware(datetime(2026, 11, 20, 9)),
        summary="Uploader claims fair use",
        counter_party="uploader",
    )
    assert (counter.restore_earliest.isoformat(), counter.restore_latest.isoformat()) == (
        "2026-12-04",
        "2026-12-10",
    )
    with pytest.raises(notices.Invalid):
        notices.notice_close(notice_id=notice.pk, user=legal, outcome="maybe")
    with pytest.raises(notices.Invalid):
        notices.notice_withdraw(notice_id=notice.pk, user=legal, reason="")
    withdrawn = notices.notice_withdraw(
        notice_id=notice.pk, user=legal, reason="Filed against the wrong artist"
    )
    assert withdrawn.status == "withdrawn"
    assert set(
        InfringingURL.objects.filter(notice_items__notice=notice).values_list("status", flat=True)
    ) == {"open"}
    assert list(NoticeEvent.objects.filter(notice=notice).values_list("to_status", flat=True))[-3:] == [
        "acknowledged",
        "acknowledged",
        "withdrawn",
    ]


# -- templates -------------------------------------------------------------------------------------


def test_it_versions_templates_and_notices_keep_theirs(draft, staff, legal):
    notice = notices.notice_submit(notice_id=draft.pk, user=staff)
    old = notice.template
    new = notices.template_save(
        user=legal,
        base=old,
        name=old.name,
        legal_route=old.legal_route,
        locale=old.locale,
        platform_id=None,
        subject=old.subject,
        body=old.body + "<p>Revised by legal.</p>",
    )
    assert new.version == old.version + 1
    assert new.agency_id == notice.agency_id
    old.refresh_from_db()
    # The shipped default stays active for every other agency; the copy is this agency's.
    assert old.is_active and old.agency_id is None and new.is_active
    notice.refresh_from_db()
    assert notice.template_id == old.pk
    assert (
        notices.choose_template(
            agency_id=notice.agency_id,
            route=old.legal_route,
            locale=old.locale,
            platform_id=notice.platform_id,
        )
        == new
    )


def test_it_prefers_a_platforms_own_template(draft, legal, platforms):
    generic = notices.choose_template(
        agency_id=draft.agency_id, route="platform_policy", locale="en", platform_id=platforms["telegram"].pk
    )
    own = notices.template_save(
        user=legal,
        base=None,
        name="Telegram",
        legal_route="platform_policy",
        locale="en",
        platform_id=platforms["telegram"].pk,
        subject=generic.subject,
        body=generic.body,
    )
    assert (
        notices.choose_template(
            agency_id=draft.agency_id,
            route="platform_policy",
            locale="en",
            platform_id=platforms["telegram"].pk,
        )
        == own
    )
    assert (
        notices.choose_template(
            agency_id=draft.agency_id,
            route="platform_policy",
            locale="en",
            platform_id=platforms["reddit"].pk,
        )
        == generic
    )


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{% if %}",
        "{{ undefined_name }}",
    ],
)
def test_it_refuses_to_save_an_unsafe_or_broken_template(legal, body, templates):
    with pytest.raises(rendering.TemplateError):
        notices.template_save(
            user=legal,
            base=None,
            name="x",
            legal_route="dsa",
            locale="en",
            platform_id=None,
            subject="s",
            body=body,
        )
    assert NoticeTemplate.objects.filter(name="x").count() == 0


def test_it_lets_only_legal_edit_templates(staff, templates):
    with pytest.raises(notices.NotAllowed):
        notices.template_save(
            user=staff,
            base=None,
            name="x",
            legal_route="dsa",
            locale="en",
            platform_id=None,
            subject="s",
            body="b",
        )


def test_it_ships_a_default_template_for_every_route_and_korean_route():
    from takedown.choices import LegalRoute

    defaults = {(t.route, t.locale) for t in rendering.load_default_templates()}
    for route in LegalRoute.values:
        assert (route, "en") in defaults
    for route in ("kr_tba_22_5", "kr_network_44_2", "platform_policy"):
        assert (route, "ko") in defaults
