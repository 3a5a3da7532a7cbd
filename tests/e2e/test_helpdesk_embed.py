"""The panel inside a helpdesk-like host page, in a real browser (Debian's chromium).

A host page is served from another origin (a tiny ``http.server`` on 127.0.0.1, while the live
server answers on ``localhost``) and frames billingdesk's generic signed iframe URL (and the
Zammad and FreeScout sidebars, which are that URL), as a helpdesk would. The handshake runs
through the real flow: the signed URL is verified, the page gets its launch token, and its
script fetches the panel with a Bearer header. A host origin that is not configured is refused
by CSP ``frame-ancestors``; a tampered URL gets no data.

The ``browser`` fixture (system chromium through Playwright) comes from tests/e2e/conftest.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.urls import reverse

from billingdesk.helpdesks.iframe.verification import signed_query
from billingdesk.helpdesks.models import HelpdeskConnection
from billingdesk.panel.tests.factories import agent, build_shop

pytestmark = pytest.mark.django_db(transaction=True)


class HostPage:
    """A helpdesk stand-in: serves one HTML page (set ``html``) from its own origin."""

    def __init__(self) -> None:
        self.html = ""
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                data = host.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hosts() -> Iterator[tuple[HostPage, HostPage]]:
    """The configured helpdesk host, and a stranger's page on another origin."""
    helpdesk, stranger = HostPage(), HostPage()
    yield helpdesk, stranger
    helpdesk.close()
    stranger.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def frame_page(url: str) -> str:
    return (
        "<!doctype html><html><body><h1>Ticket #123</h1>"
        f'<iframe id="sidebar" src="{url}" width="350" height="800"></iframe></body></html>'
    )


def sidebar(page: Any) -> Any:
    handle = page.wait_for_selector("#sidebar")
    return handle.content_frame()


# Zammad and FreeScout show the panel through the same signed URL, on their own addresses.
@pytest.mark.parametrize("kind", ["iframe", "zammad", "freescout"])
def test_panel_inside_a_helpdesk_host(
    live_server: Any, hosts: tuple[HostPage, HostPage], page: Any, kind: str
) -> None:
    helpdesk, stranger = hosts
    shop = build_shop()
    conn = HelpdeskConnection.objects.create(
        name="host",
        kind=kind,
        secrets={"signing_secret": "browser-s3cret"},
        allowed_frame_origins=[helpdesk.origin],
    )
    entry = live_server.url + reverse(f"helpdesks:{kind}", kwargs={"connection_id": conn.pk})
    signed = f"{entry}?{signed_query('browser-s3cret', email='ana@example.com')}"

    # Given the helpdesk frames a signed URL, the panel shows the customer's billing.
    helpdesk.html = frame_page(signed)
    page.goto(helpdesk.origin + "/ticket/123")
    frame = sidebar(page)
    frame.wait_for_selector("#charges")
    text = frame.inner_text("#bd-panel")
    assert "Ana Lopez" in text
    assert "€50.00" in text and "€80.00" in text
    assert frame.is_visible("#bd-read-only")  # no agent vouched for: read-only
    assert frame.locator(f"[data-charge='{shop.charge.gateway_id}']").count() == 1

    # A tampered URL (another customer) gets no data, only the reason.
    helpdesk.html = frame_page(signed.replace("ana%40", "eve%40"))
    page.goto(helpdesk.origin + "/ticket/124")
    frame = sidebar(page)
    frame.wait_for_selector("#bd-refused")
    assert "signature does not match" in frame.inner_text("body")
    assert frame.locator("#bd-panel").count() == 0

    # A page on an origin that is not configured cannot frame the panel at all (CSP).
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text))
    stranger.html = frame_page(signed)
    page.goto(stranger.origin + "/phish")
    page.wait_for_timeout(1500)
    frame = sidebar(page)
    assert frame is None or frame.locator("#bd-panel").count() == 0
    assert any("frame-ancestors" in v for v in violations)


CHATWOOT_HOST = """<!doctype html><html><body><h1>Conversation 7</h1>
<iframe id="sidebar" src="{url}" width="350" height="800"></iframe>
<script>
  // What Chatwoot's Frame.vue does: answer the app's fetch-info request with the context.
  window.addEventListener("message", function (e) {{
    if (e.data !== "chatwoot-dashboard-app:fetch-info") return;
    document.getElementById("sidebar").contentWindow.postMessage(JSON.stringify({{
      event: "appContext",
      data: {{contact: {{email: "ana@example.com"}}, conversation: {{id: 7}},
             currentAgent: {{id: 1, email: "sam@acme.example"}}}}
    }}), "*");
  }});
</script></body></html>"""


def test_chatwoot_hint_shows_data_only_after_signing_in(
    live_server: Any, hosts: tuple[HostPage, HostPage], page: Any
) -> None:
    chatwoot, _ = hosts
    build_shop()
    agent("agent", "sam", "correct horse battery staple")
    conn = HelpdeskConnection.objects.create(
        name="cw", kind="chatwoot", settings={"base_url": chatwoot.origin}
    )
    entry = live_server.url + reverse("helpdesks:chatwoot", kwargs={"connection_id": conn.pk})
    chatwoot.html = CHATWOOT_HOST.format(url=entry)
    page.goto(chatwoot.origin + "/app/accounts/1/conversations/7")
    frame = sidebar(page)

    # The unsigned context is only a hint: no billing data, an invitation to sign in.
    frame.wait_for_selector("#bd-signin-button")
    assert "Sign in to billingdesk" in frame.inner_text("#bd-status")
    assert frame.locator("#charges").count() == 0

    # The agent signs in once, in a first-party popup; the frame then shows the hinted contact.
    with page.expect_popup() as opened:
        frame.click("#bd-signin-button")
    popup = opened.value
    popup.wait_for_selector("input[name=username]")
    popup.fill("input[name=username]", "sam")
    popup.fill("input[name=password]", "correct horse battery staple")
    popup.click("button[type=submit]")
    frame.wait_for_selector("#charges")
    assert "Ana Lopez" in frame.inner_text("#bd-panel")
    assert "as sam" in frame.inner_text("#bd-panel")

    # Actions now carry the agent's identity: the panel's refund opens first-party, on its
    # confirm step (all of its fields have defaults).
    with page.expect_popup() as opened:
        frame.locator("button[data-action=refund]").first.click()
    action = opened.value
    action.wait_for_selector("[data-step=confirm]")
    assert "/console/actions/refund/charge/" in action.url
