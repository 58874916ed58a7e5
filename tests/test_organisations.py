"""One organisation per name (db.naming): matching, refusal of doubles, merge, French
order; services on SQLite and PostgreSQL, editors driven on the real widgets."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal as D

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import DBAPIError

from db import lists
from db.editing import choices
from db.errors import ConflictError
from db.lists import Criteria
from db.models import (
    AuditEntry,
    Contract,
    FundingLine,
    Operation,
    Organisation,
    Signatory,
)
from db.naming import name_key
from db.services import caches
from db.services.contracts import ContractData, SignatoryData, save_contract
from db.services.operations import FundingLineData, OperationData, save_operation
from db.services.organisations import (
    DuplicateOrganisation,
    OrganisationData,
    merge_organisations,
    merge_preview,
    save_organisation,
)
from db.spreadsheets import importer, reports
from db.vocabulary import ContractStatus, OrganisationKind

# --- The key ------------------------------------------------------------------------------


@pytest.mark.parametrize("written", [
    "Commune de Maubeuge", "commune de maubeuge", "Ville de Maubeuge", "MAIRIE DE MAUBEUGE",
    "Maubeuge", "  maubeuge ", "Commune  de   Maubeuge"])
def test_the_ways_of_writing_a_commune_have_one_key(written):
    assert name_key(written) == name_key("Commune de Maubeuge") == "maubeuge"


@pytest.mark.parametrize("one, other", [
    ("Commune du Quesnoy", "Le Quesnoy"),
    ("Commune des Rues-des-Vignes", "Les Rues-des-Vignes"),
    ("Commune de La Longueville", "La Longueville"),
    ("Commune d'Avesnes-sur-Helpe", "AVESNES SUR HELPE"),
    ("Commune d’Étrœungt", "etroeungt"),
    ("Commune nouvelle d'Annecy", "Annecy"),
    ("Commune de L'Épine", "L’Epine"),
    ("Ville de Saint-Amand-les-Eaux", "St-Amand-les-Eaux"),
    ("Agence de l'eau Artois-Picardie", "agence de l eau artois picardie"),
])
def test_same_organisation_written_otherwise(one, other):
    assert name_key(one) == name_key(other)


@pytest.mark.parametrize("one, other", [
    ("Communauté de communes du Pays de Mormal", "Pays de Mormal"),  # an EPCI
    ("Département du Nord", "Nord"),
    ("Région Hauts-de-France", "Hauts-de-France"),
    ("CCAS de Maubeuge", "Maubeuge"),
    ("Commune déléguée de Hautmont", "Hautmont"),
    ("Ville-du-Pont", "Pont"),  # a commune whose name begins with "Ville"
    ("La Ville-du-Bois", "Bois"),
    ("CA Maubeuge Val de Sambre", "Maubeuge"),
    ("Commune du Quesnoy", "Quesnoy"),  # "du" is "le": Le Quesnoy, not Quesnoy
])
def test_different_organisations_keep_different_keys(one, other):
    assert name_key(one) != name_key(other)


# --- Services (SQLite and PostgreSQL) ------------------------------------------------------

def count(db, model, *where) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def recorded_twice(db, name: str, kind: OrganisationKind = OrganisationKind.COMMUNE,
                   **values) -> uuid.UUID:
    """An organisation as older bases hold them: written without the services' check."""
    with db.write() as session:
        organisation = Organisation(name=name, kind=kind.value, **values)
        session.add(organisation)
        session.flush()
        caches.refresh_organisation(session, organisation)
        return organisation.id


def new_org(db, name: str, kind: OrganisationKind = OrganisationKind.COMMUNE, **kw):
    return save_organisation(db, OrganisationData(name, kind, **kw)).id


