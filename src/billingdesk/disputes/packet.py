"""Assembling a dispute's evidence packet from what billingdesk holds.

Every part is optional: a part that cannot be had (no refund policy configured, a helpdesk
that cannot be read, a document too large for the gateway's file limit) is left out of the
packet with a note saying why, shown on the review page — the packet is still assembled, and
nothing is sent to the gateway until a person submits it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Q

from billingdesk.actions.models import AuditEntry
from billingdesk.billing.models import Charge, Customer, Dispute, Refund, Subscription
from billingdesk.core.errors import BillingdeskError
from billingdesk.core.labels import label
from billingdesk.core.money import Money
from billingdesk.disputes.mapping import cover_text, evidence_fields, plan_for
from billingdesk.disputes.models import EvidencePacket, RefundPolicy
from billingdesk.disputes.pdf import Attached, Section, merged_pdf, readable, summary_pdf
from billingdesk.documents.models import BillingProfile, Document
from billingdesk.documents.services.parties import brand_for_account
from billingdesk.gateways.models import GatewayAccount
from billingdesk.helpdesks.interface import TicketMessage
from billingdesk.helpdesks.models import HelpdeskTicket
from billingdesk.helpdesks.registry import provider_for

# One evidence file at most this large. Stripe takes 5 MB a file and cites a smaller
# combined figure (4.5 MB, UNCONFIRMED); Braintree 4 MB (reference §1.1, §1.2).
FILE_LIMITS = {"stripe": 4_500_000, "braintree": 4_000_000}
DEFAULT_FILE_LIMIT = 4_000_000
# A customer message quoted longer than this is cut (the PDF stays readable, and small).
MESSAGE_CHARS = 3000
AUDIT_ENTRIES = 200


@dataclass
class Assembly:
    sections: list[Section] = field(default_factory=list)
    attached: list[Attached] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)


def file_limit(account: GatewayAccount) -> int:
    return FILE_LIMITS.get(account.kind, DEFAULT_FILE_LIMIT)


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value else "unknown"


def _money(amount: int, currency: str) -> str:
    return str(Money(amount, currency))


def policy_for(account: GatewayAccount) -> RefundPolicy | None:
    """The account's own refund policy, else its brand's."""
    own = RefundPolicy.objects.filter(account=account).first()
    if own is not None:
        return own
    brand = brand_for_account(account)
    return RefundPolicy.objects.filter(brand=brand).first() if brand is not None else None


def _dispute_section(dispute: Dispute, out: Assembly) -> None:
    out.sections.append(
        Section(
            "Dispute",
            (
                f"Dispute {dispute.gateway_id} on charge {dispute.charge_ref}",
                f"Amount disputed: {_money(dispute.amount, dispute.currency)}",
                f"Reason given: {dispute.reason or 'not stated'}",
                f"Evidence due by: {_day(dispute.evidence_due_by)}",
            ),
        )
    )


def _charge_section(charge: Charge, out: Assembly) -> None:
    card = f"{charge.card_brand} ending {charge.card_last4}" if charge.card_last4 else "unknown"
    out.facts.update(
        amount=_money(charge.amount, charge.currency),
        charge_date=_day(charge.gateway_created_at),
        last4=charge.card_last4 or "unknown",
        product=charge.product or charge.description or "our service",
        product_description=charge.description or charge.product,
        service_date=_day(charge.gateway_created_at),
    )
    lines = [
        f"Charge {charge.gateway_id} of {_money(charge.amount, charge.currency)} "
        f"on {_day(charge.gateway_created_at)}",
        f"Card: {card}",
        f"Description: {charge.description or charge.product or '—'}",
    ]
    if charge.receipt_email:
        lines.append(f"Receipt sent to: {charge.receipt_email}")
    if charge.order_id:
        lines.append(f"Order: {charge.order_id}")
    ip = _purchase_ip(charge)
    if ip:
        out.facts["customer_purchase_ip"] = ip
        lines.append(f"Purchase IP address: {ip}")
    else:
        lines.append("Purchase IP address: not recorded by the gateway")
    out.sections.append(Section("Charge", tuple(lines)))


def _purchase_ip(charge: Charge) -> str:
    """The buyer's IP where the gateway recorded it (a metadata ``ip``/``customer_ip``)."""
    raw = charge.raw if isinstance(charge.raw, dict) else {}
    found = raw.get("metadata")
    meta: dict[str, object] = found if isinstance(found, dict) else {}
    for key in ("customer_ip", "ip", "ip_address"):
        value = meta.get(key) or raw.get(key)
        if isinstance(value, str) and 3 <= len(value) <= 45:
            return value
    return ""


