"""TrueType fonts for the PDF writer: a face loaded and prepared once per process (its
glyphs for the scripts documents use), then, per document, the subset of the glyphs it
uses (and printable ASCII) as an embedded CIDFontType2 font with its ToUnicode map — built
once per glyph set and remembered (``font_objects``).
"""

from __future__ import annotations

import hashlib
import logging
import struct
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont

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
# A subset's PDF objects: tag, compressed program, its length, /W array, compressed ToUnicode.
FontObjects = tuple[str, bytes, int, str, bytes]
_programs_lock = threading.Lock()


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
    # text -> encode(text): labels, headers and names recur in every document, and a text is
    # measured (to wrap) before it is written.
    encoded: dict[str, tuple[str, int]] = field(default_factory=dict, compare=False, hash=False)
    # glyph set -> the PDF objects of its subset (``font_objects``): most documents of one
    # brand and language draw the same glyphs, so their font program is built once.
    programs: OrderedDict[frozenset[str], FontObjects] = field(
        default_factory=OrderedDict, compare=False, hash=False
    )

    def encode(self, text: str) -> tuple[str, int]:
        """Hex glyph string for ``Tj`` and the width in 1/1000 em."""
        known = self.encoded.get(text)
        if known is not None:
            return known
        result = self._encode(text)
        if len(self.encoded) < 16384:  # bounded: amounts and names vary without end
            self.encoded[text] = result
        return result

    def _encode(self, text: str) -> tuple[str, int]:
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


# A subset always carries printable ASCII, whether the document draws it or not: names,
# numbers and amounts then change the glyph set only through their non-ASCII letters, so the
# documents of one brand and language share a few font programs (``font_objects``' cache)
# for ~2 kB more per face than the exact subset.
_BASE_CHARS = frozenset(chr(cp) for cp in range(0x20, 0x7F))
_PROGRAMS_KEPT = 128  # glyph sets remembered per face (~10 kB each)


def font_objects(font: Font, used: set[str]) -> FontObjects:
    """Subset tag, compressed font program and its length, /W array and compressed ToUnicode
    CMap for a subset with the characters ``used`` (and printable ASCII), remembered for the
    last ``_PROGRAMS_KEPT`` glyph sets of the face."""
    key = frozenset(used) | _BASE_CHARS
    cache = font.programs
    with _programs_lock:
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
            return found
    found = _font_objects(font, key)
    with _programs_lock:
        cache[key] = found
        if len(cache) > _PROGRAMS_KEPT:
            cache.popitem(last=False)
    return found


def _font_objects(font: Font, used: frozenset[str] | set[str]) -> FontObjects:
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
        zlib.compress(program, 1),  # level 6 saves ~4 % for twice the time (on a miss)
        len(program),
        w_array,
        zlib.compress(cmap_text.encode("ascii"), 1),
    )


def _utf16_hex(cp: int) -> str:
    return chr(cp).encode("utf-16-be").hex().upper()
