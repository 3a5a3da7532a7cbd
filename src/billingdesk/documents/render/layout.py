"""The branded one-page layout of invoices, receipts and credit notes, and its PDF/A-3b output.

Everything printed comes from the document's own snapshots (seller, buyer, lines, taxes), so a
re-render of an old document prints what was issued, whatever the brand has become since. The
mentions each jurisdiction requires are chosen in ``wording.mentions_for``; numbers, money and dates
are formatted with Babel in the document's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape as xml_escape

from babel.numbers import format_decimal
from django.conf import settings
from facturx.facturx import generate_xmp_bytes

from billingdesk.documents.render.facturx import facturx_applies, facturx_xml
from billingdesk.documents.render.labels import (
    IN_STATES,
    label,
    language_for,
)
from billingdesk.documents.render.pdfwriter import (
    Attachment,
    Font,
    LogoError,
    Page,
    load_font,
    pdf_build,
    png_parse,
    xmp_basic,
)

if TYPE_CHECKING:
    from billingdesk.documents.models import Brand, Document
from billingdesk.documents.render.wording import _babel
from billingdesk.documents.render.wording import colon as colon
from billingdesk.documents.render.wording import day as day
from billingdesk.documents.render.wording import mentions_for as mentions_for
from billingdesk.documents.render.wording import money as money
from billingdesk.documents.render.wording import percent as percent
from billingdesk.documents.render.wording import reason_text as reason_text
from billingdesk.documents.render.wording import regional as regional
from billingdesk.documents.render.wording import title_for as title_for

MARGIN = 42.0
TEXT = "#1A1A1A"
MUTED = "#555555"


def fonts() -> tuple[Font, Font]:
    base = settings.BILLINGDESK_PDF_FONT_DIR.rstrip("/")
    return (
        load_font(f"{base}/DejaVuSans.ttf", "BdSans"),
        load_font(f"{base}/DejaVuSans-Bold.ttf", "BdSansBold"),
    )


def _wrap(text: str, font: Font, size: float, width: float) -> list[str]:
    """Break text into lines that fit ``width`` (each word measured once)."""
    space = font.width(" ", size)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current: list[str] = []
        used = 0.0
        for word in paragraph.split(" "):
            w = font.width(word, size)
            if current and used + space + w > width:
                lines.append(" ".join(current))
                current, used = [word], w
            else:
                used += (space if current else 0) + w
                current.append(word)
        lines.append(" ".join(current))
    return lines


class _Writer:
    """A top-down cursor over pages, starting a new page when one is full."""

    def __init__(self, document: Document, brand: Brand, lang: str) -> None:
        self.document, self.brand, self.lang = document, brand, lang
        self.regular, self.bold = fonts()
        self.pages: list[Page] = []
        self.new_page()

    def new_page(self) -> None:
        self.page = Page()
        self.pages.append(self.page)
        self.y = MARGIN

    def need(self, height: float) -> None:
        if self.y + height > self.page.height - 70:
            self.new_page()

    def block(
        self,
        x: float,
        width: float,
        lines: list[str],
        *,
        size: float = 8.5,
        bold_first: bool = False,
        color: str = TEXT,
    ) -> float:
        y = self.y
        for index, text in enumerate(lines):
            font = self.bold if bold_first and index == 0 else self.regular
            for part in _wrap(text, font, size, width):
                y += size * 1.35
                self.page.text(x, y, part, font, size, color)
        return y


HEADER_SIZE = 7.0
HEADER_LEADING = 8.5
GUTTER = 6.0
# Column slots as fractions of the table width: (key, left, right, alignment).
COLUMNS = (
    ("description", 0.0, 0.50, "left"),
    ("quantity", 0.50, 0.59, "right"),
    ("unit_price", 0.59, 0.75, "right"),
    ("rate", 0.75, 0.85, "right"),
    ("amount", 0.85, 1.0, "right"),
)


@dataclass(frozen=True)
class HeaderBox:
    key: str
    lines: list[str]
    left: float  # the text's extent, from the table's left edge
    right: float
    top: float
    bottom: float
    align: str


_HEADERS: dict[tuple[str, str, float], list[HeaderBox]] = {}


def table_header(lang: str, font: Font, width: float) -> list[HeaderBox]:
    """The lines-table headers, each measured and wrapped to fit its column slot (less a
    gutter), so no two ever overlap whatever the language's wording (computed once per
    language and font)."""
    key = (lang, font.name, width)
    if key not in _HEADERS:
        _HEADERS[key] = _table_header(lang, font, width)
    return _HEADERS[key]


def _table_header(lang: str, font: Font, width: float) -> list[HeaderBox]:
    boxes = []
    for key, start, end, align in COLUMNS:
        slot_left = width * start + (4 if start == 0 else GUTTER)
        slot_right = width * end - (4 if end == 1 else 0)
        lines = _wrap(label(key, lang), font, HEADER_SIZE, slot_right - slot_left)
        widest = max(font.width(line, HEADER_SIZE) for line in lines)
        left, right = (
            (slot_left, slot_left + widest)
            if align == "left"
            else (slot_right - widest, slot_right)
        )
        boxes.append(HeaderBox(key, lines, left, right, 0.0, len(lines) * HEADER_LEADING, align))
    return boxes


def _party_lines(snapshot: dict[str, Any], lang: str, *, seller: bool) -> list[str]:
    lines = [snapshot.get("name") or "—"]
    if seller and (snapshot.get("legal_form") or snapshot.get("share_capital")):
        extra = snapshot.get("legal_form", "")
        if snapshot.get("share_capital"):
            extra += f" — {label('capital', lang)} {snapshot['share_capital']}"
        lines.append(extra.strip(" —"))
    lines += [line for line in snapshot.get("address_lines", []) if line]
    city = " ".join(p for p in (snapshot.get("postcode"), snapshot.get("city")) if p)
    region = snapshot.get("region") or ""
    if snapshot.get("country") == "IN" and region.upper() in IN_STATES:
        code, name = IN_STATES[region.upper()]
        region = f"{name} ({code})"
    place = ", ".join(p for p in (city, region, snapshot.get("country") or "") if p)
    if place:
        lines.append(place)
    tax_id = snapshot.get("vat_number") if seller else snapshot.get("tax_id")
    if tax_id:
        lines.append(f"{_tax_id_label(snapshot.get('country', ''), lang)} {tax_id}")
    for scheme, value in (snapshot.get("company_ids") or {}).items():
        if scheme != "SAC":
            lines.append(f"{scheme} {value}")
    if snapshot.get("email"):
        lines.append(snapshot["email"])
    return lines


def _tax_id_label(country: str, lang: str) -> str:
    if country == "AU":
        return "ABN"
    if country == "IN":
        return "GSTIN"
    if country == "NZ":
        return "GST No."
    if country == "CA":
        return "GST/HST No."
    if country == "GB":
        return "VAT Reg. No."
    if country == "ES":
        return "NIF"
    return label("vat_number", lang)


def document_pdf(document: Document, brand: Brand) -> bytes:
    """Render ``document`` as PDF/A-3b, with Factur-X XML embedded for EU B2B documents."""
    lang = regional(language_for(document.language), document.seller.get("country", ""))
    # "Tax point" is the UK's term for the date of supply.
    supply_key = (
        "supply_date_tax_point" if document.seller.get("country") == "GB" else "supply_date"
    )
    w = _Writer(document, brand, lang)
    page, regular, bold = w.page, w.regular, w.bold
    width = page.width - 2 * MARGIN
    currency = document.currency
    # Header band: logo or brand name on the brand colour, title and number on the right.
    page.rect(0, 0, page.width, 70, brand.primary_color)
    logo = bytes(brand.logo_png or b"")
    if logo:
        try:
            image = png_parse(logo)
        except LogoError:
            image = None
        if image is not None:
            h = 40.0
            page.draw_image(image, MARGIN, 15, h * image.width / image.height, h)
    else:
        page.text(MARGIN, 43, brand.name, bold, 18, "#FFFFFF")
    title = title_for(document, lang)
    page.text(page.width - MARGIN, 33, title, bold, 16, "#FFFFFF", align="right")
    if document.seller.get("country") == "IN" and document.kind != "credit_note":
        # Rule 48: a tax invoice is issued in triplicate, the original marked for the recipient.
        page.text(
            page.width - MARGIN,
            64,
            label("original_for_recipient", lang).upper(),
            bold,
            7,
            "#FFFFFF",
            align="right",
        )
    page.text(
        page.width - MARGIN,
        52,
        f"{label('number', lang)} {document.number}",
        regular,
        10,
        "#FFFFFF",
        align="right",
    )
    w.y = 92
    meta = [
        f"{label('issue_date', lang)}{colon(lang)} {day(document.issued_at.date(), lang)}",
        f"{label(supply_key, lang)}{colon(lang)} {day(document.supply_date, lang)}",
    ]
    if document.kind != "credit_note":
        meta.append(f"{label('paid_on', lang)} {day(document.supply_date, lang)}")
    if document.original is not None:
        key = "refers_to" if document.kind == "credit_note" else "replaces"
        meta.append(
            label(key, lang).format(
                number=document.original.number,
                date=day(document.original.issued_at.date(), lang),
            )
        )
    if document.reason:
        meta.append(f"{label('reason', lang)}{colon(lang)} {reason_text(document.reason, lang)}")
    y_meta = w.block(MARGIN, width, meta)
    w.y = y_meta + 14
    half = width / 2 - 10
    page.text(MARGIN, w.y, label("seller", lang).upper(), bold, 7.5, MUTED)
    page.text(MARGIN + width / 2, w.y, label("buyer", lang).upper(), bold, 7.5, MUTED)
    w.y += 2
    y_seller = w.block(
        MARGIN, half, _party_lines(document.seller, lang, seller=True), bold_first=True
    )
    y_buyer = w.block(
        MARGIN + width / 2, half, _party_lines(document.buyer, lang, seller=False), bold_first=True
    )
    w.y = max(y_seller, y_buyer) + 18
    # Lines table: each column has its own slot; headers are measured and wrapped inside it.
    header = table_header(lang, bold, width)
    cols = [
        (MARGIN + box.right if box.align == "right" else MARGIN + box.left, box.key, box.align)
        for box in header
    ]
    band = max(len(box.lines) for box in header) * HEADER_LEADING + 8
    page.rect(MARGIN, w.y, width, band, brand.accent_color)
    for box in header:
        x = MARGIN + (box.right if box.align == "right" else box.left)
        for index, text in enumerate(box.lines):
            y = w.y + 11 + index * HEADER_LEADING
            page.text(x, y, text, bold, HEADER_SIZE, TEXT, align=box.align)
    w.y += band
    for line in document.lines:
        parts = _wrap(line["description"], regular, 8.5, width * 0.45)
        w.need(12 * len(parts) + 6)
        page = w.page
        y = w.y
        for part in parts:
            y += 12
            page.text(cols[0][0], y, part, regular, 8.5, TEXT)
        first = w.y + 12
        page.text(cols[1][0], first, str(line["quantity"]), regular, 8.5, TEXT, align="right")
        page.text(
            cols[2][0],
            first,
            money(line["unit_net"], currency, lang),
            regular,
            8.5,
            TEXT,
            align="right",
        )
        page.text(
            cols[3][0], first, percent(line["percent"], lang), regular, 8.5, TEXT, align="right"
        )
        page.text(
            cols[4][0],
            first,
            money(line["net"], currency, lang),
            regular,
            8.5,
            TEXT,
            align="right",
        )
        w.y = y + 6
        page.line(MARGIN, w.y, MARGIN + width, w.y, "#DDDDDD", 0.5)
    # Tax summary (per rate) and totals.
    w.need(40 + 14 * len(document.tax_lines))
    page = w.page
    w.y += 16
    page.text(MARGIN, w.y, label("tax_summary", lang), bold, 8.5, TEXT)
    for tax_line in document.tax_lines:
        w.y += 13
        name = tax_line["name"] or label("tax_amount", lang)
        if name == "VAT":
            name = label("VAT", lang)
        page.text(
            MARGIN,
            w.y,
            f"{name} {percent(tax_line['percent'], lang)} — {label('taxable', lang)} "
            f"{money(tax_line['taxable'], currency, lang)} — {label('tax_amount', lang)} "
            f"{money(tax_line['amount'], currency, lang)}",
            regular,
            8.5,
            TEXT,
        )
    right = MARGIN + width
    totals = [
        (label("total_net", lang), money(document.net, currency, lang), regular),
        (label("total_tax", lang), money(document.tax, currency, lang), regular),
        (label("total_gross", lang), money(document.gross, currency, lang), bold),
    ]
    w.y += 18
    for name, value, font in totals:
        w.y += 15
        page.text(right - 150, w.y, name, font, 10, TEXT, align="right")
        page.text(right, w.y, value, font, 10, TEXT, align="right")
    converted = document.vat_accounting
    if converted:
        # Art. 230 Directive 2006/112/EC: the VAT in the seller's national currency too.
        w.y += 15
        page.text(
            right,
            w.y,
            label("vat_converted", lang).format(
                currency=converted["currency"],
                amount=money(int(converted["tax"]), converted["currency"], lang),
                rate=format_decimal(
                    Decimal(converted["rate"]), format="#,##0.######", locale=_babel(lang)
                ),
                source=converted["source"],
                date=day(date.fromisoformat(converted["rate_date"]), lang),
                doc_currency=converted["from"],
            ),
            regular,
            8,
            MUTED,
            align="right",
        )
    w.y += 22
    notes = mentions_for(document, lang)
    if notes:
        w.need(14 * len(notes) + 10)
        w.y = w.block(MARGIN, width, notes, size=8, color=MUTED) + 6
    if document.seller.get("country") == "IN":
        _signature_block(w, document, lang, width)
    # Footer on every page: brand footer and page numbers (n/N).
    footer = brand.footer.strip()
    for number, each in enumerate(w.pages, start=1):
        y = each.height - 40
        each.line(MARGIN, y - 12, MARGIN + width, y - 12, brand.primary_color, 0.8)
        for part in _wrap(footer, regular, 7, width - 60)[:3]:
            each.text(MARGIN, y, part, regular, 7, MUTED)
            y += 9
        each.text(
            MARGIN + width,
            each.height - 40,
            f"{label('page', lang)} {number}/{len(w.pages)}",
            regular,
            7,
            MUTED,
            align="right",
        )
    attachments: list[Attachment] = []
    created = document.issued_at
    if facturx_applies(document):
        attachments.append(
            Attachment(
                name="factur-x.xml",
                data=facturx_xml(document),
                mime="text/xml",
                description="Factur-X invoice (EN 16931)",
                relationship="Data",
            )
        )
        xmp = _xmp_fixed(
            _facturx_xmp(
                title=f"{title} {document.number}", author=document.seller.get("name", "")
            ),
            created,
        )
    else:
        xmp = xmp_basic(
            title=f"{title} {document.number}", lang=lang.replace("_", "-"), created=created
        )
    return pdf_build(
        pages=w.pages,
        fonts=[regular, bold],
        xmp=xmp,
        lang=lang.replace("_", "-"),
        attachments=attachments,
        created=created,
    )


# Stand-ins the factur-x library writes into its XMP once (they need no XML escaping); each
# document's values replace them, escaped. Building the XMP took a tenth of a PDF's time.
_XMP_TITLE = "BDXMPTITLESTANDIN"
_XMP_AUTHOR = "BDXMPAUTHORSTANDIN"


@lru_cache(maxsize=1)
def _facturx_xmp_template() -> bytes:
    return bytes(
        generate_xmp_bytes(
            "factur-x",
            "en16931",
            None,
            {"title": _XMP_TITLE, "author": _XMP_AUTHOR, "subject": _XMP_TITLE},
        )
    )


def _facturx_xmp(*, title: str, author: str) -> bytes:
    """The factur-x library's XMP for a Factur-X EN 16931 document with this title (also its
    subject) and author, from the template it wrote once."""
    return (
        _facturx_xmp_template()
        .replace(_XMP_TITLE.encode(), xml_escape(title).encode("ascii", "xmlcharrefreplace"))
        .replace(_XMP_AUTHOR.encode(), xml_escape(author).encode("ascii", "xmlcharrefreplace"))
    )


_XMP_DATES = re.compile(rb"<xmp:(CreateDate|ModifyDate|MetadataDate)>[^<]*</xmp:\1>")


def _xmp_fixed(xmp: bytes, created: datetime) -> bytes:
    """The factur-x library's XMP, corrected for PDF/A: every ``rdf:Description`` gets the
    ``rdf:about=""`` the XMP spec requires, the producer is us (it says "pypdf"), and the dates
    are the document's (it writes the time of rendering, which differs between re-renders)."""
    stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    xmp = xmp.replace(b"<rdf:Description>", b'<rdf:Description rdf:about="">')
    xmp = re.sub(
        rb"<pdf:Producer>[^<]*</pdf:Producer>", b"<pdf:Producer>billingdesk</pdf:Producer>", xmp
    )
    return _XMP_DATES.sub(lambda m: b"<xmp:%s>%s</xmp:%s>" % (m[1], stamp, m[1]), xmp)


def _signature_block(w: _Writer, document: Document, lang: str, width: float) -> None:
    """India, rule 46(q): "For <supplier>", the signature (the legal entity's image, when one
    is set) and "Authorised signatory"."""
    w.need(80)
    page = w.page
    right = MARGIN + width
    page.text(
        right,
        w.y + 10,
        label("for_supplier", lang).format(name=document.seller.get("name", "")),
        w.bold,
        8.5,
        TEXT,
        align="right",
    )
    signature = (
        bytes(document.legal_entity.signature_png or b"")
        if document.seller.get("has_signature")
        else b""
    )
    if signature:
        try:
            image = png_parse(signature)
        except LogoError:
            image = None
        if image is not None:
            h = 36.0
            iw = h * image.width / image.height
            page.draw_image(image, right - iw, w.y + 16, iw, h)
    page.text(
        right, w.y + 64, label("authorised_signatory", lang), w.regular, 8, MUTED, align="right"
    )
    w.y += 72
