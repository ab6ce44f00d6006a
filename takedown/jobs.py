"""Background jobs: large imports and rechecks that the admin runs outside the request.

A job is a row (its kind, owner, progress and result) and a django-q2 task that runs it. The
work is done in chunks; each chunk commits together with the job's progress, under the job's
lease (`run_token`), so that a job is never counted or imported twice:

- a worker claims a queued job (state running, a lease, a run token) and renews the lease
  after every chunk, and while a chunk of rechecks is still probing;
- a worker that dies (kill -9, a lost database connection) leaves the lease to lapse, and the
  minute tick (`jobs_sweep`) queues the job again: the next worker resumes after the last
  committed chunk; after TAKEDOWN_JOB_MAX_ATTEMPTS it fails with the reason;
- a worker that lost its lease (it was too slow, and another resumed the job) finds out at its
  next commit, which is rolled back: only one worker's chunk counts;
- the job's input rows (an uploaded file's URLs) are removed when it ends, however it ends.
"""

from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from takedown.models import Job, User

log = logging.getLogger(__name__)

# Up to this many URLs are rechecked inside the request (a few seconds at most); more become a job.
RECHECK_NOW_MAX = 10


def urls_recheck(*, user: User, url_ids: list[int], agency_id: int) -> Job | list:
    """Recheck URLs now when there are few (the outcomes), else as a background job (the Job)."""
    from takedown import rechecks

    if len(url_ids) <= RECHECK_NOW_MAX:
        return rechecks.check_batch(limit=len(url_ids) or 1, url_ids=url_ids)
    return job_start(
        kind=Job.Kind.RECHECK, user=user, agency_id=agency_id, total=len(url_ids), params={"url_ids": url_ids}
    )


def urls_import(
    *,
    user: User,
    agency,
    rows: list[dict],
    artist=None,
    source: str,
    default_category: str = "",
    default_route: str = "",
):
    """Import rows now (the ImportReport) or, past TAKEDOWN_BACKGROUND_ROWS, as a job (the Job).

    Raises importing.IntakeError for a batch that cannot be imported at all.
    """
    from django.conf import settings

    from takedown import importing

    if len(rows) > settings.TAKEDOWN_BACKGROUND_ROWS:
        return job_start(
            kind=Job.Kind.IMPORT,
            user=user,
            agency_id=agency.pk,
            total=len(rows),
            params={
                "rows": rows,
                "artist_id": artist.pk if artist else None,
                "source": source,
                "default_category": default_category,
                "default_route": default_route,
            },
        )
    return importing.import_rows(
        rows,
        agency=agency,
        artist=artist,
        default_category=default_category,
        default_route=default_route,
        source=source,
        user=user,
    )


def notice_submit_now_or_later(*, user: User, notice_id: int):
    """Submit a notice now (the Notice), or past TAKEDOWN_BACKGROUND_SUBMIT_URLS URLs as a job
    (the Job): rendering a large notice takes longer than a request should."""
    from takedown import notices
    from takedown.models import Notice
    from takedown.notices.states import check, get_notice

    notice = get_notice(notice_id, user)
    check("submit", notice, user)
    items = notice.items.count()
    if items <= settings.TAKEDOWN_BACKGROUND_SUBMIT_URLS:
        return notices.notice_submit(notice_id=notice_id, user=user)
    running = Job.objects.filter(
        kind=Job.Kind.SUBMIT, params__notice_id=notice_id, state__in=[Job.State.QUEUED, Job.State.RUNNING]
    ).first()
    if running is not None:
        return running  # already being submitted: follow that job
    assert isinstance(notice, Notice)
    return job_start(
        kind=Job.Kind.SUBMIT,
        user=user,
        agency_id=notice.agency_id,
        total=items,
        params={"notice_id": notice_id},
    )


