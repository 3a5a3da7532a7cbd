"""The panel and its action forms in the agent's language: no English word left on the
rows, the buttons, the forms and what the confirm step says an action will do."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from django.test import Client

from .factories import Shop
from .test_tickets import HX, _charged_twice

# Words the English panel and forms show; none may remain in another language.
ENGLISH = [
    "Refund", "Refund duplicate", "Capture", "Void", "Cancel", "Send", "Coupon", "Tax ID",
    "Resend", "Older charges", "Open in console", "Gateway records", "Charges",
    "Subscriptions", "Refunds", "Invoices", "Disputes", "Agent actions", "matched by",
    "probable duplicate", "renews", "every month", "No documents yet", "Search charges",
    "Our invoices", "No agent actions", "Confirm", "Close", "Reason", "Details", "Amount",
    "Review", "will remain refundable", "Refundable", "At the end of the period",
    "Now: access ends", "stays active until", "No further renewals", "Number", "Type",
    "Choose", "Requested by the customer", "Authorised", "Release the hold",
]  # fmt: skip
# The same word in that language.
SAME = {"fr": {"Coupon", "Type"}, "es": set(), "de": {"Details"}}
# One word each language must show (the check above would pass on an empty page).
EXPECTED = {"fr": "Rembourser", "es": "Reembolsar", "de": "Erstatten"}


def _shown(page: str) -> str:
    """The text a person reads: the page without its tags, plus the titles, labels and
    placeholders of its elements."""
    attributes = re.findall(r'(?:title|aria-label|placeholder)="([^"]*)"', page)
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return html.unescape(" ".join([text, *attributes]))


def _english_in(page: str, language: str) -> list[str]:
    shown = _shown(page)
    return [
        word
        for word in ENGLISH
        if word not in SAME[language] and re.search(rf"(?<![\w-]){re.escape(word)}\b", shown)
    ]


@pytest.mark.parametrize("language", ["fr", "es", "de"])
def test_the_panel_has_no_english_action_word_left(
    shop: Shop, client_as: Callable[..., Client], language: str
) -> None:
    twin = _charged_twice(shop)  # a probable duplicate: its badge and its button
    client = client_as("agent")

    page = client.get(
        f"/panel/person/{shop.customer.person_id}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    assert 'data-action="refund_duplicate"' in page and f'id="row-charge-{twin.pk}"' in page
    assert _english_in(page, language) == []
    assert EXPECTED[language] in page
    assert f'<html lang="{language}">' in page


@pytest.mark.parametrize("language", ["fr", "es", "de"])
def test_the_action_forms_and_their_effect_are_translated(
    shop: Shop, client_as: Callable[..., Client], language: str
) -> None:
    client = client_as("agent")
    lang = {"HTTP_ACCEPT_LANGUAGE": language}
    steps = {
        "refund": client.get(f"/console/actions/refund/charge/{shop.charge.pk}/", **HX, **lang),
        "cancel": client.get(
            f"/console/actions/cancel_subscription/subscription/{shop.subscription.pk}/",
            **HX,
            **lang,
        ),
        "capture": client.get(f"/console/actions/capture/charge/{shop.hold.pk}/", **HX, **lang),
        "tax id": client.get(
            f"/console/actions/add_tax_id/customer/{shop.customer.pk}/", **HX, **lang
        ),
    }

    for name, response in steps.items():
        page = response.content.decode()
        assert response.status_code == 200, (name, page)
        assert 'data-step="' in page, (name, page)
        assert _english_in(page, language) == [], (name, _english_in(page, language))
    refund = steps["refund"].content.decode()
    assert 'data-step="confirm"' in refund  # the effect lines are on the confirm step
    assert EXPECTED[language].lower() in refund.lower()
