"""The Enveloppes page and the simulation editor, clicked and typed on the real widgets
of the main window over the demo base; results checked in the database."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit
from sqlalchemy import text

from desktop.views import VIEWS

ROOT = Path(__file__).resolve().parents[1]

# Independent of the code under test: the DETR 2025 lines of the demo's arrondissement.
DETR_591 = """
SELECT COALESCE(SUM(fl.amount_requested_cents), 0),
       COALESCE(SUM(CASE WHEN fl.status = 'accorde' THEN fl.amount_granted_cents END), 0),
       COUNT(DISTINCT fl.operation_id)
FROM funding_line fl WHERE fl.scheme_code = :scheme AND fl.budget_year = 2025
AND fl.operation_id IN (
    SELECT oc.operation_id FROM operation_commune oc JOIN commune c ON c.code = oc.commune_code
    WHERE c.arrondissement_code = '591'
    UNION SELECT l.operation_id FROM operation_contract l JOIN contract k
    ON k.id = l.contract_id WHERE k.arrondissement_code = '591')
"""


def sums(db, scheme="DETR"):
    with db.engine.connect() as connection:
        requested, granted, count = connection.execute(text(DETR_591),
                                                       {"scheme": scheme}).one()
    return D(int(requested)) / 100, D(int(granted)) / 100, int(count)


def euro(amount: D) -> str:
    units, cents = f"{amount:.2f}".split(".")
    return f"{int(units):,}".replace(",", "\u202f") + f",{cents}\xa0€"


def envelopes_page(qtbot, window):
    keys = [key for key, _label, _description in VIEWS]
    item = window.navigation.item(keys.index("envelopes"))
    rect = window.navigation.visualItemRect(item)
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())
    page = window.current_page()
    assert page.title == "Enveloppes"
    return page


def row_of(page, perimeter: str, scheme: str = "DETR") -> int:
    for number, row in enumerate(page.model.rows):
        if row.figures.perimeter_label == perimeter and row.figures.scheme_label == scheme:
            return number
    raise AssertionError(f"{scheme} {perimeter} absent")


def cell(page, row: int, column: int) -> str:
    return page.model.index(row, column).data()


def test_envelopes_page_shows_the_demo_figures(qtbot, window, demo_db):
    page = envelopes_page(qtbot, window)
    assert page.year.currentText() == "2025"
    requested, granted, count = sums(demo_db)
    row = row_of(page, "Arrondissement d'Avesnes-sur-Helpe")
    assert [cell(page, row, c) for c in range(11)] == [
        "DETR", "2025", "Arrondissement d'Avesnes-sur-Helpe", "DETR 2025 — Nord",
        euro(D("4200000.00")), euro(requested), euro(granted),
        euro(D("4200000.00") - granted), cell(page, row, 8), str(count), "0"]
    assert granted < D("4200000.00")  # the demo's envelope is not over-programmed
    dsil = row_of(page, "Arrondissement d'Avesnes-sur-Helpe", "DSIL")
    assert cell(page, dsil, 6) == euro(sums(demo_db, "DSIL")[1])
    assert page.warnings.isHidden()
    page.grab().save(str(Path(window.db.target.path).parent / "enveloppes.png"))


def test_create_an_envelope_and_see_the_refusal_in_the_dialog(qtbot, window, demo_db):
    page = envelopes_page(qtbot, window)
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    dialog = [w for w in QApplication.topLevelWidgets()
              if type(w).__name__ == "EnvelopeDialog" and w.isVisible()][0]
    dialog.by_arrondissement.setChecked(True)
    dialog.arrondissement.setCurrentIndex(dialog.arrondissement.findData("592"))
    dialog.scheme.setCurrentIndex(dialog.scheme.findData("DETR"))
    assert dialog.parent_box.currentText() == "DETR 2025 — Nord"
    qtbot.keyClicks(dialog.amount, "1 250 000,00")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    with demo_db.engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT e.amount_cents, p.departement_code FROM envelope e JOIN envelope p "
            "ON p.id = e.parent_id WHERE e.arrondissement_code = '592'")).all()
    assert stored == [(125_000_000, "59")]

    # 591's DETR envelope brought below what is programmed: refused, said in the dialog.
    page.table.selectRow(row_of(page, "Arrondissement d'Avesnes-sur-Helpe"))
    qtbot.mouseClick(page.edit_button, Qt.MouseButton.LeftButton)
    dialog = [w for w in QApplication.topLevelWidgets()
              if type(w).__name__ == "EnvelopeDialog" and w.isVisible()][0]
    dialog.amount.selectAll()
    qtbot.keyClicks(dialog.amount, "1 000 000")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.error.text().startswith(
        "Enveloppe DETR 2025 — Arrondissement d'Avesnes-sur-Helpe : la programmation (")
    assert "dépasse le montant notifié (1\u202f000\u202f000,00\xa0€)" in dialog.error.text()
    dialog.reject()
    with demo_db.engine.connect() as connection:
        assert connection.execute(text(
            "SELECT amount_cents FROM envelope WHERE arrondissement_code = '591' "
            "AND scheme_code = 'DETR'")).scalar() == 420_000_000


def _type_in(qtbot, table, row: int, column: int, typed: str, during=None) -> None:
    index = table.model().index(row, column)
    rect = table.visualRect(index)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert table.currentIndex() == index
    # F2 opens the cell's editor (as a double click or typing would).
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editors = [e for e in table.viewport().findChildren(QLineEdit) if e.isVisible()]
    assert len(editors) == 1, editors
    editor = editors[0]
    editor.selectAll()
    qtbot.keyClicks(editor, typed)
    if during is not None:
        during()  # before the cell is left: the totals already follow what is typed
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # The delegate commits on the next turn of the event loop.
    qtbot.waitUntil(lambda: table.state() != QAbstractItemView.State.EditingState)


def test_simulation_typing_updates_the_totals_then_apply_and_undo(qtbot, window, demo_db,
                                                                 tmp_path, monkeypatch):
    page = envelopes_page(qtbot, window)
    page.table.selectRow(row_of(page, "Arrondissement d'Avesnes-sur-Helpe"))
    qtbot.mouseClick(page.simulations_button, Qt.MouseButton.LeftButton)
    editor = page.editors[-1]
    qtbot.addWidget(editor)
    editor.new_simulation("Commission du 20 mars")
    requested, granted, count = sums(demo_db)
    assert editor.model.rowCount() == count
    assert editor.totals.text().startswith(
        f"Enveloppe {euro(D('4200000.00'))} — programmé {euro(granted)}")
    first = editor.model.rows[0]
    with demo_db.engine.connect() as connection:
        before = connection.execute(text(
            "SELECT status, amount_granted_cents, decision_date FROM funding_line "
            "WHERE id = :id"), {"id": first.funding_line_id.hex if demo_db.is_sqlite
                               else first.funding_line_id}).one()
    old = D(before[1]) / 100
    expected = granted - old + D("150000.00")
    seen = []
    _type_in(qtbot, editor.table, 0, 5, "150 000,00",
             during=lambda: seen.append(editor.totals.text()))
    assert f"programmé {euro(expected)}" in seen[0]
    assert f"programmé {euro(expected)}" in editor.totals.text()
    assert f"reste à attribuer {euro(D('4200000.00') - expected)}" in editor.totals.text()
    assert editor.model.index(0, 5).data() == euro(D("150000.00"))
    # A mistyped amount is refused and said; the totals do not move.
    second_before = editor.model.rows[1].proposed
    _type_in(qtbot, editor.table, 1, 5, "12,345")
    assert "ambigu" in editor.message.text()
    assert f"programmé {euro(expected)}" in editor.totals.text()
    assert editor.model.rows[1].proposed == second_before
    # Échap while typing puts the amount (and the totals) back.
    qtbot.mouseClick(editor.table.viewport(), Qt.MouseButton.LeftButton,
                     pos=editor.table.visualRect(editor.model.index(2, 5)).center())
    qtbot.keyClick(editor.table, Qt.Key.Key_F2)
    line = [e for e in editor.table.viewport().findChildren(QLineEdit) if e.isVisible()][0]
    line.selectAll()
    qtbot.keyClicks(line, "9")
    assert f"programmé {euro(expected)}" not in editor.totals.text()
    qtbot.keyClick(line, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: editor.table.state() != QAbstractItemView.State.EditingState)
    assert f"programmé {euro(expected)}" in editor.totals.text()
    # The provisional status and the category are chosen from lists in their cells.
    from PySide6.QtWidgets import QComboBox

    def choose(row: int, column: int, label: str) -> None:
        rect = editor.table.visualRect(editor.model.index(row, column))
        qtbot.mouseClick(editor.table.viewport(), Qt.MouseButton.LeftButton,
                         pos=rect.center())
        qtbot.keyClick(editor.table, Qt.Key.Key_F2)
        box = [b for b in editor.table.viewport().findChildren(QComboBox) if b.isVisible()][0]
        box.setCurrentIndex(box.findText(label))
        qtbot.keyClick(box, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: editor.table.state() != QAbstractItemView.State.EditingState)

    refused = editor.model.rows[3]
    choose(3, 7, "Refusé")
    assert refused.status == "refuse"
    assert "1 refusé" in editor.totals.text()
    after_refusal = expected - refused.proposed
    assert f"programmé {euro(after_refusal)}" in editor.totals.text()
    choose(3, 8, "Bâtiments scolaires et périscolaires")
    assert editor.model.index(3, 8).data() == "Bâtiments scolaires et périscolaires"
    choose(3, 7, "Retenu")
    assert f"programmé {euro(expected)}" in editor.totals.text()
    editor.grab().save(str(tmp_path / "simulation.png"))

    qtbot.mouseClick(editor.apply_button, Qt.MouseButton.LeftButton)
    assert editor.message.text().startswith("Simulation appliquée")
    with demo_db.engine.connect() as connection:
        after = connection.execute(text(
            "SELECT status, amount_granted_cents FROM funding_line WHERE id = :id"),
            {"id": first.funding_line_id.hex if demo_db.is_sqlite
             else first.funding_line_id}).one()
        origins = connection.execute(text(
            "SELECT DISTINCT origin FROM audit_entry WHERE entity = 'funding_line' "
            "AND batch_id = :batch"), {"batch": editor.view.id.hex}).scalars().all()
    assert tuple(after) == ("accorde", 15_000_000)
    with demo_db.engine.connect() as connection:
        category = connection.execute(text(
            "SELECT c.label FROM simulation_line l JOIN priority_category c "
            "ON c.id = l.category_id WHERE l.id = :id"), {"id": refused.id.hex}).scalar()
    assert category == "Bâtiments scolaires et périscolaires"  # saved before applying
    assert origins == ["simulation"]
    assert not editor.apply_button.isEnabled()
    qtbot.mouseClick(editor.undo_button, Qt.MouseButton.LeftButton)
    assert editor.message.text().startswith("Application annulée")
    with demo_db.engine.connect() as connection:
        restored = connection.execute(text(
            "SELECT status, amount_granted_cents, decision_date FROM funding_line "
            "WHERE id = :id"), {"id": first.funding_line_id.hex}).one()
    assert tuple(restored) == tuple(before)
    # The page follows what the simulations did (one simulation listed).
    assert cell(page, row_of(page, "Arrondissement d'Avesnes-sur-Helpe"), 10) == "1"
    # Deleted (once confirmed): gone from the base, the funding lines as they were.
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(editor.delete_button, Qt.MouseButton.LeftButton)
    assert editor.message.text() == "Simulation supprimée."
    with demo_db.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM simulation_line")).scalar() == 0
        assert tuple(connection.execute(text(
            "SELECT status, amount_granted_cents, decision_date FROM funding_line "
            "WHERE id = :id"), {"id": first.funding_line_id.hex}).one()) == tuple(before)
    assert cell(page, row_of(page, "Arrondissement d'Avesnes-sur-Helpe"), 10) == "0"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_envelopes_command_text_and_json(demo_path, demo_db):
    requested, granted, count = sums(demo_db)
    result = run("envelopes", "--db", str(demo_path), "--year", "2025")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Enveloppe", "Notifié", "Demandé", "Programmé", "Reste", "à",
                                "attribuer", "Versé", "Dossiers"]
    avesnes = next(line for line in lines
                   if line.startswith("DETR 2025 — Arrondissement d'Avesnes-sur-Helpe"))
    assert euro(granted) in avesnes and avesnes.endswith(f" {count}")
    result = run("envelopes", "--db", str(demo_path), "--json")
    assert result.returncode == 0, result.stderr
    found = {(e["scheme_code"], e["perimeter_label"]): e for e in json.loads(result.stdout)}
    entry = found["DETR", "Arrondissement d'Avesnes-sur-Helpe"]
    assert entry["amount"] == "4200000.00"
    assert D(entry["programmed"]) == granted and D(entry["requested"]) == requested
    assert D(entry["remaining"]) == D("4200000.00") - granted
    assert entry["delegated_from"] == "DETR 2025 — Nord"
    assert found["DETR", "Nord"]["delegated"] == "4200000.00"
    result = run("envelopes", "--db", str(demo_path), "--year", "1999")
    assert result.returncode == 2
    assert "argument --year : « 1999 » n'est pas une année" in result.stderr


def test_envelopes_help_is_french():
    from tests.test_cli_french import english_in

    result = run("envelopes", "--help")
    assert result.returncode == 0 and result.stderr == ""
    assert english_in(result.stdout) == [], result.stdout
    assert result.stdout.startswith("utilisation : main.py envelopes")
    assert "chaînes d'euros exactes" in result.stdout


def test_envelopes_page_exports_its_figures(qtbot, window, demo_db, tmp_path):
    import pandas as pd

    page = envelopes_page(qtbot, window)
    path = page.export(tmp_path / "enveloppes.xlsx")
    frame = pd.read_excel(path, engine="calamine")
    assert list(frame.columns) == ["Dotation", "Année", "Périmètre", "Déléguée de", "Notifié",
                                   "Demandé", "Programmé", "Reste à attribuer", "Versé",
                                   "Dossiers", "Simulations"]
    avesnes = frame[(frame["Périmètre"] == "Arrondissement d'Avesnes-sur-Helpe")
                    & (frame["Dotation"] == "DETR")].iloc[0]
    requested, granted, count = sums(demo_db)
    assert avesnes["Notifié"] == 4200000.0
    assert round(D(str(avesnes["Programmé"])), 2) == granted
    assert avesnes["Dossiers"] == count


def test_delete_an_envelope_from_the_page(qtbot, window, demo_db, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    page = envelopes_page(qtbot, window)
    asked, warned = [], []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or
                        QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    # The Nord's envelope has 591's delegated from it: refused, said.
    page.table.selectRow(row_of(page, "Nord"))
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert warned == ["L'enveloppe DETR 2025 — Nord ne peut pas être supprimée : 1 "
                      "enveloppe en est déléguée."]
    page.table.selectRow(row_of(page, "Arrondissement d'Avesnes-sur-Helpe"))
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert asked[-1].startswith("Supprimer l'enveloppe DETR 2025 — Arrondissement "
                                "d'Avesnes-sur-Helpe ?")
    with demo_db.engine.connect() as connection:
        left = connection.execute(text(
            "SELECT scheme_code, COALESCE(arrondissement_code, departement_code) "
            "FROM envelope ORDER BY 1, 2")).all()
        audited = connection.execute(text(
            "SELECT COUNT(*) FROM audit_entry WHERE entity = 'envelope' "
            "AND action = 'delete'")).scalar()
    assert [tuple(r) for r in left] == [("DETR", "59"), ("DSIL", "59"), ("DSIL", "591")]
    assert audited == 1
    assert len(page.model.rows) == 3
