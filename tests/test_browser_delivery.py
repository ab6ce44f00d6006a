"""Email delivery as legal sees it, in a real browser, in English and Korean: the banner when
email goes nowhere, a refused Send that says so, and a failed delivery explained in words with
its next try, against a real (stopped) SMTP port."""

from __future__ import annotations

import socket

import pytest

from takedown import importing, notices
from takedown.models import InfringingURL
from tests.browser import (  # noqa: F401  (chromium, log_in and screenshots are fixtures)
    chromium,
    click_and_wait,
    log_in,
    messages,
    screenshots,
    shot,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def approved(agency, artist, staff, legal2, platforms, templates):
    report = importing.import_rows(
        [{"url": "https://t.me/leakchan/7", "category": "synthetic_sexual"}], agency=agency, artist=artist
    )
    assert report.created == 1
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    notices.notice_submit(notice_id=notice.pk, user=staff)
    return notices.notice_approve(notice_id=notice.pk, user=legal2)


def test_legal_sees_when_email_goes_nowhere_and_why_a_delivery_failed(
    log_in,  # noqa: F811
    screenshots,  # noqa: F811
    approved,
    legal,
    legal2,
    settings,
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    page = log_in("legal")
    assert "Email delivery is not configured" in page.inner_text("#email-not-configured")
    shot(page, "delivery-01-banner")
    page.goto(f"/admin/takedown/notice/{approved.pk}/change/")
    click_and_wait(page, "#action-send [type=submit]")
    click_and_wait(page, "#confirm-yes")
    assert any("Nothing was sent" in m for m in messages(page)), messages(page)
    assert "Approved" in page.inner_text("#notice-workflow h2")
    approved.refresh_from_db()
    assert approved.status == "approved" and approved.sent_at is None
    shot(page, "delivery-02-send-refused")

    # A mail server is configured, but it is down.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    page.reload()
    assert page.locator("#email-not-configured").count() == 0
    click_and_wait(page, "#action-send [type=submit]")
    click_and_wait(page, "#confirm-yes")
    assert any("queued for email to abuse@telegram.org" in m for m in messages(page)), messages(page)
    assert "Sending" in page.inner_text("#notice-workflow h2")
    assert page.locator("#action-send").count() == 0, "Send is offered while the delivery is in flight"
    assert notices.notice_deliver_email(notice_id=approved.pk) == "retry"  # what the worker does
    page.reload()
    error = page.inner_text("#delivery-error")
    assert f"The mail server at 127.0.0.1:{port} refused the connection." in error
    assert "Next try at" in error and "Attempt 1 of 3" in error
    assert page.locator("#action-retry").count() == 1 and page.locator("#action-send").count() == 0
    assert not InfringingURL.objects.filter(status="notified").exists()
    shot(page, "delivery-03-failed-with-next-try")

    # The same page in Korean: the state and the way forward.
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    kpage = log_in("legal2", locale="ko-KR")  # a colleague whose browser asks for Korean
    banner = kpage.inner_text("#email-not-configured")
    assert "이메일" in banner, banner
    kpage.goto(f"/admin/takedown/notice/{approved.pk}/change/")
    assert "발송 실패" in kpage.inner_text("#notice-workflow h2")
    assert kpage.locator("#action-retry").count() == 1
    shot(kpage, "delivery-04-failed-ko")
