"""Helpers for the browser tests: Debian's Chromium driven by Playwright, logins, screenshots.

Playwright's own browser download is never used (no `playwright install`): CI installs
Debian's `chromium`. Without it the browser tests are skipped on a developer's machine and
fail in CI, where a missing browser is a broken setup rather than a choice.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"  # git-ignored
PASSWORD = "correct horse battery"  # tests/conftest.py's users
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium for the browser tests.")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); browser tests skipped outside CI.")


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """One headless Chromium per test module; each user gets a fresh context (own cookies).

    Playwright's sync API keeps an asyncio loop on the main thread, and Django refuses ORM
    calls when it sees one (SynchronousOnlyOperation), although the loop only runs while a
    Playwright call is in progress, never beside the ORM. The documented way out
    (microsoft/playwright-python#439) is DJANGO_ALLOW_ASYNC_UNSAFE; it is set only while this
    module's browser is alive, so the check stays on for every other test module.
    """
    _require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed (pip install -r requirements-dev.txt).")
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def screenshots() -> Path:
    """The artefact folder, emptied of the previous run's pictures."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


def shot(page, name: str) -> Path:
    """A full-page PNG of what the user sees now, named by step."""
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def log_in(request, chromium, live_server):
    """`log_in(username)` -> a page logged in as that user, in a browser context of its own.

    The contexts are closed after the test; if the test failed, each open page is saved first
    as failed-<username>.png beside the step screenshots, to show where it stood.
    """
    failed_before = request.session.testsfailed
    pages = {}

    def _log_in(username: str, *, locale: str = "en-US"):
        page = login(chromium, live_server.url, username, locale=locale)
        pages[f"{username}-{locale}"] = page
        return page

    yield _log_in
    for username, page in pages.items():
        if request.session.testsfailed > failed_before and not page.is_closed():
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            try:
                page.screenshot(path=str(ARTIFACTS / f"failed-{username}.png"), full_page=True)
            except Exception as exc:  # a screenshot must not hide the test's own failure
                warnings.warn(f"No failure screenshot for {username}: {exc}", stacklevel=1)
        page.context.close()


def login(browser, base_url: str, username: str, *, password: str = PASSWORD, locale: str = "en-US"):
    """A page in a new browser context (own cookies) logged in as `username` through the
    admin's login form; close it with `page.context.close()`."""
    context = browser.new_context(
        base_url=base_url,
        locale=locale,
        timezone_id="Asia/Seoul",
        viewport={"width": 1600, "height": 1000},
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/admin/")
    page.wait_for_selector("#login-form")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login-form [type=submit]")
    pass_second_factor(page, username)
    page.wait_for_selector("#your-work")
    assert re.search(rf"\b{re.escape(username)}\b", page.inner_text("#user-tools"), re.I), "not logged in"
    return page


def totp_now(key: bytes) -> str:
    """The code an authenticator app shows now for this secret (django-otp's own TOTP maths)."""
    from django_otp.oath import TOTP

    return f"{TOTP(key, step=30, digits=6).token():06d}"


def pass_second_factor(page, username: str) -> None:
    """Legal reviewers and managers owe a second factor after the password: on their first
    sign-in they set up an app (the secret is read off the page, as a phone would scan it) and
    are shown their recovery codes; later they type the app's current code."""
    if "/second-factor/setup/" in page.url:
        import base64

        secret = page.inner_text("#secret").strip()
        page.fill("#id_code", totp_now(base64.b32decode(secret)))
        with page.expect_navigation():
            page.click("#setup-form [type=submit]")
        page.wait_for_selector("#recovery-codes")
        with page.expect_navigation():
            page.click("#continue")
    elif "/second-factor/" in page.url:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.fill("#id_code", totp_now(device.bin_key))
        with page.expect_navigation():
            page.click("#second-factor-form [type=submit]")


def click_and_wait(page, selector: str) -> None:
    """Click something that loads a new page and wait until that page has loaded."""
    with page.expect_navigation():
        page.click(selector)


def messages(page) -> list[str]:
    """The admin's flash messages on the current page (not the standing banners)."""
    return [m.strip() for m in page.locator("ul.messagelist li:not(#email-not-configured)").all_inner_texts()]


def wait_for_pdf_viewer(page, *, timeout_ms: int = 10_000) -> bool:
    """Wait until Chromium's built-in PDF viewer has painted a PDF framed in `page`, so that a
    screenshot shows the document rather than an empty grey box.

    The viewer is Chromium's own extension page (its markup is Chromium's, not ours): should a
    Chromium release change it, this warns and carries on instead of failing the test, whose
    assertions about the PDF are made on its bytes.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def is_viewer(frame) -> bool:
        return frame.url.startswith("chrome-extension://")

    try:
        viewer = next((f for f in page.frames if is_viewer(f)), None) or page.wait_for_event(
            "framenavigated", predicate=is_viewer, timeout=timeout_ms
        )
        viewer.wait_for_selector("viewer-thumbnail[painted] canvas", state="attached", timeout=timeout_ms)
    except PlaywrightTimeout:
        warnings.warn(
            "Chromium's PDF viewer did not show a painted page: the screenshot may show an empty frame.",
            stacklevel=2,
        )
        return False
    return True
