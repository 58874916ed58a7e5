"""Field copies: check-out, three-way merge at check-in, conflicts and their resolution,
on an SQLite office and on PostgreSQL.

Every edit goes through the services, as the editors make them; the result is read
back from the office base."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from db.database import open_database
from db.editing import contract_for_edit, operation_for_edit, organisation_for_edit
from db.errors import InvalidInput, UserError
from db.field import CopyRefused, Scope, checkin, checkout, conflicts, resolve
from db.field.status import checked_out, copy_status, outstanding
from db.health import check
from db.models import AuditEntry, FieldConflict, FieldCopy, Operation, Payment
from db.services.operations import FundingLineData, OperationData, PaymentData, save_operation
from db.services.settings import set_setting
from db.vocabulary import OperationStatus, PaymentKind
from tests.field_helpers import (
    ARRONDISSEMENT,
    FOURMIES,
    HAUTMONT,
    MAUBEUGE,
    Office,
    build_office,
    edit_contract,
    edit_operation,
    edit_organisation,
)


@pytest.fixture
def office(db) -> Office:
    return build_office(db)


def take(office: Office, tmp_path, name: str = "terrain.sqlite"):
    path = tmp_path / name
    checkout(office.db, Scope("arrondissement", (ARRONDISSEMENT,)), path, login="agent.terrain")
    return path, open_database(path, create=False)


# --- The three-way matrix: entity x field kind x situation ---------------------------

@dataclass(frozen=True)
class FieldCase:
    name: str
    entity: str
    column: str  # as the conflict names it
    read: Any  # (db, office) -> value
    write: Any  # (db, office, value) -> None
    terrain: Any
    bureau: Any


def _op_field(attribute):
    return (lambda db, o: getattr(operation_for_edit(db, o.operations[0]), attribute),
            lambda db, o, v: edit_operation(db, o.operations[0],
                                            lambda d: setattr(d, attribute, v)))


def _line_field(attribute, line=0):
    def read(db, o):
        return getattr(operation_for_edit(db, o.operations[0]).funding_lines[line], attribute)

    def write(db, o, v):
        edit_operation(db, o.operations[0],
                       lambda d: setattr(d.funding_lines[line], attribute, v))
    return read, write


def _payment_field(attribute):
    def read(db, o):
        return getattr(operation_for_edit(db, o.operations[0]).funding_lines[1].payments[0],
                       attribute)

    def write(db, o, v):
        edit_operation(db, o.operations[0],
                       lambda d: setattr(d.funding_lines[1].payments[0], attribute, v))
    return read, write


def _contract_field(attribute):
    return (lambda db, o: getattr(contract_for_edit(db, o.contract), attribute),
            lambda db, o, v: edit_contract(db, o.contract, lambda d: setattr(d, attribute, v)))


def _axis_label():
    return (lambda db, o: contract_for_edit(db, o.contract).axes[0].label,
            lambda db, o, v: edit_contract(db, o.contract,
                                           lambda d: setattr(d.axes[0], "label", v)))


def _acronym():
    return (lambda db, o: organisation_for_edit(db, o.maubeuge).acronym,
            lambda db, o, v: edit_organisation(db, o.maubeuge,
                                               lambda d: setattr(d, "acronym", v)))


def _owner():
    def read(db, o):
        return operation_for_edit(db, o.operations[0]).owner_id

    def write(db, o, v):
        edit_operation(db, o.operations[0], lambda d: setattr(d, "owner_id", getattr(o, v)))
    return (lambda db, o: {o.fourmies: "fourmies", o.maubeuge: "maubeuge",
                           o.region: "region"}[read(db, o)]), write


FIELDS = [
    FieldCase("texte de l'opération", "operation", "title", *_op_field("title"),
              "École rénovée (terrain)", "École rénovée (bureau)"),
    FieldCase("montant de l'opération", "operation", "cost_ht_cents", *_op_field("cost_ht"),
              Decimal("120000.00"), Decimal("110000.00")),
    FieldCase("date de l'opération", "operation", "start_date", *_op_field("start_date"),
              date(2025, 9, 1), date(2025, 10, 1)),
    FieldCase("statut de l'opération", "operation", "status", *_op_field("status"),
              OperationStatus.FILED, OperationStatus.ABANDONED),
    FieldCase("lien maître d'ouvrage", "operation", "owner_id", *_owner(),
              "fourmies", "region"),
    FieldCase("montant d'une ligne", "funding_line", "amount_requested_cents",
              *_line_field("amount_requested"), Decimal("35000.00"), Decimal("32000.00")),
    FieldCase("texte d'une ligne", "funding_line", "decision_reference",
              *_line_field("decision_reference"), "ARR-terrain", "ARR-bureau"),
    FieldCase("montant d'un versement", "payment", "amount_cents", *_payment_field("amount"),
              Decimal("6000.00"), Decimal("7000.00")),
    FieldCase("date d'un versement", "payment", "payment_date",
              *_payment_field("payment_date"), date(2025, 6, 1), date(2025, 7, 1)),
    FieldCase("texte du contrat", "contract", "title", *_contract_field("title"),
              "CRTE (terrain)", "CRTE (bureau)"),
    FieldCase("date du contrat", "contract", "signature_date",
              *_contract_field("signature_date"), date(2022, 4, 1), date(2022, 5, 1)),
    FieldCase("texte d'un axe", "axis", "label", *_axis_label(), "Axe terrain", "Axe bureau"),
    FieldCase("texte d'une organisation", "organisation", "acronym", *_acronym(),
              "VDM", "MAU"),
]


@pytest.mark.parametrize("case", FIELDS, ids=[case.name for case in FIELDS])
@pytest.mark.parametrize("situation", ["terrain seul", "bureau seul", "même valeur",
                                       "différent, terrain gardé", "différent, bureau gardé"])
def test_three_way_matrix(db, tmp_path, case, situation):
    office = build_office(db)
    base_value = case.read(db, office)
    path, copy = take(office, tmp_path)
    if situation in ("terrain seul", "même valeur") or situation.startswith("différent"):
        case.write(copy, office, case.terrain)
    if situation == "bureau seul" or situation.startswith("différent"):
        case.write(db, office, case.bureau)
    if situation == "même valeur":
        case.write(db, office, case.terrain)
    copy.close()

    report = checkin(db, path, login="agent.bureau")

    expected = {"terrain seul": case.terrain, "bureau seul": case.bureau,
                "même valeur": case.terrain}.get(situation, case.bureau)
    if situation.startswith("différent"):
        assert [(c["entity"], c["field"]) for c in report.conflicts] == [
            (case.entity, case.column)]
        conflict = conflicts(db)[0]
        assert conflict.field == case.column and conflict.kind == "champ"
        assert conflict.base != conflict.terrain != conflict.bureau
        assert case.read(db, office) == case.bureau  # nothing settled by last writer
        take_side = "terrain" if situation.endswith("terrain gardé") else "bureau"
        resolve(db, conflict.number, take_side)
        expected = case.terrain if take_side == "terrain" else case.bureau
        assert conflicts(db) == []
    else:
        assert report.conflicts == []
    assert case.read(db, office) == expected != base_value
    assert check(db).healthy, check(db).problems


# --- Child rows, sets, deletions, creations ----------------------------------------

def test_communes_are_merged_element_by_element(office, tmp_path):
    path, copy = take(office, tmp_path)
    edit_operation(copy, office.operations[0], lambda d: d.commune_codes.append(FOURMIES))
    edit_operation(office.db, office.operations[0],
                   lambda d: d.commune_codes.append(HAUTMONT))
    copy.close()
    report = checkin(office.db, path)
    assert report.conflicts == []
    assert sorted(operation_for_edit(office.db, office.operations[0]).commune_codes) == \
        sorted([MAUBEUGE, FOURMIES, HAUTMONT])


def test_payments_added_on_both_sides_are_all_kept(office, tmp_path):
    path, copy = take(office, tmp_path)
    for db, day, amount in ((copy, date(2025, 8, 1), "3000.00"),
                            (office.db, date(2025, 9, 1), "4000.00")):
        edit_operation(db, office.operations[0], lambda d, day=day, amount=amount:
                       d.funding_lines[1].payments.append(
                           PaymentData(PaymentKind.INSTALMENT, day, Decimal(amount))))
    copy.close()
    report = checkin(office.db, path)
    assert report.created == {"payment": 1} and report.conflicts == []
    payments = operation_for_edit(office.db, office.operations[0]).funding_lines[1].payments
    assert sorted(p.amount for p in payments) == [Decimal("3000.00"), Decimal("4000.00"),
                                                  Decimal("5000.00")]
    with office.db.read() as session:  # the cached totals follow
        assert session.get(Operation, office.operations[0]).paid_total == Decimal("12000.00")
    assert check(office.db).healthy


@pytest.mark.parametrize("what", ["operation", "funding_line", "payment"])
def test_a_deletion_on_one_side_only_is_applied(office, tmp_path, what):
    path, copy = take(office, tmp_path)
    _delete(copy, office, what)
    copy.close()
    report = checkin(office.db, path)
    assert report.conflicts == [] and report.deleted.get(what) == 1
    assert not _exists(office, what)
    assert check(office.db).healthy


@pytest.mark.parametrize("what", ["operation", "funding_line", "payment"])
@pytest.mark.parametrize("keep", ["terrain", "bureau"])
def test_deleted_on_the_terrain_and_edited_at_the_office_is_a_conflict(office, tmp_path,
                                                                      what, keep):
    path, copy = take(office, tmp_path)
    _delete(copy, office, what)
    _edit_under(office.db, office, what)
    copy.close()
    report = checkin(office.db, path)
    assert [(c["entity"], c["terrain"]) for c in report.conflicts] == [(what, None)]
    assert _exists(office, what)  # kept until a person decides
    resolve(office.db, report.conflicts[0]["id"], keep)
    assert _exists(office, what) == (keep == "bureau")
    assert check(office.db).healthy


@pytest.mark.parametrize("what", ["operation", "funding_line", "payment"])
@pytest.mark.parametrize("keep", ["terrain", "bureau"])
def test_edited_on_the_terrain_and_deleted_at_the_office_is_a_conflict(office, tmp_path,
                                                                      what, keep):
    path, copy = take(office, tmp_path)
    _edit_under(copy, office, what)
    _delete(office.db, office, what)
    copy.close()
    report = checkin(office.db, path)
    assert [(c["entity"], c["bureau"]) for c in report.conflicts] == [(what, None)]
    assert not _exists(office, what)
    resolve(office.db, report.conflicts[0]["id"], keep)
    assert _exists(office, what) == (keep == "terrain")
    if keep == "terrain":  # back with the terrain's values, its children too
        data = operation_for_edit(office.db, office.operations[0])
        assert data.funding_lines[1].payments[0].reference == "terrain"
    assert check(office.db).healthy


def _delete(db, office: Office, what: str) -> None:
    from db.services.operations import delete_operation

    if what == "operation":  # its payments first: the service refuses otherwise
        edit_operation(db, office.operations[0], lambda d: d.funding_lines[1].payments.clear())
        data = operation_for_edit(db, office.operations[0])
        delete_operation(db, data.id, data.version)
    elif what == "funding_line":  # its payments first, as an agent must
        edit_operation(db, office.operations[0], lambda d: d.funding_lines[1].payments.clear())
        edit_operation(db, office.operations[0], lambda d: d.funding_lines.pop(1))
    else:
        edit_operation(db, office.operations[0], lambda d: d.funding_lines[1].payments.clear())


def _edit_under(db, office: Office, what: str) -> None:
    """An edit of the record or of something under it."""
    edit_operation(db, office.operations[0],
                   lambda d: setattr(d.funding_lines[1].payments[0], "reference",
                                     "terrain" if db is not office.db else "bureau"))


def _exists(office: Office, what: str) -> bool:
    with office.db.read() as session:
        operation = session.get(Operation, office.operations[0])
        if what == "operation":
            return operation is not None
        if operation is None:
            return False
        lines = operation.funding_lines
        if what == "funding_line":
            return len(lines) == 2
        return bool(lines[1].payments) if len(lines) == 2 else False


def test_records_created_on_both_sides_are_all_added(office, tmp_path):
    path, copy = take(office, tmp_path)
    save_operation(copy, _new_operation(office, "OP-T", "Voirie du terrain"))
    save_operation(office.db, _new_operation(office, "OP-B", "Voirie du bureau"))
    copy.close()
    report = checkin(office.db, path)
    assert report.created == {"operation": 1, "operation_contract": 1, "funding_line": 1}
    assert report.duplicates == [] and report.conflicts == []
    with office.db.read() as session:
        references = set(session.scalars(select(Operation.reference)))
    assert {"OP-T", "OP-B"} <= references
    assert check(office.db).healthy


def test_a_reference_created_on_both_sides_is_added_and_flagged(office, tmp_path):
    path, copy = take(office, tmp_path)
    save_operation(copy, _new_operation(office, "OP-9", "Voirie du terrain"))
    save_operation(office.db, _new_operation(office, "OP-9", "Voirie du bureau"))
    copy.close()
    report = checkin(office.db, path)
    assert [(d["entity"], d["terrain"]["why"]) for d in report.duplicates] == [
        ("operation", "même référence « OP-9 »")]
    with office.db.read() as session:
        titles = dict(session.execute(select(Operation.reference, Operation.title)
                                      .where(Operation.reference.like("OP-9%"))).all())
    assert titles == {"OP-9": "Voirie du bureau", "OP-9 (terrain)": "Voirie du terrain"}
    # "bureau": the office's record stays alone
    resolve(office.db, report.duplicates[0]["id"], "bureau")
    with office.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation)
                              .where(Operation.reference.like("OP-9%"))) == 1


def test_a_lookalike_created_on_the_terrain_is_flagged(office, tmp_path):
    path, copy = take(office, tmp_path)
    save_operation(copy, _new_operation(office, "OP-T", "Rénovation de l'école 1"))
    copy.close()
    report = checkin(office.db, path)
    assert [d["terrain"]["why"] for d in report.duplicates] == [
        "même intitulé, même maître d'ouvrage, mêmes communes"]
    view = conflicts(office.db)[0]
    assert view.kind == "doublon" and "OP-1" in view.bureau


def _new_operation(office: Office, reference: str, title: str) -> OperationData:
    from db.services.operations import LinkData

    return OperationData(reference=reference, title=title, owner_id=office.maubeuge,
                         cost_ht=Decimal("50000.00"), commune_codes=[MAUBEUGE],
                         links=[LinkData(office.contract)],
                         funding_lines=[FundingLineData(office.state, "DETR",
                                                        amount_requested=Decimal("10000"))])


# --- What the merge writes, and what it says --------------------------------------

def test_the_merge_is_audited_as_coming_from_the_copy(office, tmp_path):
    path, copy = take(office, tmp_path)
    edit_operation(copy, office.operations[1], lambda d: setattr(d, "title", "Cantine"))
    with copy.read() as session:
        copy_id = session.scalar(select(FieldCopy.id))
    copy.close()
    checkin(office.db, path, login="agent.bureau")
    with office.db.read() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "operation",
            AuditEntry.entity_id == str(office.operations[1]),
            AuditEntry.action == "update").order_by(AuditEntry.at)).all()
    last = entries[-1]
    assert (last.origin, last.batch_id, last.login) == ("terrain", copy_id, "agent.bureau")
    assert last.changes["title"] == ["Rénovation de l'école 2", "Cantine"]


def test_rules_are_checked_again_after_a_resolution(office, tmp_path):
    path, copy = take(office, tmp_path)
    edit_operation(copy, office.operations[0],
                   lambda d: setattr(d.funding_lines[1], "amount_granted", Decimal("95000")))
    edit_operation(office.db, office.operations[0],
                   lambda d: setattr(d.funding_lines[1], "amount_granted", Decimal("25000")))
    copy.close()
    report = checkin(office.db, path)
    result = resolve(office.db, report.conflicts[0]["id"], "terrain")
    assert result.findings and all(f.startswith("OP-1 : ") for f in result.findings)
    assert any("déséquilibré" in f for f in result.findings), result.findings


def test_a_typed_value_settles_a_conflict(office, tmp_path):
    from db.field.conflicts import resolve as settle

    path, copy = take(office, tmp_path)
    edit_operation(copy, office.operations[0], lambda d: setattr(d, "cost_ht", Decimal("1")))
    edit_operation(office.db, office.operations[0],
                   lambda d: setattr(d, "cost_ht", Decimal("2")))
    copy.close()
    number = checkin(office.db, path).conflicts[0]["id"]
    with pytest.raises(InvalidInput, match="n'est pas un montant"):
        settle(office.db, number, "saisie", "beaucoup")
    settle(office.db, number, "saisie", "123 456,78 €")
    assert operation_for_edit(office.db, office.operations[0]).cost_ht == Decimal("123456.78")


def test_dry_run_writes_nothing(office, tmp_path):
    path, copy = take(office, tmp_path)
    edit_operation(copy, office.operations[0], lambda d: setattr(d, "title", "T"))
    edit_operation(office.db, office.operations[0], lambda d: setattr(d, "title", "B"))
    copy.close()
    report = checkin(office.db, path, dry_run=True)
    assert report.conflicts and report.dry_run
    assert conflicts(office.db) == []
    assert operation_for_edit(office.db, office.operations[0]).title == "B"
    assert checkin(office.db, path).conflicts  # and the real one still can run


# --- What a copy is, and what is refused ----------------------------------------

def test_the_copy_says_what_it_is_and_the_office_marks_what_is_out(office, tmp_path):
    path, copy = take(office, tmp_path)
    info = copy_status(copy)
    assert info is not None and info.taken_by == "agent.terrain"
    assert "arrondissement d'Avesnes-sur-Helpe" in info.banner()
    assert copy_status(office.db) is None
    marks = checked_out(office.db, "operation", office.operations[0])
    assert [m.mark() for m in marks] == [
        f"sortie sur le terrain par agent.terrain le {info.taken_at:%d/%m/%Y}"]
    assert [c.id for c in outstanding(office.db)] == [info.id]
    copy.close()
    checkin(office.db, path)
    assert checked_out(office.db, "operation", office.operations[0]) == []
    assert outstanding(office.db) == []


def test_a_copy_is_checked_in_once(office, tmp_path):
    path, copy = take(office, tmp_path)
    copy.close()
    checkin(office.db, path, login="agent.bureau")
    with pytest.raises(CopyRefused, match="déjà été rapportée le .* par agent.bureau"):
        checkin(office.db, path)


def test_a_copy_of_another_office_is_refused(office, tmp_path, sqlite_template):
    import shutil

    path, copy = take(office, tmp_path)
    copy.close()
    other_path = tmp_path / "autre.sqlite"
    shutil.copyfile(sqlite_template, other_path)
    other = open_database(other_path)
    set_setting(other, "base.identifiant", str(uuid.uuid4()))
    try:
        with pytest.raises(CopyRefused, match="ne vient pas de cette base"):
            checkin(other, path)
        with pytest.raises(CopyRefused, match="elle-même une copie"):
            checkin(open_database(path, create=False), path)
    finally:
        other.close()


def test_an_altered_or_truncated_copy_is_refused_and_changes_nothing(office, tmp_path):
    path, copy = take(office, tmp_path)
    copy.close()
    altered = tmp_path / "alteree.sqlite"
    altered.write_bytes(path.read_bytes())
    connection = sqlite3.connect(altered)
    connection.execute("UPDATE field_base SET \"values\" = json_set(\"values\", '$.title', "
                       "'autre') WHERE entity = 'operation'")
    connection.commit()
    connection.close()
    with pytest.raises(CopyRefused, match="altérée"):
        checkin(office.db, altered)
    truncated = tmp_path / "tronquee.sqlite"
    truncated.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(UserError, match="tronqué"):
        checkin(office.db, truncated)
    not_a_copy = tmp_path / "pas-une-copie.sqlite"
    sqlite3.connect(not_a_copy).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(CopyRefused, match="pas une copie de terrain"):
        checkin(office.db, not_a_copy)
    with office.db.read() as session:
        assert session.scalar(select(func.count()).select_from(FieldConflict)) == 0
        assert session.scalar(select(FieldCopy.checked_in_at)) is None
    checkin(office.db, path)  # the genuine copy is still welcome


def test_scopes_contracts_and_communes(office, tmp_path):
    path = tmp_path / "communes.sqlite"
    result = checkout(office.db, Scope("communes", (FOURMIES,)), path)
    assert result.counts["operation"] == 1 and result.counts["contract"] == 1
    assert result.scope_label == "commune de Fourmies"
    path = tmp_path / "contrat.sqlite"
    result = checkout(office.db, Scope("contrats", ("CRTE-SAMBRE",)), path)
    assert result.counts["operation"] == 3
    with pytest.raises(InvalidInput, match="Contrat\\(s\\) inconnu\\(s\\) : NOPE"):
        checkout(office.db, Scope("contrats", ("NOPE",)), tmp_path / "x.sqlite")
    with pytest.raises(InvalidInput, match="aucun contrat ni aucune opération"):
        checkout(office.db, Scope("communes", ("59001",)), tmp_path / "y.sqlite")
    with pytest.raises(InvalidInput, match="existe déjà"):
        checkout(office.db, Scope("communes", (FOURMIES,)), path)
    assert not (tmp_path / "x.sqlite").exists() and not (tmp_path / "y.sqlite").exists()


def test_a_copy_cannot_be_taken_from_a_copy(office, tmp_path):
    path, copy = take(office, tmp_path)
    try:
        with pytest.raises(UserError, match="copie d'une copie"):
            checkout(copy, Scope("arrondissement", (ARRONDISSEMENT,)), tmp_path / "z.sqlite")
    finally:
        copy.close()


def test_an_owner_deleted_at_the_office_makes_a_conflict(office, tmp_path):
    from db.services.organisations import delete_organisation
    from db.vocabulary import OrganisationKind
    from tests.field_helpers import organisation

    syndicate = organisation(office.db, "Syndicat des eaux", OrganisationKind.OTHER)
    path, copy = take(office, tmp_path)
    edit_operation(copy, office.operations[0], lambda d: setattr(d, "owner_id", syndicate))
    delete_organisation(office.db, syndicate, 1)
    copy.close()
    report = checkin(office.db, path)
    assert [(c["entity"], c["field"]) for c in report.conflicts] == [("operation", "owner_id")]
    assert operation_for_edit(office.db, office.operations[0]).owner_id == office.maubeuge
    assert check(office.db).healthy


def test_the_cli_reports_in_json_and_settles(office, tmp_path):
    import json
    import subprocess
    import sys

    path, copy = take(office, tmp_path)
    edit_operation(copy, office.operations[0], lambda d: setattr(d, "title", "T"))
    edit_operation(office.db, office.operations[0], lambda d: setattr(d, "title", "B"))
    copy.close()
    target = str(office.db.target.path) if office.db.is_sqlite else \
        office.db.target.url.render_as_string(hide_password=False)

    def run(*args):
        return subprocess.run([sys.executable, "main.py", *args], capture_output=True,
                              text=True, check=False)

    dry = run("field", "checkin", str(path), "--db", target, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["updated"] == {} and report["conflicts"][0]["field"] == "title"
    assert set(report["conflicts"][0]) >= {"id", "entity", "record_id", "reference", "field",
                                           "base", "terrain", "bureau"}
    done = run("field", "checkin", str(path), "--db", target)
    assert done.returncode == 0 and "1 conflit(s) à régler" in done.stdout, done.stdout
    listed = run("field", "conflicts", "--db", target)
    assert "intitulé" in listed.stdout and "terrain : T" in listed.stdout
    number = str(conflicts(office.db)[0].number)
    settled = run("field", "resolve", number, "--take", "terrain", "--db", target)
    assert settled.returncode == 0 and "valeur du terrain" in settled.stdout
    again = run("field", "checkin", str(path), "--db", target)
    assert again.returncode == 2 and "déjà été rapportée" in again.stderr
    assert operation_for_edit(office.db, office.operations[0]).title == "T"
    with office.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 3


def test_a_copy_of_an_older_schema_revision_is_upgraded_first(office, tmp_path,
                                                             monkeypatch):
    """A copy taken before the application was updated (here: brought back down to
    revision 0007, the one before envelopes and Démarches numériques dossiers) comes back
    through the upgrade; the file the agent brought is left as it was."""
    from alembic import command

    from db.database import alembic_config

    path, copy = take(office, tmp_path)
    edit_operation(copy, office.operations[0], lambda d: setattr(d, "title", "Vu en 0007"))
    copy.close()
    old = open_database(path, create=False)
    with old.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0007")
    old.close()

    def revision_and_tables() -> tuple[str, set[str]]:
        connection = sqlite3.connect(path)
        try:
            revision = connection.execute("SELECT version_num FROM alembic_version"
                                          ).fetchone()[0]
            tables = {name for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
        return revision, tables

    revision, tables = revision_and_tables()
    assert revision == "0007" and "envelope" not in tables and "field_base" in tables

    import importlib

    from db.database import head_revision

    merged_from: list[str] = []  # the revision of the copy the merge reads

    def opening(*args, **kwargs):
        database = open_database(*args, **kwargs)
        with database.read() as session:
            merged_from.append(session.connection().exec_driver_sql(
                "SELECT version_num FROM alembic_version").scalar())
        return database

    monkeypatch.setattr(importlib.import_module("db.field.checkin"), "open_database", opening)
    report = checkin(office.db, path, login="agent.bureau")
    assert merged_from == [head_revision()] and head_revision() > "0007"
    assert report.updated.get("operation") == 1 and not report.conflicts
    with office.db.read() as session:
        assert session.get(Operation, office.operations[0]).title == "Vu en 0007"
    assert revision_and_tables()[0] == "0007"  # upgraded in a scratch copy, not in place
    assert check(office.db).healthy