def _customer_section(customer: Customer | None, out: Assembly) -> None:
    if customer is None:
        out.notes.append("The charge has no customer in billingdesk: no billing details.")
        return
    out.facts.update(
        customer=customer.name or customer.email,
        customer_name=customer.name,
        customer_email_address=customer.email,
        email=customer.email,
        since=f" since {_day(customer.gateway_created_at)}" if customer.gateway_created_at else "",
    )
    lines = [f"Name: {customer.name or '—'}", f"Email: {customer.email or '—'}"]
    if customer.phone:
        lines.append(f"Phone: {customer.phone}")
    profile = (
        BillingProfile.objects.filter(person_id=customer.person_id).first()
        if customer.person_id
        else None
    )
    if profile is not None:
        address = ", ".join(
            part
            for part in (
                profile.company_name,
                profile.address_line1,
                profile.address_line2,
                f"{profile.postcode} {profile.city}".strip(),
                profile.region,
                profile.country,
            )
            if part
        )
        if address:
            out.facts["billing_address"] = address
            lines.append(f"Billing address: {address}")
        if profile.tax_id:
            lines.append(f"Tax id: {profile.tax_id}")
    elif customer.country:
        lines.append(f"Country: {customer.country}")
    out.sections.append(Section("Customer and billing details", tuple(lines)))


def _subscription(charge: Charge) -> Subscription | None:
    if charge.invoice is not None and charge.invoice.subscription is not None:
        return charge.invoice.subscription
    if charge.customer_id is None:
        return None
    return (
        Subscription.objects.filter(customer_id=charge.customer_id, deleted=False)
        .order_by("-gateway_created_at")
        .first()
    )


def _subscription_section(charge: Charge, out: Assembly) -> None:
    sub = _subscription(charge)
    if sub is None:
        out.facts["period"] = _day(charge.gateway_created_at)
        return
    period = f"{_day(sub.current_period_start)} to {_day(sub.current_period_end)}"
    out.facts.update(period=period, product=sub.product or sub.plan or out.facts.get("product", ""))
    out.facts["service_date"] = period
    lines = [
        f"Subscription {sub.gateway_id}: {sub.product or sub.plan or '—'}",
        f"Terms: {_money(sub.amount, sub.currency or charge.currency)} every "
        f"{sub.interval_count} {sub.interval}(s), quantity {sub.quantity}",
        f"Status: {sub.status}; started {_day(sub.gateway_created_at)}",
        f"Current period: {period}",
    ]
    if sub.canceled_at:
        lines.append(f"Cancelled on {_day(sub.canceled_at)}")
        out.facts["cancellation"] = (
            f"The subscription was cancelled on {_day(sub.canceled_at)}, after this payment. "
        )
    elif sub.cancel_at_period_end:
        lines.append("Set to end at the end of the current period")
    else:
        out.facts["cancellation"] = "The customer never cancelled the subscription. "
    out.sections.append(Section("Subscription", tuple(lines)))


def _messages_section(person_id: int | None, out: Assembly) -> None:
    if person_id is None:
        return
    tickets = HelpdeskTicket.objects.filter(person_id=person_id, connection__enabled=True)
    lines: list[str] = []
    from_customer = 0
    for ticket in tickets.select_related("connection").order_by("created_at")[:20]:
        connection = ticket.connection
        try:
            client = provider_for(connection.kind).client(connection)
            if client is None:
                raise BillingdeskError(f"{connection.name} has no API client.")
            messages: list[TicketMessage] = client.ticket_messages(ticket.ticket_id)
        except BillingdeskError as exc:
            out.notes.append(
                f"The messages of ticket {ticket.ticket_id} in {connection.name} could not "
                f"be read ({exc}); the packet is without them."
            )
            continue
        for message in messages:
            who = "Customer" if message.from_customer else "Support"
            from_customer += message.from_customer
            body = message.body.strip()
            if len(body) > MESSAGE_CHARS:
                body = body[:MESSAGE_CHARS] + " […]"
            lines.append(f"{message.at} — {who} ({message.author}), ticket {ticket.ticket_id}:")
            lines.append(body)
    if lines:
        out.sections.append(Section("Messages with the customer", tuple(lines)))
        out.facts["messages"] = (
            f"The customer wrote to us {from_customer} time(s); the messages are attached. "
            if from_customer
            else ""
        )


def _audit_section(person_id: int | None, out: Assembly) -> None:
    if person_id is None:
        return
    entries = AuditEntry.objects.filter(person_id=person_id).order_by("-seq")[:AUDIT_ENTRIES]
    lines = [
        f"{entry.at.date().isoformat()} {entry.actor_name}: {label(entry.action)} "
        f"({label(entry.result)})"
        + (f", {_money(entry.amount, entry.currency)}" if entry.amount and entry.currency else "")
        + (f" — reason: {label(entry.reason_code)}" if entry.reason_code else "")
        + (f" “{entry.reason_text}”" if entry.reason_text else "")
        for entry in reversed(list(entries))
    ]
    if lines:
        out.sections.append(Section("Actions taken by our support team", tuple(lines)))