def test_creating_an_organisation_under_an_existing_name_is_refused(db):
    existing = new_org(db, "Commune de Maubeuge", commune_code="59392")
    for written in ("commune de maubeuge", "Ville de Maubeuge", "Maubeuge"):
        with pytest.raises(DuplicateOrganisation, match="« Commune de Maubeuge » existe déjà"
                           ) as refused:
            save_organisation(db, OrganisationData(written, OrganisationKind.COMMUNE))
        assert refused.value.existing_id == existing
    # not the EPCI, not the département: other organisations
    new_org(db, "CA Maubeuge Val de Sambre", OrganisationKind.EPCI)
    new_org(db, "Département du Nord", OrganisationKind.DEPARTEMENT)
    new_org(db, "Nord Actif", OrganisationKind.ASSOCIATION)
    assert count(db, Organisation) == 4


def test_a_rename_onto_another_name_is_refused_other_edits_of_doubles_are_not(db):
    new_org(db, "Commune de Maubeuge")
    other = save_organisation(db, OrganisationData("Maubeuge Tourisme",
                                                   OrganisationKind.ASSOCIATION))
    with pytest.raises(DuplicateOrganisation, match="fusionnez"):
        save_organisation(db, OrganisationData("Mairie de Maubeuge", OrganisationKind.COMMUNE,
                                               id=other.id, version=other.version))
    # An older base's double can still be corrected (its phone), then merged.
    double = recorded_twice(db, "Ville de Maubeuge")
    with db.read() as session:
        version = session.get(Organisation, double).version
    save_organisation(db, OrganisationData("Ville de Maubeuge", OrganisationKind.COMMUNE,
                                           phone="03 27 53 75 75", id=double,
                                           version=version))
    with db.read() as session:
        assert session.get(Organisation, double).phone == "03 27 53 75 75"
        assert session.get(Organisation, other.id).name == "Maubeuge Tourisme"


def test_an_owner_typed_otherwise_is_the_existing_organisation(db):
    existing = new_org(db, "Commune de Maubeuge", commune_code="59392")
    before = count(db, Organisation)
    result = save_operation(db, OperationData(
        reference="OP-1", title="Toiture de l'église",
        new_owner=OrganisationData("commune de maubeuge", OrganisationKind.COMMUNE)))
    assert count(db, Organisation) == before
    with db.read() as session:
        assert session.get(Operation, result.id).owner_id == existing
    # a name nobody has is still created with the operation
    save_operation(db, OperationData(reference="OP-2", title="Voirie",
                                     new_owner=OrganisationData("Commune de Boussois")))
    assert count(db, Organisation) == before + 1


def _merge_setup(db):
    """Two records of Maubeuge: the kept one signs one contract; the double owns an
    operation, finances two lines and signs the same contract (with the role) and
    another one."""
    kept = new_org(db, "Commune de Maubeuge", commune_code="59392")
    state = new_org(db, "État", OrganisationKind.STATE)
    double = recorded_twice(db, "Ville de Maubeuge", siren="215903923",
                            aliases="Mairie de Maubeuge", contact_name="Mme Durand",
                            phone="03 27 53 75 75", notes="Service des marchés publics")
    owned = save_operation(db, OperationData(
        reference="OP-1", title="École Jean-Jaurès", owner_id=double, cost_ht=D("100000.00"),
        funding_lines=[FundingLineData(double, "DROIT_COMMUN", D("5000.00")),
                       FundingLineData(state, "DSIL", D("30000.00"))]))
    financed = save_operation(db, OperationData(
        reference="OP-2", title="Voirie", owner_id=kept, cost_ht=D("50000.00"),
        funding_lines=[FundingLineData(double, "DROIT_COMMUN", D("1000.00"))]))
    both = save_contract(db, ContractData(
        "CRTE-1", "CRTE de Sambre-Avesnois", "CRTE", ContractStatus.SIGNED,
        signatories=[SignatoryData(kept), SignatoryData(double, "Le maire", date(2022, 6, 30),
                                                        person_name="M. Arnaud")]))
    alone = save_contract(db, ContractData("PVD-1", "Petites villes de demain", "PVD",
                                           signatories=[SignatoryData(double, "Le maire")]))
    return kept, double, owned, financed, both, alone


