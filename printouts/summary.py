"""The fiche synthèse of a contract (one page, A4 portrait)."""

from __future__ import annotations

from decimal import Decimal

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import STATE_DEFAULTS, Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from db.documents import SummaryData
from db.documents.summary import AxisProgress
from db.formatting import compact_euros, euros, long_date, number, percent, short_date
from printouts.annex import amount_cell
from printouts.layout import BLUE, Column, GridTable, Row, facts
from printouts.pdf import Beside, body_width, build, heading, keep_heading, notes, text

PAGE = A4


def _end(data: SummaryData) -> str:
    if data.end_date is None:
        return "non renseignée"
    when = long_date(data.end_date)
    days = data.days_to_end
    if days is None:
        return when
    if days > 1:
        return f"{when} (dans {number(days)} jours)"
    if days == 1:
        return f"{when} (demain)"
    if days == 0:
        return f"{when} (aujourd'hui)"
    return f"{when} (terminé depuis {number(-days)} jour{'s' if days < -1 else ''})"


def _statuses(data: SummaryData, width: float) -> list:
    return [heading("Opérations par statut"), GridTable(
        [Column("Statut", weight=1), Column("Opérations", numeric=True),
         Column("Accordé", numeric=True)],
        [Row([status, number(count), amount_cell(amount)])
         for status, count, amount in data.by_status]
        or [Row(["Aucune opération", "0", "—"])], width)]


def _deadlines(data: SummaryData, width: float) -> list:
    story: list = [heading("Prochaines échéances")]
    if not data.deadlines_to_come:
        return [*story, text("Aucune échéance à venir (fin du contrat, avenant, comité, "
                             "caducité ou achèvement).", "body")]
    story.append(GridTable(
        [Column("Date", whole_words=True), Column("Objet", weight=1.1),
         Column("Échéance", weight=2)],
        [Row([short_date(d.when), d.subject, d.what]) for d in data.deadlines_to_come], width))
    if data.more_deadlines:
        more = data.more_deadlines
        story += notes([f"… et {more} autre{'s' if more > 1 else ''} "
                        f"échéance{'s' if more > 1 else ''} à venir."])
    return story


# A drawing starts its PDF rendering with this font: the shipped one, never Helvetica
# (the fonts of every document are embedded, tests/test_printouts.py).
STATE_DEFAULTS["fontName"] = "Doc"
PAID = colors.HexColor("#9fb4e0")  # light beside BLUE: the two read apart in grey too
CHART_AXES = 8  # more axes than this: the table alone (the fiche stays on one page)
AXIS_ROW = 8.5 * mm  # the two bars of an axis
LABEL_WIDTH = 70 * mm


def _axis_name(axis: AxisProgress, width: int = 46) -> str:
    name = axis.label
    return name if len(name) <= width else name[:width - 1].rstrip() + "…"


def axis_chart(axes: list[AxisProgress], width: float) -> Drawing | None:
    """Accordé and versé per axis of the contract, in reportlab's own graphics (printing
    needs no matplotlib); None when there is nothing to draw or too many axes."""
    if not axes or len(axes) > CHART_AXES or not any(a.granted.value for a in axes):
        return None
    rows = list(reversed(axes))  # a horizontal chart draws its first category lowest
    plot_height = AXIS_ROW * len(rows)
    height = plot_height + 19 * mm
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = LABEL_WIDTH, 9 * mm
    chart.width, chart.height = width - LABEL_WIDTH - 22 * mm, plot_height
    # Bar lengths are plot coordinates; every amount printed is formatted from Decimal.
    # The first series is drawn lowest in each group: versé, then accordé above it.
    chart.data = [[float(a.paid) for a in rows], [float(a.granted.value) for a in rows]]
    chart.bars[0].fillColor, chart.bars[1].fillColor = PAID, BLUE
    chart.bars.strokeColor = BLUE
    chart.bars.strokeWidth = 0.4
    chart.groupSpacing = 2.2 * mm
    chart.barSpacing = 0.3 * mm
    chart.categoryAxis.categoryNames = [_axis_name(a) for a in rows]
    chart.categoryAxis.labels.fontName = "Doc"
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -2
    chart.categoryAxis.strokeColor = colors.HexColor("#666666")
    widest = max(max(a.granted.value, a.paid) for a in axes)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = float(widest) * 1.02
    chart.valueAxis.maximumTicks = 5
    chart.valueAxis.labels.fontName = "Doc"
    chart.valueAxis.labels.fontSize = 6.5
    chart.valueAxis.labelTextFormat = lambda value: compact_euros(Decimal(repr(round(value))))
    chart.valueAxis.strokeColor = colors.HexColor("#666666")
    # No grid: the amounts at the bars' ends say it, and a grid line through them
    # would read as a table rule crossed by its text (tests/pdf_layout.py).
    chart.valueAxis.visibleGrid = False
    chart.barLabels.fontName = "Doc"
    chart.barLabels.fontSize = 6
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 2
    chart.barLabelFormat = lambda value: compact_euros(Decimal(repr(round(value))))
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = LABEL_WIDTH, height - 2 * mm
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 30 * mm
    legend.dx, legend.dy = 7, 7
    legend.fontName, legend.fontSize = "Doc", 7
    legend.strokeColor = BLUE
    legend.strokeWidth = 0.4
    legend.colorNamePairs = [(BLUE, "Accordé"), (PAID, "Versé")]
    drawing.add(legend)
    return drawing


