"""The contacts migrations on real rows: 0019 (set-asides per agency) and 0023 (a lookup counts
once a source answered)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from takedown.models import AbuseContact, ContactSetAside, HostLookup

BEFORE = [("takedown", "0018_cases_chain")]


@pytest.mark.django_db(transaction=True)
def test_it_gives_other_agencies_back_the_contact_one_agency_corrected_and_marks_answered_lookups():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Agency = old.get_model("takedown", "Agency")
    OldUser = old.get_model("takedown", "User")
    OldContact = old.get_model("takedown", "AbuseContact")
    OldLookup = old.get_model("takedown", "HostLookup")
    a = Agency.objects.create(name="A", slug="a")
    b = Agency.objects.create(name="B", slug="b")
    a_staff = OldUser.objects.create(username="a-staff", agency=a, role="staff")
    then = timezone.now() - timedelta(days=2)
    found = {"source": "rdap_network", "url": "https://rdap.test/ip/1", "outcome": "found", "detail": ""}
    cut = {"source": "discovery", "url": "x", "outcome": "unknown", "detail": "time budget"}
    OldLookup.objects.create(host="clips.example.net", steps=[found], looked_up_at=then,
                             expires_at=then + timedelta(days=7))  # fmt: skip
    OldLookup.objects.create(host="slow.example.net", steps=[cut], looked_up_at=then, expires_at=then)
    # A's staff corrected the desk the last lookup found, and one it no longer found.
    desk = OldContact.objects.create(host="clips.example.net", rung="host", name="Blue Harbor",
                                     email="abuse@blueharbor.test", source="rdap_network", found_at=then,
                                     is_current=False, suppressed=True)  # fmt: skip
    stale = OldContact.objects.create(host="clips.example.net", rung="registrar", name="Old Names",
                                      email="abuse@old-names.test", source="rdap_domain",
                                      found_at=then - timedelta(days=30), is_current=False, suppressed=True)  # fmt: skip
    for row in (desk, stale):
        OldContact.objects.create(host="clips.example.net", rung=row.rung, name="A's own", email="legal@a.test",
                                  source="staff", added_by=a_staff,
                                  note=f"Corrects: {row.name} <{row.email}> (x, clips.example.net)")  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert set(ContactSetAside.objects.values_list("contact_id", "agency_id")) == {
        (desk.pk, a.pk),
        (stale.pk, a.pk),
    }
    # B writes to the desk again (the set-aside carries A's decision); A does not.
    assert AbuseContact.objects.usable_by(b.pk).filter(pk=desk.pk).exists()
    assert not AbuseContact.objects.usable_by(a.pk).filter(pk=desk.pk).exists()
    # The one the last lookup no longer found stays retired until the host is looked up again.
    assert not AbuseContact.objects.get(pk=stale.pk).is_current
    assert HostLookup.objects.get(host="clips.example.net").expires_at <= timezone.now()
    # 0023: a lookup with an answer counts; one cut short does not.
    assert HostLookup.objects.get(host="clips.example.net").answered_at == then
    assert HostLookup.objects.get(host="slow.example.net").answered_at is None
