"""State one mirrored object holds about another, settled after each batch.

A dispute marks its charge disputed (a won one gives it back its paid state), a payment
method gives its card to charges that saw none, an invoice links the charge it names, and a
payment attempt is superseded by the charge it became.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.db import connections, router
from django.db.models import F

from billingdesk.billing.models import Charge, Dispute, Invoice, Mirrored, PaymentMethod
from billingdesk.gateways.interface import ChargeStatus, DisputeStatus, GatewayObject, GwCharge
from billingdesk.gateways.models import GatewayAccount

# Disputes that hold the charge's money: nothing may be refunded while one is open or lost.
_DISPUTE_HOLDS = (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW, DisputeStatus.LOST)
_SETTLED = (ChargeStatus.CAPTURED, ChargeStatus.PARTIALLY_REFUNDED, ChargeStatus.REFUNDED)


def _settled(captured: int, refunded: int) -> ChargeStatus:
    """A paid charge's status from its amounts, once no dispute holds it any more."""
    if refunded and refunded >= captured:
        return ChargeStatus.REFUNDED
    return ChargeStatus.PARTIALLY_REFUNDED if refunded else ChargeStatus.CAPTURED


def _charges_completed(
    account: GatewayAccount, objects: Sequence[GatewayObject]
) -> Sequence[GatewayObject]:
    """Fill in, from what the mirror already holds, what a charge's own payload may lack:
    disputed while a dispute holds its money, the card (brand, last 4) from its payment
    method, and its invoice when the invoice names the charge. One query each, only when
    some charge of the batch needs it; the same answer every time, so a re-sync of an
    unchanged charge stays unchanged."""
    charges = [o for o in objects if isinstance(o, GwCharge)]
    if not charges:
        return objects
    disputed = set(
        Dispute.objects.filter(
            account=account,
            charge_ref__in=[c.id for c in charges if c.status in _SETTLED],
            status__in=_DISPUTE_HOLDS,
            deleted=False,
        ).values_list("charge_ref", flat=True)
    )
    # A gateway may keep flagging a charge disputed after the merchant won (Stripe's
    # ``disputed`` stays true): once every dispute of it is won, it is paid again.
    released = _released([c.id for c in charges if c.status == ChargeStatus.DISPUTED], account)
    cardless = {c.payment_method_id for c in charges if c.payment_method_id and not c.card_last4}
    cards: dict[str, tuple[str, str]] = {}
    if cardless:
        cards = {
            gid: (brand, last4)
            for gid, brand, last4 in PaymentMethod.objects.filter(
                account=account, gateway_id__in=cardless
            )
            .exclude(last4="")
            .values_list("gateway_id", "brand", "last4")
        }
    unlinked = {c.id for c in charges if not c.invoice_id} | {
        c.alt_id for c in charges if not c.invoice_id and c.alt_id
    }
    invoices: dict[str, str] = {}
    if unlinked:
        invoices = dict(
            Invoice.objects.filter(account=account, charge_ref__in=unlinked).values_list(
                "charge_ref", "gateway_id"
            )
        )
    if not (disputed or released or cards or invoices):
        return objects
    completed: list[GatewayObject] = []
    for obj in objects:
        if isinstance(obj, GwCharge):
            changes: dict[str, Any] = {}
            if obj.id in disputed:
                changes["status"] = ChargeStatus.DISPUTED
            elif obj.id in released:
                changes["status"] = _settled(obj.amount_captured or obj.amount, obj.amount_refunded)
            if obj.payment_method_id in cards and not obj.card_last4:
                changes["card_brand"], changes["card_last4"] = cards[obj.payment_method_id]
            if not obj.invoice_id:
                invoice = invoices.get(obj.id) or invoices.get(obj.alt_id)
                if invoice:
                    changes["invoice_id"] = invoice
            if changes:
                obj = replace(obj, **changes)
        completed.append(obj)
    return completed


def _charges_disputed(account: GatewayAccount, disputes: Sequence[Mirrored]) -> None:
    """A dispute that holds the money marks its charge disputed (the panel then offers no
    refund): a gateway's dispute event carries the dispute, not the charge."""
    refs = {
        row.charge_ref
        for row in disputes
        if isinstance(row, Dispute) and row.status in _DISPUTE_HOLDS and not row.deleted
    }
    if refs:
        Charge.objects.filter(account=account, gateway_id__in=refs, status__in=_SETTLED).update(
            status=ChargeStatus.DISPUTED
        )
    won = {
        row.charge_ref
        for row in disputes
        if isinstance(row, Dispute) and row.status == DisputeStatus.WON and not row.deleted
    }
    released = _released(sorted(won - refs), account)
    for charge in Charge.objects.filter(
        account=account, gateway_id__in=released, status=ChargeStatus.DISPUTED
    ).only("pk", "amount", "amount_captured", "amount_refunded"):
        status = _settled(charge.amount_captured or charge.amount, charge.amount_refunded)
        Charge.objects.filter(pk=charge.pk).update(status=status)


