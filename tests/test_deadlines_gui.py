"""The « Échéances » page and the notice at opening, driven with the mouse and the
keyboard on a base whose deadlines are known by hand (tests/test_deadlines.py)."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from icalendar import Calendar
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from db.database import open_database
from db.services.operations import PaymentData
from db.services.settings import set_arrondissement
from db.vocabulary import OperationStatus, PaymentKind
from desktop import deadline_notice
from desktop.app import make_application
from desktop.main_window import MainWindow
from tests.test_deadlines import AVELIN, Base

TODAY = date(2026, 1, 15)


@pytest.fixture
def base(sqlite_template: Path, tmp_path: Path, monkeypatch):
    path = tmp_path / "echeances.sqlite"
    shutil.copyfile(sqlite_template, path)
    database = open_database(path)
    base = Base(database)
    base.caduc = base.operation("CADUC", [base.detr(date(2024, 2, 29))])  # 28/02/2026
    paid = [PaymentData(PaymentKind.INSTALMENT, date(2023, 6, 1), Decimal("10000.00"))]
    base.jamais = base.operation("JAMAIS", [base.detr(date(2020, 1, 10), payments=paid)],
                                 status=OperationStatus.COMPLETED, start_date=date(2021, 3, 10),
                                 end_date=date(2024, 1, 1))  # solde never claimed
    base.dsil = base.operation("DSIL-1", [base.detr(date(2024, 4, 2), scheme="DSIL")],
                               contract=False)  # caducity 02/04/2026: 77 days
    base.operation("AILLEURS", [base.detr(date(2024, 2, 29))], commune=AVELIN, contract=False)
    set_arrondissement(database, "591")
    monkeypatch.setattr(deadline_notice, "today", lambda: TODAY)
    yield base
    database.close()


@pytest.fixture
def window(qtbot, base):
    make_application()
    main = MainWindow(base.db, view="contracts")
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    return main


def _open_page(qtbot, window):
    item = window.navigation.findItems("Échéances", Qt.MatchFlag.MatchExactly)[0]
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.navigation.visualItemRect(item).center())
    page = window.pages["deadlines"]
    assert window.stack.currentWidget() is page
    _wait(qtbot, page)
    return page


def _choose(qtbot, box, typed: str) -> None:
    """Type the first letters of a choice in a closed combo box, as the agent does (after
    the pause that ends the previous typing)."""
    from PySide6.QtWidgets import QApplication

    qtbot.wait(QApplication.keyboardInputInterval() + 50)
    box.setFocus()
    qtbot.keyClicks(box, typed)
    _wait(qtbot, box.parent())


def _wait(qtbot, page) -> None:
    """The page reads its deadlines in a worker thread."""
    qtbot.waitUntil(lambda: not page.loading, timeout=10_000)


def _shown(page) -> list[tuple[str, str, str, str]]:
    """(due, delay, nature, reference) of each row, as the table displays them."""
    model = page.table.model()
    return [tuple(model.index(row, column).data() for column in range(4))
            for row in range(model.rowCount())]


def test_page_horizons_and_filters(qtbot, window, base) -> None:
    page = _open_page(qtbot, window)
    assert page.horizon.currentText() == "90 jours"  # what the page opens on
    # By hand, on 15 January 2026, within 90 days (15 April 2026), in the arrondissement:
    assert _shown(page) == [
        ("10/03/2025", "en retard de 311 jours", "Solde jamais demandé", "JAMAIS"),
        ("28/02/2026", "dans 44 jours", "Début des travaux avant caducité", "CADUC"),
        ("28/02/2026", "dans 44 jours", "Prorogation à décider", "CADUC"),
        ("20/03/2026", "dans 64 jours", "Comité de pilotage", "CRTE-SAMBRE"),
        ("02/04/2026", "dans 77 jours", "Début des travaux avant caducité", "DSIL-1"),
        ("02/04/2026", "dans 77 jours", "Prorogation à décider", "DSIL-1"),
        ("10/04/2026", "dans 85 jours", "Avenant prévu", "CRTE-SAMBRE")]
    assert page.status.text() == "7 échéances, dont 1 en retard"
    _choose(qtbot, page.horizon, "30")
    assert page.horizon.currentText() == "30 jours"
    assert [r[3] for r in _shown(page)] == ["JAMAIS"]
    _choose(qtbot, page.horizon, "En")
    assert page.horizon.currentText() == "En retard"
    assert _shown(page) == [("10/03/2025", "en retard de 311 jours", "Solde jamais demandé",
                             "JAMAIS")]
    # « Tout afficher »: every horizon, every nature.
    qtbot.mouseClick(page.clear_button, Qt.MouseButton.LeftButton)
    _wait(qtbot, page)
    assert page.horizon.currentText() == "Tout"
    assert ("30/06/2026", "dans 166 jours", "Fin du contrat", "CRTE-SAMBRE") in _shown(page)
    assert "AILLEURS" not in {r[3] for r in _shown(page)}
    _choose(qtbot, page.scheme, "DSIL")
    assert page.scheme.currentText() == "DSIL"
    assert {r[3] for r in _shown(page)} == {"DSIL-1"}
    _choose(qtbot, page.kind, "Pro")
    assert page.kind.currentText() == "Prorogation à décider"
    assert _shown(page) == [("02/04/2026", "dans 77 jours", "Prorogation à décider", "DSIL-1")]


def test_double_click_opens_the_operation_and_the_contract(qtbot, window, base) -> None:
    from desktop.contract_editor import ContractEditor
    from desktop.operation_editor import OperationEditor

    page = _open_page(qtbot, window)
    rows = [r[3] for r in _shown(page)]
    table = page.table
    for reference, kind, record in (("CADUC", OperationEditor, base.caduc),
                                    ("CRTE-SAMBRE", ContractEditor, base.contract)):
        index = page.model.index(rows.index(reference), 4)
        table.scrollTo(index)
        where = table.visualRect(index).center()
        # A press first, as a real double click starts (a lone double-click event never
        # reaches the view's doubleClicked).
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)
        opened = [e for e in window.editors if isinstance(e, kind)]
        assert opened and opened[-1].record_id == record
    for editor in list(window.editors):
        editor.close()


def test_export_buttons(qtbot, window, base, tmp_path, monkeypatch) -> None:
    page = _open_page(qtbot, window)
    _choose(qtbot, page.horizon, "60")
    shown = _shown(page)
    assert [r[3] for r in shown] == ["JAMAIS", "CADUC", "CADUC"]  # by 16 March 2026
    targets = iter([tmp_path / "echeances.ics", tmp_path / "echeances.xlsx",
                    tmp_path / "echeancier.pdf"])
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(next(targets)), ""))
    qtbot.mouseClick(page.calendar_button, Qt.MouseButton.LeftButton)
    calendar = Calendar.from_ical((tmp_path / "echeances.ics").read_bytes())
    events = calendar.walk("VEVENT")
    assert sorted((e.decoded("DTSTART"), str(e["SUMMARY"])) for e in events) == [
        (date(2025, 3, 10), "Solde jamais demandé — DETR — JAMAIS"),
        (date(2026, 2, 28), "Début des travaux avant caducité — DETR — CADUC"),
        (date(2026, 2, 28), "Prorogation à décider — DETR — CADUC")]
    assert len({str(e["UID"]) for e in events}) == 3
    qtbot.mouseClick(page.sheet_button, Qt.MouseButton.LeftButton)
    frame = pd.read_excel(tmp_path / "echeances.xlsx", engine="calamine")
    assert list(frame["Référence"]) == ["JAMAIS", "CADUC", "CADUC"]
    assert list(frame["Montant"]) == [20000, 30000, 30000]
    qtbot.mouseClick(page.pdf_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (tmp_path / "echeancier.pdf").exists())
    reader = PdfReader(str(tmp_path / "echeancier.pdf"))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Échéances en retard et des 60 prochains jours" in text
    assert "en retard de 311 jours" in text and "dans 44 jours" in text
    assert "DSIL-1" not in text and "AILLEURS" not in text and "CRTE-SAMBRE" not in text


def test_notice_at_opening_opens_the_page_filtered(qtbot, window, base) -> None:
    window.start_deadline_notice()
    qtbot.waitUntil(lambda: getattr(window, "deadline_notice", None) is not None
                    and window.deadline_notice.isVisible())
    button = window.deadline_notice
    assert button.text() == ("1 subvention devient caduque dans les 60 jours ; 1 échéance en "
                             "retard.")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    page = window.pages["deadlines"]
    assert window.stack.currentWidget() is page
    _wait(qtbot, page)
    assert (page.horizon.currentText(), page.kind.currentText()) == (
        "60 jours", "Début des travaux avant caducité")
    assert _shown(page) == [("28/02/2026", "dans 44 jours",
                             "Début des travaux avant caducité", "CADUC")]


def test_no_notice_when_nothing_is_due(qtbot, window, base, monkeypatch) -> None:
    monkeypatch.setattr(deadline_notice, "today", lambda: date(2020, 1, 1))
    from PySide6.QtCore import QThreadPool

    job = window.start_deadline_notice()
    results = []
    job.signals.finished.connect(results.append)
    QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.wait(50)  # the signal queued to the GUI thread is delivered
    assert getattr(window, "deadline_notice", None) is None


def test_a_save_elsewhere_reloads_the_page(qtbot, window, base) -> None:
    """An extension recorded (here through the service, as an editor saves) goes the way
    of every change (desktop.live_refresh): the page shown reads its deadlines again."""
    from db.editing import operation_for_edit
    from db.services.operations import save_operation

    page = _open_page(qtbot, window)
    assert ("28/02/2026", "dans 44 jours", "Début des travaux avant caducité", "CADUC") \
        in _shown(page)
    data = operation_for_edit(base.db, base.caduc)
    data.start_extension_months = 6  # 29 August 2026: beyond the 90 days
    save_operation(base.db, data, today=TODAY)
    window._after_save()
    qtbot.waitUntil(lambda: not page.loading and "CADUC" not in {r[3] for r in _shown(page)},
                    timeout=10_000)


def test_only_the_latest_reading_is_shown(qtbot, window, base) -> None:
    page = _open_page(qtbot, window)
    page.horizon.setCurrentIndex(4)  # Tout: the slower reading…
    page.horizon.setCurrentIndex(0)  # …then « En retard », asked for before it came back
    _wait(qtbot, page)
    qtbot.wait(300)  # whatever comes back late is dropped
    assert [r[3] for r in _shown(page)] == ["JAMAIS"]
    assert page.status.text() == "1 échéance, dont 1 en retard"


def test_menu_export_and_print_act_on_the_page(qtbot, window, base, tmp_path,
                                               monkeypatch) -> None:
    page = _open_page(qtbot, window)
    _choose(qtbot, page.horizon, "En")
    targets = iter([tmp_path / "menu.xlsx", tmp_path / "menu.pdf"])
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(next(targets)), ""))
    window.export_action.trigger()  # Fichier › Exporter (Ctrl+E)
    frame = pd.read_excel(tmp_path / "menu.xlsx", engine="calamine")
    assert list(frame["Référence"]) == ["JAMAIS"]
    assert list(frame["Délai"]) == ["en retard de 311 jours"]
    window.print_action.trigger()  # Fichier › Imprimer (Ctrl+P)
    qtbot.waitUntil(lambda: (tmp_path / "menu.pdf").exists())
    text = "\n".join(p.extract_text() for p in PdfReader(str(tmp_path / "menu.pdf")).pages)
    assert "Sélection : Échéances en retard" in text and "JAMAIS" in text
