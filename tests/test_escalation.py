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
def unlisted(pinned, agency, artist, platforms, templates, staff):  # noqa: F811
    # Staff look the host up once (the site serves its security.txt on the test port), and
    # record the CDN in front of it, which the ladder asks first.
    contacts.host_discover(target=f"https://clips.example.net:{pinned.tls_port}/")
    contacts.contact_save(user=staff, host="clips.example.net", rung="cdn", name="Edge CDN",
                          email="abuse@edge-cdn.test")  # fmt: skip
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
    # The first notice goes to the CDN staff recorded, through the usual workflow (the site's own
    # security.txt contact is never a recipient: its operator chose it).
    (first,), skipped = notices.notices_prepare(user=staff, url_ids=[unlisted.pk])
    assert skipped == 0
    assert first.contact.email == "abuse@edge-cdn.test" and first.platform.slug == "unlisted-host"
    context = notices.notice_context(first)
    assert context["platform"]["name"] == "Edge CDN"
    assert context["recipient"]["source"] == "Staff"
    first = _send(first, staff, legal)
    assert [m["To"] for m in mail] == ["abuse@edge-cdn.test"]

    url = _overdue(unlisted)
    assert escalation.contacts_discover_due() == {"looked_up": 0, "deferred": 0}  # looked up already
    assert escalation.escalations_sweep() == {"drafted": 1}
    assert escalation.escalations_sweep() == {"drafted": 0}  # one undecided step at a time
    (step,) = url.escalation_steps.all()
    assert (step.rung, step.state) == ("host", "drafted")
    notice = step.notice
    assert notice.status == "draft" and notice.created_by is None and notice.ladder_rung == "host"
    assert notice.contact.email == "abuse@blueharbor-hosting.test"
    assert notice.route_channel.kind == "email"
    assert notices.presend_problems(notice) == []  # a notified URL may be escalated

    notice = _send(notice, staff, legal)
    assert [m["To"] for m in mail] == ["abuse@edge-cdn.test", "abuse@blueharbor-hosting.test"]
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
    assert figures["Edge CDN"]["notices"] == 1


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
    escalation.contacts_discover_due()  # the contacts tick looks the host up first
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


# ------------------------------------------------------------------ admin and API


