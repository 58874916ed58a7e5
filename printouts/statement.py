"""The état récapitulatif of a filtered list (A4 landscape)."""

from __future__ import annotations

from reportlab.lib.pagesizes import A4, landscape

from db.documents import ListData
from db.documents.common import Total
from db.formatting import euros, number
from printouts.annex import amount_cell
from printouts.layout import Column, GridTable, Row
from printouts.pdf import body_width, build, keep_heading, notes, text

PAGE = landscape(A4)
WEIGHTS = {"reference": 1.25, "title": 2.2, "owner": 1.4, "communes": 1.2}


def _cell(key: str, value: object) -> str:
    if isinstance(value, Total):
        return amount_cell(value)
    if key in ("cost", "paid"):
        return euros(value)
    return "" if value is None else str(value)


def _column(key: str, label: str) -> Column:
    if key in ("cost", "granted", "paid", "remaining"):
        return Column(label, numeric=True)
    if key == "status":
        return Column(label, whole_words=True)
    return Column(label, weight=WEIGHTS.get(key, 1.0))


def statement_pdf(data: ListData) -> bytes:
    width = body_width(PAGE)
    columns = [_column(key, label) for key, label in data.columns]
    rows = [Row([_cell(key, row[key]) for key, _ in data.columns]) for row in data.rows]
    count = data.count
    totals = [f"Total ({number(count)} opération{'s' if count > 1 else ''})"]
    totals += ["" for key, _ in data.columns[1:] if key not in data.totals]
    totals += [amount_cell(data.totals[key], "0,00 €") for key, _ in data.columns
               if key in data.totals]
    rows.append(Row(totals, kind="total"))
    story: list = [text(data.title, "title"),
                   text(f"Sélection : {data.criteria}", "subtitle")]
    if data.scope:
        story.append(text(f"Montants accordés, versés et restant à verser : {data.scope} "
                          "uniquement (le coût est celui de l'opération).", "alert"))
    story.append(GridTable(columns, rows, width))
    explained = ["Coût : coût retenu par le plan de financement (HT, ou TTC lorsque le plan "
                 "est établi sur le TTC). Accordé : financements accordés ; un financement "
                 "refusé ou encore sollicité n'y est pas compté."]
    if data.remainders:
        explained.append(f"Reste à verser : les opérations soldées n'en ont plus ; leurs "
                         f"reliquats ({euros(data.remainders)}) sont à annuler.")
    if any(t.missing for t in data.totals.values()):
        explained.append("n. c. : montant non communiqué ; « + N n. c. » sous un montant : "
                         "N montants non communiqués n'y sont pas comptés.")
    story += notes(explained)
    for heading, group in data.apart:
        story += keep_heading(heading)
        apart_columns = [_column(key, label) for key, label in data.columns
                         if key not in data.totals]
        story.append(GridTable(apart_columns, [
            Row([_cell(key, row[key]) for key, _ in data.columns if key not in data.totals])
            for row in group], width))
    return build(data.provenance, data.office, data.title, story, PAGE)
