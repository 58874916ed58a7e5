"""The annexe financière of a contract (A4 landscape)."""

from __future__ import annotations

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Spacer

from db.documents import AnnexData
from db.documents.common import Total
from db.formatting import euros, long_date, percent, short_date
from printouts.layout import Cell, Column, GridTable, Row, facts
from printouts.pdf import (
    Beside,
    body_width,
    build,
    heading,
    keep_heading,
    notes,
    place_and_date,
    signature_blocks,
    text,
)

PAGE = landscape(A4)


def amount_cell(total: Total, empty: str = "—") -> str:
    """A total in a cell: the known sum, and how many amounts it lacks."""
    if total.missing and not total.value:
        return "non communiqué" if total.missing == 1 else f"{total.missing} n. c."
    if not total.value and not total.missing:
        return empty
    return total.printed()


def own_share_cell(value, over_funded: bool) -> object:
    if value is None:
        return "non communiqué"
    if over_funded:
        return Cell(f"surfinancé de\n{euros(-value)}", alert=True)
    return euros(value)


def _identity(data: AnnexData, width: float) -> list:
    period = " – ".join(x for x in (short_date(data.start_date), short_date(data.end_date)) if x)
    envelope = euros(data.envelope_total, unknown="non renseignée")
    if data.amendments_change:
        sign = "+ " if data.amendments_change > 0 else "− "
        envelope += f" (dont avenants : {sign}{euros(abs(data.amendments_change))})"
    state = euros(data.envelope_state, unknown="non renseignée")
    engaged = amount_cell(data.state_committed, "0,00 €").replace("\n", " ")
    if data.envelope_state:
        state += f" — engagé : {engaged} ({percent(data.state_rate)} de la part de l'État)"
        if data.state_committed.value > data.envelope_state:
            state += " : au-delà de la part de l'État prévue au contrat"
    else:
        state += f" — engagé : {engaged}"
    pairs = [
        ("Type de contrat", data.type_label), ("Statut", data.status),
        ("Signature du contrat", long_date(data.signature_date) or "non renseignée"),
        ("Période", period or "non renseignée")]
    if data.amendment_subject is not None:
        pairs.append(("Objet de l'avenant", data.amendment_subject))
        pairs.append(("Enveloppe avant l'avenant",
                      euros(data.envelope_before, unknown="non renseignée")))
    pairs += [("Enveloppe totale", envelope), ("Part de l'État", state),
              ("Signataires", " ; ".join(s.organisation for s in data.signatories) or "—"),
              ("Situation", f"opérations et montants au {long_date(data.provenance.edited)}")]
    return [facts(pairs, width, 38 * mm)]


def _operations(data: AnnexData, width: float) -> list:
    groups = data.groups
    columns = [Column("Opération", weight=3.2), Column("Maître d'ouvrage", weight=1.6),
               Column("Communes", weight=1.3), Column("Statut", whole_words=True),
               Column("Coût", numeric=True),
               *[Column(f"Accordé {g}", numeric=True) for g in groups],
               Column("Sollicité en attente", numeric=True),
               Column("Autofinancement", numeric=True)]
    rows: list[Row] = []
    for axis in data.axes:
        rows.append(Row([axis.label], kind="group", keep_with_next=True))
        for line in axis.lines:
            rows.append(Row([f"{line.reference} — {line.title}", line.owner, line.communes,
                             line.status, euros(line.cost),
                             *[amount_cell(line.granted[g]) for g in groups],
                             amount_cell(line.pending),
                             own_share_cell(line.own_share, line.over_funded)]))
        rows.append(Row([f"Sous-total — {axis.label}", "", "", "", amount_cell(axis.cost),
                         *[amount_cell(axis.granted[g]) for g in groups],
                         amount_cell(axis.pending), amount_cell(axis.own_share)],
                        kind="subtotal"))
    count = sum(len(axis.lines) for axis in data.axes)
    rows.append(Row([f"Total du contrat ({count} opération{'s' if count > 1 else ''})", "", "",
                     "", amount_cell(data.cost, "0,00 €"),
                     *[amount_cell(data.granted[g], "0,00 €") for g in groups],
                     amount_cell(data.pending, "0,00 €"),
                     amount_cell(data.own_share, "0,00 €")], kind="total"))
    explained = [
        "Montants en euros. Coût : coût retenu par le plan de financement (HT, ou TTC lorsque "
        "le plan est établi sur le TTC). Accordé : financements accordés ; sollicité en "
        "attente : demandes non encore décidées ; un financement refusé n'est pas compté. "
        "Autofinancement : coût − accordé − sollicité en attente.",
    ]
    if any(t.missing for t in (data.cost, data.pending, data.own_share,
                               *data.granted.values())):
        explained.append("n. c. : montant non communiqué ; « + N n. c. » sous un montant : "
                         "N montants non communiqués n'y sont pas comptés.")
    if data.over_funded:
        explained.append(f"{data.over_funded} opération(s) surfinancée(s) : leurs financements "
                         "dépassent leur coût ; leur autofinancement n'est pas compté dans les "
                         "totaux (plan à rééquilibrer).")
    return [GridTable(columns, rows, width), Spacer(1, 1.5 * mm), *notes(explained)]


