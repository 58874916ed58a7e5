"""A small world of DETR/DSIL funding lines around the arrondissement 591, for the
envelope and simulation tests (amounts chosen so that each line counts or not for a
known reason)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from db.services.contracts import ContractData, save_contract
from db.services.operations import (
    FundingLineData,
    LinkData,
    OperationData,
    PaymentData,
    save_operation,
)
from db.services.organisations import OrganisationData, save_organisation
from db.vocabulary import (
    ContractStatus,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    PaymentKind,
)


def line(state, scheme, requested, granted=None, status=FundingStatus.REQUESTED, year=2025,
         payments=()):
    return FundingLineData(state, scheme, D(requested), D(granted) if granted else None,
                           status, None, date(2025, 4, 1) if granted else None,
                           budget_year=year,
                           payments=[PaymentData(PaymentKind.ADVANCE, date(2025, 6, 1), D(p))
                                     for p in payments])


def build_world(db) -> dict:
    state = save_organisation(db, OrganisationData("État", OrganisationKind.STATE)).id
    owner = save_organisation(db, OrganisationData(
        "Commune d'Anor", OrganisationKind.COMMUNE, commune_code="59012")).id
    contract = save_contract(db, ContractData(
        reference="CRTE-591", title="CRTE de Sambre-Avesnois", type_code="CRTE",
        status=ContractStatus.SIGNED, signature_date=date(2022, 6, 30),
        start_date=date(2022, 6, 30), end_date=date(2026, 12, 31),
        arrondissement_code="591")).id
    granted = FundingStatus.GRANTED
    specs = [
        # reference, communes, lines, link to the 591 contract
        ("A", ["59012"], [line(state, "DETR", "50000.00", "40000.00", granted,
                               payments=["10000.00"])], False),
        ("B", ["59003"], [line(state, "DETR", "30000.00")], False),
        ("C", ["59006"], [line(state, "DETR", "20000.00", None, FundingStatus.REFUSED)],
         False),
        ("D", ["59001"], [line(state, "DETR", "25000.00", "25000.00", granted)], False),
        ("E", ["59012"], [line(state, "DETR", "70000.00", "70000.00", granted, 2024)], False),
        ("F", ["59012"], [line(state, "DSIL", "15000.00", "15000.00", granted)], False),
        ("G", ["62004"], [line(state, "DETR", "99000.00", "99000.00", granted)], False),
        ("H", [], [line(state, "DETR", "12000.00", "12000.00", granted)], True),
        ("I", ["59003", "59006"], [line(state, "DETR", "5000.00", "5000.00", granted)],
         True),
        ("J", ["59012"], [line(state, "DETR", "8000.00"), line(state, "DSIL", "9000.00")],
         False),
    ]
    ids = {}
    for key, communes, lines, linked in specs:
        ids[key] = save_operation(db, OperationData(
            reference=f"OP-2025-{key}", title=f"Opération {key} d'essai", owner_id=owner,
            status=OperationStatus.FILED, cost_ht=D("400000.00"), cost_ttc=D("480000.00"),
            eligible_cost=D("360000.00"), commune_codes=communes, funding_lines=lines,
            links=[LinkData(contract)] if linked else [])).id
    return {"state": state, "owner": owner, "contract": contract, "operations": ids}
