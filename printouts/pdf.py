"""PDF documents (reportlab platypus) from the plain data of :mod:`db.documents`.

Nothing here queries the database. Fonts are shipped with the application and
embedded; every user string is escaped before it reaches a Paragraph; tables are
:class:`printouts.layout.GridTable` (wrapped cells, header at the top of each page);
every page carries "page n / N", the date of edition and the document's
fingerprint, which the first page also gives as a QR code.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
)

from db.documents import Provenance
from db.formatting import long_date
from db.text import elide
from printouts.layout import (
    BLUE,
    GREY,
    LIGHT,
    STYLES,
    GridTable,
    register_fonts,
    wrap_text,
)

# User text may hold <img src=http…>: never fetch anything.
rl_config.trustedHosts = []
register_fonts()

KEYWORDS_PREFIX = "suivi-contrats:"
MARGIN = 15 * mm
TOP_MARGIN = 30 * mm
BOTTOM_MARGIN = 18 * mm
QR_SIZE = 22 * mm
# A page's own QR code (acts) stands clear of the sheet's edges: a scanner that crops
# to A4 a sheet fed a few degrees askew still sees it whole (5° moves a top corner
# about 8 mm); the body starts below it.
MARK_TOP = 10 * mm
MARKED_TOP_MARGIN = MARK_TOP + QR_SIZE + 3 * mm
SIGNATURE_ROOM = 24 * mm  # blank height left to sign under each block


def text(value: Any, style: str = "body") -> Paragraph:
    """A Paragraph of user text: escaped, so `<`, `>` and `&` print as typed. Reportlab
    breaks lines at U+202F, the group sign of French amounts: it becomes a no-break
    space, so that "72 000,00 €" never splits."""
    value = "" if value is None else str(value)
    return Paragraph(escape(value.replace("\u202f", "\u00a0")), STYLES[style])


def heading(label: str) -> Paragraph:
    return text(label, "h2")


class _NumberedCanvas(pdf_canvas.Canvas):
    """Two passes over the pages, so each can say "page n / N" (as pretix does)."""

    provenance: Provenance
    # With it, every page carries its own QR code (db.documents.marks): drawn here, in
    # the second pass, because a page's mark holds the count of pages.
    page_mark: Callable[[int, int], str] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab API)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        count = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._footer(count)
            super().showPage()
        super().save()

    def _footer(self, count: int) -> None:
        width, _ = self._pagesize
        provenance = self.provenance
        self.setFont("Doc", 7.5)
        self.setFillColor(GREY)
        self.drawString(MARGIN, 9 * mm, f"Édité le {long_date(provenance.edited)} — "
                                        f"empreinte {provenance.fingerprint}")
        self.drawRightString(width - MARGIN, 9 * mm, f"page {self._pageNumber} / {count}")
        self.setStrokeColor(LIGHT)
        self.line(MARGIN, 12.5 * mm, width - MARGIN, 12.5 * mm)
        if self.page_mark is not None:
            height = self._pagesize[1]
            _draw_qr(self, self.page_mark(self._pageNumber, count),
                     width - MARGIN - QR_SIZE, height - MARK_TOP - QR_SIZE, QR_SIZE)


def _draw_qr(canvas: Any, value: str, x: float, y: float, size: float) -> None:
    """A QR code drawn module by module (reportlab's widget would pull in Helvetica)."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(value)
    code.make()
    count = code.getModuleCount()
    cell = size / (count + 2)  # a quiet zone of one module around
    canvas.setFillColor(colors.black)
    for row in range(count):
        for column in range(count):
            if code.isDark(row, column):
                canvas.rect(x + (column + 1) * cell, y + size - (row + 2) * cell, cell, cell,
                            stroke=0, fill=1)


class _Document(BaseDocTemplate):
    def __init__(self, buffer: io.BytesIO, provenance: Provenance, office: Any, title: str,
                 pagesize: tuple[float, float], marked_pages: bool = False) -> None:
        keywords = {"fingerprint": provenance.fingerprint, "kind": provenance.kind,
                    "subject": provenance.subject,
                    "records": [asdict(r) for r in provenance.records]}
        if provenance.options:
            keywords["options"] = provenance.options
        super().__init__(buffer, pagesize=pagesize, initialFontName="Doc", initialFontSize=9,
                         leftMargin=MARGIN, rightMargin=MARGIN,
                         topMargin=MARKED_TOP_MARGIN if marked_pages else TOP_MARGIN,
                         bottomMargin=BOTTOM_MARGIN, title=title,
                         author=office.sous_prefecture, creator="Suivi des contrats territoriaux",
                         subject=f"{provenance.kind} {provenance.subject}"[:200],
                         keywords=KEYWORDS_PREFIX + json.dumps(keywords, separators=(",", ":")))
        self.provenance = provenance
        self.marked_pages = marked_pages
        self.office = office
        self.document_title = title
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.frame_height = frame._aH
        self.addPageTemplates([PageTemplate("page", frames=[frame], onPage=self._header)])

    def _header(self, canvas: Any, doc: Any) -> None:
        width, height = self.pagesize
        canvas.saveState()
        canvas.setFillColor(colors.black)
        # The office's names may be long: cut to the room left of the QR code.
        room = width / 2 - MARGIN - 4 * mm  # the right half: the QR code or the title
        y = height - 13 * mm
        for font, size, value in (("Doc-Bold", 9, self.office.republic),
                                  ("Doc", 8.5, self.office.prefecture),
                                  ("Doc", 8.5, self.office.sous_prefecture)):
            canvas.setFont(font, size)
            line = (simpleSplit(value, font, size, room) or [""])[0]
            canvas.drawString(MARGIN, y, line)
            y -= 4.3 * mm
        canvas.setStrokeColor(BLUE)
        canvas.setLineWidth(1.2)
        rule_end = width - MARGIN - (QR_SIZE + 3 * mm if self.marked_pages else 0)
        canvas.line(MARGIN, height - 24.5 * mm, rule_end, height - 24.5 * mm)
        if self.marked_pages:
            pass  # the canvas draws each page's own mark where this QR code would be
        elif doc.page == 1:
            _draw_qr(canvas, f"SCT|{self.provenance.kind}|{self.provenance.fingerprint}",
                     width - MARGIN - QR_SIZE, height - 24 * mm, QR_SIZE)
        else:  # a page read on its own still says what it belongs to
            canvas.setFont("Doc", 8)
            canvas.setFillColor(GREY)
            line = (simpleSplit(f"{self.document_title} (suite)", "Doc", 8,
                                width / 2 - MARGIN) or [""])[0]
            canvas.drawRightString(width - MARGIN, height - 21.5 * mm, line)
        canvas.restoreState()


def _set_page_height(story: Sequence[Any], height: float) -> None:
    """Tables need to know a whole page's height to cut a row taller than a page."""
    for flowable in story:
        if isinstance(flowable, GridTable):
            flowable.page_height = height
        elif isinstance(flowable, Beside):
            flowable.page_height = height
            _set_page_height([*flowable.left, *flowable.right], height)
        elif isinstance(flowable, KeepTogether):
            _set_page_height(flowable._content, height)
        elif hasattr(flowable, "children"):
            _set_page_height(flowable.children, height)


def build(provenance: Provenance, office: Any, title: str, story: list,
          pagesize: tuple[float, float] = A4,
          page_mark: Callable[[int, int], str] | None = None) -> bytes:
    """The PDF of *story*; with *page_mark* (page, count → text), a QR code of that text
    on every page instead of the document's one on the first page."""
    buffer = io.BytesIO()
    document = _Document(buffer, provenance, office, title, pagesize,
                         marked_pages=page_mark is not None)

    class Canvas(_NumberedCanvas):
        pass

    Canvas.provenance = provenance
    if page_mark is not None:
        Canvas.page_mark = staticmethod(page_mark)
    _set_page_height(story, document.frame_height)
    document.build(story, canvasmaker=Canvas)
    return buffer.getvalue()


def body_width(pagesize: tuple[float, float]) -> float:
    return pagesize[0] - 2 * MARGIN


# --- Blocks shared by the documents --------------------------------------------------------

def place_and_date(place: str, when: Any) -> str:
    """"Fait à Avesnes-sur-Helpe, le 3 février 2025", with blanks to fill by hand for
    what is not recorded."""
    where = place or "…………………………"
    day = long_date(when) if when else "……………………"
    return f"Fait {elide('à', where)}, le {day}"  # "Fait au Quesnoy"


class SignatureRow(Flowable):
    """One row of signature blocks, drawn in one piece: a block is never split and each
    leaves room to sign under its heading."""

    def __init__(self, blocks: Sequence[Sequence[str]], width: float, per_row: int) -> None:
        super().__init__()
        self.blocks = [list(b) for b in blocks]
        self.per_row = per_row
        self.total_width = width
        self.column = width / per_row
        self.leading = 11.5
        # Bold for the first heading line: measured in bold, so that it fits too.
        self.lines = [[(number == 1, piece) for number, line in enumerate(block)
                       for piece in wrap_text(line, "Doc-Bold" if number == 1 else "Doc", 8.5,
                                              self.column - 8 * mm)] for block in self.blocks]

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        text_height = max(len(lines) for lines in self.lines) * self.leading
        self.height = text_height + SIGNATURE_ROOM + 4 * mm
        return self.total_width, self.height

    def draw(self) -> None:
        canvas = self.canv
        for index, lines in enumerate(self.lines):
            centre = self.column * index + self.column / 2
            y = self.height - 9
            for bold, line in lines:
                canvas.setFont("Doc-Bold" if bold else "Doc", 8.5)
                canvas.setFillColor(colors.black)
                canvas.drawCentredString(centre, y, line)
                y -= self.leading


def signature_blocks(blocks: Sequence[Sequence[str]], width: float,
                     title: str = "Signatures") -> list:
    """Blocks of "Fait à …, le …" + who signs, three per row; the heading stays with the
    first row."""
    if not blocks:
        return []
    per_row = min(3, len(blocks)) if len(blocks) != 4 else 2
    rows = [SignatureRow(blocks[i:i + per_row], width, per_row)
            for i in range(0, len(blocks), per_row)]
    # All the blocks on one page with their heading when they fit on one.
    return [Spacer(1, 3 * mm), KeepTogether([heading(title), *rows])]


def notes(lines: Sequence[str]) -> list:
    return [text(line, "small") for line in lines if line]


def keep_heading(title: str, *flowables: Any) -> list:
    """A section heading never ends a page alone."""
    return [CondPageBreak(25 * mm), heading(title), *flowables]


def render(document: Any) -> bytes:
    from printouts import render as render_any

    return render_any(document)


def save(document: Any, path: Path) -> Path:
    path.write_bytes(render(document))
    return path


class Beside(Flowable):
    """Two columns of flowables side by side. When they do not fit on what is left of
    the page, each column is cut where the page ends (its tables between rows, its
    paragraphs between lines, never after a heading) and goes on on the next page."""

    def __init__(self, left: Any, right: Any, width: float, split_at: float = 0.5,
                 gap: float = 6 * mm) -> None:
        super().__init__()
        self.total_width, self.gap = width, gap
        self.left_width = (width - gap) * split_at
        self.right_width = width - gap - self.left_width
        self.left = self._flat(left(self.left_width))
        self.right = self._flat(right(self.right_width))
        self.page_height: float | None = None

    def _piece(self, left: list, right: list) -> Beside:
        piece = Beside(lambda w: left, lambda w: right, self.total_width, gap=self.gap)
        piece.left_width, piece.right_width = self.left_width, self.right_width
        piece.page_height = self.page_height
        return piece

    @staticmethod
    def _flat(flowables: Sequence[Any]) -> list:
        """Inside a column a KeepTogether is its content; the column keeps headings with
        what follows them itself."""
        result = []
        for flowable in flowables:
            if isinstance(flowable, KeepTogether):
                result += Beside._flat(flowable._content)
            elif not isinstance(flowable, CondPageBreak):
                result.append(flowable)
        return result

    @staticmethod
    def _height(flowables: Sequence[Any], width: float) -> float:
        total = 0.0
        for flowable in flowables:
            _, height = flowable.wrap(width, 1e9)
            total += height + flowable.getSpaceBefore() + flowable.getSpaceAfter()
        return total

    @staticmethod
    def _cut(flowables: list, width: float, height: float) -> tuple[list, list]:
        """What of a column fits in *height*, and the rest."""
        first: list = []
        used = 0.0
        for index, flowable in enumerate(flowables):
            _, needed = flowable.wrap(width, height - used)
            needed += flowable.getSpaceBefore() + flowable.getSpaceAfter()
            if used + needed <= height - 1e-6:
                first.append(flowable)
                used += needed
                continue
            room = height - used - flowable.getSpaceBefore()
            pieces = flowable.split(width, room) if room > 0 else []
            if len(pieces) >= 2:
                first.append(pieces[0])
                rest = [*pieces[1:], *flowables[index + 1:]]
            else:
                rest = list(flowables[index:])
            break
        else:
            return first, []
        while first and isinstance(first[-1], Paragraph) and first[-1].style.name == "h2":
            rest.insert(0, first.pop())  # a heading never ends a page
        return first, rest

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.height = max(self._height(self.left, self.left_width),
                          self._height(self.right, self.right_width))
        return self.total_width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        if self.wrap(available_width, available_height)[1] <= available_height:
            return [self]
        left_first, left_rest = self._cut(self.left, self.left_width, available_height)
        right_first, right_rest = self._cut(self.right, self.right_width, available_height)
        at_page_top = (self.page_height is not None
                       and available_height >= self.page_height - 1)
        if not left_first and not right_first:
            if not at_page_top:
                return []  # begins on the next page
            return [*self.left, *self.right]  # nothing fits side by side: one under the other
        return [self._piece(left_first, right_first), self._piece(left_rest, right_rest)]

    def draw(self) -> None:
        for flowables, x, width in ((self.left, 0.0, self.left_width),
                                    (self.right, self.left_width + self.gap,
                                     self.right_width)):
            y = self.height
            for flowable in flowables:
                _, height = flowable.wrap(width, 1e9)
                y -= flowable.getSpaceBefore() + height
                flowable.drawOn(self.canv, x, y)
                y -= flowable.getSpaceAfter()
