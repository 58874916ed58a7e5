"""The history of a record and the office's journal: changes made in the editors, by an
import and by a field copy brought back, read through db.history and on the widgets
(the Historique tab of each editor, the Journal page)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select, update

from db.database import Database, open_database
from db.editing import choices, find_by_reference, operation_for_edit
from db.field import Scope, checkin, checkout
from db.formatting import euros
from db.history import agents, journal, record_history
from db.models import AuditEntry
from db.services.contracts import AmendmentData
from db.services.operations import PaymentData, delete_operation
from db.services.settings import set_arrondissement
from db.spreadsheets import importer
from db.vocabulary import PaymentKind
from tests.field_helpers import (
    ARRONDISSEMENT,
    Office,
    build_office,
    edit_contract,
    edit_operation,
    edit_organisation,
)
from tests.test_editors import activate, answer_modal, click, type_into
from tests.test_imports import messy_workbook


def euro(text: str) -> str:
    return euros(Decimal(text))


@pytest.fixture
def agent(monkeypatch):
    """The OS login the audit records (getpass reads LOGNAME first)."""
    def become(login: str) -> None:
        monkeypatch.setenv("LOGNAME", login)
    return become


@pytest.fixture
def paris(monkeypatch):
    """Local time an hour or two ahead of UTC: a local day's end is not UTC's."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def office(db, agent) -> Office:
    agent("agent.creation")
    return build_office(db)


def imported(db: Database, tmp_path: Path, agent) -> uuid.UUID:
    """D-001 comes from a spreadsheet (two lines: DSIL granted, Département)."""
    agent("agent.import")
    set_arrondissement(db, ARRONDISSEMENT)
    importer.apply(db, importer.analyse(db, messy_workbook(tmp_path / "suivi.xlsx")))
    return find_by_reference(db, "operation", "D-001")


def through_the_field(office: Office, tmp_path: Path, agent, operation_id: uuid.UUID,
                      change) -> None:
    """A field copy taken, *change* made on the laptop, brought back by agent.bureau."""
    path = tmp_path / "terrain.sqlite"
    agent("agent.terrain")
    checkout(office.db, Scope("arrondissement", (ARRONDISSEMENT,)), path)
    copy = open_database(path, create=False)
    edit_operation(copy, operation_id, change)
    copy.close()
    agent("agent.bureau")
    checkin(office.db, path)


def rows_of(rows, **wanted):
    return [r for r in rows if all(getattr(r, k) == v for k, v in wanted.items())]


def double_click(qtbot, view, row: int) -> None:
    """As a mouse does it: a click, then the second press (QTest's double click alone
    never reaches the view's doubleClicked)."""
    where = view.visualRect(view.model().index(row, 0)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=where)


def dsil_row(editor) -> int:
    for row in range(editor.lines.rowCount()):
        if editor.lines.cellWidget(row, 1).currentData() == "DSIL":
            return row
    raise AssertionError("pas de ligne DSIL")


# --- The Historique tab of the operation editor --------------------------------------------

