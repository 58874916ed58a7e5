"""Importing the dossiers of a Démarches numériques export (fixtures built from its
export code: tests/demarches_fixtures.py), then a later export of the same démarche."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.demarches.reader import guess_mapping, read_export, recognise
from db.errors import InvalidInput
from db.models import (
    AuditEntry,
    Commune,
    DemarchesDossier,
    FundingLine,
    Operation,
    Organisation,
    Setting,
)
from db.services.operations import load_operation_data, save_operation
from db.spreadsheets import importer
from db.vocabulary import FundingStatus
from tests import demarches_fixtures as fx

ROOT = Path(__file__).resolve().parent.parent


def cents(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def dn_operations(db) -> dict[str, Operation]:
    with db.read() as session:
        found = session.scalars(select(Operation).where(Operation.reference.like("DN-%")))
        result = {}
        for operation in found:
            operation.funding_lines  # noqa: B018 - loaded before the session closes
            operation.communes  # noqa: B018
            operation.owner  # noqa: B018
            result[operation.reference] = operation
        return result


def lines(operation: Operation) -> dict[str, FundingLine]:
    return {line.scheme_code: line for line in operation.funding_lines}


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "csv"])
def test_export_recognised_and_columns_of_the_form_mapped(tmp_path, fmt):
    path = fx.export(tmp_path, fmt, fx.dossiers(12))
    assert recognise(path)
    export = read_export(path)
    mapping = {name: export.labels[i] for name, i in guess_mapping(export.labels).items()}
    assert mapping == {
        "title": "Intitulé du projet", "communes": "Commune(s) du projet",
        "siret": "SIRET/SIREN du demandeur", "cost_ht": "Coût total HT",
        "requested:DETR": "Montant DETR sollicité", "requested:DSIL": "Montant DSIL sollicité",
        "granted:DETR": "Montant DETR attribué", "granted:DSIL": "Montant DSIL attribué"}
    # « Date prévisionnelle de début des travaux » is a forecast, not the start of the
    # works the caducité and the solde run from.
    assert "Date prévisionnelle de début des travaux" in export.labels
    assert export.procedure == fx.PROCEDURE
    assert [export.rows[0][1][export.column("ID")]] == ["21045301"]
    assert len(export.etablissements) == 12


def test_a_tracking_sheet_is_not_taken_for_an_export(tmp_path):
    from tests.test_imports import messy_workbook

    assert not recognise(messy_workbook(tmp_path / "suivi.xlsx"))


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "csv"])
def test_each_dossier_becomes_a_candidate_operation(db, tmp_path, fmt):
    items = fx.dossiers(12)
    report = importer.analyse(db, fx.export(tmp_path, fmt, items))
    assert report.errors == []
    assert report.dossiers == {row: str(d.number) for row, d in enumerate(items, start=2)}
    importer.apply(db, report)

    operations = dn_operations(db)
    assert sorted(operations) == sorted(f"DN-{d.number}" for d in items)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(DemarchesDossier)) == 12
        sirens = dict(session.execute(select(Commune.code, Commune.siren)).all())
    for d in items:
        operation = operations[f"DN-{d.number}"]
        assert operation.title == d.title
        assert operation.cost_ht == cents(d.cost)
        assert [c.code for c in operation.communes] == [d.commune]
        assert operation.start_date is None and operation.end_date is None  # forecasts
        assert operation.deposit_date == d.deposited.date()
        assert str(d.number) in operation.source and fx.PROCEDURE in operation.source
        assert f"https://www.demarches-simplifiees.fr/dossiers/{d.number}" in operation.source
        by_scheme = lines(operation)
        assert by_scheme["DETR"].amount_requested == cents(d.detr)
        # The « Plan de financement » sheet (xlsx, ods): the Département as co-financer,
        # neither the DETR again nor the owner's own share.
        assert len(operation.funding_lines) == 1 + bool(d.dsil) + (fmt != "csv")
        if fmt != "csv":
            department = by_scheme[None]
            assert department.amount_requested == cents(d.cost * 0.2)
            assert department.status == "sollicite"
        assert ("DSIL" in by_scheme) == bool(d.dsil)
        expected_line = {"refuse": "refuse", "accepte": "accorde" if d.granted_detr
                         else "sollicite"}.get(d.state, "sollicite")
        assert by_scheme["DETR"].status == expected_line, d.state
        if d.granted_detr:
            assert by_scheme["DETR"].amount_granted == cents(d.granted_detr)
        else:
            assert by_scheme["DETR"].amount_granted is None
        assert operation.status == ("abandonne" if d.state == "sans_suite" else
                                    "programme" if d.granted_detr else "depose"), d.state
        owner = operation.owner
        if d.siren in fx.EPCI:
            assert (owner.kind, owner.epci_code) == ("epci", d.siren)
        else:
            assert owner.kind == "commune"
            assert sirens[owner.commune_code] == d.siren
    with db.read() as session:
        financers = set(session.scalars(select(Organisation.name).join(
            FundingLine, FundingLine.financer_id == Organisation.id)))
    assert financers == ({"Département du Nord"} if fmt != "csv" else set())
    refused = next(d for d in items if d.state == "refuse")
    assert "non éligible" in operations[f"DN-{refused.number}"].notes


def test_owner_found_among_existing_organisations_not_duplicated(demo_db, tmp_path):
    items = fx.dossiers(12)
    maubeuge = fx.Dossier(99000001, "215903923", "COMMUNE DE MAUBEUGE", "59392", "Maubeuge",
                          "59600", "Rénovation du théâtre du Manège", 500_000.0, 150_000.0)
    with demo_db.read() as session:
        before = session.scalar(select(func.count()).select_from(Organisation))
        ville = session.scalar(select(Organisation.id).where(
            Organisation.name == "Ville de Maubeuge"))
    report = importer.analyse(demo_db, fx.export(tmp_path, "xlsx", [*items, maubeuge]))
    created = {o.name for o in report.new_organisations.values()}
    assert "Commune de Maubeuge" not in created
    # « Département du Nord » of the plans is the base's « Département du Nord (Conseil
    # départemental) »; « État » its own.
    assert not created & {"Département du Nord", "État"}
    announced = [w for w in report.warnings if "n'est pas encore une organisation" in w.message]
    assert len(announced) == len(created)  # each said once
    importer.apply(demo_db, report)
    assert dn_operations(demo_db)["DN-99000001"].owner_id == ville
    with demo_db.read() as session:
        after = session.scalar(select(func.count()).select_from(Organisation))
    assert after - before == len(created)


def test_later_export_updates_instead_of_duplicating(db, tmp_path):
    first = fx.dossiers(12)
    importer.apply(db, importer.analyse(db, fx.export(tmp_path, "xlsx", first)))
    second = fx.later(first)
    report = importer.analyse(db, fx.export(tmp_path, "csv", second, fx.LATER_STEM))
    assert report.errors == []
    assert [op.data.reference for op in report.operations] == [f"DN-{second[-1].number}"]
    assert sorted(u.number for u in report.updated) == sorted(
        str(first[i].number) for i in (0, 1, 2))
    changes = {u.number: u.changes for u in report.updated}
    assert "état du dossier : En instruction → Accepté" in changes[str(first[1].number)]
    assert "état du dossier : En instruction → Refusé" in changes[str(first[2].number)]
    assert any("DETR sollicité" in c for c in changes[str(first[0].number)])
    unchanged = len(report.unchanged) + len(report.updates) - len(report.updated)
    assert unchanged == 9
    importer.apply(db, report)

    operations = dn_operations(db)
    assert len(operations) == 13  # 12 updated or unchanged, 1 created: no duplicate
    accepted = lines(operations[f"DN-{first[1].number}"])["DETR"]
    assert (accepted.status, accepted.amount_granted) == (
        "accorde", cents(second[1].granted_detr))
    assert operations[f"DN-{first[1].number}"].status == "programme"
    assert lines(operations[f"DN-{first[2].number}"])["DETR"].status == "refuse"
    corrected = operations[f"DN-{first[0].number}"]
    assert lines(corrected)["DETR"].amount_requested == cents(first[0].detr + 10_000)
    assert corrected.title == first[0].title + " (tranche 1)"
    with db.read() as session:
        states = dict(session.execute(select(DemarchesDossier.number,
                                             DemarchesDossier.state)).all())
        updates = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.batch_id == uuid.UUID(report.batch_id), AuditEntry.entity == "operation",
            AuditEntry.action == "update"))
    assert states[str(first[1].number)] == "Accepté"
    assert len(states) == 13
    assert updates == 3

    # The same export once more: nothing left to do.
    again = importer.analyse(db, fx.export(tmp_path, "xlsx", second, fx.LATER_STEM))
    assert (again.operations, again.updated, len(again.unchanged)) == ([], [], 13)


def test_what_the_agent_decided_stays_and_the_difference_is_said(db, tmp_path):
    first = fx.dossiers(12)
    importer.apply(db, importer.analyse(db, fx.export(tmp_path, "xlsx", first)))
    reference = f"DN-{first[1].number}"
    with db.read() as session:
        operation = session.scalar(select(Operation).where(Operation.reference == reference))
        data = load_operation_data(session, operation)
    line = next(x for x in data.funding_lines if x.scheme_code == "DETR")
    line.status, line.amount_granted = FundingStatus.GRANTED, Decimal("300000.00")
    save_operation(db, data)

    second = fx.later(first)  # says accepted with another amount
    report = importer.analyse(db, fx.export(tmp_path, "xlsx", second, fx.LATER_STEM))
    update = next(u for u in report.updates if u.number == str(first[1].number))
    assert any("accordé" in kept and "300\u202f000,00" in kept for kept in update.kept), update.kept
    said = [w.message for w in report.warnings if w.column == f"dossier {first[1].number}"]
    assert said == update.kept
    importer.apply(db, report)
    line = lines(dn_operations(db)[reference])["DETR"]
    assert (line.status, line.amount_granted) == ("accorde", Decimal("300000.00"))


def test_undo_of_a_later_export_puts_the_dossiers_back(db, tmp_path):
    first = fx.dossiers(12)
    first_report = importer.analyse(db, fx.export(tmp_path, "xlsx", first))
    importer.apply(db, first_report)
    before = {ref: (op.title, op.status, {c: (x.status, x.amount_requested, x.amount_granted)
                                          for c, x in lines(op).items()})
              for ref, op in dn_operations(db).items()}
    report = importer.analyse(db, fx.export(tmp_path, "ods", fx.later(first), fx.LATER_STEM))
    importer.apply(db, report)
    assert importer.undo(db, report.batch_id) == 1  # the new dossier removed
    after = {ref: (op.title, op.status, {c: (x.status, x.amount_requested, x.amount_granted)
                                         for c, x in lines(op).items()})
             for ref, op in dn_operations(db).items()}
    assert after == before
    with db.read() as session:
        states = dict(session.execute(select(DemarchesDossier.number,
                                             DemarchesDossier.state)).all())
    assert states[str(first[1].number)] == "En instruction" and len(states) == 12
    # Then the first import too: only imports changed its operations since.
    assert importer.undo(db, first_report.batch_id) == 12
    assert dn_operations(db) == {}


def test_undo_of_a_first_import_removes_its_dossiers(db, tmp_path):
    report = importer.analyse(db, fx.export(tmp_path, "xlsx", fx.dossiers(12)))
    importer.apply(db, report)
    assert importer.undo(db, report.batch_id) == 12
    assert dn_operations(db) == {}
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(DemarchesDossier)) == 0


def test_mapping_of_a_demarche_is_remembered(db, tmp_path, monkeypatch):
    # This démarche's form calls its title otherwise: not guessed.
    label = "Désignation de l'opération envisagée"
    monkeypatch.setattr(fx, "FORM", [label if x == "Intitulé du projet" else x
                                     for x in fx.FORM])
    renamed = fx.export(tmp_path, "xlsx", fx.dossiers(6))
    with pytest.raises(InvalidInput, match="intitulé du projet"):
        importer.analyse(db, renamed)
    export = read_export(renamed)
    title_at = export.column(label)
    mapping = guess_mapping(export.labels) | {"title": title_at}
    report = importer.analyse(db, renamed, mapping=mapping)
    importer.apply(db, report)
    with db.read() as session:
        saved = session.get(Setting, f"import.mapping.demarche.{fx.PROCEDURE}")
    assert json.loads(saved.value)["title"] == label
    again = importer.analyse(db, renamed)  # no mapping given: the démarche's own
    assert again.mapping["title"] == title_at
    assert len(again.unchanged) == 6


def test_a_dossier_in_error_is_reported_and_the_others_imported(db, tmp_path):
    items = fx.dossiers(5)
    items[2].commune = "59999"  # no such commune
    report = importer.analyse(db, fx.export(tmp_path, "xlsx", items))
    assert [(f.row, f.column, f.message) for f in report.errors] == [
        (4, "Commune(s) du projet", "code INSEE inconnu : 59999")]
    importer.apply(db, report)
    assert f"DN-{items[2].number}" not in dn_operations(db)
    assert len(dn_operations(db)) == 4


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "import", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_import_of_an_export_then_of_a_later_one(tmp_path, sqlite_template):
    import shutil

    base = tmp_path / "base.sqlite"
    shutil.copyfile(sqlite_template, base)
    first = fx.dossiers(12)
    path = fx.export(tmp_path, "xlsx", first)
    dry = _cli(str(path), "--db", str(base), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "12 opération(s) seraient créées" in dry.stdout
    assert f"Nouveau dossier DN-{first[0].number}" in dry.stdout
    done = _cli(str(path), "--db", str(base))
    assert done.returncode == 0, done.stderr
    assert "12 opération(s) créées" in done.stdout
    later = _cli(str(fx.export(tmp_path, "csv", fx.later(first), fx.LATER_STEM)), "--db",
                 str(base), "--json")
    assert later.returncode == 0, later.stderr
    result = json.loads(later.stdout)
    assert result["created"] == [f"DN-{fx.later(first)[-1].number}"]
    assert sorted(u["reference"] for u in result["updated"]) == sorted(
        f"DN-{first[i].number}" for i in (0, 1, 2))
    assert len(result["unchanged"]) == 9
    import sqlite3

    with sqlite3.connect(base) as connection:
        count = connection.execute("SELECT count(*) FROM operation WHERE reference LIKE "
                                   "'DN-%'").fetchone()[0]
    assert count == 13


def test_traps_of_a_real_export(db, tmp_path, monkeypatch):
    """A dossier exported twice, a commune typed without its INSEE code, a blank number
    written 0, an unknown state: each said on its own row."""
    items = fx.dossiers(6)
    items[1].dsil = items[1].detr = 0.0  # the applicant left the amounts blank
    rows = fx._sheets(items, lambda t: t)
    header, dossiers_rows = rows["Dossiers"]
    code_at = header.index("Commune(s) du projet (Code INSEE)")
    dossiers_rows[2][code_at] = None  # « Avesnes-sur-Helpe (59440) » alone
    dossiers_rows[3][header.index("État du dossier")] = "En attente"
    dossiers_rows.append(list(dossiers_rows[0]))  # the same dossier once more
    monkeypatch.setattr(fx, "_sheets", lambda *a: rows)
    report = importer.analyse(db, fx.export(tmp_path, "xlsx", items))
    assert [(f.row, f.column, f.message) for f in report.errors] == [
        (5, "État du dossier", "état inconnu : « En attente »")]
    assert report.duplicates == [8]
    assert any(f.row == 3 and "aucune dotation de l'État sollicitée" in f.message
               for f in report.warnings)
    importer.apply(db, report)
    operations = dn_operations(db)
    assert len(operations) == 5
    assert [c.code for c in operations[f"DN-{items[2].number}"].communes] == [items[2].commune]
    assert operations[f"DN-{items[1].number}"].funding_lines[0].scheme_code is None


def test_undo_refused_once_the_agent_changed_an_imported_dossier(db, tmp_path):
    from db.errors import DeleteRefused

    first = fx.dossiers(6)
    report = importer.analyse(db, fx.export(tmp_path, "xlsx", first))
    importer.apply(db, report)
    later = importer.analyse(db, fx.export(tmp_path, "xlsx", fx.later(first), fx.LATER_STEM))
    importer.apply(db, later)
    reference = f"DN-{first[3].number}"
    with db.read() as session:
        data = load_operation_data(session, session.scalar(
            select(Operation).where(Operation.reference == reference)))
    data.title = "Intitulé corrigé par l'agent"
    save_operation(db, data)
    with pytest.raises(DeleteRefused, match=reference):
        importer.undo(db, report.batch_id)
    assert len(dn_operations(db)) == 7
