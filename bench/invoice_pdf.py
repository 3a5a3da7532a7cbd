"""Invoice PDF benchmark: billingdesk's PDF/A-3b writer vs WeasyPrint, same invoice, same run.

    .venv/bin/python bench/invoice_pdf.py [--n 300] [--n-weasy 40]

The invoice is one page, branded (PNG logo, brand colours, footer), an intra-EU B2B reverse
charge sale (FR seller, DE buyer) so it carries the Factur-X EN 16931 XML; both sides build
that XML with the same function (factur-x library) inside the timed loop.

* billingdesk: ``documents.render.layout.document_pdf`` on an unsaved Document (no database
  access): layout, Babel formatting, Factur-X XML, PDF/A-3b assembly with embedded fonts.
* WeasyPrint 70 from HTML: the same content as an HTML page with CSS, DejaVu fonts from the
  system (fontconfig), ``pdf_variant="pdf/a-3b"``, the XML attached as ``factur-x.xml``, and a
  URL fetcher that allows ``data:`` URLs only (the logo), so it fetches nothing either.

Both run in this process, alternating warm-up first; prints the timings and a Markdown table
for docs/benchmarks.md. Needs Pango for WeasyPrint (Debian: libpango-1.0-0 libpangoft2-1.0-0)
and fonts-dejavu-core.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import statistics
import struct
import sys
import time
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")


def png_logo(width: int = 240, height: int = 80) -> bytes:
    """A simple RGB PNG (stripes in the brand colour), made here so the bench needs no file."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            on = (x // 12 + y // 12) % 2 == 0
            row += bytes((31, 78, 121) if on else (232, 238, 244))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def build_document():  # type: ignore[no-untyped-def]
    import django

    django.setup()
    from billingdesk.documents.demo import FRENCH_ENTITY
    from billingdesk.documents.models import Brand, Document, DocumentSeries, LegalEntity
    from billingdesk.documents.services import seller_snapshot, tax_fields
    from billingdesk.documents.tax import LineIn, Party, compute

    entity = LegalEntity(name="Acme France", **FRENCH_ENTITY)
    brand = Brand(
        name="Acme",
        legal_entity=entity,
        logo_png=png_logo(),
        primary_color="#1F4E79",
        accent_color="#E8EEF4",
        default_language="fr",
        footer="Acme France SAS — 1 rue de la Paix, 75002 Paris — support@acme.example",
    )
    lines = [
        LineIn("Pro plan, November 2026 (10 seats)", 45000),
        LineIn("Additional storage, 500 GB", 5000),
        LineIn("Priority support", 9000),
    ]
    result = compute(
        seller=Party("FR"),
        buyer=Party("DE", is_business=True),
        lines=lines,
        on=date(2026, 11, 20),
        prices_include_tax=False,
    )
    document = Document(
        kind="invoice",
        series=DocumentSeries(legal_entity=entity, kind="invoice", prefix="F"),
        number="F2026-000123",
        issued_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        supply_date=date(2026, 11, 20),
        source_key="bench",
        legal_entity=entity,
        brand=brand,
        seller=seller_snapshot(entity),
        buyer={
            "name": "Kunde GmbH",
            "email": "buchhaltung@kunde.example",
            "address_lines": ["Invalidenstraße 1", ""],
            "postcode": "10115",
            "city": "Berlin",
            "region": "",
            "country": "DE",
            "tax_id": "DE136695976",
            "tax_id_kind": "eu_vat",
            "is_business": True,
            "person_id": None,
        },
        **tax_fields(result),
        currency="EUR",
        net=result.net,
        tax=result.tax,
        gross=result.gross,
        language="de",
    )
    return document, brand


HTML_TEMPLATE = (Path(__file__).with_suffix(".html")).read_text()


def weasyprint_renderer(document, brand) -> Callable[[], bytes]:  # type: ignore[no-untyped-def]
    from django.template import Context, Template
    from weasyprint import HTML, Attachment
    from weasyprint.urls import URLFetcher

    from billingdesk.documents.render.facturx import facturx_xml
    from billingdesk.documents.render.layout import (
        _party_lines,
        day,
        mentions_for,
        money,
        percent,
        title_for,
    )

    template = Template(HTML_TEMPLATE)
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    logo = "data:image/png;base64," + base64.b64encode(bytes(brand.logo_png)).decode()

    def render() -> bytes:
        lang = "de"
        cur = document.currency
        context = Context(
            {
                "lang": lang,
                "brand": brand,
                "doc": document,
                "logo": logo,
                "title": title_for(document, lang),
                "meta": [
                    f"Rechnungsdatum: {day(document.issued_at.date(), lang)}",
                    f"Leistungsdatum: {day(document.supply_date, lang)}",
                ],
                "seller": _party_lines(document.seller, lang, seller=True),
                "buyer": _party_lines(document.buyer, lang, seller=False),
                "lines": [
                    (
                        ln["description"],
                        ln["quantity"],
                        money(ln["unit_net"], cur, lang),
                        percent(ln["percent"], lang),
                        money(ln["net"], cur, lang),
                    )
                    for ln in document.lines
                ],
                "taxes": [
                    f"{t['name']} {percent(t['percent'], lang)}: {money(t['amount'], cur, lang)}"
                    for t in document.tax_lines
                ],
                "totals": [
                    ("Summe netto", money(document.net, cur, lang)),
                    ("Summe USt", money(document.tax, cur, lang)),
                    ("Gesamtbetrag", money(document.gross, cur, lang)),
                ],
                "notes": mentions_for(document, lang),
            }
        )
        html = template.render(context)
        xml = facturx_xml(document)
        return HTML(string=html, url_fetcher=fetcher).write_pdf(
            pdf_variant="pdf/a-3b",
            attachments=[
                Attachment(
                    string=xml, name="factur-x.xml", relationship="Data", url_fetcher=fetcher
                )
            ],
        )

    return render


