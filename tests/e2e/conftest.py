"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright is never asked to download a browser (`playwright install` needs the network):
it launches the system chromium through ``executable_path``. The tests are skipped, with the
reason, where Playwright or chromium is missing; CI installs both (.ci/run, pyproject).

Playwright's sync API runs an asyncio event loop in the test's thread, and Django refuses ORM
calls from a thread with a running loop (SynchronousOnlyOperation), although nothing here is
concurrent: the test thread only touches the database between browser steps, and the live
server answers in its own thread. DJANGO_ALLOW_ASYNC_UNSAFE lifts that check for exactly as
long as the browser module is open (the fixture restores it afterwards), which keeps the
tests plain synchronous code instead of rewriting them with the async API.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("BILLINGDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def login(browser: Any, live_server: Any) -> Iterator[Callable[[str, str], Any]]:
    """``login(username, password)`` → a page signed in through the real login form, in its
    own browser context (cookies), on the console."""
    contexts: list[Any] = []

    def sign_in(username: str, password: str) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/console/")
        assert "/login/" in page.url  # the console needs a signed-in agent
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/console/")
        return page

    yield sign_in
    for context in contexts:
        context.close()
