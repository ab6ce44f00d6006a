"""Notices follow their recipient and their URLs after submission: a contact the agency
corrects or sets aside, a URL withdrawn from under an escalation."""

# ruff: noqa: F811  (pytest fixtures imported by name)

from __future__ import annotations

import pytest

from takedown import notices
from takedown.contacts import services as contacts
from takedown.errors import Conflict, PresendFailed
from takedown.models import AbuseContact, NoticeEvent
from tests.notices_setup import import_urls
from tests.test_contacts import pinned, registry  # noqa: F401
from tests.test_escalation import _escalated, _send, mail, unlisted  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("moves_are_declared")]

HOST, DESK = "clips.example.net", "abuse@blueharbor-hosting.test"


@pytest.fixture
def to_desk(pinned, agency, artist, platforms, templates, staff):
    """A draft to the hosting provider's discovered abuse desk."""
    contacts.host_discover(target=f"https://{HOST}:{pinned.tls_port}/")
    (url,) = import_urls(agency, artist, [f"https://{HOST}/v/9"])
    (draft,), _ = notices.notices_prepare(user=staff, url_ids=[url.pk])
    assert draft.contact.email == DESK
    return draft


def test_it_re_addresses_an_unsent_draft_to_the_contact_staff_corrected(to_desk, staff, legal, mail):
    desk = AbuseContact.objects.get(email=DESK)
    fixed = contacts.contact_save(user=staff, host=HOST, rung="host", name="Blue Harbor legal",
                                  email="legal@blueharbor-hosting.test", contact_id=desk.pk)  # fmt: skip
    to_desk.refresh_from_db()
    assert to_desk.contact_id == fixed.pk
    event = NoticeEvent.objects.filter(notice=to_desk).latest("pk")
    assert "Re-addressed" in event.reason and event.data == {"contact_from": desk.pk, "contact_to": fixed.pk}
    sent = _send(to_desk, staff, legal)
    assert sent.status == "sent"
    assert [m["To"] for m in mail] == ["legal@blueharbor-hosting.test"]


def test_it_refuses_a_draft_to_a_contact_the_agency_set_aside(to_desk, staff, legal, mail):
    desk = AbuseContact.objects.get(email=DESK)
    contacts.contact_set_aside(user=staff, contact_id=desk.pk, reason="never answers")
    with pytest.raises(PresendFailed, match="no longer your agency's address"):
        notices.notice_submit(notice_id=to_desk.pk, user=staff)
    assert mail == []


def test_it_refuses_to_approve_or_send_to_a_contact_set_aside_after_submission(
    to_desk,
    staff,
    legal,
    mail,
):
    desk = AbuseContact.objects.get(email=DESK)
    notices.notice_submit(notice_id=to_desk.pk, user=staff)
    contacts.contact_set_aside(user=staff, contact_id=desk.pk, reason="wrong desk")
    with pytest.raises(Conflict, match="no longer your agency's address"):
        notices.notice_approve(notice_id=to_desk.pk, user=legal)
    to_desk.refresh_from_db()
    assert to_desk.status == "pending"


def test_it_refuses_to_send_an_approved_notice_to_a_contact_corrected_since(
    to_desk,
    staff,
    legal,
    mail,
):
    desk = AbuseContact.objects.get(email=DESK)
    notices.notice_submit(notice_id=to_desk.pk, user=staff)
    notices.notice_approve(notice_id=to_desk.pk, user=legal)
    contacts.contact_save(user=staff, host=HOST, rung="host", name="Blue Harbor legal",
                          email="legal@blueharbor-hosting.test", contact_id=desk.pk)  # fmt: skip
    to_desk.refresh_from_db()
    assert to_desk.contact_id == desk.pk  # legal approved these bytes: not re-addressed
    with pytest.raises(Conflict, match="no longer your agency's address"):
        notices.notice_send(notice_id=to_desk.pk, user=legal)
    to_desk.refresh_from_db()
    assert to_desk.status == "approved" and mail == []


def test_the_email_worker_does_not_deliver_to_a_contact_set_aside_after_send(
    to_desk,
    staff,
    legal,
    mail,
):
    desk = AbuseContact.objects.get(email=DESK)
    notices.notice_submit(notice_id=to_desk.pk, user=staff)
    notices.notice_approve(notice_id=to_desk.pk, user=legal)
    notices.notice_send(notice_id=to_desk.pk, user=legal)
    contacts.contact_set_aside(user=staff, contact_id=desk.pk, reason="wrong desk")
    assert notices.notice_deliver_email(notice_id=to_desk.pk) == "failed"
    to_desk.refresh_from_db()
    assert to_desk.status == "delivery_failed" and "no longer your agency's address" in to_desk.delivery_error
    assert mail == []


def test_it_refuses_a_pending_escalation_whose_url_was_withdrawn_and_never_renotifies_it(
    unlisted,
    staff,
    legal,
    mail,
):
    first, url, step = _escalated(unlisted, staff, legal)
    esc = step.notice
    notices.notice_submit(notice_id=esc.pk, user=staff)
    notices.notice_withdraw(notice_id=first.pk, user=legal, reason="the artist consented after all")
    url.refresh_from_db()
    assert url.status == "open"
    with pytest.raises(Conflict, match="remove it from this escalation notice"):
        notices.notice_approve(notice_id=esc.pk, user=legal)
    esc.refresh_from_db()
    assert esc.status == "pending"


