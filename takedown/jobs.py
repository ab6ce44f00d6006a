"""Background jobs: large imports and rechecks that the admin runs outside the request.

A job is a row (its kind, owner, progress and result) and a django-q2 task that runs it once.
"""

from __future__ import annotations

import logging

from django.db import transaction
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


def job_start(*, kind: str, user: User, agency_id: int, total: int, params: dict) -> Job:
    """Record a job and queue its task after commit; the admin follows it on the job's page."""
    with transaction.atomic():
        job = Job.objects.create(kind=kind, user=user, agency_id=agency_id, total=total, params=params)
        transaction.on_commit(lambda: queue_job(job.pk))
    return job


def queue_job(job_id: int) -> None:
    from django_q.tasks import async_task

    async_task("takedown.tasks.run_job", job_id, task_name=f"job-{job_id}")


def job_run(*, job_id: int) -> str:
    """Run a queued job once (a second call on the same job does nothing)."""
    from takedown import importing, rechecks
    from takedown.models import Agency

    if not Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(state=Job.State.RUNNING):
        return "skipped"
    job = Job.objects.select_related("user").get(pk=job_id)

    def progress(done: int) -> None:
        Job.objects.filter(pk=job_id).update(done=done)

    try:
        if job.kind == Job.Kind.IMPORT:
            p = job.params
            artist = None
            if p.get("artist_id"):
                from takedown.models import Artist

                artist = Artist.objects.get(pk=p["artist_id"], agency_id=job.agency_id)
            report = importing.import_rows(
                p["rows"],
                agency=Agency.objects.get(pk=job.agency_id),
                artist=artist,
                source=p.get("source", "csv"),
                user=job.user,
                default_category=p.get("default_category", ""),
                default_route=p.get("default_route", ""),
                progress=progress,
            )
            result = report.as_dict()
            # The rows were only needed to run: do not keep a second copy of the data.
            Job.objects.filter(pk=job_id).update(params={k: v for k, v in p.items() if k != "rows"})
        else:
            ids = [int(i) for i in job.params["url_ids"]]
            counts: dict[str, int] = {}
            for outcome in rechecks.check_urls(ids, progress=progress):
                counts[outcome.verdict] = counts.get(outcome.verdict, 0) + 1
            result = {"verdicts": counts}
    except Exception as exc:
        log.exception("job %s failed", job_id)
        Job.objects.filter(pk=job_id).update(
            state=Job.State.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now()
        )
        return "failed"
    Job.objects.filter(pk=job_id).update(
        state=Job.State.DONE, result=result, done=job.total, finished_at=timezone.now()
    )
    return "done"