def _version(db, model, record_id) -> int:
    with db.read() as session:
        return session.get(model, record_id).version


def test_merge_moves_every_reference_in_one_audited_write(db):
    kept, double, owned, financed, both, alone = _merge_setup(db)
    preview = merge_preview(db, kept, double)
    assert (preview.second.owned, preview.second.financed, preview.second.signed) == (1, 2, 2)
    assert preview.second.describe() == ("maître d'ouvrage d'une opération, financeur de "
                                         "2 lignes, signataire de 2 contrats")
    assert preview.first.describe() == ("maître d'ouvrage d'une opération, financeur "
                                        "d'aucune ligne, signataire d'un contrat")
    assert preview.shared_contracts == ["CRTE-1"]
    organisations = count(db, Organisation)

    result = merge_organisations(db, kept, double, {kept: preview.first.version,
                                                    double: preview.second.version})

    assert count(db, Organisation) == organisations - 1
    with db.read() as session:
        assert session.get(Organisation, double) is None
        for column in (Operation.owner_id, FundingLine.financer_id,
                       Signatory.organisation_id):
            assert session.scalar(select(func.count()).where(column == double)) == 0
        assert session.get(Operation, owned.id).owner_id == kept
        assert {line.financer_id for line in session.scalars(select(FundingLine).where(
            FundingLine.scheme_code == "DROIT_COMMUN"))} == {kept}
        # the shared contract keeps one signatory row, completed from the other one
        rows = session.scalars(select(Signatory).where(Signatory.contract_id == both.id)).all()
        assert [(r.organisation_id, r.role, r.person_name, r.signing_date) for r in rows] == [
            (kept, "Le maire", "M. Arnaud", date(2022, 6, 30))]
        assert [r.organisation_id for r in session.get(Contract, alone.id).signatories] == [
            kept]
        organisation = session.get(Organisation, kept)
        assert organisation.aliases == "Ville de Maubeuge; Mairie de Maubeuge"
        assert (organisation.siren, organisation.contact_name, organisation.phone) == (
            "215903923", "Mme Durand", "03 27 53 75 75")
        assert organisation.notes == "Service des marchés publics"
        # the aggregates that changed moved their versions (an open editor sees a conflict)
        assert session.get(Operation, owned.id).version > owned.version
        assert session.get(Operation, financed.id).version > financed.version
        assert session.get(Contract, both.id).version > both.version
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.batch_id == select(AuditEntry.batch_id).where(
                AuditEntry.entity == "organisation_merge").scalar_subquery())).all()
    assert result.merged_signatories == ["CRTE-1"] and "CRTE-1" in result.message
    actions = {(e.entity, e.action, e.entity_id) for e in entries}
    assert ("organisation", "delete", str(double)) in actions
    assert ("operation", "update", str(owned.id)) in actions
    assert ("signatory", "delete", str(rows[0].id)) not in actions
    assert sum(1 for e in entries if e.entity == "signatory" and e.action == "delete") == 1
    assert sum(1 for e in entries if e.entity == "funding_line") == 2
    deleted = next(e for e in entries if e.entity == "organisation" and e.action == "delete")
    assert deleted.changes["name"] == "Ville de Maubeuge"  # the tombstone keeps the record
    owner_change = next(e for e in entries if e.entity == "operation")
    assert owner_change.changes["owner_id"] == [str(double), str(kept)]
    merge = next(e for e in entries if e.entity == "organisation_merge")
    assert merge.changes["kept"] == str(kept) and merge.changes["operations"] == 1

    # the search documents quote the kept name; the old names still find it
    with db.read() as session:
        document = session.get(Operation, owned.id).search_document
    assert "commune de maubeuge" in document and "ville" not in document
    found = lists.ORGANISATIONS.page(db, Criteria(search="mairie de maubeuge"))
    assert [row["name"] for row in found] == ["Commune de Maubeuge"]
    assert [r["reference"] for r in lists.OPERATIONS.page(
        db, Criteria(search="commune de maubeuge"))] == ["OP-1", "OP-2"]
    # the removed name now designates the kept organisation
    again = save_operation(db, OperationData(
        reference="OP-3", title="Parc", new_owner=OrganisationData("Ville de Maubeuge")))
    with db.read() as session:
        assert session.get(Operation, again.id).owner_id == kept


