"""The fitting rule: the font size, lines and positions of one text in one text area.

The server (Pillow) and the browser preview (canvas) implement this same rule with the same font
files (`fonts/fonts.json`), so a preview matches the rendered image. Every step is exact enough to
reproduce in JavaScript:

1. Normalise. Split the text on runs of the six ASCII whitespace characters
   (space, \\t, \\n, \\r, \\f, \\v — the regex `[ \\t\\n\\r\\f\\v]+`), drop empty pieces, and
   join the words with one space. Nothing else is changed. If the result has more code points
   than `max_chars` (JS: `[...s].length`), it is refused (RenderError). Then, when `uppercase`
   is set, it is upper-cased (Python `str.upper`, JS `toUpperCase`). An empty result draws
   nothing.
2. Fonts per character. Each character is drawn with the area's font if that font's cmap maps
   it, else with the font's `fallback` (from fonts.json) if that maps it; otherwise the text is
   refused, naming the characters. Consecutive characters of the same font form a run; a line is
   drawn run after run (kerning does not cross runs). Canvas: `font = "<size>px <font>, <fallback>"`
   gives the same choice.
3. Measure. The width of a line is the sum of the advance widths of its runs at the size
   (Pillow `getlength` with OpenType kerning; canvas `measureText(run).width`); never ink bounds.
   The ascent and descent come from the font's hhea table as published in fonts.json:
   `ascent = ceil(size × ascender / units_per_em)`, `descent = ceil(size × −descender / units_per_em)`
   — always of the area's own font, even on lines with fallback runs.
   `line_height = floor(size × line_spacing + 0.5)` (IEEE double arithmetic, as in JS).
4. Lines at a size. The available width is `box.w − 2 × stroke_width`.
   A single-line area (`wrap` false) has exactly one line: the whole text, never wrapped.
   A wrapping area breaks greedily: the first word starts line 1; each next word is appended
   (after one space) when the whole candidate line still measures ≤ the available width,
   otherwise it starts a new line. A word wider than the available width is never broken: it
   sits alone on its line and makes that size fail.
5. Fits. A size fits when the number of lines ≤ `max_lines` (1 for single-line areas), every
   line's width ≤ the available width, and the block height
   `ascent + descent + (n − 1) × line_height` ≤ `box.h`.
6. Size. Integer sizes only. If `min_size` does not fit: TextDoesNotFit (nothing is clipped, no
   image is made). Else if `max_size` fits, it is the size. Else binary search with
   `lo = min_size` (fits), `hi = max_size − 1`: while `lo < hi`: `mid = floor((lo + hi + 1) / 2)`;
   if mid fits `lo = mid` else `hi = mid − 1`. The size is `lo`.
7. Place. Block top: `top` → `box.y`; `middle` → `box.y + floor((box.h − H) / 2)`;
   `bottom` → `box.y + box.h − H`, where H is the block height. Line i (from 0) has its baseline
   at `top + ascent + i × line_height`. Its left end x (not rounded) is
   `box.x + stroke_width` (left), `box.x + (box.w − width) / 2` (center) or
   `box.x + box.w − stroke_width − width` (right). Lines are drawn at that baseline with the
   left-baseline anchor (Pillow anchor "ls"; canvas `textAlign = "left"`,
   `textBaseline = "alphabetic"`).

Drawing (see `draw_text`), three layers, each blended once with its colour's alpha:
the shadow — the stroke shape below (or the bare glyphs without a stroke) in the shadow colour,
shifted by (dx, dy), no blur; the stroke — the glyphs grown by `stroke_width` px with round joins
and filled (canvas: `strokeText` with `lineWidth = 2 × stroke_width`, `lineJoin = "round"`, plus
`fillText`, both in the stroke colour, drawn on a layer composited with the colour's alpha);
then the fill. Results are remembered per (text, area), so a repeated headline is fitted once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from promostack.render.errors import RenderError, TextDoesNotFit
from promostack.render.typefaces import FontInfo, font_info, load_font, split_runs
from promostack.templates.schema import TextArea

_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")

Run = tuple[str, FontInfo]


@dataclass(frozen=True)
class FitResult:
    """Where and how big a text is drawn in its area (empty `lines`: nothing to draw)."""

    text: str  # normalised (and upper-cased) text
    size: int
    lines: tuple[str, ...]
    widths: tuple[float, ...]
    runs: tuple[tuple[Run, ...], ...]  # per line: (text, font) runs
    origins: tuple[tuple[float, int], ...]  # per line: (left x, baseline y) in image pixels
    line_height: int
    ascent: int
    descent: int
    block_height: int

    @property
    def empty(self) -> bool:
        """True when there is nothing to draw."""
        return not self.lines


def normalise(text: str) -> str:
    """`text` with runs of ASCII whitespace collapsed to one space and the ends trimmed."""
    return " ".join(word for word in _WHITESPACE.split(text) if word)


def line_height(size: int, spacing: float) -> int:
    """The distance between baselines: floor(size × spacing + 0.5)."""
    return int(size * spacing + 0.5)


class _Measurer:
    """Widths of candidate lines at one size, with each word's runs worked out once."""

    def __init__(self, font: FontInfo, words: list[str]) -> None:
        self.font = font
        split_runs(" ".join(words), font)  # refuses, naming every character no font has
        self.word_runs = [split_runs(word, font) for word in words]
        self.space_runs = split_runs(" ", font) if len(words) > 1 else []

    def runs_of(self, first: int, last: int) -> list[Run]:
        """The runs of words[first..last] joined by single spaces, same-font runs merged."""
        merged: list[Run] = []
        for i in range(first, last + 1):
            parts = self.word_runs[i] if i == first else self.space_runs + self.word_runs[i]
            for text, font in parts:
                if merged and merged[-1][1] is font:
                    merged[-1] = (merged[-1][0] + text, font)
                else:
                    merged.append((text, font))
        return merged

    def width(self, runs: list[Run], size: int) -> float:
        """The advance width of `runs` at `size`."""
        return sum(load_font(font.path, size).getlength(text) for text, font in runs)


