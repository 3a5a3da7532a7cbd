"""A small PDF/A-3b writer: text in embedded TrueType fonts, filled rectangles, lines, one
PNG logo and file attachments (Factur-X), nothing else.

Why our own writer: an invoice is a handful of text runs and rules, and the general engines
spend most of their time elsewhere (HTML/CSS layout, per-document font parsing and
subsetting). Here the fonts are prepared once per process and each glyph set's subset is
built once and remembered, so a document is mostly string assembly plus two small zlib calls
(see docs/benchmarks.md, "Invoice PDF").
It also cannot fetch anything: there is no URL, file or font lookup driven by document data.

PDF/A-3b points covered (ISO 19005-3): every font embedded (CIDFontType2, Identity-H,
CIDToGIDMap Identity, ToUnicode for text extraction), an sRGB OutputIntent (ICC profile from
the ICC, shipped in ``data/``), XMP metadata with ``pdfaid:part=3``/``conformance=B`` and no
Info dictionary to contradict it, a file identifier, no encryption, no transparency, embedded
files with ``/AFRelationship`` listed in the catalog's ``/AF``.

The fonts (loading, preparing and subsetting a TrueType face) are in ``truetype``.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from billingdesk.documents.render.truetype import Font as Font
from billingdesk.documents.render.truetype import font_objects
from billingdesk.documents.render.truetype import load_font as load_font

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
A4 = (595.28, 841.89)


@lru_cache(maxsize=1)
def srgb_profile_compressed() -> bytes:
    """The sRGB ICC profile (from the ICC, freely redistributable), deflated once."""
    return zlib.compress((DATA_DIR / "sRGB2014.icc").read_bytes(), 9)


class LogoError(ValueError):
    """The logo is not a PNG the writer can embed as is."""


@dataclass(frozen=True)
class PngImage:
    width: int
    height: int
    colors: int
    idat: bytes


def png_parse(data: bytes) -> PngImage:
    """Read a PNG's header and compressed pixels, which PDF's Flate + PNG predictor can show
    without decoding: 8-bit grey or RGB, not interlaced, no alpha, no palette."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise LogoError("the logo is not a PNG file")
    pos, idat = 8, []
    width = height = colors = 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or color_type not in (0, 2) or interlace:
                raise LogoError(
                    "the logo must be an 8-bit RGB or greyscale PNG without transparency, "
                    "palette or interlacing"
                )
            colors = 3 if color_type == 2 else 1
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if not (width and height and idat):
        raise LogoError("the logo PNG is incomplete")
    return PngImage(width, height, colors, b"".join(idat))


def _pdf_string(text: str) -> str:
    """A PDF literal string, UTF-16BE with BOM when not ASCII."""
    if text.isascii():
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return f"({escaped})"
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


@lru_cache(maxsize=256)
def _rgb(hex_color: str) -> str:
    value = hex_color.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return f"{r:.3f} {g:.3f} {b:.3f}"


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    mime: str
    description: str
    relationship: str = "Data"


@dataclass
class Page:
    """Drawing operations of one page, with y measured from the top (as a layout reads)."""

    width: float = A4[0]
    height: float = A4[1]
    ops: list[str] = field(default_factory=list)
    fonts_used: set[str] = field(default_factory=set)
    chars_used: dict[str, set[str]] = field(default_factory=dict)
    images: list[PngImage] = field(default_factory=list)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        font: Font,
        size: float,
        color: str = "#000000",
        align: str = "left",
    ) -> float:
        """Draw one line of text with its baseline ``y`` points below the top; returns width."""
        hexed, units = font.encode(text)
        width = units * size / 1000
        if align == "right":
            x -= width
        elif align == "center":
            x -= width / 2
        self.fonts_used.add(font.name)
        self.chars_used.setdefault(font.name, set()).update(text)
        self.ops.append(
            f"BT /{font.name} {size:.2f} Tf {_rgb(color)} rg "
            f"{x:.2f} {self.height - y:.2f} Td <{hexed}> Tj ET"
        )
        return width

    def rect(self, x: float, y: float, w: float, h: float, color: str) -> None:
        self.ops.append(f"{_rgb(color)} rg {x:.2f} {self.height - y - h:.2f} {w:.2f} {h:.2f} re f")

    def line(self, x1: float, y1: float, x2: float, y2: float, color: str, width: float) -> None:
        self.ops.append(
            f"{_rgb(color)} RG {width:.2f} w {x1:.2f} {self.height - y1:.2f} m "
            f"{x2:.2f} {self.height - y2:.2f} l S"
        )

    def draw_image(self, image: PngImage, x: float, y: float, w: float, h: float) -> None:
        self.images.append(image)
        name = f"Im{len(self.images)}"
        self.ops.append(f"q {w:.2f} 0 0 {h:.2f} {x:.2f} {self.height - y - h:.2f} cm /{name} Do Q")


