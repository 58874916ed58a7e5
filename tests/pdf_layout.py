"""Layout checks on a generated PDF, read back from its content as a reader would see it.

The questions asked are those a person proof-reading a printout asks: do two words overlap,
does a word leave its table column, does a word leave the page or its margins? The answers
come from the PDF itself (its text layer and its vector paths), not from the code that built
it, so they also hold for what reportlab does behind our back.

Usage::

    assert layout_problems(pdf_bytes, margins=Margins(42.5, 42.5, 85, 51)) == []

Coordinates are PDF points, origin at the top-left corner of the page (y grows downwards),
as in pdftotext and pdfplumber.

**Words.** A word is a run of characters with no white space in it, as pdftotext sees it:
every Unicode white space separates words, including the no-break space U+00A0 and the
narrow no-break space U+202F of amounts, so "1 234,56 €" is the three words "1", "234,56"
and "€". pdftotext, pdfplumber and PDFium all split there too, and PDFium even reports
U+00A0 as an ordinary space, so keeping it inside a word would not be reliable. A word also
ends where the text jumps: where the next character starts more than 0.1 em after the end
of the previous one (pdftotext's threshold), sits on another baseline or size, or starts
back over the previous one by more than :data:`TOLERANCE` while printed by another text
operator (text printed over text). That last rule is why words are built here from the
characters: PDFium's own grouping joins two strings that overlap by several points into one
"word", pdftotext's joins them up to 0.2 em (1.8 pt at 9 pt), and either would hide the
overlap. On clean documents the words are pdftotext's (same texts, boxes within 0.3 pt).

A word's box runs across the advance widths of its characters, widened to the ink where a
glyph sticks out (the hook of J, ď, accents), and down one em from its descent line, as in
pdfminer. For the app's DejaVu fonts that is exactly the ascent/descent box (0.76 em above
the baseline, 0.24 below), whatever the letters: "À" is no taller than "a", so two lines
never overlap while the leading is at least the font size, and two lines set solid
(9 pt on 9 pt) just touch.

**Rules.** Straight horizontal or vertical segments of stroked paths (``canvas.line``,
reportlab's ``INNERGRID``, ``LINEAFTER``, ``BOX``, the edges of a stroked rectangle, inside
form XObjects too), and filled rectangles at most 1.5 pt thick and three times as long as
thick. Curves, slanted lines and larger filled areas (cell shading, QR code modules) are
not rules.

**Library: pypdfium2** (PDFium; BSD-3-Clause and Apache-2.0; binary wheels on PyPI, so no
system package; pdfplumber itself depends on it). Measured on a 30-page reportlab table
(4 columns, INNERGRID, wrapped Paragraph cells, 17 220 words, 955 paths), best of 3 runs,
time to read words and rules relative to the code kept:

==========================================================  =====
pypdfium2, every character's box + path segments (kept)      1
pypdfium2, only the first and last character of each word    0.5
``pdftotext -raw -bbox`` (words only: subprocess + XML)      0.35
``pdftotext -raw -bbox`` + pypdfium2 for the paths           0.5
pypdf, ``extract_text(extraction_mode="layout")``            2.0
playa-pdf (MIT), glyphs + paths                              3.4
pdfminer.six (MIT), ``extract_pages(laparams=None)``         9
pdfplumber (MIT), ``chars`` + ``lines`` + ``rects``          17
==========================================================  =====

In absolute terms (a noisy 2-core machine): about 6 ms to read a dense page (570 words) and
1.3 ms more for the three checks. On a one-page PDF the code kept is as fast as pdftotext
alone, whose process start costs more than the page; pdfplumber takes 12 times as long.
The faster variants were rejected for what they cannot see: building words without each
character's box falls back on the merged strings above, poppler drops the characters that
lie outside the page (half of a word running off the right edge vanishes) and gives no
paths, pypdf gives no positions through a public API. pdfplumber is accurate but 17 times
slower, and its ``extract_words`` scrambles overlapping strings ("Saint-Hilaire-Ssoulrd-eH")
since it sorts characters by position. PyMuPDF is fast but AGPL.

**What it cannot see.** It reads the text layer, not the ink: white text, text hidden under
a filled box, text clipped away or invisible (render mode 3) count as printed; glyphs drawn
as paths or inside images are no words. Text printed exactly twice at the same place is
read once (PDFium drops the copy, and a reader cannot see it either). Strings overlapping
by less than :data:`TOLERANCE` are read as one word. A rule that falls in the gap between
two words (the narrow space of an overflowing amount, say) is crossed by neither. PDFium
rounds glyph widths slightly: the end of a long line can come out up to a few tenths of a
point short. Page rotation (/Rotate) is ignored (reportlab never sets it). PDFium is not
thread-safe: use processes (pytest-xdist does) rather than threads.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

# A third of a point: more than float rounding (PDFium works in 32-bit floats, reportlab
# writes 4 decimals) and than boxes that merely touch (consecutive lines whose leading
# equals the font size, strings printed end to end), less than any visible defect: the
# narrowest gap between two words of our 7.5 pt text, a narrow no-break space, is 1.3 pt.
TOLERANCE = 0.3
# A word ends where the next character starts this many ems after the previous one ends
# (pdftotext's minWordBreakSpace).
WORD_BREAK_SPACE = 0.1
# Thicker than this, a filled rectangle is an area (shading, a QR module), not a rule.
RULE_MAX_THICKNESS = 1.5
RULE_MIN_LENGTH = 1.0
# A segment whose ends differ by less than this across its length is axis-aligned.
STRAIGHT = 0.01

# Runs of characters between white space (Python's: U+00A0 and U+202F included).
_NON_SPACE = re.compile(r"\S+")

PdfSource = str | os.PathLike[str] | bytes


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True, slots=True)
class VerticalRule:
    x: float  # the middle of the stroke
    top: float
    bottom: float
    thickness: float


@dataclass(frozen=True, slots=True)
class HorizontalRule:
    y: float  # the middle of the stroke
    x0: float
    x1: float
    thickness: float


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 1-based, as printed in "page n / N"
    width: float
    height: float
    words: tuple[Word, ...]
    vertical_rules: tuple[VerticalRule, ...]
    horizontal_rules: tuple[HorizontalRule, ...]


class Margins(NamedTuple):
    """Distances from each edge of the page, in points, that no word may cross."""

    left: float = 0.0
    right: float = 0.0
    top: float = 0.0
    bottom: float = 0.0


# --- Reading -------------------------------------------------------------------------

def read_pages(source: PdfSource) -> list[Page]:
    """Every page of the PDF (a path or its bytes), with its words and its rules."""
    document = pdfium.PdfDocument(source)
    try:
        pages = []
        for index in range(len(document)):
            page = document[index]
            try:
                pages.append(_read_page(page, index + 1))
            finally:
                page.close()
        return pages
    finally:
        document.close()


def _read_page(page: pdfium.PdfPage, number: int) -> Page:
    left, bottom, right, top = page.get_mediabox()
    # PDF space has y upwards from the media box's corner; ours is top-left, y downwards.
    def to_top(y: float) -> float:
        return top - y

    textpage = page.get_textpage()
    try:
        words = _read_words(textpage.raw, left, to_top)
    finally:
        textpage.close()
    vertical: list[VerticalRule] = []
    horizontal: list[HorizontalRule] = []
    for segment in _rule_segments(page.raw):
        x0, y0, x1, y1, thickness = segment
        if abs(x1 - x0) <= STRAIGHT:
            vertical.append(VerticalRule((x0 + x1) / 2 - left, to_top(max(y0, y1)),
                                         to_top(min(y0, y1)), thickness))
        else:
            horizontal.append(HorizontalRule(to_top((y0 + y1) / 2), min(x0, x1) - left,
                                             max(x0, x1) - left, thickness))
    return Page(number, right - left, top - bottom, tuple(words), tuple(vertical),
                tuple(horizontal))


def _page_text(textpage: object, count: int) -> str:
    """The page's characters, one per character index (one call instead of one per char)."""
    buffer = (ctypes.c_ushort * (count + 1))()
    written = pdfium_c.FPDFText_GetText(textpage, 0, count, buffer)
    text = bytes(buffer)[:2 * max(written - 1, 0)].decode("utf-16-le", "replace")
    if len(text) != count:  # PDFium left a character out: ask for them one by one
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i)) for i in range(count))
    return text


