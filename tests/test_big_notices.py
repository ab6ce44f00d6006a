"""Large drafts: split at TAKEDOWN_NOTICE_MAX_URLS per notice, and submitted in the background
(the request only queues the job) — 12,000 URLs of one artist, every notice submitted."""

from __future__ import annotations

import io

import pypdf
import pytest

from takedown import importing, jobs, notices
from takedown.models import Job, Notice

pytestmark = pytest.mark.django_db


def test_twelve_thousand_urls_become_notices_of_at_most_a_thousand_each_all_submitted(
    agency, artist, staff, platforms, templates, settings, django_capture_on_commit_callbacks
):
    rows = [{"url": f"https://t.me/leakchan/{i}", "category": "synthetic_sexual"} for i in range(1, 12_001)]
    assert importing.import_rows(rows, agency=agency, artist=artist).created == 12_000
    drafts, skipped = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert skipped == 0
    sizes = sorted(n.items.count() for n in drafts)
    assert sizes == [1_000] * 12
    held = set()
    for notice in drafts:
        urls = set(notice.items.values_list("url_id", flat=True))
        assert not urls & held, "a URL in two notices"
        held |= urls
    assert len(held) == 12_000
    # Preparing again adds nothing (every URL is held by a draft); one more URL starts a 13th.
    assert (
        importing.import_rows(
            [{"url": "https://t.me/leakchan/12001", "category": "synthetic_sexual"}],
            agency=agency,
            artist=artist,
        ).created
        == 1
    )
    more, _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert [n.items.count() for n in more] == [1]

    for notice in drafts:
        with django_capture_on_commit_callbacks(execute=False):
            job = jobs.notice_submit_now_or_later(user=staff, notice_id=notice.pk)
        assert isinstance(job, Job) and job.kind == "submit" and job.total == 1_000
        assert Notice.objects.get(pk=notice.pk).status == "draft"  # nothing rendered in the request
        assert jobs.notice_submit_now_or_later(user=staff, notice_id=notice.pk) == job  # one job, not two
        assert jobs.job_run(job_id=job.pk) == "done"
        job.refresh_from_db()
        submitted = Notice.objects.get(pk=notice.pk)
        assert submitted.status == "pending" and job.result["notice"] == notice.pk
        assert job.result["pdf_sha256"] == submitted.pdf_sha256
    # Spot-check the last PDF: every one of its thousand URLs is in it.
    reader = pypdf.PdfReader(io.BytesIO(bytes(submitted.pdf)))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    for url in submitted.items.values_list("url__normalized_url", flat=True):
        assert url in text, url
