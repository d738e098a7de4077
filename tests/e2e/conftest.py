"""Browser test infrastructure: Debian's Chromium driven by Playwright, screenshots kept.

Playwright never downloads a browser here: it launches /usr/bin/chromium
(`apt-get install chromium`, done by .ci/run). Without it the browser tests
are skipped with a reason, except in CI (CI set), where they must run.
Screenshots go to artifacts/screenshots/ (git-ignored; CI keeps them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def screenshots() -> Path:
    """The directory screenshots are saved to, for CI to keep."""
    path = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def chromium_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh page in headless Chromium, closed after the test."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: /usr/bin/chromium is missing")
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the test's own
    # database calls happen before and after browser steps, never concurrently.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en", accept_downloads=True
        )
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            # While Playwright runs, Django's per-context connection differs from
            # the one the test database flush uses afterwards: close it, so that
            # no session is left open on the test database.
            connection.close()
    _let_the_flush_through()


def _let_the_flush_through() -> None:
    """Switch triggers off on the connection the transactional flush will use.

    tests/conftest.py does this as teardown starts, but then Playwright's
    connection was the current one; the flush runs on another.
    """
    if connection.vendor != "postgresql":
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


@pytest.fixture
def seeded_site(transactional_db: None, settings: Any) -> None:
    """The seed data set and the demo accounts, committed so the live server sees them."""
    from django.core.management import call_command

    fixtures = sorted(str(path) for path in (Path(settings.BASE_DIR) / "fixtures").glob("*.json"))
    call_command("loaddata", *fixtures, verbosity=0)
    settings.DEBUG = True  # the demo accounts are refused otherwise
    call_command("create_demo_users", verbosity=0)
    settings.DEBUG = False