def _by_financer(data: AnnexData, width: float) -> list:
    columns = [Column("Financeur", weight=1), Column("Accordé", numeric=True),
               Column("Sollicité en attente", numeric=True),
               Column("Part de l'accordé", numeric=True)]
    rows = [Row([row.name, amount_cell(row.granted), amount_cell(row.pending),
                 percent(row.share) if row.granted.value else "—"])
            for row in data.by_financer]
    granted = data.granted_total
    rows.append(Row(["Total", amount_cell(granted, "0,00 €"),
                     amount_cell(data.pending, "0,00 €"),
                     "100,00 %" if granted.value else "—"], kind="total"))
    return [heading("Montants par financeur"), GridTable(columns, rows, width)]


def _state(data: AnnexData, width: float) -> list:
    """By exercice, then by dispositif within it: as many rows as needed, never more
    columns than the page holds. Commitments only: what has been paid belongs to the
    follow-up (fiche synthèse, état), not to a document to be signed."""
    title = "Engagements de l'État par exercice et par dispositif"
    if not data.state_by_year:
        return [heading(title), text("Aucun financement de l'État accordé sur les opérations "
                                     "du contrat.", "body")]
    columns = [Column("Exercice", whole_words=True), Column("Dispositif", weight=1),
               Column("Engagé", numeric=True)]
    rows = []
    for year in data.state_by_year:
        for index, item in enumerate(year.by_scheme):
            rows.append(Row([year.year if index == 0 else "", item.scheme,
                             amount_cell(item.committed)]))
        if len(year.by_scheme) > 1 and len(data.state_by_year) > 1:
            rows.append(Row(["", f"Total {year.year}", amount_cell(year.committed)],
                            kind="subtotal"))
    rows.append(Row(["Total", "",
                     amount_cell(sum((y.committed for y in data.state_by_year), Total()),
                                 "0,00 €")], kind="total"))
    return [heading(title), GridTable(columns, rows, width),
            *notes(["État : ses services et ses opérateurs (ADEME, Anah, agences de l'eau…), "
                    "comme la colonne « Accordé État » des opérations."])]


def annex_pdf(data: AnnexData) -> bytes:
    width = body_width(PAGE)
    story: list = [
        text(data.document, "title"),
        text(f"{data.reference} — {data.title}", "subtitle"),
        *_identity(data, width),
        *keep_heading("Opérations par axe"),
        *_operations(data, width),
    ]
    if data.abandoned:
        story += keep_heading("Opérations abandonnées (hors totaux)")
        story += notes([f"{reference} — {title}" for reference, title in data.abandoned])
    story += [CondPageBreak(50 * mm),
              Beside(lambda w: _by_financer(data, w), lambda w: _state(data, w), width,
                     split_at=0.42)]
    blocks = [[place_and_date(data.office.place, data.signing_date), *s.heading]
              for s in data.signatories]
    story += signature_blocks(blocks, width)
    if data.undated_reason:
        story += notes([f"Signatures : {data.undated_reason}."])
    return build(data.provenance, data.office, f"{data.document} — {data.reference}", story,
                 PAGE)
