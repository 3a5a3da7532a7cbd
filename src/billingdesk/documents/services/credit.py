"""Credit notes: what the notes of a document already credit, a note against a document,
and the note of a refund.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from django.db import transaction

from billingdesk.billing.models import Charge, Refund
from billingdesk.core.errors import InvalidRequest
from billingdesk.documents.models import Document, DocumentKind
from billingdesk.documents.services.issue import (
    _current_document_for_charge,
    _issue,
    document_issue_for_charge,
)
from billingdesk.documents.services.taxing import _tax
from billingdesk.documents.tax import LineIn, TaxResult
from billingdesk.gateways.interface import RefundStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Credited:
    """What the credit notes already issued against a document add up to."""

    gross: int
    net: int
    tax: int
    tax_by_name: dict[str, int]
    count: int


def _credited(original: Document) -> _Credited:
    """The credit notes of ``original`` so far. The original's row is locked first, so two
    refunds of one charge credit it one after the other and each sees the other's note."""
    Document.objects.select_for_update().filter(pk=original.pk).exists()
    notes = list(Document.objects.filter(original=original, kind=DocumentKind.CREDIT_NOTE))
    by_name: dict[str, int] = {}
    for note in notes:
        for line in note.tax_lines:
            by_name[line["name"]] = by_name.get(line["name"], 0) + line["amount"]
    return _Credited(
        gross=sum(n.gross for n in notes),
        net=sum(n.net for n in notes),
        tax=sum(n.tax for n in notes),
        tax_by_name=by_name,
        count=len(notes),
    )


def _remainder(result: TaxResult, *, original: Document, credited: _Credited) -> TaxResult:
    """The last credit note of a document: exactly what the earlier ones left, so that the
    document and its credit notes net to zero (three notes of 40 € against a 120 € invoice
    would otherwise credit 3 x 6,67 € VAT against 20,00 €)."""
    net = original.net - credited.net
    tax = original.tax - credited.tax
    originals = {line["name"]: line["amount"] for line in original.tax_lines}
    tax_lines = [
        replace(
            t, taxable=net, amount=originals.get(t.name, 0) - credited.tax_by_name.get(t.name, 0)
        )
        for t in result.tax_lines
    ]
    line = replace(result.lines[0], quantity=1, unit_net=net, net=net, tax=tax, gross=net + tax)
    return replace(result, lines=[line], tax_lines=tax_lines, net=net, tax=tax, gross=net + tax)


def _credit(
    *,
    original: Document,
    amount: int,
    source_key: str,
    reason: str,
    refund: Refund | None = None,
    send: bool = True,
) -> Document:
    """A credit note of ``amount`` (tax included) against ``original``, taxed as it was: same
    parties, same date of supply (so the same rate). The note that credits what remains of
    the document takes the remainder of every amount, absorbing the rounding of the others."""
    credited = _credited(original)
    remaining = original.gross - credited.gross
    if amount <= 0 or amount > remaining:
        raise InvalidRequest(
            f"a credit note of {original.number} must be between 1 and {remaining} minor "
            f"units (what is not credited yet), not {amount}"
        )
    description = original.lines[0]["description"] if original.lines else original.number
    result = _tax(
        seller=original.seller,
        buyer=original.buyer,
        lines=[LineIn(description, amount)],
        on=original.supply_date,
    )
    if amount == remaining and credited.count:
        result = _remainder(result, original=original, credited=credited)
    return _issue(
        kind=DocumentKind.CREDIT_NOTE,
        source_key=source_key,
        brand=original.brand,
        seller=original.seller,
        buyer=original.buyer,
        language=original.language,
        result=result,
        currency=original.currency,
        # The credit note corrects the original supply: its date of supply (and BT-72) is
        # the original's, not the refund's.
        supply_date=original.supply_date,
        customer=original.customer,
        charge=original.charge,
        refund=refund,
        original=original,
        reason=reason,
        send=send,
    )


def _refund_credit_amount(*, refund: Refund, charge: Charge, current: Document) -> int:
    """How much of ``refund`` to credit against the document in force.

    What the documents still invoice (``current`` less its credit notes) must come down to
    what the seller keeps once this refund and every earlier one are deducted; never more than
    the refund itself. Normally that is the refund's amount; after a keep-net re-issue the
    refund of the VAT difference credits nothing, since the replacement never invoiced it."""
    refunded = sum(
        Refund.objects.filter(
            charge=charge, status=RefundStatus.SUCCEEDED, deleted=False
        ).values_list("amount", flat=True)
    )
    kept_after = (charge.amount_captured or charge.amount) - refunded
    in_force = current.gross - _credited(current).gross
    return max(0, min(refund.amount, in_force - max(kept_after, 0)))


def credit_note_issue_for_refund(*, refund_id: int, send: bool = True) -> Document | None:
    """The credit note for a succeeded refund, referring to the charge's document (issued
    first if the charge had none; ``send``: emailed to the customer once issued)."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(of=("self",))
            .select_related("charge")
            .get(pk=refund_id)
        )
        existing = Document.objects.filter(source_key=f"refund:{refund.pk}").first()
        if existing is not None:
            return existing
        if refund.status != RefundStatus.SUCCEEDED or refund.charge is None:
            return None
        original = _current_document_for_charge(refund.charge)
        if original is None:
            document_issue_for_charge(charge_id=refund.charge.pk, send=send)
            original = _current_document_for_charge(refund.charge)
        if original is None:
            return None
        amount = _refund_credit_amount(refund=refund, charge=refund.charge, current=original)
        if amount <= 0:
            # Nothing documented is given back: the refund returns the VAT difference of a
            # keep-net re-issue (see REISSUE_PRICE_POLICY), already out of the documents.
            logger.info("refund %s credits nothing of %s", refund.pk, original.number)
            return None
        return _credit(
            original=original,
            amount=amount,
            source_key=f"refund:{refund.pk}",
            reason=refund.reason or "refund",
            refund=refund,
            send=send,
        )
