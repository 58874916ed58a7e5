"""The exports of the Échéances, Enveloppes, Journal and Rapports pages: a text too long
for a spreadsheet cell (32 767 characters) is shown to the agent, who cuts it into
« … (suite n) » columns or cancels (nothing written); a text of exactly 32 767 characters
is written whole, without a question. Driven on the real widgets, as the agent does (only
the file dialog is replaced), the file read back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from sqlalchemy import insert, select, update

from db.formatting import number
from db.models import Arrondissement, AuditEntry, Axis, Operation, OperationLink
from db.spreadsheets.export import CELL_LIMIT
from db.text import elide
from db.vocabulary import OperationStatus
from tests.test_deadlines_gui import _open_page, base  # noqa: F401 (a fixture)
from tests.test_export_long_texts import LONG, _rebuilt, _xlsx_rows
from tests.test_programming_gui import envelopes_page

SPLIT_CHOICE = "Découper en plusieurs cellules"
CASES = ["Annuler", SPLIT_CHOICE, "limite"]


def _text(case: str, prefix: str = "") -> str:
    """What is stored so that the cell (*prefix* + text) holds 40 000 characters, or
    exactly CELL_LIMIT at the boundary."""
    return LONG[:CELL_LIMIT - len(prefix)] if case == "limite" else LONG


class Boxes:
    """Answers the long texts' question with *choice* whenever it shows; remembers every
    message box seen (none at the boundary). Stops polling once the export is over."""

    def __init__(self, choice: str) -> None:
        self.choice, self.seen, self.over = choice, [], False
        QTimer.singleShot(0, self._attempt)

    def _attempt(self) -> None:
        if self.over:
            return
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            self.seen.append(box.text())
            label = self.choice if self.choice != "limite" else "Annuler"
            buttons = [b for b in box.buttons() if b.text() == label]
            if not buttons:  # not the question (an error): noted, closed
                self.seen.append(f"sans bouton « {label} »")
            (buttons or box.buttons())[0].click()
        QTimer.singleShot(20, self._attempt)

    def stop(self) -> None:
        self.over = True


def _export(qtbot, monkeypatch, tmp_path, case: str, click, name: str):
    target = tmp_path / name
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    boxes = Boxes(case)
    try:
        click()
    finally:
        boxes.stop()
    return target, boxes.seen


def _check(window, target, seen: list[str], case: str, column: str, expected: str,
           pick) -> None:
    """Annuler: no file, said in the status bar; Découper: the pieces, each within the
    limit, join back to *expected*; limite: no question, the text whole in its column."""
    if case == "limite":
        assert seen == []
        rows = _xlsx_rows(target)
        assert not any(str(h).startswith(f"{column} (suite ") for h in rows[0])
        line = next(r for r in rows[1:] if pick(dict(zip(rows[0], r, strict=True))))
        assert line[rows[0].index(column)] == expected and len(expected) == CELL_LIMIT
        return
    assert len(seen) == 1 and "non écrit" in seen[0] and f"colonne « {column} »" in seen[0]
    assert f"contient {number(len(expected))} caractères" in seen[0]
    if case == "Annuler":
        assert not target.exists()
        assert "aucun fichier écrit" in window.statusBar().currentMessage()
        return
    rows = _xlsx_rows(target)
    header = list(rows[0])
    at = header.index(column)
    assert header[at + 1] == f"{column} (suite 1)"
    line = next(r for r in rows[1:] if pick(dict(zip(header, r, strict=True))))
    assert all(len(v) <= CELL_LIMIT for v in line if isinstance(v, str))
    assert _rebuilt(header, line, column) == expected


def _window(qtbot, db, view: str | None = None):
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    make_application()
    window = MainWindow(db, view=view) if view else MainWindow(db)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


# --- Échéances: the deadline's object (« reference — title of the operation ») -----------

@pytest.mark.parametrize("case", CASES)
def test_deadlines_sheet(qtbot, base, monkeypatch, tmp_path, case):  # noqa: F811
    prefix = "CADUC — "
    title = _text(case, prefix)
    with base.db.write() as session:  # the service caps a title: written in SQL
        session.execute(update(Operation).where(Operation.id == base.caduc)
                        .values(title=title))
    window = _window(qtbot, base.db, view="contracts")
    page = _open_page(qtbot, window)
    assert any(d.reference == "CADUC" for d in page.model.rows)
    target, seen = _export(qtbot, monkeypatch, tmp_path, case, lambda: qtbot.mouseClick(
        page.sheet_button, Qt.MouseButton.LeftButton), "echeances.xlsx")
    _check(window, target, seen, case, "Objet", prefix + title,
           lambda row: row["Référence"] == "CADUC")


# --- Enveloppes: the perimeter (an arrondissement's name, from the reference data) ------

@pytest.mark.parametrize("case", CASES)
def test_envelopes_sheet(qtbot, demo_db, monkeypatch, tmp_path, case):
    prefix = "Arrondissement de "
    name = _text(case, prefix)
    assert f"Arrondissement {elide('de', name)}" == prefix + name
    with demo_db.write() as session:
        session.execute(update(Arrondissement).where(Arrondissement.name == "Avesnes-sur-Helpe")
                        .values(name=name))
    window = _window(qtbot, demo_db)
    envelopes_page(qtbot, window)
    target, seen = _export(qtbot, monkeypatch, tmp_path, case, window.export_action.trigger,
                           "enveloppes.xlsx")
    _check(window, target, seen, case, "Périmètre", prefix + name,
           lambda row: row["Dotation"] == "DETR"
           and str(row["Périmètre"]).startswith(prefix + name[:100]))


# --- Journal: the agent of a change --------------------------------------------------
# (The values before / after are shortened to 300 characters by the journal itself,
# db.history.values.TEXT_LIMIT, « … » at the end: what the page shows is what it exports.)

@pytest.mark.parametrize("case", CASES)
def test_journal_sheet(qtbot, demo_db, monkeypatch, tmp_path, case):
    login = _text(case)
    with demo_db.write() as session:  # the app caps a login (128): another tool, in SQL
        operation_id = session.scalar(select(Operation.id).order_by(Operation.reference))
        session.execute(insert(AuditEntry).values(
            id=uuid.uuid4(), at=datetime.now(UTC), login=login, action="update",
            entity="operation", entity_id=str(operation_id), origin="saisie",
            changes={"title": ["Ancien intitulé", "Nouvel intitulé"]}))
    window = _window(qtbot, demo_db, view="journal")
    page = window.current_page()
    assert any(row.login == login for row in page.model.rows)
    target, seen = _export(qtbot, monkeypatch, tmp_path, case, window.export_action.trigger,
                           "journal.xlsx")
    _check(window, target, seen, case, "Agent", login,
           lambda row: row["Après"] == "Nouvel intitulé")


# --- Rapports: an axis of a contract (« Montants par contrat et par axe ») --------------

@pytest.mark.parametrize("case", CASES)
def test_reports_sheet(qtbot, demo_db, monkeypatch, tmp_path, case):
    text = _text(case)
    with demo_db.write() as session:
        axis_id = session.scalar(
            select(OperationLink.axis_id).join(Operation, Operation.id
                                               == OperationLink.operation_id)
            .where(OperationLink.axis_id.is_not(None),
                   Operation.status != OperationStatus.ABANDONED.value).limit(1))
        session.execute(update(Axis).where(Axis.id == axis_id).values(label=text))
    window = _window(qtbot, demo_db)
    item = window.navigation.findItems("Rapports", Qt.MatchFlag.MatchExactly)[0]
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.navigation.visualItemRect(item).center())
    page = window.pages["reports"]
    assert window.current_page() is page
    page.choice.setCurrentIndex(page.choice.findData("contrats"))
    page.scope.setCurrentIndex(page.scope.findData(""))  # « Tout le territoire »
    target, seen = _export(qtbot, monkeypatch, tmp_path, case, lambda: qtbot.mouseClick(
        page.export_button, Qt.MouseButton.LeftButton), "rapport.xlsx")
    _check(window, target, seen, case, "Axe", text,
           lambda row: str(row["Axe"]).startswith(text[:100]))
