"""The PDF of an act, laid out from its filled DOCX: the office's own wording is what
prints (paragraphs in order with their alignment, spacing, indent, bold and italic
runs, and tables), inside the page furniture of the other documents (office header,
« page n / N », fingerprint footer). Every page carries a QR code of its mark
(:mod:`db.documents.marks`: kind, fingerprint, funding line, page, count), so that a
signed scan is filed back to its act page by page.

The DOCX page header and footer (the letterhead of the editable file) are left out:
the PDF has its own. Nothing here queries the database.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from db.documents import Provenance
from db.documents.marks import PageMark, write
from printouts.layout import RULE
from printouts.pdf import body_width, build

# DejaVu Sans (embedded) is wider than the Liberation Sans of the templates: scaled so
# that a line of the DOCX is about a line of the PDF.
SCALE = 0.86
DEFAULT_SIZE = 10.5
_ALIGN = {"JUSTIFY": TA_JUSTIFY, "CENTER": TA_CENTER, "RIGHT": TA_RIGHT, "LEFT": TA_LEFT,
          "DISTRIBUTE": TA_JUSTIFY}


@dataclass(frozen=True)
class ActPdf:
    content: bytes
    pages: int


def _style_value(style, read):
    """A paragraph style's value, looked up through the styles it is based on."""
    while style is not None:
        value = read(style)
        if value is not None:
            return value
        style = style.base_style
    return None


@dataclass(frozen=True)
class _Style:
    """What a paragraph takes from its style (read once per style: python-docx looks a
    style up by scanning them all)."""

    size: float
    bold: bool
    italic: bool
    before: float
    after: float
    alignment: Any


def _style_of(paragraph, cache: dict) -> _Style:
    key = paragraph._p.style
    if key not in cache:
        style = paragraph.style
        size = _style_value(style, lambda s: s.font.size)
        fmt = style.paragraph_format if style is not None else None
        cache[key] = _Style(
            size.pt if size is not None else DEFAULT_SIZE,
            bool(_style_value(style, lambda s: s.font.bold)),
            bool(_style_value(style, lambda s: s.font.italic)),
            _points(fmt.space_before if fmt else None),
            _points(fmt.space_after if fmt else None),
            fmt.alignment if fmt else None)
    return cache[key]


def _markup(paragraph, style: _Style) -> tuple[str, float, bool]:
    """The paragraph as reportlab markup, its largest font size, whether it is all bold."""
    pieces, sizes, all_bold = [], [], True
    for run in paragraph.runs:
        text = run.text
        if not text:
            continue
        size = run.font.size.pt if run.font.size is not None else style.size
        sizes.append(size)
        bold = run.bold if run.bold is not None else style.bold
        italic = run.italic if run.italic is not None else style.italic
        # Reportlab would break a line at U+202F, the group sign of French amounts.
        markup = escape(text.replace("\u202f", "\u00a0").replace("\t", " "))
        markup = markup.replace("\n", "<br/>")
        if bold:
            markup = f"<b>{markup}</b>"
        else:
            all_bold = all_bold and not text.strip()
        if italic:
            markup = f"<i>{markup}</i>"
        pieces.append(f'<font size="{size * SCALE:.2f}">{markup}</font>')
    return "".join(pieces), max(sizes, default=style.size), all_bold and bool(pieces)


def _points(length, default: float = 0.0) -> float:
    return length.pt if length is not None else default


def _paragraph(paragraph, cache: dict) -> Paragraph | Spacer:
    style = _style_of(paragraph, cache)
    markup, size, all_bold = _markup(paragraph, style)
    fmt = paragraph.paragraph_format
    before = _points(fmt.space_before, style.before)
    after = _points(fmt.space_after, style.after)
    leading = size * SCALE * 1.3
    if not markup.strip():
        return Spacer(1, leading + before + after)
    alignment = paragraph.alignment if paragraph.alignment is not None else style.alignment
    layout = ParagraphStyle(
        "act", fontName="Doc", fontSize=size * SCALE, leading=leading,
        alignment=_ALIGN.get(alignment.name if alignment is not None else "LEFT", TA_LEFT),
        spaceBefore=before, spaceAfter=after * 0.8,
        leftIndent=_points(fmt.left_indent),
        firstLineIndent=_points(fmt.first_line_indent),
        # A heading line (« Article 2 — … ») never ends a page alone.
        keepWithNext=bool(fmt.keep_with_next) or (all_bold and len(paragraph.text) < 140),
    )
    return Paragraph(markup, layout)


def _table(table, width: float, cache: dict) -> Table:
    rows = []
    for row in table.rows:
        cells = []
        for cell in row.cells:
            flowables = [_paragraph(p, cache) for p in cell.paragraphs] or [Spacer(1, 1)]
            cells.append(flowables)
        rows.append(cells)
    columns = max((len(r) for r in rows), default=1)
    rows = [r + [""] * (columns - len(r)) for r in rows]
    grid = Table(rows, colWidths=[width / columns] * columns, repeatRows=0)
    grid.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, RULE),
                              ("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("TEXTCOLOR", (0, 0), (-1, -1), colors.black)]))
    return grid


def story_of(docx: bytes, width: float) -> list:
    """The body of the DOCX, in order, as flowables."""
    from docx import Document
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph as DocxParagraph

    document = Document(io.BytesIO(docx))
    story: list = []
    cache: dict = {}
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            story.append(_paragraph(DocxParagraph(element, document), cache))
        elif tag == "tbl":
            story.append(_table(DocxTable(element, document), width, cache))
    while story and isinstance(story[-1], Spacer):
        story.pop()
    return story


def act_pdf(docx: bytes, provenance: Provenance, office, title: str,
            record_id: uuid.UUID) -> ActPdf:
    """The PDF of the filled *docx*; every page's QR code holds its :class:`PageMark`."""
    from reportlab.lib.pagesizes import A4

    counted = []

    def mark(page: int, count: int) -> str:
        counted.append(count)
        return write(PageMark(provenance.kind, provenance.fingerprint, "funding_line",
                              record_id, page, count))

    content = build(provenance, office, title, story_of(docx, body_width(A4)), A4,
                    page_mark=mark)
    return ActPdf(content, counted[-1] if counted else 0)