def dossier_export_now_or_later(*, user: User, case_id: int, locale: str):
    """A case's dossier as ZIP bytes now, or past TAKEDOWN_DOSSIER_BACKGROUND_URLS URLs as a job
    (the Job) whose file waits in private storage. Raises NotAllowed, Invalid, DoesNotExist."""
    from takedown import cases, dossier, signing
    from takedown.errors import NotAllowed
    from takedown.roles import role_has

    case = cases.case_get(case_id, user)
    if not role_has(user, "export_dossier"):
        raise NotAllowed("Only legal reviewers export a case's dossier.")
    signing.signing_files(case.agency.slug)  # no certificate: say so now, not in a job
    total = case.case_urls.count()
    if total <= settings.TAKEDOWN_DOSSIER_BACKGROUND_URLS:
        import hashlib
        import io

        out = io.BytesIO()
        written = dossier.dossier_write(case=case, user=user, out=out, locale=locale)
        data = out.getvalue()
        cases.case_record_export(
            case,
            user=user,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            urls=written.urls,
            locale=locale,
        )
        return data
    return job_start(
        kind=Job.Kind.DOSSIER,
        user=user,
        agency_id=case.agency_id,
        total=total,
        params={"case_id": case.pk, "locale": locale},
    )


def job_start(*, kind: str, user: User, agency_id: int, total: int, params: dict) -> Job:
    """Record a job and queue its task after commit; the admin follows it on the job's page."""
    with transaction.atomic():
        job = Job.objects.create(kind=kind, user=user, agency_id=agency_id, total=total, params=params)
        transaction.on_commit(lambda: queue_job(job.pk))
    return job


def queue_job(job_id: int) -> None:
    from django_q.tasks import async_task

    async_task("takedown.tasks.run_job", job_id, task_name=f"job-{job_id}")


class LostLease(Exception):
    """Another worker resumed this job: this one's work stops, its open chunk is rolled back."""


class _Run:
    """One worker's hold on a job: renew the lease, commit a chunk with the progress it made."""

    def __init__(self, job: Job, token: str) -> None:
        self.job = job
        self.token = token

    def _mine(self):
        return Job.objects.filter(pk=self.job.pk, state=Job.State.RUNNING, run_token=self.token)

    def _until(self):
        return timezone.now() + timedelta(seconds=settings.TAKEDOWN_JOB_LEASE_SECONDS)

    def renew(self, done: int | None = None) -> None:
        fields = {"lease_until": self._until()}
        if done is not None:
            fields["done"] = done
        if not self._mine().update(**fields):
            raise LostLease(f"job {self.job.pk}: another worker holds it now")

    def commit(self, *, done: int, result: dict) -> None:
        """Record a chunk's progress in the transaction that holds the chunk's work."""
        if not self._mine().update(done=done, result=result, lease_until=self._until()):
            raise LostLease(f"job {self.job.pk}: another worker holds it now")

    def finish(self, **fields) -> int:
        return self._mine().update(
            lease_until=None,
            run_token="",
            finished_at=timezone.now(),
            params=_without_rows(self.job.params),
            **fields,
        )


def _without_rows(params: dict) -> dict:
    return {k: v for k, v in params.items() if k != "rows"}


def _claim(job_id: int) -> _Run | None:
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING,
        run_token=token,
        lease_until=now + timedelta(seconds=settings.TAKEDOWN_JOB_LEASE_SECONDS),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    return _Run(Job.objects.select_related("user").get(pk=job_id), token)


def job_run(*, job_id: int) -> str:
    """Run (or resume) a queued job; a second call while it runs, or once it ended, does nothing."""
    run = _claim(job_id)
    if run is None:
        return "skipped"
    job = run.job
    try:
        if job.kind == Job.Kind.IMPORT:
            result = _run_import(run)
        elif job.kind == Job.Kind.SUBMIT:
            result = _run_submit(run)
        elif job.kind == Job.Kind.DOSSIER:
            result = _run_dossier(run)
        else:
            result = _run_recheck(run)
    except LostLease:
        log.warning("job %s: lost its lease to another worker; stopping", job_id)
        return "lost"
    except Exception as exc:
        log.exception("job %s failed", job_id)
        run.finish(state=Job.State.FAILED, error=f"{type(exc).__name__}: {exc}")
        return "failed"
    with transaction.atomic():
        finished = run.finish(state=Job.State.DONE, result=result, done=job.total)
        if finished and job.kind == Job.Kind.DOSSIER:
            _record_dossier(job, result)  # with the job's end: a resumed job records it once
    if finished and job.kind == Job.Kind.DOSSIER:
        _remove_stale_partials(job)
    return "done"