def summary_pdf(data: SummaryData) -> bytes:
    """The fiche, with its chart of progress by axis when the fiche then still holds on
    one page (else without the chart: the table above says the same in figures)."""
    with_chart = summary_story_pdf(data, chart=True)
    if axis_chart(data.axes, body_width(PAGE)) is None or page_count(with_chart) == 1:
        return with_chart
    without = summary_story_pdf(data, chart=False)
    return without if page_count(without) < page_count(with_chart) else with_chart


def page_count(pdf: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def summary_story_pdf(data: SummaryData, *, chart: bool = True) -> bytes:
    width = body_width(PAGE)
    envelope = euros(data.envelope_total, unknown="non renseignée")
    if data.envelope_state is not None:
        envelope += f" dont État {euros(data.envelope_state)}"
    engaged = amount_cell(data.state_committed, "0,00 €").replace("\n", " ")
    if data.state_rate is not None:
        engaged += f" ({percent(data.state_rate)} de la part de l'État)"
    story: list = [
        text("Fiche synthèse", "title"),
        text(f"{data.reference} — {data.title}", "subtitle"),
        facts([("Type", data.type_label), ("Statut", data.status),
               ("Signature", long_date(data.signature_date) or "non renseignée"),
               ("Fin", _end(data)), ("Territoire", data.territory or "non renseigné"),
               ("Enveloppe", envelope), ("Engagé par l'État", engaged)], width, 34 * mm),
        *keep_heading("Chiffres clés"),
        GridTable([Column("Opérations", numeric=True), Column("Coût", numeric=True),
                   Column("Accordé", numeric=True), Column("Versé", numeric=True),
                   Column("Reste à verser", numeric=True)],
                  [Row([number(data.operations), amount_cell(data.cost, "0,00 €"),
                        amount_cell(data.granted, "0,00 €"), euros(data.paid),
                        amount_cell(data.remaining, "0,00 €")])], width, size=9),
    ]
    explained = []
    if data.abandoned:
        explained.append(f"Opérations abandonnées : {data.abandoned}, comptées dans aucun "
                         "chiffre." if data.abandoned > 1 else
                         "Une opération abandonnée, comptée dans aucun chiffre.")
    if data.remainders:
        explained.append(f"Reste à verser hors opérations soldées, dont les reliquats "
                         f"({euros(data.remainders)}) sont à annuler.")
    if any(t.missing for t in (data.cost, data.granted, data.remaining)):
        explained.append("« + N n. c. » sous un montant : N montants non communiqués n'y sont "
                         "pas comptés.")
    story += notes(explained)
    story += keep_heading("Avancement par axe")
    story.append(GridTable(
        [Column("Axe", weight=1), Column("Opérations", numeric=True),
         Column("Accordé", numeric=True), Column("Versé", numeric=True),
         Column("Versé / accordé", numeric=True)],
        [Row([axis.label, number(axis.operations), amount_cell(axis.granted), euros(axis.paid),
              percent(axis.paid_rate) if axis.paid_rate is not None else "—"])
         for axis in data.axes] or [Row(["Aucun axe", "0", "—", "—", "—"])], width))
    drawing = axis_chart(data.axes, width) if chart else None
    if drawing is not None:
        story.append(drawing)
    story.append(Beside(lambda w: _statuses(data, w), lambda w: _deadlines(data, w), width,
                        split_at=0.36))
    story += keep_heading("Contacts")
    known = [c for c in data.contacts if c.person or c.phone or c.email]
    if known:
        story.append(GridTable(
            [Column("Organisation", weight=1), Column("Personne, fonction, téléphone, courriel",
                                                      weight=2.2)],
            [Row([c.organisation, " · ".join(x for x in (
                c.person or "personne non renseignée", c.role,
                (c.phone or "").replace(" ", "\u00a0"), c.email) if x)]) for c in known],
            width, size=7))
    others = [c.organisation for c in data.contacts if c not in known]
    if others:
        story.append(text(("Signataires sans contact enregistré : " if known else
                           "Aucun contact enregistré pour les signataires : ")
                          + " ; ".join(others) + ".", "small"))
    elif not data.contacts:
        story.append(text("Aucun signataire enregistré.", "body"))
    return build(data.provenance, data.office, f"Fiche synthèse — {data.reference}", story,
                 PAGE)
