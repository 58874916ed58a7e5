"""The main window driven as a user would, on the demo database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from db.database import open_database
from db.services.settings import get_setting
from desktop.app import first_run, make_application
from desktop.arrondissement_dialog import ArrondissementDialog
from desktop.main_window import MainWindow
from desktop.table_model import ROW_ROLE

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def window(qtbot, demo_db):
    make_application()
    main = MainWindow(demo_db)
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    return main


def references(page) -> list[str]:
    model = page.table.model()
    while model.canFetchMore():
        model.fetchMore()
    return [model.index(r, 0).data(ROW_ROLE)["reference"] for r in range(model.rowCount())]


def click_navigation(qtbot, window, label: str) -> None:
    item = window.navigation.findItems(label, Qt.MatchFlag.MatchExactly)[0]
    rect = window.navigation.visualItemRect(item)
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())


def test_lists_show_the_demo_contracts_of_the_arrondissement(qtbot, window):
    contracts = window.pages["contracts"]
    assert window.stack.currentWidget() is contracts
    shown = references(contracts)
    assert "FICTIF-CRTE-591" in shown and "pacte-sat" in shown
    assert "cper-picardie-2015-2020" not in shown  # not in Avesnes-sur-Helpe
    assert contracts.footer.text().startswith(f"{len(shown)} contrats")
    assert "Avesnes-sur-Helpe" in window.arrondissement_label.text()
    assert "fichier local" in window.database_label.text()

    contracts.scope.setFocus()
    qtbot.keyClick(contracts.scope, Qt.Key.Key_Down)  # "Tout le territoire"
    everything = references(contracts)
    assert len(everything) == 38
    assert {"cper-picardie-2015-2020", "erbm", "FICTIF-CRTE-591"} <= set(everything)
    assert contracts.footer.text().startswith("38 contrats")


def test_operations_list_with_amounts(qtbot, window):
    click_navigation(qtbot, window, "Opérations")
    operations = window.pages["operations"]
    assert window.stack.currentWidget() is operations
    shown = references(operations)
    assert "FICTIF-DETR-2025-001" in shown
    model = operations.table.model()
    row = shown.index("FICTIF-DETR-2025-005")  # a settled operation: nothing left to pay
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in
               range(model.columnCount())]
    remaining = model.index(row, headers.index("Reste à verser")).data()
    assert remaining.replace("\u202f", " ").replace("\xa0", " ") == "0,00 €"
    paid = model.index(row, headers.index("Versé")).data()
    assert paid == model.index(row, headers.index("Accordé")).data()
    operations.scope.setCurrentIndex(1)
    unknown = references(operations).index("cper-requalification-a1")
    assert model.index(unknown, headers.index("Coût")).data() == "non communiqué"


def test_changing_the_arrondissement_from_the_menu(qtbot, window):
    def answer_dialog():
        dialog = QApplication.activeModalWidget()
        try:
            assert isinstance(dialog, ArrondissementDialog)
            dialog.combo.lineEdit().selectAll()
            qtbot.keyClicks(dialog.combo.lineEdit(), "calais (pas")
            qtbot.keyClick(dialog.combo.completer().popup(), Qt.Key.Key_Escape)
            buttons = dialog.findChild(QDialogButtonBox)
            qtbot.mouseClick(buttons.button(QDialogButtonBox.StandardButton.Ok),
                             Qt.MouseButton.LeftButton)
        finally:  # never leave a modal dialog open: the test would hang
            if dialog is not None and dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(100, answer_dialog)
    window.arrondissement_action.trigger()
    assert get_setting(window.db, "arrondissement") == "626"
    assert "Calais" in window.arrondissement_label.text()
    shown = references(window.pages["contracts"])
    assert "cdt-calais-calaisis" in shown and "FICTIF-CRTE-591" not in shown


def test_first_run_offers_the_demo_and_loads_it(qtbot, tmp_path):
    make_application()
    database = open_database(tmp_path / "nouvelle.sqlite")
    main = MainWindow(database)
    qtbot.addWidget(main)
    assert main.pages["contracts"].model.total == 0

    def accept():
        box = QApplication.activeModalWidget()
        try:
            assert isinstance(box, QMessageBox)
            assert "démonstration" in box.text()
            qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes),
                             Qt.MouseButton.LeftButton)
        finally:
            if box is not None and box.isVisible():
                box.reject()

    QTimer.singleShot(100, accept)
    first_run(main, created=True)
    assert main.pages["contracts"].model.total == 5  # the demo sets Avesnes-sur-Helpe
    assert get_setting(main.db, "arrondissement") == "591"
    database.close()


@pytest.mark.parametrize("view", ["contracts", "operations"])
def test_screenshot_command(demo_path, tmp_path, view):
    image = tmp_path / f"{view}.png"
    result = subprocess.run([sys.executable, "main.py", "--db", str(demo_path),
                             "--screenshot", str(image), "--view", view], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    picture = QImage(str(image))
    assert picture.width() >= 1200 and picture.height() >= 700
    # Not a blank picture: the table draws dark text on light rows.
    colours = {picture.pixel(x, y) for x in range(0, picture.width(), 37)
               for y in range(0, picture.height(), 23)}
    assert len(colours) > 5


def flat(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_search_as_you_type_finds_the_accented_record(qtbot, window):
    click_navigation(qtbot, window, "Opérations")
    page = window.pages["operations"]
    page.scope.setCurrentIndex(1)  # everything
    qtbot.keySequence(window, "Ctrl+F")
    assert page.search.hasFocus()
    qtbot.keyClicks(page.search, "avesnes")
    qtbot.waitUntil(lambda: not page._search_timer.isActive(), timeout=3000)
    assert "sat-maison-etat-avesnes" in references(page)
    from db.text import normalize
    shown = [page.model.row(i) for i in range(page.model.rowCount())]
    assert all("avesnes" in normalize(" ".join(str(v) for v in row.values() if v))
               for row in shown)
    assert any("Avesnes-sur-Helpe" in row["title"] for row in shown)
    page.search.clear()
    qtbot.keyClicks(page.search, "ECOLE")
    qtbot.waitUntil(lambda: any("École" in page.model.row(i)["title"]
                                or "école" in page.model.row(i)["title"]
                                for i in range(page.model.rowCount())), timeout=3000)


def test_clicking_a_header_sorts_by_value_and_footer_totals_follow(qtbot, window):
    click_navigation(qtbot, window, "Opérations")
    page = window.pages["operations"]
    header = page.table.horizontalHeader()
    granted = [c.key for c in page.query.columns].index("granted")
    position = header.sectionViewportPosition(granted) + header.sectionSize(granted) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(position, header.height() // 2))
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(position, header.height() // 2))
    values = [page.model.row(i)["granted"] for i in range(page.model.rowCount())
              if page.model.row(i)["granted"] is not None]
    assert values == sorted(values, reverse=True) and len(values) > 10

    scheme = page.filters["scheme"]
    scheme.setCurrentIndex(scheme.findData("DSIL"))
    rows = [page.model.row(i) for i in range(page.model.rowCount())]
    total = sum(r["granted"] for r in rows if r["granted"] is not None)
    from db.formatting import euros
    assert f"accordé : {flat(euros(total))}" in flat(page.footer.text())
    assert flat(page.footer.text()).startswith(f"{len(rows)} opération")


def test_filters_and_columns_are_remembered(qtbot, demo_db):
    make_application()
    first = MainWindow(demo_db)
    qtbot.addWidget(first)
    page = first.pages["operations"]
    page.filters["status"].setCurrentIndex(page.filters["status"].findData("solde"))
    page.table.horizontalHeader().setSectionHidden(3, True)
    page._save()
    expected = references(page)
    first.close()

    second = MainWindow(demo_db)
    qtbot.addWidget(second)
    second.show()
    second.show_view("operations")
    again = second.pages["operations"]
    assert again.filters["status"].currentData() == "solde"
    assert again.table.horizontalHeader().isSectionHidden(3)
    assert references(again) == expected


def test_every_page_of_the_navigation_shows_data(qtbot, window):
    for label, key in [("Financements", "funding_lines"), ("Acteurs", "organisations"),
                       ("Territoire", "territory")]:
        click_navigation(qtbot, window, label)
        assert window.stack.currentWidget() is window.pages[key]
    assert window.pages["funding_lines"].model.total > 0
    assert window.pages["organisations"].model.total == 84
    assert window.pages["territory"].communes.model.total == 150


def test_every_page_fits_a_laptop_screen_of_1366_pixels(qtbot, window):
    """The common screen of a sous-préfecture's laptops: no page may make the window
    wider (the lists' filters wrap onto a second line instead)."""
    window.resize(1366, 740)
    for index in range(window.navigation.count()):
        qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton,
                         pos=window.navigation.visualItemRect(
                             window.navigation.item(index)).center())
        QApplication.processEvents()
        label = window.navigation.item(index).text()
        assert window.minimumSizeHint().width() <= 1366, label
        assert window.width() <= 1366, label
    window.show_view("operations")
    page = window.current_page()
    boxes = list(page.filters.values())
    assert len({box.mapTo(page, QPoint(0, 0)).y() for box in boxes}) == 2  # two lines