def test_the_history_tab_says_who_changed_what_and_where(qtbot, office, tmp_path, agent):
    from desktop.app import make_application
    from desktop.choice_models import ChoiceModels
    from desktop.operation_editor import OperationEditor

    operation = imported(office.db, tmp_path, agent)

    def on_the_terrain(data) -> None:
        data.notes = "Vu avec le maire sur place"
        line = next(x for x in data.funding_lines if x.scheme_code == "DSIL")
        line.payments.append(PaymentData(PaymentKind.INSTALMENT, date(2025, 9, 1),
                                         Decimal("15000.00")))
    through_the_field(office, tmp_path, agent, operation, on_the_terrain)

    agent("agent.saisie")
    make_application()
    editor = OperationEditor(office.db, ChoiceModels(choices(office.db)), operation)
    qtbot.addWidget(editor)
    editor.show()
    activate(qtbot, editor)
    assert editor.history.model.rowCount() == 0  # read only when the tab is first shown
    type_into(qtbot, editor.title, "Rénovation de l'école Jean-Jaurès")
    editor.tabs.setCurrentIndex(2)
    row = dsil_row(editor)
    type_into(qtbot, editor.lines.cellWidget(row, 2), "90 000")
    editor.lines.setCurrentCell(row, 0)
    assert editor.payments.rowCount() == 1
    editor.payments.setCurrentCell(0, 0)
    click(qtbot, editor.remove_payment_button)
    qtbot.keySequence(editor, "Ctrl+S")
    assert not editor.is_dirty()

    editor.tabs.setCurrentWidget(editor.history)
    model = editor.history.model
    rows = model.rows
    cells = [tuple(model.cell(r, key) for key in ("login", "origin", "record", "change",
                                                  "old", "new"))
             for r in range(model.rowCount())]
    assert ("agent.saisie", "Saisie", "Opération D-001 « Rénovation de l'école Jean-Jaurès »",
            "Intitulé", "Rénovation de l'école", "Rénovation de l'école Jean-Jaurès") in cells
    assert ("agent.saisie", "Saisie", "Ligne DSIL de l'État", "Montant sollicité",
            euro("100000"), euro("90000")) in cells
    assert ("agent.saisie", "Saisie", f"Versement : acompte de {euro('15000')} du "
            "01/09/2025", "Suppression", f"montant : {euro('15000')} ; date du versement : "
            "01/09/2025", "") in cells
    deleted = rows_of(rows, action="suppression", entity="payment")
    assert [(r.login, r.origin, r.record) for r in deleted] == [
        ("agent.saisie", "Saisie", f"Versement : acompte de {euro('15000')} du 01/09/2025")]
    terrain = rows_of(rows, origin="Copie de terrain")
    assert {(r.login, r.record, r.action, r.field, r.new) for r in terrain} >= {
        ("agent.bureau", "Opération D-001 « Rénovation de l'école Jean-Jaurès »",
         "modification", "Notes", "Vu avec le maire sur place"),
        ("agent.bureau", f"Versement : acompte de {euro('15000')} du 01/09/2025", "création",
         "", f"montant : {euro('15000')} ; date du versement : 01/09/2025")}
    created = rows_of(rows, origin="Import", action="création")
    assert {r.record for r in created} >= {
        "Opération D-001 « Rénovation de l'école »", "Ligne DSIL de l'État"}
    assert {r.login for r in created} == {"agent.import"}
    assert any(f"montant accordé : {euro('75000')}" in r.new for r in created)
    # newest first: the agent's save, then the field copy, then the import
    origins = [r.origin for r in rows]
    assert origins.index("Saisie") < origins.index("Copie de terrain") < origins.index("Import")
    assert all(" à " in r.when and " h " in r.when for r in rows)

    # Saved again while shown: the tab follows.
    type_into(qtbot, editor.title, "Rénovation de l'école Jules-Ferry")
    qtbot.keySequence(editor, "Ctrl+S")
    assert model.cell(0, "new") == "Rénovation de l'école Jules-Ferry"
    assert model.cell(0, "old") == "Rénovation de l'école Jean-Jaurès"
    editor.grab().save(str(tmp_path / "historique.png"))


def test_contract_and_organisation_editors_have_their_history(qtbot, office, agent):
    from desktop.app import make_application
    from desktop.choice_models import ChoiceModels
    from desktop.contract_editor import ContractEditor
    from desktop.organisation_editor import OrganisationEditor

    agent("agent.contrats")
    edit_contract(office.db, office.contract, lambda d: d.amendments.append(AmendmentData(
        1, "Ajout de la commune de Hautmont", date(2024, 6, 1), Decimal("50000.00"))))
    make_application()
    editor = ContractEditor(office.db, ChoiceModels(choices(office.db)), office.contract)
    qtbot.addWidget(editor)
    editor.show()
    editor.tabs.setCurrentWidget(editor.history)
    rows = editor.history.model.rows
    amendment = rows_of(rows, entity="amendment")
    assert [(r.login, r.record, r.action) for r in amendment] == [
        ("agent.contrats", "Avenant n° 1", "création")]
    assert f"variation de l'enveloppe : {euro('50000')}" in amendment[0].new
    assert {r.entity for r in rows} == {"contract", "axis", "amendment"}  # no operation

    agent("agent.acteurs")
    organisation = OrganisationEditor(office.db, office.maubeuge)
    qtbot.addWidget(organisation)
    organisation.show()
    activate(qtbot, organisation)
    type_into(qtbot, organisation.phone, "03 27 53 75 75")
    qtbot.keySequence(organisation, "Ctrl+S")
    organisation.tabs.setCurrentWidget(organisation.history)
    model = organisation.history.model
    assert (model.cell(0, "login"), model.cell(0, "change"), model.cell(0, "old"),
            model.cell(0, "new")) == ("agent.acteurs", "Téléphone", "(vide)", "03 27 53 75 75")


# --- db.history on SQLite and PostgreSQL --------------------------------------------------