NAMES = ["Müller", "Dupont", "García", "Kowalski", "Jensen", "Rossi", "Nowak", "Öztürk"]
STREETS = ["Hauptstraße", "rue de Lyon", "Calle Mayor", "ul. Długa", "Via Roma", "Strandvej"]


def varied_documents(document, count: int) -> list:  # type: ignore[no-untyped-def]
    """``count`` copies of ``document``, each with its own number, buyer and amounts."""
    import copy

    out = []
    for i in range(count):
        doc = copy.copy(document)
        doc.number = f"F2026-{1000 + i:06d}"
        doc.buyer = {
            **document.buyer,
            "name": f"{NAMES[i % len(NAMES)]} {NAMES[(i * 3 + 1) % len(NAMES)]} GmbH {i}",
            "address_lines": [f"{STREETS[i % len(STREETS)]} {i % 90 + 1}", ""],
            "email": f"buyer{i}@example.org",
        }
        doc.lines = [
            {**line, "net": line["net"] + i, "unit_net": line["unit_net"] + i}
            for line in document.lines
        ]
        doc.net = document.net + 3 * i
        doc.gross = document.gross + 3 * i
        out.append(doc)
    return out


def measure(fn: Callable[[], bytes], n: int, warmup: int) -> tuple[list[float], int, list[float]]:
    """Wall-clock times (ms), the PDF size in bytes, and CPU times (ms, this process only:
    less sensitive than wall clock to neighbours on a shared machine)."""
    size = 0
    for _ in range(warmup):
        size = len(fn())
    times = []
    cpu = []
    for _ in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return times, size, cpu


def main() -> None:
    import logging

    logging.disable(logging.INFO)  # WeasyPrint logs every rendering step at INFO
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="billingdesk renders")
    parser.add_argument("--n-weasy", type=int, default=40, help="WeasyPrint renders")
    args = parser.parse_args()
    document, brand = build_document()
    from billingdesk.documents.render.layout import document_pdf

    ours, our_size, our_cpu = measure(lambda: document_pdf(document, brand), args.n, warmup=5)
    # The same invoice again and again is the caches' best case (one glyph set, one XML
    # shape); here each render has another number, buyer (with accented letters from a
    # small pool, as real names do) and amount.
    varied_docs = varied_documents(document, args.n + 5)
    varied_iter = iter(varied_docs)
    varied, varied_size, varied_cpu = measure(
        lambda: document_pdf(next(varied_iter), brand), args.n, warmup=5
    )
    # The caches' worst case: no font program reused (each render's glyph set new).
    from billingdesk.documents.render.layout import fonts

    def cold() -> bytes:
        for font in fonts():
            font.programs.clear()
        return document_pdf(document, brand)

    cold_ms, cold_size, cold_cpu = measure(cold, args.n, warmup=5)
    weasy, weasy_size, weasy_cpu = measure(
        weasyprint_renderer(document, brand), args.n_weasy, warmup=3
    )

    def row(name: str, t: list[float], size: int, cpu: list[float]) -> str:
        t = sorted(t)
        p95 = t[min(len(t) - 1, int(len(t) * 0.95))]
        return (
            f"| {name} | {len(t)} | {statistics.median(t):.2f} | {p95:.2f} | "
            f"{statistics.mean(t):.2f} | {statistics.median(cpu):.2f} | "
            f"{size / 1024:.1f} kB ({size} B) |"
        )

    import weasyprint

    ratio = statistics.median(weasy) / statistics.median(ours)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"WeasyPrint {weasyprint.__version__}")
    print()
    print("| renderer | runs | median ms | p95 ms | mean ms | median CPU ms | PDF size |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(row("billingdesk PDF/A-3b writer + Factur-X", ours, our_size, our_cpu))
    print(
        row(
            "billingdesk, each render another buyer/number/amount",
            varied,
            varied_size,
            varied_cpu,
        )
    )
    print(row("billingdesk, no font program reused", cold_ms, cold_size, cold_cpu))
    print(
        row(
            f"WeasyPrint {weasyprint.__version__} from HTML + Factur-X",
            weasy,
            weasy_size,
            weasy_cpu,
        )
    )
    print()
    cpu_ratio = statistics.median(weasy_cpu) / statistics.median(our_cpu)
    print(f"speed-up (median): {ratio:.1f}x wall clock, {cpu_ratio:.1f}x CPU")
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
