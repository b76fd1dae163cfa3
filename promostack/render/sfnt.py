"""Facts read straight from an OpenType/TrueType file: the characters it maps and its metrics.

Pillow cannot say whether a font has a glyph for a character (it silently draws `.notdef`), so
the coverage comes from the font's `cmap` table, and the vertical metrics from `head`/`hhea` —
the same numbers a browser sees, published in `fonts.json` for the canvas preview.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path


class FontFileError(ValueError):
    """The file is not an sfnt font we can read."""


@dataclass(frozen=True)
class FontFacts:
    """A font's cmap coverage and vertical metrics in font units."""

    units_per_em: int
    ascender: int  # hhea.ascender, positive above the baseline
    descender: int  # hhea.descender, negative below the baseline
    codepoints: frozenset[int]


def _tables(data: bytes) -> dict[bytes, tuple[int, int]]:
    if len(data) < 12 or data[:4] not in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
        raise FontFileError("not an OpenType/TrueType font")
    (count,) = struct.unpack_from(">H", data, 4)
    tables = {}
    for i in range(count):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        tables[tag] = (offset, length)
    return tables


def _cmap_format4(data: bytes, at: int) -> set[int]:
    (seg_x2,) = struct.unpack_from(">H", data, at + 6)
    segs = seg_x2 // 2
    ends = struct.unpack_from(f">{segs}H", data, at + 14)
    starts = struct.unpack_from(f">{segs}H", data, at + 16 + seg_x2)
    deltas = struct.unpack_from(f">{segs}h", data, at + 16 + 2 * seg_x2)
    range_at = at + 16 + 3 * seg_x2
    offsets = struct.unpack_from(f">{segs}H", data, range_at)
    points: set[int] = set()
    for i in range(segs):
        if starts[i] == 0xFFFF:
            continue
        for cp in range(starts[i], ends[i] + 1):
            if offsets[i] == 0:
                glyph = (cp + deltas[i]) & 0xFFFF
            else:
                # idRangeOffset is relative to its own slot in the idRangeOffset array.
                slot = range_at + 2 * i + offsets[i] + 2 * (cp - starts[i])
                (glyph,) = struct.unpack_from(">H", data, slot)
                if glyph:
                    glyph = (glyph + deltas[i]) & 0xFFFF
            if glyph:
                points.add(cp)
    return points


def _cmap_format12(data: bytes, at: int) -> set[int]:
    (groups,) = struct.unpack_from(">I", data, at + 12)
    points: set[int] = set()
    for g in range(groups):
        start, end, glyph = struct.unpack_from(">III", data, at + 16 + 12 * g)
        first = start + 1 if glyph == 0 else start  # glyph 0 is .notdef: not a real mapping
        points.update(range(first, end + 1))
    return points


def _codepoints(data: bytes, at: int) -> frozenset[int]:
    (count,) = struct.unpack_from(">H", data, at + 2)
    subtables: dict[tuple[int, int], int] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, at + 4 + 8 * i)
        subtables[(platform, encoding)] = at + offset
    # Prefer the full-Unicode table; fall back to the BMP one.
    for key in ((3, 10), (0, 4), (0, 6)):
        if key in subtables and struct.unpack_from(">H", data, subtables[key])[0] == 12:
            return frozenset(_cmap_format12(data, subtables[key]))
    for key in ((3, 1), (0, 3), (0, 2), (0, 1), (0, 0)):
        if key in subtables and struct.unpack_from(">H", data, subtables[key])[0] == 4:
            return frozenset(_cmap_format4(data, subtables[key]))
    raise FontFileError("the font has no Unicode cmap we can read")


def read_font_facts(path: Path) -> FontFacts:
    """The coverage and metrics of the font file at `path`; FontFileError when unreadable."""
    data = path.read_bytes()
    try:
        tables = _tables(data)
        head, hhea, cmap = tables[b"head"][0], tables[b"hhea"][0], tables[b"cmap"][0]
        (units_per_em,) = struct.unpack_from(">H", data, head + 18)
        ascender, descender = struct.unpack_from(">hh", data, hhea + 4)
        return FontFacts(units_per_em, ascender, descender, _codepoints(data, cmap))
    except (KeyError, struct.error) as exc:
        raise FontFileError(f"{path.name}: damaged font tables ({exc})") from exc