def test_a_merge_against_a_version_changed_since_is_refused(db):
    kept, double, *_ = _merge_setup(db)
    preview = merge_preview(db, kept, double)
    with db.read() as session:
        data = session.get(Organisation, double)
        version = data.version
    save_organisation(db, OrganisationData("Ville de Maubeuge", phone="03 27 00 00 00",
                                           id=double, version=version))
    with pytest.raises(ConflictError, match="Ville de Maubeuge"):
        merge_organisations(db, kept, double, {kept: preview.first.version,
                                               double: preview.second.version})
    assert count(db, Operation, Operation.owner_id == double) == 1


def test_a_merge_that_fails_midway_leaves_both_untouched(db):
    kept, double, owned, _, both, _ = _merge_setup(db)
    preview = merge_preview(db, kept, double)
    audit_before = count(db, AuditEntry)
    # The database itself refuses to delete an organisation: after the references moved.
    with db.write() as session:
        if db.is_sqlite:
            session.execute(text(
                "CREATE TRIGGER refuse_delete BEFORE DELETE ON organisation "
                "BEGIN SELECT RAISE(ABORT, 'suppression refusée pour le test'); END"))
        else:
            session.execute(text(
                "CREATE FUNCTION refuse_delete() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'suppression refusée pour le test'; END $$ "
                "LANGUAGE plpgsql"))
            session.execute(text(
                "CREATE TRIGGER refuse_delete BEFORE DELETE ON organisation "
                "FOR EACH ROW EXECUTE FUNCTION refuse_delete()"))
    with pytest.raises(DBAPIError, match="suppression refusée pour le test"):
        merge_organisations(db, kept, double, {kept: preview.first.version,
                                               double: preview.second.version})
    with db.read() as session:
        assert session.get(Organisation, double).name == "Ville de Maubeuge"
        assert session.get(Organisation, kept).aliases is None
        assert session.get(Operation, owned.id).owner_id == double
        assert session.get(Operation, owned.id).version == owned.version
        assert session.scalar(select(func.count()).select_from(FundingLine).where(
            FundingLine.financer_id == double)) == 2
        assert len(session.get(Contract, both.id).signatories) == 2
    assert count(db, AuditEntry) == audit_before