def _released(charge_refs: Sequence[str], account: GatewayAccount) -> set[str]:
    """Of these charges, those with disputes that were all won (none holding the money)."""
    if not charge_refs:
        return set()
    rows = Dispute.objects.filter(account=account, charge_ref__in=charge_refs, deleted=False)
    won = set(rows.filter(status=DisputeStatus.WON).values_list("charge_ref", flat=True))
    held = set(rows.filter(status__in=_DISPUTE_HOLDS).values_list("charge_ref", flat=True))
    return won - held


def _payment_methods_settle(account: GatewayAccount, methods: Sequence[Mirrored]) -> None:
    """After new or changed payment methods: a customer has one default (the newest one
    marked so), and charges that saw no card take this method's brand and last 4."""
    connection = connections[router.db_for_write(PaymentMethod)]
    rows = [row for row in methods if isinstance(row, PaymentMethod) and not row.deleted]
    defaults = {row.customer_ref: row.gateway_id for row in rows if row.is_default}
    defaults.pop("", None)
    if defaults:
        # One statement for the batch: the other methods of these customers still marked.
        PaymentMethod.objects.filter(
            account=account, customer_ref__in=list(defaults), is_default=True
        ).exclude(gateway_id__in=list(defaults.values())).update(is_default=False)
    cards = [(row.brand, row.last4, row.gateway_id) for row in rows if row.last4]
    if cards:
        account_id = GatewayAccount._meta.pk.get_db_prep_save(account.pk, connection)  # type: ignore[union-attr]
        quote = connection.ops.quote_name
        table = quote(Charge._meta.db_table)
        # Identifiers come from the model's metadata and are quoted; values are parameters.
        sql = (
            f"UPDATE {table} SET {quote('card_brand')} = %s, {quote('card_last4')} = %s "  # noqa: S608
            f"WHERE {quote('account_id')} = %s AND {quote('payment_method_ref')} = %s "
            f"AND {quote('card_last4')} = ''"
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, [(b, l4, account_id, ref) for b, l4, ref in cards])


def _invoices_link_charges(account: GatewayAccount, invoices: Sequence[Mirrored]) -> None:
    """Link the charge an invoice names (by the charge's id or its payment attempt's) to the
    invoice, when the charge does not name one itself."""
    links = [
        (row.gateway_id, row.pk, row.charge_ref)
        for row in invoices
        if isinstance(row, Invoice) and row.charge_ref
    ]
    if not links:
        return
    connection = connections[router.db_for_write(Charge)]
    account_id = GatewayAccount._meta.pk.get_db_prep_save(account.pk, connection)  # type: ignore[union-attr]
    quote = connection.ops.quote_name
    table = quote(Charge._meta.db_table)
    # Identifiers come from the model's metadata and are quoted; values are parameters.
    sql = (
        f"UPDATE {table} SET {quote('invoice_ref')} = %s, {quote('invoice_id')} = %s "  # noqa: S608
        f"WHERE {quote('account_id')} = %s AND {quote('invoice_ref')} = '' "
        f"AND ({quote('gateway_id')} = %s OR {quote('alt_id')} = %s)"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(gid, pk, account_id, ref, ref) for gid, pk, ref in links])


# A payment attempt that has no charge yet (e.g. a Stripe PaymentIntent awaiting a card or
# 3-D Secure) is a charge row keyed by its own id, with ``alt_id`` the same id. A charge
# whose ``alt_id`` names it is the payment it became: the attempt's row is then marked
# deleted, so it never shows as a second payment (and stays findable by its id).


def _attempts_charged(
    account: GatewayAccount, objects: Sequence[GatewayObject]
) -> Sequence[GatewayObject]:
    """The batch, with the attempts whose charge is in it or already mirrored deleted (an
    attempt's event may arrive after its charge's)."""
    attempts = {
        o.id for o in objects if isinstance(o, GwCharge) and o.alt_id == o.id and not o.deleted
    }
    if not attempts:
        return objects
    charged = {o.alt_id for o in objects if isinstance(o, GwCharge) and o.alt_id != o.id}
    charged &= attempts
    if attempts - charged:
        charged.update(
            Charge.objects.filter(account=account, alt_id__in=attempts - charged)
            .exclude(gateway_id=F("alt_id"))
            .values_list("alt_id", flat=True)
        )
    return [replace(o, deleted=True) if o.id in charged else o for o in objects]


def _attempts_supersede(account: GatewayAccount, charges: Sequence[Mirrored]) -> None:
    """Mark deleted the attempt rows these new or changed charges supersede: one UPDATE
    through the (account, gateway id) index, touching only attempt rows that exist."""
    attempt_ids = {
        row.alt_id
        for row in charges
        if isinstance(row, Charge) and row.alt_id and row.alt_id != row.gateway_id
    }
    if attempt_ids:
        Charge.objects.filter(
            account=account, gateway_id__in=attempt_ids, alt_id=F("gateway_id"), deleted=False
        ).update(deleted=True)
