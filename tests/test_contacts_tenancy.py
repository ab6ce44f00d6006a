"""Abuse contacts between agencies: discovered contacts are shared facts; what an agency's staff
add, correct or set aside is that agency's alone, in the admin, the API, drafting and the
escalation ladder. Two agencies pursue URLs on the same host."""

from __future__ import annotations

import pytest
from django.urls import reverse

from takedown import escalation, notices
from takedown.contacts import services as contacts
from takedown.errors import Invalid
from takedown.models import AbuseContact, Agency, EscalationStep
from tests.notices_setup import import_urls
from tests.test_contacts import pinned, registry  # noqa: F401  (fixtures)
from tests.test_escalation import _overdue, _send, mail  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("moves_are_declared")]

HOST = "clips.example.net"
HOST_DESK, REGISTRAR_DESK = "abuse@blueharbor-hosting.test", "abuse@lantern-names.test"
A_HOST, A_SITE = "legal@blueharbor-hosting.test", "owner@clips-site.test"


@pytest.fixture
def shared(pinned, agency, artist, other_agency, other_artist, staff, outsider, platforms, templates):  # noqa: F811
    """Agency A (staff) and agency B (outsider) each have a URL on the same host. A's staff
    correct the discovered hosting desk, set the registrar's desk aside and add the site's
    operator as their own contact."""
    # B signs its notices too (the fixture agency B is bare).
    Agency.objects.filter(pk=other_agency.pk).update(
        signatory_name="Minho Park", signatory_title="Counsel", signatory_name_ko="박민호",
        signatory_title_ko="변호사", address="2 Example-ro, Seoul", phone="+82 2-0000-0001",
    )  # fmt: skip
    contacts.host_discover(target=f"https://{HOST}:{pinned.tls_port}/")
    (a_url,) = import_urls(agency, artist, [f"https://{HOST}/v/1"])
    (b_url,) = import_urls(other_agency, other_artist, [f"https://{HOST}/v/2"])
    host_desk = AbuseContact.objects.get(email=HOST_DESK)
    registrar_desk = AbuseContact.objects.get(email=REGISTRAR_DESK)
    corrected = contacts.contact_save(
        user=staff, host=HOST, rung="host", name="Blue Harbor legal", email=A_HOST, contact_id=host_desk.pk
    )
    contacts.contact_set_aside(user=staff, contact_id=registrar_desk.pk, reason="never answers us")
    added = contacts.contact_save(user=staff, host=HOST, rung="site", name="Clips operator", email=A_SITE)
    return {"a": a_url, "b": b_url, "host_desk": host_desk, "registrar_desk": registrar_desk,
            "corrected": corrected, "added": added}  # fmt: skip


def test_it_keeps_an_agencys_own_contacts_and_set_asides_out_of_another_agencys_sight(
    shared, agency, other_agency, staff, outsider, superuser, client
):
    mine = {shared["corrected"].pk, shared["added"].pk}
    assert {c.agency_id for c in AbuseContact.objects.filter(pk__in=mine)} == {agency.pk}
    # The discovered rows stay current, shared facts: A's decisions did not touch them.
    for row in (shared["host_desk"], shared["registrar_desk"]):
        row.refresh_from_db()
        assert row.is_current and row.agency_id is None

    seen_by_b = set(AbuseContact.objects.visible_to(outsider).values_list("email", flat=True))
    assert {HOST_DESK, REGISTRAR_DESK} <= seen_by_b and not seen_by_b & {A_HOST, A_SITE}
    seen_by_a = set(AbuseContact.objects.visible_to(staff).values_list("email", flat=True))
    assert {HOST_DESK, REGISTRAR_DESK, A_HOST, A_SITE} <= seen_by_a
    assert {A_HOST, A_SITE} <= set(AbuseContact.objects.visible_to(superuser).values_list("email", flat=True))

    # What each agency's notices may use.
    a_use = [c.email for c in contacts.recipients(HOST, agency_id=agency.pk)]
    b_use = [c.email for c in contacts.recipients(HOST, agency_id=other_agency.pk)]
    assert a_use == [A_HOST, A_SITE]  # corrected host desk, registrar set aside, own site contact
    assert b_use == [HOST_DESK, REGISTRAR_DESK]

    # The admin: B neither lists nor opens A's contacts, and sees no set-aside mark of A's.
    client.force_login(outsider)
    listing = client.get(reverse("admin:takedown_abusecontact_changelist")).content.decode()
    assert HOST_DESK in listing and A_HOST not in listing and A_SITE not in listing
    for pk in mine:
        assert client.get(reverse("admin:takedown_abusecontact_change", args=[pk])).status_code in (302, 404)
    b_page = client.get(
        reverse("admin:takedown_infringingurl_change", args=[shared["b"].pk])
    ).content.decode()
    assert HOST_DESK in b_page and A_HOST not in b_page and A_SITE not in b_page
    client.force_login(staff)
    a_page = client.get(
        reverse("admin:takedown_infringingurl_change", args=[shared["a"].pk])
    ).content.decode()
    assert A_HOST in a_page and A_SITE in a_page and REGISTRAR_DESK not in a_page

    # B cannot correct or set aside A's own contacts either.
    with pytest.raises(Invalid):
        contacts.contact_save(user=outsider, host=HOST, rung="site", name="x", email="x@x.test",
                              contact_id=shared["added"].pk)  # fmt: skip
    with pytest.raises(Invalid):
        contacts.contact_set_aside(user=outsider, contact_id=shared["added"].pk, reason="mine now")