def test_lists_sort_names_in_french_order(db):
    names = ["Zéro déchet Sambre", "ex-région Picardie", "Œuvre des pupilles", "État",
             "Oise Habitat", "Europe Direct Avesnois", "Agence de l'eau Artois-Picardie",
             "établissement public foncier"]
    ids = {name: new_org(db, name, OrganisationKind.OTHER) for name in names}
    french = ["Agence de l'eau Artois-Picardie", "établissement public foncier", "État",
              "Europe Direct Avesnois", "ex-région Picardie", "Œuvre des pupilles",
              "Oise Habitat", "Zéro déchet Sambre"]
    assert [r["name"] for r in lists.ORGANISATIONS.page(db, Criteria())] == french
    assert [r["name"] for r in lists.ORGANISATIONS.page(db, Criteria(), descending=True)
            ] == french[::-1]
    # paged: the second page goes on where the first stopped
    assert [r["name"] for r in lists.ORGANISATIONS.page(db, Criteria(), offset=2, limit=3)
            ] == french[2:5]
    for number, name in enumerate(["Zéro déchet Sambre", "État", "Europe Direct Avesnois"]):
        save_operation(db, OperationData(
            reference=f"OP-{number}", title="Projet", owner_id=ids[name],
            funding_lines=[FundingLineData(ids[name], "DROIT_COMMUN", D("10.00"))]))
    assert [r["owner"] for r in lists.OPERATIONS.page(db, Criteria(), sort="owner")] == [
        "État", "Europe Direct Avesnois", "Zéro déchet Sambre"]
    assert [r["financer"] for r in lists.FUNDING_LINES.page(db, Criteria(), sort="financer")
            ] == ["État", "Europe Direct Avesnois", "Zéro déchet Sambre"]
    assert [label for label, _ in lists.filter_choices(db, None)["financer"]] == [
        "État", "Europe Direct Avesnois", "Zéro déchet Sambre"]
    communes = [r["name"] for r in lists.COMMUNES.page(db, Criteria(arrondissement="591"),
                                                       limit=None)]
    e_names = communes[communes.index("Dourlers"):communes.index("Feignies") + 1]
    assert e_names == ["Dourlers", "Eccles", "Éclaibes", "Écuélin", "Élesmes",
                       "Englefontaine", "Eppe-Sauvage", "Eth", "Étrœungt", "Feignies"]


def test_the_financer_report_lists_the_state_with_the_e(db):
    state = new_org(db, "État", OrganisationKind.STATE)
    union = new_org(db, "Union européenne", OrganisationKind.EU)
    agency = new_org(db, "Agence de l'eau", OrganisationKind.PUBLIC_BODY)
    save_operation(db, OperationData(
        reference="OP-1", title="Projet", cost_ht=D("100000.00"), funding_lines=[
            FundingLineData(financer, "DROIT_COMMUN", D("1000.00"), D("1000.00"),
                            status="accorde", budget_year=2025)
            for financer in (union, state, agency)]))
    report = reports.financer_by_year(db)
    assert [row["financer"] for row in report.rows] == ["Agence de l'eau", "État",
                                                        "Union européenne", "Total"]


# --- Import ---------------------------------------------------------------------------------

def test_an_imported_owner_named_bare_is_the_existing_commune(demo_db, tmp_path):
    with demo_db.read() as session:
        maubeuge = session.scalar(select(Organisation.id).where(
            Organisation.name == "Ville de Maubeuge"))
    path = tmp_path / "suivi.csv"
    path.write_text("Référence;Intitulé;Maître d'ouvrage;Commune;Coût HT;Financeur;"
                    "Montant sollicité\n"
                    "I-1;Toiture de l'école;Maubeuge;59392;10 000;État;2 000\n"
                    "I-2;Trottoirs;COMMUNE DE MAUBEUGE;59392;20 000;État;4 000\n",
                    encoding="utf-8")
    before = count(demo_db, Organisation)
    report = importer.analyse(demo_db, path)
    assert report.new_organisations == {}
    assert not [w for w in report.warnings if "sera créée" in w.message]
    assert {op.data.owner_id for op in report.operations} == {maubeuge}
    importer.apply(demo_db, report)
    assert count(demo_db, Organisation) == before
    assert count(demo_db, Operation, Operation.owner_id == maubeuge,
                 Operation.reference.in_(["I-1", "I-2"])) == 2


# --- Demo -----------------------------------------------------------------------------------

def test_the_demo_holds_one_organisation_per_name(demo_db):
    with demo_db.read() as session:
        rows = session.execute(select(Organisation.name, Organisation.aliases,
                                      Organisation.sort_name)).all()
        unsorted = session.scalar(select(func.count()).select_from(Organisation).where(
            or_(Organisation.sort_name.is_(None), Organisation.sort_name == "")))
    keys: dict[str, str] = {}
    for name, _, _ in rows:
        assert name_key(name) not in keys, f"{name} et {keys[name_key(name)]}"
        keys[name_key(name)] = name
    assert unsorted == 0
    assert keys["maubeuge"] == "Ville de Maubeuge"


