"""The layout checker of :mod:`tests.pdf_layout` on PDFs built here with reportlab: it finds
real defects (text over text, a word running into the next column or out of the margins)
and stays silent on clean layouts (wrapped tables over several pages, lines set solid,
amounts with narrow no-break spaces)."""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from tests.pdf_layout import (
    TOLERANCE,
    Margins,
    Page,
    layout_problems,
    overlapping_words,
    read_pages,
    words_crossing_rules,
    words_outside,
)

FONTS = Path(__file__).resolve().parent.parent / "resources" / "fonts"
# The app's fonts, registered under names of our own (as printouts/layout.py does, but
# without importing the printouts, so that these tests only depend on the checker).
FONT, BOLD = "LayoutCond", "LayoutCond-Bold"
for _name, _file in ((FONT, "DejaVuSansCondensed.ttf"), (BOLD, "DejaVuSansCondensed-Bold.ttf")):
    if _name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_name, str(FONTS / _file)))
pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)

MARGIN = 15 * mm
MARGINS = Margins(MARGIN, MARGIN, MARGIN, MARGIN)
GRID = 0.25  # the app's separators: 0.25 pt, light grey
NNBSP, NBSP = "\u202f", "\u00a0"
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9)
WIDTHS = [40 * mm, 80 * mm, 30 * mm, 30 * mm]


def width(text: str, size: float = 9, font: str = FONT) -> float:
    return pdfmetrics.stringWidth(text, font, size)


def amount(value: int) -> str:
    """An amount as the app prints it: "1 234 567,89 €" with U+202F and U+00A0."""
    return f"{value:,}".replace(",", NNBSP) + f",{value % 100:02d}{NBSP}€"


