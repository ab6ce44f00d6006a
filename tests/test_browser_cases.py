"""Legal opens a case in a real browser, takes it on, exports its dossier and downloads it."""

from __future__ import annotations

import pytest

from takedown.dossier_verify import verify_dossier
from takedown.models import Case
from tests.browser import (  # noqa: F401  (chromium, log_in and screenshots are fixtures)
    chromium,
    click_and_wait,
    log_in,
    screenshots,
    shot,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_legal_opens_a_case_exports_its_dossier_and_downloads_it(
    log_in,  # noqa: F811
    screenshots,  # noqa: F811
    built_case,
    legal,
):
    case, _notice = built_case
    page = log_in("legal", locale="ko-KR")
    page.goto("/admin/takedown/case/")
    page.click(f"text={case.title}")
    page.wait_for_selector("#case-actions")
    assert page.locator("#case-urls tr").count() == 5  # a header and the four URLs
    shot(page, "cases-01-proposed")
    click_and_wait(page, "#case-take button")
    case.refresh_from_db()
    assert case.status == "open" and case.legal_owner == legal
    page.select_option("#case-export select[name=locale]", "ko")
    with page.expect_download() as info:
        page.click("#export-dossier")
    download = info.value
    path = download.path()
    assert download.suggested_filename.startswith(f"case-{case.pk}-dossier-")
    data = open(path, "rb").read()
    result = verify_dossier(data, database=True)
    assert result.ok, result.problems
    shot(page, "cases-02-exported")
    assert Case.objects.get(pk=case.pk).events.filter(kind="taken").exists()
