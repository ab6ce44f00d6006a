"""The per-agency hash chain: what enters it, what verify_chain catches, and appends in parallel."""

from __future__ import annotations

import io
import itertools
import json
import os
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from takedown import cases, chain
from takedown.models import ChainAnchor, ChainEntry, ChainHead, NoticeEvent, URLCheck

pytestmark = pytest.mark.django_db


def test_it_chains_every_check_notice_event_and_case_event_of_an_agency(built_case, agency, legal):
    _case, notice = built_case
    entries = list(ChainEntry.objects.filter(agency=agency).order_by("seq"))
    kinds = {e.kind for e in entries}
    assert kinds == {"check", "notice_event", "case_event"}
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert {e.object_id for e in entries if e.kind == "check"} == set(
        URLCheck.objects.values_list("pk", flat=True)
    )
    assert {e.object_id for e in entries if e.kind == "notice_event"} == set(
        NoticeEvent.objects.values_list("pk", flat=True)
    )
    submitted = next(e for e in entries if e.kind == "notice_event" and '"to":"pending"' in e.content)
    notice.refresh_from_db()
    assert notice.pdf_sha256 in submitted.content
    head = ChainHead.objects.get(agency=agency)
    assert (head.seq, head.head_sha256) == (entries[-1].seq, entries[-1].entry_sha256)
    report = chain.verify_chain(agency)
    assert report.ok and report.entries == len(entries)


def _broken(agency) -> str:
    report = chain.verify_chain(agency)
    assert not report.ok
    return report.broken[0]


def test_it_catches_a_check_edited_in_the_database_behind_the_products_back(built_case, agency):
    check = URLCheck.objects.order_by("pk").first()
    with connection.cursor() as cur:
        cur.execute("UPDATE takedown_urlcheck SET body_sha256 = %s WHERE id = %s", ["0" * 64, check.pk])
    entry = ChainEntry.objects.get(kind="check", object_id=check.pk)
    assert _broken(agency) == f"entry {entry.seq}: URL check {check.pk} was changed after it was recorded"
    with pytest.raises(CommandError):
        call_command("verify_chain", "--agency", agency.slug, stdout=open("/dev/null", "w"))


@pytest.mark.parametrize(
    "column, value, says",
    [
        ("content", '{"forged":1}', "its content does not match its hash"),
        ("prev_sha256", "1" * 64, "the link to entry"),
        ("entry_sha256", "2" * 64, "its own hash is wrong"),
    ],
)
def test_it_catches_an_edited_chain_entry(built_case, agency, column, value, says):
    entry = ChainEntry.objects.filter(agency=agency).order_by("seq")[2]
    with connection.cursor() as cur:
        cur.execute(f"UPDATE takedown_chainentry SET {column} = %s WHERE id = %s", [value, entry.pk])
    assert says in _broken(agency)


def test_it_catches_a_deleted_entry(built_case, agency):
    ChainEntry.objects.filter(agency=agency, seq=3).delete()
    assert _broken(agency) == "entry 3 is missing (found 4 next)"


def test_a_chain_rewritten_consistently_still_fails_against_the_head_of_the_day(built_case, agency):
    chain.chain_anchor_today()
    anchor = ChainAnchor.objects.get(agency=agency)
    # A forger edits a check, then recomputes every entry and the head so that each link holds.
    check = URLCheck.objects.order_by("pk").first()
    URLCheck.objects.filter(pk=check.pk).update(verdict="removed")
    prev = chain.GENESIS
    for e in ChainEntry.objects.filter(agency=agency).order_by("seq"):
        if e.kind == "check" and e.object_id == check.pk:
            row = URLCheck.objects.filter(pk=check.pk).values(*chain.CHECK_FIELDS).get()
            e.content = chain.canonical(chain.check_content(row))
            e.content_sha256 = chain.sha256_hex(e.content)
        e.prev_sha256 = prev
        e.entry_sha256 = chain.entry_hash(e.seq, e.kind, e.object_id, e.content_sha256, prev)
        e.save()
        prev = e.entry_sha256
    ChainHead.objects.filter(agency=agency).update(head_sha256=prev)
    assert prev != anchor.head_sha256
    assert _broken(agency) == f"the head of {anchor.day} (entry {anchor.seq}) no longer matches the chain"