def test_an_operation_s_history_keeps_its_deleted_lines_payments_and_links(office, agent):
    operation = office.operations[0]
    agent("agent.plan")

    def drop_the_payment(data) -> None:
        for line in data.funding_lines:
            line.payments = []

    def drop_the_region(data) -> None:
        data.funding_lines = [x for x in data.funding_lines if x.scheme_code == "DETR"]
        data.links = []
        data.commune_codes = [*data.commune_codes, "59291"]
    edit_operation(office.db, operation, drop_the_payment)  # a paid line cannot go
    edit_operation(office.db, operation, drop_the_region)
    rows = record_history(office.db, "operation", operation)
    gone = {(r.entity, r.record, r.login) for r in rows_of(rows, action="suppression")}
    assert gone == {
        ("funding_line", "Ligne de la Région Hauts-de-France", "agent.plan"),
        ("payment", f"Versement : acompte de {euro('5000')} du 02/05/2025", "agent.plan"),
        ("operation_contract", "Rattachement au contrat CRTE-SAMBRE", "agent.plan")}
    line = rows_of(rows, action="suppression", entity="funding_line")[0]
    assert f"montant accordé : {euro('20000')}" in line.old
    communes = rows_of(rows, field="Communes")[0]
    assert (communes.old, communes.new) == ("Maubeuge", "Hautmont, Maubeuge")
    assert {r.target for r in rows} == {("operation", str(operation))}
    # creations: the operation, its two lines, the payment and the link
    assert len(rows_of(rows, action="création")) == 5
    assert rows_of(rows, action="création", entity="operation")[0].new == \
        f"statut : Projet ; coût HT : {euro('100000')}"
    other = record_history(office.db, "operation", office.operations[1])
    assert not rows_of(other, action="suppression")


def test_names_and_values_read_as_the_agent_knows_them(office, agent):
    agent("agent.noms")

    def change(data) -> None:
        line = data.funding_lines[0]
        line.status = "accorde"
        line.amount_granted = Decimal("28000.50")
        line.decision_date = date(2025, 6, 30)
        data.owner_id = office.fourmies
    edit_operation(office.db, office.operations[0], change)
    edit_organisation(office.db, office.region, lambda d: setattr(d, "acronym", "HDF"))
    rows = record_history(office.db, "operation", office.operations[0])
    fields = {r.field: (r.old, r.new) for r in rows if r.action == "modification"}
    assert fields["Statut"] == ("Sollicité", "Accordé")
    assert fields["Montant accordé"] == ("(vide)", euro("28000.50"))
    assert fields["Date de décision"] == ("(vide)", "30/06/2025")
    assert fields["Maître d'ouvrage"] == ("Commune de Maubeuge", "Commune de Fourmies")
    organisation = record_history(office.db, "organisation", office.region)
    assert [(r.field, r.old, r.new) for r in organisation if r.action == "modification"] == [
        ("Sigle", "(vide)", "HDF")]


