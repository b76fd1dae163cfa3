"""The shipped fonts: the manifest (`fonts/fonts.json`), loading at a size, and glyph coverage.

A template names a font by its file stem (`Inter-Bold`). Characters the font lacks are drawn
with its fallback font (DejaVu Sans, wide Unicode coverage), one run of characters at a time;
characters no shipped font has are refused by name, so nothing is ever drawn as a tofu box.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont, features

from promostack.render.errors import RenderError
from promostack.render.sfnt import read_font_facts

FONTS_DIR = Path(__file__).parent / "fonts"

# Raqm applies the font's OpenType kerning (GPOS) as browsers do; without it Pillow would
# measure lines differently from the canvas preview. The basic layout is a last resort only.
LAYOUT = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


@dataclass(frozen=True)
class FontInfo:
    """One shipped font as the manifest describes it."""

    name: str
    family: str
    style: str
    role: str  # "text", "display", "mono" or "fallback"
    path: Path
    licence: str
    licence_path: Path
    fallback: str | None
    units_per_em: int
    ascender: int
    descender: int

    def ascent(self, size: int) -> int:
        """The ascent in pixels at `size`: ceil(size × ascender / units_per_em)."""
        return -(-size * self.ascender // self.units_per_em)

    def descent(self, size: int) -> int:
        """The descent in pixels at `size`: ceil(size × −descender / units_per_em)."""
        return -(-size * -self.descender // self.units_per_em)


@lru_cache(maxsize=1)
def _manifest() -> dict[str, FontInfo]:
    raw = json.loads((FONTS_DIR / "fonts.json").read_text(encoding="utf-8"))
    return {
        row["name"]: FontInfo(
            name=row["name"],
            family=row["family"],
            style=row["style"],
            role=row["role"],
            path=FONTS_DIR / row["file"],
            licence=row["licence"],
            licence_path=FONTS_DIR / row["licence_file"],
            fallback=row["fallback"],
            units_per_em=row["units_per_em"],
            ascender=row["ascender"],
            descender=row["descender"],
        )
        for row in raw["fonts"]
    }


def available_fonts() -> list[FontInfo]:
    """Every shipped font, in manifest order."""
    return list(_manifest().values())


def font_info(name: str) -> FontInfo:
    """The manifest entry of the font named `name`; RenderError naming the choices when unknown."""
    try:
        return _manifest()[name]
    except KeyError:
        choices = ", ".join(_manifest())
        raise RenderError(f"unknown font '{name}'; the fonts are: {choices}") from None


def font_path(name: str) -> Path:
    """The font file (.ttf or .otf) of the font named by its file stem; RenderError when unknown."""
    return font_info(name).path


@lru_cache(maxsize=512)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """The font at `path` loaded at `size` pixels, loaded once per (path, size)."""
    return ImageFont.truetype(str(path), size, layout_engine=LAYOUT)


@lru_cache(maxsize=32)
def coverage(path: Path) -> frozenset[int]:
    """The code points the font at `path` has a glyph for (from its cmap)."""
    return read_font_facts(path).codepoints


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "unnamed character")
    return f"'{ch}' (U+{ord(ch):04X} {name})"


def split_runs(text: str, font: FontInfo) -> list[tuple[str, FontInfo]]:
    """`text` cut into runs drawn with one font each: `font` where it has the glyph, else its
    fallback; RenderError naming every character that no shipped font can draw."""
    primary = coverage(font.path)
    backup = font_info(font.fallback) if font.fallback else None
    backup_cov = coverage(backup.path) if backup else frozenset()
    runs: list[tuple[str, FontInfo]] = []
    missing: list[str] = []
    for ch in text:
        cp = ord(ch)
        if cp in primary:
            chosen = font
        elif backup is not None and cp in backup_cov:
            chosen = backup
        else:
            if ch not in missing:
                missing.append(ch)
            continue
        if runs and runs[-1][1] is chosen:
            runs[-1] = (runs[-1][0] + ch, chosen)
        else:
            runs.append((ch, chosen))
    if missing:
        shown = ", ".join(_describe(ch) for ch in missing[:8])
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        raise RenderError(f"no font can draw {shown}{more}; remove them or choose other characters")
    return runs
