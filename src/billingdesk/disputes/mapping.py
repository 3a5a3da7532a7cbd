"""Which evidence answers which dispute reason, and the cover text suggested for it.

Follows Stripe's dispute categories (https://docs.stripe.com/disputes/categories, summarised
in shared/reference/disputes-sso-helpdesks.md §1.1 "What to submit per reason"): each reason
names the text field the agent's cover text goes in, the file field the merged packet fills,
and the facts worth stating as separate fields. Field names are Stripe's ``evidence[...]``
names; a gateway without a field-by-field API takes the cover text and the PDF.

The cover text is written for the card issuer's reviewer, so it is English whatever the
agent's language (the screens around it are translated).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReasonPlan:
    cover_field: str  # where the cover text goes
    file_field: str  # which file field the merged PDF fills
    fields: tuple[str, ...]  # the facts worth sending for this reason, when known
    cover: str  # the suggested cover text, with {placeholders} from ``Facts``


_CUSTOMER = ("customer_name", "customer_email_address", "billing_address")

PLANS: dict[str, ReasonPlan] = {
    "fraudulent": ReasonPlan(
        cover_field="uncategorized_text",
        file_field="customer_communication",
        fields=(*_CUSTOMER, "customer_purchase_ip", "product_description", "service_date"),
        cover=(
            "The cardholder authorised this payment of {amount} on {charge_date}. "
            "{customer} ({email}) holds an account with us{since}, and the payment was made "
            "with their card ending {last4}. {messages}The attached packet holds the receipt, "
            "the customer's billing details and our correspondence with them."
        ),
    ),
    "subscription_canceled": ReasonPlan(
        cover_field="cancellation_rebuttal",
        file_field="cancellation_policy",
        fields=(
            *_CUSTOMER,
            "cancellation_policy_disclosure",
            "service_date",
            "product_description",
        ),
        cover=(
            "The customer was charged {amount} on {charge_date} for {product}, a subscription "
            "that was active for the period {period}. {cancellation}Our cancellation policy is "
            "attached, with the customer's messages and the receipt."
        ),
    ),
    "product_not_received": ReasonPlan(
        cover_field="uncategorized_text",
        file_field="service_documentation",
        fields=(*_CUSTOMER, "product_description", "service_date"),
        cover=(
            "The customer paid {amount} on {charge_date} for {product}, which was provided "
            "for the period {period}. {messages}The attached packet holds the receipt and our "
            "correspondence with the customer."
        ),
    ),
    "product_unacceptable": ReasonPlan(
        cover_field="refund_refusal_explanation",
        file_field="refund_policy",
        fields=(*_CUSTOMER, "product_description", "refund_policy_disclosure", "service_date"),
        cover=(
            "The customer paid {amount} on {charge_date} for {product}, delivered as "
            "described. {refunds}Our refund policy, which the customer accepted, is attached "
            "with our correspondence."
        ),
    ),
    "credit_not_processed": ReasonPlan(
        cover_field="refund_refusal_explanation",
        file_field="refund_policy",
        fields=(*_CUSTOMER, "refund_policy_disclosure", "service_date"),
        cover=(
            "The customer paid {amount} on {charge_date}. {refunds}Under our refund policy "
            "(attached) no further credit is due. Our correspondence with the customer is "
            "attached."
        ),
    ),
    "duplicate": ReasonPlan(
        cover_field="duplicate_charge_explanation",
        file_field="duplicate_charge_documentation",
        fields=(*_CUSTOMER, "product_description", "service_date"),
        cover=(
            "The payment of {amount} on {charge_date} is not a duplicate: it paid for "
            "{product} ({period}), distinct from the customer's other payments. The receipt "
            "and the customer's billing history are attached. {refunds}"
        ),
    ),
    "general": ReasonPlan(
        cover_field="uncategorized_text",
        file_field="uncategorized_file",
        fields=(*_CUSTOMER, "product_description", "service_date"),
        cover=(
            "The customer paid {amount} on {charge_date} for {product}. {refunds}{messages}"
            "The attached packet holds the receipt, the customer's billing details and our "
            "correspondence with them."
        ),
    ),
}
# Reasons that read as another one's (Stripe lists them apart; the evidence is the same).
PLANS["unrecognized"] = PLANS["fraudulent"]
PLANS["debit_not_authorized"] = PLANS["fraudulent"]


def plan_for(reason: str) -> ReasonPlan:
    """The plan for a gateway's dispute reason; an unknown reason is answered as general."""
    return PLANS.get(reason, PLANS["general"])


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def cover_text(plan: ReasonPlan, facts: Mapping[str, str]) -> str:
    """The suggested cover text, with the facts filled in (an unknown fact reads as empty)."""
    text = plan.cover.format_map(_Blank(facts))
    return " ".join(text.split())


def evidence_fields(plan: ReasonPlan, facts: Mapping[str, str]) -> dict[str, str]:
    """The plan's text fields whose facts are known, by Stripe's field names."""
    return {name: facts[name] for name in plan.fields if facts.get(name, "").strip()}
