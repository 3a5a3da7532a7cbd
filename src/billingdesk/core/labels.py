"""Plain, translated words for the codes billingdesk stores: one map for every screen.

Statuses (of charges, refunds, subscriptions, invoices, disputes, actions), reasons (the
agent's, the gateway's refund and dispute reasons), the kinds of actions and documents and the
results written to the audit log are kept as codes (``requested_by_customer``,
``cancel_subscription``, ``approval_requested``); people read them through ``label()``,
in the console, the panel, emails and documents, in the active language::

    label("requested_by_customer")        # "Requested by the customer"
    {{ refund.reason|label }}             # the same, in a template (a builtin filter)

A code not in the map is shown with its underscores as spaces (``"new_code"`` → "New code")
rather than as a raw identifier, so a gateway adding a status never shows ``snake_case``.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Codes that mean the same in every context. Where a code reads differently by context
# (a "canceled" refund vs subscription reads the same; "open" invoice vs dispute the same),
# one label is kept.
LABELS: dict[str, Promise] = {
    # Charges
    "pending": _("Pending"),
    "authorized": _("Authorised, not captured"),
    "captured": _("Paid"),
    "partially_refunded": _("Partly refunded"),
    "refunded": _("Refunded"),
    "failed": _("Failed"),
    "voided": _("Authorisation released"),
    "disputed": _("Disputed"),
    # Refunds and actions
    "succeeded": _("Done"),
    "canceled": _("Canceled"),
    # Subscriptions
    "trialing": _("On trial"),
    "active": _("Active"),
    "past_due": _("Payment overdue"),
    "unpaid": _("Unpaid"),
    "paused": _("Paused"),
    "incomplete": _("Incomplete"),
    "incomplete_expired": _("Expired before the first payment"),
    # Invoices
    "draft": _("Draft"),
    "open": _("Open"),
    "paid": _("Paid"),
    "void": pgettext_lazy("invoice status", "Void"),
    "uncollectible": _("Uncollectible"),
    # Disputes
    "needs_response": _("Needs a response"),
    "under_review": _("Under review"),
    "won": _("Won"),
    "lost": _("Lost"),
    "warning": _("Early warning"),
    # Actions requested by agents (statuses)
    "pending_approval": _("Waiting for approval"),
    "running": _("In progress"),
    "denied": _("Denied"),
    "unknown": _("Unknown: check the gateway"),
    # Audit results
    "approval_requested": _("Sent for approval"),
    "approved": _("Approved"),
    "refused": _("Refused"),
    "queued": _("Queued"),
    # Reasons an agent gives, and the gateways' refund and dispute reasons
    "requested_by_customer": _("Requested by the customer"),
    "duplicate": _("Duplicate payment"),
    "fraudulent": _("Fraudulent"),
    "service_issue": _("Service problem"),
    "billing_error": _("Billing error"),
    "goodwill": _("Goodwill gesture"),
    "other": _("Other"),
    "too_expensive": _("Too expensive"),
    "missing_features": _("Missing features"),
    "switched_service": _("Switched to another service"),
    "unused": _("No longer used"),
    "customer_service": _("Unhappy with the service"),
    "low_quality": _("Quality not as expected"),
    "too_complex": _("Too complicated"),
    "product_not_received": _("Product not received"),
    "product_unacceptable": _("Product not acceptable"),
    "subscription_canceled": _("Subscription canceled"),
    "unrecognized": _("Payment not recognised"),
    "credit_not_processed": _("Credit not processed"),
    "general": _("General"),
    "expired_or_canceled_card": _("Expired or canceled card"),
    "order_fulfilled": _("Order shipped or service delivered"),
    # Dispute reasons (Stripe's) and the reasons an agent answers or accepts one
    "bank_cannot_process": _("Bank could not process"),
    "check_returned": _("Check returned"),
    "customer_initiated": _("Started by the customer"),
    "debit_not_authorized": _("Debit not authorised"),
    "incorrect_account_details": _("Incorrect account details"),
    "insufficient_funds": _("Insufficient funds"),
    "noncompliant": _("Not compliant with network rules"),
    "evidence_complete": _("The evidence answers the claim"),
    "refund_due": _("The customer is owed the money"),
    "evidence_missing": _("Not enough evidence to answer"),
    "fraud_confirmed": _("The payment was fraudulent"),
    # Kinds of actions
    "refund": _("Refund"),
    "capture": _("Capture"),
    "authorize": _("Authorise a payment"),
    "cancel_subscription": _("Cancel subscription"),
    "create_subscription": _("Create subscription"),
    "send_invoice": _("Send invoice"),
    "apply_coupon": _("Apply coupon"),
    "add_tax_id": _("Add VAT or tax number"),
    "payment_request": _("Payment request"),
    "dispute_submit": _("Answer a dispute"),
    "dispute_accept": _("Accept a dispute"),
    "void_invoice": _("Void invoice"),
    "reactivate_subscription": _("Reactivate subscription"),
    "document_resend": _("Resend document"),
    "approval_decide": _("Approval decision"),
    # What a search was looked up as
    "email": _("email"),
    "phone number": _("phone number"),
    "card last 4": _("card last 4"),
    "id": _("id"),
    "name": _("name"),
    # Kinds of documents
    "invoice": _("Invoice"),
    "receipt": _("Receipt"),
    "credit_note": _("Credit note"),
}

# Codes whose word differs by what they describe ("void" the action vs the invoice status).
CONTEXT_LABELS: dict[tuple[str, str], Promise] = {
    ("action", "void"): _("Release authorisation"),
    ("charge", "pending"): pgettext_lazy("charge status", "Pending"),
    # How a gateway record was matched to its person (billing.models.MatchMethod).
    ("match_method", "manual"): _("linked by an agent"),
    ("match_method", "gateway_id"): _("gateway customer id"),
    ("match_method", "transaction_id"): _("charge or transaction id"),
    ("match_method", "order_id"): _("order id"),
    ("match_method", "email"): _("email"),
    ("match_method", "secondary_email"): _("secondary email"),
    ("match_method", "phone"): _("phone"),
    ("match_method", "name"): _("name"),
    ("match_method", "card_last4"): _("card last 4"),
    ("match_method", "new"): _("first record of this person"),
    # Why a document carries the tax it carries (documents.tax.Treatment).
    ("treatment", "domestic"): _("domestic sale"),
    ("treatment", "reverse_charge"): _("reverse charge (the customer accounts for VAT)"),
    ("treatment", "oss"): _("EU consumer abroad (One-Stop Shop)"),
    ("treatment", "outside_scope"): _("outside the scope (customer abroad)"),
    ("treatment", "export"): _("export, zero-rated"),
    ("treatment", "intra_state"): _("within the state (CGST + SGST)"),
    ("treatment", "inter_state"): _("between states (IGST)"),
    ("treatment", "not_registered"): _("seller not registered for tax"),
}


def label(code: object, context: str = "") -> str:
    """The plain, translated word for ``code`` ('' for an empty code)."""
    if code is None:
        return ""
    text = str(code).strip()
    if not text:
        return ""
    found = CONTEXT_LABELS.get((context, text)) if context else None
    if found is None:
        found = LABELS.get(text)
    if found is not None:
        return str(found)
    plain = text.replace("_", " ").strip()
    return plain[:1].upper() + plain[1:]


def choices(codes: list[str] | tuple[str, ...], context: str = "") -> list[tuple[str, str]]:
    """``(code, label)`` pairs for a form's select, in the order given."""
    return [(code, label(code, context)) for code in codes]
