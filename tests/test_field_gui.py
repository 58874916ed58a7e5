"""Field copies from the window, as an agent does it: take a copy of the arrondissement,
work on it in the laptop's window (which says it is a copy), edit the same operation at
the office, bring the copy back and settle the conflict shown side by side."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from sqlalchemy import select

from db.database import open_database
from db.field import conflicts
from db.models import AuditEntry, Operation


def watch_dialogs(qtbot, seen: list[str], answer=None) -> QTimer:
    """Every modal dialog that opens is noted and answered or closed; the dialogs are
    kept, so that a new one is never taken for one already handled."""
    handled: list = []

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or any(dialog is known for known in handled):
            return
        handled.append(dialog)
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


def _retitle(qtbot, editor, title: str) -> None:
    editor.title.selectAll()
    qtbot.keyClicks(editor.title, title)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert not editor.is_dirty(), "the save did not go through"
    editor.discard_and_close()


def test_take_work_and_bring_back_a_field_copy(qtbot, window, tmp_path, monkeypatch):
    from desktop.field_dialogs import CheckoutDialog, ConflictsDialog
    from desktop.main_window import MainWindow

    office = window.db
    copy_file = tmp_path / "terrain.sqlite"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(copy_file), ""))
    seen: list[str] = []

    def choose_scope(dialog) -> bool:
        if not isinstance(dialog, CheckoutDialog):
            return False
        assert dialog.by_arrondissement.isChecked()
        assert dialog.arrondissement.currentText().startswith("Avesnes-sur-Helpe")
        qtbot.mouseClick(dialog.take_button, Qt.MouseButton.LeftButton)
        return True

    timer = watch_dialogs(qtbot, seen, choose_scope)
    window.checkout_action.trigger()
    timer.stop()
    assert copy_file.exists(), seen
    assert any("est enregistrée dans" in text for text in seen), seen

    with office.read() as session:
        first, second = session.scalars(select(Operation.id).where(
            Operation.reference.like("FICTIF-DETR-2025-%")).order_by(Operation.reference)
            .limit(2)).all()
    # The office marks what is out, without locking it.
    editor = window.open_operation(first)
    assert editor.field_mark.isVisible() or not editor.isVisible()
    assert "sortie sur le terrain par" in editor.field_mark.text()
    _retitle(qtbot, editor, "Titre du bureau")

    # The laptop's window on the copy.
    laptop_db = open_database(copy_file, create=False)
    laptop = MainWindow(laptop_db)
    qtbot.addWidget(laptop)
    laptop.show()
    assert laptop.field_banner.isVisible()
    assert "Copie de terrain de la base" in laptop.field_banner.text()
    assert not laptop.checkout_action.isEnabled() and not laptop.checkin_action.isEnabled()
    laptop.field_banner.window().grab().save(str(tmp_path / "portable.png"))
    _retitle(qtbot, laptop.open_operation(first), "Titre du terrain")
    _retitle(qtbot, laptop.open_operation(second), "Vu avec le maire")
    laptop.close()
    laptop_db.close()

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(copy_file), ""))
    shown: dict[str, str] = {}

    def answer(dialog) -> bool:
        if isinstance(dialog, QMessageBox) and "Fusionner maintenant" in dialog.text():
            assert "1 conflit(s)" in dialog.text()
            dialog.button(QMessageBox.StandardButton.Yes).click()
            return True
        if isinstance(dialog, ConflictsDialog):
            shown.update({key: label.text() for key, label in dialog.values.items()})
            inner = watch_dialogs(qtbot, seen)  # the rules' review, if any
            qtbot.mouseClick(dialog.keep_terrain, Qt.MouseButton.LeftButton)
            inner.stop()
            assert dialog.table.rowCount() == 0
            dialog.accept()
            return True
        return False

    # The agent brings it back from the list of operations, the second one selected.
    window.show_view("operations")
    page = window.current_page()
    while page.model.canFetchMore():
        page.model.fetchMore()
    rows = [page.model.row(i) for i in range(page.model.rowCount())]
    selected = next(i for i, row in enumerate(rows) if row["id"] == second)
    page.table.setCurrentIndex(page.model.index(selected, 1))
    told: list = []
    window.live.changed.connect(told.append)

    timer = watch_dialogs(qtbot, seen, answer)
    window.checkin_action.trigger()
    timer.stop()
    assert shown["terrain"] == "Titre du terrain" and shown["bureau"] == "Titre du bureau"
    assert shown["base"] not in ("Titre du terrain", "Titre du bureau")
    assert conflicts(office) == []
    with office.read() as session:
        assert session.get(Operation, first).title == "Titre du terrain"
        assert session.get(Operation, second).title == "Vu avec le maire"
        origins = set(session.scalars(select(AuditEntry.origin).where(
            AuditEntry.entity_id == str(second))))
    assert "terrain" in origins
    # The merge went the way of every change (desktop.live_refresh): the list shown
    # has the merged title without a manual refresh, its selection kept.
    assert told, "the merge was not told through window.live.changed"
    assert page.current_row()["id"] == second
    assert page.current_row()["title"] == "Vu avec le maire"
    assert Path(copy_file).exists()  # the copy itself is left as it was