def _read_words(textpage: object, left: float, to_top: Callable[[float], float]
                ) -> list[Word]:
    count = pdfium_c.FPDFText_CountChars(textpage)
    if count <= 0:
        return []
    text = _page_text(textpage, count)
    box = pdfium_c.FS_RECTF()
    char_box = pdfium_c.FPDFText_GetLooseCharBox
    words: list[Word] = []
    # PDFium's "loose" box of a character is its advance box, widened to the glyph's ink
    # where it sticks out (accents above the ascent, the hook of J to the left, ď to the
    # right); its bottom is always the font's descent line. PDFium's generated spaces and
    # line ends are white space like the others, so runs of non-space are the candidates.
    for run in _NON_SPACE.finditer(text):
        first, stop = run.span()
        char_box(textpage, first, box)
        x0, x1, bottom = box.left, box.right, box.bottom
        last_right = x1
        em = _em(textpage, first, box)
        for index in range(first + 1, stop):
            char_box(textpage, index, box)
            c_left, c_right, c_bottom = box.left, box.right, box.bottom
            if (abs(c_bottom - bottom) > TOLERANCE  # another baseline or size
                    or c_left > last_right + WORD_BREAK_SPACE * em  # a jump forwards
                    or (c_left < last_right - TOLERANCE  # back over the last character
                        and not _same_string(textpage, index - 1, index))):
                words.append(Word(text[first:index], x0 - left, to_top(bottom + em),
                                  x1 - left, to_top(bottom)))
                first, x0, x1, bottom = index, c_left, c_right, c_bottom
                em = _em(textpage, index, box)
            else:
                if c_left < x0:
                    x0 = c_left
                if c_right > x1:
                    x1 = c_right
            last_right = c_right
        words.append(Word(text[first:stop], x0 - left, to_top(bottom + em), x1 - left,
                          to_top(bottom)))
    return words