def test_the_journal_filters_by_agent_day_record_and_origin(office, tmp_path, agent, paris):
    db = office.db
    agent("agent.a")
    edit_operation(db, office.operations[0], lambda d: setattr(d, "title", "Cantine"))
    agent("agent.b")
    edit_operation(db, office.operations[1], lambda d: setattr(d, "cost_ht",
                                                               Decimal("120000.00")))
    # A change at 23:59 in Paris on 10 March, another at midnight on the 11th.
    late = datetime(2026, 3, 10, 23, 59).astimezone().astimezone(UTC)
    early = datetime(2026, 3, 11, 0, 0).astimezone().astimezone(UTC)
    assert late.hour == 22  # the local day is not the UTC day
    with db.write() as session:
        for login, moment in (("agent.a", late), ("agent.b", early)):
            stored = moment.replace(tzinfo=None) if db.is_sqlite else moment
            session.execute(update(AuditEntry).where(
                AuditEntry.login == login, AuditEntry.action == "update").values(at=stored))

    assert agents(db) == ["agent.a", "agent.b", "agent.creation"]
    by_a = journal(db, agent="agent.a").rows
    assert [(r.login, r.field, r.new) for r in by_a] == [("agent.a", "Intitulé", "Cantine")]
    assert by_a[0].parent == "Opération OP-1 « Cantine »"
    assert "10 mars 2026 à 23 h 59" == by_a[0].when

    on_the_10th = journal(db, since=date(2026, 3, 10), until=date(2026, 3, 10)).rows
    assert [r.login for r in on_the_10th] == ["agent.a"]
    on_the_11th = journal(db, since=date(2026, 3, 11), until=date(2026, 3, 11)).rows
    assert [(r.login, r.field) for r in on_the_11th] == [("agent.b", "Coût HT")]
    assert not journal(db, until=date(2026, 3, 9)).rows
    assert [r.login for r in journal(db, until=date(2026, 3, 11)).rows] == [
        "agent.b", "agent.a"]

    school_2 = journal(db, record_text="école 2").rows
    assert school_2 and {r.parent for r in school_2} == {"Opération OP-2 « Rénovation de "
                                                          "l'école 2 »"}
    assert {r.entity for r in school_2} >= {"operation", "funding_line", "payment",
                                             "operation_contract"}
    assert not journal(db, record_text="nulle part").rows
    maubeuge = journal(db, record_text="Maubeuge").rows
    assert "Organisation Commune de Maubeuge" in {r.record for r in maubeuge}

    operation = imported(db, tmp_path, agent)
    through_the_field(office, tmp_path, agent, operation,
                      lambda d: setattr(d, "notes", "Chantier commencé"))
    terrain = journal(db, origin="terrain").rows
    assert [(r.login, r.field, r.new) for r in terrain] == [
        ("agent.bureau", "Notes", "Chantier commencé")]
    from_import = journal(db, origin="import").rows
    assert from_import and {r.login for r in from_import} == {"agent.import"}
    assert {r.origin for r in from_import} == {"Import"}
    typed = journal(db, origin="saisie", limit=1000).rows
    assert {r.login for r in typed} == {"agent.creation", "agent.a", "agent.b"}
    assert {r.origin for r in typed} == {"Saisie"}
    # the bookkeeping of the field copy is not a change of the office's records
    assert not {r.entity for r in journal(db, limit=1000).rows} - {
        "operation", "funding_line", "payment", "operation_contract", "organisation",
        "contract", "axis"}


def test_the_journal_pages_newest_first_without_gaps(office, agent):
    agent("agent.pages")
    for index in range(3):
        edit_operation(office.db, office.operations[index],
                       lambda d, i=index: setattr(d, "notes", f"Note {i}"))
    whole = journal(office.db, limit=1000)
    assert whole.next_offset is None
    pieces, offset = [], 0
    while offset is not None:
        page = journal(office.db, limit=4, offset=offset)
        pieces += page.rows
        offset = page.next_offset
    key = [(r.at, r.entity, r.record_id, r.field) for r in pieces]
    assert key == [(r.at, r.entity, r.record_id, r.field) for r in whole.rows]
    assert key == sorted(key, key=lambda k: k[0], reverse=True)
    assert [r.new for r in whole.rows[:3]] == ["Note 2", "Note 1", "Note 0"]


# --- The Journal page of the main window ---------------------------------------------------

def test_the_journal_page_filters_and_opens_the_record(qtbot, office, agent, tmp_path):
    from desktop.app import make_application
    from desktop.main_window import MainWindow
    from desktop.operation_editor import OperationEditor

    agent("agent.a")
    edit_operation(office.db, office.operations[0], lambda d: setattr(d, "title", "Cantine"))
    agent("agent.b")
    edit_operation(office.db, office.operations[2], lambda d: setattr(d, "title", "Gymnase"))
    edit_operation(office.db, office.operations[2], lambda d: [
        setattr(line, "payments", []) for line in d.funding_lines])  # a paid one cannot go
    version = operation_for_edit(office.db, office.operations[2]).version
    delete_operation(office.db, office.operations[2], version)

    make_application()
    window = MainWindow(office.db, view="journal")
    qtbot.addWidget(window)
    window.show()
    page = window.current_page()
    assert page.title == "Journal"
    assert page.model.rowCount() > 0
    page.agent.setCurrentIndex(page.agent.findData("agent.a"))
    assert {page.model.cell(r, "login") for r in range(page.model.rowCount())} == {"agent.a"}
    assert page.model.cell(0, "parent") == "Opération OP-1 « Cantine »"
    page.grab().save(str(tmp_path / "journal.png"))

    double_click(qtbot, page.table, 0)
    editor = window.editors[-1]
    assert isinstance(editor, OperationEditor) and editor.record_id == office.operations[0]
    editor.reject()

    page.agent.setCurrentIndex(page.agent.findData("agent.b"))
    page.origin.setCurrentIndex(page.origin.findData("saisie"))
    type_into(qtbot, page.record, "OP-3")
    qtbot.waitUntil(lambda: not page._typing.isActive() and page.model.rowCount() > 0 and all(
        page.model.cell(r, "parent").startswith("Opération OP-3")
        for r in range(page.model.rowCount())), timeout=3000)
    assert "Suppression" in {page.model.cell(r, "change") for r in range(page.model.rowCount())}
    shown = []
    answer_modal(qtbot, lambda box: shown.append(box.text()))
    double_click(qtbot, page.table, 0)
    qtbot.waitUntil(lambda: bool(shown), timeout=3000)
    assert shown == ["L'opération n'existe plus : elle a été supprimée depuis. Son "
                     "historique reste dans le journal."]
    assert len(window.editors) == 0

    # Days: nothing before today, everything of today.
    page.clear_filters()
    type_into(qtbot, page.until.line, (date.today() - timedelta(days=1)).strftime("%d/%m/%Y"))
    assert page.model.rowCount() == 0
    assert page.status.text() == "Aucune modification pour ces filtres"
    type_into(qtbot, page.until.line, date.today().strftime("%d/%m/%Y"))
    type_into(qtbot, page.since.line, date.today().strftime("%d/%m/%Y"))
    assert page.model.rowCount() > 0


