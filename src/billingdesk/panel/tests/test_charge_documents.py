"""A charge's own documents on its row, and the documents first when a recent one is what
the ticket is about ("resend my invoice", "correct my invoice")."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billingdesk.core.labels import label
from billingdesk.documents.models import Document
from billingdesk.documents.tests.conftest import shop_create
from billingdesk.panel.selectors import charges_older, documents_first, panel_data, person


def _paid_and_refunded(drain_tasks: Callable[[], None]) -> tuple[Document, Document]:
    """A German shop's payment, its invoice (or receipt) and a credit note for a refund."""
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    drain_tasks()
    shop.refund(charge, 500)
    drain_tasks()
    sale, credit_note = Document.objects.filter(charge=charge).order_by("id")
    assert credit_note.kind == "credit_note"
    return sale, credit_note


def _row(body: str, charge_id: int) -> str:
    row = re.search(rf'<li data-charge="[^"]*" id="row-charge-{charge_id}">.*?</li>', body, re.S)
    assert row, body
    return row.group(0)


def test_each_charge_row_links_its_receipt_and_credit_note(
    db: None, drain_tasks: Callable[[], None], client_as: Callable[..., Client]
) -> None:
    receipt, credit_note = _paid_and_refunded(drain_tasks)
    assert receipt.person_id and receipt.charge_id

    for url in (f"/panel/person/{receipt.person_id}/", f"/console/person/{receipt.person_id}/"):
        body = client_as("read_only", username=url).get(url).content.decode()
        row = _row(body, receipt.charge_id)
        assert f'href="/documents/{receipt.pk}/pdf"' in row
        assert f'href="/documents/{credit_note.pk}/pdf"' in row
        assert f"{label(receipt.kind)} {receipt.number} (PDF)" in row
        assert f"Credit note {credit_note.number} (PDF)" in row


def test_documents_are_attached_by_the_panel_and_the_older_charges(
    db: None, drain_tasks: Callable[[], None]
) -> None:
    receipt, credit_note = _paid_and_refunded(drain_tasks)
    assert receipt.person_id

    for rows in (
        panel_data(receipt.person_id).charges.rows,
        panel_data(receipt.person_id, full=True).charges.rows,
        charges_older(receipt.person_id, text="Pro plan").rows,
    ):
        assert [[d.pk for d in c.own_documents] for c in rows] == [  # type: ignore[attr-defined]
            [receipt.pk, credit_note.pk]
        ]


def test_a_recent_document_puts_the_documents_first_an_old_one_does_not(
    db: None,
    drain_tasks: Callable[[], None],
    client_as: Callable[..., Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receipt, _credit_note = _paid_and_refunded(drain_tasks)
    client = client_as("agent")
    panel = f"/panel/person/{receipt.person_id}/"
    console = f"/console/person/{receipt.person_id}/"
    # The shop's payments are dated 2026-11-20: "recent" reaches back to them.
    monkeypatch.setattr(person, "DOCUMENTS_FIRST_WITHIN", timedelta(days=100_000))

    body = client.get(panel).content.decode()
    assert body.index('id="documents"') < body.index('id="charges"')
    assert re.search(r'id="documents"><details open>', body)
    page = client.get(console).content.decode()
    assert re.search(r'<section class="card wide first" id="documents">', page)

    # Weeks later (issued documents cannot be redated): none of them is recent any more.
    monkeypatch.setattr(person, "DOCUMENTS_FIRST_WITHIN", timedelta(0))

    body = client.get(panel).content.decode()
    assert body.index('id="charges"') < body.index('id="documents"')
    page = client.get(console).content.decode()
    assert '<section class="card wide" id="documents">' in page


def test_documents_issued_now_for_old_payments_do_not_come_first(
    db: None, drain_tasks: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt, credit_note = _paid_and_refunded(drain_tasks)
    # Issued just now, for a sale and a refund older than the window (the demo's history).
    issued_ago = timezone.now() - receipt.issued_at
    supplied_ago = timezone.now() - datetime.combine(receipt.supply_date, time(), UTC)
    monkeypatch.setattr(person, "DOCUMENTS_FIRST_WITHIN", (issued_ago + supplied_ago) / 2)

    assert not documents_first([receipt, credit_note])
    # A replacement issued now (the invoice re-issued with a VAT number) does count.
    replacement = Document.objects.get(pk=receipt.pk)
    replacement.original_id = credit_note.pk  # (in memory only: as a re-issue records it)
    assert documents_first([replacement])
