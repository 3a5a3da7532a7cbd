"""Integrity of issued documents: enforced by the database (triggers), shown read-only in the
admin, series edits checked against their history, issue times in number order."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from billingdesk.documents.models import Document, DocumentSeries, SeriesCounter
from billingdesk.documents.services import document_issue_for_charge

from .conftest import shop_create

pytestmark = pytest.mark.django_db


def _issued(drain_tasks) -> Document:
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    drain_tasks()
    return Document.objects.get(charge=charge)


def _raw_sql(sql: str, pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])


def test_triggers_are_installed():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'documents_document'"
            )
            expected = {"documents_document_no_delete", "documents_document_no_update"}
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'documents_document'::regclass "
                "AND NOT tgisinternal"
            )
            expected = {"documents_document_immutable"}
        assert {row[0] for row in cursor.fetchall()} == expected


@pytest.mark.parametrize(
    "change",
    [
        lambda qs: qs.update(gross=1),
        lambda qs: qs.update(number="F-REUSED"),
        lambda qs: qs.update(pdf=b"%PDF-forged"),
        lambda qs: Document.objects.bulk_update(
            [Document(pk=qs.get().pk, net=5, tax=0, gross=5)], ["net", "tax", "gross"]
        ),
        lambda qs: qs.delete(),
        lambda qs: _raw_sql("DELETE FROM documents_document WHERE id = %s", qs.get().pk),
        lambda qs: _raw_sql("UPDATE documents_document SET net = 0 WHERE id = %s", qs.get().pk),
    ],
    ids=[
        *("update-amount", "update-number", "update-pdf", "bulk_update", "delete"),
        *("raw-delete", "raw-update"),
    ],
)
def test_the_database_refuses_to_alter_or_remove_an_issued_document(drain_tasks, change):
    doc = _issued(drain_tasks)
    before = (doc.number, doc.gross, bytes(doc.pdf))
    with pytest.raises(IntegrityError, match="issued document cannot"), transaction.atomic():
        change(Document.objects.filter(pk=doc.pk))
    after = Document.objects.get(pk=doc.pk)
    assert (after.number, after.gross, bytes(after.pdf)) == before


def test_delivery_facts_and_unlinking_stay_possible(drain_tasks):
    doc = _issued(drain_tasks)
    now = datetime(2026, 11, 22, tzinfo=UTC)
    Document.objects.filter(pk=doc.pk).update(emailed_at=now, message_id="<m@x>", email_error="")
    # Deleting a person or a mirrored row sets the link to NULL (on_delete=SET_NULL).
    Document.objects.filter(pk=doc.pk).update(person=None, customer=None, charge=None)
    doc.refresh_from_db()
    assert (doc.emailed_at, doc.message_id, doc.charge_id) == (now, "<m@x>", None)
    # ... but a link cannot be pointed elsewhere.
    other = _issued(drain_tasks)
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=doc.pk).update(charge=other.charge)


def test_admin_shows_issued_documents_read_only_and_save_is_no_500(admin_client, drain_tasks):
    doc = _issued(drain_tasks)
    url = reverse("admin:documents_document_change", args=[doc.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="_save"' not in body and doc.number in body
    posted = admin_client.post(url, {"reason": "edited", "_save": "Save"})
    assert posted.status_code == 403
    assert Document.objects.get(pk=doc.pk).reason == doc.reason
    # The resend action stays available on the read-only list.
    changelist = reverse("admin:documents_document_changelist")
    sent = admin_client.post(changelist, {"action": "resend", "_selected_action": [doc.pk]})
    assert sent.status_code == 302


def _used_series(drain_tasks) -> DocumentSeries:
    doc = _issued(drain_tasks)
    return doc.series


def test_reset_yearly_cannot_be_toggled_on_a_used_series(drain_tasks):
    series = _used_series(drain_tasks)
    series.reset_yearly = False
    with pytest.raises(ValidationError, match="reset"):
        series.full_clean()


def test_a_yearly_series_needs_the_year_in_its_pattern():
    shop = shop_create("FR")
    series = DocumentSeries(
        legal_entity=shop.entity, kind="invoice", prefix="Z", number_format="{prefix}-{seq:05d}"
    )
    with pytest.raises(ValidationError, match="year"):
        series.clean()
    series.number_format = "{prefix}{year}"
    with pytest.raises(ValidationError, match="seq"):
        series.clean()
    series.reset_yearly = False
    series.number_format = "{prefix}-{seq:05d}"
    series.clean()


def test_a_series_whose_next_number_is_already_issued_is_refused(drain_tasks):
    series = _used_series(drain_tasks)  # RE2026-000001 issued, counter at 1
    series.clean()
    series.prefix = "R"
    series.number_format = "{prefix}E{year}-{seq:06d}"  # RE2026-000002 next: new, fine
    series.clean()
    # A counter restored from an old backup would hand out RE2026-000001 again.
    SeriesCounter.objects.filter(series=series).update(value=0)
    with pytest.raises(ValidationError, match="RE2026-000001"):
        series.clean()


def test_series_admin_shows_the_reason_instead_of_saving(admin_client, drain_tasks):
    series = _used_series(drain_tasks)
    url = reverse("admin:documents_documentseries_change", args=[series.pk])
    response = admin_client.post(
        url,
        {
            "legal_entity": series.legal_entity_id,
            "kind": series.kind,
            "prefix": series.prefix,
            "number_format": series.number_format,
            # reset_yearly unticked
        },
    )
    assert response.status_code == 200 and "reset" in response.content.decode()
    series.refresh_from_db()
    assert series.reset_yearly is True


@pytest.mark.django_db(transaction=True)
def test_the_issue_time_is_read_after_waiting_for_the_number():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite takes the write lock when the transaction begins (BEGIN IMMEDIATE)")
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    series = DocumentSeries.objects.get(legal_entity=shop.entity, kind="invoice")
    SeriesCounter.objects.create(series=series, period=2026, value=0)
    locked, released = threading.Event(), {}

    def hold_the_number() -> None:
        # Another issuer holds the series and its counter for a while.
        try:
            with transaction.atomic():
                DocumentSeries.objects.select_for_update().filter(pk=series.pk).exists()
                SeriesCounter.objects.select_for_update().filter(series=series).exists()
                locked.set()
                time.sleep(1.0)
                released["at"] = datetime.now(UTC)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_number)
    holder.start()
    assert locked.wait(30)
    document = document_issue_for_charge(charge_id=charge.pk)
    holder.join()
    assert document is not None
    assert document.issued_at >= released["at"]
