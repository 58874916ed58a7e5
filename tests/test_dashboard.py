"""Tableau de bord: its figures against sums made here from the data the test writes
(SQLite and PostgreSQL), its charts drawn from lists built here, the page clicked
through to the lists, the charts exported and read back."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog
from sqlalchemy import func, select

from db.dashboard.figures import budget_years, by_epci, by_scheme, by_year, dashboard_figures
from db.formatting import compact_euros
from db.lists import FUNDING_LINES, OPERATIONS, Criteria
from db.models import FundingLine, Operation, epci_member, operation_commune
from db.services.operations import FundingLineData, OperationData, PaymentData, save_operation
from db.services.organisations import OrganisationData, save_organisation
from db.vocabulary import FundingStatus, OperationStatus, OrganisationKind, PaymentKind

AVESNES = "591"
# Communes of the test base: (code, arrondissement, EPCI).
ASSEVENT = "59021"  # 591, CA Maubeuge Val de Sambre
AVESNES_SUR_HELPE = "59036"  # 591, CC Cœur de l'Avesnois
LILLE = "59350"  # 595, Métropole européenne de Lille
MAUBEUGE_VS, COEUR, MEL = "200043396", "200043263", "200093201"
EPCI_OF = {ASSEVENT: MAUBEUGE_VS, AVESNES_SUR_HELPE: COEUR, LILLE: MEL}
ARRONDISSEMENT_OF = {ASSEVENT: "591", AVESNES_SUR_HELPE: "591", LILLE: "595"}

GRANTED, REQUESTED, REFUSED = FundingStatus.GRANTED, FundingStatus.REQUESTED, \
    FundingStatus.REFUSED


@dataclass
class Line:
    scheme: str | None
    status: FundingStatus
    granted: D | None
    year: int | None
    paid: tuple[D, ...] = ()


# The operations of the test base: communes, then funding lines. Traps: an operation in
# two EPCI, a granted line of unknown amount, lines refused or still requested, a line
# with no scheme and one with no budget year, payments, another arrondissement.
OPERATIONS_WRITTEN = [
    ([ASSEVENT], [Line("DETR", GRANTED, D("120000.00"), 2024, (D("36000.00"), D("50000.01"))),
                  Line("DSIL", GRANTED, D("80000.50"), 2025)]),
    ([ASSEVENT, AVESNES_SUR_HELPE], [Line("DETR", GRANTED, D("45000.00"), 2025,
                                          (D("13500.00"),)),
                                     Line("FONDS_VERT", REFUSED, None, 2025),
                                     Line("DEPARTEMENT", REQUESTED, None, 2025)]),
    ([AVESNES_SUR_HELPE], [Line("DETR", GRANTED, None, 2025),
                           Line(None, GRANTED, D("10000.00"), 2025, (D("10000.00"),)),
                           Line("FONDS_VERT", GRANTED, D("33333.33"), None)]),
    ([LILLE], [Line("DETR", GRANTED, D("500000.00"), 2025, (D("150000.00"),)),
               Line("DSIL", GRANTED, D("250000.00"), 2024)]),
]


def _in(arrondissement: str | None, communes: list[str]) -> bool:
    return arrondissement is None or any(ARRONDISSEMENT_OF[c] == arrondissement
                                         for c in communes)


def expected(arrondissement: str | None, key, year: int | None = None) -> dict:
    """Sums of the granted lines made here from OPERATIONS_WRITTEN: key → (granted,
    paid, lines, missing); *key* picks what a line is summed under."""
    sums: dict[Any, list] = {}
    for communes, lines in OPERATIONS_WRITTEN:
        if not _in(arrondissement, communes):
            continue
        for line in lines:
            if line.status != GRANTED or (year is not None and line.year != year):
                continue
            for k in key(communes, line):
                entry = sums.setdefault(k, [D("0.00"), D("0.00"), 0, 0])
                entry[0] += line.granted or D("0")
                entry[1] += sum(line.paid, D("0"))
                entry[2] += 1
                entry[3] += line.granted is None
    return {k: tuple(v) for k, v in sums.items()}


@pytest.fixture
def base(db):
    state = save_organisation(db, OrganisationData("État", OrganisationKind.STATE)).id
    owner = save_organisation(db, OrganisationData(
        "Commune d'Assevent", OrganisationKind.COMMUNE, commune_code=ASSEVENT)).id
    for number, (communes, lines) in enumerate(OPERATIONS_WRITTEN, start=1):
        save_operation(db, OperationData(
            reference=f"TB-2025-{number:03d}", title=f"Opération {number}", owner_id=owner,
            status=OperationStatus.PROJECT, cost_ht=D("2000000.00"), commune_codes=communes,
            funding_lines=[FundingLineData(
                state, line.scheme, line.granted or D("1000.00"), line.granted, line.status,
                budget_year=line.year, decision_date=date(2025, 3, 1)
                if line.status != REQUESTED else None,
                payments=[PaymentData(PaymentKind.INSTALMENT, date(2025, 6, 1 + i), amount)
                          for i, amount in enumerate(line.paid)])
                for line in lines]))
    return db


def as_dict(amounts) -> dict:
    return {a.key: (a.granted, a.paid, a.lines, a.missing) for a in amounts}


@pytest.mark.parametrize("arrondissement", [AVESNES, None])
def test_figures_by_year_scheme_and_epci_match_the_sums(base, arrondissement):
    assert as_dict(by_year(base, arrondissement=arrondissement)) == expected(
        arrondissement, lambda communes, line: [line.year])
    for year in (None, 2025):
        assert as_dict(by_scheme(base, arrondissement=arrondissement, year=year)) == expected(
            arrondissement, lambda communes, line: [line.scheme], year)
        # An operation in two EPCI counts in each; its lines once per EPCI.
        assert as_dict(by_epci(base, arrondissement=arrondissement, year=year)) == expected(
            arrondissement, lambda communes, line: {EPCI_OF[c] for c in communes}, year)


def test_figures_agree_with_independent_sql_and_the_lists(base):
    figures = dashboard_figures(base, arrondissement=AVESNES, year=2025)
    # Independent SQL: the granted lines of 2025 of the operations with a commune of 591.
    in_591 = select(operation_commune.c.operation_id).where(
        operation_commune.c.commune_code.in_([ASSEVENT, AVESNES_SUR_HELPE]))
    with base.read() as session:
        granted, paid = session.execute(
            select(func.sum(FundingLine.amount_granted), func.sum(FundingLine.paid_total))
            .where(FundingLine.status == "accorde", FundingLine.budget_year == 2025,
                   FundingLine.operation_id.in_(in_591))).one()
        coeur_ops = session.scalar(
            select(func.count(func.distinct(operation_commune.c.operation_id)))
            .join(epci_member, epci_member.c.commune_code == operation_commune.c.commune_code)
            .where(epci_member.c.epci_code == COEUR))
    # DSIL 80 000,50 + DETR 45 000 (+ a DETR of unknown amount) + 10 000 without scheme.
    assert figures.granted == granted == D("135000.50")
    assert figures.paid == paid == D("23500.00")
    # What a bar opens sums what the bar shows (the Financements list's own totals).
    detr = next(a for a in figures.by_scheme if a.key == "DETR")
    lines = FUNDING_LINES.totals(base, Criteria(arrondissement=AVESNES, scheme="DETR",
                                                year=2025, status="accorde"))
    assert (lines["granted"], lines["paid"], lines["count"]) == (detr.granted, detr.paid,
                                                                 detr.lines)
    assert detr.label == "DETR" and detr.missing == 1
    assert OPERATIONS.count(base, Criteria(arrondissement=AVESNES, epci=COEUR)) == coeur_ops == 2
    unnamed = next(a for a in figures.by_scheme if a.key is None)
    assert unnamed.label == "Dispositif non précisé"
    assert budget_years(base, arrondissement=AVESNES) == [2025, 2024]
    assert [a.label for a in by_year(base)] == ["2024", "2025", "Sans exercice"]


def test_epci_beyond_the_top_are_gathered_in_others(base):
    shown = by_epci(base, top=1)
    assert [a.key for a in shown] == [MEL, None]
    others = shown[-1]
    assert others.label == "Autres EPCI (2)" and others.others == 2
    rest = expected(None, lambda communes, line: {EPCI_OF[c] for c in communes})
    assert others.granted == rest[MAUBEUGE_VS][0] + rest[COEUR][0]
    assert others.paid == rest[MAUBEUGE_VS][1] + rest[COEUR][1]
    # Two EPCI and a top of one would make an « autres » bar of one EPCI: none.
    assert [a.key for a in by_epci(base, arrondissement=AVESNES, top=1)] == [
        MAUBEUGE_VS, COEUR]


def test_compact_euros_for_axis_ticks():
    nnbsp, nbsp = "\u202f", "\xa0"
    assert compact_euros(D("0")) == f"0{nbsp}€"
    assert compact_euros(D("800")) == f"800{nbsp}€"
    assert compact_euros(D("1500")) == f"1,5{nbsp}k€"
    assert compact_euros(D("350000")) == f"350{nbsp}k€"
    assert compact_euros(D("816249")) == f"816{nbsp}k€"
    assert compact_euros(D("1200000")) == f"1,2{nbsp}M€"
    assert compact_euros(D("2000000")) == f"2{nbsp}M€"
    assert compact_euros(D("1250000000")) == f"1{nnbsp}250{nbsp}M€"
    assert compact_euros(D("-2500000")) == f"-2,5{nbsp}M€"
    assert compact_euros(D("999999")) == f"1{nbsp}M€"
    assert compact_euros(D("999.96")) == f"1{nbsp}k€"
    assert compact_euros(D("999400")) == f"999{nbsp}k€"


# --- Charts, from lists built here ---------------------------------------------------

@dataclass(frozen=True)
class Bar:
    key: Any
    label: str
    granted: D
    paid: D


@dataclass(frozen=True)
class Envelope:  # the attributes of db.programming.envelopes.EnvelopeFigures
    scheme_code: str
    scheme_label: str
    year: int
    perimeter_label: str
    amount: D
    requested: D
    programmed: D
    remaining: D
    paid: D
    dossiers: int


@dataclass(frozen=True)
class Deadline:  # the attributes of db.deadlines.Deadline the chart reads
    due: date
    kind: str
    kind_label: str
    overdue: bool
    amount: D | None = None


ENVELOPES = [
    Envelope("DETR", "DETR", 2025, "Arrondissement d'Avesnes-sur-Helpe", D("4500000.00"),
             D("6100000.00"), D("3900000.00"), D("600000.00"), D("800000.00"), 41),
    Envelope("DSIL", "DSIL", 2025, "Arrondissement d'Avesnes-sur-Helpe", D("1800000.00"),
             D("2500000.00"), D("1950000.00"), D("-150000.00"), D("0.00"), 9),
]
TODAY = date(2026, 12, 3)
DEADLINES = [Deadline(date(2026, 11, 20), "caducite", "Caducité", True),
             Deadline(date(2026, 10, 2), "achevement", "Achèvement", True),
             *[Deadline(date(2027, 2, 1 + i), "caducite", "Caducité", False) for i in range(5)],
             Deadline(date(2027, 6, 30), "solde", "Solde jamais demandé", False),
             Deadline(date(2028, 6, 30), "fin", "Fin de contrat", False)]


def texts(figure) -> list[str]:
    figure.canvas.draw()
    found = [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]
    for axes in figure.axes:  # tick labels are not among the figure's children
        found += [t.get_text() for t in axes.get_xticklabels() + axes.get_yticklabels()]
    return [t.strip() for t in found if t.strip()]


def test_charts_label_in_french_and_map_bars_to_lists():
    from desktop import charts

    years = charts.year_chart([Bar(2024, "2024", D("1500000"), D("250000")),
                               Bar(None, "Sans exercice", D("1000"), D("0"))],
                              scope="Arrondissement d'Avesnes-sur-Helpe")
    words = texts(years.figure)
    assert {"Accordé et versé par exercice", "Arrondissement d'Avesnes-sur-Helpe", "2024",
            "Sans exercice", "Accordé", "Versé"} <= set(words)
    assert any(w.endswith("M€") for w in words) and not any("e+" in w or "1e" in w
                                                               for w in words)
    selected = charts.year_chart([Bar(2024, "2024", D("1"), D("0")),
                                  Bar(2025, "2025", D("1"), D("0"))], selected=2025)
    ticks = {t.get_text(): t.get_fontweight() for t in selected.figure.axes[0]
             .get_xticklabels()}
    assert ticks == {"2024": "normal", "2025": "bold"}
    # Two bars of 2024 open its granted lines; the year-less bars open nothing.
    assert sorted(t.description for t in years.targets.values()) == [
        "Financements accordés de l'exercice 2024"] * 2
    target = next(iter(years.targets.values()))
    assert (target.page, target.filters) == ("funding_lines", {"year": 2024,
                                                               "status": "accorde"})

    schemes = charts.scheme_chart([Bar("DETR", "DETR", D("900000"), D("100000")),
                                   Bar("FONDS_VERT", "Fonds vert", D("300000"), D("0"))],
                                  year=2025)
    assert {"DETR", "Fonds vert", "900\xa0k€"} <= set(texts(schemes.figure))
    assert {(t.page, tuple(sorted(t.filters.items()))) for t in schemes.targets.values()} == {
        ("funding_lines", (("scheme", "DETR"), ("status", "accorde"), ("year", 2025))),
        ("funding_lines", (("scheme", "FONDS_VERT"), ("status", "accorde"), ("year", 2025)))}

    epci = charts.epci_chart([Bar(COEUR, "CC Cœur de l'Avesnois", D("50000"), D("1000")),
                              Bar(None, "Autres EPCI (3)", D("900000"), D("0"))])
    assert {t.filters["epci"] for t in epci.targets.values()} == {COEUR}
    assert "Autres EPCI (3)" in texts(epci.figure)

    envelopes = charts.envelope_chart(ENVELOPES)
    words = texts(envelopes.figure)
    assert {"Programmé", "Reste à attribuer", "Au-delà de l'enveloppe"} <= set(words)
    assert any("3,9\xa0M€ sur 4,5\xa0M€ (86,67\xa0%)" in w or "3,9\xa0M€ sur 4,5\xa0M€ (86,67 %)"
               in w for w in words)
    assert {t.filters["scheme"] for t in envelopes.targets.values()} == {"DETR", "DSIL"}

    deadlines = charts.deadline_chart(DEADLINES, today=TODAY)
    bars = [p for p in deadlines.figure.axes[0].patches]
    assert [round(b.get_height()) for b in bars[:4]] == [2, 0, 0, 5]  # late, déc., janv., févr.
    assert bars[0].get_facecolor()[:3] == pytest.approx((0xc0 / 255, 0x39 / 255, 0x2b / 255))
    assert bars[0].get_hatch() and not bars[1].get_hatch()  # red and hatched: print too
    words = texts(deadlines.figure)
    assert {"En retard", "déc. 2026", "févr. 2027", "et 1 au-delà"} <= set(words)


def test_charts_without_data_say_so():
    from desktop import charts

    assert "Aucune enveloppe enregistrée" in texts(charts.envelope_chart(None).figure)
    assert "Aucune échéance" in texts(charts.deadline_chart([], today=TODAY).figure)
    assert "Aucun montant accordé" in texts(charts.scheme_chart([]).figure)


def test_export_png_and_vector_pdf(tmp_path):
    from desktop import charts

    def draw(figure):
        return charts.envelope_chart(ENVELOPES, scope="Arrondissement d'Avesnes-sur-Helpe",
                                     figure=figure)

    png = charts.export(draw, tmp_path / "enveloppes.png")
    image = QImage(str(png))
    assert png.stat().st_size > 0 and not image.isNull()
    assert (image.width(), image.height()) == (1200, 675)
    pdf = charts.export(draw, tmp_path / "enveloppes.pdf")
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for words in ("Consommation des enveloppes", "Reste à attribuer", "Programmé",
                  "DETR 2025", "Arrondissement d'Avesnes-sur-Helpe"):
        assert words in text.replace("\n", " ")
    assert "/Image" not in str(reader.pages[0].get("/Resources", {}).get("/XObject", {}))


# --- The page ------------------------------------------------------------------------

def click_navigation(qtbot, window, label: str) -> None:
    item = window.navigation.findItems(label, Qt.MatchFlag.MatchExactly)[0]
    rect = window.navigation.visualItemRect(item)
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())


def click_bar(qtbot, view, predicate) -> Any:
    """Click, on the canvas, the middle of the first bar whose target fits."""
    view.canvas.draw()
    bar, target = next((b, t) for b, t in view.chart.targets.items() if predicate(t))
    box = bar.get_window_extent()
    ratio = view.canvas.device_pixel_ratio
    x = (box.x0 + box.x1) / 2 / ratio
    y = (view.figure.bbox.height - (box.y0 + box.y1) / 2) / ratio
    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
    return target


def test_dashboard_page_clicks_through_to_the_filtered_lists(qtbot, window, tmp_path,
                                                             monkeypatch):
    click_navigation(qtbot, window, "Tableau de bord")
    page = window.pages["dashboard"]
    assert window.current_page() is page
    assert page.scope.currentText() == "Arrondissement d'Avesnes-sur-Helpe"
    # The demo's envelopes of 2025 (DETR 4,2 M€ and DSIL 2 M€ notified to the
    # arrondissement), with the département's they are delegated from.
    shown = " | ".join(texts(page.views["envelopes"].figure)).replace("\xa0", " ")
    assert "sur 4,2 M€" in shown and "sur 2 M€" in shown and "sur 31,5 M€" in shown
    assert "DETR 2025" in shown and "Avesnes-sur-Helpe" in shown
    # The deadlines are the Échéances page's: its overdue ones make the red first bar.
    from db.deadlines import deadlines

    with window.db.read() as session:
        late = sum(1 for d in deadlines(session, today=date.today(), within_days=366,
                                        arrondissement="591") if d.overdue)
    assert late > 0
    axes = page.views["deadlines"].figure.axes[0]
    assert axes.get_xticklabels()[0].get_text() == "En retard"
    assert axes.patches[0].get_height() == late
    # Its bar opens the Échéances page on the overdue ones; back to the dashboard.
    click_bar(qtbot, page.views["deadlines"], lambda t: t.filters.get("overdue"))
    echeances = window.pages["deadlines"]
    assert window.current_page() is echeances
    qtbot.waitUntil(lambda: not echeances.loading, timeout=10_000)
    assert echeances.horizon.currentText() == "En retard"
    assert echeances.model.rowCount() == late
    assert all(row.overdue for row in echeances.model.rows)
    click_navigation(qtbot, window, "Tableau de bord")

    qtbot.keyClicks(page.year, "2025")  # typed on the box, as with the keyboard
    assert page.chosen_year() == 2025
    schemes = page.views["schemes"]
    assert "Arrondissement d'Avesnes-sur-Helpe — exercice 2025" in texts(schemes.figure)
    detr = next(a for a in page.figures.by_scheme if a.key == "DETR")
    target = click_bar(qtbot, schemes, lambda t: t.filters.get("scheme") == "DETR")
    assert target.filters == {"scheme": "DETR", "year": 2025, "status": "accorde"}
    lines = window.pages["funding_lines"]
    assert window.current_page() is lines
    assert lines.criteria() == Criteria(arrondissement=AVESNES, scheme="DETR", year=2025,
                                        status="accorde")
    assert lines.filters["scheme"].currentText() == "DETR"
    assert lines.filters["year"].currentText() == "2025"
    rows = lines.query.page(window.db, lines.criteria(), limit=None)
    assert rows and {(r["scheme"], r["budget_year"], r["status"]) for r in rows} == {
        ("DETR", 2025, "accorde")}
    assert lines.model.total == len(rows) == detr.lines
    assert sum(r["granted"] or D("0") for r in rows) == detr.granted

    # Back on the dashboard, over the whole territory: an EPCI opens its operations.
    click_navigation(qtbot, window, "Tableau de bord")
    qtbot.keyClicks(page.scope, "Tout")
    # A combo box's keyboard search goes on from the last keys typed in it (« 2025 »
    # above) for keyboardInputInterval: on a fast machine the test got there sooner than
    # any agent would, and searched « 2025Tous ».
    qtbot.wait(QApplication.keyboardInputInterval() + 100)
    qtbot.keyClicks(page.year, "Tous")
    qtbot.waitUntil(lambda: (page.arrondissement(), page.chosen_year()) == (None, None),
                    timeout=5000)
    epci = page.views["epci"]
    first = page.figures.by_epci[0]
    target = click_bar(qtbot, epci, lambda t: t.filters.get("epci") == first.key)
    operations = window.pages["operations"]
    assert window.current_page() is operations
    assert operations.criteria() == Criteria(epci=first.key)
    # An EPCI outside the arrondissement, which its filter did not offer: now it does.
    assert operations.filters["epci"].currentText() == first.label
    with window.db.read() as session:
        in_epci = session.scalar(
            select(func.count(func.distinct(Operation.id)))
            .join(operation_commune, operation_commune.c.operation_id == Operation.id)
            .join(epci_member, epci_member.c.commune_code == operation_commune.c.commune_code)
            .where(epci_member.c.epci_code == first.key))
    assert operations.model.total == in_epci > 0
    assert target.description == f"Opérations : {first.label}"

    # Each chart exported from its buttons, read back.
    click_navigation(qtbot, window, "Tableau de bord")
    for kind, button in (("png", epci.png_button), ("pdf", epci.pdf_button)):
        path = tmp_path / f"epci.{kind}"
        monkeypatch.setattr(QFileDialog, "getSaveFileName",
                            staticmethod(lambda *a, p=path, **k: (str(p.with_suffix("")), "")))
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert path.exists()
    assert QImage(str(tmp_path / "epci.png")).size().toTuple() == (1200, 675)
    text = PdfReader(tmp_path / "epci.pdf").pages[0].extract_text().replace("\n", " ")
    assert "Accordé et versé par EPCI" in text and "Tout le territoire" in text
    assert first.label.split()[-1] in text


# --- The fiche synthèse's chart (reportlab graphics) ----------------------------------

def test_summary_draws_progress_by_axis_on_one_page(demo_db, tmp_path):
    import re

    from db import documents
    from printouts.pdf import save

    document = documents.summary(demo_db, "FICTIF-CRTE-591", today=date(2026, 12, 2))
    path = save(document, tmp_path / "synthese.pdf")
    reader = PdfReader(str(path))
    assert len(reader.pages) == 1
    content = re.sub(r"[\u00a0\u202f\s]+", " ", reader.pages[0].extract_text())
    assert len(document.axes) == 3
    for axis in document.axes:  # each bar's amount, as the chart prints it
        for amount in (axis.granted.value, axis.paid):
            assert re.sub(r"[\u00a0\u202f]", " ", compact_euros(amount)) in content
    assert "0 €" in content and "500 k€" in content  # the scale's ticks
    assert content.count("Versé") >= 2  # the table's column and the chart's legend
    fonts = {font.get_object()["/BaseFont"]
             for font in reader.pages[0]["/Resources"]["/Font"].values()}
    assert fonts and all("DejaVu" in name for name in fonts)


def test_summary_chart_is_left_out_when_it_would_not_fit():
    from db.documents.summary import AxisProgress
    from db.totals import Total
    from printouts.summary import CHART_AXES, axis_chart

    def axes(count: int, granted: D = D("1000.00")) -> list[AxisProgress]:
        return [AxisProgress(f"Axe {n}", 1, Total(granted), D("0.00"))
                for n in range(1, count + 1)]

    drawing = axis_chart(axes(CHART_AXES), 500)
    assert drawing is not None and drawing.height < 100 * 2.835  # under 10 cm
    assert axis_chart(axes(CHART_AXES + 1), 500) is None
    assert axis_chart(axes(2, D("0.00")), 500) is None  # nothing granted: no empty chart
    assert axis_chart([], 500) is None


def test_the_toolbar_exports_every_chart_in_one_pdf(qtbot, window, tmp_path, monkeypatch):
    click_navigation(qtbot, window, "Tableau de bord")
    target = tmp_path / "tableau.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    assert window.export_current() == target
    pages = [page.extract_text().replace("\n", " ") for page in PdfReader(target).pages]
    assert len(pages) == 5
    for title, page in zip(["Consommation des enveloppes", "Échéances à venir",
                            "Accordé et versé par exercice", "Accordé et versé par dispositif",
                            "Accordé et versé par EPCI"], pages, strict=True):
        assert title in page and "Arrondissement d'Avesnes-sur-Helpe" in page
    assert "DETR" in pages[3] and "2025" in pages[2]


def test_summary_leaves_the_chart_out_rather_than_take_a_second_page(demo_db):
    """Contacts added one by one to the demo's fiche: whenever the fiche holds on one
    page without its chart, it is printed on one page (the chart left out if needed)."""
    import dataclasses

    from db import documents
    from db.documents.summary import Contact
    from printouts.summary import page_count, summary_pdf, summary_story_pdf

    data = documents.summary(demo_db, "FICTIF-CRTE-591", today=date(2026, 12, 2))
    outcomes = set()
    for count in range(0, 60, 4):
        contacts = [Contact(f"Commune numéro {n}", f"Personne {n}", "maire",
                            "03 27 00 00 00", f"mairie{n}@example.fr") for n in range(count)]
        more = dataclasses.replace(data, contacts=contacts)
        fits_without = page_count(summary_story_pdf(more, chart=False)) == 1
        fits_with = page_count(summary_story_pdf(more, chart=True)) == 1
        printed = summary_pdf(more)
        if fits_without:
            assert page_count(printed) == 1, count
        text = PdfReader(io.BytesIO(printed)).pages[0].extract_text()
        chart_shown = "500\xa0k€" in text or "500 k€" in text.replace("\u202f", " ")
        assert chart_shown == fits_with or not fits_without, count
        outcomes.add((fits_with, fits_without))
    # The three cases happened: room for the chart, room only without it, no room at all.
    assert outcomes == {(True, True), (False, True), (False, False)}


def test_a_month_of_the_deadlines_chart_opens_the_shortest_horizon_reaching_its_end():
    from desktop.charts import _horizon_target

    today = date(2026, 12, 3)
    # 31/12 is 28 days on, 31/01 is 59, 28/02 is 87, 31/03 is 118.
    horizons = [_horizon_target(today, date(y, m, 1)).filters["within_days"]
                for y, m in ((2026, 12), (2027, 1), (2027, 2), (2027, 3))]
    assert horizons == [30, 60, 90, None]
    # A month ending exactly 30 days on still fits the 30-day horizon.
    assert _horizon_target(date(2027, 3, 1), date(2027, 3, 1)).filters["within_days"] == 30
    assert _horizon_target(date(2027, 2, 28), date(2027, 3, 1)).filters["within_days"] == 60
