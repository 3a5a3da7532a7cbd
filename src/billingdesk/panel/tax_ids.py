"""Tax ids in the panel: which type a customer's number most likely is, and whether a number
typed is the seller's own (an agent copying the VAT number from our invoice, not theirs)."""

from __future__ import annotations

from billingdesk.billing.models import Customer, Mirrored
from billingdesk.documents.models import LegalEntity
from billingdesk.documents.tax import EU_COUNTRIES

# The tax id type of a customer's country, when it has one obvious type.
_TYPE_BY_COUNTRY = {"GB": "gb_vat", "CH": "ch_vat", "NO": "no_vat", "AU": "au_abn", "IN": "in_gst"}


def tax_type_default(target: Mirrored) -> str:
    """The tax id type to preselect for a customer ('' when the country says nothing)."""
    country = (target.country if isinstance(target, Customer) else "").upper()
    if country in EU_COUNTRIES:
        return "eu_vat"
    return _TYPE_BY_COUNTRY.get(country, "")


def _plain(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def seller_with_tax_id(value: str) -> str:
    """The name of our legal entity whose VAT number ``value`` is ('' if none)."""
    wanted = _plain(value)
    if len(wanted) < 4:
        return ""
    for name, number in LegalEntity.objects.exclude(vat_number="").values_list(
        "name", "vat_number"
    ):
        if _plain(number) == wanted:
            return str(name)
    return ""