# --- Editors (pytest-qt, demo base) ---------------------------------------------------------

def watch_dialogs(qtbot, seen: list[str], answer=None) -> QTimer:
    """Every modal dialog that opens is noted (its text) and answered or closed, so a
    test never hangs on one."""
    handled: set[int] = set()

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or id(dialog) in handled:
            return
        handled.add(id(dialog))
        seen.append(dialog.text() if isinstance(dialog, QMessageBox)
                    else dialog.windowTitle())
        try:
            if answer is not None and answer(dialog):
                return
        except Exception as error:  # noqa: BLE001 (reported by the test, dialog closed)
            seen.append(f"erreur : {error!r}")
        dialog.close() if isinstance(dialog, QMessageBox) else dialog.reject()
    timer = QTimer()
    timer.timeout.connect(look)
    timer.start(50)
    return timer


def activate(qtbot, editor) -> None:
    """The agent works in the editor window: it is the active one."""
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow, timeout=2000)


def type_in(qtbot, combo, text_typed: str) -> None:
    combo.setFocus()
    combo.lineEdit().selectAll()
    qtbot.keyClicks(combo.lineEdit(), text_typed)


def completions(combo) -> list[str]:
    model = combo.completer().completionModel()
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_typed_owner_resolves_to_the_existing_organisation(qtbot, window):
    before = count(window.db, Organisation)
    editor = window.open_operation()
    activate(qtbot, editor)
    editor.reference.setText("OP-MAUB-1")
    editor.title.setText("Réfection du beffroi")
    type_in(qtbot, editor.owner, "commune de maubeuge")
    assert completions(editor.owner)[0] == "Ville de Maubeuge"
    editor.owner.completer().popup().hide()  # the agent goes on without picking
    seen: list[str] = []
    timer = watch_dialogs(qtbot, seen)
    try:
        qtbot.keySequence(editor, "Ctrl+S")
    finally:
        timer.stop()
    saved = not editor.is_dirty()
    editor.discard_and_close()
    assert seen == []  # no "which kind of organisation to create?"
    assert saved
    assert count(window.db, Organisation) == before
    with window.db.read() as session:
        operation = session.scalar(select(Operation).where(Operation.reference == "OP-MAUB-1"))
        assert operation.owner.name == "Ville de Maubeuge"


def test_a_commune_typed_bare_ranks_before_the_epci_that_contains_its_name(qtbot, window):
    editor = window.open_operation()
    type_in(qtbot, editor.owner, "Maubeuge")
    assert editor.owner.completer().popup().isVisible()
    assert completions(editor.owner) == ["Ville de Maubeuge", "CA Maubeuge Val de Sambre"]
    type_in(qtbot, editor.owner, "etat")
    assert completions(editor.owner)[0] == "État"
    # picking from the completion selects the very item
    popup = editor.owner.completer().popup()
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert editor.owner.currentText() == "État"
    editor.discard_and_close()


def test_choices_are_in_french_order(window):
    models = window.editor_choices()
    names = [models.owners.item(row).text() for row in range(models.owners.rowCount())]
    assert names.index("Direction générale des entreprises (DGE)") < names.index("État") \
        < names.index("ex-région Nord - Pas-de-Calais") \
        < names.index("Initiative Lille Métropole")


def test_the_acteurs_page_lists_the_state_with_the_e(qtbot, window):
    window.show_view("organisations")
    page = window.pages["organisations"]
    page.reload()
    while page.model.canFetchMore():
        page.model.fetchMore()
    names = [page.model.row(i)["name"] for i in range(page.model.rowCount())]
    assert names.index("DRAAF Hauts-de-France (direction régionale de l’alimentation, de "
                       "l’agriculture et de la forêt)") < names.index("État") < names.index(
        "ex-région Nord - Pas-de-Calais") < names.index("Initiative Lille Métropole")