def xmp_basic(*, title: str, lang: str, created: datetime) -> bytes:
    stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    title_xml = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        "<pdfaid:part>3</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title_xml}</rdf:li></rdf:Alt></dc:title>'
        f"<dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>"
        f"<xmp:CreateDate>{stamp}</xmp:CreateDate><xmp:ModifyDate>{stamp}</xmp:ModifyDate>"
        f"<xmp:MetadataDate>{stamp}</xmp:MetadataDate>"
        "<pdf:Producer>billingdesk</pdf:Producer>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def pdf_build(
    *,
    pages: Sequence[Page],
    fonts: Sequence[Font],
    xmp: bytes,
    lang: str,
    attachments: Sequence[Attachment] = (),
    created: datetime,
) -> bytes:
    """Serialise pages into a PDF/A-3b file."""
    objects: list[bytes] = []

    def add(body: bytes | str) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    def stream(dictionary: str, data: bytes, *, compress: bool = False) -> int:
        if compress:
            # Level 1: the page content and the XML are ~8 kB each; level 6 makes them ~0.4 kB
            # smaller for twice the time (docs/benchmarks.md, "Invoice PDF").
            data = zlib.compress(data, 1)
            dictionary += " /Filter /FlateDecode"
        return add(
            f"<< {dictionary} /Length {len(data)} >>\nstream\n".encode("latin-1")
            + data
            + b"\nendstream"
        )

    catalog_id = add("")  # filled last
    pages_id = add("")
    icc_id = stream("/N 3 /Filter /FlateDecode", srgb_profile_compressed())
    font_refs: dict[str, int] = {}
    for font in fonts:
        used: set[str] = set()
        for page in pages:
            used |= page.chars_used.get(font.name, set())
        tag, program, length1, w_array, to_unicode = font_objects(font, used)
        base = f"{tag}+{font.base_name}"
        file_id = stream(f"/Length1 {length1} /Filter /FlateDecode", program)
        descriptor_id = add(f"<< {font.descriptor} /FontName /{base} /FontFile2 {file_id} 0 R >>")
        cid_id = add(
            f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{base} "
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
            f"/FontDescriptor {descriptor_id} 0 R /CIDToGIDMap /Identity /W {w_array} >>"
        )
        tounicode_id = stream("/Filter /FlateDecode", to_unicode)
        font_refs[font.name] = add(
            f"<< /Type /Font /Subtype /Type0 /BaseFont /{base} /Encoding /Identity-H "
            f"/DescendantFonts [{cid_id} 0 R] /ToUnicode {tounicode_id} 0 R >>"
        )
    font_dict = " ".join(f"/{name} {ref} 0 R" for name, ref in font_refs.items())
    page_ids = []
    for page in pages:
        content_id = stream("", "\n".join(page.ops).encode("latin-1"), compress=True)
        refs = []
        for index, img in enumerate(page.images, start=1):
            image_id = stream(
                f"/Type /XObject /Subtype /Image /Width {img.width} /Height {img.height} "
                f"/ColorSpace /{'DeviceRGB' if img.colors == 3 else 'DeviceGray'} "
                "/BitsPerComponent 8 /Filter /FlateDecode "
                f"/DecodeParms << /Predictor 15 /Colors {img.colors} /BitsPerComponent 8 "
                f"/Columns {img.width} >>",
                img.idat,
            )
            refs.append(f"/Im{index} {image_id} 0 R")
        xobjects = f" /XObject << {' '.join(refs)} >>" if refs else ""
        page_ids.append(
            add(
                f"<< /Type /Page /Parent {pages_id} 0 R "
                f"/MediaBox [0 0 {page.width:.2f} {page.height:.2f}] "
                f"/Resources << /Font << {font_dict} >>{xobjects} >> "
                f"/Contents {content_id} 0 R >>"
            )
        )
    stamp = created.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")
    filespecs = []
    for att in attachments:
        embedded_id = stream(
            f"/Type /EmbeddedFile /Subtype /{att.mime.replace('/', '#2F')} "
            f"/Params << /ModDate ({stamp}) /Size {len(att.data)} >>",
            att.data,
            compress=True,
        )
        filespecs.append(
            (
                att.name,
                add(
                    f"<< /Type /Filespec /F {_pdf_string(att.name)} /UF {_pdf_string(att.name)} "
                    f"/EF << /F {embedded_id} 0 R /UF {embedded_id} 0 R >> "
                    f"/Desc {_pdf_string(att.description)} "
                    f"/AFRelationship /{att.relationship} >>"
                ),
            )
        )
    metadata_id = stream("/Type /Metadata /Subtype /XML", xmp)
    objects[pages_id - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] "
        f"/Count {len(page_ids)} >>"
    ).encode()
    names = ""
    af = ""
    if filespecs:
        listed = " ".join(f"{_pdf_string(name)} {ref} 0 R" for name, ref in filespecs)
        names = f" /Names << /EmbeddedFiles << /Names [{listed}] >> >>"
        af = f" /AF [{' '.join(f'{ref} 0 R' for _, ref in filespecs)}]"
    objects[catalog_id - 1] = (
        f"<< /Type /Catalog /Pages {pages_id} 0 R /Metadata {metadata_id} 0 R "
        f"/Lang {_pdf_string(lang)} /MarkInfo << /Marked false >>"
        f"/OutputIntents [<< /Type /OutputIntent /S /GTS_PDFA1 "
        f"/OutputConditionIdentifier (sRGB IEC61966-2.1) /Info (sRGB IEC61966-2.1) "
        f"/DestOutputProfile {icc_id} 0 R >>]{names}{af} >>"
    ).encode()
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{off:010d} 00000 n \n" for off in offsets).encode()
    doc_id = hashlib.md5(bytes(out), usedforsecurity=False).hexdigest().upper()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root {catalog_id} 0 R "
        f"/ID [<{doc_id}> <{doc_id}>] >>\nstartxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return bytes(out)