def _em(textpage: object, index: int, box: object) -> float:
    """The font size of a character in page space (its text and graphics matrices applied).

    A word's box is one em tall from its descent line, as in pdfminer: accented capitals
    would otherwise make "À" taller than "A" and touch the line above when set solid."""
    size = pdfium_c.FPDFText_GetFontSize(textpage, index)
    matrix = pdfium_c.FS_MATRIX()
    if size <= 0 or not pdfium_c.FPDFText_GetMatrix(textpage, index, matrix):
        return box.top - box.bottom  # no size (a Type 3 font): keep PDFium's height
    return size * math.hypot(matrix.c, matrix.d)


def _same_string(textpage: object, first: int, second: int) -> bool:
    """Whether two characters were printed by the same text operator (one Tj), so that
    the second follows the first by construction even if their inks overlap (the hook of
    a J under the previous letter). Asked only then, since it costs two calls."""
    def address(index: int) -> int | None:
        return ctypes.cast(pdfium_c.FPDFText_GetTextObject(textpage, index),
                           ctypes.c_void_p).value

    return address(first) == address(second)


Matrix = tuple[float, float, float, float, float, float]


def _multiply(inner: Matrix, outer: Matrix) -> Matrix:
    """The matrix applying *inner* then *outer* (PDF row-vector convention)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer  # noqa: N806 (the usual names of a matrix's terms)
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
            e * A + f * C + E, e * B + f * D + F)


def _objects(page: object) -> Iterator[tuple[object, Matrix]]:
    """Every path object of the page, forms included, with its matrix to page space."""
    raw_matrix = pdfium_c.FS_MATRIX()
    identity: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    stack = [(pdfium_c.FPDFPage_GetObject(page, i), identity)
             for i in range(pdfium_c.FPDFPage_CountObjects(page))]
    while stack:
        obj, outer = stack.pop()
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind not in (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_FORM):
            continue
        pdfium_c.FPDFPageObj_GetMatrix(obj, raw_matrix)
        m = raw_matrix
        matrix = _multiply((m.a, m.b, m.c, m.d, m.e, m.f), outer)
        if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            yield obj, matrix
        else:  # a form's objects are in the form's space
            stack.extend((pdfium_c.FPDFFormObj_GetObject(obj, i), matrix)
                         for i in range(pdfium_c.FPDFFormObj_CountObjects(obj)))


def _subpaths(obj: object, matrix: Matrix) -> Iterator[tuple[list[tuple[float, float]], bool]]:
    """The straight polylines of a path in page space, with whether each is all straight.
    A closed subpath ends at its first point again; curves break the polyline."""
    a, b, c, d, e, f = matrix
    x, y = ctypes.c_float(), ctypes.c_float()
    points: list[tuple[float, float]] = []
    start = (0.0, 0.0)  # where the current subpath began, for its closing segment
    straight = True
    for index in range(pdfium_c.FPDFPath_CountSegments(obj)):
        segment = pdfium_c.FPDFPath_GetPathSegment(obj, index)
        pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
        point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            if len(points) > 1:
                yield points, straight
            points, start, straight = [point], point, True
            continue
        if kind != pdfium_c.FPDF_SEGMENT_LINETO:  # a Bézier control or end point
            straight = False
            if len(points) > 1:
                yield points, False
            points = [point]
        else:
            points.append(point)
        if pdfium_c.FPDFPathSegment_GetClose(segment):
            points.append(start)
    if len(points) > 1:
        yield points, straight


def _rule_segments(page: object) -> Iterator[tuple[float, float, float, float, float]]:
    """(x0, y0, x1, y1, thickness) of every rule, in PDF space; x0 == x1 for a vertical one."""
    fill_mode, stroked = ctypes.c_int(), ctypes.c_int()
    width = ctypes.c_float()
    for obj, matrix in _objects(page):
        pdfium_c.FPDFPath_GetDrawMode(obj, fill_mode, stroked)
        a, b, c, d = matrix[:4]
        scale = math.sqrt(abs(a * d - b * c))
        if stroked.value:
            pdfium_c.FPDFPageObj_GetStrokeWidth(obj, width)
            thickness = width.value * scale
            for points, _ in _subpaths(obj, matrix):
                for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
                    dx, dy = abs(xb - xa), abs(yb - ya)
                    if min(dx, dy) <= STRAIGHT and max(dx, dy) >= RULE_MIN_LENGTH:
                        yield xa, ya, xb, yb, thickness
        elif fill_mode.value:
            for points, straight in _subpaths(obj, matrix):
                rule = _thin_rectangle(points) if straight else None
                if rule:
                    yield rule


def _thin_rectangle(points: list[tuple[float, float]]
                    ) -> tuple[float, float, float, float, float] | None:
    """A filled axis-aligned rectangle thin enough to read as a rule, as its centre line."""
    # "re" gives 4 corners and a close, "m l l l h" 4 or 5: drop repeated points.
    corners = [point for i, point in enumerate(points) if i == 0 or point != points[i - 1]]
    if len(corners) > 1 and corners[-1] == corners[0]:
        corners.pop()
    if len(corners) != 4:
        return None
    for (xa, ya), (xb, yb) in zip(corners, corners[1:] + corners[:1], strict=True):
        if min(abs(xb - xa), abs(yb - ya)) > STRAIGHT:
            return None  # a slanted edge: not a rectangle
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    if width <= RULE_MAX_THICKNESS and height >= max(3 * width, RULE_MIN_LENGTH):
        x = (min(xs) + max(xs)) / 2
        return x, min(ys), x, max(ys), width
    if height <= RULE_MAX_THICKNESS and width >= max(3 * height, RULE_MIN_LENGTH):
        y = (min(ys) + max(ys)) / 2
        return min(xs), y, max(xs), y, height
    return None


# --- Checks --------------------------------------------------------------------------

def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length shared by the intervals [a0, a1] and [b0, b1] (negative: the gap between)."""
    return min(a1, b1) - max(a0, b0)