def test_the_api_lists_an_agencys_own_contacts_to_it_alone(shared, agency, other_agency):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    from takedown.models import User
    from takedown.tokens import token_issue

    cache.clear()

    def listed(agency_row, username):
        user = User.objects.create_user(username=username, agency=agency_row, role="api")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
        response = api.get("/api/v1/contacts/", {"host": HOST})
        assert response.status_code == 200
        return {r["email"] for r in response.json()["results"]}

    assert {A_HOST, A_SITE, HOST_DESK} <= listed(agency, "a-api")
    b_rows = listed(other_agency, "b-api")
    assert {HOST_DESK, REGISTRAR_DESK} <= b_rows and not b_rows & {A_HOST, A_SITE}


def test_each_agencys_drafts_and_escalations_go_to_its_own_recipients(
    shared,
    agency,
    other_agency,
    staff,
    outsider,
    legal,
    mail,  # noqa: F811
):
    from takedown.models import User

    b_legal = User.objects.create_user(username="b-legal", agency=other_agency, role="legal", is_staff=True)
    (a_first,), _ = notices.notices_prepare(user=staff, url_ids=[shared["a"].pk])
    (b_first,), _ = notices.notices_prepare(user=outsider, url_ids=[shared["b"].pk])
    assert a_first.contact.email == A_HOST and a_first.contact.agency == agency
    assert b_first.contact.email == HOST_DESK  # A's correction changes nothing for B
    _send(a_first, staff, legal)
    _send(b_first, outsider, b_legal)
    assert sorted(m["To"] for m in mail) == sorted([A_HOST, HOST_DESK])

    a_url, b_url = _overdue(shared["a"]), _overdue(shared["b"])
    escalation.escalations_sweep()
    # A's registrar desk is set aside: its ladder goes to its own site contact; B's to the
    # discovered registrar.
    a_step = a_url.escalation_steps.get(state="drafted")
    b_step = b_url.escalation_steps.get(state="drafted")
    assert (a_step.rung, a_step.notice.contact.email) == ("site", A_SITE)
    assert a_url.escalation_steps.get(rung="registrar").state == "no_recipient"
    assert (b_step.rung, b_step.notice.contact.email) == ("registrar", REGISTRAR_DESK)
    assert not EscalationStep.objects.filter(url=b_url, contact__agency=agency).exists()

    # A set-aside is one agency's: after B's registrar step, A's set-aside has not reopened its
    # own registrar rung (the discovered desk is current, but not A's to use).
    assert escalation.escalations_sweep()["drafted"] == 0

    # Per-agency recipient figures: each agency counts its own notices only.
    a_rows = {r["address"]: r for r in escalation.recipient_figures(agency)}
    b_rows = {r["address"]: r for r in escalation.recipient_figures(other_agency)}
    assert set(a_rows) == {A_HOST} and a_rows[A_HOST]["urls"] == 1
    assert set(b_rows) == {HOST_DESK} and b_rows[HOST_DESK]["urls"] == 1
    everyone = {r["address"] for r in escalation.recipient_figures(None)}
    assert everyone == {A_HOST, HOST_DESK}
