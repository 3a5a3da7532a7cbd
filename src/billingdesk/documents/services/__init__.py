"""Issuing documents: an invoice or receipt per paid charge, a credit note per refund, and a
credit note plus a replacement invoice when a customer's tax id arrives after the fact.

Each service is one transaction: the series counter is locked, the number taken, the tax
computed, the PDF rendered and the document inserted together, so a failure leaves neither a
gap in the numbering nor a half-issued document. Each is idempotent through the document's
``source_key`` (one document per charge, per refund, per replacement). Email goes out after
commit (``documents.tasks.document_send_task``).

The package is split by job; import from here, not from the modules:

- ``issue``: numbering, rendering and storing a document; the one per paid charge;
- ``credit``: credit notes, the one per refund and what earlier notes already credited;
- ``reissue``: a credit note and a replacement invoice when a tax id arrives later;
- ``parties``: the brand, seller and buyer snapshots a document is issued with;
- ``taxing``: the rate table and the tax engine's result as document fields;
- ``problems``: documents that could not be issued, and retrying them.
"""

from billingdesk.documents.services.credit import credit_note_issue_for_refund
from billingdesk.documents.services.issue import (
    PAID_STATUSES,
    SALE_KINDS,
    _issue,
    document_issue_for_charge,
)
from billingdesk.documents.services.parties import (
    brand_for_account,
    buyer_snapshot,
    seller_snapshot,
)
from billingdesk.documents.services.problems import (
    issue_problem_record,
    issue_problem_resolve,
    issue_problem_retry,
)
from billingdesk.documents.services.reissue import (
    KEEP_GROSS,
    KEEP_NET,
    billing_profile_set_tax_id,
    document_reissue_for_tax_id,
    reissue_price_policy,
)
from billingdesk.documents.services.taxing import rate_table, tax_fields

__all__ = [
    "KEEP_GROSS",
    "KEEP_NET",
    "PAID_STATUSES",
    "SALE_KINDS",
    "_issue",
    "billing_profile_set_tax_id",
    "brand_for_account",
    "buyer_snapshot",
    "credit_note_issue_for_refund",
    "document_issue_for_charge",
    "document_reissue_for_tax_id",
    "issue_problem_record",
    "issue_problem_resolve",
    "issue_problem_retry",
    "rate_table",
    "reissue_price_policy",
    "seller_snapshot",
    "tax_fields",
]
