"""Notices to discovered contacts and the escalation ladder, end to end: a loopback registry and
site, the real recheck engine, the notice workflow, and a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from takedown import escalation, notices, rechecks
from takedown.contacts import services as contacts
from takedown.errors import Conflict, Invalid, NotAllowed
from takedown.models import EscalationStep, InfringingURL, Notice
from tests.notices_setup import import_urls
from tests.test_contacts import pinned, registry  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("moves_are_declared")]

URL = "https://clips.example.net/v/1"


@pytest.fixture
def mail(settings, smtp_server):
    port, received = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    return received


@pytest.fixture
def unlisted(pinned, agency, artist, platforms, templates):  # noqa: F811
    # Staff look the host up once (the site serves its security.txt on the test port).
    contacts.host_discover(target=f"http://clips.example.net:{pinned.port}/")
    (url,) = import_urls(agency, artist, [URL])
    assert url.platform_id is None and url.host == "clips.example.net"
    return url


def _send(notice, staff, legal, sender=None, django_capture_on_commit_callbacks=None):
    notices.notice_submit(notice_id=notice.pk, user=staff)
    notices.notice_approve(notice_id=notice.pk, user=legal)
    notice = notices.notice_send(notice_id=notice.pk, user=sender or legal)
    assert notice.status == "sending"
    assert notices.notice_deliver_email(notice_id=notice.pk) == "sent"
    notice.refresh_from_db()
    return notice


def _overdue(url):
    """The deadline passes and the recheck engine looks: the page is still there (inconclusive
    here: nothing listens on the site's https port), so the URL is flagged overdue."""
    InfringingURL.objects.filter(pk=url.pk).update(
        deadline_at=timezone.now() - timedelta(hours=1), next_check_at=timezone.now() - timedelta(seconds=1)
    )
    rechecks.check_batch(limit=10, url_ids=[url.pk])
    url.refresh_from_db()
    assert url.status == "notified" and url.overdue_since is not None
    return url


def test_an_unlisted_hosts_url_overdue_is_escalated_to_its_hosting_provider_and_emailed(
    unlisted, staff, legal, mail
):
    # The first notice goes to the site's own contact (security.txt), through the usual workflow.
    (first,), skipped = notices.notices_prepare(user=staff, url_ids=[unlisted.pk])
    assert skipped == 0
    assert first.contact.email == "takedown@clips.example.net" and first.platform.slug == "unlisted-host"
    context = notices.notice_context(first)
    assert context["platform"]["name"] == "clips.example.net"
    assert context["recipient"]["source"] == "security.txt"
    first = _send(first, staff, legal)
    assert [m["To"] for m in mail] == ["takedown@clips.example.net"]
    assert b"security.txt" in first.rendered_html.encode() or "security.txt" in _pdf_text(first)

    url = _overdue(unlisted)
    assert escalation.escalations_sweep() == {"looked_up": 0, "drafted": 1}
    assert escalation.escalations_sweep() == {"looked_up": 0, "drafted": 0}  # one undecided step at a time
    (step,) = url.escalation_steps.all()
    assert (step.rung, step.state) == ("host", "drafted")
    notice = step.notice
    assert notice.status == "draft" and notice.created_by is None and notice.ladder_rung == "host"
    assert notice.contact.email == "abuse@blueharbor-hosting.test"
    assert notice.route_channel.kind == "email"
    assert notices.presend_problems(notice) == []  # a notified URL may be escalated

    notice = _send(notice, staff, legal)
    assert [m["To"] for m in mail] == ["takedown@clips.example.net", "abuse@blueharbor-hosting.test"]
    pdf_text = _pdf_text(notice)
    assert "Blue Harbor Hosting LLC" in pdf_text
    assert "RDAP, network" in pdf_text and "rdap.arin.test" in pdf_text
    step.refresh_from_db()
    url.refresh_from_db()
    assert (step.state, step.notice_id) == ("sent", notice.pk)
    assert url.overdue_since is None and url.deadline_at == notice.deadline_at  # the host's clock runs
    assert url.notified_at == first.sent_at  # still counted from the first notice

    figures = {r["recipient"]: r for r in escalation.recipient_figures(url.artist.agency)}
    assert figures["Blue Harbor Hosting LLC"]["urls"] == 1
    assert figures["Blue Harbor Hosting LLC"]["address"] == "abuse@blueharbor-hosting.test"
    assert figures["clips.example.net"]["notices"] == 1


def test_legal_skips_a_step_with_a_reason_and_the_next_one_is_drafted(unlisted, staff, legal, mail):
    (first,), _ = notices.notices_prepare(user=staff, url_ids=[unlisted.pk])
    _send(first, staff, legal)
    url = _overdue(unlisted)
    escalation.escalations_sweep()
    step = url.escalation_steps.get()
    draft = step.notice
    with pytest.raises(Invalid):
        escalation.escalation_skip(step_id=step.pk, user=legal, reason=" ")
    with pytest.raises(NotAllowed):
        escalation.escalation_skip(step_id=step.pk, user=staff, reason="host ignores reports")
    following = escalation.escalation_skip(step_id=step.pk, user=legal, reason="host ignores reports")
    step.refresh_from_db()
    assert (step.state, step.reason, step.decided_by) == ("skipped", "host ignores reports", legal)
    assert not draft.items.exists()
    assert draft.events.last().reason == "Escalation step skipped: host ignores reports"
    assert (following.rung, following.state) == ("registrar", "drafted")
    assert following.notice.contact.email == "abuse@lantern-names.test"
    with pytest.raises(Conflict):
        escalation.escalation_skip(step_id=step.pk, user=legal, reason="again")

    # A step whose notice is under review cannot be skipped under it.
    notices.notice_submit(notice_id=following.notice.pk, user=staff)
    with pytest.raises(Conflict, match="reject or cancel it first"):
        escalation.escalation_skip(step_id=following.pk, user=legal, reason="registrar is slow")


def test_the_ladder_ends_with_search_engine_delisting_and_says_where_no_recipient_is_known(
    pinned,  # noqa: F811
    agency,
    artist,
    platforms,
    templates,
    staff,
    legal,
    mail,
):
    # The network's registry knows nothing of this host's address; staff record the registrar's
    # desk by hand.
    pinned.routes.pop(("rdap.arin.test", "/registry/ip/127.0.0.2"))
    contacts.contact_save(
        user=staff,
        host="files.example.net",
        rung="registrar",
        name="Lantern Names, Inc.",
        email="abuse@lantern-names.test",
    )
    (url,) = import_urls(agency, artist, ["https://files.example.net/f/9"])
    (first,), _ = notices.notices_prepare(user=staff, url_ids=[url.pk])
    assert first.contact.source == "staff"
    _send(first, staff, legal)
    url = _overdue(url)
    escalation.escalations_sweep()
    steps = {s.rung: s for s in url.escalation_steps.all()}
    # No host contact is worth saying; no CDN or security.txt is not.
    assert steps["host"].state == "no_recipient" and "no hosting provider contact" in steps["host"].reason
    assert "cdn" not in steps and "site" not in steps
    assert steps["search"].state == "drafted" and steps["search"].platform.slug == "google_search"
    assert steps["search"].notice.route_channel is not None


def test_an_unlisted_url_without_a_known_contact_is_left_out_of_drafting(
    agency, artist, platforms, templates, staff
):
    (url,) = import_urls(agency, artist, ["https://nobody.example.net/x"])
    touched, skipped = notices.notices_prepare(user=staff, url_ids=[url.pk])
    assert (touched, skipped) == ([], 1)
    assert not Notice.objects.exists()
    assert escalation.escalation_draft(url_id=url.pk) is None  # not overdue: nothing to climb
    assert not EscalationStep.objects.exists()


def _pdf_text(notice) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(BytesIO(bytes(notice.pdf))).pages)
