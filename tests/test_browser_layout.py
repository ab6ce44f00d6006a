"""Every main admin page, in English and Korean, at 1366×768 and 1920×1080: nothing wider than
the window, no console error, no failed request; a screenshot of each is kept in
test-artifacts/browser/ (git-ignored) for people to look at."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser import (  # noqa: F401  (chromium and log_in are fixtures)
    ARTIFACTS,
    chromium,
    click_and_wait,
    log_in,
    shot,
    wait_for_pdf_viewer,
)

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = [(1366, 768), (1920, 1080)]


def _pages(b) -> dict[str, str]:
    return {
        "home": reverse("admin:index"),
        "urls": reverse("admin:takedown_infringingurl_changelist"),
        "url": reverse("admin:takedown_infringingurl_change", args=[b["urls"][0].pk]),
        "upload": reverse("admin:takedown_infringingurl_upload"),
        "notices": reverse("admin:takedown_notice_changelist"),
        "draft": reverse("admin:takedown_notice_change", args=[b["draft"].pk]),
        "pending": reverse("admin:takedown_notice_change", args=[b["pending"].pk]),
        "sent": reverse("admin:takedown_notice_change", args=[b["sent"].pk]),
        "queue": reverse("admin:takedown_notice_queue"),
        "packet": reverse("admin:takedown_notice_packet", args=[b["sent"].pk]),
        "dashboard": reverse("admin:dashboard"),
    }


def _watch(page) -> list[str]:
    """Console errors and failed requests of this page, as they happen."""
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
    )
    # Leaving a page cancels what it still loads (net::ERR_ABORTED), Chromium's PDF viewer
    # included (chrome:// resources): not a failure of ours.
    page.on(
        "requestfailed",
        lambda r: problems.append(f"failed {r.url} ({r.failure})")
        if r.url.startswith("http") and "ERR_ABORTED" not in (r.failure or "")
        else None,
    )
    return problems


def _overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize(("username", "locale"), [("legal2", "en-US"), ("legal", "ko-KR")])
def test_each_main_page_fits_the_window_without_errors(
    log_in,  # noqa: F811
    busy_agency,
    username,
    locale,
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # both languages' pictures are kept
    page = log_in(username, locale=locale)
    problems = _watch(page)
    lang = locale[:2]
    seen = {}
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for name, path in _pages(busy_agency).items():
            page.goto(path)
            page.wait_for_load_state("load")
            if name in ("pending", "queue"):
                wait_for_pdf_viewer(page)  # the screenshot shows the document, not a grey box
            scroll, inner = _overflow(page)
            seen[(name, width)] = (scroll, inner)
            shot(page, f"layout-{lang}-{width}x{height}-{name}")
            assert page.evaluate("document.documentElement.lang") == lang, name
        # A state change asks first: its confirmation page fits as well.
        page.goto(_pages(busy_agency)["pending"])
        click_and_wait(page, "#action-approve [type=submit]")
        seen[("confirm", width)] = _overflow(page)
        shot(page, f"layout-{lang}-{width}x{height}-confirm")

    too_wide = {key: sizes for key, sizes in seen.items() if sizes[0] > sizes[1]}
    assert too_wide == {}
    assert problems == []


def test_the_url_list_shows_its_key_columns_on_one_line_at_1366(
    log_in,  # noqa: F811
    busy_agency,
):
    page = log_in("legal2")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(reverse("admin:takedown_infringingurl_changelist"))
    for column in ("short_url", "artist", "platform", "category", "status", "last_verdict", "overdue_flag"):
        box = page.locator(f"#result_list thead th.column-{column}").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1366, column
    heights = [r.bounding_box()["height"] for r in page.locator("#result_list tbody tr").all()]
    assert heights and max(heights) < 50, heights
    link = page.locator("#result_list .field-short_url a").first
    assert link.get_attribute("title").startswith("https://")
    assert page.locator("#result_list button.copy-url").count() == len(heights)
