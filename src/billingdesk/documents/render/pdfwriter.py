"""A small PDF/A-3b writer: text in embedded TrueType fonts, filled rectangles, lines, one
PNG logo and file attachments (Factur-X), nothing else.

Why our own writer: an invoice is a handful of text runs and rules, and the general engines
spend most of their time elsewhere (HTML/CSS layout, per-document font parsing and
subsetting). Here the fonts are subset once per process and their PDF objects are prebuilt,
so a document is string assembly plus one zlib call (see docs/benchmarks.md, "Invoice PDF").
It also cannot fetch anything: there is no URL, file or font lookup driven by document data.

PDF/A-3b points covered (ISO 19005-3): every font embedded (CIDFontType2, Identity-H,
CIDToGIDMap Identity, ToUnicode for text extraction), an sRGB OutputIntent (ICC profile from
the ICC, shipped in ``data/``), XMP metadata with ``pdfaid:part=3``/``conformance=B`` and no
Info dictionary to contradict it, a file identifier, no encryption, no transparency, embedded
files with ``/AFRelationship`` listed in the catalog's ``/AF``.
"""

from __future__ import annotations

import hashlib
import logging
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
A4 = (595.28, 841.89)

# The scripts a face is prepared for (Latin incl. every EU language, Greek, Cyrillic for
# Bulgarian, punctuation and currency signs); a document embeds exactly the glyphs it uses.
_BLOCKS: dict[str, tuple[range, ...]] = {
    "ascii": (
        range(0x20, 0x7F),
        range(0xA0, 0xA1),  # no-break space
        range(0x2010, 0x2028),  # dashes, quotes, bullet, ellipsis
        range(0x202F, 0x203B),  # narrow no-break space (Babel), per mille, guillemets
        range(0x20AC, 0x20AD),  # €
        range(0x2212, 0x2213),  # minus
    ),
    "latin1-symbols": (range(0xA1, 0xC0),),
    "latin1-letters": (range(0xC0, 0x100),),
    "latin-ext-a": (range(0x100, 0x180),),
    "latin-ext-b": (range(0x180, 0x250), range(0x1E00, 0x1F00)),
    "currency-symbols": (range(0x20A0, 0x20C1), range(0x2116, 0x2117), range(0x2122, 0x2123)),
    "arrows": (range(0x2190, 0x2194),),
    "greek": (range(0x370, 0x400), range(0x1F00, 0x2000)),
    "cyrillic": (range(0x400, 0x530),),
}
_BLOCK_OF: dict[int, str] = {
    cp: name for name, ranges in _BLOCKS.items() for r in ranges for cp in r
}
_TAG_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Font:
    """A TrueType face prepared once per process: its glyphs for the characters of ``_BLOCKS``
    (hinting removed), their ids and advances; what a document embeds is cut from it in
    ``pdf_build`` — exactly the glyphs the document uses."""

    name: str  # resource name in page content (/BdSans)
    base_name: str  # PostScript name, prefixed with the subset tag in the PDF
    widths: dict[int, int]  # glyph id -> advance in 1/1000 em
    descriptor: str  # FontDescriptor entries without /FontName and /FontFile2
    # character -> (hex glyph id, advance): the per-character work done once, at load.
    chars: dict[str, tuple[str, int]]
    gid_of: dict[str, int]  # character -> glyph id
    w_entry: dict[int, str]  # glyph id -> "gid [width]" for /W
    map_entry: dict[tuple[int, int], str]  # (glyph id, code point) -> ToUnicode bfchar line
    glyphs: tuple[bytes, ...]  # glyf entry per glyph id
    components: dict[int, tuple[int, ...]]  # composite glyph -> the glyphs it is made of
    hmtx: tuple[bytes, ...]  # 4-byte (advance, lsb) per glyph id
    tables: dict[str, bytes]  # head, hhea, maxp, OS/2, post as prepared
    checksums: dict[str, int]  # of those tables (head's with checkSumAdjustment 0)
    missing: set[str] = field(default_factory=set, compare=False, hash=False)

    def encode(self, text: str) -> tuple[str, int]:
        """Hex glyph string for ``Tj`` and the width in 1/1000 em."""
        table = self.chars
        parts = []
        total = 0
        for ch in text:
            entry = table.get(ch)
            if entry is None:
                entry = self._missing(ch)
            parts.append(entry[0])
            total += entry[1]
        return "".join(parts), total

    def _missing(self, ch: str) -> tuple[str, int]:
        # A character outside the prepared scripts: "?" rather than an invisible box, and said
        # once per process in the log so that a missing script is noticed.
        if ch not in self.missing:
            self.missing.add(ch)
            logging.getLogger(__name__).warning(
                "font %s has no glyph for %r (U+%04X): printed as '?'",
                self.base_name,
                ch,
                ord(ch),
            )
        return self.chars["?"]

    def width(self, text: str, size: float) -> float:
        return self.encode(text)[1] * size / 1000