def test_the_url_page_shows_the_hosts_contacts_and_the_ladder_and_legal_skips_there(
    unlisted, staff, legal, mail, client
):
    from django.urls import reverse

    (first,), _ = notices.notices_prepare(user=staff, url_ids=[unlisted.pk])
    _send(first, staff, legal)
    url = _overdue(unlisted)
    escalation.escalations_sweep()
    step = url.escalation_steps.get()

    client.force_login(staff)
    page = client.get(reverse("admin:takedown_infringingurl_change", args=[url.pk])).content.decode()
    assert "abuse@blueharbor-hosting.test" in page and "RDAP, network" in page
    assert "abuse@lantern-names.test" in page and "security.txt" in page
    assert "escalation ladder" in page.lower() and "Blue Harbor Hosting LLC" in page
    step_page = client.get(reverse("admin:takedown_escalationstep_change", args=[step.pk])).content.decode()
    assert 'id="skip-step"' not in step_page  # staff do not decide to skip
    response = client.post(reverse("admin:takedown_escalationstep_skip", args=[step.pk]), {"reason": "no"})
    step.refresh_from_db()
    assert step.state == "drafted"

    client.force_login(legal)
    step_page = client.get(reverse("admin:takedown_escalationstep_change", args=[step.pk])).content.decode()
    assert 'id="skip-step"' in step_page
    response = client.post(reverse("admin:takedown_escalationstep_skip", args=[step.pk]), {"reason": "   "})
    step.refresh_from_db()
    assert step.state == "drafted"
    response = client.post(
        reverse("admin:takedown_escalationstep_skip", args=[step.pk]),
        {"reason": "The host forwards to the site."},
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.state == "skipped"
    assert url.escalation_steps.get(rung="registrar").state == "drafted"

    recipients = client.get(reverse("admin:takedown_abusecontact_recipients")).content.decode()
    assert "clips.example.net" in recipients and "abuse@edge-cdn.test" in recipients
    dashboard = client.get(reverse("admin:dashboard")).content.decode()
    section = dashboard[dashboard.index('id="by-recipient"') :]
    assert "abuse@edge-cdn.test" in section and "<td>1</td>" in section


def test_staff_add_a_contact_in_the_admin_and_it_is_kept_over_rediscovery(
    pinned,  # noqa: F811
    agency,
    artist,
    staff,
    client,
):
    from django.urls import reverse

    from takedown.models import AbuseContact

    import_urls(agency, artist, [URL])  # the agency pursues a URL on this host
    client.force_login(staff)
    response = client.post(
        reverse("admin:takedown_abusecontact_add"),
        {"host": "Clips.Example.NET", "rung": "host", "name": "Blue Harbor legal", "email": "legal@blueharbor-hosting.test",
         "url": "", "note": "Given by phone"},
    )  # fmt: skip
    assert response.status_code == 302
    mine = AbuseContact.objects.get(email="legal@blueharbor-hosting.test")
    assert (mine.host, mine.source, mine.added_by) == ("clips.example.net", "staff", staff)
    contacts.host_discover(target=f"https://clips.example.net:{pinned.tls_port}/", force=True)
    hosts = [
        c.email for c in contacts.host_contacts("clips.example.net", agency_id=agency.pk) if c.rung == "host"
    ]
    assert hosts == ["legal@blueharbor-hosting.test", "abuse@blueharbor-hosting.test"]  # staff's first
    assert mine.agency == agency
    # Correcting a discovered contact makes the agency's own and sets the discovered one aside
    # for this agency (it stays a current, shared fact).
    found = AbuseContact.objects.get(email="abuse@blueharbor-hosting.test")
    response = client.post(
        reverse("admin:takedown_abusecontact_change", args=[found.pk]),
        {"host": "clips.example.net", "rung": "host", "name": "Blue Harbor abuse", "email": "abuse-kr@blueharbor-hosting.test",
         "url": "", "note": ""},
    )  # fmt: skip
    assert response.status_code == 302 and "q=clips.example.net" in response.url
    found.refresh_from_db()
    assert found.is_current is True and found.set_asides.get().agency == agency
    assert found not in contacts.host_contacts("clips.example.net", agency_id=agency.pk)
    corrected = AbuseContact.objects.get(email="abuse-kr@blueharbor-hosting.test")
    assert corrected.by_staff and "Corrects:" in corrected.note
    response = client.post(
        reverse("admin:takedown_abusecontact_add"),
        {"host": "clips.example.net", "rung": "host", "name": "Nobody", "email": "", "url": "", "note": ""},
    )
    assert response.status_code == 200 and AbuseContact.objects.filter(name="Nobody").count() == 0


def test_the_api_lists_a_hosts_contacts_with_their_sources(pinned, agency, artist, api_user):  # noqa: F811
    from django.core.cache import cache
    from rest_framework.test import APIClient

    from takedown.tokens import token_issue

    cache.clear()
    contacts.host_discover(target=f"https://clips.example.net:{pinned.tls_port}/")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=api_user).key}")
    # Which hosts an agency pursues is its own business: none of its URLs is on this host yet.
    assert api.get("/api/v1/contacts/", {"host": "clips.example.net"}).json()["results"] == []
    import_urls(agency, artist, [URL])
    response = api.get("/api/v1/contacts/", {"host": "clips.example.net"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {(r["rung"], r["source"]) for r in rows} == {
        ("site", "security_txt"),
        ("host", "rdap_network"),
        ("registrar", "rdap_domain"),
    }
    assert all(len(r["raw_sha256"]) == 64 and r["source_url"] for r in rows)
    assert api.get("/api/v1/contacts/", {"host": "nothing.example.net"}).json()["results"] == []


# ------------------------------------------------------------------ the ladder's bookkeeping


def _exhausted(pinned, agency, artist, staff, legal):  # noqa: F811
    """A URL on a host with no known network contact whose ladder went to its end: its host
    rung had no recipient, and legal skipped search-engine delisting."""
    pinned.routes.pop(("rdap.arin.test", "/registry/ip/127.0.0.2"))
    contacts.contact_save(
        user=staff, host="files.example.net", rung="registrar", name="Lantern Names, Inc.",
        email="abuse@lantern-names.test",
    )  # fmt: skip
    url = import_urls(agency, artist, ["https://files.example.net/f/9"])[-1]
    (first,), _ = notices.notices_prepare(user=staff, url_ids=[url.pk])
    _send(first, staff, legal)
    url = _overdue(url)
    escalation.contacts_discover_due()
    escalation.escalations_sweep()
    assert url.escalation_steps.get(rung="host").state == "no_recipient"
    search = url.escalation_steps.get(rung="search")
    assert escalation.escalation_skip(step_id=search.pk, user=legal, reason="not indexed") is None
    return url


def test_a_url_whose_ladder_is_exhausted_does_not_hold_up_newly_overdue_ones(
    unlisted,
    pinned,  # noqa: F811
    agency,
    artist,
    staff,
    legal,
    mail,
    settings,
):
    settings.TAKEDOWN_LADDER_BATCH = 1
    done = _exhausted(pinned, agency, artist, staff, legal)
    (first,), _ = notices.notices_prepare(user=staff, url_ids=[unlisted.pk])
    _send(first, staff, legal)
    url = _overdue(unlisted)
    InfringingURL.objects.filter(pk=done.pk).update(overdue_since=url.overdue_since - timedelta(days=1))
    assert escalation.escalations_sweep()["drafted"] == 1
    assert url.escalation_steps.get().state == "drafted"
    assert escalation.escalations_sweep()["drafted"] == 0


def test_a_rung_that_had_no_recipient_is_drafted_once_staff_add_its_contact(
    pinned,  # noqa: F811
    agency,
    artist,
    platforms,
    templates,
    staff,
    legal,
    mail,
):
    url = _exhausted(pinned, agency, artist, staff, legal)
    assert escalation.escalations_sweep()["drafted"] == 0
    contacts.contact_save(
        user=staff, host="files.example.net", rung="host", name="Blue Harbor Hosting LLC",
        email="abuse@blueharbor-hosting.test",
    )  # fmt: skip
    assert escalation.escalations_sweep()["drafted"] == 1
    step = url.escalation_steps.get(rung="host")
    assert step.state == "drafted" and step.notice.contact.email == "abuse@blueharbor-hosting.test"
    assert "no hosting provider contact" in step.reason  # when it had none stays on the timeline


def test_a_discovery_that_fails_is_recorded_as_unknown_its_host_waits_and_the_sweep_goes_on(
    unlisted,
    agency,
    artist,
    staff,
    legal,
    mail,
    settings,
    tmp_path,
):
    from takedown.models import HostLookup

    contacts.contact_save(
        user=staff, host="files.example.net", rung="registrar", name="Lantern Names, Inc.",
        email="abuse@lantern-names.test",
    )  # fmt: skip
    other = import_urls(agency, artist, ["https://files.example.net/f/9"])[-1]
    for url in (unlisted, other):
        (first,), _ = notices.notices_prepare(user=staff, url_ids=[url.pk])
        _send(first, staff, legal)
        _overdue(url)
    # The data directory is broken (a half-written refresh): discovery of the new host fails.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "dns.json").write_text('{"services": 5}')
    settings.TAKEDOWN_CONTACTS_DATA_DIR = broken
    assert escalation.contacts_discover_due() == {"looked_up": 0, "deferred": 0}
    lookup = HostLookup.objects.get(host="files.example.net")
    # The other host's ladder goes on; this one waits: no source has answered for it yet, and
    # its hosting provider's desk must not be passed by as unknown.
    assert escalation.escalations_sweep() == {"drafted": 1}
    assert not other.escalation_steps.exists()
    assert [s["outcome"] for s in lookup.steps] == ["unknown"]
    assert lookup.answered_at is None
    assert lookup.expires_at - lookup.looked_up_at == contacts.UNKNOWN_TTL


def _escalated(unlisted, staff, legal):
    (first,), _ = notices.notices_prepare(user=staff, url_ids=[unlisted.pk])
    first = _send(first, staff, legal)
    url = _overdue(unlisted)
    escalation.escalations_sweep()
    return first, url, url.escalation_steps.get()


def test_a_skip_after_reject_and_revise_leaves_no_escalation_notice_in_flight(unlisted, staff, legal, mail):
    _first, url, step = _escalated(unlisted, staff, legal)
    notices.notice_submit(notice_id=step.notice.pk, user=staff)
    notices.notice_reject(notice_id=step.notice.pk, user=legal, reason="wrong wording")
    revised = notices.notice_revise(notice_id=step.notice.pk, user=staff)
    assert revised.items.filter(url=url).exists()
    notices.notice_submit(notice_id=revised.pk, user=staff)
    with pytest.raises(Conflict, match="reject or cancel it first"):
        escalation.escalation_skip(step_id=step.pk, user=legal, reason="host ignores reports")
    notices.notice_reject(notice_id=revised.pk, user=legal, reason="still wrong")
    again = notices.notice_revise(notice_id=revised.pk, user=staff)
    escalation.escalation_skip(step_id=step.pk, user=legal, reason="host ignores reports")
    assert not again.items.exists()  # the skipped rung's draft no longer lists the URL


def test_a_url_withdrawn_after_its_escalation_was_drafted_leaves_the_draft_and_closes_the_step(
    unlisted, staff, legal, mail
):
    first, url, step = _escalated(unlisted, staff, legal)
    draft = step.notice
    assert notices.presend_problems(draft) == []
    notices.notice_withdraw(notice_id=first.pk, user=legal, reason="sent to the wrong address")
    url.refresh_from_db()
    step.refresh_from_db()
    assert url.status == "open"
    assert not draft.items.exists()  # the unsent draft no longer lists it
    assert draft.events.last().reason == f"URL #{url.pk} is open: it left this escalation draft."
    assert (step.state, step.reason) == ("closed", "The URL is open.")
    assert escalation.escalations_sweep()["drafted"] == 0
    # Notified again, and again live past the deadline: the closed step is asked again.
    (again,), _ = notices.notices_prepare(user=staff, url_ids=[url.pk])
    _send(again, staff, legal)
    url = _overdue(url)
    assert escalation.escalations_sweep()["drafted"] == 1
    step.refresh_from_db()
    assert step.state == "drafted" and step.reason.startswith("Earlier (")
    assert step.notice.items.filter(url=url).exists()


def test_another_agency_sees_neither_the_hosts_nor_the_contacts_of_an_agencys_urls(
    unlisted, outsider, client
):
    from django.urls import reverse

    from takedown.models import AbuseContact, HostLookup

    contact = AbuseContact.objects.filter(host="clips.example.net").first()
    lookup = HostLookup.objects.get(host="clips.example.net")
    assert AbuseContact.objects.visible_to(outsider).count() == 0
    assert HostLookup.objects.visible_to(outsider).count() == 0
    client.force_login(outsider)
    changelist = client.get(reverse("admin:takedown_abusecontact_changelist")).content.decode()
    assert "clips.example.net" not in changelist
    assert client.get(reverse("admin:takedown_abusecontact_change", args=[contact.pk])).status_code in (
        302,
        404,
    )
    assert client.get(reverse("admin:takedown_hostlookup_change", args=[lookup.pk])).status_code in (302, 404)
