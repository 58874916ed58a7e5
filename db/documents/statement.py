"""The état récapitulatif of a filtered list of operations, as plain data.

When the list is filtered on a financer, a dispositif or an exercice, its amounts
are those of the matching funding lines (the DETR granted, not every financer's),
and the document says so. Abandoned operations, and with such a filter the
operations whose matching requests were all refused, are listed apart and counted
in no total.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from db.database import Database
from db.documents.common import (
    Office,
    Provenance,
    RecordVersion,
    Total,
    add_up,
    commune_list,
    office,
    plain,
    scheme_labels,
    seal,
)
from db.models import (
    Arrondissement,
    Commune,
    Contract,
    ContractType,
    Epci,
    FundingLine,
    Organisation,
)
from db.text import elide, with_article
from db.vocabulary import FundingStatus, OperationStatus

COLUMNS = [("reference", "Référence"), ("title", "Intitulé"), ("owner", "Maître d'ouvrage"),
           ("communes", "Communes"), ("status", "Statut"), ("cost", "Coût"),
           ("granted", "Accordé"), ("paid", "Versé"), ("remaining", "Reste à verser")]
MONEY = ("cost", "granted", "paid", "remaining")


@dataclass
class ListData:
    office: Office
    title: str
    criteria: str
    scope: str | None  # "financements DETR": what the amounts are, when filtered
    columns: list[tuple[str, str]]  # key, label
    rows: list[dict[str, Any]]
    totals: dict[str, Total]
    apart: list[tuple[str, list[dict[str, Any]]]]  # heading, rows counted in no total
    remainders: Decimal  # left on settled operations, out of "reste à verser"
    provenance: Provenance

    @property
    def count(self) -> int:
        return len(self.rows)


def _scope(db: Database, criteria: Any) -> tuple[str, str] | None:
    """What the amounts are when the list is filtered on its funding lines: a sentence
    ("financements DETR de l'exercice 2025") and a short label for the headers."""
    parts, short = [], []
    with db.read() as session:
        if criteria.scheme:
            label = scheme_labels(session).get(criteria.scheme, criteria.scheme)
            parts.append(label)
            short.append(label)
        if criteria.financer:
            name = session.scalar(select(Organisation.name)
                                  .where(Organisation.id == criteria.financer))
            parts.append(elide("de", with_article(name)) if name else "du financeur choisi")
            short.append(name or "financeur")
    if criteria.year:
        parts.append(f"de l'exercice {criteria.year}")
        short.append(str(criteria.year))
    if not parts:
        return None
    return "financements " + " ".join(parts), " ".join(short)


def describe(db: Database, criteria: Any) -> str:
    """The criteria in words, each as « Label : value » with names, never bare codes
    ("Dispositif : DETR ; Commune : Maubeuge (59392)"): for the CLI's documents."""
    words = []
    with db.read() as session:
        if criteria.arrondissement:
            name = session.scalar(select(Arrondissement.name)
                                  .where(Arrondissement.code == criteria.arrondissement))
            words.append(f"Arrondissement : {name} ({criteria.arrondissement})" if name
                         else f"Arrondissement : {criteria.arrondissement} (inconnu)")
        if criteria.contract_type:
            label = session.scalar(select(ContractType.label)
                                   .where(ContractType.code == criteria.contract_type))
            words.append(f"Type de contrat : {label}" if label
                         else f"Type de contrat : {criteria.contract_type} (inconnu)")
        if criteria.contract:
            contract = session.get(Contract, criteria.contract)
            words.append(f"Contrat : {contract.reference}" if contract
                         else "Contrat : inconnu")
        if criteria.status:
            try:
                words.append(f"Statut : {OperationStatus(criteria.status).label.lower()}")
            except ValueError:
                words.append(f"Statut : {criteria.status} (inconnu)")
        if criteria.commune:
            commune = session.get(Commune, criteria.commune)
            words.append(f"Commune : {commune.name} ({commune.code})" if commune
                         else f"Commune : {criteria.commune} (inconnue)")
        if criteria.epci:
            epci = session.get(Epci, criteria.epci)
            words.append(f"EPCI : {epci.name} ({epci.code})" if epci
                         else f"EPCI : {criteria.epci} (inconnu)")
        if criteria.financer:
            name = session.scalar(select(Organisation.name)
                                  .where(Organisation.id == criteria.financer))
            words.append(f"Financeur : {name or 'inconnu'}")
        if criteria.scheme:
            label = scheme_labels(session).get(criteria.scheme)
            words.append(f"Dispositif : {label}" if label
                         else f"Dispositif : {criteria.scheme} (inconnu)")
        if criteria.year:
            words.append(f"Exercice : {criteria.year}")
        if criteria.search:
            words.append(f"Recherche : « {criteria.search} »")
    return " ; ".join(words) or "toutes les opérations"


