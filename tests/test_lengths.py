"""Text limits the same on SQLite and PostgreSQL, and no NUL character, on every path that
writes: the ORM (editors, services), the bulk inserts of imports, the import's row errors
and a real editor. SQLite would store anything; PostgreSQL would raise a raw
StringDataRightTruncation or refuse the NUL. Each refusal is French, names the field and
the limit, and leaves the base as it was."""

from __future__ import annotations

import copy
import uuid

import pytest
import xlsxwriter
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import func, select

import db as db_package
from db.lengths import TextTooLong
from db.models import Contract, FundingLine, Operation, Organisation
from db.services.bulk import create_operations
from db.services.contracts import AxisData, save_contract
from db.services.organisations import OrganisationData
from db.spreadsheets import importer
from db.vocabulary import OrganisationKind
from tests.test_services import actors, new_contract, new_operation  # noqa: F401

NNBSP = "\u202f"


def counts(database) -> tuple[int, int, int]:
    with database.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Organisation, Operation, FundingLine))


def test_the_tests_run_this_worktree_s_code():
    assert "wt-" not in __file__ or __file__.split("/tests/")[0] in db_package.__file__


def test_an_orm_write_over_a_column_limit_is_refused_in_french(db):
    before = counts(db)
    with pytest.raises(TextTooLong) as refused:
        with db.write() as session:
            session.add(Organisation(name="M" * 100_000, kind="other"))
    assert refused.value.message == (
        f"Le champ « Nom » (organisation) dépasse 300 caractères (100{NNBSP}000 saisis) : "
        "rien n'a été enregistré.")
    assert counts(db) == before


def test_an_update_over_a_limit_or_with_a_nul_is_refused_and_the_base_kept(db, actors):  # noqa: F811
    with db.write() as session:
        state = session.get(Organisation, actors["state"])
        state.acronym = "S" * 61
        with pytest.raises(TextTooLong, match=r"« Sigle » \(organisation\) dépasse 60 "
                                              r"caractères \(61 saisis\)"):
            session.flush()
        session.rollback()
    with db.write() as session:  # Text columns have no limit, but no NUL either
        session.get(Organisation, actors["state"]).notes = "ligne 1\x00ligne 2"
        with pytest.raises(TextTooLong, match=r"« Notes » \(organisation\) contient un "
                                              r"caractère nul \(U\+0000, 8e caractère\)"):
            session.flush()
        session.rollback()
    with db.read() as session:
        state = session.get(Organisation, actors["state"])
        assert (state.acronym, state.notes) == (None, None)
    with db.write() as session:  # exactly the limit is fine on both bases
        session.get(Organisation, actors["state"]).acronym = "S" * 60
    with db.read() as session:
        assert session.get(Organisation, actors["state"]).acronym == "S" * 60


def test_a_service_field_without_its_own_check_is_refused_by_the_guard(db, actors):  # noqa: F811
    data = new_contract(actors, axes=[AxisData("Transition écologique", "1." * 11)])
    with pytest.raises(TextTooLong, match=r"« Numéro » \(axe\) dépasse 20 caractères "
                                          r"\(22 saisis\)"):
        save_contract(db, data)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Contract)) == 0


def test_bulk_inserts_refuse_a_long_text_or_a_nul_and_write_nothing(db, actors):  # noqa: F811
    good = new_operation(actors, reference="OP-BULK-1")
    long_title = new_operation(actors, reference="OP-BULK-2", title="T" * 501)
    before = counts(db)
    with pytest.raises(TextTooLong, match=r"« Intitulé » \(opération\) dépasse 500 "
                                          r"caractères \(501 saisis\)"):
        with db.write(batch_id=uuid.uuid4()) as session:
            create_operations(session, [good, long_title])
    assert counts(db) == before
    new_owner = uuid.uuid4()
    with pytest.raises(TextTooLong, match=r"« Nom » \(organisation\) contient un caractère "
                                          r"nul \(U\+0000, 12e caractère\)"):
        with db.write(batch_id=uuid.uuid4()) as session:
            create_operations(session, [new_operation(actors, reference="OP-BULK-3",
                                                      owner_id=new_owner)],
                              new_organisations={new_owner: OrganisationData(
                                  "Association\x00 des amis", OrganisationKind.OTHER)})
    assert counts(db) == before
    sane = copy.deepcopy(good)
    with db.write(batch_id=uuid.uuid4()) as session:
        create_operations(session, [sane])
    assert counts(db)[1] == before[1] + 1