def test_the_journal_exports_what_it_shows_and_ignores_the_arrondissement(
        qtbot, office, agent, tmp_path, monkeypatch):
    import csv

    from PySide6.QtWidgets import QFileDialog

    from desktop.app import make_application
    from desktop.main_window import MainWindow

    agent("agent.a")
    edit_operation(office.db, office.operations[0], lambda d: setattr(d, "title", "=Cantine"))
    make_application()
    window = MainWindow(office.db, view="journal")
    qtbot.addWidget(window)
    window.show()
    window.apply_arrondissement(ARRONDISSEMENT)  # every page built is told; not filtered
    page = window.current_page()
    type_into(qtbot, page.record, "OP-1")
    qtbot.waitUntil(lambda: not page._typing.isActive() and page.model.rowCount() > 0 and all(
        page.model.cell(r, "parent").startswith("Opération OP-1")
        for r in range(page.model.rowCount())), timeout=3000)
    shown = page.model.rowCount()
    target = tmp_path / "journal.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.export_current() == target
    with target.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file, delimiter=";"))
    assert rows[0] == ["Date", "Agent", "Origine", "Fiche", "Élément", "Changement", "Avant",
                       "Après"]
    assert len(rows) == shown + 1
    assert rows[1][1:] == ["agent.a", "Saisie", "Opération OP-1 « =Cantine »",
                           "Opération OP-1 « =Cantine »", "Intitulé",
                           "Rénovation de l'école 1", "'=Cantine"]


# --- The command line -----------------------------------------------------------------------

def test_history_and_journal_commands(office, agent, capsys):
    import json

    from main import main

    agent("agent.cli")
    edit_operation(office.db, office.operations[0], lambda d: setattr(d, "title", "Cantine"))
    target = str(office.db.target.path) if office.db.is_sqlite else \
        office.db.target.url.render_as_string(hide_password=False)
    assert main(["history", "--db", target, "--operation", "OP-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("— agent.cli (Saisie) — Opération OP-1 « Cantine » — Intitulé : "
                             "Rénovation de l'école 1 → Cantine")
    assert any("Ligne DETR de l'État — création" in line for line in lines)
    assert main(["journal", "--db", target, "--agent", "agent.cli", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["login"], r["field"], r["old"], r["new"], r["origin"]) for r in rows] == [
        ("agent.cli", "Intitulé", "Rénovation de l'école 1", "Cantine", "Saisie")]
    assert main(["history", "--db", target, "--contract", "INCONNU"]) == 2
    assert capsys.readouterr().err == "Erreur : Contrat introuvable : « INCONNU ».\n"
    assert main(["journal", "--db", target, "--agent", "personne"]) == 0
    assert capsys.readouterr().out == "Aucune modification pour ces filtres.\n"


def test_the_audit_names_an_import_and_the_key_of_a_new_link(office, tmp_path, agent):
    """An import's own entries say « import »; a link saved with its new operation is
    audited under its full key (operation/contract), as its history looks it up."""
    operation_id = imported(office.db, tmp_path, agent)
    with office.db.read() as session:
        origins = set(session.scalars(select(AuditEntry.origin).where(
            AuditEntry.entity == "operation", AuditEntry.entity_id == str(operation_id))))
        link_ids = list(session.scalars(select(AuditEntry.entity_id).where(
            AuditEntry.entity == "operation_contract", AuditEntry.action == "insert")))
    assert origins == {"import"}
    assert link_ids and all(not i.startswith("None") for i in link_ids)
    assert f"{office.operations[0]}/{office.contract}" in link_ids
