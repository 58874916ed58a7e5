"""The fiche synthèse of a contract (one page, A4 portrait)."""

from __future__ import annotations

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from db.documents import SummaryData
from db.formatting import euros, long_date, number, percent, short_date
from printouts.annex import amount_cell
from printouts.layout import Column, GridTable, Row, facts
from printouts.pdf import body_width, build, keep_heading, notes, text

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


def summary_pdf(data: SummaryData) -> bytes:
    width = body_width(PAGE)
    envelope = euros(data.envelope_total, unknown="non renseignée")
    if data.envelope_state is not None:
        envelope += f" dont État {euros(data.envelope_state)}"
    engaged = amount_cell(data.state_committed, "0,00 €").replace("\n", " ")
    if data.state_rate is not None:
        engaged += f" ({percent(data.state_rate)} de l'enveloppe de l'État)"
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
        explained.append(f"{data.abandoned} opération(s) abandonnée(s), comptée(s) dans aucun "
                         "chiffre.")
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
    story += keep_heading("Opérations par statut")
    story.append(GridTable(
        [Column("Statut", weight=1), Column("Opérations", numeric=True),
         Column("Accordé", numeric=True)],
        [Row([status, number(count), amount_cell(amount)])
         for status, count, amount in data.by_status]
        or [Row(["Aucune opération", "0", "—"])], width * 0.6))
    story += keep_heading("Prochaines échéances")
    if data.deadlines_to_come:
        story.append(GridTable(
            [Column("Date", 20 * mm), Column("Objet", weight=1.2), Column("Échéance", weight=3)],
            [Row([short_date(d.when), d.subject, d.what]) for d in data.deadlines_to_come],
            width))
        if data.more_deadlines:
            story += notes([f"… et {data.more_deadlines} autre(s) échéance(s) à venir."])
    else:
        story.append(text("Aucune échéance à venir (fin du contrat, avenant, comité, "
                          "caducité ou achèvement).", "body"))
    story += keep_heading("Contacts")
    story.append(GridTable(
        [Column("Organisation", weight=1.5), Column("Personne", weight=1.1),
         Column("Fonction", weight=1.4), Column("Téléphone", 24 * mm),
         Column("Courriel", weight=1.4)],
        [Row([c.organisation, c.person or "non renseignée", c.role or "—", c.phone or "—",
              c.email or "—"]) for c in data.contacts]
        or [Row(["Aucun signataire enregistré", "", "", "", ""])], width))
    return build(data.provenance, data.office, f"Fiche synthèse — {data.reference}", story,
                 PAGE)