def unknown_filters(db: Database, criteria: Any) -> list[str]:
    """The filters whose value names nothing in the base, in French: an état filtered on
    a mistyped code would print empty without saying why."""
    unknown = []
    with db.read() as session:
        for value, model, what in ((criteria.arrondissement, Arrondissement,
                                    "Arrondissement inconnu"),
                                   (criteria.commune, Commune, "Commune inconnue (code INSEE)"),
                                   (criteria.epci, Epci, "EPCI inconnu (SIREN)")):
            if value and session.get(model, value) is None:
                unknown.append(f"{what} : « {value} ».")
        if criteria.contract_type and session.scalar(
                select(ContractType.id).where(ContractType.code == criteria.contract_type)) \
                is None:
            codes = ", ".join(session.scalars(select(ContractType.code)
                                              .order_by(ContractType.code)))
            unknown.append(f"Type de contrat inconnu : « {criteria.contract_type} » "
                           f"(types : {codes}).")
        if criteria.scheme:
            labels = scheme_labels(session)
            if criteria.scheme not in labels:
                unknown.append(f"Dispositif inconnu : « {criteria.scheme} » (dispositifs : "
                               f"{', '.join(sorted(labels))}).")
    if criteria.status and criteria.status not in {s.value for s in OperationStatus}:
        unknown.append(f"Statut inconnu : « {criteria.status} ».")
    return unknown


def _line_amounts(db: Database, ids: list[uuid.UUID], criteria: Any) -> dict[uuid.UUID, dict]:
    """Granted, paid and remaining of each operation's lines matching the criteria (the
    list's own conditions on funding lines, and its exercice)."""
    from db.lists import line_conditions

    conditions = line_conditions(criteria)
    if criteria.year:
        conditions.append(FundingLine.budget_year == criteria.year)
    result: dict[uuid.UUID, dict] = {}
    with db.read() as session:
        for start in range(0, len(ids), 900):
            query = (select(FundingLine.operation_id, FundingLine.status,
                            FundingLine.amount_granted, FundingLine.paid_total)
                     .where(FundingLine.operation_id.in_(ids[start:start + 900]), *conditions))
            for operation_id, status, granted, paid in session.execute(query):
                entry = result.setdefault(operation_id, {
                    "granted": Total(), "paid": Total(), "remaining": Total(),
                    "lines": 0, "refused": 0})
                entry["lines"] += 1
                entry["paid"] = entry["paid"].plus(paid)
                if status == FundingStatus.GRANTED.value:
                    entry["granted"] = entry["granted"].plus(granted)
                    entry["remaining"] = entry["remaining"].plus(
                        None if granted is None else granted - paid)
                elif status == FundingStatus.REFUSED.value:
                    entry["refused"] += 1
    return result


def operations_list(db: Database, criteria: Any, description: str | None = None) -> ListData:
    """*criteria* is a :class:`db.lists.Criteria`; it is kept in the provenance so that
    the list can be made again for verification."""
    from db.lists import OPERATIONS

    description = description or describe(db, criteria)
    listed = OPERATIONS.page(db, criteria, limit=None)
    amounts = _line_amounts(db, [row["id"] for row in listed], criteria)
    filtered = bool(criteria.financer or criteria.scheme or criteria.year)
    scope = _scope(db, criteria)
    columns = [(key, f"{label} ({scope[1]})" if scope and key in ("granted", "paid",
                                                                    "remaining") else label)
               for key, label in COLUMNS]
    rows, abandoned, refused = [], [], []
    for row in listed:
        lines = amounts.get(row["id"], {"granted": Total(), "paid": Total(),
                                        "remaining": Total(), "lines": 0, "refused": 0})
        shown = {
            "id": row["id"], "version": row["version"], "reference": row["reference"],
            "title": row["title"], "owner": row["owner"] or "",
            "communes": commune_list((row["communes"] or "").split(", ")
                                     if row["communes"] else []),
            "status": OperationStatus(row["status"]).label, "cost": row["cost"],
            "granted": lines["granted"], "paid": lines["paid"].value,
            # A settled operation's remainder is to be cancelled, not paid.
            "remaining": (Total() if row["status"] == OperationStatus.SETTLED.value
                          else lines["remaining"]),
            "remainder": (lines["remaining"].value
                          if row["status"] == OperationStatus.SETTLED.value else None)}
        if row["status"] == OperationStatus.ABANDONED.value:
            abandoned.append(shown)
        elif filtered and lines["lines"] and lines["refused"] == lines["lines"]:
            refused.append(shown)
        else:
            rows.append(shown)
    totals = {
        "cost": add_up(r["cost"] for r in rows),
        "granted": sum((r["granted"] for r in rows), Total()),
        "paid": Total(sum((r["paid"] for r in rows), Decimal("0.00"))),
        "remaining": sum((r["remaining"] for r in rows), Total()),
    }
    remainders = sum((r["remainder"] for r in rows if r["remainder"]), Decimal("0.00"))
    apart = [(heading, group) for heading, group in (
        ("Demandes refusées (hors totaux)", refused),
        ("Opérations abandonnées (hors totaux)", abandoned)) if group]
    document = ListData(
        office=office(db), title="État récapitulatif des opérations", criteria=description,
        scope=scope[0] if scope else None, columns=columns, rows=rows,
        totals=totals, apart=apart, remainders=remainders,
        provenance=Provenance("etat", json.dumps(
            {"criteria": plain(criteria), "description": description}, ensure_ascii=False), [
            RecordVersion("operation", str(row["id"]), row["version"]) for row in listed]))
    return seal(document)

