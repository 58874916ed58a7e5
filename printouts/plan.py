"""The plan de financement of an operation (A4 landscape): expenses beside resources."""

from __future__ import annotations

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from db.documents import PlanData
from db.formatting import euros, long_date, percent
from db.text import with_article
from printouts.layout import Cell, Column, GridTable, Row, facts
from printouts.pdf import (
    Beside,
    body_width,
    build,
    heading,
    notes,
    place_and_date,
    signature_blocks,
    text,
)

PAGE = landscape(A4)


def _expenses(data: PlanData, width: float) -> list:
    columns = [Column("Poste de dépense", weight=1), Column("Montant HT", numeric=True),
               Column("Montant TTC", numeric=True)]
    rows = [Row([item.label + ("" if item.eligible or not data.expenses_detailed
                               else " (non subventionnable)"),
                 euros(item.ht), euros(item.ttc)]) for item in data.expenses]
    rows.append(Row(["Total des dépenses", euros(data.total_ht), euros(data.total_ttc)],
                     kind="total"))
    lines = [f"Base du plan : coût {data.base_kind}, {euros(data.base)}."]
    if data.has_dotations:
        lines.append(f"Dépense subventionnable HT (DETR, DSIL…) : {euros(data.eligible)} "
                     f"({data.eligible_origin}).")
    return [heading("Dépenses"), GridTable(columns, rows, width), Spacer(1, 1.5 * mm),
            *notes(lines)]


def _resources(data: PlanData, width: float) -> list:
    second = data.has_dotations
    columns = [Column("Financeur", weight=1.4), Column("Dispositif", weight=0.9),
               Column("Statut et décision", weight=1.7), Column("Montant", numeric=True),
               Column(f"Taux du coût {data.base_kind}", numeric=True, width=15 * mm)]
    if second:
        columns.append(Column("Taux de la dépense subv. HT", numeric=True, width=17 * mm))
    rows = []
    for resource in data.resources:
        joined = " " if resource.decision.startswith("le ") else " — "
        status = resource.status + (joined + resource.decision if resource.decision else "")
        cells = [resource.financer, resource.scheme, status, euros(resource.amount),
                 percent(resource.rate) if resource.rate is not None else "—"]
        if second:
            cells.append(percent(resource.eligible_rate)
                         if resource.eligible_rate is not None else "")
        rows.append(Row(cells))
    if data.excess is not None:
        own = [Cell("Autofinancement du maître d'ouvrage", bold=True), "", "",
               Cell(f"surfinancé de\n{euros(data.excess)}", alert=True), "—"]
    else:
        own = [Cell("Autofinancement du maître d'ouvrage", bold=True), "", "",
               euros(data.own_share),
               percent(data.own_share_rate) if data.own_share_rate is not None else "—"]
    if second:
        own.append("")
    rows.append(Row(own))
    total = ["Total des ressources", "", "", euros(data.resources_total),
             Cell(percent(data.rate_total), alert=data.excess is not None)
             if data.rate_total is not None else "—"]
    if second:
        total.append(percent(data.dotations_rate) if data.dotations_rate is not None else "—")
    rows.append(Row(total, kind="total"))
    explained = [f"Taux du coût {data.base_kind} : part de chaque ressource dans le coût "
                 f"{data.base_kind} de l'opération ({euros(data.base)})."]
    if second:
        explained.append(
            f"Taux de la dépense subventionnable : DETR, DSIL, DPV et DSID rapportées à la "
            f"dépense subventionnable HT ({euros(data.eligible)}) ; en total, leur cumul "
            f"({euros(data.dotations)}), plafonné à 80 % (CGCT art. R2334-27).")
    if any(r.amount is None for r in data.resources):
        explained.append("Un montant non communiqué ne permet pas de calculer "
                         "l'autofinancement.")
    return [heading("Ressources"), GridTable(columns, rows, width), Spacer(1, 1.5 * mm),
            *notes(explained)]


def _balance(data: PlanData) -> list:
    if data.excess is not None:
        return [text(f"Plan déséquilibré : les financements dépassent le coût "
                     f"{data.base_kind} de {euros(data.excess)} ; le plan est à "
                     "rééquilibrer avant toute décision.", "alert")]
    if data.balanced:
        return [text(f"Total des dépenses {data.base_kind} = total des ressources = "
                     f"{euros(data.base)}.", "body")]
    missing = "le coût" if data.base is None else "un montant de ressource"
    return [text(f"Équilibre non vérifiable : {missing} n'est pas communiqué.", "alert")]