def _lines_at(
    m: _Measurer, n_words: int, size: int, avail: float, wrap: bool
) -> tuple[list[list[Run]], list[float]]:
    """The greedy lines (as runs) and their widths at `size`."""
    if not wrap:
        runs = m.runs_of(0, n_words - 1)
        return [runs], [m.width(runs, size)]
    lines: list[list[Run]] = []
    widths: list[float] = []
    first = 0
    current = m.runs_of(0, 0)
    current_w = m.width(current, size)
    for i in range(1, n_words):
        candidate = m.runs_of(first, i)
        candidate_w = m.width(candidate, size)
        if candidate_w <= avail:
            current, current_w = candidate, candidate_w
        else:
            lines.append(current)
            widths.append(current_w)
            first = i
            current = m.runs_of(i, i)
            current_w = m.width(current, size)
    lines.append(current)
    widths.append(current_w)
    return lines, widths


def _largest_fitting(lo: int, hi: int, fits: Callable[[int], bool]) -> int | None:
    """The size of rule step 6: None when `lo` fails, else the binary-search answer."""
    if not fits(lo):
        return None
    if fits(hi):
        return hi
    hi -= 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def fit_text(text: str, area: TextArea) -> FitResult:
    """The size, lines and line positions of `text` in `area` by the fitting rule above.

    RenderError for text over `max_chars`, an unknown font or characters no font has;
    TextDoesNotFit when even `min_size` is too big. Results are remembered per (text, area):
    a bulk run repeats the same headline on every image.
    """
    return _fit_remembered(text, area.model_dump_json())


@lru_cache(maxsize=1024)
def _fit_remembered(text: str, area_json: str) -> FitResult:
    return _fit(text, TextArea.model_validate_json(area_json))


def _fit(text: str, area: TextArea) -> FitResult:
    font = font_info(area.font)
    clean = normalise(text)
    length = len(clean)
    if length > area.max_chars:
        raise RenderError(
            f"text area '{area.id}': the text has {length} characters, more than its limit of "
            f"{area.max_chars}"
        )
    if area.uppercase:
        clean = clean.upper()
    box = area.box
    if not clean:
        return FitResult(clean, area.min_size, (), (), (), (), 0, 0, 0, 0)
    words = clean.split(" ")
    try:
        measurer = _Measurer(font, words)
    except RenderError as exc:
        raise RenderError(f"text area '{area.id}': {exc}") from None
    avail = box.w - 2 * area.stroke_width
    max_lines = area.max_lines if area.wrap else 1
    found: dict[int, tuple[list[list[Run]], list[float]]] = {}

    def fits(size: int) -> bool:
        lines, widths = _lines_at(measurer, len(words), size, avail, area.wrap)
        height = (
            font.ascent(size) + font.descent(size) + (len(lines) - 1) * line_height(size, area.line_spacing)
        )
        ok = len(lines) <= max_lines and max(widths) <= avail and height <= box.h
        if ok:
            found[size] = (lines, widths)
        return ok

    size = _largest_fitting(area.min_size, area.max_size, fits) if avail > 0 else None
    if size is None:
        raise TextDoesNotFit(area.id, length, area.min_size, f"box {box.w}x{box.h}")
    lines, widths = found[size]
    ascent, descent, step = font.ascent(size), font.descent(size), line_height(size, area.line_spacing)
    block = ascent + descent + (len(lines) - 1) * step
    if area.valign == "top":
        top = box.y
    elif area.valign == "middle":
        top = box.y + (box.h - block) // 2
    else:
        top = box.y + box.h - block
    origins = []
    for i, width in enumerate(widths):
        if area.align == "left":
            x = float(box.x + area.stroke_width)
        elif area.align == "center":
            x = box.x + (box.w - width) / 2
        else:
            x = box.x + box.w - area.stroke_width - width
        origins.append((x, top + ascent + i * step))
    return FitResult(
        text=clean,
        size=size,
        lines=tuple("".join(t for t, _ in runs) for runs in lines),
        widths=tuple(widths),
        runs=tuple(tuple(runs) for runs in lines),
        origins=tuple(origins),
        line_height=step,
        ascent=ascent,
        descent=descent,
        block_height=block,
    )