def overlapping_words(page: Page, tolerance: float = TOLERANCE) -> list[tuple[Word, Word]]:
    """Pairs of words whose boxes share more than *tolerance* points both across and down.

    Words that touch (end to end on a line, or the boxes of two lines set solid) do not
    count. A sweep down the page compares each word only with the words that start above
    its bottom, so a page costs about words × words-per-line comparisons."""
    words = sorted(page.words, key=lambda word: word.top)
    pairs = []
    for i, first in enumerate(words):
        limit = first.bottom - tolerance
        j = i + 1
        while j < len(words) and words[j].top < limit:
            second = words[j]
            j += 1
            if (_overlap(first.x0, first.x1, second.x0, second.x1) > tolerance
                    and _overlap(first.top, first.bottom, second.top, second.bottom)
                    > tolerance):
                pairs.append((first, second))
    return pairs


def words_crossing_rules(page: Page, tolerance: float = TOLERANCE
                         ) -> list[tuple[Word, VerticalRule]]:
    """Words that run across a vertical rule: the rule's x lies more than *tolerance*
    inside the word and the rule runs alongside the word for more than *tolerance*.

    With thin separators between table columns, that is a word leaving its column. A word
    is reported once per rule position, even when a table draws one rule per row."""
    rules = sorted(page.vertical_rules, key=lambda rule: rule.x)
    positions = [rule.x for rule in rules]
    found = []
    for word in page.words:
        start = bisect_right(positions, word.x0 + tolerance)
        end = bisect_left(positions, word.x1 - tolerance)
        seen: set[float] = set()
        for rule in rules[start:end]:
            if (_overlap(word.top, word.bottom, rule.top, rule.bottom) > tolerance
                    and round(rule.x, 1) not in seen):
                seen.add(round(rule.x, 1))
                found.append((word, rule))
    return found


