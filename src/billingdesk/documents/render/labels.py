# ruff: noqa: E501  (legal wording reads better unbroken; one mention per line)
"""Document wording in en, fr, es, de: labels, titles and the legal mentions per regime.

Kept as data here rather than gettext catalogues because the wording is legal text chosen per
jurisdiction (e.g. German "Rechnungskorrektur", never "Gutschrift", which means self-billing),
not a translation of English; each entry cites the rule it implements in docs/documents.md.
"""

from __future__ import annotations

LANGUAGES = ("en", "fr", "es", "de")

LABELS: dict[str, dict[str, str]] = {
    "invoice": {"en": "Invoice", "fr": "Facture", "es": "Factura", "de": "Rechnung"},
    "tax_invoice": {
        "en": "Tax invoice",
        "fr": "Facture (tax invoice)",
        "es": "Factura (tax invoice)",
        "de": "Rechnung (tax invoice)",
    },
    "receipt": {"en": "Receipt", "fr": "Reçu", "es": "Factura simplificada", "de": "Quittung"},
    "credit_note": {
        "en": "Credit note",
        "fr": "Avoir",
        "es": "Factura rectificativa",
        "de": "Rechnungskorrektur",
    },
    "adjustment_note": {
        "en": "Adjustment note",
        "fr": "Avoir (adjustment note)",
        "es": "Factura rectificativa (adjustment note)",
        "de": "Rechnungskorrektur (adjustment note)",
    },
    "number": {"en": "No.", "fr": "N°", "es": "Nº", "de": "Nr."},
    "issue_date": {
        "en": "Date of issue",
        "fr": "Date d'émission",
        "es": "Fecha de expedición",
        "de": "Rechnungsdatum",
    },
    "supply_date": {
        "en": "Date of supply (tax point)",
        "fr": "Date de la prestation",
        "es": "Fecha de la operación",
        "de": "Leistungsdatum",
    },
    "paid_on": {"en": "Paid on", "fr": "Payée le", "es": "Pagada el", "de": "Bezahlt am"},
    "seller": {"en": "From", "fr": "Émetteur", "es": "Emisor", "de": "Rechnungssteller"},
    "buyer": {"en": "Bill to", "fr": "Client", "es": "Destinatario", "de": "Rechnungsempfänger"},
    "vat_number": {
        "en": "VAT number",
        "fr": "N° TVA intracommunautaire",
        "es": "NIF-IVA",
        "de": "USt-IdNr.",
    },
    "description": {
        "en": "Description",
        "fr": "Désignation",
        "es": "Concepto",
        "de": "Beschreibung",
    },
    "quantity": {"en": "Qty", "fr": "Qté", "es": "Cant.", "de": "Menge"},
    "unit_price": {
        "en": "Unit price excl. tax",
        "fr": "Prix unitaire HT",
        "es": "Precio unitario sin IVA",
        "de": "Einzelpreis netto",
    },
    "rate": {"en": "Tax rate", "fr": "Taux TVA", "es": "Tipo IVA", "de": "USt-Satz"},
    "amount": {
        "en": "Amount excl. tax",
        "fr": "Montant HT",
        "es": "Importe sin IVA",
        "de": "Netto",
    },
    "tax_summary": {
        "en": "Tax summary",
        "fr": "Récapitulatif TVA",
        "es": "Desglose de impuestos",
        "de": "Steuerübersicht",
    },
    "taxable": {
        "en": "Taxable amount",
        "fr": "Base HT",
        "es": "Base imponible",
        "de": "Bemessungsgrundlage",
    },
    "tax_amount": {"en": "Tax", "fr": "Montant TVA", "es": "Cuota", "de": "Steuerbetrag"},
    "total_net": {
        "en": "Total excl. tax",
        "fr": "Total HT",
        "es": "Total sin IVA",
        "de": "Summe netto",
    },
    "total_tax": {"en": "Total tax", "fr": "Total TVA", "es": "Total IVA", "de": "Summe USt"},
    "total_gross": {"en": "Total", "fr": "Total TTC", "es": "Total", "de": "Gesamtbetrag"},
    "refers_to": {
        "en": "Corrects invoice {number} of {date}",
        "fr": "Se rapporte à la facture n° {number} du {date}",
        "es": "Rectifica la factura {number} de {date}",
        "de": "Korrektur zur Rechnung Nr. {number} vom {date}",
    },
    "replaces": {
        "en": "Cancels and replaces invoice {number} of {date}",
        "fr": "Annule et remplace la facture n° {number} du {date}",
        "es": "Sustituye a la factura {number} de {date}",
        "de": "Ersetzt die Rechnung Nr. {number} vom {date}",
    },
    "reason": {"en": "Reason", "fr": "Motif", "es": "Motivo", "de": "Grund"},
    "services": {
        "en": "Nature of the supply: services",
        "fr": "Nature de l'opération : prestation de services",
        "es": "Naturaleza de la operación: prestación de servicios",
        "de": "Art der Leistung: sonstige Leistung",
    },
    "VAT": {"en": "VAT", "fr": "TVA", "es": "IVA", "de": "USt"},
    "page": {"en": "Page", "fr": "Page", "es": "Página", "de": "Seite"},
    "vat_converted": {
        "en": "VAT in {currency}: {amount} (1 {doc_currency} = {rate} {currency}, {source} reference rate of {date})",
        "fr": "TVA en {currency} : {amount} (1 {doc_currency} = {rate} {currency}, taux de référence {source} du {date})",
        "es": "IVA en {currency}: {amount} (1 {doc_currency} = {rate} {currency}, tipo de referencia {source} del {date})",
        "de": "USt in {currency}: {amount} (1 {doc_currency} = {rate} {currency}, Referenzkurs {source} vom {date})",
    },
}

