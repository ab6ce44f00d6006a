"""The recheck engine against real HTTP servers on loopback and a real database."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from takedown import rechecks
from takedown.models import InfringingURL, Platform, URLCheck
from tests.sites import Answer, Site

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


@pytest.fixture
def site(settings):
    with Site() as s:
        settings.TAKEDOWN_PROBE_ALLOW_LOOPBACK = True
        settings.TAKEDOWN_PROBE_EXTRA_PORTS = [s.port]
        settings.TAKEDOWN_PROBE_TIMEOUT = 5
        yield s


def _url(
    artist, site, path, *, status="notified", sent_hours_ago=3, deadline_in_hours=45, platform=None, **fields
):
    now = timezone.now()
    url = site.url(path)
    return InfringingURL.objects.create(
        artist=artist,
        url=url,
        normalized_url=url,
        host="127.0.0.1",
        platform=platform,
        category="synthetic_sexual",
        legal_route="take_it_down",
        status=status,
        notified_at=now - timedelta(hours=sent_hours_ago) if status != "open" else None,
        deadline_at=now + timedelta(hours=deadline_in_hours) if status != "open" else None,
        next_check_at=now - timedelta(seconds=1),
        **fields,
    )


def _check(url):
    outcomes = rechecks.check_batch(limit=50, url_ids=[url.pk])
    url.refresh_from_db()
    return outcomes


def _time_passes(*urls, minutes=11):
    """As if the next check came `minutes` later: the current streak began that much earlier."""
    InfringingURL.objects.filter(pk__in=[u.pk for u in urls]).update(
        streak_since=F("streak_since") - timedelta(minutes=minutes), next_check_at=timezone.now()
    )


def test_it_confirms_a_removal_after_consecutive_checks_and_records_time_to_removal(artist, site):
    site.answers["/v/1"] = Answer(200)
    url = _url(artist, site, "/v/1")
    (outcome,) = _check(url)
    assert (outcome.verdict, url.status) == ("live", "notified")
    check = url.checks.get()
    assert check.http_status == 200 and check.title == "A live page" and len(check.body_sha256) == 64
    assert url.next_check_at > timezone.now()

    del site.answers["/v/1"]  # now 404
    _check(url)
    assert (url.last_verdict, url.status, url.streak_count) == ("removed", "notified", 1)
    first_removed_seen = url.streak_since
    assert url.next_check_at - timezone.now() <= timedelta(minutes=40)  # confirmation comes soon
    _time_passes(url)
    (outcome,) = _check(url)
    assert outcome.confirmed_removal
    assert url.status == "removed"
    assert url.removed_at == first_removed_seen - timedelta(minutes=11)
    assert url.removed_at - url.notified_at > timedelta(hours=2)
    assert url.next_check_at - timezone.now() > timedelta(days=6)  # weekly watch for re-uploads
    assert list(url.checks.values_list("verdict", flat=True)) == ["removed", "removed", "live"]


def test_it_never_changes_state_on_inconclusive_verdicts(artist, site):
    url = _url(artist, site, "/gone")  # 404
    site.answers["/busy"] = Answer(503)
    _check(url)
    url.normalized_url = site.url("/busy")
    url.save()
    for _ in range(3):
        url.next_check_at = timezone.now()
        url.save()
        _check(url)
        assert url.status == "notified" and url.last_verdict == "inconclusive"
    assert (url.streak_verdict, url.streak_count) == ("removed", 1)
    site.answers["/challenge"] = Answer(403, "<title>Just a moment...</title>", {"cf-mitigated": "challenge"})
    url.normalized_url = site.url("/challenge")
    url.save()
    _check(url)
    assert url.status == "notified"
    assert url.checks.first().verdict == "inconclusive"


def test_it_honours_retry_after_when_planning_the_next_check(artist, site):
    site.answers["/slow"] = Answer(429, "slow down", {"Retry-After": "7200"})
    url = _url(artist, site, "/slow")
    _check(url)
    assert url.last_verdict == "inconclusive"
    assert url.next_check_at - timezone.now() >= timedelta(seconds=7100)


def test_it_uses_the_platforms_removal_markers(artist, site):
    platform = Platform.objects.create(
        slug="clipsite",
        name="Clip site",
        hosts=["clips.example.net"],
        markers={
            "removed": ["@div.clip-error This clip was removed for violating our terms"],
            "soft_removed": ["@div.clip-error This clip is private"],
        },
    )
    site.answers["/c/1"] = Answer(
        200, '<title>Clip</title><div class="clip-error">This clip was removed for violating our terms.</div>'
    )
    site.answers["/c/2"] = Answer(
        200, '<title>Clip</title><div class="clip-error">This clip is private</div>'
    )
    removed = _url(artist, site, "/c/1", platform=platform)
    private = _url(artist, site, "/c/2", platform=platform)
    for _ in range(2):
        InfringingURL.objects.filter(pk__in=[removed.pk, private.pk]).update(next_check_at=timezone.now())
        rechecks.check_batch(limit=10)
        _time_passes(removed, private)
    removed.refresh_from_db()
    private.refresh_from_db()
    assert removed.status == "removed"
    assert "marker" in removed.checks.first().reason
    assert removed.checks.first().rule == "marker.removed@div.clip-error"
    assert private.status == "soft_removed"


def test_it_flags_an_overdue_url_with_the_next_step(artist, site):
    site.answers["/still"] = Answer(200)
    url = _url(artist, site, "/still", sent_hours_ago=60, deadline_in_hours=-12)
    _check(url)
    assert url.status == "notified"
    assert url.overdue_since is not None
    assert "search-engine delisting" in url.escalation and "police" in url.escalation


def test_it_reopens_a_removed_url_that_comes_back_as_a_reupload(artist, site):
    site.answers["/back"] = Answer(200)
    url = _url(
        artist,
        site,
        "/back",
        status="removed",
        removed_at=timezone.now() - timedelta(days=3),
        streak_verdict="removed",
        streak_count=2,
    )
    _check(url)
    assert url.status == "removed"
    _time_passes(url)
    _check(url)
    assert url.status == "open"
    assert url.reupload_count == 1
    assert url.removed_at is None


def test_it_follows_the_backoff_plan_after_sending():
    now = timezone.now()
    rng = random.Random(1)
    url = InfringingURL(status="notified", notified_at=now - timedelta(minutes=10), streak_count=0)
    plan = []
    for offset in (
        timedelta(minutes=10),
        timedelta(hours=1, minutes=5),
        timedelta(hours=7),
        timedelta(hours=25),
        timedelta(hours=50),
        timedelta(days=5),
    ):
        at = url.notified_at + offset
        plan.append(rechecks.next_check_at(url, at, None, rng) - url.notified_at)
    hours = [round(p.total_seconds() / 3600, 1) for p in plan]
    assert hours[0] == 1.0
    assert 5.4 <= hours[1] <= 6.6
    assert 23 <= hours[2] <= 25
    assert 47 <= hours[3] <= 49
    assert 72 <= hours[4] <= 76  # daily after 48 h
    assert 143 <= hours[5] <= 146
    open_url = InfringingURL(status="open")
    assert rechecks.next_check_at(open_url, now, None, rng) is None


def test_it_claims_each_due_url_once_and_takes_it_back_after_the_lease(artist, site, settings):
    urls = [_url(artist, site, f"/x/{i}") for i in range(6)]
    run = rechecks.new_holder()
    token_a, first = rechecks.claim_due(limit=4, holder=run)
    # Another run leaves the host alone while this one is on it (one run per host).
    assert rechecks.claim_due(limit=4)[1] == []
    _, second = rechecks.claim_due(limit=4, holder=run)
    assert len(first) == 4 and len(second) == 2
    assert not set(first) & set(second)
    assert rechecks.claim_due(limit=4, holder=run)[1] == []
    # The first worker dies; once its lease is over, its URLs are claimed again.
    later = timezone.now() + timedelta(seconds=settings.TAKEDOWN_CHECK_LEASE_SECONDS + 1)
    token_c, again = rechecks.claim_due(limit=10, now=later)
    assert sorted(again) == sorted(first + second)
    # A late answer from the dead worker is dropped: nothing is recorded twice.
    from takedown.probing import run_probes

    late = run_probes(
        [(pk, site.url(f"/x/{i}"), None) for i, pk in enumerate(first)], rechecks.probe_config()
    )
    assert rechecks.record_results(token_a, late) == []
    assert URLCheck.objects.count() == 0
    assert len(rechecks.record_results(token_c, late)) == 4
    assert URLCheck.objects.count() == 4
    assert len(urls) == 6


def test_it_counts_queries_independent_of_the_batch_size(artist, site):
    from django.test.utils import CaptureQueriesContext

    from takedown.chain import GENESIS
    from takedown.models import ChainHead

    ChainHead.objects.create(agency=artist.agency, head_sha256=GENESIS)  # the agency's chain exists
    small = [_url(artist, site, f"/q/{i}") for i in range(2)]
    with CaptureQueriesContext(connection) as one:
        rechecks.check_batch(limit=50, url_ids=[u.pk for u in small])
    large = [_url(artist, site, f"/r/{i}") for i in range(40)]
    with CaptureQueriesContext(connection) as many:
        rechecks.check_batch(limit=50, url_ids=[u.pk for u in large])
    assert URLCheck.objects.count() == 42
    # Results are written in chunks as they arrive (a chunk per quiet spell), never per row.
    # (13 on PostgreSQL: a claim takes its advisory lock, one query; and 4 for the batch's link
    # in the agency's hash chain: read the new checks, lock the head, insert, move the head;
    # and 2 to lock the agencies' heads before the URL rows, the order a sent notice takes.)
    assert len(one.captured_queries) <= 19
    assert len(many.captured_queries) <= 2 * len(one.captured_queries)


def _subprocess_env(site) -> dict[str, str]:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        url = f"sqlite:///{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=url,
        DEBUG="1",
        TAKEDOWN_PROBE_ALLOW_LOOPBACK="1",
        TAKEDOWN_PROBE_EXTRA_PORTS=str(site.port),
        Q_WORKERS="1",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.mark.django_db(transaction=True)
def test_it_processes_a_tick_in_a_real_django_q2_cluster(artist, site):
    from django_q.models import Success
    from django_q.tasks import async_task

    site.answers["/live"] = Answer(200)
    live = _url(artist, site, "/live")
    gone = _url(artist, site, "/gone")
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=_subprocess_env(site),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        async_task("takedown.tasks.recheck_tick")
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and not Success.objects.filter(func="takedown.tasks.recheck_tick").exists()
        ):
            time.sleep(0.5)
        assert Success.objects.filter(func="takedown.tasks.recheck_tick").exists(), "the cluster ran no tick"
        assert Success.objects.get(func="takedown.tasks.recheck_tick").result == 2
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait(15)
    live.refresh_from_db()
    gone.refresh_from_db()
    assert (live.last_verdict, gone.last_verdict) == ("live", "removed")
    assert URLCheck.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_loses_and_doubles_nothing_when_a_worker_is_killed_mid_batch(artist, site, settings):
    for i in range(5):
        site.answers[f"/slow/{i}"] = Answer(200, delay=8)
    urls = [_url(artist, site, f"/slow/{i}") for i in range(5)]
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "recheck", "--due", "--no-progress"],
        cwd=ROOT,
        env=_subprocess_env(site),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60

        def items_hit() -> int:  # not the host's random-path (soft-404) request
            return sum(n for path, n in site.hits.items() if path.startswith("/slow/"))

        while time.monotonic() < deadline and items_hit() < 5:
            time.sleep(0.1)
        assert items_hit() == 5, "the worker did not start probing"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)
    assert URLCheck.objects.count() == 0
    assert InfringingURL.objects.exclude(check_claim="").count() == 5
    for i in range(5):
        site.answers[f"/slow/{i}"] = Answer(200)
    assert rechecks.check_batch(limit=10) == []  # still leased: nobody takes them yet
    later = timezone.now() + timedelta(seconds=settings.TAKEDOWN_CHECK_LEASE_SECONDS + 1)
    token, ids = rechecks.claim_due(limit=10, now=later)
    assert sorted(ids) == sorted(u.pk for u in urls)
    from takedown.probing import run_probes

    results = run_probes([(u.pk, u.normalized_url, None) for u in urls], rechecks.probe_config())
    rechecks.record_results(token, results)
    assert URLCheck.objects.count() == 5
    assert set(URLCheck.objects.values_list("url_id", flat=True)) == {u.pk for u in urls}


def test_it_rechecks_selected_urls_now_from_the_admin_and_lists_overdue_ones(client, staff, artist, site):
    from django.urls import reverse

    site.answers["/a"] = Answer(200)
    fresh = _url(artist, site, "/a")
    late = _url(artist, site, "/gone", sent_hours_ago=80, deadline_in_hours=-30)
    InfringingURL.objects.update(next_check_at=None)
    client.force_login(staff)
    changelist = reverse("admin:takedown_infringingurl_changelist")
    response = client.post(
        changelist, {"action": "recheck_now", "_selected_action": [fresh.pk, late.pk]}, follow=True
    )
    assert "Checked 2 URL(s)" in response.content.decode()
    fresh.refresh_from_db()
    late.refresh_from_db()
    assert (fresh.last_verdict, late.last_verdict) == ("live", "removed")
    assert late.overdue_since is not None  # still notified: removal needs a second look
    overdue = client.get(changelist, {"overdue": "yes"})
    assert list(overdue.context["cl"].result_list) == [late]
    history = client.get(reverse("admin:takedown_infringingurl_change", args=[late.pk])).content.decode()
    assert "http 404" in history or "404" in history


def test_it_rechecks_an_artist_from_the_command_line(artist, site):
    import io

    from django.core.management import call_command

    site.answers["/cli"] = Answer(200)
    _url(artist, site, "/cli")
    _url(artist, site, "/cli-gone")
    out, err = io.StringIO(), io.StringIO()
    call_command("recheck", "--artist", artist.slug, stdout=out, stderr=err)
    assert "2 checked: 1 live, 1 removed" in out.getvalue()
    assert "2/2 URLs 100%" in err.getvalue()
    out = io.StringIO()
    call_command("recheck", "--due", "--no-progress", stdout=out)
    assert "0 checked" in out.getvalue()


def test_it_warns_when_loopback_probing_is_on_outside_debug(settings):
    from takedown.syschecks import probe_loopback_check

    settings.DEBUG = False
    settings.TAKEDOWN_PROBE_ALLOW_LOOPBACK = True
    assert [w.id for w in probe_loopback_check(None)] == ["takedown.W001"]
    settings.TAKEDOWN_PROBE_ALLOW_LOOPBACK = False
    assert probe_loopback_check(None) == []


def test_it_syncs_its_schedule_idempotently(db):
    from django_q.models import Schedule

    from takedown.schedules import SCHEDULES, sync_schedules

    assert sync_schedules() == (len(SCHEDULES), 0)
    assert sync_schedules() == (0, 0)
    Schedule.objects.filter(name="takedown.recheck-tick").update(minutes=5)
    assert sync_schedules() == (0, 1)
    schedule = Schedule.objects.get(name="takedown.recheck-tick")
    assert (schedule.func, schedule.minutes, schedule.schedule_type) == (
        "takedown.tasks.recheck_tick",
        1,
        "I",
    )


def test_it_rechecks_many_urls_as_a_background_job(
    client, staff, artist, site, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from takedown import jobs
    from takedown.models import Job

    site.answers["/m/0"] = Answer(200)
    urls = [_url(artist, site, f"/m/{i}") for i in range(12)]
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("admin:takedown_infringingurl_changelist"),
            {"action": "recheck_now", "_selected_action": [u.pk for u in urls]},
        )
    job = Job.objects.get(kind="recheck")
    assert response.url == reverse("admin:takedown_job_change", args=[job.pk])
    assert jobs.job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert job.result == {"verdicts": {"live": 1, "removed": 11}}
    assert URLCheck.objects.count() == 12


def test_it_resolves_pinned_hosts_to_a_stand_in_server(artist, site, settings):
    settings.TAKEDOWN_PROBE_RESOLVE = {"clips.example.net": ["127.0.0.1"]}
    site.answers["/v/9"] = Answer(200, "<title>Stand-in</title>")
    url = _url(artist, site, "/v/9")
    url.normalized_url = f"http://clips.example.net:{site.port}/v/9"
    url.save()
    _check(url)
    assert url.last_verdict == "live" and url.checks.get().title == "Stand-in"
    settings.TAKEDOWN_PROBE_ALLOW_LOOPBACK = False
    url.next_check_at = timezone.now()
    url.save()
    _check(url)
    assert url.last_verdict == "inconclusive"  # a pinned loopback address is still vetted
    assert "refused" in url.checks.first().error


# ------------------------------------------------------------- vanished domains and DNS


def _remote_url(artist, address: str, *, platform=None) -> InfringingURL:
    now = timezone.now()
    return InfringingURL.objects.create(
        artist=artist,
        url=address,
        normalized_url=address,
        host=address.split("/")[2],
        platform=platform,
        category="synthetic_sexual",
        legal_route="take_it_down",
        status="notified",
        notified_at=now - timedelta(seconds=30),
        deadline_at=now + timedelta(hours=48),
        next_check_at=now - timedelta(seconds=1),
    )


def _dns_config(table: dict):
    from takedown.probing import ProbeConfig
    from tests.probe_servers import StubResolver

    # The stub replaces getaddrinfo only (it raises the same socket.gaierror); everything from
    # resolve_host on is the production path.
    return ProbeConfig(resolver=StubResolver(table), dns_control=("control.example.net",))


def _run(url, config, times: int) -> list[str]:
    for _ in range(times):
        rechecks.check_batch(limit=10, url_ids=[url.pk], config=config)
    url.refresh_from_db()
    return list(url.checks.order_by("checked_at", "pk").values_list("rule", flat=True))


@pytest.mark.parametrize(
    ("slug", "hosts", "detector", "address"),
    [
        ("youtube", ["youtube.com", "youtu.be"], "youtube", "https://www.youtube.com/watch?v=AbCdEfGhIjK"),
        ("clipsite", ["clips.example.net"], "generic", "https://clips.example.net/v/1"),
    ],
)
def test_it_never_confirms_a_registry_platforms_url_removed_when_its_host_does_not_resolve(
    artist, settings, slug, hosts, detector, address
):
    # The case: a machine whose resolver knows no name at all, two checks 32 s apart.
    settings.TAKEDOWN_CONFIRMATIONS = 1
    platform = Platform.objects.create(slug=slug, name=slug, hosts=hosts, detector=detector)
    url = _remote_url(artist, address, platform=platform)
    rules = _run(url, _dns_config({"control.example.net": ["93.184.216.34"]}), 3)
    assert url.status == "notified" and url.removed_at is None
    assert set(url.checks.values_list("verdict", flat=True)) == {"inconclusive"}
    assert rules == ["dns.nxdomain.registry_host"] * 3


def test_it_confirms_a_vanished_unlisted_domain_only_across_two_runs_with_a_working_resolver(
    artist, settings
):
    settings.TAKEDOWN_CONFIRMATIONS = 1  # a vanished domain needs two runs whatever this says
    url = _remote_url(artist, "https://gone-leaks.example.com/v/1")
    working = _dns_config({"control.example.net": ["93.184.216.34"]})
    assert _run(url, working, 1) == ["dns.nxdomain.confirmed"]
    assert (url.status, url.last_verdict, url.streak_count) == ("notified", "removed", 1)
    _time_passes(url)
    _run(url, working, 1)
    assert url.status == "removed" and url.removed_at is not None
    check = url.checks.first()
    assert (check.verdict, check.rule) == ("removed", "dns.nxdomain.confirmed")


def test_it_never_reads_a_resolver_outage_as_a_vanished_domain(artist, settings):
    settings.TAKEDOWN_CONFIRMATIONS = 1
    url = _remote_url(artist, "https://gone-leaks.example.com/v/1")
    outage = _dns_config({})  # the control name does not resolve either
    assert _run(url, outage, 3) == ["dns.nxdomain.control_failed"] * 3
    assert url.status == "notified" and url.streak_count == 0


def test_it_never_removes_a_vanished_domain_when_nxdomain_is_not_trusted(artist, settings):
    # Behind a filtering resolver (Quad9, an ISP's or a company's filter) a blocked live site
    # answers NXDOMAIN; the setting turned off makes such a domain inconclusive, run after run.
    from dataclasses import replace

    from tests.probe_servers import StubResolver

    settings.TAKEDOWN_CONFIRMATIONS = 1
    settings.TAKEDOWN_PROBE_NXDOMAIN_MEANS_REMOVED = False
    url = _remote_url(artist, "https://filtered-leaks.example.com/v/1")
    config = replace(
        rechecks.probe_config(),
        resolver=StubResolver({"control.example.net": ["93.184.216.34"]}),
        dns_control=("control.example.net",),
    )
    assert _run(url, config, 3) == ["dns.nxdomain.not_trusted"] * 3
    assert url.status == "notified" and url.removed_at is None
    assert set(url.checks.values_list("verdict", flat=True)) == {"inconclusive"}


def test_it_confirms_a_change_only_on_observations_apart_in_time(artist, site, settings):
    """Two clicks of "recheck now" a second apart must not confirm a removal: a platform's
    passing error page has to be seen again after TAKEDOWN_CONFIRM_MIN_MINUTES."""
    from takedown.admin.intake import describe_outcome

    settings.TAKEDOWN_CONFIRM_MIN_MINUTES = 10
    url = _url(artist, site, "/flaky")  # 404 for now
    _check(url)
    url.next_check_at = timezone.now()
    url.save()
    (outcome,) = _check(url)
    assert (url.status, url.streak_count) == ("notified", 2)
    assert outcome.confirm_after == url.streak_since + timedelta(minutes=10)
    assert "a check from" in describe_outcome(outcome)
    assert url.next_check_at >= url.streak_since + timedelta(minutes=10)
    _time_passes(url)
    (outcome,) = _check(url)
    assert outcome.confirmed_removal and url.status == "removed"


@pytest.mark.django_db(transaction=True)
def test_overlapping_runs_fetch_each_url_once_and_keep_the_hosts_limit_past_their_leases(
    artist, site, settings
):
    """Two workers run checks at once on one slow host, each run outlasting its lease many
    times over: the claims are renewed while the work goes on, so no URL is fetched twice, and
    one run at a time takes the host, so its per-host limit is the host's limit."""
    import threading

    from django.db import connection

    settings.TAKEDOWN_CHECK_LEASE_SECONDS = 1  # the work takes ~4 s: a lease is over four times
    settings.TAKEDOWN_PROBE_PER_HOST = 4
    settings.TAKEDOWN_PROBE_SPACING = 0
    for i in range(32):
        site.answers[f"/slow/{i}"] = Answer(200, delay=0.4)
        _url(artist, site, f"/slow/{i}")  # due now
    checked: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            checked.append(rechecks.run_due(budget_seconds=30, batch_size=8))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(checked) == 32
    fetched = [n for path, n in site.hits.items() if path.startswith("/slow/")]
    assert sorted(fetched) == [1] * 32, "a URL was fetched twice"
    assert site.most_in_flight <= 4, f"{site.most_in_flight} requests at once to a host whose limit is 4"
    assert URLCheck.objects.count() == 32
