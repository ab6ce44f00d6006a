"""The escalation ladder kept in step with its notices and URLs: a rejected, revised or cancelled
notice, a URL removed while its escalation is a draft, two sweeps at once, one mailbox on two
rungs, and the route a recipient takes."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from takedown import escalation, notices
from takedown.contacts import services as contacts
from takedown.models import EscalationStep, InfringingURL, Notice
from tests.cases_setup import observe
from tests.notices_setup import import_urls
from tests.test_contacts import pinned, registry  # noqa: F401  (fixtures)
from tests.test_escalation import _escalated, _overdue, _send, mail, unlisted  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("moves_are_declared")]

HOST_DESK = "abuse@blueharbor-hosting.test"


def test_a_rejected_escalation_notice_waits_for_its_revision_and_the_revision_is_the_steps(
    unlisted,  # noqa: F811
    staff,
    legal,
    mail,  # noqa: F811
    client,
):
    from django.urls import reverse

    _first, url, step = _escalated(unlisted, staff, legal)
    notices.notice_submit(notice_id=step.notice.pk, user=staff)
    rejected = notices.notice_reject(notice_id=step.notice.pk, user=legal, reason="wrong wording")
    step.refresh_from_db()
    assert (step.state, step.notice_id) == ("rejected", rejected.pk)
    assert "wrong wording" in step.reason
    # Legal may pass over the rung instead of revising (the step's page offers it).
    client.force_login(legal)
    page = client.get(reverse("admin:takedown_escalationstep_change", args=[step.pk])).content.decode()
    assert 'id="skip-step"' in page
    # Waiting for the revision: the sweep neither drafts the rung again nor climbs past it.
    assert escalation.escalations_sweep()["drafted"] == 0
    assert url.escalation_steps.count() == 1
    revised = notices.notice_revise(notice_id=rejected.pk, user=staff)
    step.refresh_from_db()
    assert (step.state, step.notice_id) == ("drafted", revised.pk)
    sent = _send(revised, staff, legal)
    step.refresh_from_db()
    assert (step.state, step.notice_id) == ("sent", sent.pk)


def test_a_cancelled_escalation_notice_is_drafted_again_by_the_next_sweep(unlisted, staff, legal, mail):  # noqa: F811
    _first, url, step = _escalated(unlisted, staff, legal)
    notices.notice_submit(notice_id=step.notice.pk, user=staff)
    notices.notice_approve(notice_id=step.notice.pk, user=legal)
    notices.notice_cancel(notice_id=step.notice.pk, user=legal, reason="the host asked for its form")
    step.refresh_from_db()
    assert step.state == "cancelled" and "the host asked for its form" in step.reason
    assert escalation.escalations_sweep()["drafted"] == 1
    step.refresh_from_db()
    assert step.state == "drafted" and step.notice.status == "draft"
    assert step.notice.items.filter(url=url).exists() and "cancelled" in step.reason
    assert url.escalation_steps.count() == 1  # the same step, asked again


def test_a_url_confirmed_removed_leaves_its_escalation_draft_and_the_step_closes(
    unlisted,  # noqa: F811
    staff,
    legal,
    mail,  # noqa: F811
    settings,
):
    settings.TAKEDOWN_CONFIRM_MIN_MINUTES = 0
    _first, url, step = _escalated(unlisted, staff, legal)
    draft = step.notice
    for _ in range(3):  # the recheck engine's own confirmations
        observe([url], verdict="removed", http_status=404)
        url.refresh_from_db()
        if url.status == "removed":
            break
    assert url.status == "removed"
    step.refresh_from_db()
    assert (step.state, step.reason) == ("closed", "The URL is removed.")
    assert not draft.items.exists()


def test_one_mailbox_on_two_rungs_is_written_to_once(unlisted, staff, legal, mail):  # noqa: F811
    # The registrar's abuse desk is the hosting provider's own mailbox.
    contacts.contact_save(user=staff, host="clips.example.net", rung="registrar", name="Blue Harbor Names",
                          email=HOST_DESK.upper())  # fmt: skip
    _first, url, step = _escalated(unlisted, staff, legal)
    assert step.rung == "host"
    _send(step.notice, staff, legal)
    _overdue(url)
    escalation.escalations_sweep()
    registrar = url.escalation_steps.get(rung="registrar")
    assert (registrar.state, registrar.reason) == ("skipped", "same recipient as hosting provider")
    assert registrar.notice_id is None
    following = url.escalation_steps.get(state="drafted")
    assert following.rung == "search"
    assert [m["To"] for m in mail].count(HOST_DESK) == 1
    # Passed over by the system, not skipped by legal: no mark against the registrar's figures.
    assert all(row["skipped"] == 0 for row in escalation.recipient_figures(url.artist.agency))


def test_an_escalation_takes_the_route_its_recipient_takes(
    pinned,  # noqa: F811
    agency,
    artist,
    platforms,
    templates,
    staff,
):
    # Behind Cloudflare (its registry row takes DMCA and its policy route, not the TAKE IT DOWN
    # Act), the CDN rung goes on Cloudflare's route; the host's desk takes the URL's own route;
    # search delisting takes the search engine's.
    contacts.host_discover(target=f"https://clips.example.net:{pinned.tls_port}/")
    contacts.contact_save(user=staff, host="clips.example.net", rung="cdn", name="Cloudflare",
                          url="https://www.cloudflare.com/abuse/form")  # fmt: skip
    (url,) = import_urls(agency, artist, ["https://clips.example.net/v/7"], route="take_it_down")
    assert url.legal_route == "take_it_down"
    (first,), _ = notices.notices_prepare(user=staff, url_ids=[url.pk])
    assert (first.platform.slug, first.legal_route) == ("cloudflare", "platform_policy")
    InfringingURL.objects.filter(pk=url.pk).update(status="notified")
    url.refresh_from_db()
    platform, contact, route = escalation._recipient(url, "host")
    assert (contact.email, route) == (HOST_DESK, "take_it_down")
    platform, contact, route = escalation._recipient(url, "search")
    assert (platform.slug, route) == ("google_search", "platform_policy")


@pytest.mark.django_db(transaction=True)
def test_a_sweep_racing_a_removal_does_not_draft_for_the_removed_url(unlisted, staff, legal, mail):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    from django.db import transaction

    (first,), _ = notices.notices_prepare(user=staff, url_ids=[unlisted.pk])
    _send(first, staff, legal)
    url = _overdue(unlisted)
    drafted: list = []
    errors: list = []

    def sweep():
        try:
            drafted.append(escalation.escalation_draft(url_id=url.pk))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    with transaction.atomic():
        # The removal holds the URL's row; the drafter starts meanwhile and must wait for it.
        InfringingURL.objects.select_for_update().get(pk=url.pk)
        worker = threading.Thread(target=sweep)
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # blocked on the row lock
        InfringingURL.objects.filter(pk=url.pk).update(
            status="removed", removed_at=timezone.now(), overdue_since=None
        )
    worker.join(10)
    assert not errors and drafted == [None]
    assert not EscalationStep.objects.filter(url=url).exists()
    assert not Notice.objects.exclude(ladder_rung="").exists()


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_draft_one_step(unlisted, staff, legal, mail):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    (first,), _ = notices.notices_prepare(user=staff, url_ids=[unlisted.pk])
    _send(first, staff, legal)
    url = _overdue(unlisted)
    barrier = threading.Barrier(2)
    results: list = []

    def sweep():
        try:
            barrier.wait(5)
            results.append(escalation.escalation_draft(url_id=url.pk))
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=sweep) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(20)
    assert len([r for r in results if isinstance(r, EscalationStep)]) == 1
    assert [r for r in results if not isinstance(r, EscalationStep)] == [None]
    assert EscalationStep.objects.filter(url=url).count() == 1
    assert Notice.objects.exclude(ladder_rung="").count() == 1


# ------------------------------------------------------------------ discovery's time budget


def test_a_slow_registry_costs_the_contacts_tick_its_budget_and_never_holds_up_housekeeping(
    unlisted,  # noqa: F811
    pinned,  # noqa: F811
    agency,
    artist,
    staff,
    legal,
    mail,  # noqa: F811
    settings,
):
    import gc
    import time
    import warnings

    from takedown import tasks
    from takedown.models import HostLookup
    from tests.rdap_servers import Reply, arin_network, registrar_domain

    settings.TAKEDOWN_PROBE_RESOLVE = {
        **settings.TAKEDOWN_PROBE_RESOLVE, "slow.example.net": ["127.0.0.2"], "files.example.net": ["127.0.0.2"]
    }  # fmt: skip
    # Every registry now takes longer than the probe's timeout (2 s) to answer.
    pinned.routes[("rdap.arin.test", "/registry/ip/127.0.0.2")] = Reply(
        body=arin_network("127.0.0.2"), delay=4
    )
    pinned.routes[("rdap.registry.test", "/domain/example.net")] = Reply(
        body=registrar_domain("example.net"), delay=4
    )
    new = import_urls(agency, artist, ["https://slow.example.net/a", "https://files.example.net/b"])[-2:]
    for url in new:
        # Staff know each site's CDN desk; nobody has looked the hosts up yet.
        contacts.contact_save(
            user=staff, host=url.host, rung="cdn", name="Edge CDN", email="abuse@edge-cdn.test"
        )
        (first,), _ = notices.notices_prepare(user=staff, url_ids=[url.pk])
        _send(first, staff, legal)
        _overdue(url)

    # Housekeeping asks no registry: deliveries, jobs, rollups and drafting take no time, and a
    # host never looked up waits for its lookup instead of going straight to delisting.
    asked = len(pinned.hits)
    started = time.monotonic()
    result = tasks.housekeeping_tick()
    assert time.monotonic() - started < 1.5
    assert len(pinned.hits) == asked
    assert result["escalation"] == {"drafted": 0}
    assert not EscalationStep.objects.filter(url__in=new).exists()

    started = time.monotonic()
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        tick = escalation.contacts_discover_due(budget_seconds=2.5)
        gc.collect()
    elapsed = time.monotonic() - started
    # The discovery cut short left none of its steps' coroutines behind unawaited.
    assert not [w for w in warned if "never awaited" in str(w.message)]
    assert elapsed < 3.5, elapsed
    assert tick == {"looked_up": 1, "deferred": 1}
    (lookup,) = HostLookup.objects.filter(host__in=["slow.example.net", "files.example.net"])
    assert [s["outcome"] for s in lookup.steps] == ["unknown"]
    assert "time budget" in lookup.steps[0]["detail"]
    assert lookup.expires_at - lookup.looked_up_at == contacts.UNKNOWN_TTL
    # A lookup cut short has no answer from any source: the host is not looked up yet, and the
    # ladder waits for it instead of passing its desks by as "no recipient" to search delisting.
    assert lookup.answered_at is None
    assert escalation.escalations_sweep() == {"drafted": 0}
    assert not EscalationStep.objects.filter(url__in=new).exists()
    # Once its registries answer, the host is looked up and its ladder goes on from the host rung.
    pinned.routes[("rdap.arin.test", "/registry/ip/127.0.0.2")] = Reply(body=arin_network("127.0.0.2"))
    pinned.routes[("rdap.registry.test", "/domain/example.net")] = Reply(body=registrar_domain("example.net"))
    contacts.host_discover(target=lookup.host, force=True)
    lookup.refresh_from_db()
    assert lookup.answered_at is not None
    escalation.escalations_sweep()
    steps = EscalationStep.objects.filter(url__host=lookup.host).values_list("rung", "state")
    assert list(steps) == [("host", "drafted")]


def test_a_tick_starts_a_host_only_while_its_budget_covers_one_discovery(
    unlisted,  # noqa: F811
    pinned,  # noqa: F811
    agency,
    artist,
    staff,
    legal,
    mail,  # noqa: F811
    settings,
):
    from takedown.models import HostLookup
    from tests.rdap_servers import Reply, arin_network

    settings.TAKEDOWN_PROBE_CONNECT_TIMEOUT, settings.TAKEDOWN_PROBE_TIMEOUT = 1, 2
    settings.TAKEDOWN_PROBE_RESOLVE = {
        **settings.TAKEDOWN_PROBE_RESOLVE, "a.example.net": ["127.0.0.2"], "b.example.net": ["127.0.0.2"]
    }  # fmt: skip
    new = import_urls(agency, artist, ["https://a.example.net/a", "https://b.example.net/b"])[-2:]
    for url in new:
        contacts.contact_save(
            user=staff, host=url.host, rung="cdn", name="Edge CDN", email="abuse@edge-cdn.test"
        )
        (first,), _ = notices.notices_prepare(user=staff, url_ids=[url.pk])
        _send(first, staff, legal)
        _overdue(url)
    assert escalation.discovery_timeout() == 3
    # The network registry answers in 1.5 s (within the probe's 2 s): the first host's discovery
    # leaves less than one discovery's 3 s of the 4 s budget, so the second waits for the next
    # tick rather than start and be cut short.
    pinned.routes[("rdap.arin.test", "/registry/ip/127.0.0.2")] = Reply(
        body=arin_network("127.0.0.2"), delay=1.5
    )
    assert escalation.contacts_discover_due(budget_seconds=4) == {"looked_up": 1, "deferred": 1}
    (done,) = HostLookup.objects.filter(host__in=["a.example.net", "b.example.net"])
    assert done.answered_at is not None and "time budget" not in str(done.steps)
    assert escalation.contacts_discover_due(budget_seconds=4) == {"looked_up": 1, "deferred": 0}
