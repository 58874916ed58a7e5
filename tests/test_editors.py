"""The contract and operation editors, driven with clicks and keys on the real widgets;
results checked in the database."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QPushButton
from sqlalchemy import select

from db.database import open_database
from db.editing import choices, find_by_reference, operation_for_edit
from db.models import Contract, FundingLine, Operation, Payment
from db.services.operations import save_operation
from desktop.operation_editor import OperationEditor


def answer_modal(qtbot, act: Callable, delay: int = 150) -> None:
    """Act on the next modal dialog; never leave it open (the test would hang)."""
    def run() -> None:
        dialog = QApplication.activeModalWidget()
        try:
            assert dialog is not None, "aucune boîte de dialogue ouverte"
            act(dialog)
        finally:
            if dialog is not None and dialog.isVisible():
                dialog.reject()
    QTimer.singleShot(delay, run)


def activate(qtbot, editor) -> None:
    """The agent works in the editor window: it is the active one."""
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow, timeout=2000)


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def button(parent, text: str) -> QPushButton:
    found = [b for b in parent.findChildren(QPushButton) if b.text().replace("&", "") == text]
    assert found, f"bouton « {text} » introuvable"
    return found[0]


def key_text(qtbot, widget, text: str) -> None:
    """Type *text* key by key (QTest only knows ASCII keys: accents go as key events
    carrying their text, as a keyboard sends them)."""
    for char in text:
        if char.isascii():
            qtbot.keyClicks(widget, char)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(widget, QKeyEvent(
                    kind, 0, Qt.KeyboardModifier.NoModifier, char))


def type_into(qtbot, widget, text: str) -> None:
    widget.setFocus()
    if hasattr(widget, "selectAll"):
        widget.selectAll()
    key_text(qtbot, widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)  # Entrée validates the field


def choose(qtbot, combo, text: str) -> None:
    """Type in an editable combo box the way an agent picks from the completion."""
    combo.setFocus()
    combo.lineEdit().selectAll()
    key_text(qtbot, combo.lineEdit(), text)
    index = combo.findText(text, Qt.MatchFlag.MatchExactly)
    assert index >= 0, f"« {text} » absent de la liste"
    combo.setCurrentIndex(index)


def test_create_a_contract_with_two_axes_and_a_signatory(qtbot, window):
    window.show_view("contracts")
    qtbot.keySequence(window, "Ctrl+N")
    editor = window.editors[-1]
    activate(qtbot, editor)
    type_into(qtbot, editor.reference, "CRTE-TEST-2026")
    type_into(qtbot, editor.title, "Contrat de test de l'Avesnois")
    editor.type.setCurrentIndex(editor.type.findData("CRTE"))
    type_into(qtbot, editor.start.line, "01/01/2026")
    assert editor.end.value().isoformat() == "2031-12-31"  # proposed from 6 years

    editor.tabs.setCurrentIndex(1)
    for label in ("Transition écologique", "Services au public"):
        def name_axis(dialog, label=label):
            assert isinstance(dialog, QInputDialog)
            dialog.setTextValue(label)
            dialog.accept()
        answer_modal(qtbot, name_axis)
        click(qtbot, button(editor, "Ajouter un axe"))
    assert [editor.axes.item(i).text() for i in range(editor.axes.count())] == [
        "Transition écologique", "Services au public"]

    editor.tabs.setCurrentIndex(2)
    click(qtbot, button(editor, "Ajouter (signataires)"))
    choose(qtbot, editor.signatories.cellWidget(0, 0), "État")
    type_into(qtbot, editor.signatories.cellWidget(0, 1), "Pour l'État, le sous-préfet")
    assert editor.windowTitle().endswith("*")
    qtbot.keySequence(editor, "Ctrl+S")
    assert not editor.windowTitle().endswith("*")

    with window.db.read() as session:
        contract = session.scalars(select(Contract).where(
            Contract.reference == "CRTE-TEST-2026")).one()
        assert [a.label for a in contract.axes] == ["Transition écologique",
                                                    "Services au public"]
        assert contract.signatories[0].organisation.name == "État"
        assert contract.signatories[0].role == "Pour l'État, le sous-préfet"
        assert contract.end_date.isoformat() == "2031-12-31"
    assert "CRTE-TEST-2026" in [window.pages["contracts"].model.row(i)["reference"]
                                for i in range(window.pages["contracts"].model.rowCount())]


def test_operation_with_three_lines_and_two_payments_and_live_rules(qtbot, window):
    contract_id = find_by_reference(window.db, "contract", "FICTIF-CRTE-591")
    contract_editor = window.open_contract(contract_id)
    contract_editor.tabs.setCurrentIndex(3)
    click(qtbot, contract_editor.new_operation_button)
    editor = window.editors[-1]
    assert isinstance(editor, OperationEditor)
    activate(qtbot, editor)
    assert editor.collect().links[0].contract_id == contract_id

    type_into(qtbot, editor.reference, "OP-TEST-001")
    type_into(qtbot, editor.title, "Rénovation de la mairie")
    choose(qtbot, editor.owner, "Ville de Maubeuge")
    type_into(qtbot, editor.cost_ht, "200 000")
    assert editor.cost_ht.text().replace("\u202f", " ").replace("\xa0", " ") == "200 000,00 €"
    editor.status.setCurrentIndex(editor.status.findData("programme"))

    type_into(qtbot, editor.dates["start_date"].line, "20/05/2026")

    editor.tabs.setCurrentIndex(2)
    plan = [("État", "DETR", "170 000"), ("Département du Nord (Conseil départemental)",
                                          "DEPARTEMENT", "20 000"),
            ("Région Hauts-de-France (Conseil régional)", "REGION", "10 000")]
    for row, (financer, scheme, amount) in enumerate(plan):
        click(qtbot, editor.add_line_button)
        choose(qtbot, editor.lines.cellWidget(row, 0), financer)
        editor.lines.cellWidget(row, 1).setCurrentIndex(
            editor.lines.cellWidget(row, 1).findData(scheme))
        type_into(qtbot, editor.lines.cellWidget(row, 2), amount)

    def findings() -> str:
        return "\n".join(editor.findings.item(i).text() for i in range(editor.findings.count()))

    # Maubeuge has more than 20 000 inhabitants: no DETR for it (L2334-33); the DSIL then
    assert "L2334-33" in findings() and "20 000 habitants" in findings()
    editor.lines.cellWidget(0, 1).setCurrentIndex(editor.lines.cellWidget(0, 1).findData("DSIL"))
    assert "L2334-33" not in findings()

    # DETR at 85 % of the expense: the cap and the owner's share are flagged as typed
    assert "R2334-27" in findings() and "L1111-10" in findings()
    # blocking: the operation is "programmé"; the sign is an icon, not an emoji
    signs = [editor.findings.item(i).data(Qt.ItemDataRole.UserRole)
             for i in range(editor.findings.count())]
    assert "blocking" in signs and "⛔" not in findings()
    assert "part du maître d'ouvrage : 0,00" in editor.plan_summary.text().replace(
        "\u202f", " ").replace("\xa0", " ")
    type_into(qtbot, editor.lines.cellWidget(0, 2), "60 000")
    assert "R2334-27" not in findings() and "L1111-10" not in findings()
    assert "110 000,00" in editor.plan_summary.text().replace("\u202f", " ").replace(
        "\xa0", " ")

    # the DETR line is granted, then receives two payments
    line = editor.lines
    line.cellWidget(0, 4).setCurrentIndex(line.cellWidget(0, 4).findData("accorde"))
    type_into(qtbot, line.cellWidget(0, 3), "60 000")
    line.setCurrentCell(0, 0)
    type_into(qtbot, editor.decision["decision_date"].line, "15/05/2026")
    for amount in ("18 000", "24 000"):
        click(qtbot, editor.add_payment_button)
        row = editor.payments.rowCount() - 1
        type_into(qtbot, editor.payments.cellWidget(row, 1).line, "01/06/2026")
        type_into(qtbot, editor.payments.cellWidget(row, 2), amount)
    assert "reste à verser 18 000,00" in editor.payment_summary.text().replace(
        "\u202f", " ").replace("\xa0", " ")

    qtbot.keySequence(editor, "Ctrl+S")
    assert not editor.is_dirty(), [editor.findings.item(i).text()
                                   for i in range(editor.findings.count())]
    with window.db.read() as session:
        operation = session.scalars(select(Operation).where(
            Operation.reference == "OP-TEST-001")).one()
        assert operation.cost_ht == Decimal("200000.00")
        assert operation.owner.name == "Ville de Maubeuge"
        assert [(x.scheme_code, x.amount_requested) for x in operation.funding_lines] == [
            ("DSIL", Decimal("60000.00")), ("DEPARTEMENT", Decimal("20000.00")),
            ("REGION", Decimal("10000.00"))]
        assert sorted(p.amount for p in operation.funding_lines[0].payments) == [
            Decimal("18000.00"), Decimal("24000.00")]
        assert operation.links[0].contract_id == contract_id
        assert operation.paid_total == Decimal("42000.00")
        operation_id = operation.id

    # reopened from the list, it shows what was saved
    editor.close()
    reopened = window.open_operation(operation_id)
    assert reopened.collect() == operation_for_edit(window.db, operation_id)
    assert reopened.lines.rowCount() == 3


def test_refused_input_keeps_the_previous_value(qtbot, window):
    operation_id = find_by_reference(window.db, "operation", "FICTIF-DETR-2025-001")
    editor = window.open_operation(operation_id)
    before = editor.cost_ht.value()
    type_into(qtbot, editor.cost_ht, "12,345")
    assert editor.cost_ht.value() == before
    assert "ambigu" in editor.findings.item(0).text()
    type_into(qtbot, editor.dates["start_date"].line, "31/02/2026")
    assert editor.dates["start_date"].value() is None
    assert "pas une date" in editor.findings.item(0).text()
    assert not editor.is_dirty()


def test_out_of_bounds_amounts_and_dates_are_refused_as_typed(qtbot, window):
    operation_id = find_by_reference(window.db, "operation", "FICTIF-DETR-2025-001")
    editor = window.open_operation(operation_id)
    before = editor.cost_ht.value()
    type_into(qtbot, editor.cost_ht, "10 000 000 000,01")
    assert editor.cost_ht.value() == before
    assert "au plus 10 000 000 000,00 €" in editor.findings.item(0).text()
    type_into(qtbot, editor.cost_ht, "10 000 000 000,00")
    assert str(editor.cost_ht.value()) == "10000000000.00"
    type_into(qtbot, editor.dates["start_date"].line, "31/12/9999")
    assert editor.dates["start_date"].value() is None
    assert "du 01/01/1900 au 31/12/2200" in editor.findings.item(0).text()


def test_discarding_an_edit_leaves_the_database_unchanged(qtbot, window):
    operation_id = find_by_reference(window.db, "operation", "FICTIF-DETR-2025-001")
    before = operation_for_edit(window.db, operation_id)
    editor = window.open_operation(operation_id)
    type_into(qtbot, editor.title, "Titre qui ne sera pas gardé")
    assert editor.is_dirty()
    answer_modal(qtbot, lambda box: click(qtbot, button(box, "Abandonner")))
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert not editor.isVisible()
    assert operation_for_edit(window.db, operation_id) == before


def test_leaving_with_changes_can_save_them(qtbot, window):
    operation_id = find_by_reference(window.db, "operation", "FICTIF-DETR-2025-001")
    editor = window.open_operation(operation_id)
    type_into(qtbot, editor.title, "Titre enregistré en fermant")
    answer_modal(qtbot, lambda box: click(qtbot, button(box, "Enregistrer")))
    click(qtbot, editor.close_button)
    assert operation_for_edit(window.db, operation_id).title == "Titre enregistré en fermant"


@pytest.mark.parametrize("choice, expected_title", [
    ("Recharger", "Titre de l'autre agent"), ("Écraser", "Mon titre")])
def test_conflict_between_two_sessions(qtbot, window, demo_path, choice, expected_title):
    second_session = open_database(demo_path)  # another agent, own connections
    operation_id = find_by_reference(window.db, "operation", "FICTIF-DETR-2025-003")
    editor = window.open_operation(operation_id)
    activate(qtbot, editor)
    type_into(qtbot, editor.title, "Mon titre")
    # meanwhile, another agent saves the same operation
    theirs = operation_for_edit(second_session, operation_id)
    theirs.title = "Titre de l'autre agent"
    save_operation(second_session, theirs)

    seen = {}

    def decide(box):
        seen["text"] = box.text() + box.informativeText()
        click(qtbot, button(box, choice))
    answer_modal(qtbot, decide)
    qtbot.keySequence(editor, "Ctrl+S")
    assert "modifiée par" in seen["text"]
    assert "Intitulé" in seen["text"] and "Titre de l'autre agent" in seen["text"]
    assert operation_for_edit(window.db, operation_id).title == expected_title
    assert editor.title.text() == expected_title
    assert not editor.is_dirty()
    second_session.close()


def test_delete_is_confirmed_and_refused_when_it_would_orphan(qtbot, window):
    contract_id = find_by_reference(window.db, "contract", "FICTIF-CRTE-591")
    editor = window.open_contract(contract_id)
    messages = []

    def confirm(box):
        answer_modal(qtbot, lambda refusal: messages.append(refusal.text()), delay=150)
        click(qtbot, box.button(QMessageBox.StandardButton.Yes))
    answer_modal(qtbot, confirm)
    click(qtbot, editor.delete_button)
    assert messages and "opération" in messages[0]
    with window.db.read() as session:
        assert session.get(Contract, contract_id) is not None


def test_new_owner_is_created_with_the_operation(qtbot, window):
    window.show_view("operations")
    qtbot.keySequence(window, "Ctrl+N")
    editor = window.editors[-1]
    type_into(qtbot, editor.reference, "OP-NOUVEAU-MO")
    type_into(qtbot, editor.title, "Aménagement du bourg")
    editor.owner.setFocus()
    qtbot.keyClicks(editor.owner.lineEdit(), "Syndicat mixte du Val de Sambre")

    def pick_kind(dialog):
        assert isinstance(dialog, QInputDialog)
        dialog.setTextValue("Groupement de collectivités")
        dialog.accept()
    answer_modal(qtbot, pick_kind)
    click(qtbot, editor.save_button)
    with window.db.read() as session:
        operation = session.scalars(select(Operation).where(
            Operation.reference == "OP-NOUVEAU-MO")).one()
        assert operation.owner.name == "Syndicat mixte du Val de Sambre"
        assert operation.owner.kind == "groupement"


def test_editor_choices_cover_the_database(demo_db):
    found = choices(demo_db)
    assert len(found.communes) == 34969
    assert any(code == "DETR" for code, _, _ in found.schemes)
    assert ("DEPARTEMENT", "Département (droit commun)") in [s[:2] for s in found.schemes]
    with demo_db.read() as session:
        assert len(found.contracts) == len(session.scalars(select(Contract.id)).all())
        assert session.scalars(select(FundingLine.id)).first() is not None
        assert session.scalars(select(Payment.id)).first() is not None


def test_contract_tab_totals_say_non_communique_not_zero(qtbot, window):
    editor = window.open_contract(find_by_reference(window.db, "contract", "cte-arras"))
    editor.tabs.setCurrentIndex(3)
    cells = [editor.by_axis.item(r, c).text() for r in range(editor.by_axis.rowCount())
             for c in (2, 3)]
    assert cells and any("non communiqué" in cell or "n. c." in cell for cell in cells)
    assert not any(cell.replace("\u202f", " ").replace("\xa0", " ") == "0,00 €"
                   for cell in cells[1::2] if "n. c." in cell)
    financers = [editor.by_financer.item(r, 1).text()
                 for r in range(editor.by_financer.rowCount())]
    assert "non communiqué" in financers


def test_signatory_contacts_are_entered_and_printed(qtbot, window, tmp_path):
    from db import documents

    editor = window.open_contract(find_by_reference(window.db, "contract", "FICTIF-CRTE-591"))
    activate(qtbot, editor)
    editor.tabs.setCurrentIndex(2)
    type_into(qtbot, editor.signatories.cellWidget(0, 3), "Mme Claire Dubois")
    type_into(qtbot, editor.signatories.cellWidget(0, 4), "03 27 56 00 00")
    type_into(qtbot, editor.signatories.cellWidget(0, 5), "claire.dubois@nord.gouv.fr")
    qtbot.keySequence(editor, "Ctrl+S")
    assert not editor.is_dirty()
    summary = documents.summary(window.db, "FICTIF-CRTE-591")
    state = summary.contacts[0]
    assert (state.person, state.phone, state.email) == (
        "Mme Claire Dubois", "03 27 56 00 00", "claire.dubois@nord.gouv.fr")
    annex = documents.annex(window.db, "FICTIF-CRTE-591")
    assert "Mme Claire Dubois" in annex.signatories[0].heading


def test_contacts_are_checked_when_saved(demo_db):
    from db.editing import contract_for_edit
    from db.errors import InvalidInput
    from db.services.contracts import save_contract

    data = contract_for_edit(demo_db, find_by_reference(demo_db, "contract", "FICTIF-CRTE-591"))
    data.signatories[0].email = "claire.dubois@"
    with pytest.raises(InvalidInput, match="Signataire 1 : courriel : « claire.dubois@ »"):
        save_contract(demo_db, data)
    data.signatories[0].email = None
    data.signatories[0].phone = "appeler le standard"
    with pytest.raises(InvalidInput, match="n'est pas un numéro de téléphone"):
        save_contract(demo_db, data)


def test_an_organisation_s_contact_is_edited_from_the_actors_list(qtbot, window):
    from db import documents
    from desktop.organisation_editor import OrganisationEditor

    window.show_view("organisations")
    page = window.pages["organisations"]
    type_into(qtbot, page.search, "CC du Pays de Mormal")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=3000)
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    editor = window.editors[-1]
    assert isinstance(editor, OrganisationEditor)
    activate(qtbot, editor)
    type_into(qtbot, editor.contact_name, "M. Paul Lefebvre")
    type_into(qtbot, editor.contact_role, "Directeur général des services")
    type_into(qtbot, editor.phone, "03 27 77 00 00")
    assert editor.windowTitle().endswith("*")
    qtbot.keySequence(editor, "Ctrl+S")
    assert not editor.is_dirty()
    summary = documents.summary(window.db, "FICTIF-CRTE-591")
    mormal = next(c for c in summary.contacts if c.organisation == "CC du Pays de Mormal")
    # the signatory names no person: the organisation's contact stands for it
    assert (mormal.person, mormal.phone) == ("M. Paul Lefebvre", "03 27 77 00 00")
    assert mormal.role == "Le président"  # the signing role, recorded on the signatory


def test_a_new_operation_says_nothing_until_something_is_entered_then_its_expenses(
        qtbot, window):
    from db.models import ExpenseItem

    window.show_view("operations")
    qtbot.keySequence(window, "Ctrl+N")
    editor = window.editors[-1]
    assert isinstance(editor, OperationEditor)
    activate(qtbot, editor)
    assert editor.findings.count() == 0  # an empty form: no "Aucune anomalie" yet
    assert editor.deadline_label.text() == ""
    type_into(qtbot, editor.reference, "OP-POSTES-1")
    type_into(qtbot, editor.title, "Réfection de la toiture de l'église")
    choose(qtbot, editor.owner, "Commune de Glageon")
    type_into(qtbot, editor.cost_ht, "100 000")
    texts = [editor.findings.item(i).text() for i in range(editor.findings.count())]
    assert texts == ["Aucune anomalie : le plan respecte les règles."]
    assert not editor.findings.item(0).icon().isNull()

    editor.tabs.setCurrentIndex(1)  # Dépenses
    for label, amount in (("Couverture", "70 000"), ("Charpente", "29 999,99")):
        click(qtbot, button(editor, "Ajouter un poste de dépense"))
        row = editor.expenses.table.rowCount() - 1
        type_into(qtbot, editor.expenses.table.cellWidget(row, 0), label)
        type_into(qtbot, editor.expenses.table.cellWidget(row, 1), amount)
    texts = [editor.findings.item(i).text() for i in range(editor.findings.count())]
    assert any("total HT de 99" in t and "0,01" in t for t in texts), texts
    type_into(qtbot, editor.expenses.table.cellWidget(1, 1), "30 000")
    assert not any("Postes de dépense" in editor.findings.item(i).text()
                   for i in range(editor.findings.count()))
    assert "100 000,00" in editor.expenses.summary.text().replace("\u202f", " ").replace(
        "\xa0", " ")
    qtbot.keySequence(editor, "Ctrl+S")
    assert not editor.is_dirty()
    with window.db.read() as session:
        operation = session.scalars(select(Operation).where(
            Operation.reference == "OP-POSTES-1")).one()
        items = session.scalars(select(ExpenseItem).where(
            ExpenseItem.operation_id == operation.id).order_by(ExpenseItem.position)).all()
        assert [(i.label, i.amount_ht) for i in items] == [
            ("Couverture", Decimal("70000.00")), ("Charpente", Decimal("30000.00"))]
