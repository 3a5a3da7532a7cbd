"""What a document says, in its language: the locale of an issuing country, money, dates
and percentages formatted with Babel, the document's title, refund reasons and the legal
mentions each jurisdiction requires (``mentions_for``). Also used by the emails.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from babel.dates import format_date
from babel.numbers import format_decimal

from billingdesk.core.money import money_format
from billingdesk.documents.render.labels import (
    COUNTRY_LANGUAGE,
    IN_STATES,
    label,
    language_for,
    mention,
)
from billingdesk.documents.tax import EU_COUNTRIES

if TYPE_CHECKING:
    from billingdesk.documents.models import Document


_LOCALES = {"en": "en_GB", "fr": "fr_FR", "es": "es_ES", "de": "de_DE"}
# English documents of these sellers use the country's conventions (en_IN groups digits as
# 1,18,000.00; dates and currency signs follow the country).
_REGIONAL_ENGLISH = {"AU": "en_AU", "IN": "en_IN", "NZ": "en_NZ", "CA": "en_CA", "IE": "en_IE"}


def regional(lang: str, seller_country: str) -> str:
    """The Babel locale a document is formatted in: its language, in the seller's country's
    variant for English (en_AU, en_IN…)."""
    if lang == "en" and seller_country in _REGIONAL_ENGLISH:
        return _REGIONAL_ENGLISH[seller_country]
    return lang


def _babel(lang: str) -> str:
    return _LOCALES.get(lang, lang)


def colon(lang: str) -> str:
    """A label's colon: French typography puts a (narrow no-break) space before it."""
    return "\u202f:" if language_for(lang) == "fr" else ":"


_REFUND_REASONS = {
    "requested_by_customer": "reason_requested_by_customer",
    "duplicate": "reason_duplicate",
    "fraudulent": "reason_fraudulent",
    "expired_uncaptured_charge": "reason_expired_uncaptured_charge",
    "refund": "reason_refund",
    "customer tax id added: replaced by a new invoice": "reason_tax_id_replaced",
    "customer tax id added": "reason_tax_id_added",
}


def reason_text(reason: str, lang: str) -> str:
    """A document's reason in its language: gateway codes and billingdesk's own reasons are
    translated; an agent's free text is printed as written."""
    key = _REFUND_REASONS.get(reason.strip().lower())
    return label(key, lang) if key else reason


def money(amount: int, currency: str, lang: str) -> str:
    return money_format(amount, currency, locale=_babel(lang))  # the kernel's one way


# Dates and rates recur in every document and Babel's formatting is pure: remembered.
@lru_cache(maxsize=4096)
def day(value: date, lang: str) -> str:
    return format_date(value, format="long", locale=_babel(lang))


@lru_cache(maxsize=1024)
def percent(value: str, lang: str) -> str:
    return format_decimal(Decimal(value), format="#,##0.###", locale=_babel(lang)) + " %"


def title_for(document: Document, lang: str) -> str:
    seller_country = document.seller.get("country")
    if document.kind == "credit_note":
        return label("adjustment_note" if seller_country == "AU" else "credit_note", lang)
    if seller_country in {"AU", "NZ", "IN"} and document.tax > 0:
        return label("tax_invoice", lang)  # AU: the words "tax invoice" are required
    return label("receipt" if document.kind == "receipt" else "invoice", lang)


def mentions_for(document: Document, lang: str) -> list[str]:
    """The legal mentions this document must carry, in its language (plus the seller's own
    language where that jurisdiction prescribes the wording)."""
    seller, buyer = document.seller, document.buyer
    country = seller.get("country", "")
    langs = [lang]
    own = COUNTRY_LANGUAGE.get(country)
    if own and own != language_for(lang):
        langs.append(own)
    out: list[str] = []

    def add(key: str, **values: str) -> None:
        for code in langs:
            text = mention(key, code).format(**values)
            if text not in out:
                out.append(text)

    treatment = document.treatment
    if treatment == "reverse_charge":
        add("reverse_charge")
    elif treatment == "oss":
        add("oss")
    elif treatment == "outside_scope":
        add("outside_scope_gb" if country == "GB" else "outside_scope_eu")
    elif treatment == "export":
        add("in_export" if country == "IN" else "export")
    elif treatment == "not_registered":
        add("not_registered")
    if country in EU_COUNTRIES:
        out.append(label("services", lang))
    if country == "FR" and buyer.get("is_business"):
        # B2B payment terms (C. com. L441-10): in the document's language only.
        terms = seller.get("late_payment_terms") or label("fr_default_penalties", lang)
        out.append(mention("fr_penalties", lang).format(terms=terms))
    if country in {"AU", "NZ"} and document.tax > 0 and document.prices_include_tax:
        add("gst_included")
    if country == "IN":
        state = buyer.get("region") or seller.get("region") or ""
        code, name = IN_STATES.get(state.upper(), ("", state))
        if treatment == "export":
            out.append(f"Place of supply: outside India ({buyer.get('country', '')})")
        else:
            out.append(f"Place of supply: {name} (state code {code})")
        out.append("Tax payable on reverse charge: No")
        out.append(f"SAC: {(seller.get('company_ids') or {}).get('SAC', '998314')}")
    return out