def drawn(draw: Callable[[Canvas], None], pages: int = 1) -> bytes:
    """A PDF of *pages* A4 pages, each drawn by *draw* on the canvas."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for _ in range(pages):
        canvas.setFont(FONT, 9)
        draw(canvas)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def document(*flowables: object) -> bytes:
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                      topMargin=MARGIN, bottomMargin=MARGIN).build(list(flowables))
    return buffer.getvalue()


def table(rows: list[list[object]], style: list[tuple] | None = None) -> Table:
    grid = Table(rows, colWidths=WIDTHS, repeatRows=1)
    grid.setStyle(TableStyle(style or [("INNERGRID", (0, 0), (-1, -1), GRID, colors.lightgrey),
                                       ("BOX", (0, 0), (-1, -1), GRID, colors.lightgrey),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return grid


def cell(text: str) -> Paragraph:
    return Paragraph(html.escape(text), CELL)


def clean_rows(count: int) -> list[list[object]]:
    rows: list[list[object]] = [[cell(h) for h in ("Commune", "Opération", "Montant", "Solde")]]
    for i in range(count):
        rows.append([cell(f"Saint-Hilaire-sur-Helpe {i}"),
                     cell("Réhabilitation de la salle polyvalente et mise aux normes "
                          "d'accessibilité du bâtiment communal " * (1 + i % 3)),
                     cell(amount(1_234_567 + i)),
                     cell(amount(i * 7_000))])
    return rows


def texts(page: Page) -> list[str]:
    return [word.text for word in page.words]


def only_word(page: Page, text: str):
    found = [word for word in page.words if word.text == text]
    assert len(found) == 1, (text, texts(page))
    return found[0]


# --- Clean layouts -------------------------------------------------------------------

def test_clean_multipage_table_with_wrapped_cells_has_no_problem():
    pdf = document(table(clean_rows(120)))
    pages = read_pages(pdf)
    assert len(pages) >= 3  # the header row is repeated on each page
    assert layout_problems(pdf, MARGINS) == []
    for page in pages:
        assert texts(page)[:4] == ["Commune", "Opération", "Montant", "Solde"]
        # Wrapped cells do have several lines: the checks looked at dense text.
        assert sum(word.text == "d'accessibilité" for word in page.words) > 10
        # INNERGRID and BOX: a rule at each edge of each column, the full table's height.
        left = MARGIN + (A4[0] - 2 * MARGIN - sum(WIDTHS)) / 2
        edges = [left + sum(WIDTHS[:i]) for i in range(len(WIDTHS) + 1)]
        assert sorted({round(rule.x, 2) for rule in page.vertical_rules}) == pytest.approx(
            edges, abs=0.01)
        assert all(rule.thickness == pytest.approx(GRID) for rule in page.vertical_rules)
        assert len(page.horizontal_rules) > 10


def test_lineafter_separators_are_rules_too():
    rows = clean_rows(5)
    style = [("LINEAFTER", (0, 0), (-2, -1), GRID, colors.lightgrey)]
    page = read_pages(document(table(rows, style)))[0]
    assert len({round(rule.x, 1) for rule in page.vertical_rules}) == 3
    assert layout_problems(document(table(rows, style)), MARGINS) == []


@pytest.mark.parametrize("size, leading", [(7, 9), (7.5, 9), (8, 9), (9, 9), (7.5, 9.5),
                                           (9, 12)])
def test_consecutive_lines_do_not_overlap(size, leading):
    """Descenders of one line above accented capitals of the next: the boxes of two lines
    touch at most, whatever the glyphs, as long as the leading is at least the size."""
    def draw(canvas: Canvas) -> None:
        canvas.setFont(FONT, size)
        for line in range(40):
            y = 800 - line * leading
            text = "gjpqy Çà Été À Ångström ÉÈÊ" if line % 2 else "ÀÉÎ Ôgypsy jQuery"
            canvas.drawString(MARGIN, y, text * 4)
    page = read_pages(drawn(draw))[0]
    assert len(page.words) > 300
    assert overlapping_words(page) == []
    # The boxes are one em tall, accents or not, so lines set solid just touch.
    assert {round(word.bottom - word.top, 2) for word in page.words} == {size}


def test_lines_set_tighter_than_their_size_do_overlap():
    def draw(canvas: Canvas) -> None:
        canvas.setFont(FONT, 9)
        canvas.drawString(100, 700, "première ligne")
        canvas.drawString(100, 700 - 8, "seconde ligne")  # leading 8 for 9 pt: 1 pt shared
    page = read_pages(drawn(draw))[0]
    # "première" is wider than "seconde": it also sits on the start of the second "ligne".
    assert {(a.text, b.text) for a, b in overlapping_words(page)} == {
        ("première", "seconde"), ("première", "ligne"), ("ligne", "ligne")}


def test_words_touching_on_a_line_do_not_overlap():
    def draw(canvas: Canvas) -> None:
        canvas.drawString(100, 700, "Total")
        canvas.drawString(100 + width("Total"), 700, "général")  # end to end
        canvas.drawString(100, 680, "Montant")
        canvas.drawString(100 + width("Montant") + 0.5, 680, "dû")  # half a point apart
        canvas.drawString(100, 660, "Solde")
        # the next string starts a tenth of a point inside the previous one
        canvas.drawString(100 + width("Solde") - 0.1, 660, "restant")
    page = read_pages(drawn(draw))[0]
    assert overlapping_words(page) == []
    # Strings printed end to end read as one word, as in pdftotext.
    assert "Totalgénéral" in texts(page)


def test_mixed_fonts_and_overhanging_glyphs_inside_a_word_stay_one_word():
    """A bold fragment inside a word, and the J whose hook reaches under the previous
    letter, are not text over text."""
    style = ParagraphStyle("p", fontName=FONT, fontSize=9, leading=12)
    pdf = document(Paragraph("N<b>°</b>12 BAJA ŽILINA <b>Total</b>: ďábel", style))
    page = read_pages(pdf)[0]
    assert texts(page) == ["N°12", "BAJA", "ŽILINA", "Total:", "ďábel"]
    assert layout_problems(pdf, MARGINS) == []


def test_amounts_with_narrow_no_break_spaces_are_split_there():
    """U+202F and U+00A0 separate words, like pdftotext: "1 234 567,89 €" is four words
    on one line, which neither overlap nor count as crossing anything."""
    value = amount(1_234_567)
    assert NNBSP in value and NBSP in value

    def draw(canvas: Canvas) -> None:
        canvas.setFont(FONT, 7.5)
        canvas.drawRightString(300, 700, value)
        canvas.drawString(100, 680, f"Solde{NNBSP}:{NBSP}{value}")
    page = read_pages(drawn(draw))[0]
    assert texts(page) == ["1", "234", "567,67", "€", "Solde", ":", "1", "234", "567,67", "€"]
    assert overlapping_words(page) == []
    first, second = page.words[0], page.words[1]
    assert second.x0 - first.x1 == pytest.approx(width(NNBSP, 7.5), abs=0.05)
    assert page.words[3].x1 == pytest.approx(300, abs=0.1)  # right-aligned there


def test_words_are_those_pdftotext_sees():
    """On a clean document, the words (text and box) are pdftotext's."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pdf = document(table(clean_rows(40)))
    output = subprocess.run(["pdftotext", "-raw", "-bbox", "-", "-"], input=pdf,
                            capture_output=True, check=True).stdout.decode()
    theirs = [(html.unescape(text), *(float(v) for v in box)) for *box, text in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        output)]
    ours = [(w.text, w.x0, w.top, w.x1, w.bottom) for page in read_pages(pdf) for w in page.words]
    assert len(ours) == len(theirs) > 1000
    for mine, poppler in zip(sorted(ours), sorted(theirs), strict=True):
        assert mine[0] == poppler[0]
        # PDFium rounds glyph widths a little: a few tenths of a point at a line's end.
        assert mine[1:] == pytest.approx(poppler[1:], abs=0.3), (mine, poppler)


