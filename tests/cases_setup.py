"""A case as the product builds one: URLs of two accounts, real checks, a sent notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from takedown import cases, notices, rechecks, signing
from takedown.models import InfringingURL
from takedown.probing.types import ProbeResult
from tests.notices_setup import import_urls

X_URLS = ["https://twitter.com/DeepFaker99/status/1001", "https://x.com/deepfaker99/status/1002?s=20"]
TG_URLS = ["https://t.me/s/LeakChan/7", "https://t.me/leakchan/8"]


def observe(urls, *, verdict="live", http_status=200, title="", body="page"):
    """Checks written through the recheck engine's own path (claim, record), as if probed."""
    import hashlib

    ids = [u.pk for u in urls]
    InfringingURL.objects.filter(pk__in=ids).update(next_check_at=timezone.now() - timedelta(seconds=1))
    token, claimed = rechecks.claim_due(limit=len(ids), url_ids=ids, exclusive_hosts=False)
    assert sorted(claimed) == sorted(ids)
    now = timezone.now()
    results = [
        (
            u.pk,
            ProbeResult(
                url=u.normalized_url, probe_url=u.normalized_url, final_url=u.normalized_url,
                http_status=http_status, redirect_chain=[], headers={},
                body_sha256=hashlib.sha256(f"{body}{u.pk}".encode()).hexdigest(), body_bytes=10,
                truncated=False, title=title, excerpt="", verdict=verdict, reason="test", rule="status.200",
                error="", elapsed_ms=5, retry_after=None, checked_at=now,
            ),
        )
        for u in urls
    ]  # fmt: skip
    return rechecks.record_results(token, results)


def build_case(agency, artist, staff, legal, *, title="DeepFaker99 and LeakChan"):
    """URLs of an X account and a Telegram channel, checked, an X notice sent; a case of both."""
    signing.create_self_signed(agency.slug, agency.name)
    import_urls(agency, artist, X_URLS + TG_URLS)
    x_urls = list(InfringingURL.objects.filter(artist=artist, host="x.com").order_by("pk"))
    tg_urls = list(InfringingURL.objects.filter(artist=artist, host="t.me").order_by("pk"))
    observe(x_urls + tg_urls, title='DeepFaker on X: "look" / X')
    (notice,), _ = notices.notices_prepare(user=staff, url_ids=[u.pk for u in x_urls])
    notices.notice_submit(notice_id=notice.pk, user=staff)
    notices.notice_approve(notice_id=notice.pk, user=legal)
    notices.notice_send(notice_id=notice.pk, user=legal, reference="X-TIDA-12345")
    observe(x_urls, verdict="removed", http_status=404, body="gone")
    cases.accounts_link(agency_id=agency.pk)
    accounts = {str(a): a for a in agency.accounts.all()}
    case = cases.case_create(
        user=staff,
        title=title,
        account_ids=[accounts["x:user:deepfaker99"].pk, accounts["telegram:channel:leakchan"].pk],
    )
    return case, notice


@pytest.fixture
def built_case(agency, artist, platforms, templates, staff, legal):
    return build_case(agency, artist, staff, legal)
