"""Background jobs of the documents app: take ids, idempotent, enqueued after commit."""

from __future__ import annotations

import logging

from django_tasks import task

from billingdesk.core.errors import OperationalError, UserFacingError
from billingdesk.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)


@task()
def document_for_charge_task(charge_id: int) -> str:
    from billingdesk.documents.services import document_issue_for_charge

    try:
        document = document_issue_for_charge(charge_id=charge_id)
    except UserFacingError as exc:
        # Configuration is missing (no series, unknown province…): retrying will not help;
        # the log says what to fix and the agent can issue by hand later.
        logger.warning("no document for charge %s: %s", charge_id, exc.message)
        return f"skipped: {exc.message}"
    return f"document {document.number}" if document else "no document"


@task()
def credit_note_for_refund_task(refund_id: int) -> str:
    from billingdesk.documents.services import credit_note_issue_for_refund

    try:
        document = credit_note_issue_for_refund(refund_id=refund_id)
    except UserFacingError as exc:
        logger.warning("no credit note for refund %s: %s", refund_id, exc.message)
        return f"skipped: {exc.message}"
    return f"credit note {document.number}" if document else "no credit note"


@task()
def reissue_for_tax_id_task(customer_id: int) -> str:
    from billingdesk.documents.services import document_reissue_for_tax_id

    try:
        documents = document_reissue_for_tax_id(customer_id=customer_id)
    except UserFacingError as exc:
        logger.warning("no re-issue for customer %s: %s", customer_id, exc.message)
        return f"skipped: {exc.message}"
    return f"{len(documents)} documents"


@task()
def document_send_task(document_id: int, automatic: bool = False) -> str:
    from billingdesk.documents.mail import document_send

    try:
        result = document_send(document_id=document_id, automatic=automatic)
    except OperationalError as exc:
        logger.warning("sending document %s failed, retrying: %s", document_id, exc.message)
        enqueue_on_commit(document_send_task, document_id, automatic=automatic, delay=300)
        return "retry scheduled"
    return result