def test_creating_a_double_from_the_organisation_editor_names_the_existing_one(qtbot, demo_db):
    from desktop.app import make_application
    from desktop.organisation_editor import OrganisationEditor

    make_application()
    before = count(demo_db, Organisation)
    editor = OrganisationEditor(demo_db, None)
    qtbot.addWidget(editor)
    editor.show()
    activate(qtbot, editor)
    try:
        qtbot.keyClicks(editor.name, "Mairie de Maubeuge")
        seen: list[str] = []
        timer = watch_dialogs(qtbot, seen)
        qtbot.keySequence(editor, "Ctrl+S")
        timer.stop()
        assert len(seen) == 1 and "« Ville de Maubeuge » existe déjà" in seen[0]
        assert count(demo_db, Organisation) == before
        editor.name.clear()
        qtbot.keyClicks(editor.name, "Regie des eaux de la Sambre")  # QTest: ASCII keys
        activate(qtbot, editor)  # back from the message box
        qtbot.keySequence(editor, "Ctrl+S")
        assert count(demo_db, Organisation) == before + 1
        assert not editor.is_dirty()
    finally:
        editor.discard_and_close()  # never a question left open at the end


def test_merge_from_the_acteurs_page(qtbot, window):
    db = window.db
    with db.read() as session:
        kept = session.scalar(select(Organisation.id).where(
            Organisation.name == "Ville de Maubeuge"))
        owned = session.scalar(select(func.count()).select_from(Operation).where(
            Operation.owner_id == kept))
    double = recorded_twice(db, "Commune de Maubeuge", siren="215903923")
    save_operation(db, OperationData(reference="OP-DOUBLE", title="Projet en double",
                                     owner_id=double))
    window.refresh()
    window.show_view("organisations")
    page = window.pages["organisations"]
    qtbot.keyClicks(page.search, "commune de maubeuge")
    qtbot.waitUntil(lambda: double in [page.model.row(i)["id"]
                                       for i in range(page.model.rowCount())], timeout=3000)
    row = next(i for i in range(page.model.rowCount())
               if page.model.row(i)["id"] == double)
    page.table.selectRow(row)
    action = next(a for a in page.table.actions() if a.text() == "Fusionner avec…")

    seen: list[str] = []

    def in_dialog(dialog) -> bool:
        from desktop.organisation_merge import OrganisationMergeDialog

        if not isinstance(dialog, OrganisationMergeDialog):
            return False  # the "Fusion faite" message: closed by the watcher
        type_in(qtbot, dialog.other, "Ville de Maubeuge")
        assert dialog.preview is not None
        assert "Maître d'ouvrage d'une opération" in dialog.details[0].text()
        assert dialog.keep[0].isChecked()  # as much used: the one the agent started from
        qtbot.mouseClick(dialog.keep[1], Qt.MouseButton.LeftButton)
        assert "« Ville de Maubeuge » est gardée" in dialog.explanation.text()
        # The "Fusion faite" message opens inside this answer: another watcher closes it.
        inner = watch_dialogs(qtbot, seen)
        qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
        inner.stop()
        return True

    timer = watch_dialogs(qtbot, seen, in_dialog)
    action.trigger()
    timer.stop()
    assert any("est fusionnée dans « Ville de Maubeuge »" in text_seen for text_seen in seen), seen
    with db.read() as session:
        assert session.get(Organisation, double) is None
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.owner_id == kept)) == owned + 1
        assert session.get(Organisation, kept).siren is not None
        assert "Commune de Maubeuge" in session.get(Organisation, kept).aliases
    # the lists and the editors' choices no longer hold the removed one
    names = [page.model.row(i)["name"] for i in range(page.model.rowCount())]
    assert "Commune de Maubeuge" not in names
    assert double not in [org_id for org_id, *_ in choices(db).organisations]
    assert str(double) not in [window.editor_choices().owners.item(r).data(
        Qt.ItemDataRole.UserRole) for r in range(window.editor_choices().owners.rowCount())]
