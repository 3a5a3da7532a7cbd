"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright is never asked to download a browser (`playwright install` needs the network):
it launches the system chromium through ``executable_path``. Locally the tests are skipped, with
the reason and how to enable them, where Playwright or chromium is missing; under CI (``CI`` set)
a missing browser is a failure, so a green CI always means the browser tests ran.

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


ENABLE_HINT = (
    "install Debian's chromium (apt-get install chromium) and the dev extra "
    "(pip install -e '.[dev]'), or point BILLINGDESK_CHROMIUM at a chromium binary"
)


def _unavailable(reason: str) -> None:
    """Skip locally, fail under CI: CI must never pass without having run the browser."""
    message = f"browser tests cannot run: {reason}; {ENABLE_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        import playwright.sync_api as sync_api
    except ImportError:
        _unavailable("Playwright is not installed")
    if not Path(CHROMIUM).exists():
        _unavailable(f"no chromium at {CHROMIUM}")
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


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say plainly, at the end of `make test`, that the browser tests did not run."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "browser tests cannot run" in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"NOTE: {len(skipped)} browser tests were skipped: {ENABLE_HINT}.", yellow=True
        )
