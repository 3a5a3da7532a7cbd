"""The evidence packet as one PDF: summary pages written with the documents' own PDF writer
(``documents.render.pdfwriter``, the fonts the invoices use), then the charge's invoice,
receipt and credit-note PDFs appended as they were issued.

Appending issued PDFs page for page is what our small writer cannot do (it writes text and
rules, it does not read PDFs), so the merge uses pypdf (pure Python, already the tests' PDF
reader; pinned in the main dependencies for this).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from billingdesk.documents.render.layout import _wrap, fonts
from billingdesk.documents.render.pdfwriter import A4, Page, pdf_build, xmp_basic

MARGIN = 50.0
_BODY = 9.5
_HEAD = 12.0
_LEAD = 13.0


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Attached:
    title: str
    pdf: bytes


def summary_pdf(*, title: str, sections: Sequence[Section]) -> bytes:
    """The packet's own pages: a title, then each section's heading and wrapped lines."""
    regular, bold = fonts()
    width = A4[0] - 2 * MARGIN
    pages = [Page()]
    y = MARGIN + _HEAD

    def room(needed: float) -> None:
        nonlocal y
        if y + needed > A4[1] - MARGIN:
            pages.append(Page())
            y = MARGIN + _HEAD

    pages[0].text(MARGIN, y, title, bold, 15)
    y += 2 * _LEAD
    for section in sections:
        room(3 * _LEAD)
        pages[-1].text(MARGIN, y, section.title, bold, _HEAD)
        y += _LEAD + 3
        for line in section.lines:
            for part in _wrap(line, regular, _BODY, width):
                room(_LEAD)
                pages[-1].text(MARGIN, y, part, regular, _BODY)
                y += _LEAD
        y += _LEAD / 2
    created = timezone.now()
    return pdf_build(
        pages=pages,
        fonts=[regular, bold],
        xmp=xmp_basic(title=title, lang="en", created=created),
        lang="en",
        created=created,
    )


def merged_pdf(summary: bytes, attached: Sequence[Attached]) -> bytes:
    """The summary followed by each attached PDF, one file."""
    writer = PdfWriter()
    for data in (summary, *(a.pdf for a in attached)):
        writer.append(PdfReader(io.BytesIO(data)))
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def readable(data: bytes) -> bool:
    """Whether pypdf can read ``data`` as a PDF (an unreadable document is left out)."""
    try:
        return len(PdfReader(io.BytesIO(data)).pages) > 0
    except (PdfReadError, ValueError, OSError):
        return False