def test_a_row_deleted_behind_the_products_back_is_reported_as_gone_without_a_record(built_case, agency):
    first = URLCheck.objects.order_by("pk").first().pk
    URLCheck.objects.filter(pk=first).delete()
    report = chain.verify_chain(agency)
    assert report.ok and (report.gone, report.deleted) == (1, 0)
    assert report.first_gone.endswith(f"URL check {first}")
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:  # exit status 2: a monitor sees it
        call_command("verify_chain", "--agency", agency.slug, stdout=out)
    assert failed.value.returncode == 2
    assert "intact" in out.getvalue()
    assert "WARNING: 1 covered rows gone with no deletion record" in out.getvalue()


def test_retention_records_what_it_deletes_and_verify_counts_it_as_deleted(
    built_case, agency, legal, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from takedown import retention
    from takedown.models import InfringingURL
    from tests.cases_setup import observe

    case, _notice = built_case
    telegram = list(InfringingURL.objects.filter(agency=agency, host="t.me"))
    observe(telegram)
    observe(telegram)  # three checks each: retention keeps the latest of a URL nothing rests on
    cases.case_take(user=legal, case_id=case.pk)
    cases.case_close(user=legal, case_id=case.pk, reason="settled")  # lifts the legal hold
    before = set(URLCheck.objects.values_list("pk", flat=True))
    settings.TAKEDOWN_RETAIN_CHECKS_DAYS = 30
    report = retention.retention_apply(now=timezone.now() + timedelta(days=400))
    deleted = before - set(URLCheck.objects.values_list("pk", flat=True))
    assert report.checks_deleted == len(deleted) > 0
    entry = ChainEntry.objects.filter(agency=agency, kind="deletion").get()
    content = json.loads(entry.content)
    assert content == {"reason": "retention", "check": sorted(deleted)}
    verified = chain.verify_chain(agency)
    assert verified.ok and (verified.deleted, verified.gone) == (len(deleted), 0)
    out = io.StringIO()
    call_command("verify_chain", "--agency", agency.slug, stdout=out)
    assert f"{len(deleted)} covered rows deleted since by retention or erasure" in out.getvalue()
    assert "WARNING" not in out.getvalue()


def _exported_in_the_background(built_case, legal, settings):
    """The case taken on by legal, its dossier written by a background job (done)."""
    from takedown import jobs

    case, _notice = built_case
    cases.case_take(user=legal, case_id=case.pk)
    settings.TAKEDOWN_DOSSIER_BACKGROUND_URLS = 1
    job = jobs.dossier_export_now_or_later(user=legal, case_id=case.pk, locale="en")
    assert jobs.job_run(job_id=job.pk) == "done"
    return case, job


def test_erasure_records_its_deletions_and_removes_the_stored_dossiers_naming_the_artist(
    built_case, agency, artist, legal, settings, django_capture_on_commit_callbacks
):
    from takedown import erasure, jobs
    from takedown.models import Job, private_storage

    case, job = _exported_in_the_background(built_case, legal, settings)
    stored = jobs.dossier_path(job)
    assert private_storage().exists(stored)
    checks = set(URLCheck.objects.filter(url__artist=artist).values_list("pk", flat=True))
    plan = erasure.erasure_plan(artist)
    assert plan.deleted["background jobs"] == 1 and not plan.blockers
    with django_capture_on_commit_callbacks(execute=True):
        erasure.artist_erase(artist_id=artist.pk, user=legal)
    assert not private_storage().exists(stored) and not Job.objects.filter(pk=job.pk).exists()
    recorded = [json.loads(e.content) for e in ChainEntry.objects.filter(agency=agency, kind="deletion")]
    assert [r["reason"] for r in recorded] == ["erasure"] and set(recorded[0]["check"]) == checks
    verified = chain.verify_chain(agency)
    assert verified.ok and verified.gone == 0 and verified.deleted >= len(checks)
    # The case keeps that a dossier was exported, with its digest.
    assert case.events.filter(kind="dossier_exported").count() == 1


def test_it_records_the_head_of_the_day_once_and_a_manager_exports_it(
    built_case, agency, client, manager, staff
):
    assert chain.chain_anchor_today() == 1
    assert chain.chain_anchor_today() == 0
    anchor = ChainAnchor.objects.get(agency=agency)
    client.force_login(manager)
    page = client.get("/admin/takedown/chainanchor/")
    assert page.status_code == 200 and anchor.head_sha256 in page.content.decode()
    text = client.get("/admin/takedown/chainanchor/export/").content.decode()
    assert f"{anchor.day.isoformat()}\t{anchor.seq}\t{anchor.head_sha256}" in text
    client.force_login(staff)
    assert client.get("/admin/takedown/chainanchor/").status_code == 403


def test_it_reports_an_intact_chain_from_the_command_line(built_case, agency):
    import io

    out = io.StringIO()
    call_command("verify_chain", stdout=out)
    assert (
        f"{agency.slug}: {ChainEntry.objects.filter(agency=agency).count()} entries, intact."
        in out.getvalue()
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_appending_for_one_agency_at_once_never_fork_the_chain(agency):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                with transaction.atomic():
                    if i == 0:
                        barrier.wait(timeout=10)
                    chain.chain_append(
                        agency_id=agency.pk, items=[("case_event", n * 1000 + i, {"worker": n, "i": i})] * 2
                    )
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    entries = list(ChainEntry.objects.filter(agency=agency).order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, 61))
    assert all(b.prev_sha256 == a.entry_sha256 for a, b in itertools.pairwise(entries))
    problem, _, _ = chain.verify_entries(entries, chain.GENESIS, 1)
    assert problem is None


def test_a_case_event_enters_the_chain_with_the_case(built_case, agency, legal):
    case, _ = built_case
    before = ChainHead.objects.get(agency=agency).seq
    cases.case_take(user=legal, case_id=case.pk)
    entry = ChainEntry.objects.get(agency=agency, seq=before + 1)
    assert (
        entry.kind == "case_event"
        and f'"case":{case.pk}' in entry.content
        and '"kind":"taken"' in entry.content
    )


@pytest.mark.parametrize("kind", ["check", "case_event", "notice_event"])
def test_it_catches_a_row_inserted_behind_the_products_back(built_case, agency, legal, kind):
    from takedown import dossier
    from takedown.dossier_verify import verify_dossier
    from takedown.models import CaseEvent

    case, notice = built_case
    cases.case_take(user=legal, case_id=case.pk)
    exported = dossier.dossier_bytes(case=case, user=legal, locale="en")
    assert verify_dossier(exported, database=True).ok
    url = case.urls.order_by("pk").first()
    if kind == "check":
        row = URLCheck.objects.create(url=url, http_status=404, verdict="removed")
    elif kind == "case_event":
        row = CaseEvent.objects.create(case=case, actor=legal, kind="changed", detail="fabricated")
    else:
        row = NoticeEvent.objects.create(notice=notice, actor=legal, to_status="removed", reason="fabricated")
    says = _broken(agency)
    assert f"{row.pk}" in says and "has no chain entry" in says, says
    result = verify_dossier(exported, database=True)
    assert not result.ok and any("has no chain entry" in p for p in result.problems)


def test_an_append_committing_while_the_chain_is_walked_is_not_a_break(
    built_case, agency, legal, monkeypatch
):
    walk = chain._entries

    def walk_while_another_worker_appends(agency_id, chunk, *args, **kw):
        yield from walk(agency_id, chunk, *args, **kw)
        # another worker commits an entry after the last one was read, before the head is
        cases.case_take(user=legal, case_id=built_case[0].pk)

    monkeypatch.setattr(chain, "_entries", walk_while_another_worker_appends)
    report = chain.verify_chain(agency, chunk=3)
    assert report.ok, report.broken


@pytest.mark.django_db(transaction=True)
def test_recording_checks_takes_the_chain_head_before_the_url_rows(agency, artist):
    """record_results and mark_sent both lock the head before URL rows: no lock-order deadlock."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    from django.db import OperationalError

    from takedown.models import InfringingURL
    from tests.cases_setup import X_URLS, observe
    from tests.notices_setup import import_urls

    import_urls(agency, artist, X_URLS)
    urls = list(InfringingURL.objects.filter(artist=artist).order_by("pk"))
    observe(urls)  # the agency's chain has a head
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_head() -> None:
        try:
            with transaction.atomic():
                chain._locked_head(agency.pk)
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def record() -> None:
        try:
            observe(urls)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_head)
    holder.start()
    assert holding.wait(timeout=10)
    recorder = threading.Thread(target=record)
    recorder.start()
    try:
        with connection.cursor() as cur:
            for _ in range(200):  # until the recorder waits for a lock
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                if cur.fetchone()[0]:
                    break
                threading.Event().wait(0.05)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "SELECT id FROM takedown_infringingurl WHERE id = ANY(%s) FOR UPDATE NOWAIT",
                [[u.pk for u in urls]],
            )
            assert len(cur.fetchall()) == len(urls)
    except OperationalError:
        pytest.fail("the URL rows were locked while waiting for the chain head (lock-order deadlock risk)")
    finally:
        release.set()
        holder.join()
        recorder.join()
    assert not errors


def test_a_deletion_committed_while_verify_walks_is_not_reported_as_gone(
    built_case, agency, legal, monkeypatch, settings
):
    """Retention commits between verify's first look at the deletions and its walk over the rows."""
    from datetime import timedelta

    from django.utils import timezone

    from takedown import retention
    from takedown.models import InfringingURL
    from tests.cases_setup import observe

    case, _notice = built_case
    telegram = list(InfringingURL.objects.filter(agency=agency, host="t.me"))
    observe(telegram)
    observe(telegram)
    cases.case_take(user=legal, case_id=case.pk)
    cases.case_close(user=legal, case_id=case.pk, reason="settled")
    settings.TAKEDOWN_RETAIN_CHECKS_DAYS = 30
    genuine = chain._current_contents
    ran = []

    def walk_with_retention_in_between(kind, ids):
        if not ran:
            ran.append(retention.retention_apply(now=timezone.now() + timedelta(days=400)))
        return genuine(kind, ids)

    monkeypatch.setattr(chain, "_current_contents", walk_with_retention_in_between)
    report = chain.verify_chain(agency)
    assert ran and ran[0].checks_deleted > 0
    assert report.ok and report.gone == 0 and report.deleted == ran[0].checks_deleted


def test_erasure_removes_a_stored_dossier_of_a_case_the_artists_urls_have_left(
    built_case, agency, artist, legal, settings, django_capture_on_commit_callbacks
):
    from takedown import erasure, jobs
    from takedown.models import Job, private_storage

    case, job = _exported_in_the_background(built_case, legal, settings)
    stored = private_storage().path(jobs.dossier_path(job))
    crashed = f"{stored}.deadbeef.partial"  # what a worker killed mid-write leaves
    with open(crashed, "wb") as fh:
        fh.write(b"PK")
    cases.case_remove_urls(user=legal, case_id=case.pk, url_ids=list(case.urls.values_list("pk", flat=True)))
    case.artists.remove(artist)
    assert not case.urls.exists()
    with django_capture_on_commit_callbacks(execute=True):
        erasure.artist_erase(artist_id=artist.pk, user=legal)
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not os.path.exists(stored) and not os.path.exists(crashed)