def _findings(data: PlanData) -> list:
    story: list = []
    if data.refused:
        story += [heading("Financements refusés (hors plan)")]
        story += notes([f"{r.financer} — {r.scheme} : {euros(r.amount)} sollicités, refusé"
                        + (f" ({r.decision})" if r.decision else "") + "."
                        for r in data.refused])
    if data.commission:
        story += [heading("Commission DETR"), *[text(line, "body") for line in data.commission]]
    story.append(heading("Contrôles réglementaires"))
    if data.checks:
        story += [text(f"{severity.capitalize()} — {message}", "body")
                  for severity, message in data.checks]
    elif not data.balanced and data.excess is None:
        story.append(text("Contrôles non réalisés : le coût ou un montant du plan n'est pas "
                          "communiqué.", "body"))
    else:
        story.append(text("Aucune anomalie relevée : équilibre du plan, participation "
                          "minimale du maître d'ouvrage (CGCT art. L1111-10), taux et "
                          "plafond des dotations (CGCT art. R2334-27), bénéficiaires, dates "
                          "et délais contrôlés.", "body"))
    if data.exception:
        story.append(text(f"Dérogation à la participation minimale enregistrée : "
                          f"{data.exception}.", "body"))
    return story


FEMININE = ("Réception", "Décision", "Notification", "Dérogation")


def _dates(data: PlanData, width: float) -> list:
    pairs = [(label, long_date(value) or ("non renseignée" if label.startswith(FEMININE)
                                           else "non renseigné"))
             for label, value in data.dates
             if value is not None or not label.startswith("Dérogation")]
    return [heading("Dates et délais"), facts(pairs + list(data.deadlines), width, width * 0.3)]


def _certification(data: PlanData, width: float) -> list:
    if not data.balanced:
        # Nobody certifies a plan that does not balance or cannot be checked.
        return [heading("Certification du maître d'ouvrage"),
                text("À certifier une fois le plan équilibré, coût et montants connus.",
                     "body")]
    return signature_blocks(
        [[place_and_date("", None), f"Pour {with_article(data.owner)}" if data.owner
          else "Le maître d'ouvrage", "(nom, qualité, signature et cachet)"]], width,
        title="Certifié exact par le maître d'ouvrage")


def _owner(data: PlanData) -> str:
    if not data.owner:
        return "non renseigné"
    kind = data.owner_kind if data.owner_kind.isupper() else data.owner_kind.lower()
    if not kind or data.owner.lower().startswith(kind.lower()):
        return data.owner
    return f"{data.owner} ({kind})"


def _body(data: PlanData, width: float) -> Beside:
    """Expenses and checks beside resources and dates; the maître d'ouvrage's
    certification under the shorter of the two columns."""
    def left(w: float) -> list:
        return [*_expenses(data, w), *_findings(data)]

    def right(w: float) -> list:
        return [*_resources(data, w), Spacer(1, 1.5 * mm), *_balance(data), *_dates(data, w)]

    under_left = Beside(lambda w: [*left(w), *_certification(data, w)], right, width,
                        split_at=0.36)
    under_right = Beside(left, lambda w: [*right(w), *_certification(data, w)], width,
                         split_at=0.36)
    return min(under_left, under_right, key=lambda b: b.wrap(width, 1e9)[1])


def plan_pdf(data: PlanData) -> bytes:
    width = body_width(PAGE)
    story: list = [
        text("Plan de financement prévisionnel" if data.provisional else "Plan de financement",
             "title"),
        text(f"{data.reference} — {data.title}", "subtitle"),
        Beside(lambda w: [facts([("Maître d'ouvrage", _owner(data)),
                                 ("Communes", data.communes or "non renseignées")], w, 30 * mm)],
               lambda w: [facts([("Contrat" if data.contracts.count(" — ") <= 1
                                  else "Contrats", data.contracts or "hors contrat"),
                                 ("Statut", data.status)], w, 20 * mm)], width),
        _body(data, width),
    ]
    return build(data.provenance, data.office, f"Plan de financement — {data.reference}",
                 story, PAGE)
