"""Editors that help (issue 10, item 5): payments proposed within the rules, saving from
a plan cell, the plan readable on a 1366 × 768 screen, signs drawn from icons, a new
contract with no type chosen, notes on several lines, the contract's operations by axis
with their total, the next reference proposed. Real widgets driven by clicks and keys,
results read back from the database."""

from __future__ import annotations

import re
import shutil
from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QStyle
from sqlalchemy import BigInteger, case, func, select, type_coerce

from db import queries
from db.database import open_database
from db.editing import contract_for_edit, find_by_reference, operation_for_edit
from db.errors import InvalidInput
from db.formatting import euros
from db.models import (
    Contract,
    ContractType,
    FundingLine,
    Operation,
    OperationLink,
    Organisation,
    Payment,
)
from db.services.contracts import AxisData, ContractData, save_contract
from db.services.operations import FundingLineData, LinkData, OperationData, save_operation
from db.vocabulary import FundingStatus, PaymentKind
from desktop.app import make_application
from desktop.contract_editor import ContractEditor
from desktop.main_window import MainWindow
from desktop.operation_editor import LINE_COLUMNS, REQUESTED, OperationEditor
from tests.test_editors import activate, answer_modal, choose, click, key_text, type_into

EMOJI = ("⛔", "⚠", "✖", "✔")


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def findings_of(editor) -> list[str]:
    return [editor.findings.item(i).text() for i in range(editor.findings.count())]


# --- saving while a plan cell has the focus ---------------------------------------------

@pytest.mark.parametrize("how", ["Ctrl+S", "bouton"])
def test_saving_with_a_plan_cell_focused_saves_it(qtbot, window, how):
    operation_id = find_by_reference(window.db, "operation", "FICTIF-DETR-2025-001")
    editor = window.open_operation(operation_id)
    activate(qtbot, editor)
    editor.tabs.setCurrentIndex(2)
    last = editor.lines.rowCount() - 1
    assert last >= 1  # the reload goes through rows whose widgets are gone
    cell = editor.lines.cellWidget(last, REQUESTED)
    click(qtbot, cell)
    assert cell.hasFocus() and editor.lines.currentRow() == last
    cell.selectAll()
    key_text(qtbot, cell, "12 345,67")  # typed, not validated: Ctrl+S comes first
    if how == "Ctrl+S":
        qtbot.keySequence(editor, "Ctrl+S")
    else:
        click(qtbot, editor.save_button)
    assert not editor.is_dirty()
    saved = operation_for_edit(window.db, operation_id)
    assert saved.funding_lines[last].amount_requested == Decimal("12345.67")
    assert editor.lines.currentRow() == last  # the agent stays on the line


# --- "Ajouter un versement" proposes what the rules allow ------------------------------

def test_add_payment_proposes_the_advance_then_instalments_then_the_balance(qtbot, window):
    operation_id = find_by_reference(window.db, "operation", "FICTIF-DETR-2025-001")
    before = operation_for_edit(window.db, operation_id)
    line = before.funding_lines[0]
    assert line.scheme_code == "DETR" and line.status is FundingStatus.GRANTED
    assert not line.payments
    granted = line.amount_granted
    editor = window.open_operation(operation_id)
    activate(qtbot, editor)
    # the advance comes "lors du commencement d'exécution" (R2334-30)
    type_into(qtbot, editor.dates["start_date"].line, "01/06/2025")
    editor.tabs.setCurrentIndex(2)
    editor.lines.setCurrentCell(0, 0)

    # 30 % of the grant, then avance + acomptes up to 80 %, then what remains
    expected = [(PaymentKind.ADVANCE, granted * 30 / 100),
                (PaymentKind.INSTALMENT, granted * 80 / 100 - granted * 30 / 100),
                (PaymentKind.BALANCE, granted - granted * 80 / 100)]
    for row, (kind, amount) in enumerate(expected):
        click(qtbot, editor.add_payment_button)
        assert editor.payments.rowCount() == row + 1
        assert editor.payments.cellWidget(row, 0).currentData() == kind.value
        assert editor.payments.cellWidget(row, 2).value() == amount.quantize(Decimal("0.01"))
        texts = "\n".join(findings_of(editor))
        assert "R2334-30" not in texts and "au-delà du montant accordé" not in texts, texts
    assert "reste à verser 0,00" in plain(editor.payment_summary.text())

    qtbot.keySequence(editor, "Ctrl+S")
    assert not editor.is_dirty(), findings_of(editor)
    with window.db.read() as session:
        paid = session.execute(
            select(Payment.kind, Payment.amount).join(FundingLine)
            .where(FundingLine.id == line.id).order_by(Payment.amount.desc())).all()
    assert sorted((k, a) for k, a in paid) == sorted(
        (k.value, a.quantize(Decimal("0.01"))) for k, a in expected)
    assert sum(a for _, a in paid) == granted