def words_outside(page: Page, left: float = 0.0, right: float = 0.0, top: float = 0.0,
                  bottom: float = 0.0, tolerance: float = TOLERANCE) -> list[Word]:
    """Words that go more than *tolerance* beyond the margins (distances from each edge
    of the page, in points; 0 for the page's own edges)."""
    x_max, y_max = page.width - right + tolerance, page.height - bottom + tolerance
    return [word for word in page.words
            if word.x0 < left - tolerance or word.x1 > x_max
            or word.top < top - tolerance or word.bottom > y_max]


# --- Report --------------------------------------------------------------------------

def _n(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")  # French decimal comma


def _box(word: Word) -> str:
    return f"x {_n(word.x0)}–{_n(word.x1)}, y {_n(word.top)}–{_n(word.bottom)}"


def _sides(page: Page, word: Word, margins: Margins, tolerance: float) -> list[str]:
    """Where *word* goes beyond the margins, in French, for the report."""
    # (value, margin limit, page edge, direction outwards, past the margin, past the page)
    sides = ((word.x0, margins.left, 0.0, -1, "la marge gauche", "à gauche"),
             (word.x1, page.width - margins.right, page.width, 1, "la marge droite",
              "à droite"),
             (word.top, margins.top, 0.0, -1, "la marge du haut", "en haut"),
             (word.bottom, page.height - margins.bottom, page.height, 1, "la marge du bas",
              "en bas"))
    found = []
    for value, limit, edge, outwards, margin, side in sides:
        if (value - limit) * outwards > tolerance:
            sign = ">" if outwards > 0 else "<"
            if (value - edge) * outwards > tolerance:
                found.append(f"sort de la page {side} ({_n(value)} {sign} {_n(edge)})")
            else:
                found.append(f"dépasse {margin} ({_n(value)} {sign} {_n(limit)})")
    return found


def page_problems(page: Page, margins: Margins | None = None,
                  tolerance: float = TOLERANCE) -> list[str]:
    """The problems of one page, in French, as :func:`layout_problems` reports them."""
    margins = Margins(*margins) if margins is not None else Margins()
    problems = []
    at = f"page {page.number} :"
    for first, second in overlapping_words(page, tolerance):
        problems.append(f"{at} « {first.text} » chevauche « {second.text} » "
                        f"(x {_n(first.x0)}–{_n(first.x1)} / {_n(second.x0)}–{_n(second.x1)}, "
                        f"y {_n(first.top)}–{_n(first.bottom)} / "
                        f"{_n(second.top)}–{_n(second.bottom)})")
    for word, rule in words_crossing_rules(page, tolerance):
        problems.append(f"{at} « {word.text} » sort de sa colonne et traverse le filet "
                        f"vertical en x {_n(rule.x)} ({_box(word)})")
    for word in words_outside(page, *margins, tolerance=tolerance):
        sides = " et ".join(_sides(page, word, margins, tolerance))
        problems.append(f"{at} « {word.text} » {sides} ({_box(word)})")
    return problems


def layout_problems(source: PdfSource, margins: Margins | tuple[float, float, float, float]
                    | None = None, tolerance: float = TOLERANCE) -> list[str]:
    """Every overlap, column overflow and margin overflow of the PDF, one French sentence
    each, page by page; empty when the layout is clean. *margins* is (left, right, top,
    bottom) in points; without it, words are only kept inside the page."""
    chosen = Margins(*margins) if margins is not None else None
    return [problem for page in read_pages(source)
            for problem in page_problems(page, chosen, tolerance)]

