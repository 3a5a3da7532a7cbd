"""Reads for the agent console and panel, one module per job: ``search`` (finding a person),
``person`` (everything shown about one), ``approvals`` (requests waiting for finance).

The public names stay importable from ``billingdesk.panel.selectors``.
"""

from billingdesk.panel.selectors.approvals import Approvals, pending_approvals
from billingdesk.panel.selectors.person import (
    PANEL_ROWS,
    PERSON_PAGE_ROWS,
    PanelData,
    Section,
    charges_older,
    documents_first,
    panel_data,
    panel_data_of_charges,
)
from billingdesk.panel.selectors.search import (
    MAX_MATCHES,
    MAX_QUERY_LENGTH,
    PersonHit,
    QueryKind,
    SearchResult,
    person_search,
    query_kinds,
)

__all__ = [
    "MAX_MATCHES",
    "MAX_QUERY_LENGTH",
    "PANEL_ROWS",
    "PERSON_PAGE_ROWS",
    "Approvals",
    "PanelData",
    "PersonHit",
    "QueryKind",
    "SearchResult",
    "Section",
    "charges_older",
    "documents_first",
    "panel_data",
    "panel_data_of_charges",
    "pending_approvals",
    "person_search",
    "query_kinds",
]