def test_add_payment_on_a_line_with_nothing_left_proposes_no_amount(qtbot, window):
    operation_id = find_by_reference(window.db, "operation", "FICTIF-DETR-2025-001")
    editor = window.open_operation(operation_id)
    activate(qtbot, editor)
    editor.tabs.setCurrentIndex(2)
    editor.lines.setCurrentCell(0, 0)
    type_into(qtbot, editor.lines.cellWidget(0, 3), "0")  # nothing granted, nothing to pay
    click(qtbot, editor.add_payment_button)
    assert editor.payments.cellWidget(0, 2).value() is None
    assert "rien à verser" in editor.payment_summary.toolTip()


# --- financer names read from their beginning --------------------------------------------

def test_long_financer_names_read_from_the_beginning_with_the_whole_name_as_tooltip(
        qtbot, window):
    operation_id = find_by_reference(window.db, "operation", "FICTIF-DETR-2025-001")
    editor = window.open_operation(operation_id)
    activate(qtbot, editor)
    editor.tabs.setCurrentIndex(2)
    click(qtbot, editor.add_line_button)
    row = editor.lines.rowCount() - 1
    name = "Région Hauts-de-France (Conseil régional)"
    choose(qtbot, editor.lines.cellWidget(row, 0), name)
    editor.lines.cellWidget(row, 2).setFocus()  # the agent goes on to the amount
    qtbot.waitUntil(lambda: not editor.lines.cellWidget(row, 0).lineEdit().hasFocus())
    editor.lines.setCurrentCell(0, 0)
    box = editor.lines.cellWidget(row, 0)
    assert box.lineEdit().cursorPosition() == 0  # "Région Hauts-de-Fr…", never "…nal)"
    assert name in box.toolTip()
    editor.discard_and_close()
    editor = window.open_operation(operation_id)  # on loading too
    for r in range(editor.lines.rowCount()):
        shown = editor.lines.cellWidget(r, 0)
        assert shown.lineEdit().cursorPosition() == 0
        assert shown.currentText() in shown.toolTip()


# --- the plan at 1366 × 768: every column readable without a horizontal scroll ---------

@pytest.fixture(scope="module")
def generated_template(tmp_path_factory, sqlite_template):
    from tests.bench.generate import generate

    path = tmp_path_factory.mktemp("generee") / "generee.sqlite"
    shutil.copyfile(sqlite_template, path)
    generate(str(path), 400, seed=2026)
    return path


@pytest.fixture
def generated_db(generated_template, tmp_path):
    path = tmp_path / "generee.sqlite"
    shutil.copyfile(generated_template, path)
    database = open_database(path)
    yield database
    database.close()


