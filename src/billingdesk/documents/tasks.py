"""Background jobs of the documents app: take ids, idempotent, enqueued after commit."""

from __future__ import annotations

import logging

from django_tasks import task

from billingdesk.core.errors import OperationalError, UserFacingError
from billingdesk.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)


def _problem(source_key: str, exc: UserFacingError | None, **links: int) -> None:
    """Record (or clear) why a document could not be issued, for finance in the admin."""
    from billingdesk.documents.services import issue_problem_record, issue_problem_resolve

    if exc is None:
        issue_problem_resolve(source_key=source_key)
    else:
        logger.warning("no document for %s: %s", source_key, exc.message)
        issue_problem_record(source_key=source_key, reason=exc.message, **links)


@task()
def document_for_charge_task(charge_id: int) -> str:
    from billingdesk.documents.services import document_issue_for_charge

    try:
        document = document_issue_for_charge(charge_id=charge_id)
    except UserFacingError as exc:
        # Configuration is missing (no series, unknown province…): retrying will not help
        # until someone fixes it; the admin lists the problem with its reason and a retry.
        _problem(f"charge:{charge_id}", exc, charge_id=charge_id)
        return f"skipped: {exc.message}"
    _problem(f"charge:{charge_id}", None)
    return f"document {document.number}" if document else "no document"


@task()
def credit_note_for_refund_task(refund_id: int) -> str:
    from billingdesk.documents.services import credit_note_issue_for_refund

    try:
        document = credit_note_issue_for_refund(refund_id=refund_id)
    except UserFacingError as exc:
        _problem(f"refund:{refund_id}", exc, refund_id=refund_id)
        return f"skipped: {exc.message}"
    _problem(f"refund:{refund_id}", None)
    return f"credit note {document.number}" if document else "no credit note"


@task()
def reissue_for_tax_id_task(customer_id: int) -> str:
    from billingdesk.documents.services import document_reissue_for_tax_id

    try:
        documents = document_reissue_for_tax_id(customer_id=customer_id)
    except UserFacingError as exc:
        _problem(f"tax-id:{customer_id}", exc, customer_id=customer_id)
        return f"skipped: {exc.message}"
    _problem(f"tax-id:{customer_id}", None)
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