def test_an_import_reports_long_and_nul_texts_as_row_errors_on_both_bases(db, tmp_path):
    path = tmp_path / "longs.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Suivi")
    sheet.write_row(0, 0, ["Référence", "Intitulé", "Maître d'ouvrage", "Commune", "Coût HT"])
    sheet.write_row(1, 0, ["L-1", "Voirie", "M" * 5000, "59021", 1000])
    sheet.write_row(2, 0, ["L-2", "Pr\x00éau", "Commune d'Assevent", "59021", 1000])
    sheet.write_row(3, 0, ["L-3", "Toiture", "Commune d'Assevent\x00", "59021", 1000])
    sheet.write_row(4, 0, ["L-4", "Cour d'école", "Commune d'Assevent", "59021", 1000])
    workbook.close()
    before = counts(db)
    report = importer.analyse(db, path)
    errors = {(e.row, e.column): e.message for e in report.errors}
    assert errors == {
        (2, "Maître d'ouvrage"): "nom de 5000 caractères (300 au plus)",
        (3, "Intitulé"): "caractère de contrôle interdit (U+0000, 3e caractère)",
        (4, "Maître d'ouvrage"): "caractère de contrôle interdit (U+0000, 19e caractère)"}
    assert [op.data.reference for op in report.operations] == ["L-4"]
    importer.apply(db, report)
    assert counts(db) == (before[0] + 1, before[1] + 1, before[2])
    with db.read() as session:
        assert session.scalars(select(Operation.title)).all() == ["Cour d'école"]
        assert session.scalar(select(func.max(func.length(Organisation.name)))) < 300
    # A csv cell has no 32 767 limit: the 100 000-character owner.
    csv = tmp_path / "long.csv"
    csv.write_text("Référence;Intitulé;Maître d'ouvrage;Commune\n"
                   f"L-5;Voirie;{'M' * 100_000};59021\n", encoding="utf-8")
    report = importer.analyse(db, csv)
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (2, "Maître d'ouvrage", "nom de 100000 caractères (300 au plus)")]
    assert report.operations == []


def test_the_organisation_editor_refuses_a_too_long_acronym_and_keeps_it(qtbot, window,
                                                                      monkeypatch):
    from db.services.organisations import save_organisation
    from desktop.organisation_editor import OrganisationEditor
    from tests.test_editors import activate, key_text

    organisation_id = save_organisation(window.db, OrganisationData(
        "Association des amis du Quesnoy", OrganisationKind.OTHER)).id
    editor = OrganisationEditor(window.db, organisation_id, parent=window)
    editor.show()
    activate(qtbot, editor)
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    editor.acronym.setFocus()
    key_text(qtbot, editor.acronym, "A" * 61)
    qtbot.keyClick(editor.acronym, Qt.Key.Key_Tab)
    assert editor.is_dirty()
    qtbot.keySequence(editor, "Ctrl+S")
    assert warned == ["Le champ « Sigle » (organisation) dépasse 60 caractères (61 saisis) : "
                      "rien n'a été enregistré."]
    assert editor.is_dirty() and editor.acronym.text() == "A" * 61  # nothing typed lost
    with window.db.read() as session:
        assert session.get(Organisation, organisation_id).acronym is None


def test_a_demarches_export_reports_long_and_nul_texts_as_row_errors(db, tmp_path):
    from tests import demarches_fixtures as fx

    items = fx.dossiers(5)
    items[1].title = "Réfection\x00 de la toiture"
    items[3].applicant = "COMMUNE " * 50
    items[4].motivation = "Dossier complet\x00"
    before = counts(db)
    report = importer.analyse(db, fx.export(tmp_path, "xlsx", items))
    assert [(f.row, f.column, f.message) for f in report.errors] == [
        (3, "Intitulé du projet", "caractère de contrôle interdit (U+0000, 10e caractère)"),
        (5, "Nom du demandeur", "nom de 399 caractères (300 au plus)"),
        (6, "Motivation de la décision",
         "caractère de contrôle interdit (U+0000, 16e caractère)")]
    importer.apply(db, report)
    assert counts(db)[1] == before[1] + 2
    with db.read() as session:
        assert session.scalar(select(func.max(func.length(Organisation.name)))) <= 300