def test_the_plan_tab_fits_a_1366_by_768_screen(qtbot, generated_db, tmp_path):
    make_application()
    with generated_db.read() as session:
        # the plan with the most lines, then the longest financer names
        reference, longest = session.execute(
            select(Operation.reference, func.max(func.length(Organisation.name)))
            .join(FundingLine, FundingLine.operation_id == Operation.id)
            .join(Organisation, Organisation.id == FundingLine.financer_id)
            .group_by(Operation.id, Operation.reference)
            .order_by(func.count().desc(), func.max(func.length(Organisation.name)).desc())
            .limit(1)).one()
    assert longest > 60  # names such names as "Syndicat intercommunal d'assainissement…"
    main = MainWindow(generated_db)
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    editor = main.open_operation(find_by_reference(generated_db, "operation", reference))
    editor.resize(1366, 768)
    editor.tabs.setCurrentIndex(2)
    editor.lines.setCurrentCell(0, 0)
    qtbot.waitUntil(lambda: editor.lines.viewport().width() > 0)
    assert editor.width() <= 1366 and editor.height() <= 768
    table = editor.lines
    assert table.horizontalScrollBar().maximum() == 0
    header = table.horizontalHeader()
    margin = editor.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin)
    for column, text in enumerate(LINE_COLUMNS):
        needed = header.fontMetrics().horizontalAdvance(text) + 2 * margin
        assert needed <= header.sectionSize(column), (text, needed, header.sectionSize(column))
        assert header.sectionViewportPosition(column) + header.sectionSize(column) \
            <= table.viewport().width()
        assert table.horizontalHeaderItem(column).toolTip()
    # the selected line's decision and payments are in sight, under the table
    for field in (*editor.decision.values(), editor.payments, editor.add_payment_button):
        corner = field.mapTo(editor, field.rect().bottomRight())
        assert field.isVisible() and editor.rect().contains(corner), field.accessibleName()
    picture = tmp_path / "plan-1366x768.png"
    assert editor.grab().save(str(picture))
    assert picture.stat().st_size > 10_000


# --- signs drawn from icons, not emoji ---------------------------------------------------

def test_findings_signs_are_icons_shipped_with_the_application(qtbot, window):
    editor = window.open_operation(find_by_reference(window.db, "operation",
                                                     "FICTIF-DETR-2025-001"))
    activate(qtbot, editor)
    editor.status.setCurrentIndex(editor.status.findData("programme"))
    type_into(qtbot, editor.cost_ht, "1 000")  # the plan now exceeds the cost: blocking
    type_into(qtbot, editor.dates["start_date"].line, "31/02/2026")  # refused input
    signs = {}
    for i in range(editor.findings.count()):
        item = editor.findings.item(i)
        assert not item.icon().isNull(), item.text()
        assert not any(sign in item.text() for sign in EMOJI), item.text()
        signs.setdefault(item.data(Qt.ItemDataRole.UserRole), item)
    assert {"blocking"} <= set(signs)
    # the SVG is drawn (Qt's svg plugin is there): red disc around a white bar
    image = signs["blocking"].icon().pixmap(16, 16).toImage()
    assert image.pixelColor(8, 2).red() > 180 and image.pixelColor(8, 2).green() < 60
    assert image.pixelColor(8, 8) == QColor("#ffffff")

    contract = window.open_contract(find_by_reference(window.db, "contract",
                                                      "FICTIF-CRTE-591"))
    activate(qtbot, contract)
    type_into(qtbot, contract.envelope_total, "douze")  # refused input
    for i in range(contract.findings.count()):
        item = contract.findings.item(i)
        assert not item.icon().isNull()
        assert not any(sign in item.text() for sign in EMOJI), item.text()


# --- a new contract starts with no type chosen -------------------------------------------