def _remove_stale_partials(job: Job) -> None:
    """The files runs killed mid-write (kill -9, a lost machine) left beside the job's ZIP: litter
    holding a case's evidence. Only once the job has ended, recorded as done by the run that held
    it, so no run of it is still writing."""
    import contextlib
    import glob
    import os

    from takedown.models import private_storage

    final = private_storage().path(dossier_path(job))
    for stale in glob.glob(glob.escape(final) + ".*.partial"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(stale)


def _record_dossier(job: Job, result: dict) -> None:
    from takedown import cases
    from takedown.models import Case

    cases.case_record_export(
        Case.objects.get(pk=result["case"]),
        user=job.user,
        sha256=result["sha256"],
        size=result["bytes"],
        urls=result["urls"],
        locale=job.params.get("locale", "en"),
        job_id=job.pk,
    )


def _merge_import(total: dict, part: dict, offset: int) -> dict:
    """One import report for the whole job: counts added, row numbers counted from the file's start."""
    merged = {k: total.get(k, 0) + part.get(k, 0) for k in ("created", "duplicates", "rejected")}
    for key in ("errors", "notes"):
        shifted = [{**e, "row": e["row"] + offset} for e in part.get(key, [])]
        rows = total.get(key, []) + shifted
        if rows or key == "errors":
            merged[key] = rows
    return merged


def _run_import(run: _Run) -> dict:
    from takedown import importing
    from takedown.models import Agency, Artist

    job = run.job
    p = job.params
    rows = p["rows"]
    agency = Agency.objects.get(pk=job.agency_id)
    artist = Artist.objects.get(pk=p["artist_id"], agency_id=job.agency_id) if p.get("artist_id") else None
    result = dict(job.result or {})
    size = settings.TAKEDOWN_JOB_CHUNK_ROWS
    for start in range(job.done, len(rows), size):
        chunk = rows[start : start + size]
        with transaction.atomic():
            report = importing.import_rows(
                chunk,
                agency=agency,
                artist=artist,
                source=p.get("source", "csv"),
                user=job.user,
                default_category=p.get("default_category", ""),
                default_route=p.get("default_route", ""),
            )
            result = _merge_import(result, report.as_dict(), start)
            run.commit(done=start + len(chunk), result=result)
    return result


def _run_recheck(run: _Run) -> dict:
    from takedown import rechecks

    job = run.job
    ids = [int(i) for i in job.params["url_ids"]]
    result = dict(job.result or {"verdicts": {}})
    size = settings.TAKEDOWN_CHECK_BATCH * 4
    for start in range(job.done, len(ids), size):
        chunk = ids[start : start + size]
        counts = dict(result.get("verdicts", {}))
        unchecked: list[int] = []
        outcomes = rechecks.check_urls(
            chunk,
            progress=lambda n, s=start: run.renew(done=s + n),
            heartbeat=run.renew,
            unchecked=unchecked,
            wait_seconds=settings.TAKEDOWN_JOB_LEASE_SECONDS,
        )
        if unchecked:
            # Their host stayed busy with other runs: said, not counted as checked.
            result["not_checked"] = result.get("not_checked", 0) + len(unchecked)
        for outcome in outcomes:
            counts[outcome.verdict] = counts.get(outcome.verdict, 0) + 1
        result = {**result, "verdicts": counts}
        run.commit(done=start + len(chunk), result=result)
    return result


def _run_submit(run: _Run) -> dict:
    """Render and freeze a large notice; pre-send problems end the job with each one listed."""
    from takedown import notices
    from takedown.models import Notice

    notice_id = run.job.params["notice_id"]
    try:
        notice = notices.notice_submit(notice_id=notice_id, user=run.job.user)
    except notices.PresendFailed as exc:
        raise notices.Invalid("Not submitted: " + " ".join(exc.problems)) from None
    except notices.Conflict:
        # An earlier run of this job (its worker too slow for the lease) submitted it already.
        notice = Notice.objects.get(pk=notice_id)
        if notice.status != "pending" or notice.submitted_by_id != run.job.user_id:
            raise
    return {"notice": notice.pk, "status": notice.status, "pdf_sha256": notice.pdf_sha256}


def dossier_file_response(job: Job):
    """The stored ZIP of a finished dossier job as a download; Http404 when it is not there."""
    from django.http import FileResponse, Http404

    from takedown.models import private_storage

    storage = private_storage()
    name = dossier_path(job)
    if not storage.exists(name):
        raise Http404
    return FileResponse(
        storage.open(name, "rb"),
        as_attachment=True,
        filename=f"case-{job.params['case_id']}-dossier-job-{job.pk}.zip",
        content_type="application/zip",
    )


def dossier_path(job: Job) -> str:
    """Where a dossier job's ZIP waits, in private storage (served only through the admin)."""
    return f"dossiers/{job.agency_id}/job-{job.pk}.zip"


def _run_dossier(run: _Run) -> dict:
    """Write the dossier to a temporary file beside its place, then move it there: a half-written
    ZIP is never offered. A resumed job starts again (a dossier is one consistent snapshot)."""
    import hashlib
    import os

    from takedown import dossier
    from takedown.models import Case, private_storage

    job = run.job
    case = Case.objects.select_related("agency", "legal_owner").get(
        pk=job.params["case_id"], agency_id=job.agency_id
    )
    storage = private_storage()
    final = storage.path(dossier_path(job))
    os.makedirs(os.path.dirname(final), exist_ok=True)
    # Each run writes its own file: a worker that lost its lease never writes into the file of
    # the run that took over, and only a run still holding the lease moves its file into place.
    partial = f"{final}.{run.token}.partial"
    try:
        with open(partial, "wb") as fh, _heartbeat(run):
            result = dossier.dossier_write(
                case=case,
                user=job.user,
                out=fh,
                locale=job.params.get("locale", "en"),
                progress=lambda n: run.renew(done=n),
            )
        digest = hashlib.sha256()
        with open(partial, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        run.renew()
        os.replace(partial, final)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return {
        "case": case.pk,
        "file": dossier_path(job),
        "sha256": digest.hexdigest(),
        "bytes": os.path.getsize(final),
        "urls": result.urls,
        "checks": result.checks,
        "notices": result.notices,
    }


@contextmanager
def _heartbeat(run: _Run):
    """Renew the run's lease while a long step without progress (the report's PDF) runs."""
    stop = threading.Event()

    def beat() -> None:
        from django.db import connection

        try:
            while not stop.wait(settings.TAKEDOWN_JOB_LEASE_SECONDS / 3):
                try:
                    run.renew()
                except LostLease:
                    return
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"job-{run.job.pk}-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def jobs_sweep(*, now=None) -> dict[str, int]:
    """The minute tick's job duties: resume jobs whose worker died, re-queue lost tasks."""
    now = now or timezone.now()
    done = {"resumed": 0, "failed": 0, "requeued": 0}
    for job in Job.objects.filter(state=Job.State.RUNNING, lease_until__lt=now):
        at = f"at {job.done:,} of {job.total:,}"
        if job.attempts >= settings.TAKEDOWN_JOB_MAX_ATTEMPTS:
            note = (
                f"The worker stopped {at} on attempt {job.attempts} of {settings.TAKEDOWN_JOB_MAX_ATTEMPTS}: "
                "given up. What was done is kept; the job's input rows were removed."
            )
            moved = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, run_token=job.run_token).update(
                state=Job.State.FAILED,
                error=note,
                lease_until=None,
                run_token="",
                finished_at=now,
                params=_without_rows(job.params),
            )
            key = "failed"
        else:
            note = f"The worker stopped {at}; resumed from there (attempt {job.attempts + 1})."
            moved = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, run_token=job.run_token).update(
                state=Job.State.QUEUED, lease_until=None, run_token="", queued_at=now
            )
            key = "resumed"
            if moved:
                transaction.on_commit(lambda pk=job.pk: queue_job(pk))
        if moved:
            Job.objects.filter(pk=job.pk).update(log=_appended(job.log, now, note))
            done[key] += 1
    # Queued, but no worker took it (a lost task, a cluster that was down).
    stale = Job.objects.filter(state=Job.State.QUEUED, queued_at__lt=now - timedelta(minutes=10))
    for pk in stale.values_list("pk", flat=True):
        Job.objects.filter(pk=pk, state=Job.State.QUEUED).update(queued_at=now)
        queue_job(pk)
        done["requeued"] += 1
    return done


def _appended(log_text: str, now, line: str) -> str:
    stamp = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
    return (log_text + "\n" if log_text else "") + f"{stamp} {line}"