def test_read_pages_takes_a_path_or_bytes(tmp_path):
    pdf = drawn(lambda canvas: canvas.drawString(100, 700, "Bonjour"), pages=2)
    file = tmp_path / "deux.pdf"
    file.write_bytes(pdf)
    for source in (pdf, file, str(file)):
        pages = read_pages(source)
        assert [page.number for page in pages] == [1, 2]
        assert (pages[0].width, pages[0].height) == pytest.approx(A4, abs=0.01)
        word = only_word(pages[1], "Bonjour")
        # Top-left origin: the baseline 700 pt up is 141.9 pt down; 0.24 em of descent.
        assert word.bottom == pytest.approx(A4[1] - 700 + 0.24 * 9, abs=0.05)
        assert word.x1 - word.x0 == pytest.approx(width("Bonjour"), abs=0.05)


# --- Defects -------------------------------------------------------------------------

def test_text_over_text_is_found_with_a_readable_message():
    def draw(canvas: Canvas) -> None:
        canvas.drawString(100, 700, "Saint-Hilaire-sur-Helpe")
        canvas.drawString(150, 700, "Solde")  # printed over the end of the town's name
        canvas.drawString(100, 650, "Montant")
        canvas.drawString(100 + width("Montant") - 1, 650, "total")  # 1 pt over
    pdf = drawn(draw, pages=3)
    page = read_pages(pdf)[2]
    assert {(a.text, b.text) for a, b in overlapping_words(page)} == {
        ("Saint-Hilaire-sur-Helpe", "Solde"), ("Montant", "total")}
    problems = layout_problems(pdf)
    assert len(problems) == 6  # twice on each of the 3 pages
    town, solde = only_word(page, "Saint-Hilaire-sur-Helpe"), only_word(page, "Solde")
    assert town.x1 == pytest.approx(100 + width("Saint-Hilaire-sur-Helpe"), abs=0.1)
    assert solde.x1 == pytest.approx(150 + width("Solde"), abs=0.1)
    # Baseline 700 pt up the page: 841,9 − 700 − 0,76 × 9 from the top.
    assert problems[4] == (
        "page 3 : « Saint-Hilaire-sur-Helpe » chevauche « Solde » (x 100,0–"
        + f"{town.x1:.1f}".replace(".", ",") + " / 150,0–" + f"{solde.x1:.1f}".replace(".", ",")
        + ", y 135,0–144,0 / 135,0–144,0)")


def test_overlap_tolerance():
    def draw(canvas: Canvas) -> None:
        for y, inside in ((700, 0.1), (680, 0.25), (660, 0.5), (640, 1.0)):
            canvas.drawString(100, y, "Montant")
            canvas.drawString(100 + width("Montant") - inside, y, "HT")
    page = read_pages(drawn(draw))[0]
    found = overlapping_words(page)
    assert TOLERANCE == 0.3
    assert [(a.text, b.text, round(b.top)) for a, b in found] == [
        ("Montant", "HT", round(A4[1] - 660 - 0.76 * 9)),
        ("Montant", "HT", round(A4[1] - 640 - 0.76 * 9))]
    # Strings overlapping by less than the tolerance are read as one word...
    assert texts(page)[:2] == ["MontantHT", "MontantHT"]
    # ...but a larger tolerance does drop the smaller overlaps.
    assert len(overlapping_words(page, tolerance=0.7)) == 1