def test_a_new_contract_has_no_type_until_the_agent_chooses_one(qtbot, window):
    window.show_view("contracts")
    qtbot.keySequence(window, "Ctrl+N")
    editor = window.editors[-1]
    assert isinstance(editor, ContractEditor)
    activate(qtbot, editor)
    assert editor.type.currentIndex() == -1 and editor.type.currentText() == ""
    assert editor.type.placeholderText() == "Choisir un type…"
    assert not editor.is_dirty()
    type_into(qtbot, editor.reference, "CONTRAT-SANS-TYPE")
    type_into(qtbot, editor.title, "Contrat dont le type reste à choisir")
    seen = []
    answer_modal(qtbot, lambda box: seen.append(box.text()))
    qtbot.keySequence(editor, "Ctrl+S")
    assert seen == ["Type du contrat : champ obligatoire."]
    assert find_by_reference(window.db, "contract", "CONTRAT-SANS-TYPE") is None

    editor.type.setCurrentIndex(editor.type.findData("CRTE"))
    activate(qtbot, editor)  # back from the message box
    qtbot.keySequence(editor, "Ctrl+S")
    assert not editor.is_dirty()
    with window.db.read() as session:
        saved = session.scalars(select(Contract).where(
            Contract.reference == "CONTRAT-SANS-TYPE")).one()
        assert session.get(ContractType, saved.type_id).code == "CRTE"


def test_the_service_refuses_a_contract_without_type(db):
    data = ContractData(reference="C-1", title="Contrat", type_code=None)
    with pytest.raises(InvalidInput, match="^Type du contrat : champ obligatoire.$"):
        save_contract(db, data)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Contract)) == 0


# --- notes on several lines ----------------------------------------------------------------

def type_lines(qtbot, widget, lines: list[str]) -> None:
    widget.setFocus()
    widget.selectAll()
    for index, text in enumerate(lines):
        if index:
            qtbot.keyClick(widget, Qt.Key.Key_Return)  # a new line, not "validate"
        key_text(qtbot, widget, text)


def test_notes_keep_their_line_breaks(qtbot, window):
    operation_id = find_by_reference(window.db, "operation", "FICTIF-DETR-2025-001")
    editor = window.open_operation(operation_id)
    activate(qtbot, editor)
    type_lines(qtbot, editor.notes, ["Visite du 12/03 : chantier arrêté.",
                                     "Rappeler la mairie d'Avesnes."])
    assert editor.is_dirty()
    qtbot.keySequence(editor, "Ctrl+S")
    assert not editor.is_dirty()
    with window.db.read() as session:
        assert session.get(Operation, operation_id).notes == (
            "Visite du 12/03 : chantier arrêté.\nRappeler la mairie d'Avesnes.")

    contract_id = find_by_reference(window.db, "contract", "FICTIF-CRTE-591")
    contract = window.open_contract(contract_id)
    activate(qtbot, contract)
    type_lines(qtbot, contract.notes, ["Comité de l'État en mars.", "", "Avenant à prévoir."])
    qtbot.keySequence(contract, "Ctrl+S")
    assert not contract.is_dirty()
    assert contract_for_edit(window.db, contract_id).notes == (
        "Comité de l'État en mars.\n\nAvenant à prévoir.")
    contract.close()
    reopened = window.open_contract(contract_id)
    assert reopened.notes.toPlainText().splitlines()[2] == "Avenant à prévoir."


def test_a_funding_line_s_notes_survive_the_editor_and_can_be_written(qtbot, window):
    with window.db.read() as session:
        operation_id, position, notes = session.execute(
            select(FundingLine.operation_id, FundingLine.position, FundingLine.notes)
            .where(FundingLine.notes.is_not(None)).limit(1)).one()
    editor = window.open_operation(operation_id)
    activate(qtbot, editor)
    type_into(qtbot, editor.title, "Intitulé corrigé par l'agent")
    qtbot.keySequence(editor, "Ctrl+S")  # the line's notes were dropped here
    assert not editor.is_dirty()
    saved = operation_for_edit(window.db, operation_id)
    assert saved.funding_lines[position].notes == notes

    editor.tabs.setCurrentIndex(2)
    editor.lines.setCurrentCell(position, 0)
    assert editor.decision["notes"].toPlainText() == notes
    type_lines(qtbot, editor.decision["notes"], ["Accord oral du financeur.", "À confirmer."])
    qtbot.keySequence(editor, "Ctrl+S")
    assert operation_for_edit(window.db, operation_id).funding_lines[position].notes == (
        "Accord oral du financeur.\nÀ confirmer.")


