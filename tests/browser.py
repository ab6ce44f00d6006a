"""Helpers for the browser tests: Debian's Chromium driven by Playwright, logins, screenshots.

Playwright's own browser download is never used (no `playwright install`): CI installs
Debian's `chromium`. Without it the browser tests are skipped on a developer's machine and
fail in CI, where a missing browser is a broken setup rather than a choice.
"""

from __future__ import annotations

import os
import re
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


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    """One headless Chromium for the session; each user gets a fresh context (own cookies)."""
    _require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed (pip install -r requirements-dev.txt).")
    with sync_playwright() as p:
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


def login(browser, base_url: str, username: str, *, password: str = PASSWORD):
    """A new browser context for `username`, logged in through the admin's login form."""
    context = browser.new_context(
        base_url=base_url, locale="en-US", timezone_id="Asia/Seoul", viewport={"width": 1280, "height": 900},
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
    page.wait_for_selector("#your-work")
    assert re.search(rf"\b{re.escape(username)}\b", page.inner_text("#user-tools"), re.I), "not logged in"
    return context, page


def click_and_wait(page, selector: str) -> None:
    """Click something that loads a new page and wait until that page has loaded."""
    with page.expect_navigation():
        page.click(selector)


def messages(page) -> list[str]:
    """The admin's flash messages on the current page."""
    return [m.strip() for m in page.locator("ul.messagelist li").all_inner_texts()]