@lru_cache(maxsize=8)
def load_font(path: str, name: str) -> Font:
    """Prepare a TrueType face (once per process): cut to the scripts of ``_BLOCKS`` with
    fontTools (hinting, layout tables and names dropped), then keep each glyph's bytes so that
    a document's subset is assembled from them in well under a millisecond."""
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # its INFO is a line per table
    source = TTFont(path)
    base_name = source["name"].getDebugName(6) or Path(path).stem
    options = ft_subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    options.drop_tables += ["FFTM", "GSUB", "GPOS", "GDEF", "kern", "MATH", "gasp"]
    options.name_IDs = []
    options.glyph_names = False
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=set(_BLOCK_OF))
    subsetter.subset(source)
    buffer = BytesIO()
    source.save(buffer)
    font = TTFont(BytesIO(buffer.getvalue()))
    reader = font.reader
    head = bytearray(reader["head"])
    long_loca = struct.unpack_from(">h", head, 50)[0] == 1
    count = struct.unpack_from(">H", reader["maxp"], 4)[0]
    loca_raw = reader["loca"]
    if long_loca:
        offsets = struct.unpack(f">{count + 1}I", loca_raw[: 4 * (count + 1)])
    else:
        offsets = tuple(2 * v for v in struct.unpack(f">{count + 1}H", loca_raw[: 2 * (count + 1)]))
    glyf = reader["glyf"]
    glyphs = tuple(glyf[offsets[i] : offsets[i + 1]] for i in range(count))
    components = {
        gid: _glyph_components(data)
        for gid, data in enumerate(glyphs)
        if len(data) >= 10 and struct.unpack_from(">h", data, 0)[0] < 0
    }
    hhea = bytearray(reader["hhea"])
    n_metrics = struct.unpack_from(">H", hhea, 34)[0]
    hmtx_raw = reader["hmtx"]
    last_advance = hmtx_raw[4 * (n_metrics - 1) : 4 * (n_metrics - 1) + 2]
    hmtx = tuple(
        hmtx_raw[4 * i : 4 * i + 4]
        if i < n_metrics
        else last_advance + hmtx_raw[4 * n_metrics + 2 * (i - n_metrics) :][:2]
        for i in range(count)
    )
    struct.pack_into(">h", head, 50, 1)  # documents' subsets use a long loca
    struct.pack_into(">H", hhea, 34, count)  # and one full metric per glyph
    scale = 1000 / struct.unpack_from(">H", head, 18)[0]
    widths = {gid: round(struct.unpack_from(">H", m, 0)[0] * scale) for gid, m in enumerate(hmtx)}
    x_min, y_min, x_max, y_max = struct.unpack_from(">hhhh", head, 36)
    ascent, descent = struct.unpack_from(">hh", hhea, 4)
    os2 = font["OS/2"]
    cap = getattr(os2, "sCapHeight", 0) or ascent
    italic = font["post"].italicAngle
    descriptor = (
        f"/Type /FontDescriptor /Flags 32 "
        f"/FontBBox [{' '.join(str(round(v * scale)) for v in (x_min, y_min, x_max, y_max))}] "
        f"/ItalicAngle {italic} /Ascent {round(ascent * scale)} "
        f"/Descent {round(descent * scale)} /CapHeight {round(cap * scale)} /StemV 80"
    )
    order = font.getGlyphOrder()
    gid_of = {glyph: i for i, glyph in enumerate(order)}
    chars = {
        chr(cp): (f"{gid_of[g]:04X}", widths.get(gid_of[g], 0))
        for cp, g in font.getBestCmap().items()
        if cp >= 0x20
    }
    struct.pack_into(">I", head, 8, 0)
    tables = {
        "head": bytes(head),
        "hhea": bytes(hhea),
        "maxp": bytes(reader["maxp"]),
        "OS/2": bytes(reader["OS/2"]),
        "post": bytes(reader["post"]),
    }
    return Font(
        name=name,
        base_name="".join(c for c in base_name if c.isalnum() or c in "-_"),
        widths=widths,
        descriptor=descriptor,
        chars=chars,
        gid_of={ch: int(entry[0], 16) for ch, entry in chars.items()},
        w_entry={gid: f"{gid} [{width}]" for gid, width in widths.items()},
        map_entry={
            (int(entry[0], 16), ord(ch)): f"<{entry[0]}> <{_utf16_hex(ord(ch))}>"
            for ch, entry in chars.items()
        },
        glyphs=glyphs,
        components=components,
        hmtx=hmtx,
        tables=tables,
        checksums={tag: _checksum(data) for tag, data in tables.items() if tag != "head"},
    )


def _glyph_components(data: bytes) -> tuple[int, ...]:
    """The glyph ids a composite glyph refers to (OpenType glyf, composite glyph records)."""
    out = []
    pos = 10
    while True:
        flags, gid = struct.unpack_from(">HH", data, pos)
        out.append(gid)
        pos += 4 + (4 if flags & 0x0001 else 2)
        if flags & 0x0008:
            pos += 2
        elif flags & 0x0040:
            pos += 4
        elif flags & 0x0080:
            pos += 8
        if not flags & 0x0020:
            return tuple(out)


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    values: tuple[int, ...] = struct.unpack(f">{len(padded) // 4}I", padded)
    return sum(values) & 0xFFFFFFFF


