"""Agent actions in plain words for the panel's "Agent actions" lines.

Kept small and separate so that a central map of action and reason labels (the console's)
can replace it without touching the renderers.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from billingdesk.actions.models import ActionKind, AuditEntry
from billingdesk.actions.rules import TAX_ID_TYPES
from billingdesk.core.labels import label


def audit_headline(entry: AuditEntry) -> str:
    """What the entry says happened: "EU VAT number FR12345678901 added" for a tax id
    (``tax_type`` and ``tax_value`` annotated by the panel's selector), else the action."""
    value = getattr(entry, "tax_value", None)
    if entry.action == ActionKind.ADD_TAX_ID and value:
        code = getattr(entry, "tax_type", None) or ""
        kind = _(TAX_ID_TYPES[code]) if code in TAX_ID_TYPES else _("Tax id")
        if entry.result == "succeeded":
            return _("%(kind)s %(value)s added") % {"kind": kind, "value": value}
        return f"{kind} {value}"  # the result badge beside it says what became of it
    return label(entry.action, "action")
