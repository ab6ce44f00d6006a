"""The whole loop in a real browser: staff upload and prepare, legal approves and sends, the
recheck confirms a removal against a real HTTP server, and the manager sees it and exports it.

Headless Debian Chromium (Playwright) against pytest-django's live server on the test database
(SQLite, and PostgreSQL in the second run). The "platform" is a loopback HTTP server standing
in for a public host name (TAKEDOWN_PROBE_RESOLVE pins clips.example.net to 127.0.0.1), so the
URLs pass intake exactly as a real platform's would. Each step leaves a full-page screenshot
under test-artifacts/browser/.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db.models import F

from tests.browser import (  # noqa: F401  (chromium, log_in and screenshots are fixtures)
    chromium,
    click_and_wait,
    log_in,
    messages,
    screenshots,
    shot,
    wait_for_pdf_viewer,
)
from tests.sites import Answer, Site

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "clips.example.net"


@pytest.fixture
def clipsite(settings):
    """A web-form platform whose pages are served by a loopback server the test controls."""
    from takedown.models import Platform

    with Site() as site:
        settings.TAKEDOWN_PROBE_RESOLVE = {HOST: ["127.0.0.1"]}
        settings.TAKEDOWN_PROBE_ALLOW_LOOPBACK = True
        settings.TAKEDOWN_PROBE_EXTRA_PORTS = [site.port]
        settings.TAKEDOWN_PROBE_TIMEOUT = 5
        Platform.objects.create(
            slug="clipsite",
            name="Clip site",
            hosts=[HOST],
            channel_kind="webform",
            channel_url=f"https://{HOST}/report",
            default_route="platform_policy",
        )
        yield site


def _url(site: Site, n: int) -> str:
    return f"http://{HOST}:{site.port}/v/{n}"


def _statuses(page) -> dict[str, str]:
    """URL -> status as the URL list shows them."""
    rows = page.locator("#result_list tbody tr").all()
    return {
        r.locator(".field-short_url a").inner_text(): r.locator(".field-status").inner_text() for r in rows
    }


def test_the_whole_loop_in_a_browser(
    log_in,  # noqa: F811  (fixtures imported from tests.browser)
    screenshots,  # noqa: F811
    clipsite,
    staff,
    legal,
    manager,
    artist,
    templates,
):
    good = [_url(clipsite, n) for n in (1, 2, 3)]
    for n in (1, 2, 3):
        clipsite.answers[f"/v/{n}"] = Answer(200, f"<title>Clip {n}</title><p>a fictional clip</p>")
    upload = "\n".join(
        [
            "url,category,note",
            f"{good[0]},synthetic_sexual,found by a fan tip",
            f"{good[1]},synthetic_sexual,",
            "http://10.0.0.5/x,synthetic_sexual,a private address",
            f"{good[2]},synthetic_sexual,",
        ]
    ).encode()

    # 1. Staff: log in, upload the CSV, prepare notices, submit the draft. -------------------
    page = log_in("staff")
    page.get_by_role("link", name="Infringing URLs", exact=True).first.click()
    page.wait_for_selector("#changelist")
    click_and_wait(page, "text=Upload CSV")
    page.select_option("#id_artist", value=str(artist.pk))
    page.set_input_files("#id_file", files=[{"name": "urls.csv", "mimeType": "text/csv", "buffer": upload}])
    click_and_wait(page, "#upload-form [type=submit]")
    report = page.locator("#import-report")
    assert report.locator(".created").inner_text() == "3 created"
    assert report.locator(".rejected").inner_text() == "1 rejected"
    (row,) = page.locator("#import-errors tbody tr").all()
    cells = row.locator("td").all_inner_texts()
    assert cells[:3] == ["3", "4", "url"]  # row 3 of the data, line 4 of the file, the url field
    assert "10.0.0.5 is not a public IP address" in cells[3]
    shot(page, "01-staff-upload-report")

    page.locator(".breadcrumbs").get_by_role("link", name="Infringing URLs").click()
    page.wait_for_selector("#result_list")
    listed = page.locator("#result_list tbody tr").all_inner_texts()
    assert len(listed) == 3
    for url in good:
        assert any(url in line for line in listed), url
    assert not any("10.0.0.5" in line for line in listed)
    shot(page, "02-staff-url-list")

    page.check("#action-toggle")
    page.select_option("select[name=action]", "prepare_notices")
    click_and_wait(page, "button[name=index]")
    (done,) = [m for m in messages(page) if m.startswith("Draft notices ready")]
    assert "Clip site" in done
    shot(page, "03-staff-notices-prepared")

    page.goto("/admin/")
    click_and_wait(page, "#work-drafts a")
    click_and_wait(page, "#result_list tbody tr th a")
    assert page.locator("#presend-problems").count() == 0
    assert "Draft" in page.inner_text("#notice-workflow h2")
    notice_path = urlsplit(page.url).path
    shot(page, "04-staff-draft-notice")
    click_and_wait(page, "#action-submit [type=submit]")
    # Every state change asks first, saying what will happen.
    assert "for legal review?" in page.inner_text("#confirm-what")
    click_and_wait(page, "#confirm-yes")
    assert any(m.endswith("Pending review.") for m in messages(page)), messages(page)
    assert "Pending review" in page.inner_text("#notice-workflow h2")
    shot(page, "05-staff-submitted-for-review")

    # 2. Legal: the approval queue with the PDF inline, approve, send through the packet. -----
    lpage = log_in("legal")
    lpage.get_by_role("link", name="Notices", exact=True).first.click()
    lpage.wait_for_selector("#changelist")
    click_and_wait(lpage, "#queue-link")
    (item,) = lpage.locator(".queue-item").all()
    assert "Luna Kang" in item.inner_text() and "Clip site" in item.inner_text()
    frame = item.locator("iframe")
    pdf_src = frame.get_attribute("src")
    pdf = lpage.request.get(pdf_src)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    assert item.locator("code").inner_text().rstrip("…") in pdf.headers["x-content-sha256"]
    wait_for_pdf_viewer(lpage)
    shot(lpage, "06-legal-approval-queue")
    click_and_wait(lpage, ".queue-item [name=_approve]")
    click_and_wait(lpage, "#confirm-yes")
    assert any(m.endswith("Approved.") for m in messages(lpage)), messages(lpage)
    assert lpage.locator(".queue-item").count() == 0
    # The queue offers the next step: this web-form notice's packet.
    assert "/packet/" in lpage.get_attribute("#next-step-link", "href")
    shot(lpage, "07-legal-approved")

    lpage.goto("/admin/")
    click_and_wait(lpage, "#work-approved a")
    click_and_wait(lpage, "#result_list tbody tr th a")
    click_and_wait(lpage, "text=Submission packet")
    assert lpage.inner_text("#form-link") == f"https://{HOST}/report"
    assert lpage.input_value("#packet-urls").split("\n") == good
    assert "Luna Kang" in lpage.input_value("#packet-text")
    lpage.fill("input[name=reference]", "CLIP-2026-0042")
    shot(lpage, "08-legal-submission-packet")
    click_and_wait(lpage, "[name=_send]")
    assert "deadline starts" in lpage.inner_text("#confirm-what")
    click_and_wait(lpage, "#confirm-yes")
    assert urlsplit(lpage.url).path == notice_path
    said = "sent: the web form submission is recorded (reference CLIP-2026-0042)."
    assert any(m.endswith(said) for m in messages(lpage)), messages(lpage)
    timeline = lpage.locator("#events-group tbody tr.has_original").all_inner_texts()
    steps = [("Draft", "staff"), ("Pending review", "staff"), ("Approved", "legal"), ("Sent", "legal")]
    assert len(timeline) == len(steps), timeline
    for line, (status, actor) in zip(timeline, steps, strict=True):
        assert status in line and actor in line, (line, status, actor)
    assert "CLIP-2026-0042" in timeline[-1]
    shot(lpage, "09-legal-notice-timeline")

    # 3. The recheck: the platform now answers 404 for one URL; two checks confirm it. --------
    from takedown.models import InfringingURL

    del clipsite.answers["/v/2"]
    page.locator("#nav-sidebar").get_by_role("link", name="Infringing URLs").click()
    page.wait_for_selector("#result_list")
    for attempt, expected in ((1, "Notified"), (2, "Removed")):
        page.check("#action-toggle")
        page.select_option("select[name=action]", "recheck_now")
        click_and_wait(page, "button[name=index]")
        (checked,) = [m for m in messages(page) if m.startswith("Checked 3 URL(s)")]
        gone = InfringingURL.objects.get(url=good[1]).pk  # ids differ per database: ask
        assert checked.count(": Live") == 2 and checked.count(f"#{gone}: Removed") == 1, checked
        assert _statuses(page) == {good[0]: "Notified", good[1]: expected, good[2]: "Notified"}
        shot(page, f"1{attempt - 1}-staff-recheck-{attempt}")
        # A removal is confirmed only by a check TAKEDOWN_CONFIRM_MIN_MINUTES after the first
        # sighting: let that time pass before the second click.
        later = timedelta(minutes=settings.TAKEDOWN_CONFIRM_MIN_MINUTES + 1)
        InfringingURL.objects.filter(streak_count__gt=0).update(
            streak_since=F("streak_since") - later, notified_at=F("notified_at") - later
        )
    assert clipsite.hits["/v/2"] == 2
    click_and_wait(page, f"#result_list a:text-is('{good[1]}')")
    assert page.inner_text(".field-status .readonly") == "Removed"
    removed_at = page.inner_text(".field-removed_at .readonly")
    assert re.search(r"\d", removed_at), removed_at
    checks = page.locator("#checks-group tbody tr.has_original").all_inner_texts()
    assert len(checks) == 2 and all("removed" in c and "404" in c for c in checks), checks
    shot(page, "12-staff-url-removed")

    # 4. Manager: the dashboard shows the removal and its time; the CSV export downloads. -----
    mpage = log_in("manager")
    click_and_wait(mpage, "#dashboard-link")
    assert int(mpage.inner_text("#fig-removed strong")) >= 1
    assert int(mpage.inner_text("#fig-notified strong")) == 3
    median = mpage.inner_text("#fig-median strong")
    assert re.fullmatch(r"< 1 min|\d+ min|\d+\.\d h|\d+\.\d d", median), median
    platform_row = mpage.locator("#by-platform tbody tr", has_text="Clip site").inner_text()
    assert "33%" in platform_row, platform_row
    shot(mpage, "13-manager-dashboard")
    with mpage.expect_download() as info:
        mpage.click("#dashboard-export")
    download = info.value
    assert download.suggested_filename.startswith("takedown-urls-") and download.suggested_filename.endswith(
        ".csv"
    )
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = {r["normalized_url"]: r for r in csv.DictReader(io.StringIO(text))}
    assert set(rows) == set(good)
    gone = rows[good[1]]
    assert gone["status"] == "removed" and gone["removed_at"] and float(gone["hours_to_removal"]) >= 0, gone
    assert gone["platform"] == "Clip site" and gone["artist"] == "Luna Kang"
    assert {rows[u]["status"] for u in (good[0], good[2])} == {"notified"}