def _font_program(font: Font, gids: set[int]) -> bytes:
    """A TrueType program with only ``gids`` (and their components) drawn; glyph ids are the
    prepared face's, so the page content needs no re-encoding."""
    keep = set(gids) | {0}
    todo = list(keep)
    while todo:
        for part in font.components.get(todo.pop(), ()):
            if part not in keep:
                keep.add(part)
                todo.append(part)
    # Only the kept glyphs are touched in Python; the offsets of the empty ones in between are
    # list repeats and the metrics a zero-filled buffer (C speed): the face has ~1100 glyphs.
    count = len(font.glyphs)
    glyf = bytearray()
    loca: list[int] = [0]
    hmtx = bytearray(4 * count)
    previous = 0
    for gid in sorted(keep):
        if gid >= count:
            continue
        loca += [len(glyf)] * (gid - previous)
        data = font.glyphs[gid]
        glyf += data
        glyf += b"\0" * (-len(data) % 4)
        hmtx[4 * gid : 4 * gid + 4] = font.hmtx[gid]
        loca.append(len(glyf))
        previous = gid + 1
    loca += [len(glyf)] * (count - previous)
    tables = dict(font.tables)
    tables["glyf"] = bytes(glyf)
    tables["loca"] = struct.pack(f">{len(loca)}I", *loca)
    tables["hmtx"] = bytes(hmtx)
    tags = sorted(tables)
    n = len(tags)
    selector = n.bit_length() - 1
    out = bytearray(
        struct.pack(">IHHHH", 0x00010000, n, 16 << selector, selector, 16 * n - (16 << selector))
    )
    offset = 12 + 16 * n
    bodies = bytearray()
    total = 0
    head_at = 0
    for tag in tags:
        data = tables[tag]
        # The prepared tables' checksums are computed once; only glyf, loca and hmtx vary.
        checksum = font.checksums.get(tag) if tag != "head" else None
        if checksum is None:
            checksum = _checksum(data)
        total += checksum
        if tag == "head":
            head_at = offset + len(bodies)
        out += struct.pack(">4sIII", tag.encode("ascii"), checksum, offset + len(bodies), len(data))
        bodies += data + b"\0" * (-len(data) % 4)
    # A font's checksum is the sum of its directory's and its (4-aligned) tables' checksums.
    total = (total + _checksum(bytes(out))) & 0xFFFFFFFF
    out += bodies
    struct.pack_into(">I", out, head_at + 8, (0xB1B0AFBA - total) & 0xFFFFFFFF)
    return bytes(out)


_TAG_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _font_objects(font: Font, used: set[str]) -> tuple[str, bytes, int, str, bytes]:
    """Subset tag, compressed font program and its length, /W array and compressed ToUnicode
    CMap for the characters ``used``."""
    gid_of = font.gid_of
    by_gid: dict[int, int] = {gid_of["?"]: ord("?")}
    for ch in used:
        gid = gid_of.get(ch)
        if gid is not None:
            by_gid.setdefault(gid, ord(ch))
    entries = sorted(by_gid.items())
    program = _font_program(font, set(by_gid))
    digest = hashlib.sha256(font.base_name.encode() + bytes(str(entries), "ascii")).digest()
    tag = "".join(_TAG_LETTERS[b % 26] for b in digest[:6])
    # /W: one "gid [width]" pair per glyph used (a few dozen on an invoice); both it and the
    # ToUnicode entries are strings prepared at load.
    w_entry, map_entry = font.w_entry, font.map_entry
    w_array = "[" + " ".join(w_entry[gid] for gid, _ in entries) + "]"
    chunks = []
    for start in range(0, len(entries), 100):
        part = entries[start : start + 100]
        chunks.append(f"{len(part)} beginbfchar")
        chunks += [
            map_entry.get((gid, cp)) or f"<{gid:04X}> <{_utf16_hex(cp)}>" for gid, cp in part
        ]
        chunks.append("endbfchar")
    cmap_text = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        + "\n".join(chunks)
        + "\nendcmap CMapName currentdict /CMap defineresource pop end end"
    )
    return (
        tag,
        zlib.compress(program, 1),  # level 6 saves ~4 % here for twice the time
        len(program),
        w_array,
        zlib.compress(cmap_text.encode("ascii"), 1),
    )


def _utf16_hex(cp: int) -> str:
    return chr(cp).encode("utf-16-be").hex().upper()


@lru_cache(maxsize=1)
def srgb_profile_compressed() -> bytes:
    """The sRGB ICC profile (from the ICC, freely redistributable), deflated once."""
    return zlib.compress((DATA_DIR / "sRGB2014.icc").read_bytes(), 6)


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
            data = zlib.compress(data, 6)
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
        tag, program, length1, w_array, to_unicode = _font_objects(font, used)
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
