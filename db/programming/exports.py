"""Exports of a simulation for the DETR commission: the programmation by priority
category with rates and totals, the other dossiers, and the dossiers whose subsidy is
above 100 000 € (CGCT art. L2334-37: the commission « est saisie pour avis des projets
dont la subvention porte sur un montant supérieur à 100 000 euros »), as a workbook
(xlsx) and a PDF."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from db.database import Database
from db.formatting import euros, long_date, number, percent
from db.money import ZERO
from db.programming.simulations import (
    RETAINED,
    STATUS_LABELS,
    SimulationRow,
    load_simulation,
    totals_of,
)

COMMISSION_THRESHOLD = Decimal("100000.00")
NO_CATEGORY = "Sans catégorie prioritaire"


def subsidy(row: SimulationRow) -> Decimal | None:
    """The subsidy a dossier is about: the amount proposed, else the amount requested."""
    return row.proposed if row.proposed is not None else row.requested


def needs_opinion(row: SimulationRow) -> bool:
    """Strictly above 100 000 €: 100 000,00 € is not, 100 000,01 € is."""
    amount = subsidy(row)
    return amount is not None and amount > COMMISSION_THRESHOLD


@dataclass
class CategoryGroup:
    label: str
    rows: list[SimulationRow] = field(default_factory=list)

    @property
    def requested(self) -> Decimal:
        return sum((r.requested or ZERO for r in self.rows), ZERO)

    @property
    def proposed(self) -> Decimal:
        return sum((r.proposed or ZERO for r in self.rows), ZERO)

    @property
    def base(self) -> Decimal:
        return sum((r.base or ZERO for r in self.rows), ZERO)


@dataclass
class CommissionData:
    title: str
    envelope_title: str
    simulation: str
    decision_date: date | None
    envelope_amount: Decimal
    programmed_outside: Decimal
    groups: list[CategoryGroup]
    others: list[SimulationRow]
    above_threshold: list[SimulationRow]
    category_labels: dict[uuid.UUID, str]
    totals: Any

    @property
    def retained(self) -> list[SimulationRow]:
        return [r for g in self.groups for r in g.rows]


def commission_data(db: Database, simulation_id: uuid.UUID) -> CommissionData:
    view = load_simulation(db, simulation_id)
    labels = {c.id: c.label for c in view.categories}
    order = {c.id: i for i, c in enumerate(view.categories)}
    groups: dict[uuid.UUID | None, CategoryGroup] = {}
    others = []
    for row in view.rows:
        if row.status == RETAINED:
            key = row.category_id if row.category_id in labels else None
            groups.setdefault(key, CategoryGroup(labels.get(key, NO_CATEGORY))).rows.append(row)
        else:
            others.append(row)
    ordered = sorted(groups.items(), key=lambda kv: order.get(kv[0], len(order)))
    return CommissionData(
        title=f"Programmation {view.envelope_title}", envelope_title=view.envelope_title,
        simulation=view.name, decision_date=view.decision_date,
        envelope_amount=view.envelope_amount, programmed_outside=view.programmed_outside,
        groups=[g for _k, g in ordered], others=others,
        above_threshold=[r for r in view.rows if needs_opinion(r) and r.status != "refuse"],
        category_labels=labels, totals=totals_of(view))


# --- Workbook ----------------------------------------------------------------------------

def _sheet_rows(rows: list[SimulationRow], labels: dict, category: str | None = None
                ) -> list[dict]:
    return [{"category": category if category is not None else labels.get(r.category_id, ""),
             "reference": r.reference, "title": r.title, "owner": r.owner, "base": r.base,
             "requested": r.requested, "proposed": r.proposed,
             "rate": float(r.rate) if r.rate is not None else None,  # a cell's ratio only
             "status": STATUS_LABELS[r.status], "opinion": r.opinion or ""} for r in rows]


def export_xlsx(db: Database, simulation_id: uuid.UUID, path: Path,
                long_texts: str = "refuse") -> Path:
    """The commission's workbook. A text over a cell's limit (an opinion of the commission
    can be of any length) is refused or split (db.spreadsheets.export.check_long_texts)
    in every sheet before anything is written."""
    import pandas as pd

    from db.spreadsheets.export import (
        EURO_FORMAT,
        ExportColumn,
        LongTextsRefused,
        check_long_texts,
        find_long_texts,
        neutralise,
    )

    data = commission_data(db, simulation_id)
    columns = [ExportColumn("category", "Catégorie prioritaire", width=34),
               ExportColumn("reference", "Référence", width=22),
               ExportColumn("title", "Opération", width=48),
               ExportColumn("owner", "Maître d'ouvrage", width=30),
               ExportColumn("base", "Dépense subventionnable", "money", 18),
               ExportColumn("requested", "Demandé", "money", 16),
               ExportColumn("proposed", "Proposé", "money", 16),
               ExportColumn("rate", "Taux", "rate", 9),
               ExportColumn("status", "Statut provisoire", width=16),
               ExportColumn("opinion", "Avis de la commission", width=40)]
    programmation = []
    for group in data.groups:
        programmation += _sheet_rows(group.rows, data.category_labels, group.label)
        programmation.append({"category": f"Sous-total — {group.label}",
                              "base": group.base, "requested": group.requested,
                              "proposed": group.proposed,
                              "rate": float(group.proposed / group.base) if group.base
                              else None})
    retained = data.retained
    base = sum((r.base or ZERO for r in retained), ZERO)
    proposed = sum((r.proposed or ZERO for r in retained), ZERO)
    programmation.append({"category": f"Total de la programmation ({len(retained)} dossiers)",
                          "base": base, "requested": sum((r.requested or ZERO
                                                          for r in retained), ZERO),
                          "proposed": proposed,
                          "rate": float(proposed / base) if base else None})
    sheets = [("Programmation", programmation),
              ("Autres dossiers", _sheet_rows(data.others, data.category_labels)),
              ("Avis de la commission", _sheet_rows(data.above_threshold,
                                                    data.category_labels))]

    def cell(value: Any, kind: str) -> Any:
        if value is None:
            return None
        if kind == "money":
            return float(value)  # an xlsx number: exact to the cent at this size
        return value if kind == "rate" else neutralise(value)

    labels = [c.label for c in columns]
    tables = [(name, [[cell(r.get(c.key), c.kind) for c in columns] for r in rows])
              for name, rows in sheets]
    if long_texts == "refuse":  # every sheet's long texts listed at once
        found = [f for name, body in tables for f in find_long_texts(labels, body, name, 4, 1)]
        if found:
            raise LongTextsRefused(found, path)
    with pd.ExcelWriter(path, engine="xlsxwriter",
                        engine_kwargs={"options": {"strings_to_formulas": False,
                                                   "strings_to_urls": False}}) as writer:
        book = writer.book
        money = book.add_format({"num_format": EURO_FORMAT})
        rate = book.add_format({"num_format": "0.00 %"})
        bold = book.add_format({"bold": True})
        for name, body in tables:
            shown, body = check_long_texts(labels, body, name, long_texts, path, 4, 1)
            frame = pd.DataFrame(body, columns=shown)
            frame.to_excel(writer, sheet_name=name, index=False, startrow=2)
            sheet = writer.sheets[name]
            sheet.write(0, 0, f"{data.title} — simulation « {data.simulation} »", bold)
            sheet.write(1, 0, _summary(data))
            by_label = {c.label: c for c in columns}
            for index, label in enumerate(shown):
                column = by_label.get(label)  # None: a continuation column (a text)
                sheet.set_column(index, index, column.width if column else 40,
                                 {"money": money, "rate": rate}.get(column.kind)
                                 if column else None)
            sheet.freeze_panes(3, 0)
    return path


def _summary(data: CommissionData) -> str:
    totals = data.totals
    rest = (f"reste à attribuer {euros(totals.remaining)}" if totals.remaining >= 0
            else f"dépassement de l'enveloppe de {euros(-totals.remaining)}")
    return (f"Enveloppe notifiée {euros(data.envelope_amount)} ; programmé "
            f"{euros(totals.programmed)} ; {rest}"
            + (f" ; décision du {long_date(data.decision_date)}" if data.decision_date else ""))


# --- PDF ---------------------------------------------------------------------------------

def export_pdf(db: Database, simulation_id: uuid.UUID, path: Path) -> Path:
    path.write_bytes(commission_pdf(db, simulation_id))
    return path


def commission_pdf(db: Database, simulation_id: uuid.UUID) -> bytes:
    return commission_printout(db, simulation_id)[0]


def commission_printout(db: Database, simulation_id: uuid.UUID) -> tuple[bytes, str]:
    """The commission's PDF and its fingerprint (printed at its foot; the print preview
    shows it)."""
    from reportlab.lib.pagesizes import A4, landscape

    from db.documents.common import Provenance, RecordVersion, office
    from printouts.layout import Column, GridTable, Row
    from printouts.pdf import body_width, build, keep_heading, notes, text

    data = commission_data(db, simulation_id)
    page = landscape(A4)
    width = body_width(page)
    columns = [Column("Référence", weight=1.2), Column("Opération", weight=2.6),
               Column("Maître d'ouvrage", weight=1.5),
               Column("Dépense subventionnable", numeric=True),
               Column("Demandé", numeric=True), Column("Proposé", numeric=True),
               Column("Taux", numeric=True), Column("Avis de la commission", weight=1.6)]

    def body(row: SimulationRow) -> Row:
        return Row([row.reference, row.title, row.owner, euros(row.base),
                    euros(row.requested), "" if row.proposed is None else euros(row.proposed),
                    percent(row.rate), row.opinion or ""])

    rows: list[Row] = []
    for group in data.groups:
        rows.append(Row([group.label], kind="group", keep_with_next=True))
        rows += [body(r) for r in group.rows]
        if len(data.groups) > 1:
                rows.append(Row([f"Sous-total ({number(len(group.rows))} dossiers)", "", "",
                             euros(group.base), euros(group.requested),
                             euros(group.proposed),
                             percent(group.proposed / group.base if group.base else None),
                             ""], kind="subtotal"))
    retained = data.retained
    base = sum((r.base or ZERO for r in retained), ZERO)
    proposed = sum((r.proposed or ZERO for r in retained), ZERO)
    rows.append(Row([f"Total de la programmation ({number(len(retained))} dossiers)", "", "",
                     euros(base), euros(sum((r.requested or ZERO for r in retained), ZERO)),
                     euros(proposed), percent(proposed / base if base else None), ""],
                    kind="total"))
    story: list = [text(data.title, "title"),
                   text(f"Simulation « {data.simulation} »" + (
                       f" — décision du {long_date(data.decision_date)}"
                       if data.decision_date else ""), "subtitle"),
                   text(_summary(data) + ".")]
    story += keep_heading("Programmation proposée par catégorie prioritaire")
    story.append(GridTable(columns, rows, width) if retained else
                 text("Aucun dossier retenu dans cette simulation."))
    if data.others:
        story += keep_heading("Dossiers non retenus (refusés, ajournés ou à examiner)")
        other_columns = [*columns[:5], Column("Statut provisoire", whole_words=True),
                         columns[7]]
        story.append(GridTable(other_columns, [
            Row([r.reference, r.title, r.owner, euros(r.base), euros(r.requested),
                 STATUS_LABELS[r.status], r.opinion or ""]) for r in data.others], width))
    story += keep_heading("Dossiers soumis à l'avis de la commission (subvention supérieure "
                          "à 100 000 €)")
    if data.above_threshold:
        story.append(GridTable([*columns[:6], Column("Statut provisoire", whole_words=True),
                                columns[7]], [
            Row([r.reference, r.title, r.owner, euros(r.base), euros(r.requested),
                 "" if r.proposed is None else euros(r.proposed), STATUS_LABELS[r.status],
                 r.opinion or ""]) for r in data.above_threshold], width))
    else:
        story.append(text("Aucun dossier dont la subvention dépasse 100 000 €."))
    story += notes(["CGCT art. L2334-37 : la commission est saisie pour avis des projets dont "
                    "la subvention porte sur un montant supérieur à 100 000 euros (montant "
                    "proposé, à défaut montant demandé ; 100 000,00 € exactement n'y est pas "
                    "soumis).",
                    "Taux : montant proposé rapporté à la dépense subventionnable (à défaut, "
                    "au coût HT de l'opération).",
                    "Simulation : document de travail, les financements ne sont modifiés "
                    "qu'à son application."])
    provenance = Provenance("programmation", f"{data.envelope_title} — {data.simulation}",
                            [RecordVersion("simulation", str(simulation_id), 0)])
    from db.documents.common import fingerprint

    provenance.fingerprint = fingerprint({"provenance": provenance,
                                          "rows": [r.reference for r in retained]})
    return build(provenance, office(db), data.title, story, page), provenance.fingerprint
