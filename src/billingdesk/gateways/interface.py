"""The typed boundary between billingdesk and every payment gateway.

A connector turns a vendor's payloads into these dataclasses at the edge (in its
``mapping.py``) and the rest of billingdesk only ever sees them. Each dataclass is one object
of the billing mirror; ``id`` is the gateway's own id, ``updated`` orders versions of the same
object (the gateway's updated timestamp where it has one, otherwise the time the event was
created or the page was fetched), ``raw`` is the vendor payload kept for audit and debugging.
References to other objects are the gateway ids (``customer_id``, ``charge_id``…), resolved to
rows by the mirror, so objects may arrive in any order.

Money is integer minor units plus an ISO 4217 code. Datetimes are timezone-aware.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from billingdesk.core.errors import CapabilityMissing

if TYPE_CHECKING:
    from billingdesk.gateways.models import GatewayAccount


class Capability(StrEnum):
    """What a connector can do; the panel offers only the actions its gateway declares."""

    BACKFILL = "backfill"
    WEBHOOKS = "webhooks"
    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    CAPTURE = "capture"
    PARTIAL_CAPTURE = "partial_capture"
    VOID = "void"
    CANCEL_SUBSCRIPTION = "cancel_subscription"
    CANCEL_AT_PERIOD_END = "cancel_at_period_end"
    CREATE_SUBSCRIPTION = "create_subscription"
    SEND_INVOICE = "send_invoice"
    APPLY_COUPON = "apply_coupon"
    ADD_TAX_ID = "add_tax_id"
    PAYMENT_REQUEST = "payment_request"
    CARD_UPDATE = "card_update"
    # Read one object's current state (``object_fetch``): how the mirror settles two
    # different states of an object stamped with the same time.
    FETCH = "fetch"
    DISPUTE_EVIDENCE = "dispute_evidence"
    # Pause a subscription's billing and resume it (``subscription_pause``/``_resume``).
    PAUSE_SUBSCRIPTION = "pause_subscription"
    # Void an unpaid invoice; undo a cancellation at period end before the period ends.
    VOID_INVOICE = "void_invoice"
    REACTIVATE_SUBSCRIPTION = "reactivate_subscription"
    # End a subscription now with a refund of the unused time (partial) or the last invoice.
    TERMINATE_WITH_REFUND = "terminate_with_refund"


class ObjectKind(StrEnum):
    CUSTOMER = "customer"
    PAYMENT_METHOD = "payment_method"
    CHARGE = "charge"
    REFUND = "refund"
    SUBSCRIPTION = "subscription"
    INVOICE = "invoice"
    COUPON = "coupon"
    DISCOUNT = "discount"
    TAX_ID = "tax_id"
    DISPUTE = "dispute"


# The order a backfill walks the kinds in: referenced objects first, so most references
# resolve on insert (the mirror re-links any that arrive out of order anyway).
BACKFILL_ORDER: tuple[ObjectKind, ...] = (
    ObjectKind.CUSTOMER,
    ObjectKind.PAYMENT_METHOD,
    ObjectKind.COUPON,
    ObjectKind.SUBSCRIPTION,
    ObjectKind.INVOICE,
    ObjectKind.CHARGE,
    ObjectKind.REFUND,
    ObjectKind.DISPUTE,
    ObjectKind.DISCOUNT,
    ObjectKind.TAX_ID,
)


class ChargeStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"  # held, not yet captured
    CAPTURED = "captured"  # succeeded, nothing refunded
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"
    VOIDED = "voided"  # authorisation released without capture
    DISPUTED = "disputed"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class SubscriptionStatus(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    PAUSED = "paused"
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    CANCELED = "canceled"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class DisputeStatus(StrEnum):
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"
    WARNING = "warning"  # early fraud warning / inquiry


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True, kw_only=True, slots=True)
class GatewayObject:
    id: str
    updated: datetime
    created: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # True when the gateway says the object is gone (e.g. customer.deleted).
    deleted: bool = False

    kind: ClassVar[ObjectKind]


@dataclass(frozen=True, kw_only=True, slots=True)
class GwCustomer(GatewayObject):
    kind = ObjectKind.CUSTOMER
    email: str = ""
    name: str = ""
    phone: str = ""
    country: str = ""  # ISO 3166-1 alpha-2, when the gateway knows it
    currency: str = ""
    description: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class GwPaymentMethod(GatewayObject):
    kind = ObjectKind.PAYMENT_METHOD
    customer_id: str | None = None
    method_type: str = "card"
    brand: str = ""
    last4: str = ""
    exp_month: int | None = None
    exp_year: int | None = None
    fingerprint: str = ""
    is_default: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class GwCharge(GatewayObject):
    kind = ObjectKind.CHARGE
    customer_id: str | None
    amount: int
    currency: str
    status: ChargeStatus
    amount_captured: int = 0
    amount_refunded: int = 0
    description: str = ""
    product: str = ""
    order_id: str = ""  # the merchant's order number, when the gateway carries one
    alt_id: str = ""  # a second id agents may quote (e.g. Stripe's payment intent)
    payment_method_id: str | None = None
    card_brand: str = ""
    card_last4: str = ""
    invoice_id: str | None = None
    failure_code: str = ""
    failure_message: str = ""
    receipt_email: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class GwRefund(GatewayObject):
    kind = ObjectKind.REFUND
    charge_id: str
    amount: int
    currency: str
    status: RefundStatus
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class GwSubscription(GatewayObject):
    kind = ObjectKind.SUBSCRIPTION
    customer_id: str | None
    status: SubscriptionStatus
    product: str = ""
    plan: str = ""  # the gateway's price/plan id or name
    amount: int = 0  # per interval, minor units, before discounts
    currency: str = ""
    interval: Interval = Interval.MONTH
    interval_count: int = 1
    quantity: int = 1
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None
    ended_at: datetime | None = None
    trial_start: datetime | None = None
    trial_end: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class GwInvoice(GatewayObject):
    kind = ObjectKind.INVOICE
    customer_id: str | None
    status: InvoiceStatus
    currency: str
    number: str = ""
    subscription_id: str | None = None
    subtotal: int = 0
    tax: int = 0
    total: int = 0
    amount_due: int = 0
    amount_paid: int = 0
    due_date: datetime | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    hosted_url: str = ""
    pdf_url: str = ""
    # The payment that settles it, when the gateway names it from the invoice's side (a
    # charge id, or the id of the payment attempt a charge carries as ``alt_id``): the mirror
    # links that charge to this invoice even when the charge itself does not name it.
    charge_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class GwCoupon(GatewayObject):
    kind = ObjectKind.COUPON
    name: str = ""
    # Percent off in basis points (12.5 % = 1250) so it stays an integer.
    percent_off_bp: int | None = None
    amount_off: int | None = None
    currency: str = ""
    duration: str = "once"  # once | repeating | forever
    duration_in_months: int | None = None
    valid: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class GwDiscount(GatewayObject):
    kind = ObjectKind.DISCOUNT
    coupon_id: str
    customer_id: str | None = None
    subscription_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class GwTaxId(GatewayObject):
    kind = ObjectKind.TAX_ID
    customer_id: str | None
    tax_type: str  # e.g. eu_vat, gb_vat, au_abn
    value: str
    country: str = ""
    verification: str = ""  # pending | verified | unverified | unavailable


@dataclass(frozen=True, kw_only=True, slots=True)
class GwDispute(GatewayObject):
    kind = ObjectKind.DISPUTE
    charge_id: str
    amount: int
    currency: str
    status: DisputeStatus
    reason: str = ""
    evidence_due_by: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Page:
    """One page of a backfill listing. ``next_cursor`` is None on the last page."""

    objects: list[GatewayObject]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class EventEnvelope:
    """What intake needs from a webhook body, read cheaply before the full parse."""

    id: str
    type: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ParsedEvent:
    """A webhook turned into mirror objects. ``objects`` is empty for ignored event types."""

    id: str
    type: str
    created: datetime
    objects: list[GatewayObject]


# --- Action requests and results (used by the actions layer in later work) ---------------


@dataclass(frozen=True, kw_only=True, slots=True)
class ActionResult:
    """What a gateway action returns: the objects it changed (already mapped, ready for
    ``mirror_upsert``), the gateway's request id, and a URL when the action produces one
    (payment request pay link, card-update page)."""

    objects: list[GatewayObject]
    request_id: str = ""
    url: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ActionContext:
    """Who asks for the action being called and why, beyond the interface's arguments (ids,
    amounts, the reason code): set by the action service around its gateway call, read by
    connectors that pass it on (the custom gateway's action webhook sends it to the
    merchant). Empty outside an action."""

    request_id: int | None = None
    agent_name: str = ""
    agent_email: str = ""
    approver_name: str = ""
    reason_code: str = ""
    reason_text: str = ""


action_context: ContextVar[ActionContext] = ContextVar(
    "action_context",
    default=ActionContext(),  # noqa: B039 (immutable)
)


def _missing(connector: Connector, what: str) -> CapabilityMissing:
    return CapabilityMissing(f"{connector.display_name} cannot {what}")


class Connector(ABC):
    """One gateway kind. An instance is bound to one configured ``GatewayAccount``.

    Subclasses declare ``kind``, ``display_name``, ``capabilities`` and
    ``credential_fields`` and implement the listing and webhook hooks; the vendor SDK or HTTP
    calls live in the connector's ``client.py``, vendor payloads are mapped in ``mapping.py``.
    """

    kind: ClassVar[str]
    display_name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    # Names of the secrets an administrator enters for an account (kept encrypted).
    credential_fields: ClassVar[tuple[str, ...]] = ()
    # Those of them that are settings rather than secrets (shown as they are typed and kept
    # visible, e.g. Braintree's environment), with a hint for the administrator.
    plain_credential_fields: ClassVar[dict[str, str]] = {}
    backfill_kinds: ClassVar[tuple[ObjectKind, ...]] = BACKFILL_ORDER
    # HTTP header carrying the webhook signature (for documentation and intake logging).
    signature_header: ClassVar[str] = ""
    # Said before a subscription is created when the gateway needs the customer's approval
    # first (PayPal answers with a link to send them): empty when it starts at once.
    subscription_approval_note: ClassVar[str] = ""

    def __init__(self, account: GatewayAccount) -> None:
        self.account = account

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @classmethod
    def voidable(cls, *, status: ChargeStatus, amount_refunded: int) -> bool:
        """Whether to offer a void on a mirrored charge in this state (the connector checks
        the live state when it runs). Usually only an authorisation; Braintree also voids a
        captured sale that has not settled yet, which the mirror cannot tell from a settled
        one, so it says yes to any captured charge with nothing refunded."""
        return status == ChargeStatus.AUTHORIZED

    @classmethod
    def preview_notes(cls, *, action: str, target: Any, params: Mapping[str, Any]) -> list[str]:
        """Lines this gateway adds to an action's preview: what the action will make at the
        gateway, in its own terms (e.g. the credit invoice an invoice-based refund issues),
        read from the mirrored ``target`` and the cleaned ``params`` without calling the
        gateway. ``action`` is the action kind's value; [] by default."""
        return []

    # --- connection ----------------------------------------------------------------------
    @abstractmethod
    def check_credentials(self) -> None:
        """Raise ``AuthenticationFailed`` if the account's credentials are refused."""

    # --- backfill ------------------------------------------------------------------------
    @abstractmethod
    def list_page(self, kind: ObjectKind, cursor: str | None) -> Page:
        """Return one page of ``kind`` after ``cursor`` (None = from the start)."""

    def estimate_total(self, kind: ObjectKind) -> int | None:
        """How many objects of ``kind`` a backfill will see, if the gateway can tell cheaply."""
        return None

    # --- webhooks ------------------------------------------------------------------------
    @abstractmethod
    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> None:
        """Raise ``SignatureInvalid`` unless the raw body is signed by the gateway."""

    @abstractmethod
    def read_envelope(self, body: bytes) -> EventEnvelope:
        """Event id and type from a verified body; ``MalformedPayload`` if unreadable."""

    @abstractmethod
    def parse_webhook(self, body: bytes) -> ParsedEvent:
        """Full parse into mirror objects (may call the gateway to re-fetch thin events)."""

    def read_delivery(self, *, headers: Mapping[str, str], body: bytes) -> EventEnvelope:
        """Event id and type of a verified delivery, for a gateway that names the event in a
        header (WooCommerce's ``X-WC-Webhook-Topic``); by default ``read_envelope``."""
        return self.read_envelope(body)

    def parse_delivery(self, body: bytes, *, event_type: str) -> ParsedEvent:
        """Full parse of a stored delivery, given the type ``read_delivery`` found (a
        gateway whose body alone does not say what it is); by default ``parse_webhook``."""
        return self.parse_webhook(body)

    def answer_challenge(self, params: Mapping[str, str]) -> str | None:
        """The text a gateway's endpoint check (a GET with query ``params``) expects, or None
        if this connector has no such check; ``InvalidRequest`` for a malformed challenge."""
        return None

    # --- actions -------------------------------------------------------------------------
    # Each takes gateway ids and an idempotency key (sent to the gateway where it supports
    # one, so a retry never acts twice), returns an ActionResult, and raises a UserFacingError
    # (decline, over-refund, not allowed) or an OperationalError (network, 429, outage).
    # A connector overrides the ones its ``capabilities`` declare.

    def dispute_evidence_submit(
        self,
        *,
        dispute_id: str,
        evidence: Mapping[str, str],
        idempotency_key: str,
        files: Mapping[str, bytes] | None = None,
    ) -> ActionResult:
        """Submit text evidence for a dispute (final at most gateways); returns the dispute.
        ``files``: PDF documents by the gateway's file-evidence field (uploaded first, so a
        refused file leaves the dispute unanswered rather than half-answered)."""
        raise _missing(self, "submit dispute evidence")

    def dispute_accept(self, *, dispute_id: str, idempotency_key: str) -> ActionResult:
        """Concede a dispute (irreversible: it is lost); returns the dispute."""
        raise _missing(self, "accept a dispute")

    def refund_create(
        self, *, charge_id: str, amount: int | None, reason: str, idempotency_key: str
    ) -> ActionResult:
        """Refund ``amount`` minor units of a charge (None = all that remains)."""
        raise _missing(self, "refund")

    def refund_preview(self, *, charge_id: str) -> list[str]:
        """Lines for the refund's confirm step that only the gateway can tell (who moves
        the money, whether it can); may ask the gateway. [] when there is nothing to add."""
        return []

    def charge_authorize(
        self,
        *,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
        payment_method_id: str | None = None,
    ) -> ActionResult:
        """Place a hold on the customer's card, to capture or void later."""
        raise _missing(self, "authorize a payment")

    def charge_capture(
        self, *, charge_id: str, amount: int | None, idempotency_key: str
    ) -> ActionResult:
        """Capture an authorisation (None = the whole authorised amount)."""
        raise _missing(self, "capture")

    def charge_void(self, *, charge_id: str, idempotency_key: str) -> ActionResult:
        raise _missing(self, "void an authorisation")

    def subscription_cancel(
        self, *, subscription_id: str, at_period_end: bool, idempotency_key: str
    ) -> ActionResult:
        raise _missing(self, "cancel a subscription")

    def subscription_pause(self, *, subscription_id: str, idempotency_key: str) -> ActionResult:
        """Stop billing a subscription until it is resumed; returns the subscription."""
        raise _missing(self, "pause a subscription")

    def subscription_resume(self, *, subscription_id: str, idempotency_key: str) -> ActionResult:
        """Bill a paused subscription again; returns the subscription."""
        raise _missing(self, "resume a subscription")

    def subscription_create(
        self,
        *,
        customer_id: str,
        plan: str,
        idempotency_key: str,
        quantity: int = 1,
        coupon_id: str | None = None,
        trial_days: int | None = None,
    ) -> ActionResult:
        raise _missing(self, "create a subscription")

    def invoice_send(self, *, invoice_id: str, idempotency_key: str) -> ActionResult:
        """Send (or re-send) a gateway invoice to the customer."""
        raise _missing(self, "send an invoice")

    def coupon_apply(
        self,
        *,
        coupon_id: str,
        idempotency_key: str,
        customer_id: str | None = None,
        subscription_id: str | None = None,
    ) -> ActionResult:
        raise _missing(self, "apply a coupon")

    def invoice_void(self, *, invoice_id: str, idempotency_key: str) -> ActionResult:
        """Void an invoice nobody has paid (the customer then owes nothing on it); returns
        the invoice. A paid invoice is refused (``NotAllowed``): it is refunded instead."""
        raise _missing(self, "void an invoice")

    def subscription_reactivate(
        self, *, subscription_id: str, idempotency_key: str
    ) -> ActionResult:
        """Undo a cancellation at period end while the period still runs (renewals resume);
        returns the subscription. An ended subscription is refused (``NotAllowed``)."""
        raise _missing(self, "reactivate a subscription")

    def subscription_terminate(
        self, *, subscription_id: str, refund: str, idempotency_key: str
    ) -> ActionResult:
        """End a subscription now; ``refund``: ``none``, ``partial`` (the unused time of the
        current period, prorated) or ``full`` (the last paid invoice)."""
        raise _missing(self, "end a subscription with a refund")

    def tax_id_add(
        self, *, customer_id: str, tax_type: str, value: str, idempotency_key: str
    ) -> ActionResult:
        raise _missing(self, "add a tax id")

    def payment_request_create(
        self,
        *,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
    ) -> ActionResult:
        """Create something the customer pays through the gateway; ``url`` is the pay link."""
        raise _missing(self, "create a payment request")

    def card_update_start(self, *, customer_id: str, return_url: str) -> ActionResult:
        """Start the gateway's own card-update flow; ``url`` is where to send the customer."""
        raise _missing(self, "update a card")

    def object_fetch(self, *, kind: ObjectKind, object_id: str) -> list[GatewayObject]:
        """One object's current state at the gateway, with the objects it embeds (as a
        listing maps them), versioned at the read; [] for a kind that cannot be read alone.
        Raises ``NotFound`` for an object the gateway no longer has."""
        raise _missing(self, "read a single object")
