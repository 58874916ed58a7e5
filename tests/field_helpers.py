"""A small office base built through the services, and edits made the way the editors
make them, for the field-copy tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from db.database import Database, open_database
from db.editing import contract_for_edit, operation_for_edit, organisation_for_edit
from db.services.contracts import AxisData, ContractData, save_contract
from db.services.operations import (
    FundingLineData,
    LinkData,
    OperationData,
    PaymentData,
    save_operation,
)
from db.services.organisations import OrganisationData, save_organisation
from db.vocabulary import FundingStatus, OrganisationKind, PaymentKind

ARRONDISSEMENT = "591"  # Avesnes-sur-Helpe
MAUBEUGE, FOURMIES, HAUTMONT = "59392", "59249", "59291"


@dataclass
class Office:
    db: Database
    state: uuid.UUID
    region: uuid.UUID
    maubeuge: uuid.UUID
    fourmies: uuid.UUID
    contract: uuid.UUID
    operations: list[uuid.UUID]


def organisation(db: Database, name: str, kind: OrganisationKind, **values) -> uuid.UUID:
    return save_organisation(db, OrganisationData(name=name, kind=kind, **values)).id


def build_office(db: Database, operations: int = 3) -> Office:
    state = organisation(db, "État", OrganisationKind.STATE)
    region = organisation(db, "Région Hauts-de-France", OrganisationKind.REGION,
                          region_code="32")
    maubeuge = organisation(db, "Commune de Maubeuge", OrganisationKind.COMMUNE,
                            commune_code=MAUBEUGE)
    fourmies = organisation(db, "Commune de Fourmies", OrganisationKind.COMMUNE,
                            commune_code=FOURMIES)
    contract = save_contract(db, ContractData(
        reference="CRTE-SAMBRE", title="CRTE Sambre-Avesnois", type_code="CRTE",
        arrondissement_code=ARRONDISSEMENT, signature_date=date(2022, 3, 1),
        axes=[AxisData("Transition écologique", "1"), AxisData("Cohésion", "2")])).id
    ids = []
    for index in range(operations):
        ids.append(save_operation(db, OperationData(
            reference=f"OP-{index + 1}", title=f"Rénovation de l'école {index + 1}",
            owner_id=maubeuge if index % 2 == 0 else fourmies,
            cost_ht=Decimal("100000.00"), start_date=date(2025, 4, 1),
            commune_codes=[MAUBEUGE if index % 2 == 0 else FOURMIES],
            links=[LinkData(contract)],
            funding_lines=[
                FundingLineData(state, "DETR", amount_requested=Decimal("30000.00"),
                                decision_reference="ARR-1"),
                FundingLineData(region, None, amount_requested=Decimal("20000.00"),
                                amount_granted=Decimal("20000.00"),
                                status=FundingStatus.GRANTED,
                                payments=[PaymentData(PaymentKind.INSTALMENT, date(2025, 5, 2),
                                                      Decimal("5000.00"))])])).id)
    return Office(db, state, region, maubeuge, fourmies, contract, ids)


def reopen(db: Database) -> Database:
    return open_database(db.target.path if db.is_sqlite
                         else db.target.url.render_as_string(hide_password=False))


def edit_operation(db: Database, operation_id: uuid.UUID, change) -> None:
    data = operation_for_edit(db, operation_id)
    change(data)
    save_operation(db, data)


def edit_contract(db: Database, contract_id: uuid.UUID, change) -> None:
    data = contract_for_edit(db, contract_id)
    change(data)
    save_contract(db, data)


def edit_organisation(db: Database, organisation_id: uuid.UUID, change) -> None:
    data = organisation_for_edit(db, organisation_id)
    change(data)
    save_organisation(db, data)


def copy_path(tmp_path: Path, name: str = "terrain.sqlite") -> Path:
    return tmp_path / name