def _refunds_section(charge: Charge, out: Assembly) -> None:
    refunds = list(Refund.objects.filter(charge=charge, deleted=False).order_by("id"))
    credits = list(
        Document.objects.filter(refund__charge=charge, kind="credit_note").order_by("issued_at")
    )
    lines = [
        f"Refund {r.gateway_id}: {_money(r.amount, r.currency)} on {_day(r.gateway_created_at)} "
        f"({r.status})"
        for r in refunds
    ]
    lines += [f"Credit note {d.number} of {_money(d.gross, d.currency)}" for d in credits]
    done = sum(r.amount for r in refunds if r.status == "succeeded")
    if done:
        out.facts["refunds"] = (
            f"We already refunded {_money(done, charge.currency)} of this payment. "
        )
    out.sections.append(
        Section("Refunds and credit notes", tuple(lines) or ("None given for this charge.",))
    )


def _policy_section(account: GatewayAccount, out: Assembly) -> None:
    policy = policy_for(account)
    if policy is None or not policy.refund_policy.strip():
        out.notes.append(
            "No refund policy is configured for this gateway account or its brand, so the "
            "packet has none: add one in the admin (Disputes, Refund policies)."
        )
        return
    lines = [policy.refund_policy.strip()]
    if policy.cancellation_policy.strip():
        lines += ["Cancellation policy:", policy.cancellation_policy.strip()]
    if policy.disclosure.strip():
        lines += ["How customers see it:", policy.disclosure.strip()]
        out.facts["refund_policy_disclosure"] = policy.disclosure.strip()
        out.facts["cancellation_policy_disclosure"] = policy.disclosure.strip()
    out.sections.append(Section("Refund and cancellation policy", tuple(lines)))


def _documents(charge: Charge, out: Assembly, limit: int, used: int) -> None:
    """The charge's issued PDFs, appended while the packet stays within the file limit."""
    documents = Document.objects.filter(Q(charge=charge) | Q(refund__charge=charge)).order_by(
        "issued_at", "id"
    )
    for document in documents:
        data = bytes(document.pdf)
        name = f"{document.get_kind_display()} {document.number}"
        if not readable(data):
            out.notes.append(f"{name} is not a readable PDF and was left out.")
        elif used + len(data) > limit:
            out.notes.append(
                f"{name} ({len(data) // 1024} kB) was left out: with it the packet would pass "
                f"the gateway's file limit of {limit // 1_000_000} MB."
            )
        else:
            out.attached.append(Attached(name, data))
            used += len(data)
    if not out.attached:
        out.notes.append("No invoice or receipt PDF of this charge is attached.")


def packet_assemble(*, dispute: Dispute, user: User | None) -> EvidencePacket:
    """Assemble (and keep) a new evidence packet for review."""
    out = Assembly()
    account = dispute.account
    _dispute_section(dispute, out)
    charge = dispute.charge
    if charge is None:
        out.notes.append(
            f"The disputed charge {dispute.charge_ref} is not in billingdesk's mirror: "
            "the packet holds the dispute alone."
        )
    else:
        customer = charge.customer
        person_id = customer.person_id if customer is not None else None
        _charge_section(charge, out)
        _customer_section(customer, out)
        _subscription_section(charge, out)
        _messages_section(person_id, out)
        _audit_section(person_id, out)
        _refunds_section(charge, out)
    _policy_section(account, out)
    limit = file_limit(account)
    title = f"Evidence for dispute {dispute.gateway_id}"
    summary = summary_pdf(title=title, sections=out.sections)
    if charge is not None:
        _documents(charge, out, limit, len(summary) + 20_000)
    pdf = merged_pdf(summary, out.attached)
    while len(pdf) > limit and out.attached:  # the merge came out larger than the sum
        dropped = out.attached.pop()
        out.notes.append(f"{dropped.title} was left out to keep within the file limit.")
        pdf = merged_pdf(summary, out.attached)
    if len(pdf) > limit:
        # Only the summary is left, and it is still too large: cut the longest section.
        out.sections.sort(key=lambda s: -sum(len(line) for line in s.lines))
        cut = out.sections.pop(0)
        out.notes.append(f"“{cut.title}” was too long for the gateway's file limit: left out.")
        pdf = merged_pdf(summary_pdf(title=title, sections=out.sections), [])
    plan = plan_for(dispute.reason)
    fields = evidence_fields(plan, out.facts)
    fields[plan.cover_field] = cover_text(plan, out.facts)
    return EvidencePacket.objects.create(
        dispute=dispute,
        created_by=user,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        file_field=plan.file_field,
        fields=fields,
        cover_field=plan.cover_field,
        sections=[s.title for s in out.sections] + [a.title for a in out.attached],
        notes=out.notes,
    )