def test_decision_fields_of_the_selected_line_go_to_that_line(qtbot, window):
    operation_id = find_by_reference(window.db, "operation", "FICTIF-DETR-2025-001")
    editor = window.open_operation(operation_id)
    activate(qtbot, editor)
    editor.tabs.setCurrentIndex(2)
    editor.lines.setCurrentCell(1, 0)
    assert "ligne 2" in editor.decision_box.title()
    type_into(qtbot, editor.decision["decision_reference"], "Arrêté n° 2025-77")
    field = editor.decision["notification_date"].line
    field.setFocus()
    field.selectAll()
    key_text(qtbot, field, "28/05/2025")  # not validated when the agent picks line 1
    editor.lines.setCurrentCell(0, 0)
    assert editor.decision["decision_reference"].text() != "Arrêté n° 2025-77"
    qtbot.keySequence(editor, "Ctrl+S")
    saved = operation_for_edit(window.db, operation_id).funding_lines
    assert saved[1].decision_reference == "Arrêté n° 2025-77"
    assert saved[1].notification_date == date(2025, 5, 28)
    assert saved[0].decision_reference != "Arrêté n° 2025-77"


# --- the contract's operations: by axis number, then reference; a total row -------------

def natural(text: str) -> list:
    """"9" before "10": digits as numbers (a number sorts before letters)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", text.casefold()) if part]


def test_contract_operations_by_axis_number_then_reference(db):
    contract = save_contract(db, ContractData(
        reference="CRTE-TEST", title="Contrat de test", type_code="CRTE",
        axes=[AxisData(f"Axe {n}", str(n)) for n in range(1, 12)]))
    axes = {a.number: a.id for a in contract_for_edit(db, contract.id).axes}
    for reference, axis in (("OP-2026-10", "10"), ("OP-2026-9", "2"), ("OP-2026-011", "2"),
                            ("OP-2026-1", None), ("OP-2026-2", "1"), ("OP-2026-3", "10")):
        save_operation(db, OperationData(
            reference=reference, title=f"Opération {reference}",
            links=[LinkData(contract.id, axes[axis] if axis else None)],
            funding_lines=[FundingLineData(None, amount_requested=Decimal("1000.00"),
                                           amount_granted=Decimal("1000.00"),
                                           status=FundingStatus.GRANTED)]))
    rows = queries.contract_operations(db, contract.id)
    assert [(r.axis, r.reference) for r in rows] == [
        ("1. Axe 1", "OP-2026-2"), ("2. Axe 2", "OP-2026-9"), ("2. Axe 2", "OP-2026-011"),
        ("10. Axe 10", "OP-2026-3"), ("10. Axe 10", "OP-2026-10"), ("Sans axe", "OP-2026-1")]
    total = queries.contract_operations_total(rows)
    assert (total.granted.value, total.granted.missing) == (Decimal("6000.00"), 0)
    assert (total.cost.value, total.cost.missing) == (Decimal("0.00"), 6)  # no cost entered


def test_contract_tab_has_a_total_row_exact_and_axes_in_order(qtbot, generated_db):
    make_application()
    with generated_db.read() as session:
        contract_id = session.execute(
            select(OperationLink.contract_id).group_by(OperationLink.contract_id)
            .order_by(func.count().desc()).limit(1)).scalar_one()
        linked = select(OperationLink.operation_id).where(
            OperationLink.contract_id == contract_id)
        # raw integer cents, read apart from the application's Money type
        columns = Operation.__table__.c

        def cents(name: str):
            return type_coerce(columns[name], BigInteger)

        cost = case((columns.base_kind == "TTC", cents("cost_ttc_cents")),
                    else_=cents("cost_ht_cents"))
        count, cost_cents, known_costs, granted_cents, granted_known, paid_cents = \
            session.execute(
                select(func.count(), func.sum(cost), func.count(cost),
                       func.sum(cents("granted_total_cents")),
                       func.count(cents("granted_total_cents")),
                       func.sum(cents("paid_total_cents")))
                .where(Operation.id.in_(linked))).one()
    main = MainWindow(generated_db)
    qtbot.addWidget(main)
    main.show()
    editor = main.open_contract(contract_id)
    editor.tabs.setCurrentIndex(3)
    table, footer = editor.operations, editor.operations_total
    assert table.rowCount() == count
    axes = [table.item(r, 0).text() for r in range(count)]
    references = [table.item(r, 1).text() for r in range(count)]
    numbered = [a for a in axes if a != "Sans axe"]
    assert numbered == sorted(numbered, key=lambda a: natural(a.split(".")[0]))
    assert axes[len(numbered):] == ["Sans axe"] * (count - len(numbered))
    for axis in set(axes):
        within = [ref for a, ref in zip(axes, references, strict=True) if a == axis]
        assert within == sorted(within, key=natural)

    def cell(column: int) -> str:
        return plain(footer.item(0, column).text())

    assert cell(0) == f"Total ({count} opérations)"
    missing_costs = count - known_costs
    assert cell(4).split("\n")[0] == plain(euros(Decimal(cost_cents) / 100))
    if missing_costs:
        assert cell(4).split("\n")[1] == f"+ {missing_costs} n. c."
    assert cell(5).split("\n")[0] == plain(euros(Decimal(granted_cents) / 100))
    if count - granted_known:
        assert cell(5).split("\n")[1] == f"+ {count - granted_known} n. c."
        assert "non communiqués" in footer.item(0, 5).toolTip()
    assert cell(6) == plain(euros(Decimal(paid_cents) / 100))
    for column in range(table.columnCount()):
        assert footer.columnWidth(column) == table.columnWidth(column)


# --- the next reference is proposed ----------------------------------------------------------

def add_operation(db, reference: str) -> None:
    save_operation(db, OperationData(reference=reference, title=f"Opération {reference}"))


def test_next_reference_of_a_series(db):
    assert queries.next_operation_reference(db, 2026) == "OP-2026-001"  # an empty base
    for reference in ("DETR-2026-013", "DETR-2026-009", "DETR-2025-120", "OP-2026-0042",
                      "cper-requalification-a1", "A_B-2026-001", "AXB-2026-005",
                      "DETR-2026-lot-3-14"):
        add_operation(db, reference)
    assert queries.next_operation_reference(db, 2026, "DETR") == "DETR-2026-014"
    assert queries.next_operation_reference(db, 2027, "DETR") == "DETR-2027-001"
    assert queries.next_operation_reference(db, 2026, "OP") == "OP-2026-0043"  # its width
    assert queries.next_operation_reference(db, 2026, "A_B") == "A_B-2026-002"  # _ is no joker
    assert queries.next_operation_reference(db, 2026, "DSIL") == "DSIL-2026-001"
    # without a prefix: the series the office uses most among its latest operations
    assert queries.next_operation_reference(db, 2026) == "DETR-2026-014"


def test_a_new_operation_is_proposed_the_next_reference_and_saved_with_it(qtbot, window):
    with window.db.read() as session:
        references = session.scalars(select(Operation.reference)).all()
    year = date.today().year
    # the demo numbers its DETR and DSIL files FICTIF-<dispositif>-<année>-NNN, DETR most
    last = max((int(r.rsplit("-", 1)[1]) for r in references
                if r.startswith(f"FICTIF-DETR-{year}-")), default=0)
    expected = f"FICTIF-DETR-{year}-{last + 1:03d}"
    window.show_view("operations")
    qtbot.keySequence(window, "Ctrl+N")
    editor = window.editors[-1]
    assert isinstance(editor, OperationEditor)
    activate(qtbot, editor)
    assert editor.reference.text() == expected
    assert not editor.is_dirty()  # a proposal is no change of the agent's
    type_into(qtbot, editor.title, "Réfection du préau de l'école")
    choose(qtbot, editor.owner, "Commune de Glageon")
    qtbot.keySequence(editor, "Ctrl+S")
    assert not editor.is_dirty(), findings_of(editor)
    assert find_by_reference(window.db, "operation", expected) is not None