# What each regime must say, in each language (EU Art. 226(11a); FR CGI 242 nonies A 13°;
# ES RD 1619/2012 art. 6.1.m; DE UStG §14a(5)).
MENTIONS: dict[str, dict[str, str]] = {
    "reverse_charge": {
        "en": "Reverse charge: VAT to be accounted for by the customer (Art. 196 Directive 2006/112/EC)",
        "fr": "Autoliquidation : TVA due par le preneur (art. 283-2 du CGI, art. 196 directive 2006/112/CE)",
        "es": "Inversión del sujeto pasivo (art. 196 Directiva 2006/112/CE)",
        "de": "Steuerschuldnerschaft des Leistungsempfängers (§13b UStG, Art. 196 MwStSystRL)",
    },
    "oss": {
        "en": "VAT of the customer's member state charged under the One-Stop Shop (Art. 58 Directive 2006/112/EC)",
        "fr": "TVA du pays du client, déclarée via le guichet unique OSS (art. 58 directive 2006/112/CE)",
        "es": "IVA del Estado miembro del cliente, declarado en la ventanilla única OSS (art. 58 Directiva 2006/112/CE)",
        "de": "USt des Mitgliedstaats des Kunden, erklärt über das One-Stop-Shop-Verfahren (Art. 58 MwStSystRL)",
    },
    "outside_scope_eu": {
        "en": "Not subject to EU VAT: services supplied outside the EU (Art. 44/59 Directive 2006/112/EC)",
        "fr": "TVA non applicable, art. 259-1 du CGI (prestation hors UE)",
        "es": "Operación no sujeta al IVA (art. 69 Ley 37/1992): servicio prestado fuera de la UE",
        "de": "Nicht im Inland steuerbare Leistung (§3a Abs. 2 UStG)",
    },
    "outside_scope_gb": {
        "en": "Outside the scope of UK VAT (place of supply outside the UK); reverse charge by the customer",
        "fr": "Hors du champ de la TVA britannique ; autoliquidation par le client",
        "es": "Fuera del ámbito del IVA británico; inversión del sujeto pasivo",
        "de": "Nicht steuerbar im Vereinigten Königreich; Steuerschuldnerschaft des Leistungsempfängers",
    },
    "export": {
        "en": "Zero-rated / GST-free export of services",
        "fr": "Exportation de services exonérée (taux zéro)",
        "es": "Exportación de servicios exenta (tipo cero)",
        "de": "Steuerfreie Ausfuhr von Dienstleistungen (Nullsatz)",
    },
    "in_export": {
        "en": "Supply meant for export under LUT without payment of IGST",
        "fr": "Exportation sous LUT sans paiement de l'IGST",
        "es": "Exportación bajo LUT sin pago de IGST",
        "de": "Ausfuhr unter LUT ohne Zahlung von IGST",
    },
    "not_registered": {
        "en": "No tax charged: the seller is not registered for tax",
        "fr": "TVA non applicable, art. 293 B du CGI",
        "es": "Operación sin IVA: emisor no registrado",
        "de": "Gemäß §19 UStG wird keine Umsatzsteuer berechnet",
    },
    "fr_penalties": {
        "en": "Late payment penalties: {terms}; fixed recovery fee: 40 €; no discount for early payment",
        "fr": "Pénalités de retard : {terms} ; indemnité forfaitaire pour frais de recouvrement : 40 € ; pas d'escompte pour paiement anticipé",
        "es": "Intereses de demora: {terms}; indemnización por costes de cobro: 40 €; sin descuento por pronto pago",
        "de": "Verzugszinsen: {terms}; Pauschale für Beitreibungskosten: 40 €; kein Skonto",
    },
    "gst_included": {
        "en": "Total price includes GST",
        "fr": "Le prix total inclut la GST",
        "es": "El precio total incluye el GST",
        "de": "Der Gesamtpreis enthält GST",
    },
}

# France's default late-payment rate wording (C. com. L441-10: ECB rate + 10 points).
FR_DEFAULT_PENALTIES = "taux BCE + 10 points"

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


def label(key: str, lang: str) -> str:
    entry = LABELS[key]
    return entry.get(lang) or entry["en"]


def mention(key: str, lang: str) -> str:
    entry = MENTIONS[key]
    return entry.get(lang) or entry["en"]


def language_for(requested: str) -> str:
    code = (requested or "en").split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else "en"
