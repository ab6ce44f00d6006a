"""Background jobs survive their worker: a killed worker's job is resumed from its last
committed chunk, nothing is imported or counted twice, and the job's input rows are removed
when it ends, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from takedown import jobs
from takedown.models import InfringingURL, Job

ROOT = Path(__file__).resolve().parent.parent


def _rows(n: int, prefix: str = "a") -> list[dict]:
    return [
        {"url": f"https://t.me/{prefix}chan/{i}", "category": "synthetic_sexual"} for i in range(1, n + 1)
    ]


def _job(agency, artist, staff, rows) -> Job:
    return Job.objects.create(
        kind=Job.Kind.IMPORT,
        user=staff,
        agency=agency,
        total=len(rows),
        params={"rows": rows, "artist_id": artist.pk, "source": "csv"},
    )


def _later(seconds: int | None = None):
    from django.conf import settings

    return timezone.now() + timedelta(seconds=(seconds or settings.TAKEDOWN_JOB_LEASE_SECONDS) + 1)


def _env() -> dict[str, str]:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        url = f"sqlite:///{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DATABASE_URL=url, PYTHONUNBUFFERED="1", TAKEDOWN_JOB_CHUNK_ROWS="2000")
    return env


def _kill_worker_when(job: Job, ready, stalled: str, env: dict | None = None, every: float = 0.05) -> None:
    """Run the job in a worker process of its own and kill it (kill -9) as soon as `ready()`."""
    code = f"from takedown import jobs; jobs.job_run(job_id={job.pk})"
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env={**_env(), **(env or {})}
    )
    try:
        deadline = time.monotonic() + 120
        while not ready():
            assert worker.poll() is None, "the worker ended before it could be killed"
            assert time.monotonic() < deadline, f"the worker {stalled}"
            time.sleep(every)
        worker.send_signal(signal.SIGKILL)  # kill -9, mid-work
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_mid_import_is_resumed_and_imports_each_row_once(
    agency, artist, staff, platforms, settings
):
    if connection.vendor == "sqlite" and ":memory:" in str(connection.settings_dict["NAME"]):
        pytest.skip("the worker process needs a database file it can open")
    rows = _rows(30_000)
    job = _job(agency, artist, staff, rows)
    _kill_worker_when(job, lambda: Job.objects.get(pk=job.pk).done >= 6_000, "made no progress")
    # Read the progress and the rows in one statement (one snapshot): the killed worker's last
    # COMMIT may still be landing on the server.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT state, done, (SELECT count(*) FROM {InfringingURL._meta.db_table}) "
            f"FROM {Job._meta.db_table} WHERE id = %s",
            [job.pk],
        )
        state, stopped_at, stored = cursor.fetchone()
    assert state == "running" and 6_000 <= stopped_at < 30_000
    assert stored == stopped_at, "a chunk's rows and its progress commit together"
    assert jobs.job_run(job_id=job.pk) == "skipped"  # django-q's retry: the lease still holds
    assert jobs.jobs_sweep() == {"resumed": 0, "failed": 0, "requeued": 0}
    assert jobs.jobs_sweep(now=_later())["resumed"] == 1
    job.refresh_from_db()
    assert job.state == "queued" and "resumed from there (attempt 2)" in job.log
    settings.TAKEDOWN_JOB_CHUNK_ROWS = 2000
    assert jobs.job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert job.state == "done" and job.done == 30_000 and job.attempts == 2
    assert InfringingURL.objects.count() == 30_000
    assert job.result["created"] == 30_000 and job.result["duplicates"] == 0
    assert "rows" not in job.params, "the victims' URLs stay in the job after it ended"


@pytest.mark.django_db
def test_a_job_that_keeps_dying_is_given_up_with_its_reason_and_its_rows_removed(
    agency, artist, staff, platforms, settings, monkeypatch
):
    from takedown import importing

    settings.TAKEDOWN_JOB_CHUNK_ROWS = 100
    settings.TAKEDOWN_JOB_MAX_ATTEMPTS = 2
    job = _job(agency, artist, staff, _rows(500))
    real = importing.import_rows
    chunks = {"n": 0}

    def dies_after_two_chunks(*args, **kwargs):
        chunks["n"] += 1
        if chunks["n"] > 2:
            raise KeyboardInterrupt  # the process is gone: nothing below it runs
        return real(*args, **kwargs)

    monkeypatch.setattr(importing, "import_rows", dies_after_two_chunks)
    expected = [{"resumed": 1, "failed": 0, "requeued": 0}, {"resumed": 0, "failed": 1, "requeued": 0}]
    for swept in expected:
        chunks["n"] = 0
        with pytest.raises(KeyboardInterrupt):
            jobs.job_run(job_id=job.pk)
        assert Job.objects.get(pk=job.pk).state == "running"
        assert jobs.jobs_sweep(now=_later()) == swept
    job.refresh_from_db()
    assert job.state == "failed"
    assert "given up" in job.error and "at 400 of 500" in job.error, job.error
    assert "rows" not in job.params
    assert InfringingURL.objects.count() == 400  # what was done is kept, once


@pytest.mark.django_db
def test_a_worker_that_lost_its_lease_commits_nothing(agency, artist, staff, platforms, settings):
    settings.TAKEDOWN_JOB_CHUNK_ROWS = 100
    job = _job(agency, artist, staff, _rows(300))
    slow = jobs._claim(job.pk)  # this worker stalls past its lease...
    assert jobs.jobs_sweep(now=_later())["resumed"] == 1
    assert jobs.job_run(job_id=job.pk) == "done"  # ...another resumes and finishes the job
    with pytest.raises(jobs.LostLease):
        slow.commit(done=100, result={"created": 100})
    job.refresh_from_db()
    assert job.state == "done" and job.result["created"] == 300


@pytest.mark.django_db
def test_a_failing_job_removes_its_rows_and_says_why(agency, artist, staff, platforms):
    job = _job(agency, artist, staff, _rows(10))
    job.params["artist_id"] = 999_999  # the artist was deleted meanwhile
    job.save()
    assert jobs.job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.state == "failed" and "DoesNotExist" in job.error
    assert "rows" not in job.params and job.params["source"] == "csv"


def _dossier_job(agency, artist, legal, count: int, *, locale: str):
    """A case of `count` URLs, the agency's signing certificate and a queued dossier job for it;
    returns the case, the job and where its ZIP goes."""
    from takedown import cases, importing, signing
    from takedown.models import private_storage

    signing.create_self_signed(agency.slug, agency.name)
    importing.import_rows(_rows(count, "d"), agency=agency, artist=artist)
    case = cases.case_create(
        user=legal, title="Dossier", url_ids=list(InfringingURL.objects.values_list("pk", flat=True))
    )
    job = Job.objects.create(
        kind=Job.Kind.DOSSIER,
        user=legal,
        agency=agency,
        total=count,
        params={"case_id": case.pk, "locale": locale},
    )
    return case, job, private_storage().path(jobs.dossier_path(job))


@pytest.mark.django_db(transaction=True)
def test_a_dossier_whose_worker_is_killed_mid_write_is_written_once_by_the_next_run(
    agency, artist, legal, platforms, settings
):
    import glob

    from takedown.dossier_verify import verify_dossier
    from takedown.models import CaseEvent

    if connection.vendor == "sqlite" and ":memory:" in str(connection.settings_dict["NAME"]):
        pytest.skip("the worker process needs a database file it can open")
    case, job, final = _dossier_job(agency, artist, legal, 300, locale="ko")
    _kill_worker_when(
        # Once the worker has written part of the ZIP.
        job,
        lambda: [p for p in glob.glob(glob.escape(final) + ".*.partial") if os.path.getsize(p)],
        "never started writing",
        env={"TAKEDOWN_PRIVATE_DIR": str(settings.TAKEDOWN_PRIVATE_DIR)},
        every=0.005,
    )
    # Killed mid-write: no ZIP offered, no export on the case's timeline, the job still running.
    left = glob.glob(glob.escape(final) + ".*.partial")
    assert len(left) == 1 and not os.path.exists(final)
    assert Job.objects.get(pk=job.pk).state == "running"
    assert not CaseEvent.objects.filter(case=case, kind="dossier_exported").exists()

    assert jobs.jobs_sweep(now=_later())["resumed"] == 1
    assert jobs.job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert job.state == "done" and job.attempts == 2
    with open(final, "rb") as fh:
        written = fh.read()
    assert verify_dossier(written, database=True).ok
    (exported,) = CaseEvent.objects.filter(case=case, kind="dossier_exported")
    assert exported.data["sha256"] == job.result["sha256"] and exported.data["urls"] == 300
    # The killed run's half-written file went with the job's success.
    assert glob.glob(glob.escape(final) + ".*.partial") == []


@pytest.mark.django_db(transaction=True)
def test_a_run_that_lost_its_job_mid_write_leaves_the_new_runs_file_alone(
    agency, artist, legal, platforms, monkeypatch, settings
):
    """Run A renews its lease, then stalls longer than the lease: the sweep hands the job to run
    B, which starts writing. A then moves its own file into place; B's half-written file must
    survive A, and B ends the job with one export on the case's timeline."""
    import glob
    import threading

    from takedown import dossier
    from takedown.dossier_verify import verify_dossier
    from takedown.models import CaseEvent

    case, job, final = _dossier_job(agency, artist, legal, 20, locale="en")
    run_a = jobs._claim(job.pk)
    real_claim, real_renew, real_write = jobs._claim, jobs._Run.renew, dossier.dossier_write
    claims = iter([run_a])
    monkeypatch.setattr(jobs, "_claim", lambda job_id: next(claims, None) or real_claim(job_id))
    b_writing, b_may_go, answers, stalled = threading.Event(), threading.Event(), {}, []

    def renew(self, done=None):
        real_renew(self, done)
        if (
            self.token == run_a.token
            and done is None
            and not stalled
            and threading.current_thread() is threading.main_thread()
        ):
            stalled.append(True)  # A's last renewal before its move; now it stalls past its lease
            assert jobs.jobs_sweep(now=_later())["resumed"] == 1

            def run_b():
                try:
                    answers["b"] = jobs.job_run(job_id=job.pk)
                finally:
                    connection.close()

            threading.Thread(target=run_b).start()
            assert b_writing.wait(60)

    def write(*, out, **kwargs):
        if stalled:  # run B: part of its ZIP is on disk when A wakes up
            out.write(b"PK")
            out.flush()
            b_writing.set()
            assert b_may_go.wait(60)
        return real_write(out=out, **kwargs)

    monkeypatch.setattr(jobs._Run, "renew", renew)
    monkeypatch.setattr(dossier, "dossier_write", write)
    jobs.job_run(job_id=job.pk)  # run A
    assert len(glob.glob(glob.escape(final) + ".*.partial")) == 1, "run B's file went with run A"
    assert not CaseEvent.objects.filter(case=case, kind="dossier_exported").exists()  # A lost the job
    b_may_go.set()
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(60)
    job.refresh_from_db()
    assert answers["b"] == "done" and job.state == "done"
    assert CaseEvent.objects.filter(case=case, kind="dossier_exported").count() == 1
    with open(final, "rb") as fh:
        assert verify_dossier(fh.read(), database=True).ok
    assert glob.glob(glob.escape(final) + ".*.partial") == []
