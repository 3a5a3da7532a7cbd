"""Every label of a document is in the document's language, from this app's gettext
catalogues: no French wording in other languages, refund reasons translated, regional number
formats for AU and IN, "tax point" for the UK only, French typography."""

from __future__ import annotations

import pytest

from billingdesk.documents.models import Document
from billingdesk.documents.render.labels import LABELS, LANGUAGES, MENTIONS, label, mention

from .conftest import pdf_text, profile_set, shop_create

pytestmark = pytest.mark.django_db

# Words that only appear in the French wording of the labels and mentions.
FRENCH_ONLY = ("Pénalités", "taux BCE", "indemnité", "escompte", "Date d'émission", "Motif")


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_every_label_and_mention_is_translated_in_the_catalogue(lang):
    # The English message id never comes back for a key that has its own wording...
    same_in_english = {"page", "VAT", "total_gross", "tax_invoice"}
    for key in LABELS:
        if key not in same_in_english:
            assert label(key, lang) != LABELS[key], (lang, key)
    for key in MENTIONS:
        assert mention(key, lang) != MENTIONS[key], (lang, key)


def _french_b2b_document(drain_tasks, lang: str) -> Document:
    shop = shop_create("FR", language=lang)
    charge = shop.pay(amount=12000, country="FR", name="Client SARL")
    profile_set(
        charge.customer,
        company_name="Client SARL",
        country="FR",
        tax_id="FR44732829320",
        language=lang,
    )
    drain_tasks()
    shop.refund(charge, 2000, reason="requested_by_customer")
    drain_tasks()
    return Document.objects.get(kind="credit_note")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["ECB rate + 10 points", "requested by the customer", "share capital 10 000 €"]),
        ("de", ["EZB-Zinssatz + 10 Prozentpunkte", "auf Wunsch des Kunden", "Stammkapital"]),
        ("es", ["tipo del BCE + 10 puntos", "a petición del cliente", "capital social"]),
        ("fr", ["taux BCE + 10 points", "Motif : à la demande du client", "Date d'émission :"]),
    ],
)
def test_a_french_sellers_document_speaks_only_the_documents_language(drain_tasks, lang, expected):
    text = pdf_text(bytes(_french_b2b_document(drain_tasks, lang).pdf))
    for phrase in expected:
        assert phrase in text, (lang, phrase)
    assert "requested_by_customer" not in text
    if lang != "fr":
        for word in FRENCH_ONLY:
            assert word not in text, (lang, word)


def test_australian_and_indian_documents_use_their_number_formats(drain_tasks):
    au = shop_create("AU")
    charge = au.pay(amount=110000, currency="AUD", country="AU")
    drain_tasks()
    text = pdf_text(bytes(Document.objects.get(charge=charge).pdf))
    assert "$1,100.00" in text and "(tax point)" not in text
    india = shop_create("IN")
    charge = india.pay(amount=11800000, currency="INR", country="IN")
    drain_tasks()
    text = pdf_text(bytes(Document.objects.get(charge=charge).pdf))
    assert "₹1,18,000.00" in text  # Indian digit grouping (lakh)
    assert "(tax point)" not in text


def test_the_uk_keeps_its_tax_point(drain_tasks):
    shop = shop_create("GB")
    charge = shop.pay(amount=12000, currency="GBP", country="GB")
    drain_tasks()
    assert "Date of supply (tax point)" in pdf_text(bytes(Document.objects.get(charge=charge).pdf))
