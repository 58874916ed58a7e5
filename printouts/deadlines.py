"""The échéancier (A4 landscape): the deadlines of a selection, by due date, the
overdue ones flagged in red, with what each asks for."""

from __future__ import annotations

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm

from db.deadlines.exports import DeadlinesData
from db.formatting import euros, long_date, number
from printouts.layout import Cell, Column, GridTable, Row
from printouts.pdf import body_width, build, notes, text

PAGE = landscape(A4)


def deadlines_pdf(data: DeadlinesData) -> bytes:
    width = body_width(PAGE)
    columns = [Column("Échéance", width=19 * mm), Column("Délai", width=33 * mm),
               Column("Nature", weight=1.1), Column("Référence", weight=1.0),
               Column("Objet et démarche à suivre", weight=3.6),
               Column("Dispositif", whole_words=True), Column("Montant", numeric=True)]
    rows = []
    for row in data.rows:
        delay = Cell(row["delay"], alert=True) if row["overdue"] else row["delay"]
        what = f"{row['label']}\n{row['detail']}" if row["detail"] else row["label"]
        rows.append(Row([row["due"], delay, row["kind_label"], row["reference"], what,
                         row["scheme"], euros(row["amount"], "") if row["amount"] is not None
                         else ""]))
    count = len(data.rows)
    story: list = [text(data.title, "title"),
                   text(f"Sélection : {data.criteria}", "subtitle"),
                   text(f"Situation au {long_date(data.today)} : {number(count)} "
                        f"échéance{'s' if count > 1 else ''}"
                        + (f", dont {number(data.overdue)} en retard" if data.overdue else "")
                        + ".", "body")]
    if not rows:
        story.append(text("Aucune échéance pour cette sélection.", "body"))
    else:
        story.append(GridTable(columns, rows, width))
    explained = [f"{label} : {euros(amount)}." for label, amount in data.totals.items()]
    if explained:
        explained.insert(0, "Montants des subventions concernées, par nature d'échéance "
                            "(accordé, ou reste à verser pour les soldes) :")
    explained.append("Dates calculées par l'application à partir des dates de notification, "
                     "de commencement et d'achèvement enregistrées, prorogations comprises "
                     "(CGCT art. R2334-28 et R2334-29 ; décret n° 2018-514, art. 8, 11 et "
                     "14). Le solde attendu est relancé six mois après l'achèvement.")
    story += notes(explained)
    return build(data.provenance, data.office, data.title, story, PAGE)
