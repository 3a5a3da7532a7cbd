# ruff: noqa: E501  (legal wording reads better unbroken; one mention per line)
"""Document wording: labels, titles and the legal mentions per regime, in the document's
language from the gettext catalogues of this app (``documents/locale/<lang>/LC_MESSAGES``).

The English text here is the message id; each entry has its own context (``label <key>``,
``mention <key>``) because the wording is legal text chosen per jurisdiction, not a
translation of a shared English phrase (German "Rechnungskorrektur", never "Gutschrift",
which means self-billing). Edit a translation in the ``.po`` file and run ``msgfmt`` (or
``billingdesk compilemessages``; the catalogues are read once per process and each label is
cached); ``tests/test_language.py`` checks every label and mention
has its translation in every language and that none is left in another language's words.
"""

from __future__ import annotations

from functools import lru_cache

from django.utils.translation import trans_real

LANGUAGES = ("en", "fr", "es", "de")

# Labels (English message ids).
LABELS: dict[str, str] = {
    "invoice": "Invoice",
    "tax_invoice": "Tax invoice",
    "receipt": "Receipt",
    "credit_note": "Credit note",
    "adjustment_note": "Adjustment note",
    "number": "No.",
    "issue_date": "Date of issue",
    "supply_date_tax_point": "Date of supply (tax point)",
    "supply_date": "Date of supply",
    "paid_on": "Paid on",
    "seller": "From",
    "buyer": "Bill to",
    "vat_number": "VAT number",
    "description": "Description",
    "quantity": "Qty",
    "unit_price": "Unit price excl. tax",
    "rate": "Tax rate",
    "amount": "Amount excl. tax",
    "tax_summary": "Tax summary",
    "taxable": "Taxable amount",
    "tax_amount": "Tax",
    "total_net": "Total excl. tax",
    "total_tax": "Total tax",
    "total_gross": "Total",
    "refers_to": "Corrects invoice {number} of {date}",
    "replaces": "Cancels and replaces invoice {number} of {date}",
    "reason": "Reason",
    "services": "Nature of the supply: services",
    "VAT": "VAT",
    "page": "Page",
    "capital": "share capital",
    "reason_requested_by_customer": "requested by the customer",
    "reason_duplicate": "duplicate payment",
    "reason_fraudulent": "fraudulent payment",
    "reason_expired_uncaptured_charge": "authorisation expired",
    "reason_refund": "refund",
    "reason_tax_id_replaced": "customer tax id added: replaced by a new invoice",
    "reason_tax_id_added": "customer tax id added",
    "fr_default_penalties": "ECB rate + 10 points",
    "original_for_recipient": "Original for recipient",
    "authorised_signatory": "Authorised signatory",
    "for_supplier": "For {name}",
    "vat_converted": "VAT in {currency}: {amount} (1 {doc_currency} = {rate} {currency}, {source} reference rate of {date})",
}

# What each regime must say (EU Art. 226(11a); FR CGI 242 nonies A 13°; ES RD 1619/2012
# art. 6.1.m; DE UStG §14a(5)).
MENTIONS: dict[str, str] = {
    "reverse_charge": "Reverse charge: VAT to be accounted for by the customer (Art. 196 Directive 2006/112/EC)",
    "oss": "VAT of the customer's member state charged under the One-Stop Shop (Art. 58 Directive 2006/112/EC)",
    "outside_scope_eu": "Not subject to EU VAT: services supplied outside the EU (Art. 44/59 Directive 2006/112/EC)",
    "outside_scope_gb": "Outside the scope of UK VAT (place of supply outside the UK); reverse charge by the customer",
    "export": "Zero-rated / GST-free export of services",
    "in_export": "Supply meant for export under LUT without payment of IGST",
    "not_registered": "No tax charged: the seller is not registered for tax",
    "fr_penalties": "Late payment penalties: {terms}; fixed recovery fee: 40 €; no discount for early payment",
    "gst_included": "Total price includes GST",
}

# Indian state codes (GST state numbers) and names, for "place of supply" (rule 46(n)).
IN_STATES: dict[str, tuple[str, str]] = {
    "AP": ("37", "Andhra Pradesh"),
    "AR": ("12", "Arunachal Pradesh"),
    "AS": ("18", "Assam"),
    "BR": ("10", "Bihar"),
    "CG": ("22", "Chhattisgarh"),
    "DL": ("07", "Delhi"),
    "GA": ("30", "Goa"),
    "GJ": ("24", "Gujarat"),
    "HR": ("06", "Haryana"),
    "HP": ("02", "Himachal Pradesh"),
    "JH": ("20", "Jharkhand"),
    "JK": ("01", "Jammu and Kashmir"),
    "KA": ("29", "Karnataka"),
    "KL": ("32", "Kerala"),
    "MP": ("23", "Madhya Pradesh"),
    "MH": ("27", "Maharashtra"),
    "MN": ("14", "Manipur"),
    "ML": ("17", "Meghalaya"),
    "MZ": ("15", "Mizoram"),
    "NL": ("13", "Nagaland"),
    "OD": ("21", "Odisha"),
    "PB": ("03", "Punjab"),
    "RJ": ("08", "Rajasthan"),
    "SK": ("11", "Sikkim"),
    "TN": ("33", "Tamil Nadu"),
    "TS": ("36", "Telangana"),
    "TR": ("16", "Tripura"),
    "UP": ("09", "Uttar Pradesh"),
    "UK": ("05", "Uttarakhand"),
    "WB": ("19", "West Bengal"),
    "CH": ("04", "Chandigarh"),
    "PY": ("34", "Puducherry"),
    "LA": ("38", "Ladakh"),
}

# Which language's legal wording a seller's own jurisdiction requires, printed beside the
# customer's language when they differ.
COUNTRY_LANGUAGE = {"FR": "fr", "ES": "es", "DE": "de", "AT": "de", "BE": "fr", "LU": "fr"}


@lru_cache(maxsize=4096)
def label(key: str, lang: str) -> str:
    return str(trans_real.translation(language_for(lang)).pgettext(f"label {key}", LABELS[key]))


@lru_cache(maxsize=1024)
def mention(key: str, lang: str) -> str:
    return str(trans_real.translation(language_for(lang)).pgettext(f"mention {key}", MENTIONS[key]))


def language_for(requested: str) -> str:
    code = (requested or "en").split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else "en"
