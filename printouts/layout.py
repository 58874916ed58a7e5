"""Page furniture of the documents: fonts, styles and a table that never breaks.

:class:`GridTable` draws its cells itself instead of going through reportlab's
``Table``: every cell is wrapped to its column by measuring the embedded font
(long references and names without spaces are cut, hyphens first), amounts are
never wrapped and their columns are as wide as their widest amount, the header
row is drawn at the top of each page the table runs on (and nowhere else), an
axis heading never ends a page, and a total row never starts a page alone: at
least :data:`MIN_ROWS_BEFORE_TOTAL` rows go with it. Row heights are measured
once, so a table of 20 000 rows lays out in linear time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable

FONTS = Path(__file__).resolve().parent.parent / "resources" / "fonts"
BLUE = colors.HexColor("#000091")
GREY = colors.HexColor("#666666")
RULE = colors.HexColor("#b8b8b8")
LIGHT = colors.HexColor("#eeeeee")
PALE = colors.HexColor("#f5f5fe")
ALERT = colors.HexColor("#ce0500")
MIN_ROWS_BEFORE_TOTAL = 2


def register_fonts() -> None:
    if "Doc" in pdfmetrics.getRegisteredFontNames():
        return
    for name, file in (("Doc", "DejaVuSans.ttf"), ("Doc-Bold", "DejaVuSans-Bold.ttf"),
                       ("Cond", "DejaVuSansCondensed.ttf"),
                       ("Cond-Bold", "DejaVuSansCondensed-Bold.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(FONTS / file)))
    pdfmetrics.registerFontFamily("Doc", normal="Doc", bold="Doc-Bold", italic="Doc",
                                  boldItalic="Doc-Bold")
    pdfmetrics.registerFontFamily("Cond", normal="Cond", bold="Cond-Bold", italic="Cond",
                                  boldItalic="Cond-Bold")


register_fonts()

STYLES = {
    "body": ParagraphStyle("body", fontName="Doc", fontSize=9, leading=12),
    "small": ParagraphStyle("small", fontName="Doc", fontSize=7.5, leading=9.5,
                            textColor=GREY),
    "title": ParagraphStyle("title", fontName="Doc-Bold", fontSize=15, leading=19,
                            textColor=BLUE, spaceAfter=4),
    "subtitle": ParagraphStyle("subtitle", fontName="Doc", fontSize=10.5, leading=14,
                               spaceAfter=6),
    "h2": ParagraphStyle("h2", fontName="Doc-Bold", fontSize=11, leading=15, textColor=BLUE,
                         spaceBefore=7, spaceAfter=3),
    "alert": ParagraphStyle("alert", fontName="Doc-Bold", fontSize=9, leading=12,
                            textColor=ALERT),
    "sign": ParagraphStyle("sign", fontName="Doc", fontSize=9, leading=12, alignment=TA_CENTER),
}


# --- Wrapping text to a width ---------------------------------------------------------

BREAK_AFTER = "-_/.,;:)"


def _cut_word(word: str, font: str, size: float, width: float) -> list[str]:
    """A word wider than *width* cut into pieces that fit: after a hyphen or another
    separator when there is one, else between two letters with a hyphen added, as
    print does ("Damérau-" / "court")."""
    pieces = []
    hyphen = pdfmetrics.stringWidth("-", font, size)
    while pdfmetrics.stringWidth(word, font, size) > width:
        fit = 1
        while fit < len(word) and pdfmetrics.stringWidth(word[:fit + 1], font, size) <= width:
            fit += 1
        cut = max((i + 1 for i in range(fit) if word[i] in BREAK_AFTER), default=0)
        if cut >= max(2, fit // 3):
            pieces.append(word[:cut])
            word = word[cut:]
            continue
        letters = fit
        while letters > 1 and pdfmetrics.stringWidth(word[:letters], font, size) + hyphen \
                > width:
            letters -= 1
        pieces.append(word[:letters] + "-")
        word = word[letters:]
    if word:
        pieces.append(word)
    return pieces


def wrap_text(value: Any, font: str, size: float, width: float) -> list[str]:
    """The lines of *value* as printed in *width* points: words kept whole when they fit,
    cut when they are wider than the column; explicit line breaks are kept."""
    text = "" if value is None else str(value)
    lines: list[str] = []
    space = pdfmetrics.stringWidth(" ", font, size)
    for paragraph in text.split("\n"):
        line, line_width = "", 0.0
        # Only plain spaces separate words: the no-break spaces inside "1 234,56 €" do not.
        for word in paragraph.replace("\t", " ").split(" "):
            if not word:
                continue
            word_width = pdfmetrics.stringWidth(word, font, size)
            if word_width > width:
                pieces = _cut_word(word, font, size, width)
            else:
                pieces = [word]
            for piece in pieces:
                piece_width = pdfmetrics.stringWidth(piece, font, size)
                if line and line_width + space + piece_width <= width:
                    line, line_width = f"{line} {piece}", line_width + space + piece_width
                else:
                    if line:
                        lines.append(line)
                    line, line_width = piece, piece_width
        lines.append(line)
    return lines


def text_width(value: str, font: str, size: float) -> float:
    return max((pdfmetrics.stringWidth(line, font, size) for line in value.split("\n")),
               default=0.0)


# --- The table -----------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    header: str
    width: float | None = None  # points; None: a share of what the fixed columns leave
    weight: float = 1.0
    numeric: bool = False  # right-aligned, never wrapped, as wide as its widest value
    min_width: float = 14 * mm
    whole_words: bool = False  # as wide as its widest word: short labels are never cut


@dataclass(frozen=True)
class Cell:
    """A cell with its own look; plain strings are ordinary cells."""

    text: str
    bold: bool = False
    alert: bool = False  # printed in red: a figure that must not be read as a normal one


@dataclass
class Row:
    cells: Sequence[Any]
    kind: str = "body"  # body, group (one text across the row), subtotal, total
    keep_with_next: bool = False


class _Layout:
    """What every page of one table shares: the column widths, the font size and the
    lines and height of every row, measured once."""

    pad_x, pad_y = 2.2, 1.8

    def __init__(self, columns: Sequence[Column], rows: Sequence[Row], width: float,
                 size: float, label_bold: bool) -> None:
        self.columns = list(columns)
        self.rows = list(rows)
        self.total_width = width
        self.label_bold = label_bold
        for attempt in (size, size - 0.5, size - 1.0, size - 1.5):
            widths = self._widths(attempt)
            if widths is not None:
                break
        else:
            raise ValueError("Tableau trop large pour la page : trop de colonnes de montants.")
        self.size, self.widths = attempt, widths
        self.leading = self.size * 1.22
        self.header = Row([c.header for c in self.columns], kind="header")
        self.header_lines = self._cell_lines(self.header)
        self.lines = [self._cell_lines(row) for row in self.rows]
        self.heights = [self.height(lines) for lines in self.lines]
        self.header_height = self.height(self.header_lines)

    def font(self, row: Row, column: int, cell: Any) -> str:
        bold = (row.kind in ("header", "group", "subtotal", "total")
                or (isinstance(cell, Cell) and cell.bold)
                or (self.label_bold and column == 0))
        return "Cond-Bold" if bold else "Cond"

    def _widths(self, size: float) -> list[float] | None:
        pad = 2 * self.pad_x + 0.5
        widths: list[float | None] = []
        for index, column in enumerate(self.columns):
            if column.numeric:
                widest = max([text_width(_text(row.cells[index]),
                                         self.font(row, index, row.cells[index]), size)
                              for row in self.rows if row.kind != "group"] or [0.0])
                header_word = max((pdfmetrics.stringWidth(w, "Cond-Bold", size)
                                   for w in column.header.split()), default=0.0)
                widths.append(max(widest + pad, header_word + pad, column.width or 0))
            elif column.whole_words:
                words = [word for row in self.rows if row.kind != "group"
                         for line in _text(row.cells[index]).split("\n")
                         for word in line.split(" ")]
                widest = max((pdfmetrics.stringWidth(w, self.font(Row([], "body"), index, None),
                                                     size) for w in words), default=0.0)
                header_word = max((pdfmetrics.stringWidth(w, "Cond-Bold", size)
                                   for w in column.header.split()), default=0.0)
                widths.append(max(widest, header_word) + pad)
            else:
                widths.append(column.width)
        fixed = sum(w for w in widths if w is not None)
        flexible = [i for i, w in enumerate(widths) if w is None]
        left = self.total_width - fixed
        if flexible:
            weights = sum(self.columns[i].weight for i in flexible)
            for i in flexible:
                widths[i] = left * self.columns[i].weight / weights
            if any(widths[i] < self.columns[i].min_width for i in flexible):
                return None
        elif left < -0.01:
            return None
        elif left > 0.01:  # only fixed columns: the text columns share the rest, or all
            text_columns = [i for i, c in enumerate(self.columns)
                            if not c.numeric and not c.whole_words] or range(len(widths))
            for i in text_columns:
                widths[i] += left / len(text_columns)
        return [float(w) for w in widths]

    def _cell_lines(self, row: Row) -> list[list[str]]:
        if row.kind == "group":
            return [wrap_text(_text(row.cells[0]), "Cond-Bold", self.size,
                              self.total_width - 2 * self.pad_x)]
        result = []
        for index, cell in enumerate(row.cells):
            if self.columns[index].numeric and row.kind != "header":
                result.append(_text(cell).split("\n"))
            else:
                result.append(wrap_text(_text(cell), self.font(row, index, cell), self.size,
                                        self.widths[index] - 2 * self.pad_x))
        return result

    def height(self, lines: list[list[str]]) -> float:
        return max(len(cell) for cell in lines) * self.leading + 2 * self.pad_y


def _text(cell: Any) -> str:
    if isinstance(cell, Cell):
        return cell.text
    return "" if cell is None else str(cell)


class GridTable(Flowable):
    """A table with wrapped cells, thin column rules and pages cut between rows.

    A piece of the table is the rows ``start:end`` of the shared layout; the first row
    of a piece may be the rest of a row cut inside (its remaining lines)."""

    def __init__(self, columns: Sequence[Column], rows: Sequence[Row], width: float, *,
                 header: bool = True, size: float = 7.5, rules: bool = True,
                 label_bold: bool = False) -> None:
        super().__init__()
        self.layout = _Layout(columns, rows, width, size, label_bold)
        self.show_header = header
        self.rules = rules
        self.start, self.end = 0, len(rows)
        self.first_lines: list[list[str]] | None = None  # the rest of a row cut inside
        self.page_height: float | None = None  # the frame's height: set by the document

    @property
    def widths(self) -> list[float]:
        return self.layout.widths

    def _piece(self, start: int, end: int,
               first_lines: list[list[str]] | None = None) -> GridTable:
        piece = GridTable.__new__(GridTable)
        Flowable.__init__(piece)
        piece.layout, piece.show_header, piece.rules = self.layout, self.show_header, self.rules
        piece.start, piece.end, piece.first_lines = start, end, first_lines
        piece.page_height = self.page_height
        return piece

    def _lines(self, index: int) -> list[list[str]]:
        if index == self.start and self.first_lines is not None:
            return self.first_lines
        return self.layout.lines[index]

    def _heights(self) -> list[float]:
        heights = self.layout.heights[self.start:self.end]
        if self.first_lines is not None and heights:
            heights[0] = self.layout.height(self.first_lines)
        return heights

    def _header_height(self) -> float:
        return self.layout.header_height if self.show_header else 0.0

    # the flowable protocol --------------------------------------------------------------

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = sum(self.layout.widths)
        self.height = self._header_height() + sum(self._heights())
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        heights = self._heights()
        room = available_height - self._header_height()
        fit, used = 0, 0.0
        while fit < len(heights) and used + heights[fit] <= room - 1e-6:
            used += heights[fit]
            fit += 1
        if fit == len(heights):
            return [self]
        at_page_top = self.page_height is not None and available_height >= self.page_height - 1
        raw_fit = fit
        rows = self.layout.rows
        totals = [i for i in range(self.start, self.end) if rows[i].kind == "total"]
        first_total = (totals[0] if totals else self.end) - self.start
        if first_total < len(heights):
            # The totals go to the next page with at least a few of the rows they sum.
            fit = min(fit, first_total - min(MIN_ROWS_BEFORE_TOTAL, first_total))
        # A subtotal never starts a page alone either: the rows it sums go with it.
        if 0 < fit < len(heights) and rows[self.start + fit].kind == "subtotal":
            fit = max(0, fit - MIN_ROWS_BEFORE_TOTAL)
        while fit > 0 and rows[self.start + fit - 1].keep_with_next:
            fit -= 1
        if fit <= 0 and at_page_top:
            fit = raw_fit  # a page of its own cannot do better: cut where it is full
        if fit > 0:
            return [self._piece(self.start, self.start + fit, self.first_lines),
                    self._piece(self.start + fit, self.end)]
        taller_than_a_page = (self.page_height is not None and heights
                              and heights[0] > self.page_height - self._header_height())
        if not at_page_top and not taller_than_a_page:
            return []  # the table starts on the next page
        if room < 3 * self.layout.leading:
            return []  # too little room even for the start of a row
        return self._split_inside_row(room)

    def _split_inside_row(self, room: float) -> list[Flowable]:
        """A row taller than a whole page (a list of a hundred communes): its lines are
        shared between this page and the next."""
        lines = self._lines(self.start)
        count = max(1, int((room - 2 * self.layout.pad_y) // self.layout.leading))
        head = [cell[:count] or [""] for cell in lines]
        tail = [cell[count:] or [""] for cell in lines]
        return [self._piece(self.start, self.start + 1, head),
                self._piece(self.start, self.end, tail)]

    # drawing ---------------------------------------------------------------------------

    def draw(self) -> None:
        layout = self.layout
        y = self.height
        spans: list[tuple[float, float]] = []  # row extents the column rules run through
        if self.show_header:
            y -= layout.header_height
            self._draw_row(layout.header, layout.header_lines, y, layout.header_height)
            spans.append((y, y + layout.header_height))
        for index, height in zip(range(self.start, self.end), self._heights(), strict=True):
            y -= height
            row = layout.rows[index]
            self._draw_row(row, self._lines(index), y, height)
            if row.kind == "group":  # its text runs across the columns: no rule there
                spans.append((None, None))
            else:
                spans.append((y, y + height))
        if self.rules:
            self._draw_column_rules(spans)

    def _draw_column_rules(self, spans: list[tuple[float | None, float | None]]) -> None:
        """One line per column boundary and run of rows (not one per cell: a table of
        thousands of rows would spend its time there)."""
        runs, bottom, top = [], None, None
        for low, high in [*spans, (None, None)]:
            if low is None:
                if top is not None:
                    runs.append((bottom, top))
                bottom = top = None
            else:
                top = high if top is None else top
                bottom = low
        canvas = self.canv
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.25)
        x = 0.0
        for column_width in self.layout.widths[:-1]:
            x += column_width
            for low, high in runs:
                canvas.line(x, low, x, high)

    def _draw_row(self, row: Row, lines: list[list[str]], y: float, height: float) -> None:
        canvas, layout = self.canv, self.layout
        width = sum(layout.widths)
        background = {"header": BLUE, "total": LIGHT, "subtotal": LIGHT, "group": PALE}
        if row.kind in background:
            canvas.setFillColor(background[row.kind])
            canvas.rect(0, y, width, height, stroke=0, fill=1)
        if self.rules:
            canvas.setStrokeColor(RULE)
            canvas.setLineWidth(0.25)
            canvas.line(0, y, width, y)
        top = y + height - layout.pad_y - layout.size * 0.93
        # One text object for the whole row: a drawString per line costs a new object,
        # its state and its operators each time (most of the time of a big table).
        text = canvas.beginText()
        if row.kind == "group":
            text.setFillColor(colors.black)
            text.setFont("Cond-Bold", layout.size)
            for number, line in enumerate(lines[0]):
                text.setTextOrigin(layout.pad_x, top - number * layout.leading)
                text.textOut(line)
            canvas.drawText(text)
            return
        x = 0.0
        state = None
        for index, column_width in enumerate(layout.widths):
            cell = row.cells[index]
            colour = (colors.white if row.kind == "header" else ALERT
                      if isinstance(cell, Cell) and cell.alert else colors.black)
            font = layout.font(row, index, cell)
            if state != (colour, font):  # operators only when the look changes
                text.setFillColor(colour)
                text.setFont(font, layout.size)
                state = (colour, font)
            numeric = layout.columns[index].numeric
            for number, line in enumerate(lines[index]):
                if not line:
                    continue
                left = (x + column_width - layout.pad_x
                        - pdfmetrics.stringWidth(line, font, layout.size)
                        if numeric else x + layout.pad_x)
                text.setTextOrigin(left, top - number * layout.leading)
                text.textOut(line)
            x += column_width
        canvas.drawText(text)


def facts(pairs: Sequence[tuple[str, Any]], width: float, label_width: float) -> GridTable:
    """Label / value lines (a document's identity block), wrapped like any table."""
    return GridTable([Column("", label_width), Column("")],
                     [Row([label, value]) for label, value in pairs], width, header=False,
                     rules=False, size=7.8, label_bold=True)
