"""The first run as the README tells it: a new base, the demo accepted, the lists open
on the demo's arrondissement, named the French way."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from db.database import open_database
from db.services.settings import get_setting
from desktop.app import first_run, make_application
from desktop.main_window import MainWindow


def _answer_yes(qtbot):
    def accept():
        box = QApplication.activeModalWidget()
        try:
            assert isinstance(box, QMessageBox)
            qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes),
                             Qt.MouseButton.LeftButton)
        finally:
            if box is not None and box.isVisible():
                box.reject()
    QTimer.singleShot(100, accept)


def test_after_the_demo_the_lists_open_on_its_arrondissement(qtbot, tmp_path):
    make_application()
    database = open_database(tmp_path / "nouvelle.sqlite")
    window = MainWindow(database)
    qtbot.addWidget(window)
    window.show()  # shown, as at a real start: its columns are laid out and remembered
    qtbot.waitExposed(window)
    # The title column fits the window as the window manager sizes it: the columns are
    # remembered then, while the base has no arrondissement yet.
    window.pages["contracts"].table.horizontalHeader().resizeSection(0, 150)
    QApplication.processEvents()

    _answer_yes(qtbot)
    first_run(window, created=True)

    assert get_setting(window.db, "arrondissement") == "591"
    for key in ("contracts", "operations", "funding_lines"):
        window.show_view(key)
        page = window.pages[key]
        assert page.scope.currentData() == "591", key
        assert page.scope.currentText() == "Arrondissement d'Avesnes-sur-Helpe"
        assert page.model.total > 0
    # The operations of the arrondissement only: none of Calais (arrondissement 626).
    operations = window.pages["operations"]
    communes = " ".join(str(operations.model.row(i)["communes"])
                        for i in range(operations.model.rowCount()))
    assert "Calais" not in communes
    assert "Arrondissement : 591" in window.arrondissement_label.text() \
        or "Avesnes" in window.arrondissement_label.text()
    database.close()


def test_a_new_window_reopens_on_the_page_last_shown(qtbot, demo_db):
    make_application()
    first = MainWindow(demo_db)
    qtbot.addWidget(first)
    first.show_view("funding_lines")
    first.close()
    second = MainWindow(demo_db)
    qtbot.addWidget(second)
    assert second.stack.currentWidget() is second.pages["funding_lines"]
    assert second.navigation.currentRow() == 2