def test_long_unbreakable_string_overflows_into_the_next_column():
    long_name = "Communauté-de-communes-du-Pays-de-Saint-Hilaire-sur-Helpe"
    rows: list[list[object]] = [["Commune", "Opération", "Montant", "Solde"],
                                [long_name, "Solde initial", amount(1234), ""],
                                ["Avesnes", long_name, "", ""]]
    # Plain strings in a Table cell are never wrapped: the name runs on to the right.
    style = [("INNERGRID", (0, 0), (-1, -1), GRID, colors.lightgrey),
             ("FONT", (0, 0), (-1, -1), FONT, 9)]
    pdf = document(table(rows, style))
    page = read_pages(pdf)[0]
    left = MARGIN  # the table fills the frame
    separators = [left + sum(WIDTHS[:i]) for i in (1, 2, 3)]
    starts = [left + 6, left + WIDTHS[0] + 6]  # 6 pt of padding in the cells
    end = [start + width(long_name) for start in starts]
    assert end[0] < separators[1] and separators[1] < end[1] < separators[2]
    crossings = words_crossing_rules(page)
    assert [(word.text, round(word.x0, 1), round(rule.x, 1)) for word, rule in crossings] == [
        (long_name, round(starts[0], 1), round(separators[0], 1)),  # into "Solde initial"
        (long_name, round(starts[1], 1), round(separators[1], 1)),  # into an empty cell
    ]
    # In the first row it runs over the words of the next cell; in the second row the
    # cell it runs into is empty: a crossing without an overlap.
    assert {(a.text, round(a.top), b.text) for a, b in overlapping_words(page)} == {
        (long_name, round(crossings[0][0].top), "Solde"),
        (long_name, round(crossings[0][0].top), "initial")}
    problems = layout_problems(pdf, MARGINS)
    assert len(problems) == 4
    assert sum("chevauche" in problem for problem in problems) == 2
    assert problems[-1].startswith(f"page 1 : « {long_name} » sort de sa colonne et "
                                   f"traverse le filet vertical en x 382,7 (x 161,9–")


def test_paragraph_that_does_not_split_long_words_overflows_too():
    style = ParagraphStyle("nosplit", parent=CELL, splitLongWords=0)
    long_ref = "CRTE-2024-AVESNOIS-0000123456789-ANNEXE-FINANCIERE"
    rows = [[cell("Référence"), cell("Objet"), cell("Montant"), cell("Solde")],
            [Paragraph(long_ref, style), cell("Voirie"), cell(amount(100)), cell("")]]
    page = read_pages(document(table(rows)))[0]
    assert {word.text for word, _ in words_crossing_rules(page)} == {long_ref}
    assert {(a.text, b.text) for a, b in overlapping_words(page)} == {(long_ref, "Voirie")}
    # reportlab's default (splitLongWords) cuts it instead: clean.
    rows[1][0] = cell(long_ref)
    assert layout_problems(document(table(rows)), MARGINS) == []


def test_amount_running_into_the_next_column_crosses_its_rule():
    def draw(canvas: Canvas) -> None:
        canvas.setStrokeColor(colors.lightgrey)
        canvas.setLineWidth(GRID)
        canvas.line(300, 600, 300, 720)  # a column separator
        canvas.setFont(FONT, 7.5)
        canvas.drawString(300 - 30, 700, amount(12_345_678))  # "12 345 678,78 €" over it
        canvas.drawRightString(300 - 3, 680, amount(12_345_678))  # fits: ends 3 pt before
    page = read_pages(drawn(draw))[0]
    crossing = [(word.text, rule.x) for word, rule in words_crossing_rules(page)]
    assert len(crossing) == 1 and crossing[0][1] == pytest.approx(300)
    assert crossing[0][0] in {"12", "345", "678,78", "€"}


