"""PDF documents (reportlab platypus) from the plain data of :mod:`db.documents`.

Nothing here queries the database. Fonts are shipped with the application and
embedded; every user string is escaped before it reaches a Paragraph; long
tables are cut in page-sized pieces whose header repeats; every page carries
"page n / N", the date of edition and the document's fingerprint, which the
first page also gives as a QR code.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from db.documents import AnnexData, ListData, PlanData, Provenance, SummaryData
from db.formatting import euros, long_date, number, percent, short_date

# User text may hold <img src=http…>: never fetch anything.
rl_config.trustedHosts = []

FONTS = Path(__file__).resolve().parent.parent / "resources" / "fonts"
BLUE = colors.HexColor("#000091")
GREY = colors.HexColor("#666666")
LIGHT = colors.HexColor("#eeeeee")
ROWS_PER_TABLE = 35  # one huge table lays out slower than linear: cut it
KEYWORDS_PREFIX = "suivi-contrats:"


def _register_fonts() -> None:
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


_register_fonts()

STYLES = {
    "body": ParagraphStyle("body", fontName="Doc", fontSize=9, leading=12),
    "small": ParagraphStyle("small", fontName="Doc", fontSize=7.5, leading=9.5,
                            textColor=GREY),
    "title": ParagraphStyle("title", fontName="Doc-Bold", fontSize=15, leading=19,
                            textColor=BLUE, spaceAfter=4),
    "subtitle": ParagraphStyle("subtitle", fontName="Doc", fontSize=10.5, leading=14,
                               spaceAfter=6),
    "h2": ParagraphStyle("h2", fontName="Doc-Bold", fontSize=11, leading=15, textColor=BLUE,
                         spaceBefore=10, spaceAfter=4),
    "cell": ParagraphStyle("cell", fontName="Cond", fontSize=7.8, leading=9.5),
    "cell_bold": ParagraphStyle("cell_bold", fontName="Cond-Bold", fontSize=7.8, leading=9.5),
    "num": ParagraphStyle("num", fontName="Cond", fontSize=7.5, leading=9.5, alignment=TA_RIGHT),
    "num_bold": ParagraphStyle("num_bold", fontName="Cond-Bold", fontSize=7.5, leading=9.5,
                               alignment=TA_RIGHT),
    "head": ParagraphStyle("head", fontName="Cond-Bold", fontSize=7.8, leading=9.5,
                           textColor=colors.white),
    "head_num": ParagraphStyle("head_num", fontName="Cond-Bold", fontSize=7.8, leading=9.5,
                               textColor=colors.white, alignment=TA_RIGHT),
    "sign": ParagraphStyle("sign", fontName="Doc", fontSize=9, leading=12, alignment=TA_CENTER),
}


def text(value: Any, style: str = "body") -> Paragraph:
    """A Paragraph of user text: escaped, so `<`, `>` and `&` print as typed."""
    return Paragraph(escape("" if value is None else str(value)), STYLES[style])


def wrapped(value: Any, width: float, font: str = "Cond", size: float = 7.5) -> str:
    """A plain table cell cut into lines that fit *width*: no markup is parsed, so user
    text prints as typed, and big tables lay out several times faster than Paragraphs."""
    return "\n".join(simpleSplit("" if value is None else str(value), font, size, width - 6))


def money(value: Decimal | None, bold: bool = False, unknown: str = "non communiqué") -> str:
    """An amount as a plain table cell (never wrapped, so no Paragraph: several times
    faster on big tables). Tables right-align their amount columns and set bold rows."""
    return euros(value, unknown=unknown)


class _NumberedCanvas(pdf_canvas.Canvas):
    """Two passes over the pages, so each can say "page n / N" (as pretix does)."""

    provenance: Provenance

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
        self.drawString(15 * mm, 9 * mm, f"Édité le {long_date(provenance.edited)} — "
                                         f"empreinte {provenance.fingerprint}")
        self.drawRightString(width - 15 * mm, 9 * mm, f"page {self._pageNumber} / {count}")
        self.setStrokeColor(LIGHT)
        self.line(15 * mm, 12.5 * mm, width - 15 * mm, 12.5 * mm)


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
                 pagesize: tuple[float, float]) -> None:
        super().__init__(buffer, pagesize=pagesize, initialFontName="Doc", initialFontSize=9,
                         leftMargin=15 * mm, rightMargin=15 * mm,
                         topMargin=30 * mm, bottomMargin=18 * mm, title=title,
                         author=office.sous_prefecture, creator="Suivi des contrats territoriaux",
                         subject=f"{provenance.kind} {provenance.subject}"[:200],
                         keywords=KEYWORDS_PREFIX + json.dumps(
                             {"fingerprint": provenance.fingerprint, "kind": provenance.kind,
                              "subject": provenance.subject,
                              "records": [asdict(r) for r in provenance.records]},
                             separators=(",", ":")))
        self.provenance = provenance
        self.office = office
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate("page", frames=[frame], onPage=self._header)])

    def _header(self, canvas: Any, doc: Any) -> None:
        width, height = self.pagesize
        canvas.saveState()
        canvas.setFillColor(colors.black)
        canvas.setFont("Doc-Bold", 9)
        canvas.drawString(15 * mm, height - 13 * mm, self.office.republic)
        canvas.setFont("Doc", 8.5)
        canvas.drawString(15 * mm, height - 17.5 * mm, self.office.prefecture)
        canvas.drawString(15 * mm, height - 21.5 * mm, self.office.sous_prefecture)
        canvas.setStrokeColor(BLUE)
        canvas.setLineWidth(1.2)
        canvas.line(15 * mm, height - 24.5 * mm, width - 15 * mm, height - 24.5 * mm)
        if doc.page == 1:
            _draw_qr(canvas, f"SCT|{self.provenance.kind}|{self.provenance.fingerprint}",
                     width - 15 * mm - 22 * mm, height - 24 * mm, 22 * mm)
        canvas.restoreState()


def _build(provenance: Provenance, office: Any, title: str, story: list,
           pagesize: tuple[float, float] = A4) -> bytes:
    buffer = io.BytesIO()
    document = _Document(buffer, provenance, office, title, pagesize)

    class Canvas(_NumberedCanvas):
        pass

    Canvas.provenance = provenance
    document.build(story, canvasmaker=Canvas)
    return buffer.getvalue()


def _table(header: Sequence[Any], rows: Sequence[Sequence[Any]], widths: Sequence[float],
           totals: Sequence[Sequence[Any]] = (), numeric_from: int | None = None,
           bold_rows: Iterable[int] = ()) -> list:
    """Page-sized tables with the header repeated; *bold_rows* (indices in *rows*) and
    the total rows at the end in bold; columns from *numeric_from* right-aligned."""
    head = [Paragraph(escape(h), STYLES["head_num" if numeric_from is not None
                                         and i >= numeric_from else "head"])
            if isinstance(h, str) else h for i, h in enumerate(header)]
    bold = set(bold_rows)
    pieces = []
    starts = list(range(0, len(rows), ROWS_PER_TABLE)) or [0]
    for index, start in enumerate(starts):
        chunk = list(rows[start:start + ROWS_PER_TABLE])
        body = [head, *chunk]
        last = index == len(starts) - 1
        if last:
            body += list(totals)
        table = Table(body, colWidths=widths, repeatRows=1)
        style = [
            ("FONTNAME", (0, 0), (-1, -1), "Cond"),  # also for plain cells: no base font
            ("FONTSIZE", (0, 1), (-1, -1), 7.5),
            ("LEADING", (0, 1), (-1, -1), 9),
            ("BACKGROUND", (0, 0), (-1, 0), BLUE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#cccccc")),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        if numeric_from is not None:
            style.append(("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"))
        for row in range(start, start + len(chunk)):
            if row in bold:
                style.append(("FONTNAME", (0, row - start + 1), (-1, row - start + 1),
                              "Cond-Bold"))
        if last and totals:
            first_total = len(body) - len(totals)
            style += [("BACKGROUND", (0, first_total), (-1, -1), LIGHT),
                      ("FONTNAME", (0, first_total), (-1, -1), "Cond-Bold")]
        table.setStyle(TableStyle(style))
        pieces.append(table)
    return pieces


def _facts(pairs: Iterable[tuple[str, Any]], widths: tuple[float, float]) -> Table:
    rows = [[Paragraph(escape(label), STYLES["cell_bold"]),
             value if isinstance(value, Paragraph) else text(value, "cell")]
            for label, value in pairs]
    table = Table(rows, colWidths=widths)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONTNAME", (0, 0), (-1, -1), "Cond"),
                               ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    return table


def _signatures(signatures: Sequence[Any], place: str, width: float) -> list:
    if not signatures:
        return []
    cells = []
    for signature in signatures:
        when = f"le {long_date(signature.signing_date)}" if signature.signing_date else "le"
        heading = [text(signature.heading, "sign")]
        if signature.role and not signature.role.lower().startswith("pour"):
            heading = [text(f"Pour {signature.organisation}", "sign"),
                       text(signature.role[:1].upper() + signature.role[1:], "sign")]
        cells.append([text(f"Fait à {place}, {when}" if place else f"Fait {when}", "sign"),
                      Spacer(1, 2 * mm), *heading, Spacer(1, 18 * mm)])
    per_row = 3 if len(cells) > 2 else max(len(cells), 1)
    rows = [cells[i:i + per_row] for i in range(0, len(cells), per_row)]
    for row in rows:
        row += [""] * (per_row - len(row))
    table = Table(rows, colWidths=[width / per_row] * per_row)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONTNAME", (0, 0), (-1, -1), "Doc")]))
    return [CondPageBreak(45 * mm), Paragraph("Signatures", STYLES["h2"]), table]


# --- Annexe financière ---------------------------------------------------------------------

def annex_pdf(data: AnnexData) -> bytes:
    page = landscape(A4)
    width = page[0] - 30 * mm
    story: list = [
        Paragraph("Annexe financière", STYLES["title"]),
        text(f"{data.reference} — {data.title}", "subtitle"),
        _facts([("Type de contrat", data.type_label), ("Statut", data.status),
                ("Signature", long_date(data.signature_date) or "non renseignée"),
                ("Période", " – ".join(x for x in (short_date(data.start_date),
                                                    short_date(data.end_date)) if x) or "—"),
                ("Signataires", "; ".join(s.organisation + (f" ({s.role})" if s.role else "")
                                          for s in data.signatories) or "—")],
               (35 * mm, width - 35 * mm)),
        Paragraph("Opérations par axe", STYLES["h2"]),
    ]
    # Only the financers present in this contract get a column (the rest would be 0).
    groups = [g for g in data.groups if data.amounts[g]] or data.groups[:1]
    header = ["Opération", "Maître d'ouvrage", "Commune", "Coût", *groups, "Autofinanc."]
    fixed = [60 * mm, 36 * mm, 24 * mm]
    money_width = (width - sum(fixed)) / (2 + len(groups))
    widths = [*fixed, *[money_width] * (2 + len(groups))]
    rows: list = []
    subtotals: list[int] = []
    for axis in data.axes:
        rows.append([Paragraph(escape(axis.label), STYLES["cell_bold"]), "", "", "",
                     *[""] * len(groups), ""])
        for line in axis.lines:
            rows.append([wrapped(f"{line.reference} — {line.title}", fixed[0]),
                         wrapped(line.owner, fixed[1]), wrapped(line.communes, fixed[2]),
                         money(line.cost), *[money(line.amounts[g]) for g in groups],
                         money(line.own_share, unknown="—")])
        subtotals.append(len(rows))
        rows.append([Paragraph(escape(f"Sous-total — {axis.label}"), STYLES["cell_bold"]), "",
                     "", money(axis.cost, True), *[money(axis.amounts[g], True) for g in groups],
                     money(axis.own_share, True)])
    totals = [[Paragraph("Total du contrat", STYLES["cell_bold"]), "", "",
               money(data.cost, True), *[money(data.amounts[g], True) for g in groups],
               money(data.own_share, True)]]
    story += _table(header, rows, widths, totals, numeric_from=3, bold_rows=subtotals)
    story.append(text("Coût : coût HT retenu par le plan de financement (TTC lorsque le plan "
                      "est établi sur le TTC). Montants : accordés, ou sollicités tant que la "
                      "décision n'est pas prise.", "small"))
    if data.unknown_costs:
        story.append(text(f"{data.unknown_costs} opération(s) sans coût communiqué : leurs "
                          "montants ne sont pas comptés dans les coûts.", "small"))

    granted = sum((amount for _, amount, _ in data.by_financer), Decimal("0.00"))
    financers = [[text(name, "cell"), money(amount), text(percent(share), "num")]
                 for name, amount, share in data.by_financer]
    left = [Paragraph("Montants accordés par financeur", STYLES["h2"]),
            *_table(["Financeur", "Accordé", "Part"], financers, [68 * mm, 32 * mm, 18 * mm],
                    [[Paragraph("Total", STYLES["cell_bold"]), money(granted, True),
                      text("100 %" if granted else "", "num_bold")]], numeric_from=1)]
    years = [[text(year, "cell"), money(committed), money(paid), money(rest)]
             for year, committed, paid, rest in data.state_by_year]
    sums = [sum((row[i] for row in data.state_by_year), Decimal("0.00")) for i in (1, 2, 3)]
    right = [Paragraph("Engagements et paiements de l'État par année", STYLES["h2"]),
             *_table(["Année d'engagement", "Engagé", "Versé", "Reste à verser"], years,
                     [35 * mm, 32 * mm, 32 * mm, 32 * mm],
                     [[Paragraph("Total", STYLES["cell_bold"]), *[money(v, True) for v in sums]]],
                     numeric_from=1)]
    side_by_side = Table([[left, right]], colWidths=[width * 0.48, width * 0.52])
    side_by_side.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                      ("FONTNAME", (0, 0), (-1, -1), "Doc"),
                                      ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story += [CondPageBreak(60 * mm), side_by_side]
    story += _signatures(data.signatories, data.office.place, width)
    return _build(data.provenance, data.office, f"Annexe financière — {data.reference}",
                  story, page)


# --- Plan de financement ------------------------------------------------------------------

def plan_pdf(data: PlanData) -> bytes:
    width = A4[0] - 30 * mm
    story: list = [
        Paragraph("Plan de financement", STYLES["title"]),
        text(f"{data.reference} — {data.title}", "subtitle"),
        _facts([("Maître d'ouvrage", data.owner or "—"), ("Communes", data.communes or "—"),
                ("Contrats", data.contracts or "—"), ("Statut", data.status)],
               (40 * mm, width - 40 * mm)),
        Paragraph("Dépenses", STYLES["h2"]),
        _facts([("Coût HT", euros(data.cost_ht)), ("Coût TTC", euros(data.cost_ttc)),
                ("Base du plan", f"{data.base_kind} : {euros(data.base)}"),
                ("Dépense subventionnable HT", euros(data.eligible))],
               (55 * mm, width - 55 * mm)),
        Paragraph("Ressources", STYLES["h2"]),
    ]
    rows = [[text(line.financer, "cell"), text(line.scheme, "cell"), text(line.status, "cell"),
             text(line.decision, "cell"), money(line.amount), text(percent(line.rate), "num")]
            for line in data.lines]
    share = data.own_share
    totals = [
        [Paragraph("Part du maître d'ouvrage (autofinancement)", STYLES["cell_bold"]), "", "",
         "", money(share, True, unknown="—"), text(percent(data.own_share_rate), "num_bold")],
        [Paragraph("Total des ressources", STYLES["cell_bold"]), "", "", "",
         money(None if data.base is None else data.funding_total + (share or 0), True,
               unknown="—"), text("100 %" if data.base else "", "num_bold")],
    ]
    story += _table(["Financeur", "Dispositif", "Statut", "Décision", "Montant", "Taux"], rows,
                    [46 * mm, 27 * mm, 18 * mm, 41 * mm, 32 * mm, 16 * mm], totals,
                    numeric_from=4)
    story.append(text("Le montant retenu est l'accordé pour un financement accordé, le "
                      "sollicité sinon ; un financement refusé compte pour 0.", "small"))
    story.append(Paragraph("Contrôles réglementaires", STYLES["h2"]))
    if data.checks:
        for severity, message in data.checks:
            story.append(text(f"{severity.capitalize()} — {message}", "body"))
    else:
        story.append(text("Aucune anomalie : équilibre du plan, participation minimale du maître "
                          "d'ouvrage (CGCT L1111-10), plafond des dotations de l'État "
                          "(R2334-27) respectés.", "body"))
    if data.exception:
        story.append(text(f"Dérogation invoquée : {data.exception}", "body"))
    story.append(Paragraph("Dates", STYLES["h2"]))
    story.append(_facts([(label, long_date(value) or "—") for label, value in data.dates]
                        + [(label, f"{long_date(value) or 'à calculer'} ({article})")
                           for label, value, article in data.deadlines],
                        (65 * mm, width - 65 * mm)))
    return _build(data.provenance, data.office, f"Plan de financement — {data.reference}", story)


# --- Fiche synthèse ---------------------------------------------------------------------

def summary_pdf(data: SummaryData) -> bytes:
    width = A4[0] - 30 * mm
    story: list = [
        Paragraph("Fiche synthèse", STYLES["title"]),
        text(f"{data.reference} — {data.title}", "subtitle"),
        _facts([("Type", data.type_label), ("Statut", data.status),
                ("Signature", long_date(data.signature_date) or "—"),
                ("Fin", long_date(data.end_date) or "—"), ("Territoire", data.territory or "—"),
                ("Enveloppe", f"{euros(data.envelope_total)} dont État "
                              f"{euros(data.envelope_state)}")],
               (30 * mm, width - 30 * mm)),
        Paragraph("Chiffres clés", STYLES["h2"]),
    ]
    figures = Table([[text(label, "cell_bold") for label in
                      ("Opérations", "Coût", "Accordé", "Versé", "Reste à verser")],
                     [text(number(data.operations), "num"), money(data.cost),
                      money(data.granted), money(data.paid), money(data.granted - data.paid)]],
                    colWidths=[width / 5] * 5)
    figures.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, BLUE),
                                 ("FONTNAME", (0, 0), (-1, -1), "Cond"),
                                 ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                                 ("BACKGROUND", (0, 0), (-1, 0), LIGHT)]))
    story.append(figures)
    story.append(Paragraph("Avancement par axe", STYLES["h2"]))
    story += _table(["Axe", "Opérations", "Engagé", "Versé", "Versé / engagé"],
                    [[text(label, "cell"), text(count, "num"), money(committed), money(paid),
                      text(percent(paid / committed) if committed else "—", "num")]
                     for label, count, committed, paid in data.axes],
                    [80 * mm, 20 * mm, 28 * mm, 28 * mm, 24 * mm], numeric_from=1)
    story.append(Paragraph("Opérations par statut", STYLES["h2"]))
    story += _table(["Statut", "Opérations", "Accordé"],
                    [[text(status, "cell"), text(count, "num"), money(amount)]
                     for status, count, amount in data.by_status],
                    [80 * mm, 20 * mm, 28 * mm], numeric_from=1)
    story.append(Paragraph("Prochaines échéances", STYLES["h2"]))
    if data.deadlines_to_come:
        story += _table(["Date", "Opération", "Échéance"],
                        [[text(short_date(when), "cell"), text(reference, "cell"),
                          text(what, "cell")] for when, reference, what in
                         data.deadlines_to_come],
                        [25 * mm, 60 * mm, 95 * mm])
    else:
        story.append(text("Aucune échéance de caducité ou d'achèvement à venir.", "body"))
    story.append(Paragraph("Contacts (signataires)", STYLES["h2"]))
    story.append(_facts([(s.organisation, s.role or "—") for s in data.contacts]
                        or [("—", "aucun signataire enregistré")], (80 * mm, width - 80 * mm)))
    return _build(data.provenance, data.office, f"Fiche synthèse — {data.reference}", story)


# --- État récapitulatif ------------------------------------------------------------------

def list_pdf(data: ListData) -> bytes:
    page = landscape(A4)
    width = page[0] - 30 * mm
    widths_mm = {"reference": 36, "title": 52, "owner": 33, "communes": 26, "status": 19}
    money_keys = [key for key, _ in data.columns if key not in widths_mm]
    fixed = sum(widths_mm.values()) * mm
    widths = [widths_mm[key] * mm if key in widths_mm
              else (width - fixed) / len(money_keys) for key, _ in data.columns]
    column_width = dict(zip([key for key, _ in data.columns], widths, strict=True))
    rows = [[money(row[key], unknown="—") if key in money_keys
             else wrapped(row[key], column_width[key]) for key, _ in data.columns]
            for row in data.rows]
    totals = [[Paragraph(escape(f"Total ({number(data.totals.get('count', len(rows)))} "
                                "opérations)"), STYLES["cell_bold"])]
              + ["" for _ in data.columns[1:len(data.columns) - len(money_keys)]]
              + [money(data.totals.get(key), True, unknown="—") for key in money_keys]]
    story: list = [Paragraph(escape(data.title), STYLES["title"]),
                   text(f"Sélection : {data.criteria}", "subtitle"),
                   *_table([label for _, label in data.columns], rows, widths, totals,
                           numeric_from=len(data.columns) - len(money_keys))]
    return _build(data.provenance, data.office, data.title, story, page)


RENDERERS = {"annexe": annex_pdf, "plan": plan_pdf, "synthese": summary_pdf, "etat": list_pdf}


def render(document: Any) -> bytes:
    return RENDERERS[document.provenance.kind](document)


def save(document: Any, path: Path) -> Path:
    path.write_bytes(render(document))
    return path

