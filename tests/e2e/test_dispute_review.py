"""The dispute review screen in a real browser (issue 21 #3): the packet and what was left
out, the cover text edited, the final-submission confirm refused when skipped, then the
evidence submitted once although the button is double-clicked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.disputes.models import RefundPolicy
from billingdesk.disputes.tests.conftest import Case, build_case
from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake
from tests.e2e.test_portal import documents_flushable  # noqa: F401  (a fixture)
from tests.fakes.helpdesks import ZendeskFake

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def case(live_server: Any, documents_flushable: None) -> Iterator[Case]:  # noqa: F811
    with StripeFake() as stripe, ZendeskFake(email="bot@acme.example", token="zd-token") as zd:
        built = build_case(stripe, zd)  # type: ignore[arg-type]
        RefundPolicy.objects.all().delete()  # the packet goes without it, and says so
        yield built


def test_review_edit_confirm_and_submit_once(
    case: Case, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    page = login("alice", "pw-not-used")
    page.goto(f"{live_server.url}/console/disputes/{case.dispute.pk}/")

    assert "Answer within 5 days" in page.inner_text("#dispute-summary")
    assert "Messages with the customer" in page.inner_text("#packet-sections")
    assert "No refund policy is configured" in page.inner_text("#packet-notes")
    assert page.input_value("#cover-text").startswith("The cardholder authorised")

    page.fill("#cover-text", "Ada bought the Pro plan herself; her messages prove it.")
    page.click("#submit-evidence")  # without the confirm box
    assert "submission is final" in page.inner_text("#dispute-error")
    assert case.stripe.calls("POST", "/v1/disputes") == 0
    assert page.input_value("#cover-text").startswith("Ada bought")  # the edit is kept

    page.check("#confirm-final")
    page.dblclick("#submit-evidence")
    page.wait_for_selector(".messages li")
    # The page shows the answer to the second click: done, or — when the first was still at
    # Stripe — that it is being processed and must not be sent again. Then it is done.
    said = page.inner_text(".messages")
    assert "Done" in said or "do not submit it again" in said, said
    for _ in range(50):
        if ActionRequest.objects.filter(
            kind=ActionKind.DISPUTE_SUBMIT, status="succeeded"
        ).exists():
            break
        page.wait_for_timeout(200)
    page.goto(f"{live_server.url}/console/disputes/{case.dispute.pk}/")

    assert case.stripe.calls("POST", "/v1/disputes/dp_1") == 1
    assert case.stripe.objects["dp_1"]["evidence"]["uncategorized_text"].startswith("Ada bought")
    assert ActionRequest.objects.filter(kind=ActionKind.DISPUTE_SUBMIT).count() == 1
    assert page.locator("#submit-form").count() == 0  # under review: nothing more to send
