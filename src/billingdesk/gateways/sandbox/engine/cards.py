"""The sandbox's test cards and what each one does.

Modelled on Stripe's test cards (https://docs.stripe.com/testing#cards). Only brand, last 4
digits and expiry of a card are ever stored; the behaviour a number triggers is kept on the
payment method as ``test_behavior`` so later charges behave the same without the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from billingdesk.core.errors import CardDeclined, InvalidRequest


class Behavior(StrEnum):
    SUCCEED = "succeed"
    DECLINE = "decline"  # refused when attached and when charged
    DISPUTE = "dispute"  # charges succeed, then the cardholder disputes them
    FAIL_CHARGES = "fail_charges"  # attaches fine, every charge is declined


@dataclass(frozen=True, slots=True)
class SandboxCard:
    brand: str
    behavior: Behavior
    funding: str = "credit"
    decline_code: str = ""


TEST_CARDS: dict[str, SandboxCard] = {
    "4242424242424242": SandboxCard("visa", Behavior.SUCCEED),
    "4000056655665556": SandboxCard("visa", Behavior.SUCCEED, funding="debit"),
    "5555555555554444": SandboxCard("mastercard", Behavior.SUCCEED),
    "378282246310005": SandboxCard("amex", Behavior.SUCCEED),
    "4000000000000002": SandboxCard("visa", Behavior.DECLINE, decline_code="generic_decline"),
    "4000000000009995": SandboxCard("visa", Behavior.DECLINE, decline_code="insufficient_funds"),
    "4000000000000259": SandboxCard("visa", Behavior.DISPUTE),
    "4000000000000341": SandboxCard("visa", Behavior.FAIL_CHARGES, decline_code="generic_decline"),
}

DECLINE_MESSAGES: dict[str, str] = {
    "generic_decline": "The card was declined. The customer should contact their bank or use "
    "another card.",
    "insufficient_funds": "The card has insufficient funds to complete the payment.",
}


def card_for_number(number: str) -> SandboxCard:
    """The test card with this number (spaces and dashes ignored), or ``InvalidRequest``."""
    digits = "".join(ch for ch in number if ch not in " -")
    if not digits.isdigit():
        raise InvalidRequest("A card number has only digits.")
    card = TEST_CARDS.get(digits)
    if card is None:
        raise InvalidRequest(
            "The sandbox only accepts test card numbers, e.g. 4242 4242 4242 4242."
        )
    return card


def last4(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())[-4:]


def decline(decline_code: str) -> CardDeclined:
    message = DECLINE_MESSAGES.get(decline_code, DECLINE_MESSAGES["generic_decline"])
    return CardDeclined(message, decline_code=decline_code)