def test_a_word_touching_a_rule_or_beside_its_end_does_not_cross_it():
    def draw(canvas: Canvas) -> None:
        canvas.setLineWidth(GRID)
        canvas.line(300, 600, 300, 690)
        canvas.drawString(300 - width("avant"), 650, "avant")  # ends on the rule
        canvas.drawString(300, 630, "après")  # starts on it
        canvas.drawString(280, 700, "au-dessus")  # across x = 300, above the rule's top
        canvas.drawString(280, 660, "au-travers")  # really across
        # Two cells' texts half a point each side of the rule: two words (a gap of more
        # than 0.1 em ends a word, as in pdftotext), neither crossing it.
        canvas.drawString(299.5 - width("gauche"), 610, "gauche")
        canvas.drawString(300.5, 610, "droite")
    page = read_pages(drawn(draw))[0]
    assert [word.text for word, _ in words_crossing_rules(page)] == ["au-travers"]
    assert {"gauche", "droite"} <= set(texts(page))


def test_words_outside_the_margins_or_the_page():
    def draw(canvas: Canvas) -> None:
        canvas.drawString(MARGIN, 700, "dedans")
        canvas.drawRightString(A4[0] - MARGIN, 680, "au bord")
        canvas.drawString(A4[0] - MARGIN - 20, 660, "débordement")  # past the right margin
        canvas.drawString(A4[0] - 20, 640, "coupé")  # runs off the page
        canvas.drawString(A4[0] + 10, 620, "invisible")  # wholly beyond the right edge
        canvas.drawString(MARGIN, A4[1] - 10, "en-tête")  # in the top margin
        canvas.drawString(MARGIN - 5, 20, "pied")  # bottom and left margins
    pdf = drawn(draw)
    page = read_pages(pdf)[0]
    assert [word.text for word in words_outside(page, *MARGINS)] == [
        "débordement", "coupé", "invisible", "en-tête", "pied"]
    assert [word.text for word in words_outside(page)] == ["coupé", "invisible"]
    problems = layout_problems(pdf, MARGINS)
    assert len(problems) == 5
    assert "« débordement » dépasse la marge droite (" in problems[0]
    assert "« coupé » sort de la page à droite (" in problems[1]
    assert "dépasse la marge du haut" in problems[3]
    assert "dépasse la marge gauche" in problems[4] and "dépasse la marge du bas" in problems[4]
    assert layout_problems(pdf) == problems[1:3]  # without margins: the page's edges


# --- Rules ---------------------------------------------------------------------------

def test_rules_from_lines_thin_boxes_rectangles_and_forms():
    def draw(canvas: Canvas) -> None:
        canvas.setLineWidth(0.5)
        canvas.line(100, 100, 100, 200)  # vertical line
        canvas.line(100, 300, 250, 300)  # horizontal line
        canvas.line(300, 100, 350, 200)  # slanted: not a rule
        canvas.rect(400, 100, 1, 80, stroke=0, fill=1)  # a thin filled bar: one rule
        canvas.rect(400, 300, 50, 20, stroke=0, fill=1)  # shading: no rule
        canvas.rect(450, 100, 2, 2, stroke=0, fill=1)  # a QR module: no rule
        canvas.rect(200, 400, 60, 30, stroke=1, fill=0)  # a box: its four edges
        canvas.circle(300, 500, 20)  # curves: no rule
        canvas.beginForm("separator")
        canvas.line(0, 0, 0, 50)
        canvas.endForm()
        canvas.saveState()
        canvas.translate(500, 600)
        canvas.scale(2, 2)
        canvas.doForm("separator")  # a vertical rule at x 500, 100 pt long
        canvas.restoreState()
    page = read_pages(drawn(draw))[0]
    height = A4[1]
    vertical = sorted((round(r.x, 2), round(r.top, 2), round(r.bottom, 2), round(r.thickness, 2))
                      for r in page.vertical_rules)
    assert vertical == [
        (100, round(height - 200, 2), round(height - 100, 2), 0.5),
        (200, round(height - 430, 2), round(height - 400, 2), 0.5),
        (260, round(height - 430, 2), round(height - 400, 2), 0.5),
        (400.5, round(height - 180, 2), round(height - 100, 2), 1),
        (500, round(height - 700, 2), round(height - 600, 2), 1),
    ]
    horizontal = sorted((round(r.y, 2), round(r.x0, 2), round(r.x1, 2))
                        for r in page.horizontal_rules)
    assert horizontal == [(round(height - 430, 2), 200, 260), (round(height - 400, 2), 200, 260),
                          (round(height - 300, 2), 100, 250)]
