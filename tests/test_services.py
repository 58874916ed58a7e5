"""Write services on SQLite and PostgreSQL: one transaction each, checked, audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from db.errors import ConflictError, DeleteRefused, InvalidInput, RuleViolation
from db.models import (
    AuditEntry,
    Contract,
    FundingLine,
    Operation,
    OperationLink,
    Organisation,
    Payment,
)
from db.services.contracts import (
    AmendmentData,
    AxisData,
    ContractData,
    MeetingData,
    SignatoryData,
    delete_contract,
    save_contract,
)
from db.services.operations import (
    FundingLineData,
    LinkData,
    OperationData,
    PaymentData,
    add_funding_line,
    add_payment,
    delete_funding_line,
    delete_operation,
    delete_payment,
    load_operation_data,
    save_operation,
    update_funding_line,
)
from db.services.organisations import OrganisationData, delete_organisation, save_organisation
from db.vocabulary import (
    ContractStatus,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    PaymentKind,
)


@pytest.fixture
def actors(db):
    state = save_organisation(db, OrganisationData("État", OrganisationKind.STATE)).id
    commune = save_organisation(db, OrganisationData(
        "Commune d'Assevent", OrganisationKind.COMMUNE, commune_code="59021")).id
    departement = save_organisation(db, OrganisationData(
        "Département du Nord", OrganisationKind.DEPARTEMENT)).id
    return {"state": state, "commune": commune, "departement": departement}


def new_contract(actors, **kw) -> ContractData:
    values = dict(reference="CRTE-591", title="CRTE de Sambre-Avesnois", type_code="CRTE",
                  status=ContractStatus.SIGNED, signature_date=date(2022, 6, 30),
                  start_date=date(2022, 6, 30), end_date=date(2026, 12, 31),
                  commune_codes=["59021"], epci_codes=["200043396"],
                  axes=[AxisData("Transition écologique", "1"), AxisData("Cohésion", "2")],
                  signatories=[SignatoryData(actors["state"], "le sous-préfet",
                                             date(2022, 6, 30))])
    values.update(kw)
    return ContractData(**values)


def new_operation(actors, **kw) -> OperationData:
    values = dict(
        reference="OP-2025-001", title="Rénovation de l'école", owner_id=actors["commune"],
        status=OperationStatus.PROGRAMMED, cost_ht=D("100000.00"), cost_ttc=D("120000.00"),
        commune_codes=["59021"], deposit_date=date(2025, 1, 10),
        decision_date=date(2025, 4, 1), notification_date=date(2025, 4, 8),
        start_date=date(2025, 4, 28),
        funding_lines=[
            FundingLineData(actors["state"], "DETR", D("30000.00"), D("30000.00"),
                            FundingStatus.GRANTED, "Arrêté 2025-1", date(2025, 4, 1)),
            FundingLineData(actors["departement"], "DEPARTEMENT", D("20000.00"))])
    values.update(kw)
    return OperationData(**values)


def count(db, model, *where):
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_contract_with_children_is_saved_and_audited(db, actors):
    result = save_contract(db, new_contract(
        actors, amendments=[AmendmentData(1, "Programmation 2025", date(2025, 2, 1),
                                          D("1500000.00"))],
        meetings=[MeetingData(date(2025, 3, 20), "comité de pilotage", "Validation")]))
    assert result.version == 1
    with db.read() as session:
        contract = session.get(Contract, result.id)
        assert [a.label for a in contract.axes] == ["Transition écologique", "Cohésion"]
        assert contract.signatories[0].organisation_id == actors["state"]
        assert contract.amendments[0].envelope_change == D("1500000.00")
        assert [c.code for c in contract.communes] == ["59021"]
        assert contract.created_by and contract.updated_by
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "contract", AuditEntry.entity_id == str(result.id))).all()
    assert [e.action for e in entries] == ["insert"]
    assert entries[0].changes["title"] == "CRTE de Sambre-Avesnois"
    assert entries[0].changes["communes"] == ["59021"]
    assert count(db, AuditEntry, AuditEntry.entity == "axis") == 2


def test_update_records_old_and_new_values_and_moves_the_version(db, actors):
    first = save_contract(db, new_contract(actors))
    data = new_contract(actors, id=first.id, version=first.version, title="CRTE modifié")
    with db.read() as session:
        data.axes = [AxisData(a.label, a.number, a.id) for a in
                     session.get(Contract, first.id).axes][::-1]
    second = save_contract(db, data)
    assert second.version == first.version + 1
    with db.read() as session:
        update = session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "contract", AuditEntry.action == "update")).one()
        assert update.changes["title"] == ["CRTE de Sambre-Avesnois", "CRTE modifié"]
        assert [a.label for a in session.get(Contract, first.id).axes] == [
            "Cohésion", "Transition écologique"]


def test_stale_version_raises_a_conflict_and_changes_nothing(db, second_session, actors):
    created = save_contract(db, new_contract(actors))
    save_contract(second_session, new_contract(actors, id=created.id, version=created.version,
                                               title="Version de l'autre agent"))
    with pytest.raises(ConflictError) as conflict:
        save_contract(db, new_contract(actors, id=created.id, version=created.version,
                                       title="Ma version"))
    assert "modifiée par" in conflict.value.message
    assert conflict.value.current_version == created.version + 1
    with db.read() as session:
        assert session.get(Contract, created.id).title == "Version de l'autre agent"


def test_operation_with_plan_links_and_payments(db, actors):
    contract = save_contract(db, new_contract(actors))
    with db.read() as session:
        axis_id = session.get(Contract, contract.id).axes[1].id
    data = new_operation(actors, links=[LinkData(contract.id, axis_id)])
    data.funding_lines[0].payments = [
        PaymentData(PaymentKind.ADVANCE, date(2025, 5, 2), D("9000.00"), "Mandat 1"),
        PaymentData(PaymentKind.INSTALMENT, date(2025, 9, 2), D("12000.00"), "Mandat 2")]
    result = save_operation(db, data)
    with db.read() as session:
        operation = session.get(Operation, result.id)
        loaded = load_operation_data(session, operation)
    assert loaded.links == [LinkData(contract.id, axis_id)]
    assert [p.amount for p in loaded.funding_lines[0].payments] == [D("9000.00"), D("12000.00")]
    assert loaded.cost_ht == D("100000.00")
    assert count(db, Payment) == 2
    assert count(db, AuditEntry, AuditEntry.entity == "payment") == 2


def test_committed_operation_breaking_a_rule_is_refused_and_nothing_is_saved(db, actors):
    data = new_operation(actors)
    data.funding_lines[1].amount_requested = D("60000.00")  # own share 10 % < 20 %
    with pytest.raises(RuleViolation) as refused:
        save_operation(db, data)
    assert "L1111-10" in refused.value.message
    assert count(db, Operation) == 0
    assert count(db, FundingLine) == 0
    assert count(db, AuditEntry, AuditEntry.entity == "operation") == 0


def test_draft_operation_may_break_a_rule_and_gets_the_findings(db, actors):
    data = new_operation(actors, status=OperationStatus.PROJECT)
    data.funding_lines[1].amount_requested = D("60000.00")
    result = save_operation(db, data)
    assert [f.code for f in result.findings] == ["own_share.minimum"]
    assert count(db, Operation) == 1


def test_payment_above_granted_is_refused_even_on_a_draft(db, actors):
    result = save_operation(db, new_operation(actors, status=OperationStatus.PROJECT))
    with db.read() as session:
        line_id = session.scalars(select(FundingLine.id).where(
            FundingLine.scheme_code == "DETR")).one()
    with pytest.raises(RuleViolation, match="supérieurs au montant accordé"):
        add_payment(db, result.id, result.version, line_id,
                    PaymentData(PaymentKind.ADVANCE, date(2025, 5, 1), D("30000.01")))
    assert count(db, Payment) == 0
    ok = add_payment(db, result.id, result.version, line_id,
                     PaymentData(PaymentKind.ADVANCE, date(2025, 5, 1), D("9000.00")))
    assert ok.version == result.version + 1


def test_partial_writes_check_the_whole_plan_and_move_the_operation_version(db, actors):
    result = save_operation(db, new_operation(actors))
    added = add_funding_line(db, result.id, result.version, FundingLineData(
        actors["departement"], "FONDS_VERT", D("10000.00")))
    with db.read() as session:
        lines = session.scalars(select(FundingLine).order_by(FundingLine.position)).all()
        line = FundingLineData(lines[2].financer_id, "FONDS_VERT", D("30000.01"),
                               id=lines[2].id)
    with pytest.raises(RuleViolation):  # own share 19 999,99 < 20 % of 100 000
        update_funding_line(db, result.id, added.version, line)
    line.amount_requested = D("25000.00")
    updated = update_funding_line(db, result.id, added.version, line)
    removed = delete_funding_line(db, result.id, updated.version, line.id)
    assert removed.version == updated.version + 1
    assert count(db, FundingLine) == 2
    with pytest.raises(ConflictError):
        add_funding_line(db, result.id, result.version, FundingLineData(None, "FEDER", D("1")))


def test_delete_refused_when_it_would_orphan_data(db, actors):
    contract = save_contract(db, new_contract(actors))
    data = new_operation(actors, links=[LinkData(contract.id)])
    data.funding_lines[0].payments = [PaymentData(PaymentKind.ADVANCE, date(2025, 5, 2),
                                                  D("9000.00"))]
    operation = save_operation(db, data)
    with pytest.raises(DeleteRefused, match="1 opération"):
        delete_contract(db, contract.id, contract.version)
    with pytest.raises(DeleteRefused, match="versement"):
        delete_operation(db, operation.id, operation.version)
    with pytest.raises(DeleteRefused, match="maître d'ouvrage"):
        with db.read() as session:
            version = session.get(Organisation, actors["commune"]).version
        delete_organisation(db, actors["commune"], version)
    with db.read() as session:
        line = session.scalars(select(FundingLine).where(FundingLine.scheme_code == "DETR")).one()
        payment_id = line.payments[0].id
    with pytest.raises(DeleteRefused, match="versement"):
        delete_funding_line(db, operation.id, operation.version, line.id)
    after = delete_payment(db, operation.id, operation.version, line.id, payment_id)
    delete_operation(db, operation.id, after.version)
    delete_contract(db, contract.id, contract.version)
    assert count(db, Operation) == 0 and count(db, Contract) == 0
    assert count(db, OperationLink) == 0
    deletions = count(db, AuditEntry, AuditEntry.action == "delete")
    assert deletions >= 5  # payment, lines, operation, contract and its children


def test_deleting_an_axis_in_use_is_refused(db, actors):
    contract = save_contract(db, new_contract(actors))
    with db.read() as session:
        axes = session.get(Contract, contract.id).axes
        kept, used = AxisData(axes[0].label, axes[0].number, axes[0].id), axes[1].id
    save_operation(db, new_operation(actors, links=[LinkData(contract.id, used)]))
    with pytest.raises(DeleteRefused, match="Cohésion"):
        save_contract(db, new_contract(actors, id=contract.id, version=contract.version,
                                       axes=[kept]))


def test_bad_input_names_the_field(db, actors):
    with pytest.raises(InvalidInput, match="Intitulé du contrat"):
        save_contract(db, new_contract(actors, title="  "))
    with pytest.raises(InvalidInput, match="inconnue.*99999"):
        save_contract(db, new_contract(actors, commune_codes=["99999"]))
    with pytest.raises(InvalidInput, match="Coût HT"):
        save_operation(db, new_operation(actors, cost_ht=0.1))
    save_contract(db, new_contract(actors))
    with pytest.raises(InvalidInput, match="déjà utilisée"):
        save_contract(db, new_contract(actors))
    assert count(db, Contract) == 1


def test_children_are_audited_with_their_parent_even_when_removed_from_a_list(db, actors):
    """A payment dropped from the plan is deleted as an orphan during the flush: its
    deletion must still be in the audit trail, and every child entry must say which
    record it belongs to, so that « verify » can name the operation."""
    data = new_operation(actors)
    data.funding_lines[0].payments = [
        PaymentData(PaymentKind.ADVANCE, date(2025, 5, 2), D("9000.00"), "Mandat 1"),
        PaymentData(PaymentKind.INSTALMENT, date(2025, 9, 2), D("12000.00"), "Mandat 2")]
    result = save_operation(db, data)
    with db.read() as session:
        operation = session.get(Operation, result.id)
        loaded = load_operation_data(session, operation)
        line_id = operation.funding_lines[0].id
        inserts = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "insert",
            AuditEntry.entity.in_(("funding_line", "payment")))).all()
    assert {e.entity for e in inserts} == {"funding_line", "payment"}
    for entry in inserts:
        if entry.entity == "funding_line":
            assert entry.changes["operation_id"] == str(result.id)
        else:
            assert entry.changes["funding_line_id"] == str(line_id)
    dropped = loaded.funding_lines[0].payments.pop()
    loaded.version = result.version
    save_operation(db, loaded)
    assert count(db, Payment) == 1
    with db.read() as session:
        deleted = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "delete", AuditEntry.entity == "payment")).all()
    assert [e.entity_id for e in deleted] == [str(dropped.id)]
    assert deleted[0].changes["funding_line_id"] == str(line_id)
    assert deleted[0].changes["amount"] == "12000.00"