def test_it_refuses_to_send_an_approved_escalation_whose_url_was_withdrawn(unlisted, staff, legal, mail):
    first, url, step = _escalated(unlisted, staff, legal)
    esc = step.notice
    notices.notice_submit(notice_id=esc.pk, user=staff)
    notices.notice_approve(notice_id=esc.pk, user=legal)
    sent_before = len(mail)
    notices.notice_withdraw(notice_id=first.pk, user=legal, reason="sent in error")
    with pytest.raises(Conflict, match="remove it from this escalation notice"):
        notices.notice_send(notice_id=esc.pk, user=legal)
    url.refresh_from_db()
    step.refresh_from_db()
    assert url.status == "open" and step.state == "closed" and len(mail) == sent_before


def test_sending_an_escalation_never_moves_an_open_url_back_to_notified(unlisted, staff, legal, mail):
    from takedown.models import InfringingURL
    from takedown.notices.workflow import mark_sent

    _first, url, step = _escalated(unlisted, staff, legal)
    esc = step.notice
    notices.notice_submit(notice_id=esc.pk, user=staff)
    notices.notice_approve(notice_id=esc.pk, user=legal)
    esc.refresh_from_db()
    # Whatever path reaches mark_sent (a delivery already handed over), the URL's own state wins.
    InfringingURL.objects.filter(pk=url.pk).update(status="open", notified_at=None, deadline_at=None)
    from django.db import transaction
    from django.utils import timezone

    with transaction.atomic():
        mark_sent(esc, user=legal, sent_at=timezone.now(), reason="test: handed over")
    url.refresh_from_db()
    assert url.status == "open" and url.deadline_at is None


def test_a_revised_escalation_keeps_only_urls_still_notified(unlisted, staff, legal, mail):
    first, url, step = _escalated(unlisted, staff, legal)
    notices.notice_submit(notice_id=step.notice.pk, user=staff)
    rejected = notices.notice_reject(notice_id=step.notice.pk, user=legal, reason="wording")
    notices.notice_withdraw(notice_id=first.pk, user=legal, reason="sent in error")
    url.refresh_from_db()
    assert url.status == "open"
    revised = notices.notice_revise(notice_id=rejected.pk, user=staff)
    assert not revised.items.filter(url=url).exists()
    touched, _skipped = notices.notices_prepare(user=staff, url_ids=[url.pk])
    assert [n.ladder_rung for n in touched] == [""]  # a fresh first notice, not held by the ladder


def test_a_cdn_or_registrar_is_written_to_on_the_policy_route_and_no_statutory_clock_is_claimed(
    pinned,
    agency,
    artist,
    platforms,
    templates,
    staff,
    legal,
    settings,
):
    from takedown import legal as law
    from takedown.notices.workflow import deadline_hours

    contacts.host_discover(target=f"https://{HOST}:{pinned.tls_port}/")
    (url,) = import_urls(agency, artist, [f"https://{HOST}/v/7"], route="take_it_down")
    assert url.legal_route == "take_it_down"
    unlisted_row = contacts.unlisted_platform()
    # The hosting provider's desk hosts the item: the URL's own route.
    assert contacts.route_for(unlisted_row, url, rung="host") == "take_it_down"
    # A registrar and a CDN do not host it: TAKE IT DOWN does not bind them.
    assert contacts.route_for(unlisted_row, url, rung="registrar") == "platform_policy"
    assert contacts.route_for(unlisted_row, url, rung="cdn") == "platform_policy"

    # A first notice to the CDN staff recorded goes on the policy route, on the default clock.
    contacts.contact_save(user=staff, host=HOST, rung="cdn", name="Edge CDN", email="abuse@edge-cdn.test")
    (draft,), _ = notices.notices_prepare(user=staff, url_ids=[url.pk])
    assert draft.contact.rung == "cdn"
    assert draft.legal_route == "platform_policy"
    assert deadline_hours(draft) == settings.TAKEDOWN_DEFAULT_DEADLINE_HOURS
    assert not law.deadline_basis(draft.legal_route).startswith("statutory")


@pytest.mark.django_db(transaction=True)
def test_two_discoveries_of_one_host_store_one_after_another_and_leave_one_row_per_contact():
    import threading

    from django.db import connection, transaction
    from django.utils import timezone

    from takedown.contacts import discovery
    from takedown.models import HostLookup

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    host = "race.example.net"
    desk = discovery.Found(
        "host", "Blue Harbor", DESK, "", "rdap_network", "https://rdap.test/ip/1", "ab" * 32
    )
    found = discovery.Discovery(
        host=host,
        origin=f"https://{host}",
        addresses=["192.0.2.10"],
        contacts=[desk],
        steps=[discovery.Step("rdap_network", "https://rdap.test/ip/1", "found", "Blue Harbor")],
    )
    now = timezone.now()
    contacts._store(found, now)  # an earlier lookup: the host's row exists
    AbuseContact.objects.filter(host=host).delete()
    errors: list = []

    def second():
        try:
            contacts._store(found, now)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    with transaction.atomic():
        # The first discovery is storing (it holds the host's lookup row); the second waits.
        HostLookup.objects.select_for_update().get(host=host)
        worker = threading.Thread(target=second)
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # blocked on the lookup row
        AbuseContact.objects.create(
            host=host, rung="host", name="Blue Harbor", email=DESK, source="rdap_network"
        )
    worker.join(10)
    assert not errors
    assert AbuseContact.objects.filter(host=host, email=DESK, source="rdap_network").count() == 1
