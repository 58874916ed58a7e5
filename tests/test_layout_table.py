"""The table of the documents (printouts.layout.GridTable) at page breaks, read back
from the PDF: header once per page and at its top, totals never alone, tall rows cut,
long words cut inside their column."""

from __future__ import annotations

import io

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer

from printouts.layout import Column, GridTable, Row, wrap_text
from printouts.pdf import text
from tests.pdf_layout import layout_problems, read_pages

TOP = 20 * mm


def build(story: list) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm,
                                 rightMargin=15 * mm, topMargin=TOP, bottomMargin=15 * mm)
    for flowable in story:
        if isinstance(flowable, GridTable):
            flowable.page_height = document.height
    document.build(story)
    return buffer.getvalue()


def table(rows: int, lines: int = 1, total: bool = True) -> GridTable:
    width = A4[0] - 30 * mm
    body = [Row([f"OP-{n:04d}", "\n".join(f"ligne {k}" for k in range(lines)),
                 "5,00\xa0€"]) for n in range(rows)]
    if total:
        body.append(Row(["TOTAL", "", "99\u202f999,99\xa0€"], kind="total"))
    return GridTable([Column("Référence", 30 * mm), Column("Intitulé"),
                      Column("Montant", numeric=True)], body, width)


def words_by_page(pdf: bytes) -> list[list]:
    return [page.words for page in read_pages(pdf)]


def test_the_header_is_at_the_top_of_each_page_and_nowhere_else():
    pdf = build([text("Un paragraphe avant le tableau."), Spacer(1, 40 * mm), table(200)])
    pages = words_by_page(pdf)
    assert len(pages) >= 4
    for number, words in enumerate(pages):
        headers = [w for w in words if w.text == "Référence"]
        assert len(headers) == 1, (number, len(headers))
        if number:  # continued pages: the header is the first line of the page
            assert headers[0].top <= min(w.top for w in words) + 0.5
    assert layout_problems(pdf) == []


@pytest.mark.parametrize("rows", range(40, 70))
def test_the_total_never_starts_a_page_alone(rows):
    pdf = build([table(rows)])
    for words in words_by_page(pdf):
        if any(w.text == "TOTAL" for w in words):
            body = {w.text for w in words if w.text.startswith("OP-")}
            assert len(body) >= 2, rows


def test_a_row_taller_than_a_page_is_cut_between_pages():
    pdf = build([table(3, lines=150, total=False)])
    pages = words_by_page(pdf)
    assert len(pages) >= 3
    printed = [w.text for words in pages for w in words if w.text.isdigit()]
    assert printed == [str(k) for k in range(150)] * 3  # every line, in order, once a row
    assert layout_problems(pdf) == []


def test_long_words_are_cut_inside_their_column_hyphens_first():
    reference = "cottri-sa-performance-energetique-batiments-2024-lot-3-et-suivants"
    lines = wrap_text(reference, "Cond", 7.5, 60)
    assert "".join(lines) == reference and len(lines) > 1
    assert all(line.endswith("-") for line in lines[:-1])
    body = [Row([reference, "Saint-Hilaire-sur-Helpe" * 3, "12\u202f345\u202f678,90\xa0€"])]
    width = A4[0] - 30 * mm
    pdf = build([GridTable([Column("Référence", 25 * mm), Column("Commune", 20 * mm),
                            Column("Montant", numeric=True), Column("Statut", whole_words=True)],
                           [Row([*row.cells, "Programmé"]) for row in body], width)])
    assert layout_problems(pdf) == []
